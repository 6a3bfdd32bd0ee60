"""Tables for the page: a list of records printed as aligned text, so that notebook cells tabulate in one call
instead of hand-aligning f-strings.

    show.table(records, {"exposure": "exposure", "accuracy (%)": ("acc", ".1f"), "seeds": "n"})
    show.fields({"device": "cpu", "torch": "2.14.1"})

Each record is a dict or a dataclass instance; a column maps its title to a key, or to (key, format spec).
A value that is a list or tuple of numbers is shown as its mean (seeds averaged), formatted the same way.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Iterable, Mapping


def _as_dict(record) -> dict:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    if isinstance(record, dict):
        return record
    raise TypeError(f"show.table takes dicts or dataclass records, got a {type(record).__name__}: {record!r}.")


def _real(value) -> bool:
    """A number: int, float or a numpy scalar (np.float32, np.int64, ...), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _cell(value, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)) and value and all(_real(v) for v in value):
        value = sum(value) / len(value)
    if _real(value) and math.isnan(value):
        return "-"
    return format(value, spec) if spec else str(value)


def format_table(records: Iterable, columns: dict | None = None) -> str:
    """The text show.table prints: a header, a rule, one row per record; numbers right-aligned."""
    rows = [_as_dict(r) for r in records]
    if columns is None:
        columns = {key: key for key in (rows[0] if rows else {})}
    specs = {title: (c, "") if isinstance(c, str) else tuple(c) for title, c in columns.items()}
    missing = sorted({key for key, _ in specs.values() for row in rows if key not in row})
    if missing:
        raise KeyError(f"show.table: the records have no {missing}; their keys are {sorted(rows[0])}.")
    cells = [[_cell(row[key], spec) for key, spec in specs.values()] for row in rows]
    numeric = [all(_is_number(row[key]) for row in rows) for key, _ in specs.values()]
    widths = [max([len(title)] + [len(r[j]) for r in cells]) for j, title in enumerate(specs)]

    def line(items):
        return "  ".join(s.rjust(w) if num else s.ljust(w) for s, w, num in zip(items, widths, numeric)).rstrip()

    out = [line(list(specs)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _is_number(value) -> bool:
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_real(v) for v in value)
    return _real(value) or value is None


def table(records: Iterable, columns: dict | None = None) -> None:
    """Print `records` as an aligned table (see format_table)."""
    print(format_table(records, columns))


def fields(record: Mapping) -> None:
    """Print one record as aligned `name  value` lines: an environment, a checkpoint's provenance."""
    if not isinstance(record, Mapping) or not record:
        raise TypeError(f"show.fields takes a non-empty mapping of names to values, got {record!r}.")
    width = max(len(str(name)) for name in record)
    for name, value in record.items():
        print(f"{str(name):{width}s}  {value}")
