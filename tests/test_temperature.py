"""Notebook 01: the maths of soft labels and temperature (course_utils.temperature), its figures, widgets and checkers."""
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import checks, losses, plots, show, temperature  # noqa: E402

DOG = temperature.logits_from_probs(temperature.DOG_PHOTO_PROBS)


def ref_softmax(z, T):  # float64, from the formula p_i = exp(z_i / T) / sum_j exp(z_j / T)
    e = [math.exp((v - max(z)) / T) for v in z]
    return [v / sum(e) for v in e]


@pytest.fixture(autouse=True)
def no_open_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- soft labels and temperature

def test_logits_from_probs_recovers_the_probabilities_and_is_centred():
    assert temperature.soft_labels(DOG, [1.0])[0].tolist() == pytest.approx(temperature.DOG_PHOTO_PROBS, abs=1e-12)
    assert DOG.mean().item() == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("bad", [[0.5, 0.6], [1.0, 0.0], [[0.5, 0.5]]])
def test_logits_from_probs_rejects_non_distributions(bad):
    with pytest.raises(ValueError, match="positive probabilities summing to 1"):
        temperature.logits_from_probs(bad)


def test_presets_match_the_classes_and_the_dog_preset_rounds_to_the_story():
    for name, z in temperature.TEMPERATURE_PRESETS.items():
        assert len(z) == len(temperature.ANIMALS), name
    p = temperature.soft_labels(temperature.TEMPERATURE_PRESETS["a dog photo (confident teacher)"], [1.0])[0]
    assert [f"{v:.3f}" for v in p.tolist()] == ["0.900", "0.080", "0.019", "0.001", "0.000"]


@pytest.mark.parametrize("T", [0.3, 1.0, 2.0, 7.5])
def test_soft_labels_match_the_formula(T):
    z = [1.5, -0.2, 0.7, 3.0]
    assert temperature.soft_labels(z, [T])[0].tolist() == pytest.approx(ref_softmax(z, T), rel=1e-12)


def test_soft_labels_rejects_bad_logits_and_temperatures():
    with pytest.raises(ValueError, match="1-D list of at least 2"):
        temperature.soft_labels([[1.0, 2.0]], [1.0])
    with pytest.raises(ValueError, match="temperature T must be"):
        temperature.soft_labels([1.0, 2.0], [0.0])


def test_temperature_limits_argmax_and_uniform():
    cold, hot = temperature.temperature_summary(DOG, 0.01), temperature.temperature_summary(DOG, 1e4)
    assert cold["probs"][0] == pytest.approx(1.0) and cold["entropy"] < 1e-6 and cold["argmax"] == 0
    assert hot["probs"] == pytest.approx([0.2] * 5, abs=1e-3)
    assert hot["entropy"] == pytest.approx(math.log(5), abs=1e-5) and hot["max_entropy"] == pytest.approx(math.log(5))


def test_entropy_rises_with_T_and_ratio_follows_the_formula():
    Ts = [0.2, 0.5, 1, 2, 5, 20]
    H = [temperature.temperature_summary(DOG, T)["entropy"] for T in Ts]
    assert all(a < b for a, b in zip(H, H[1:]))
    for T in Ts:  # 2nd and 3rd most probable: wolf and fox; their ratio is exp((z_wolf - z_fox) / T)
        r = temperature.temperature_summary(DOG, T)["ratio_2_3"]
        assert r == pytest.approx(math.exp((DOG[1] - DOG[2]).item() / T), rel=1e-9)


def test_summary_is_invariant_to_adding_a_constant_to_every_logit():
    a, b = temperature.temperature_summary(DOG, 3.0), temperature.temperature_summary(DOG + 5.0, 3.0)
    assert a["probs"] == pytest.approx(b["probs"], rel=1e-12) and a["entropy"] == pytest.approx(b["entropy"])



def test_lesson_per_profile_and_its_errors():
    assert temperature.lesson("demo") == temperature.lesson("quick") == temperature.Lesson(test_per_class=30)
    assert temperature.lesson("full").test_per_class == 1000
    with pytest.raises(ValueError, match="expected one of"):
        temperature.lesson("huge")


def test_softmax_rows_are_the_softmax_its_entropy_and_the_ratio():
    rows = temperature.softmax_rows(DOG, Ts=(1, 2, 5))
    for row in rows:
        p = ref_softmax(DOG.tolist(), row["T"])
        assert [row[c] for c in temperature.ANIMALS] == pytest.approx(p, rel=1e-12)
        assert row["entropy"] == pytest.approx(-sum(v * math.log(v) for v in p), rel=1e-12)
        assert row["wolf/cat"] == pytest.approx(80 ** (1 / row["T"]), rel=1e-9)  # the ratio rule on the dog photo
    text = show.format_table(rows, temperature.SOFTMAX_COLUMNS)
    assert "80.00" in text and "0.900" in text and "8.94" in text
    with pytest.raises(ValueError, match="one class name per logit"):
        temperature.softmax_rows([1.0, 2.0], Ts=[1])


def test_softmax_limits_hold_for_the_course_softmax_and_fail_for_a_broken_one(monkeypatch):
    rows = temperature.softmax_limits(DOG)
    assert len(rows) == 5 and all(r["holds"] == "yes" for r in rows)
    monkeypatch.setattr(temperature, "softmax_with_temperature", lambda z, T: torch.softmax(z, -1))  # ignores T
    with pytest.raises(ValueError, match="T -> 0 gives the argmax"):
        temperature.softmax_limits(DOG)


@pytest.mark.parametrize("T", [0.1, 1.0, 20.0])
def test_plot_temperature_draws_bars_and_curves(T):
    fig = plots.plot_temperature(DOG, T)
    heights = [p.get_height() for p in fig.axes[0].patches]  # bars at T, then the T = 1 outlines
    assert heights[:5] == pytest.approx(temperature.soft_labels(DOG, [T])[0].tolist(), abs=1e-9)
    assert heights[5:] == pytest.approx(temperature.soft_labels(DOG, [1.0])[0].tolist(), abs=1e-9)
    assert f"T = {T:.2f}" in fig.axes[0].get_title()


def test_plot_temperature_needs_one_name_per_logit():
    with pytest.raises(ValueError, match="one name per logit"):
        plots.plot_temperature([1.0, 2.0, 3.0], 1.0, classes=("a", "b"))


def test_plot_hard_vs_soft_shows_the_three_labels():
    fig = plots.plot_hard_vs_soft()
    assert [len(ax.patches) for ax in fig.axes] == [5, 5, 5]
    assert fig.axes[0].patches[0].get_height() == 1.0


# ----------------------------------------------------------------------------- why T^2

S = torch.tensor([[2.0, 0.5, 0.0, 1.0, -0.5], [0.1, 0.2, -1.0, 3.0, 0.0]], dtype=torch.float64)
TT = torch.tensor([[4.0, 1.0, 0.0, -2.0, -3.0], [0.0, 0.0, 1.0, 2.0, -1.0]], dtype=torch.float64)


def test_gradients_match_the_formulas():
    g = temperature.temperature_gradients(S, TT, [0.5, 1, 2, 4, 8, 16, 64])
    assert g["max_error"].max() < 1e-12  # autograd == (q - p) / T and T (q - p), over B
    assert g["soft"] == pytest.approx(g["kl"] * g["T"] ** 2, rel=1e-10)


def test_soft_gradient_levels_off_while_kl_gradient_falls_like_one_over_T_squared():
    g = temperature.temperature_gradients(S, TT, [16, 32, 64, 128])
    assert g["kl"][:-1] / g["kl"][1:] == pytest.approx([4, 4, 4], rel=0.02)
    assert g["soft"][-1] == pytest.approx(g["limit"], rel=5e-3)  # the gap shrinks like 1/T
    d = (S - S.mean(1, keepdim=True)) - (TT - TT.mean(1, keepdim=True))
    assert g["limit"] == pytest.approx(d.norm().item() / (5 * 2))


def test_gradients_accept_a_single_example():
    g = temperature.temperature_gradients(S[0], TT[0], [1.0, 3.0])
    assert g["max_error"].max() < 1e-12 and g["T"].tolist() == [1.0, 3.0]



def test_gradients_raise_when_autograd_and_formula_disagree():
    with pytest.raises(ArithmeticError, match="expected at most"):
        temperature.temperature_gradients(S, TT, [1.0, 2.0], atol=-1.0)  # no difference is below -1


def test_gradient_rows_carry_the_shrink_between_temperatures():
    g = temperature.temperature_gradients(S, TT, [1, 2, 4])
    rows = temperature.gradient_rows(g)
    assert [r["T"] for r in rows] == [1, 2, 4] and rows[0]["shrink"] is None
    assert rows[2]["shrink"] == pytest.approx(g["kl"][1] / g["kl"][2])
    assert show.format_table(rows, temperature.GRADIENT_COLUMNS).splitlines()[2].split()[1] == f"{g['kl'][0]:.5f}"


def test_notebook_01_claims_on_the_dog_photo():
    """The numbers notebook 01's prose reads from its dog photo t and student s (sections 4 and 5)."""
    t, s = DOG[None], torch.tensor([[2.0, 0.5, 0.0, 1.0, -0.5]], dtype=torch.float64)
    g = temperature.temperature_gradients(s, t, (1, 2, 4, 8, 16, 32))
    assert g["kl"][-2] / g["kl"][-1] == pytest.approx(4, abs=0.1)  # doubling T divides the KL's gradient by ~4
    assert g["soft"][-1] / g["limit"] == pytest.approx(1, abs=0.05)  # T^2 KL's gradient levels off at |s~ - t~| / N
    lim = temperature.high_temperature_limit(s, t, (1, 2, 5, 10, 20, 50, 100))
    assert lim["ratio"][-1] == pytest.approx(1, abs=0.01)  # at T = 100: within 1%
    assert [r["ratio"] for r in temperature.limit_rows(lim)] == list(lim["ratio"])
    T, d = 100.0, (s - s.mean()) - (t - t.mean())  # the gradients agree too: T (q - p) -> (s~ - t~) / N
    q, p = losses.softmax_with_temperature(s, T), losses.softmax_with_temperature(t, T)
    assert torch.allclose(T * (q - p), d / 5, atol=0.01)


def test_hard_gradient_norm_matches_autograd():
    s = S[0].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(losses.hard_loss(s[None], torch.tensor([3])), s)
    assert temperature.hard_gradient_norm(S[0], 3) == pytest.approx(g.norm().item(), rel=1e-12)


def test_high_temperature_limit_is_logit_matching():
    lim = temperature.high_temperature_limit(S, TT, [1, 10, 100, 1000])
    d = (S - S.mean(1, keepdim=True)) - (TT - TT.mean(1, keepdim=True))
    assert lim["mse"][0] == pytest.approx((d ** 2).sum(1).mean().item() / 10)
    assert abs(lim["ratio"][-1] - 1) < 1e-3 and abs(lim["ratio"][-2] - 1) < 1e-2
    assert abs(lim["ratio"][0] - 1) > 0.1  # at T = 1 it is a different loss


def test_gradient_and_limit_figures():
    grads = temperature.temperature_gradients(S, TT, [1, 2, 4])
    fig = plots.plot_gradient_norms(grads, hard_norm=0.5)
    ys = [list(line.get_ydata()) for line in fig.axes[0].lines]
    assert list(grads["kl"]) in ys and list(grads["soft"]) in ys  # both norms are drawn, as computed
    limit = temperature.high_temperature_limit(S, TT, [1, 10])
    fig = plots.plot_high_temperature_limit(limit)
    assert list(fig.axes[1].lines[0].get_ydata()) == list(limit["ratio"])


def test_gradient_figure_labels_a_norm_and_ticks_the_data_temperatures():
    Ts = [1, 2, 4, 8, 16, 32]
    fig = plots.plot_gradient_norms(temperature.temperature_gradients(S, TT, Ts), hard_norm=0.5)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "‖∇ CE(s, y)‖ (hard term): 0.50" in labels  # a gradient norm, not the loss
    assert list(ax.get_xticks()) == Ts
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(T) for T in Ts]


# ----------------------------------------------------------------------------- a real teacher

def fake_teacher(n=20, C=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.arange(n) % C
    logits = torch.randn(n, C, generator=g)
    logits[torch.arange(n), labels] += 4  # mostly right
    return images, logits, labels


def test_hesitant_examples_pick_correct_answers_with_the_strongest_runner_up():
    _, logits, labels = fake_teacher(40)
    probs = logits.softmax(1)
    idx = temperature.hesitant_examples(probs, labels, per_class=1)
    assert len(idx) == 10
    for i in idx.tolist():
        c = int(labels[i])
        assert probs[i].argmax() == c
        same = [j for j in range(40) if labels[j] == c and probs[j].argmax() == c]
        assert probs[i].topk(2).values[1] == max(probs[j].topk(2).values[1] for j in same)



def test_picker_choices_alternate_hesitant_and_typical_per_class():
    _, logits, labels = fake_teacher(40)
    probs = logits.softmax(1)
    choices = temperature.picker_choices(probs, labels)
    assert choices[0::2] == temperature.hesitant_examples(probs, labels).tolist()
    assert choices[1::2] == temperature.typical_examples(probs, labels, top1=0.9).tolist()


def test_true_class_reading_reads_the_range_and_refuses_a_lost_lead():
    logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0]], dtype=torch.float64)
    labels = torch.tensor([0, 1])
    p = losses.softmax_with_temperature(logits, 2.0)
    lo, hi = sorted([p[0, 0].item(), p[1, 1].item()])
    assert temperature.true_class_reading(logits, labels, 2.0) == \
        f"at T = 2 the true class gets {lo:.2f}-{hi:.2f} (uniform: 0.33)"
    with pytest.raises(ValueError, match="no longer leads on images \\[1\\]"):
        temperature.true_class_reading(logits, torch.tensor([0, 2]), 2.0)


def test_most_similar_takes_the_largest_off_diagonal_entry():
    sim = torch.tensor([[0.8, 0.15, 0.05], [0.3, 0.6, 0.1], [0.1, 0.2, 0.7]], dtype=torch.float64)
    rows = temperature.most_similar(sim, classes=("a", "b", "c"))
    assert [(r["resembles most"], r["mean probability"]) for r in rows] == [("b", 0.15), ("a", 0.3), ("b", 0.2)]
    with pytest.raises(ValueError, match="one class name per row"):
        temperature.most_similar(sim)  # ten names, three rows


def test_accuracy_noise_matches_scipy():
    from scipy import stats as st

    noise = temperature.accuracy_noise(0.937, 300, 0.892)
    assert noise["se"] == pytest.approx(math.sqrt(0.937 * 0.063 / 300), rel=1e-12)
    assert noise["z"] == pytest.approx((0.937 - 0.892) / math.sqrt(0.892 * 0.108 / 300), rel=1e-12)
    assert noise["once_in"] == pytest.approx(1 / (2 * st.norm.sf(abs(noise["z"]))), rel=1e-9)
    assert noise["se_full"] == pytest.approx(math.sqrt(0.892 * 0.108 / 300), rel=1e-12)
    assert temperature.accuracy_noise(0.5, 10)["z"] is None
    with pytest.raises(ValueError, match="a share in"):
        temperature.accuracy_noise(93.7, 300)  # a percentage, not a share


def test_teacher_soft_labels_returns_the_answers_and_prints_their_noise(monkeypatch, capsys):
    from course_utils import checkpoints, data, train

    images, logits, labels = fake_teacher(20)
    cifar = data.CIFAR10(images, labels, images, labels, source="synthetic")
    monkeypatch.setattr(data, "load_cifar10", lambda device: cifar)
    meta = {"profile": "full", "device": "NVIDIA H100", "test_acc": 0.9, "data": "synthetic"}
    monkeypatch.setattr(checkpoints, "load_teacher", lambda device, verbose: (None, meta))
    monkeypatch.setattr(train, "predict", lambda model, x: logits[:len(x)])
    real = temperature.teacher_soft_labels(temperature.Lesson(test_per_class=2), "cpu", "quick")
    out = capsys.readouterr().out.splitlines()
    assert real.logits.dtype == torch.float64 and real.logits.shape == (20, 10) and real.images.dtype == torch.uint8
    assert torch.allclose(real.probs, real.logits.softmax(1))
    assert real.acc == (real.probs.argmax(1) == real.labels).double().mean().item()
    assert out[0].startswith("teacher trained in the full profile on a GPU: 90.0%")
    assert out[0].endswith("(this run: quick profile)")
    assert f"the teacher gets {real.acc:.1%} of them right" in out[1] and len(out) == 4
    assert "standard errors of the accuracy of 20 images at the full set's 90.0% (sqrt(p0(1-p0)/N) = 6.7%)" in out[2]
    monkeypatch.setattr(train, "predict", lambda model, x: -logits[:len(x)])  # a teacher that is always wrong
    with pytest.raises(RuntimeError, match="expected above 80%"):
        temperature.teacher_soft_labels(temperature.Lesson(test_per_class=2), "cpu", "quick")


def test_class_similarity_rows_are_mean_soft_labels():
    _, logits, labels = fake_teacher(40)
    sim = temperature.class_similarity(logits.softmax(1), labels)
    assert sim.shape == (10, 10) and sim.sum(1).tolist() == pytest.approx([1.0] * 10)
    assert sim[3].tolist() == pytest.approx(logits.softmax(1)[labels == 3].double().mean(0).tolist())
    assert len(plots.plot_class_similarity(sim, T=4).axes) == 2  # the heatmap and its colour bar


def test_teacher_figures():
    images, logits, labels = fake_teacher(3)
    fig = plots.plot_teacher_soft_labels(images, logits, labels, Ts=(1, 4, 10))
    widths = sorted(p.get_width() for p in fig.axes[2].patches)  # row 0, T = 4: the softened probabilities
    want = sorted(temperature.soft_labels(logits[0], [4])[0].tolist())
    assert widths == pytest.approx(want, abs=1e-6)  # probabilities, not percentages
    fig = plots.plot_teacher_at_T(images[0], logits[0], int(labels[0]), 4.0)
    assert "T = 4.00" in fig.axes[1].get_title()


# ----------------------------------------------------------------------------- the widgets (thin shells)

def test_temperature_explorer_redraws_when_T_moves():
    from course_utils import widgets
    ex = widgets.temperature_explorer()
    png, text = ex.image.value, ex.readout.value
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and "T = 1.00" in text
    ex.T.value = 10.0
    assert ex.image.value != png and "T = 10.00" in ex.readout.value
    assert plt.get_fignums() == []  # every figure was closed after rendering


def test_temperature_explorer_presets_set_every_logit_and_draw_once(monkeypatch):
    from course_utils import widgets
    ex = widgets.temperature_explorer()
    calls = []
    monkeypatch.setattr(widgets.plots, "plot_temperature",
                        lambda *a, **k: calls.append(a) or plt.figure())
    name = "all logits equal"
    ex.preset.value = name
    assert [w.value for w in ex.logits] == list(temperature.TEMPERATURE_PRESETS[name]) and len(calls) == 1


def test_teacher_explorer_redraws_for_picker_and_T():
    from course_utils import widgets
    images, logits, labels = fake_teacher(6)
    ex = widgets.teacher_explorer(images, logits, labels, choices=[0, 2, 5])
    first = ex.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"  # drawn before anything is moved
    ex.T.value = 1.0
    second = ex.image.value
    ex.picker.value = 5
    assert len({first, second, ex.image.value}) == 3
    assert [v for _, v in ex.picker.options] == [0, 2, 5]


# ----------------------------------------------------------------------------- the checkers

def good_softmax(z, T):
    z = z / T
    z = z - z.max(dim=-1, keepdim=True).values
    e = z.exp()
    return e / e.sum(dim=-1, keepdim=True)


@pytest.mark.parametrize("fn, expect", [
    (good_softmax, "Correct!"),
    (lambda z, T: torch.softmax(z, -1), "divide the logits by T"),
    (lambda z, T: torch.softmax(z * T, -1), "divide by T, don't multiply"),
    (lambda z, T: (z / T).exp() / (z / T).exp().sum(0, keepdim=True), "dim 0"),
    (lambda z, T: (z / T).exp(), "sum to"),
    (lambda z, T: (z / T).exp() / (z / T).exp().sum(-1, keepdim=True), "overflows"),
    (lambda z, T: torch.exp(z / T - (z / T).max()) / torch.exp(z / T - (z / T).max()).sum(-1, keepdim=True),
     "each row's own largest"),  # the batch's maximum, not each row's
    (lambda z, T: 1 / 0, "ZeroDivisionError"),
    (lambda z, T: [0.5, 0.5], "torch.Tensor"),
    (None, "define my_softmax"),
])
def test_temperature_softmax_checker(fn, expect, capsys):
    assert checks.temperature_softmax(fn) == (expect == "Correct!")
    assert expect in capsys.readouterr().out


@pytest.mark.parametrize("ratio, entropy, expect", [
    (6400, "down", "Correct!"),
    (6400.5, "down", "Correct!"),
    (40, "down", "does not halve"),
    (160, "down", "squares the ratio"),
    (80, "down", "does change with T"),
    (0.5, "down", "never changes the order"),
    (1234, "down", "is not it"),
    (6400, "up", "goes down"),
    (6400, "sideways", "'up' or 'down'"),
    (None, None, "fill in"),
])
def test_half_temperature_checker(ratio, entropy, expect, capsys):
    assert checks.half_temperature(ratio, entropy) == (expect == "Correct!")
    assert expect in capsys.readouterr().out


def _grad(s, t, T, factor=1.0, batch=True, use_T=True):
    q = torch.softmax(s / (T if use_T else 1), -1)
    p = torch.softmax(t / (T if use_T else 1), -1)
    return factor * (q - p) / (len(s) if batch else 1)


@pytest.mark.parametrize("fn, expect", [
    (lambda s, t, T: _grad(s, t, T, T), "Correct!"),
    (lambda s, t, T: _grad(s, t, T, 1 / T), "gradient of the KL alone"),
    (lambda s, t, T: _grad(s, t, T, T, batch=False), "batch mean"),
    (lambda s, t, T: _grad(s, t, T, 1 / T, batch=False), "for one example"),
    (lambda s, t, T: _grad(s, t, T, -T), "sign is flipped"),
    (lambda s, t, T: _grad(s, t, T, T * T), "chain rule"),
    (lambda s, t, T: _grad(s, t, T, T, use_T=False), "inside the softmax"),
    (lambda s, t, T: s, "first row should be"),
    (lambda s, t, T: s[0], "shape"),
])
def test_soft_gradient_checker(fn, expect, capsys):
    assert checks.soft_gradient(fn) == (expect == "Correct!")
    assert expect in capsys.readouterr().out


def test_typical_examples_are_right_and_closest_to_the_target_confidence():
    _, logits, labels = fake_teacher(60, seed=3)
    probs = logits.softmax(1)
    idx = temperature.typical_examples(probs, labels, top1=0.9)
    conf = probs.max(1).values
    for i in idx.tolist():
        c = int(labels[i])
        same = [j for j in range(60) if labels[j] == c and probs[j].argmax() == c]
        assert probs[i].argmax() == c and abs(conf[i] - 0.9) == min(abs(conf[j] - 0.9) for j in same)


def test_checker_says_when_a_function_returns_none(capsys):
    assert not checks.temperature_softmax(lambda z, T: None)
    assert "returned None" in capsys.readouterr().out


def test_explorers_say_what_to_do_where_they_cannot_be_drawn():
    from course_utils import widgets
    images, logits, labels = fake_teacher(2)
    for ex in (widgets.temperature_explorer(), widgets.teacher_explorer(images, logits, labels, [0, 1])):
        # ipywidgets 8 (JupyterLab 4) puts the text beside the widget view; 7 (Colab's) shows repr() there
        text = ex._repr_mimebundle_()["text/plain"] if hasattr(ex, "_repr_mimebundle_") else repr(ex)
        assert text.startswith("[the ") and "run the notebook" in text


def test_explorers_show_their_default_figure_where_no_kernel_draws_them():
    from course_utils import widgets
    images, logits, labels = fake_teacher(2)
    for ex in (widgets.temperature_explorer(), widgets.teacher_explorer(images, logits, labels, [0, 1])):
        bundle = ex._repr_mimebundle_()
        assert bundle["image/png"] == bytes(ex.image.value) and bundle["image/png"].startswith(b"\x89PNG")
        assert "application/vnd.jupyter.widget-view+json" in bundle  # a live notebook still draws the widget
