"""The demo profile's replay: quick computes (and records on request), demo loads the recorded value and says so."""
import pytest
import torch

from course_utils import config, distill_study, replay


@pytest.fixture
def replay_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "REPLAY_DIR", tmp_path / "replay")
    monkeypatch.delenv("COURSE_RECORD_REPLAY", raising=False)
    return tmp_path / "replay"


def compute():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
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
    assert torch.equal(again["model"].weight, live["model"].weight) and again["model"] is not live["model"]
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
    assert names, "no notebook replays anything"
    missing = [n for n in sorted(names) if not replay.path_of(n).exists()]
    assert not missing, f"record them: COURSE_PROFILE=quick COURSE_RECORD_REPLAY=1 make execute ({missing})"
