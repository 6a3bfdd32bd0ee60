"""A notebook's figures out as JSON (with the machine they were measured on), committed bench JSON back in."""
import json

import pytest

from course_utils import config, results


def test_save_writes_the_figures_beside_the_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    path = results.save("nb", {"acc": 0.5, "curve": [1, 2]})
    record = json.loads(path.read_text())
    assert path == tmp_path / "nb.json" and record["acc"] == 0.5 and record["curve"] == [1, 2]
    assert record["device"] == config.describe()["device"] and record["profile"] == config.get_profile()
    assert not list(tmp_path.glob("*.tmp"))  # written through a temporary file, renamed into place


def test_save_refuses_a_figure_that_would_overwrite_the_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"records \['device'\] itself.*'teacher_device'"):
        results.save("nb", {"device": "the GPU the teacher was trained on"})
    assert not (tmp_path / "nb.json").exists()


def test_bench_reads_committed_json_or_says_none():
    assert results.bench("cpu/distill_study_lr_quick.json")["chosen_lr"]["blended"] > 0
    assert results.bench("no/such.json") is None


def test_the_run_time_table_has_every_profile_and_says_what_is_not_measured(monkeypatch):
    monkeypatch.setattr(results, "run_times", lambda: {"01_x.ipynb": {"quick": 13.0}, "00_y.ipynb": {"quick": 95.0,
                                                                                                     "demo": 8.0}})
    rows, columns = results.run_time_table()
    assert list(columns) == ["notebook", "quick, 2-core CPU", "demo, same CPU", "full, GPU"]
    assert rows == [{"notebook": "00_y", "quick": "1.6 min", "demo": "8 s", "full": "not measured"},
                    {"notebook": "01_x", "quick": "13 s", "demo": "not measured", "full": "not measured"}]
