"""Inspect AI samples, as `json_dataset` and `csv_dataset` read them (docs/formats.md)."""

from __future__ import annotations

from typing import Any

from pytest_evalmix.formats.presets.common import Converted, finish, place, split


def inspect(record: dict[str, Any], position: int, skip: frozenset[str]) -> Converted:
    """Inspect AI samples, as `json_dataset` and `csv_dataset` read them."""
    ours, theirs = split(record)
    placed: dict[str, Any] = {}
    if "id" not in skip:
        given = theirs.pop("id", None)
        if given is None or given == "":
            placed["id"] = str(position)  # Inspect's auto_id: the 1-based position
        elif isinstance(given, int) and not isinstance(given, bool):
            placed["id"] = str(given)
        else:
            placed["id"] = given
    place(placed, theirs, "input", "input", skip)
    place(placed, theirs, "gold", "target", skip)
    return Converted(finish(ours, placed, theirs))
