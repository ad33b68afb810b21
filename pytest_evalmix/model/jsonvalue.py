"""What a record's free-form values (``input``, ``gold``, ``meta``) may hold: JSON, and nothing
else (docs/formats.md).

Python's JSON parsers, pydantic's among them, read ``NaN``, ``Infinity`` and ``1e999999`` (an
infinity), and a Parquet column can hold bytes or a map with keys that are not strings. None of
those is JSON: a result, a report or another tool would read the value differently, or not at
all. So the model refuses them, on every path, and this module imports nothing (the fast paths'
children unpickle these functions without importing pydantic).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def first_bad(value: Any, at: str) -> str | None:
    """Where ``value`` first holds something that is not JSON, and what, or None."""
    stack: list[tuple[Any, str]] = [(value, at)]
    while stack:
        item, where = stack.pop()
        kind = item.__class__
        if kind is str or kind is bool or kind is int or item is None:
            continue
        if kind is float:
            if not math.isfinite(item):
                name = "NaN" if math.isnan(item) else "an infinite number"
                return f"{where} holds {name}, which is not JSON"
            continue
        if kind is list:
            stack.extend((part, f"{where}[{index}]") for index, part in enumerate(item))
            continue
        if kind is dict:
            for name, part in item.items():
                if name.__class__ is not str:
                    return f"{where} has a key that is not text ({name.__class__.__name__})"
                stack.append((part, f"{where}.{name}"))
            continue
        if isinstance(item, (dt.date, dt.time)):
            continue  # a Parquet date or timestamp column: JSON writes it as ISO text
        if isinstance(item, (bytes, bytearray, memoryview)):
            return f"{where} holds binary data, which is not JSON"
        return f"{where} holds a {kind.__name__}, which is not JSON"
    return None


def _only_json(value: Any, at: str) -> Any:
    bad = first_bad(value, at)
    if bad is not None:
        raise ValueError(bad)
    return value


def input_json(value: Any) -> Any:
    return _only_json(value, "input")


def gold_json(value: Any) -> Any:
    return _only_json(value, "gold")


def meta_json(value: Any) -> Any:
    return _only_json(value, "meta")


def not_json(record: dict[str, Any]) -> bool:
    """Whether a record (as a plain dict) holds a value that is not JSON: the fast paths' test,
    which hand such a record to the model to say where."""
    return (
        first_bad(record.get("input"), "input") is not None
        or first_bad(record.get("gold"), "gold") is not None
        or first_bad(record.get("meta"), "meta") is not None
    )
