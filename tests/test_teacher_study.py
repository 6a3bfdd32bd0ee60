"""Notebook 02's study: settings per profile, the page's loop checked against fit, the teacher chosen, the gallery's
images, and what is saved (the full profile's path run end to end, shrunk)."""
import json
from dataclasses import replace

import pytest
import torch

from course_utils import checkpoints, config, data, models, teacher_study, train

from test_distill_study import tiny_cifar
from test_train import notebooks_loop


def tiny():
    return tiny_cifar(per_class_train=4, per_class_test=3)  # 40 training, 30 test images


def test_full_trains_the_teacher_here_quick_and_demo_use_the_shipped_one():
    full, quick, demo = (teacher_study.settings(p) for p in ("full", "quick", "demo"))
    assert full.train_from_scratch and full.epochs == train.TEACHER_RECIPE.epochs
    assert full.train_per_class is None and full.test_per_class is None  # every image
    assert not quick.train_from_scratch and not demo.train_from_scratch
    assert (quick.epochs, quick.train_per_class, quick.batch_size) == (2, 200, 256)
    quick.epochs = 99  # a copy: the module's settings stay as they are
    assert teacher_study.settings("quick").epochs == 2
    with pytest.raises(ValueError, match=r"no teacher run for the profile 'fast': expected one of"):
        teacher_study.settings("fast")


def test_the_pages_loop_gives_fits_weights_and_a_broken_loop_is_caught(capsys):
    train_plain = notebooks_loop("02_train_the_teacher.ipynb", "train_plain")
    cifar = tiny()
    assert teacher_study.check_loop_is_fit(train_plain, cifar, n_images=16, batch_size=8) is True  # 2 steps each way
    assert capsys.readouterr().out == "the loop above and train.fit, one pass over 16 images: identical weights: True\n"

    def lazy_loop(model, loader, cfg):  # forgets to train
        return model.eval()

    with pytest.raises(AssertionError, match=r"the same weights bit for bit; \d+ tensors differ"):
        teacher_study.check_loop_is_fit(lazy_loop, cifar, n_images=16, batch_size=8)
    assert capsys.readouterr().out.endswith("identical weights: False\n")


def test_examples_are_right_answers_where_the_look_alike_gets_most():
    labels = torch.tensor([3, 3, 3, 3, 5, 3])  # cat, ..., dog, cat
    probs = torch.tensor([[0.0] * 3 + [0.6] + [0.0] + [0.4] + [0.0] * 4,   # cat, dog 0.4
                          [0.0] * 3 + [0.9] + [0.0] + [0.1] + [0.0] * 4,   # cat, dog 0.1
                          [0.0] * 3 + [0.3] + [0.0] + [0.7] + [0.0] * 4,   # wrong: called dog
                          [0.0] * 3 + [0.5] + [0.0] + [0.45] + [0.05] + [0.0] * 3,  # cat, dog 0.45
                          [0.0] * 3 + [0.2] + [0.0] + [0.8] + [0.0] * 4,   # a dog
                          [0.0] * 3 + [0.8] + [0.0] + [0.2] + [0.0] * 4])  # cat, dog 0.2
    assert teacher_study.examples(probs, labels, [("cat", "dog")]).tolist() == [3, 0]
    assert teacher_study.examples(probs, labels, [("cat", "dog"), ("dog", "cat")], n=1).tolist() == [3, 4]
    with pytest.raises(ValueError, match=r"unknown classes \['kitten'\]"):
        teacher_study.examples(probs, labels, [("kitten", "dog")])
    with pytest.raises(ValueError, match="of the same N"):
        teacher_study.examples(probs, labels[:3], [("cat", "dog")])


def test_quick_sets_the_short_run_aside_for_the_shipped_teacher_and_saves_no_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "results"))
    run, cifar = teacher_study.settings("quick"), tiny()
    history = train.History(epoch=[1], train_loss=[2.3], train_acc=[0.1], test_acc=[0.25], seconds=[3.0], images_seen=60)
    teacher, provenance = teacher_study.choose(models.make_teacher(), history, run, cifar, "quick", "cpu")
    shipped, meta = checkpoints.load_pretrained_teacher("cpu")
    assert provenance == meta and all(torch.equal(a, b) for a, b in zip(teacher.state_dict().values(),
                                                                         shipped.state_dict().values()))
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("training took 3.0 s (20 images/s) on ")
    assert out[1].startswith("quick profile: the demo teacher reached 25.0%; from here on we use the shipped teacher (")
    saved = tmp_path / "teacher.pt"
    record = teacher_study.save(teacher, provenance, run, cifar, history, acc=0.9, acc_tta=0.91, profile="quick",
                                checkpoint=saved)
    assert not saved.exists()
    assert "quick profile: no checkpoint saved; notebooks 03 to 05 use the shipped teacher" in capsys.readouterr().out
    assert record["trained_here"] is False and record["epochs"] == meta["epochs"] and record["demo_test_acc"] == 0.25
    with pytest.raises(ValueError, match=r"at least 85%\), got 40.0%"):
        teacher_study.save(teacher, provenance, run, cifar, history, acc=0.4, acc_tta=0.4, profile="quick",
                           checkpoint=saved)


def test_the_full_profile_trains_saves_and_records_end_to_end_on_a_cpu_shrunk(tmp_path, monkeypatch, capsys):
    """The full profile's path as the notebook runs it (train from scratch, keep it, evaluate, save the checkpoint and
    the results), on 40 synthetic images for half an epoch: a full-only branch cannot break unseen."""
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "results"))
    run, cifar = replace(teacher_study.settings("full"), epochs=0.5, batch_size=10), tiny()
    loader = data.Loader(cifar.train_images, cifar.train_labels, batch_size=run.batch_size, seed=run.seed)
    config.set_seed(run.seed)
    fresh = models.make_teacher(whiten_with=cifar.train_images)
    history = train.fit(fresh, loader, cfg=train.TEACHER_RECIPE, epochs=run.epochs,
                        eval_data=(cifar.test_images, cifar.test_labels), verbose=False)
    teacher, provenance = teacher_study.choose(fresh, history, run, cifar, "full", "cpu")
    assert teacher is fresh and provenance["profile"] == "full" and provenance["epochs"] == 0.5
    acc = train.evaluate(teacher, cifar.test_images, cifar.test_labels)
    acc_tta = train.evaluate(teacher, cifar.test_images, cifar.test_labels, tta=True)
    path = tmp_path / "checkpoints" / "teacher.pt"
    record = teacher_study.save(teacher, provenance, run, cifar, history, acc=acc, acc_tta=acc_tta, profile="full",
                                checkpoint=path, min_acc=0.0)  # half an epoch on noise: any accuracy will do
    assert f"saved {path}" in capsys.readouterr().out
    loaded, meta = checkpoints.load(path, "cpu")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), teacher.state_dict().values()))
    assert meta["test_acc"] == acc and meta["test_acc_flip_tta"] == acc_tta and meta["data"] == "synthetic"
    assert meta["command"] == "notebooks/02_train_the_teacher.ipynb" and meta["seed"] == 0
    written = json.loads((tmp_path / "results" / "02_teacher.json").read_text())
    fields = ["test_acc", "test_acc_flip_tta", "data", "train_seconds", "epochs", "teacher_device", "trained_here",
              "n_test", "demo_test_acc", "demo_train_seconds", "demo_epochs"]
    assert list(record) == fields and {k: written[k] for k in fields} == record
    assert record["trained_here"] is True and record["n_test"] == 30 and record["epochs"] == 0.5
