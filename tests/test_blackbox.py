"""TeacherAPI's guarantees (what each exposure returns, exact budget accounting, clear errors,
eval mode, determinism) and the student's side of black-box distillation."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_utils import blackbox, checks, data, losses, models, train

C = 10


class CountingNet(nn.Module):
    """A small course net that counts the images it has seen (to prove a refused request computed nothing)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = models.make_net((8, 8, 8))
        models.init_whitening(self.net, _images(64, seed=99))
        self.seen = 0

    def forward(self, x):
        self.seen += len(x)
        return self.net(x) * 9  # livelier logits than a fresh net's, so classes differ between images


def _images(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)


@pytest.fixture
def model():
    return CountingNet().eval()


@pytest.fixture
def x():
    return _images(50)


def _reference_logits(model, x):
    with torch.no_grad():
        return model.eval()(data.normalize(x)).float()


# ----------------------------------------------------------------------------- what each exposure returns

def test_logits_exposure_returns_the_models_logits(model, x):
    ans = blackbox.TeacherAPI(model, "logits").query(x)
    assert isinstance(ans, torch.Tensor) and ans.shape == (50, C) and ans.dtype == torch.float32
    assert torch.allclose(ans, _reference_logits(model, x), atol=1e-5)


def test_probs_exposure_returns_a_distribution(model, x):
    ans = blackbox.TeacherAPI(model, "probs").query(x)
    assert ans.shape == (50, C) and ans.dtype == torch.float32
    assert torch.allclose(ans.sum(1), torch.ones(50), atol=1e-5)
    assert torch.allclose(ans, torch.softmax(_reference_logits(model, x), 1), atol=1e-6)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_shows_only_the_k_best(model, x, k):
    ans = blackbox.TeacherAPI(model, "top_k", k=k).query(x)
    assert isinstance(ans, blackbox.TopK) and len(ans) == 2  # nothing else in the answer
    assert ans.classes.shape == (50, k) and ans.classes.dtype == torch.int64
    assert ans.probs.shape == (50, k)
    full = torch.softmax(_reference_logits(model, x), 1)
    best_p, best_c = full.topk(k, 1)
    assert torch.equal(ans.classes, best_c)
    assert torch.allclose(ans.probs, best_p, atol=1e-6)
    assert (ans.probs[:, :-1] >= ans.probs[:, 1:]).all()  # best first


def test_label_exposure_returns_only_the_class(model, x):
    ans = blackbox.TeacherAPI(model, "label").query(x)
    assert ans.shape == (50,) and ans.dtype == torch.int64
    assert torch.equal(ans, _reference_logits(model, x).argmax(1))


def test_text_exposure_returns_sentences_that_parse_to_the_label(model, x):
    text = blackbox.TeacherAPI(model, "text").query(x)
    labels = blackbox.TeacherAPI(model, "label").query(x)
    assert isinstance(text, list) and len(text) == 50 and all(isinstance(s, str) for s in text)
    assert torch.equal(blackbox.parse_text(text), labels)
    assert len({s.split()[0] for s in text}) > 1  # several phrasings, not one template


def test_answers_hold_no_model_and_no_gradient(model, x):
    for exposure in blackbox.EXPOSURES:
        ans = blackbox.TeacherAPI(model, exposure).query(x)
        parts = list(ans) if isinstance(ans, (tuple, list)) else [ans]
        for part in parts:
            assert not isinstance(part, nn.Module)
            if isinstance(part, torch.Tensor):
                assert not part.requires_grad and part.grad_fn is None


def test_no_public_attribute_reaches_the_model(model):
    api = blackbox.TeacherAPI(model, "label")
    for name in dir(api):
        if name.startswith("_"):
            continue
        value = getattr(api, name)
        assert not isinstance(value, (nn.Module, nn.Parameter)), name
        assert not (isinstance(value, torch.Tensor) and value.numel() > 1), name
    assert "CountingNet" not in repr(api)


def test_expose_matches_query(model, x):
    """The lab-side shortcut (one teacher pass, formatted several ways) gives exactly the API's answers."""
    logits = _reference_logits(model, x)
    for exposure in blackbox.EXPOSURES:
        for defence in ({}, {"decimals": 2, "perturb": 0.3}):
            api = blackbox.TeacherAPI(model, exposure, secret=7, **defence)
            got = api.query(x)
            want = blackbox.expose(logits, blackbox.image_hash(x, secret=7), exposure, **defence)
            if isinstance(got, list):
                assert got == want
            elif isinstance(got, blackbox.TopK):
                assert torch.equal(got.classes, want.classes) and torch.allclose(got.probs, want.probs)
            else:
                assert torch.allclose(got.float(), want.float(), atol=1e-6)


# ----------------------------------------------------------------------------- budget and cost

def test_budget_accounting_is_exact(model):
    api = blackbox.TeacherAPI(model, "label", budget=10, price_per_1k=2.5)
    assert (api.queries_used, api.remaining, api.cost) == (0, 10, 0.0)
    api.query(_images(4))
    assert (api.queries_used, api.remaining) == (4, 6)
    assert math.isclose(api.cost, 4 * 2.5 / 1000)
    seen = model.seen
    with pytest.raises(blackbox.BudgetExceeded, match="refused whole"):
        api.query(_images(7))
    assert model.seen == seen, "a refused request must compute nothing"
    assert (api.queries_used, api.remaining) == (4, 6), "a refused request must count nothing"
    api.query(_images(6))  # exactly the rest is fine
    assert (api.queries_used, api.remaining) == (10, 0)
    with pytest.raises(blackbox.BudgetExceeded):
        api.query(_images(1))
    assert api.spend() == {"queries": 10, "remaining": 0, "budget": 10, "cost": 10 * 2.5 / 1000,
                           "price_per_1k": 2.5}


def test_zero_budget_refuses_everything(model):
    api = blackbox.TeacherAPI(model, "probs", budget=0)
    with pytest.raises(blackbox.BudgetExceeded, match="0 of the budget"):
        api.query(_images(1))
    assert api.queries_used == 0


def test_settings_are_read_only(model):
    api = blackbox.TeacherAPI(model, "label", budget=5)
    for name in ("budget", "exposure", "queries_used", "remaining", "cost"):
        with pytest.raises(AttributeError):
            setattr(api, name, 10 ** 9)


def test_collect_refuses_whole_and_joins_chunks(model):
    x = _images(25)
    api = blackbox.TeacherAPI(model, "text", budget=20)
    with pytest.raises(blackbox.BudgetExceeded):
        blackbox.collect(api, x, chunk=10)
    assert api.queries_used == 0
    api = blackbox.TeacherAPI(model, "text", budget=25)
    assert blackbox.collect(api, x, chunk=10) == blackbox.TeacherAPI(model, "text").query(x)
    assert api.remaining == 0
    api = blackbox.TeacherAPI(model, "top_k", budget=25)
    got, want = blackbox.collect(api, x, chunk=7), blackbox.TeacherAPI(model, "top_k").query(x)
    assert torch.equal(got.classes, want.classes) and torch.equal(got.probs, want.probs)


def test_answers_do_not_depend_on_the_model_layout(model):
    """train.fit leaves its models in channels_last, whose CPU kernels let logits move by ~1e-8 with the
    batch: the API serves in the default layout, so chunks still join to the very same answers."""
    x = _images(300)
    want = blackbox.TeacherAPI(model, "logits").query(x)
    model.to(memory_format=torch.channels_last)
    api = blackbox.TeacherAPI(model, "logits")
    assert torch.equal(blackbox.collect(api, x, chunk=7), want)
    assert torch.equal(api.query(x), want)


# ----------------------------------------------------------------------------- eval mode, determinism

def test_answers_in_eval_mode_whatever_the_model_mode(model, x):
    api = blackbox.TeacherAPI(model, "logits")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first = api.query(x)
    model.train()  # someone flips the wrapped model to training mode
    second = api.query(x)
    assert torch.equal(first, second)
    for k, v in model.state_dict().items():  # BatchNorm running statistics untouched
        assert torch.equal(v, before[k]), k


def test_answers_are_deterministic_per_image(model, x):
    for exposure, kw in (("probs", {}), ("text", {}), ("label", {"perturb": 0.4})):
        api = blackbox.TeacherAPI(model, exposure, **kw)
        whole = api.query(x)
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
        shuffled = api.query(x[perm])  # other batch, other order: the same answer per image
        if isinstance(whole, list):
            assert shuffled == [whole[int(i)] for i in perm]
        else:
            assert torch.allclose(shuffled, whole[perm], atol=1e-6)


def test_query_does_not_build_a_graph(model, x):
    with torch.enable_grad():
        ans = blackbox.TeacherAPI(model, "logits").query(x)
    assert not ans.requires_grad


# ----------------------------------------------------------------------------- defences

def test_rounding_defence(model, x):
    probs = blackbox.TeacherAPI(model, "probs", decimals=2).query(x)
    assert torch.allclose(probs * 100, (probs * 100).round(), atol=1e-4)
    top = blackbox.TeacherAPI(model, "top_k", k=3, decimals=1).query(x)
    assert torch.allclose(top.probs * 10, (top.probs * 10).round(), atol=1e-4)


def test_perturbation_defence_falsifies_the_stated_share(model):
    x = _images(2000, seed=3)
    clean = blackbox.TeacherAPI(model, "label").query(x)
    noisy = blackbox.TeacherAPI(model, "label", perturb=0.2).query(x)
    share = (clean != noisy).float().mean().item()
    assert 0.17 < share < 0.23, share
    probs = blackbox.TeacherAPI(model, "probs", perturb=0.2).query(x)
    assert torch.equal(probs.argmax(1), noisy)  # every exposure tells the same (false) story
    assert torch.equal(blackbox.TeacherAPI(model, "label", perturb=1.0).query(x) != clean, torch.ones(2000, dtype=torch.bool))


# ----------------------------------------------------------------------------- errors that read well

@pytest.mark.parametrize("bad, match", [
    (torch.rand(4, 3, 32, 32), "uint8"),
    (torch.zeros(4, 32, 32, 3, dtype=torch.uint8), r"\(N, 3, 32, 32\)"),
    (torch.zeros(3, 32, 32, dtype=torch.uint8), r"x\[None\]"),
    (torch.zeros(0, 3, 32, 32, dtype=torch.uint8), "empty batch"),
])
def test_bad_images(model, bad, match):
    api = blackbox.TeacherAPI(model, "label", budget=100)
    with pytest.raises(ValueError, match=match):
        api.query(bad)
    assert api.queries_used == 0


def test_not_a_tensor(model):
    with pytest.raises(TypeError, match="uint8 tensor"):
        blackbox.TeacherAPI(model).query([[0]])


@pytest.mark.parametrize("kw, match", [
    ({"exposure": "weights"}, "unknown exposure 'weights'"),
    ({"exposure": "top_k", "k": 0}, "between 1 and 10"),
    ({"exposure": "top_k", "k": 11}, "between 1 and 10"),
    ({"budget": -1}, "budget must be a whole number"),
    ({"budget": 2.5}, "budget must be a whole number"),
    ({"price_per_1k": -1}, "price_per_1k"),
    ({"decimals": -2}, "decimals"),
    ({"perturb": 1.5}, "perturb"),
])
def test_bad_settings(model, kw, match):
    with pytest.raises(ValueError, match=match):
        blackbox.TeacherAPI(model, **kw)


# ----------------------------------------------------------------------------- the student's side

def test_parse_text_reads_every_template_and_refuses_the_unreadable():
    sentences = [t.format(a=blackbox._article(c), name=c) for c in data.CLASSES for t in blackbox.TEXT_TEMPLATES]
    want = torch.tensor([i for i in range(C) for _ in blackbox.TEXT_TEMPLATES])
    assert torch.equal(blackbox.parse_text(sentences), want)
    assert blackbox.parse_text(["Two CATS, I think."]).tolist() == [3]
    with pytest.raises(ValueError, match="could not read answer 1: 'I am not sure.' holds no class name"):
        blackbox.parse_text(["A dog.", "I am not sure."])
    with pytest.raises(ValueError, match="2 class names"):
        blackbox.parse_text(["A cat or a dog."])
    with pytest.raises(ValueError, match="no class name"):
        blackbox.parse_text(["That looks like a category."])  # "cat" inside a word does not count
    with pytest.raises(TypeError, match="list of sentences"):
        blackbox.parse_text("A dog.")


def test_to_targets_top_k_spreads_the_hidden_mass_evenly():
    ans = blackbox.TopK(torch.tensor([[3, 5]]), torch.tensor([[0.6, 0.3]]))
    p = blackbox.to_targets(ans, "top_k")
    assert p.shape == (1, C) and math.isclose(p.sum().item(), 1.0, rel_tol=1e-6)
    assert math.isclose(p[0, 3].item(), 0.6, rel_tol=1e-6) and math.isclose(p[0, 5].item(), 0.3, rel_tol=1e-6)
    hidden = p[0, [i for i in range(C) if i not in (3, 5)]]
    assert torch.allclose(hidden, torch.full((8,), 0.1 / 8))


def test_to_targets_probs_at_T_recovers_softened_logits():
    z = torch.randn(6, C, generator=torch.Generator().manual_seed(0)) * 3
    p = torch.softmax(z, 1)
    for T in (1.0, 2.0, 4.0):
        assert torch.allclose(blackbox.to_targets(p, "probs", T=T), losses.softmax_with_temperature(z, T), atol=1e-5)
        assert torch.allclose(blackbox.to_targets(z, "logits", T=T), losses.softmax_with_temperature(z, T), atol=1e-6)
    rounded = torch.round(p, decimals=1)
    assert torch.allclose(blackbox.to_targets(rounded, "probs").sum(1), torch.ones(6))  # renormalised


def test_to_targets_labels_and_text():
    labels = torch.tensor([1, 2, 3])
    assert torch.equal(blackbox.to_targets(labels, "label"), labels)
    assert blackbox.to_targets(["A bird.", "A cat!", "Looks like an airplane to me."], "text").tolist() == [2, 3, 0]
    with pytest.raises(ValueError, match="unknown exposure"):
        blackbox.to_targets(labels, "vibes")
    with pytest.raises(ValueError, match="TopK"):
        blackbox.to_targets(labels, "top_k")


def test_student_loss_dispatches_on_the_targets():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(5, C, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (5,), generator=g)
    assert torch.allclose(blackbox.student_loss()(z, y), nn.functional.cross_entropy(z, y))
    t = torch.softmax(torch.randn(5, C, generator=g, dtype=torch.float64), 1)
    T = 2.0
    want = T ** 2 * -(t * torch.log_softmax(z / T, 1)).sum(1).mean()
    assert torch.allclose(blackbox.student_loss(T)(z, t), want)


def test_query_stream_is_a_fixed_prefix_order():
    s = blackbox.query_stream(100, 30, seed=0)
    assert s.shape == (30,) and len(set(s.tolist())) == 30 and 0 <= s.min() and s.max() < 100
    assert torch.equal(blackbox.query_stream(100, 10, seed=0), s[:10])  # a bigger budget contains the smaller
    assert not torch.equal(blackbox.query_stream(100, 30, seed=1), s)
    for n in (0, 101):
        with pytest.raises(ValueError, match=r"needs 0 < n <= 100; got n="):
            blackbox.query_stream(100, n)


def test_steps_for_passes_with_a_floor():
    assert blackbox.steps_for(50_000, 10, 200, 1024) == math.ceil(10 * 50_000 / 1024)  # 489: the passes decide
    assert blackbox.steps_for(5_000, 10, 200, 1024) == 200  # 10 passes are only 49 steps: the floor decides
    assert blackbox.steps_for(500, 3, 0, 1024) == 3  # a batch never exceeds the budget: 3 passes of one batch


def test_train_copy_is_paired_by_seed():
    x = _images(96)
    labels = torch.arange(96) % C
    probs = torch.softmax(torch.randn(96, C, generator=torch.Generator().manual_seed(1)), 1)
    a, h = blackbox.train_copy(x, labels, seed=3, widths=(8, 8, 8), batch_size=32, steps=4)
    assert h.train_seconds > 0
    b, _ = blackbox.train_copy(x, labels, seed=3, widths=(8, 8, 8), batch_size=32, steps=4)
    for pa, pb in zip(a.parameters(), b.parameters()):  # same seed, same targets: the same copy
        assert torch.equal(pa, pb)
    c, _ = blackbox.train_copy(x, probs, seed=3, T=2.0, widths=(8, 8, 8), batch_size=32, steps=4)  # only the targets differ
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
    with pytest.raises(ValueError, match="exactly one of steps or epochs"):
        blackbox.train_copy(x, labels, seed=0, widths=(8, 8, 8))
    with pytest.raises(ValueError, match="exactly one of steps or epochs"):
        blackbox.train_copy(x, labels, seed=0, widths=(8, 8, 8), steps=2, epochs=1)


def test_fidelity_and_copied_errors():
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    teacher = torch.tensor([0, 1, 2, 9, 9, 9])  # wrong on the last three
    student = torch.tensor([0, 1, 7, 9, 4, 8])
    assert math.isclose(blackbox.fidelity(student, teacher), 3 / 6)
    out = blackbox.copied_errors(student, teacher, labels)
    assert out["n"] == 3 and math.isclose(out["same_mistake"], 1 / 3, rel_tol=1e-6) \
        and math.isclose(out["student_right"], 1 / 3, rel_tol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        blackbox.agreement(student, teacher[:3])
    # notebook 03 measures copied mistakes with train's copy of the same functions
    assert blackbox.copied_errors is train.copied_errors and blackbox.agreement is train.agreement
    assert math.isnan(train.copied_errors(student, labels, labels)["same_mistake"])  # a teacher without errors


def test_take_and_at_budget():
    ans = blackbox.TopK(torch.arange(10).view(5, 2), torch.rand(5, 2))
    assert torch.equal(blackbox.take(ans, slice(0, 2)).classes, ans.classes[:2])
    assert blackbox.take(["a", "b", "c"], torch.tensor([2, 0])) == ["c", "a"]
    assert math.isclose(blackbox.at_budget([100, 10_000], [0.5, 0.7], 1000), 0.6)
    assert blackbox.at_budget([100, 10_000], [0.5, 0.7], 10 ** 6) == 0.7


def test_synthetic_images():
    a, b = blackbox.synthetic_images(4, seed=1), blackbox.synthetic_images(4, seed=1)
    assert a.dtype == torch.uint8 and a.shape == (4, 3, 32, 32) and torch.equal(a, b)
    assert int(a.min()) == 0 and int(a.max()) == 255


def test_checkers_accept_the_reference_and_reject_wrong_answers(capsys):
    assert checks.topk_to_probs(lambda ans, C: blackbox.to_targets(ans, "top_k", num_classes=C))
    assert not checks.topk_to_probs(lambda ans, C: torch.zeros(2, C))
    labels, teacher = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 9, 9])
    student = torch.tensor([0, 1, 9, 3])
    assert checks.same_mistake_rate(0.5, student, teacher, labels)
    assert not checks.same_mistake_rate(0.9, student, teacher, labels)
    assert not checks.same_mistake_rate(50, student, teacher, labels)
    assert "not a percentage" in capsys.readouterr().out
    curves = {"label": {"acc": [[0.5, 0.5], [0.8, 0.8]]}, "probs": {"acc": [[0.6, 0.6], [0.85, 0.85]]}}
    prices = {"label": 1.0, "probs": 10.0}
    assert checks.buy_exposure("label", curves, [1000, 10_000], prices, money=10)  # 10k labels beat 1k probs
    assert not checks.buy_exposure("probs", curves, [1000, 10_000], prices, money=10)
    assert "Not yet" in capsys.readouterr().out
    close = {"label": {"acc": [[0.5, 0.5], [0.842, 0.846]]}, "probs": {"acc": [[0.6, 0.6], [0.85, 0.85]]}}
    cheap = {"label": 1.0, "probs": 1.0}  # same price: probs leads by 0.6 points, within the default tie of 1 point
    assert checks.buy_exposure("label", close, [1000, 10_000], cheap, money=10)
    assert "Not separable from probs" in capsys.readouterr().out
    assert not checks.buy_exposure("label", close, [1000, 10_000], cheap, money=10, tie=0.001)


def test_notebook_04_figures_are_built():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from course_utils import plots

    acc = np.array([[0.3, 0.32], [0.4, 0.41]])
    curves = {"probs": {"acc": acc, "fid": acc}, "label": {"acc": acc - 0.05, "fid": acc - 0.05}}
    curves["text"] = curves["label"]
    for teacher_acc in (0.45, 0.9):  # drawn as a line, or named in the title when far above
        fig = plots.plot_budget_curves(curves, [100, 1000], teacher_acc=teacher_acc, price_per_1k=1.0, title="t")
        assert len(fig.axes) == 2
        plt.close(fig)
    fig = plots.plot_grouped({"a": {"probs": [0.3, 0.4], "label": [0.2, 0.25]}, "b": {"probs": [0.1, 0.1]}},
                             ylabel="%", title="t", reference=0.9)
    plt.close(fig)
    rows = [{"teacher": "weak", "teacher_acc": 0.3, "student_acc": [0.25, 0.27], "fidelity": [0.6, 0.62]},
            {"teacher": "strong", "teacher_acc": 0.9, "student_acc": [0.8, 0.82], "fidelity": [0.9, 0.91]}]
    fig = plots.plot_teacher_cap(rows, truth_acc=[0.5, 0.52])
    assert len(fig.axes) == 2
    plt.close(fig)
