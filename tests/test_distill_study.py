"""Notebook 03's study: a clean split, a labelled set per seed, paired students, controls that change one thing each."""
import functools
import json
import math
from dataclasses import replace

import matplotlib
import pytest
import torch

from course_utils import checks, config, data, distill_study, losses, models, plots, stats, train

from test_train import Spy

matplotlib.use("Agg")  # figures without a display


def tiny_cifar(per_class_train=6, per_class_test=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    ytr, yte = torch.arange(10).repeat(per_class_train), torch.arange(10).repeat(per_class_test)
    xtr = torch.randint(0, 256, (len(ytr), 3, 32, 32), generator=g, dtype=torch.uint8)
    xte = torch.randint(0, 256, (len(yte), 3, 32, 32), generator=g, dtype=torch.uint8)
    return data.CIFAR10(xtr, ytr, xte, yte, source="synthetic")


STUDY = distill_study.Study(labelled_per_class=4, epochs=2, batch_size=20, seeds=2, val_per_class=3,
                            test_per_class=None, lr={arm: 1.0 for arm in distill_study.ARMS})


def setup(study=STUDY, seed=0):
    pool = distill_study.split(tiny_cifar(), study)
    images, labels = distill_study.labelled(pool, study, seed)
    config.set_seed(0)
    teacher = models.make_teacher(whiten_with=pool.pool_images).eval()
    return pool, images, labels, teacher


def flat(x):
    return {bytes(img.numpy()) for img in x}


def test_validation_comes_from_the_test_split_and_each_seed_draws_its_own_labelled_images():
    cifar = tiny_cifar()
    pool = distill_study.split(cifar, STUDY)
    assert len(pool.val_labels) == 30 and len(pool.test_labels) == 50  # 80 test images = 30 + 50
    assert not flat(pool.val_images) & flat(pool.test_images)
    assert not flat(pool.val_images) & flat(cifar.train_images)  # no model trains on a validation image
    assert torch.bincount(pool.val_labels).tolist() == [3] * 10
    (a, ya), (b, yb) = distill_study.labelled(pool, STUDY, 0), distill_study.labelled(pool, STUDY, 1)
    assert torch.bincount(ya).tolist() == [4] * 10 and flat(a) <= flat(cifar.train_images)
    assert flat(a) != flat(b)  # another seed, other labelled images ...
    assert torch.equal(distill_study.labelled(pool, STUDY, 0)[0], a)  # ... and the same seed, the same ones


def test_the_recorded_teacher_trains_a_student_exactly_as_the_live_teacher_does():
    pool, images, labels, teacher = setup()
    answers = distill_study.RecordedTeacher(teacher, images, STUDY, seed=0)
    assert len(answers.logits) == STUDY.epochs * 2 and answers.n_images == 40
    kd = functools.partial(losses.distillation_loss, T=4.0, alpha=0.1)
    weights = []
    for t in (teacher, answers, answers):
        student = distill_study.new_student(0, images)
        if t is answers:
            answers.rewind()
        train.fit(student, distill_study.loader(images, labels, 20, seed=0), kd, cfg=train.STUDENT_RECIPE, teacher=t,
                  epochs=STUDY.epochs, verbose=False)
        weights.append(torch.cat([p.detach().flatten() for p in student.parameters()]))
    assert torch.equal(weights[0], weights[1]) and torch.equal(weights[1], weights[2])
    answers.rewind()
    train.fit(distill_study.new_student(0, images), distill_study.loader(images, labels, 20, seed=1), kd,
              teacher=answers, epochs=STUDY.epochs, verbose=False)  # another seed's batches: noticed ...
    with pytest.raises(RuntimeError, match=r"RecordedTeacher replayed answers for \d+ images that differed"):
        answers.rewind()  # ... and said when the next run starts


def test_the_shuffled_teacher_gives_each_image_one_fixed_permutation_for_the_whole_run():
    pool, images, labels, teacher = setup()
    answers = distill_study.RecordedTeacher(teacher, images, STUDY, seed=0)
    shuffled = answers.shuffled()
    seen = {}  # (image index, its top class) -> the permutations it got, over the epochs
    shuffled.signatures = [torch.zeros(len(i)) for i in answers.index]  # accept any batch: the test feeds zeros
    for z, idx in zip(answers.logits, answers.index):
        s = shuffled(torch.zeros(len(idx), 3, 32, 32))
        assert torch.equal(s.argmax(1), z.argmax(1)) and torch.equal(s.sort(1).values, z.sort(1).values)
        for row_z, row_s, i in zip(z, s, idx.tolist()):
            mapping = tuple((row_s.unsqueeze(1) == row_z.unsqueeze(0)).float().argmax(1).tolist())  # where each came from
            seen.setdefault((i, int(row_z.argmax())), set()).add(mapping)
    assert all(len(m) == 1 for m in seen.values())  # the same permutation in every epoch
    assert len({next(iter(m)) for m in seen.values()}) > 30  # and different ones for different images
    assert answers.orders is None and answers.position == 0  # the blended student's answers are untouched


def test_label_smoothing_acts_through_the_same_loss_at_T_and_is_as_soft_as_the_teacher():
    g = torch.Generator().manual_seed(0)
    z_s, y = torch.randn(8, 10, generator=g, dtype=torch.float64), torch.randint(0, 10, (8,), generator=g)
    eps, T, alpha = 0.4, 4.0, 0.1
    q = torch.full((8, 10), eps / 10, dtype=torch.float64)
    q[torch.arange(8), y] += 1 - eps
    p_s = torch.softmax(z_s / T, 1)
    by_hand = alpha * torch.nn.functional.cross_entropy(z_s, y) + \
        (1 - alpha) * T**2 * (q * (q.log() - p_s.log())).sum(1).mean()
    assert torch.allclose(distill_study.smoothed_label_loss(z_s, y, eps, T, alpha), by_hand, rtol=1e-6)
    pool, images, labels, teacher = setup()
    answers = distill_study.RecordedTeacher(teacher, images, STUDY, seed=0)
    loss_fn, t = distill_study.arm_spec("label smoothing", STUDY, answers)
    matched = loss_fn.keywords["smoothing"]
    target = torch.full((10,), matched / 10, dtype=torch.float64)
    target[0] += 1 - matched
    assert t is None and losses.entropy(target).item() == pytest.approx(answers.mean_entropy(STUDY.T), abs=1e-6)


def test_a_seeds_students_start_alike_and_only_the_targets_differ():
    pool, images, labels, teacher = setup()
    a, b, c = (distill_study.new_student(s, images) for s in (0, 0, 1))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.head.weight, c.head.weight)
    answers = distill_study.RecordedTeacher(teacher, images, STUDY, seed=0)
    weights = {}
    for arm in distill_study.ARMS:
        student, history = distill_study.train_arm(arm, 0, images, labels, STUDY, answers)
        assert history.images_seen == STUDY.epochs * 40 and not student.training
        weights[arm] = student.head.weight.detach().clone()
    again, _ = distill_study.train_arm("blended", 0, images, labels, STUDY, answers)
    assert torch.equal(again.head.weight, weights["blended"])
    assert len({tuple(w.flatten()[:5].tolist()) for w in weights.values()}) == 4  # four different students


def test_get_study_reads_the_chosen_learning_rates_and_never_falls_back_to_a_shared_one(tmp_path, monkeypatch):
    path = tmp_path / "lr.json"
    monkeypatch.setattr(distill_study, "lr_choice_file", lambda profile: path)
    path.write_text(json.dumps({"chosen_lr": dict(zip(distill_study.ARMS, (12, 3, 6, 3)))}))
    for profile in ("quick", "full"):
        assert distill_study.get_study(profile).lr == dict(zip(distill_study.ARMS, (12.0, 3.0, 6.0, 3.0)))
    assert distill_study.STUDIES["quick"].lr == {}  # the shared definition is left as it was
    path.write_text('{"chosen_lr": {"hard": 3.0, "blended": 6.0}}')
    with pytest.raises(FileNotFoundError, match=r"no learning rate chosen on validation for \['label smoothing', "
                                                r"'shuffled teacher'\] in the full profile"):
        distill_study.get_study("full")


def test_the_full_profile_borrows_the_quick_choice_until_it_has_its_own(tmp_path, monkeypatch):
    files = {"quick": tmp_path / "quick.json", "full": tmp_path / "full.json"}
    monkeypatch.setattr(distill_study, "lr_choice_file", lambda profile: files[profile])
    files["quick"].write_text(json.dumps({"chosen_lr": dict(zip(distill_study.ARMS, (12, 3, 24, 3)))}))
    with pytest.warns(UserWarning, match="uses the rate chosen on the quick profile's validation"):
        study = distill_study.get_study("full")
    assert study.lr == dict(zip(distill_study.ARMS, (12.0, 3.0, 24.0, 3.0))) and study.seeds == 20


def test_smoothing_for_entropy_inverts_the_entropy_of_smoothed_labels():
    for eps in (0.0, 0.1, 0.5, 0.85, 0.97):
        target = torch.full((10,), eps / 10, dtype=torch.float64)
        target[3] += 1 - eps
        assert distill_study.smoothing_for_entropy(losses.entropy(target).item()) == pytest.approx(eps, abs=1e-9)
    with pytest.raises(ValueError, match=r"target_entropy must lie in \[0, log\(10\)"):
        distill_study.smoothing_for_entropy(3.0)


def test_shuffle_wrong_classes_keeps_the_top_and_the_softness_but_moves_the_rest():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(500, 10, generator=g, dtype=torch.float64) * 3
    order = torch.rand(500, 9, generator=torch.Generator().manual_seed(1)).argsort(1)
    s = distill_study.shuffle_wrong_classes(z, order)
    assert torch.equal(s.argmax(1), z.argmax(1))  # the top class stays
    assert torch.equal(s.sort(1).values, z.sort(1).values)  # the same values: the same softness at every T
    second = z.topk(2, 1).indices[:, 1]
    assert (s.topk(2, 1).indices[:, 1] == second).double().mean() < 0.2  # the second choice moved (chance: 1/9)
    assert torch.equal(distill_study.shuffle_wrong_classes(z, torch.arange(9).expand(500, 9)), z)  # identity order


def test_the_readings_match_a_direct_computation():
    N = 40
    labels = torch.arange(N) % 10
    students = []
    for seed, (h, b) in enumerate([(0.5, 0.6), (0.4, 0.6), (0.5, 0.55)]):
        for arm, acc in (("hard", h), ("blended", b)):
            first = torch.where(torch.arange(N) < acc * N, labels, (labels + 1) % 10)
            students.append(distill_study.Student(arm, seed, (first == labels).float().mean().item(),
                                                  torch.stack([first, (first + 2) % 10], 1).to(torch.uint8), 1.0, 1))
    g = distill_study.compare(students, "blended", "hard")
    assert g["diffs"] == pytest.approx([0.1, 0.2, 0.05]) and g["n"] == 3
    assert g["mean"] == pytest.approx(stats.paired([0.6, 0.6, 0.55], [0.5, 0.4, 0.5])["mean"])
    right = {arm: torch.stack([(s.top2[:, 0] == labels).double() for s in students if s.arm == arm]) for arm in ("hard", "blended")}
    d = right["blended"].mean(0) - right["hard"].mean(0)
    assert distill_study.test_sampling_se(students, labels, "blended", "hard") == pytest.approx(d.std().item() / math.sqrt(N))
    teacher_top2 = torch.stack([labels, (labels + 2) % 10], 1)
    assert distill_study.second_choice(students, teacher_top2)["hard"] == [1.0, 1.0, 1.0]


def test_lr_rows_say_when_a_chosen_rate_sits_on_the_edge_of_its_grid(tmp_path, monkeypatch):
    path = tmp_path / "lr.json"
    path.write_text(json.dumps({"mean_val_acc": {"hard": {"3": 0.3, "6": 0.35}, "blended": {"1.5": 0.3, "3": 0.4, "6": 0.2}},
                                "chosen_lr": {"hard": 6.0, "blended": 3.0}}))
    monkeypatch.setattr(distill_study, "lr_choice_file", lambda profile: path)
    rows = distill_study.lr_rows("quick")
    assert rows[0]["inside the grid"].startswith("no") and rows[1]["inside the grid"] == "yes"
    assert rows[0]["lr 1.5"] is None and rows[1]["lr 3"] == 40.0


def test_the_full_profile_runs_end_to_end_on_a_cpu_shrunk():
    """The full profile's code path (its study, rates chosen on validation, every student, every reading), shrunk to a
    tiny data set and a few steps: a full-only branch cannot break unseen."""
    full = replace(distill_study.STUDIES["full"], labelled_per_class=2, epochs=2, batch_size=10, seeds=2,
                   val_per_class=2)
    pool, _, _, teacher = setup(full)
    runs = distill_study.validation_runs(full, pool, teacher, {arm: [0.5, 1.0] for arm in distill_study.ARMS}, [100])
    means, chosen = distill_study.choose_lr(runs)
    assert set(chosen) == set(distill_study.ARMS) and all(len(row) == 2 for row in means.values())
    study = replace(full, lr=chosen)
    students = distill_study.train_students.__wrapped__(study, pool, teacher)
    assert len(students) == 2 * 4 and students[0].top2.shape == (len(pool.test_labels), 2)
    summaries = distill_study.comparisons(students)
    assert list(summaries) == ["blended - hard", "blended - label smoothing", "blended - shuffled teacher",
                               "label smoothing - shuffled teacher"]
    assert all(g["n"] == 2 for g in summaries.values())
    rows = distill_study.summary_rows(students, teacher_acc=0.9)
    assert [r["student"] for r in rows] == [*distill_study.ARMS, "(teacher)"]
    assert distill_study.comparison_rows(summaries)[0]["seeds"] == 2
    rec = distill_study.record(study, pool, students, teacher_acc=0.9)
    assert rec["primary"]["n_seeds"] == 2 and rec["seeds"] == [0, 1] and len(rec["comparisons"]) == 3
    assert rec["primary"]["mean"] == pytest.approx(100 * summaries["blended - hard"]["mean"])  # points
    primary_only = distill_study.record(study, pool, [s for s in students if s.arm in distill_study.PRIMARY])
    assert primary_only["comparisons"] == {} and primary_only["primary"] == rec["primary"]  # what --primary writes


def test_a_spy_teacher_sees_each_batch_once_per_seed():
    pool, images, labels, _ = setup()
    spy = Spy()
    distill_study.RecordedTeacher(spy, images, STUDY, seed=0)
    assert len(spy.seen) == STUDY.epochs * 2 and not any(spy.modes) and not any(spy.grad_enabled)


def test_the_figure_shows_absolute_accuracies_the_teacher_and_each_comparison():
    accuracy = {"hard": [0.35, 0.36, 0.33], "blended": [0.40, 0.41, 0.39]}
    summaries = {"blended - hard": stats.paired(accuracy["blended"], accuracy["hard"]),
                 "x - y": stats.paired_summary([0.01, -0.02, 0.0])}
    fig = plots.plot_students(accuracy, 0.9, summaries, title="t")
    left, right = fig.axes
    assert left.get_ylabel() == "test accuracy (%)" and right.get_ylabel() == "paired difference (accuracy points)"
    assert [b.get_height() for b in left.patches] == pytest.approx([34.6667, 40.0], abs=1e-3)  # percent, not shares
    assert any(len(line.get_ydata()) and line.get_ydata()[0] == pytest.approx(90.0) for line in left.lines)  # teacher
    primary, control = right.patches[:2]
    assert primary.get_height() == pytest.approx(5.3333, abs=1e-3) and primary.get_hatch() is None
    assert control.get_hatch() == "//"  # its interval includes zero


def test_the_break_it_checker_tells_a_dropped_T2_from_a_swapped_KL_and_checks_the_prediction(capsys):
    def without_T2(z_s, z_t, T):
        return losses.soft_loss(z_s, z_t, T) / T**2

    def swapped(z_s, z_t, T):
        log_p_t, log_p_s = torch.log_softmax(z_t / T, 1), torch.log_softmax(z_s / T, 1)
        return (log_p_s.exp() * (log_p_s - log_p_t)).sum(1).mean()

    assert checks.broken_soft_term(without_T2, 64)
    out = capsys.readouterr().out
    assert "course / yours" in out and "64.00" in out  # the printed table: the ratio is T^2 at T = 8
    assert not checks.broken_soft_term(without_T2, 8) and "not 8" in capsys.readouterr().out
    assert not checks.broken_soft_term(without_T2, None) and "set my_ratio" in capsys.readouterr().out
    assert not checks.broken_soft_term(swapped, 64) and "direction swapped" in capsys.readouterr().out
    assert not checks.broken_soft_term(losses.soft_loss, 64) and "T^2 included" in capsys.readouterr().out
    assert not checks.broken_soft_term(lambda z_s, z_t, T: None, 64) and "returned None" in capsys.readouterr().out


def test_the_quiz_needs_every_answer_right(capsys):
    right = {1: "b", 2: "b", 3: "c", 4: "b", 5: "a"}
    assert checks.quiz_03(right)
    assert capsys.readouterr().out.count("Correct!") == 5
    assert not checks.quiz_03({**right, 2: "a"}) and "common misreading" in capsys.readouterr().out
    assert not checks.quiz_03({1: None}) and not checks.quiz_03(["b"])


@pytest.mark.parametrize("text, message", [('{"chosen_lr": {"hard": 6', "is not valid JSON"),
                                           ('{"runs": []}', "lacks \\['chosen_lr'\\]")])
def test_a_damaged_learning_rate_file_is_named_with_its_fix(tmp_path, monkeypatch, text, message):
    """Review 4.16: a truncated or older bench JSON gives a message that names the file and how to restore it."""
    from course_utils import results

    path = tmp_path / "distill_study_lr_quick.json"
    path.write_text(text)
    monkeypatch.setattr(distill_study, "lr_choice_file", lambda profile: path)
    with pytest.raises(results.ResultsError, match=message):
        distill_study.get_study("quick")
    with pytest.raises(results.ResultsError, match="run again the bench script"):
        distill_study.lr_rows("quick")
