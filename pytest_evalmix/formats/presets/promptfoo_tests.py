"""promptfoo tests: a YAML list, a config's `tests:`, or its CSV (docs/formats.md)."""

from __future__ import annotations

import re
from typing import Any

from pytest_evalmix.formats.presets.common import Converted, finish, place, split


def promptfoo(record: dict[str, Any], position: int, skip: frozenset[str]) -> Converted:
    """promptfoo tests: a YAML test, or a row of its CSV (``__expected``, ``__description``)."""
    ours, theirs = split(record)
    placed: dict[str, Any] = {}
    csv_row = any(key.startswith("__") for key in theirs) or not (_PROMPTFOO_TEST & theirs.keys())
    if csv_row:
        expected = sorted(
            (key for key in theirs if _EXPECTED.fullmatch(key)),
            key=lambda key: int(key[len("__expected") :] or 0),
        )
        golds = [theirs.pop(key) for key in expected]
        if golds and "gold" not in skip:
            placed["gold"] = golds[0] if len(golds) == 1 else golds
        description = theirs.pop("__description", None)
        variables = {key: theirs.pop(key) for key in list(theirs) if not key.startswith("__")}
        if "input" not in skip and variables:
            placed["input"] = variables
        elif variables:
            theirs["vars"] = variables
    else:
        description = theirs.pop("description", None)
        place(placed, theirs, "input", "vars", skip)
        place(placed, theirs, "gold", "assert", skip)
    if "id" not in skip:
        placed["id"] = (
            description if isinstance(description, str) and description else f"pf-{position}"
        )
    elif description is not None:
        theirs["description"] = description
    return Converted(finish(ours, placed, theirs))


# promptfoo's CSV: __expected, or __expected1, __expected2, ... for several assertions
_EXPECTED = re.compile(r"__expected[0-9]*")
_PROMPTFOO_TEST = frozenset({"vars", "assert", "description", "options", "metadata", "threshold"})
