"""Notebook 03's study: a clean split, paired students, controls that change one thing each."""
import functools

import pytest
import torch

from course_utils import config, data, distill_study, losses, models, train
from test_train import Spy, toy_data


def tiny_cifar(per_class_train=6, per_class_test=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    ytr, yte = torch.arange(10).repeat(per_class_train), torch.arange(10).repeat(per_class_test)
    xtr = torch.randint(0, 256, (len(ytr), 3, 32, 32), generator=g, dtype=torch.uint8)
    xte = torch.randint(0, 256, (len(yte), 3, 32, 32), generator=g, dtype=torch.uint8)
    return data.CIFAR10(xtr, ytr, xte, yte, source="synthetic")


STUDY = distill_study.Study(labelled_per_class=4, epochs=2, batch_size=20, seeds=2, val_per_class=3,
                            test_per_class=None, lr={arm: 1.0 for arm in distill_study.ARMS})


def test_validation_comes_from_the_test_split_and_never_overlaps_the_test_images():
    cifar = tiny_cifar()
    labelled, (vx, vy), (tx, ty) = distill_study.split(cifar, STUDY)
    assert len(labelled.train_images) == 40 and len(vy) == 30 and len(ty) == 50  # 80 test images = 30 + 50
    flat = lambda x: {bytes(img.numpy()) for img in x}  # noqa: E731
    assert not flat(vx) & flat(tx)
    assert not flat(vx) & flat(cifar.train_images)  # no model trains on a validation image
    assert torch.bincount(vy).tolist() == [3] * 10


def test_a_seeds_students_start_alike_and_only_the_targets_differ():
    cifar = tiny_cifar()
    labelled, _, _ = distill_study.split(cifar, STUDY)
    a, b = distill_study.new_student(0, labelled.train_images), distill_study.new_student(0, labelled.train_images)
    c = distill_study.new_student(1, labelled.train_images)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.head.weight, c.head.weight)
    teacher = models.make_teacher(whiten_with=labelled.train_images).eval()
    cache = distill_study.CachedTeacher(teacher)
    weights = {}
    for arm in distill_study.ARMS:
        student, history = distill_study.train_arm(arm, 0, labelled, STUDY, 0.3, cache)
        assert history.images_seen == STUDY.epochs * 40 and not student.training
        weights[arm] = student.head.weight.detach().clone()
    again, _ = distill_study.train_arm("blended", 0, labelled, STUDY, 0.3, cache)  # replayed from the cache
    assert torch.equal(again.head.weight, weights["blended"])
    assert len({tuple(w.flatten()[:5].tolist()) for w in weights.values()}) == 4  # four different students


def test_the_shuffled_teacher_keeps_top_class_and_softness():
    teacher = models.make_teacher().eval()
    x = data.normalize(tiny_cifar().train_images[:16])
    with torch.no_grad():
        z, s = teacher(x), distill_study.ShuffledTeacher(teacher, seed=0)(x)
    assert torch.equal(z.argmax(1), s.argmax(1)) and torch.allclose(z.sort(1).values, s.sort(1).values)
    assert not torch.equal(z, s)


def test_matched_smoothing_has_the_teachers_mean_entropy():
    z = torch.randn(64, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
    eps = distill_study.matched_smoothing(z, T=4.0)
    target = torch.full((10,), eps / 10, dtype=torch.float64)
    target[0] += 1 - eps
    teacher_entropy = losses.entropy(losses.softmax_with_temperature(z, 4.0)).mean()
    assert torch.isclose(losses.entropy(target), teacher_entropy)


def test_get_study_reads_the_chosen_learning_rates(tmp_path, monkeypatch):
    path = tmp_path / "lr.json"
    path.write_text('{"chosen_lr": {"hard": 3.0, "blended": 6.0}}')
    monkeypatch.setattr(distill_study, "lr_choice_file", lambda profile: path)
    study = distill_study.get_study("quick")
    assert study.lr == {"hard": 3.0, "blended": 6.0, "label smoothing": distill_study.DEFAULT_LR,
                        "shuffled teacher": distill_study.DEFAULT_LR}
    assert distill_study.STUDIES["quick"].lr == {}  # the shared definition is left as it was


def test_smoothing_for_entropy_inverts_the_entropy_of_smoothed_labels():
    for eps in (0.0, 0.1, 0.5, 0.85):
        target = torch.full((10,), eps / 10, dtype=torch.float64)
        target[3] += 1 - eps
        assert distill_study.smoothing_for_entropy(losses.entropy(target).item()) == pytest.approx(eps, abs=1e-9)
    with pytest.raises(ValueError, match=r"target_entropy must lie in \[0, log\(10\)"):
        distill_study.smoothing_for_entropy(3.0)


def test_shuffle_wrong_classes_keeps_the_top_and_the_softness_but_moves_the_rest():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(500, 10, generator=g, dtype=torch.float64) * 3
    s = distill_study.shuffle_wrong_classes(z, torch.Generator().manual_seed(1))
    assert torch.equal(s.argmax(1), z.argmax(1))  # the top class stays
    assert torch.equal(s.sort(1).values, z.sort(1).values)  # the same values: the same softness at every T
    for T in (1.0, 4.0):
        assert torch.allclose(losses.entropy(losses.softmax_with_temperature(s, T)),
                              losses.entropy(losses.softmax_with_temperature(z, T)))
    second = z.topk(2, 1).indices[:, 1]
    assert (s.topk(2, 1).indices[:, 1] == second).double().mean() < 0.2  # the second choice moved (chance: 1/9)
    again = distill_study.shuffle_wrong_classes(z, torch.Generator().manual_seed(1))
    assert torch.equal(s, again)  # seeded: repeatable


def test_cached_teacher_replays_exactly_and_catches_other_batches():
    x, y = toy_data(64)
    teacher = Spy()
    cached = distill_study.CachedTeacher(teacher)
    kd = functools.partial(losses.distillation_loss, T=2.0, alpha=0.5)
    results = []
    for _ in range(2):
        config.set_seed(0)
        s = models.make_student(whiten_with=x)
        cached.rewind()  # each run replays from the first batch
        train.fit(s, data.Loader(x, y, batch_size=32, seed=1), kd, teacher=cached, epochs=1, verbose=False)
        results.append(torch.cat([p.detach().flatten() for p in s.parameters()]))
    assert len(teacher.seen) == 2  # the second run was served from the cache ...
    assert torch.equal(results[0], results[1])  # ... and trained exactly as the first
    cached.rewind()
    train.fit(models.make_student(whiten_with=x), data.Loader(x, y, batch_size=32, seed=2), kd, teacher=cached,
              epochs=1, verbose=False)  # other batches: the cache notices ...
    with pytest.raises(RuntimeError, match=r"CachedTeacher replayed logits for \d+ examples that differed"):
        cached.rewind()  # ... and says so when the next run starts
