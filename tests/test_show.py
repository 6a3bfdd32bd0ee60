"""show.table: records printed as an aligned table."""
from dataclasses import dataclass

import pytest

from course_utils import show


@dataclass
class Row:
    name: str
    acc: list
    n: int


def test_a_table_of_records_is_aligned_and_formatted(capsys):
    show.table([Row("copy", [0.61, 0.63], 5), Row("own labels", [0.32, 0.34], 5)],
               {"student": "name", "accuracy": ("acc", ".1%"), "seeds": "n"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["student", "accuracy", "seeds"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["copy", "62.0%", "5"] and lines[3].split() == ["own", "labels", "33.0%", "5"]
    assert len({len(line) for line in lines[:2]}) == 1


def test_dicts_none_and_nan_show_a_dash():
    text = show.format_table([{"a": None, "b": float("nan")}])
    assert text.splitlines()[2].split() == ["-", "-"]


def test_a_missing_key_names_it():
    with pytest.raises(KeyError, match="'acc'"):
        show.format_table([{"name": "x"}], {"accuracy": "acc"})


def test_other_records_are_refused():
    with pytest.raises(TypeError, match="dicts or dataclass"):
        show.format_table([("a", 1)])


def test_fields_align_names_and_values(capsys):
    show.fields({"device": "cpu", "cpu_threads": 2})
    assert capsys.readouterr().out.splitlines() == ["device       cpu", "cpu_threads  2"]


@pytest.mark.parametrize("bad", [{}, [("device", "cpu")], None])
def test_fields_refuse_what_is_not_a_mapping(bad):
    with pytest.raises(TypeError, match="non-empty mapping"):
        show.fields(bad)
