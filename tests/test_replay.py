"""The demo profile's replay: quick computes (and records on request), demo loads the recorded value and says so."""
import numpy as np
import pytest
import torch

from course_utils import config, distill_study, models, replay


@pytest.fixture
def replay_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "REPLAY_DIR", tmp_path / "replay")
    monkeypatch.delenv("COURSE_RECORD_REPLAY", raising=False)
    return tmp_path / "replay"


def compute():
    torch.manual_seed(0)
    model = models.Net(models.NetConfig(widths=(4, 8, 8)))
    return {"logits": {("blended", 0): torch.randn(4, 10)}, "model": model, "seconds": 1.5, "pair": (1, [2, 3])}


def test_quick_computes_and_records_only_when_asked(replay_dir):
    value = replay.run("x", compute, "quick")
    assert value["seconds"] == 1.5 and not replay_dir.exists()


def test_a_recorded_quick_value_is_what_the_demo_replays(replay_dir, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RECORD_REPLAY", "1")
    live = replay.run("x", compute, "quick")
    assert replay.path_of("x").exists()
    monkeypatch.delenv("COURSE_RECORD_REPLAY")
    calls = []
    again = replay.run("x", lambda: calls.append(1), "demo", device="cpu")
    assert not calls, "the demo must not compute"
    assert torch.equal(again["logits"][("blended", 0)], live["logits"][("blended", 0)])
    assert all(torch.equal(a, b) for a, b in zip(again["model"].state_dict().values(), live["model"].state_dict().values()))
    assert again["model"] is not live["model"] and again["model"].cfg == live["model"].cfg
    assert again["seconds"] == 1.5 and again["pair"] == (1, [2, 3])
    assert "[demo] replayed, not measured now: x" in capsys.readouterr().out


def test_recording_is_for_the_quick_profile_only(replay_dir, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD_REPLAY", "1")
    with pytest.raises(ValueError, match="COURSE_PROFILE=quick"):
        replay.run("x", compute, "full")


def test_a_missing_recording_says_how_to_make_one(replay_dir):
    with pytest.raises(FileNotFoundError, match="COURSE_RECORD_REPLAY=1"):
        replay.run("missing", compute, "demo")


def test_the_demo_profile_has_the_quick_settings(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "demo")
    assert config.get_profile() == "demo"
    assert config.study_profile("demo") == "quick" and config.study_profile("full") == "full"
    assert distill_study.get_study("demo") == distill_study.get_study("quick")
    assert distill_study.lr_choice_file("demo") == distill_study.lr_choice_file("quick")


def test_every_notebooks_recording_is_shipped():
    import json
    import re

    names = set()
    for path in (config.ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            names |= set(re.findall(r'replay\.run\("([\w-]+)"', "".join(cell["source"])))
    for path in (config.ROOT / "course_utils").glob("*.py"):
        names |= {n for n in re.findall(r'@replay\.cached\("([\w{}-]+)"\)', path.read_text()) if "{" not in n}
    assert names, "no notebook replays anything"
    missing = [n for n in sorted(names) if not replay.path_of(n).exists()]
    assert not missing, f"record them: COURSE_PROFILE=quick COURSE_RECORD_REPLAY=1 make execute ({missing})"


# -- the decorator ---------------------------------------------------------------------------------------------------

@replay.cached("double_{n}")
def double(n, device=None):
    double.calls += 1
    return {"n": torch.tensor([2 * n]), "mean": np.float64(0.5), "array": np.arange(3)}


double.calls = 0


def test_the_decorator_runs_records_and_replays_by_its_arguments(replay_dir, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_RECORD_REPLAY", "1")
    double.calls = 0
    assert double(3)["n"].item() == 6 and double(4)["n"].item() == 8 and double.calls == 2
    assert replay.path_of("double_3").exists() and replay.path_of("double_4").exists()
    monkeypatch.setenv("COURSE_PROFILE", "demo")
    again = double(3)
    assert double.calls == 2, "the demo must not compute"
    assert again["n"].item() == 6 and again["mean"] == 0.5 and list(again["array"]) == [0, 1, 2]
    out = capsys.readouterr().out
    assert "[demo] replayed, not measured now: double_3" in out and "computed in" in out


def test_records_and_dataclasses_survive_the_round_trip(replay_dir):
    value = {"study": distill_study.get_study("quick"), "pair": (1, [2.5, None]), ("arm", 0): "x"}
    replay.record("r", value)
    assert replay.load("r") == value


# -- what a replay file may hold, and what happens when it is broken --------------------------------------------------

class Boom:
    def __reduce__(self):
        return (print, ("a replay file ran code",))


def test_a_file_carrying_a_pickle_payload_is_refused_without_running_it(replay_dir, capsys):
    replay_dir.mkdir(parents=True)
    torch.save({"format": replay.FORMAT, "value": Boom()}, replay.path_of("evil"))
    with pytest.raises(ValueError, match="holds more than tensors"):
        replay.load("evil")
    assert "ran code" not in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n", "Git LFS pointer"),
    (b"PK\x03\x04 not really a zip", "damaged or truncated"),
])
def test_a_broken_file_names_itself_and_the_fix(replay_dir, content, message):
    replay_dir.mkdir(parents=True)
    replay.path_of("broken").write_bytes(content)
    with pytest.raises(ValueError, match=message) as err:
        replay.load("broken")
    assert "broken.pt" in str(err.value) and "COURSE_RECORD_REPLAY=1" in str(err.value)


def test_a_truncated_recording_is_reported(replay_dir):
    replay.record("t", {"x": torch.randn(1000)})
    path = replay.path_of("t")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ValueError, match="damaged or truncated"):
        replay.load("t")


def test_an_older_layout_is_reported(replay_dir):
    replay_dir.mkdir(parents=True)
    torch.save({"value": torch.zeros(1), "device": "cpu"}, replay.path_of("old"))
    with pytest.raises(ValueError, match="layout"):
        replay.load("old")


def test_what_cannot_be_stored_says_where(replay_dir):
    with pytest.raises(TypeError, match=r"value\['net'\]"):
        replay.record("bad", {"net": torch.nn.Linear(2, 2)})
    assert not replay.path_of("bad").exists()


def test_no_replay_file_is_loaded_unsafely():
    shipped = sorted(replay.REPLAY_DIR.glob("*.pt"))
    source = (config.ROOT / "course_utils" / "replay.py").read_text()
    assert "weights_only" + "=False" not in source and shipped is not None  # spelled apart: a grep finds none
