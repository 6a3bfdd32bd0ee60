"""Notebook 03's study: a clean split, paired students, controls that change one thing each."""

import torch

from course_utils import data, distill_study, losses, models, train


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
    cache = train.CachedTeacher(teacher)
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
