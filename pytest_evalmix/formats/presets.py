"""Field maps and presets (docs/formats.md): other tools' record files, read as they wrote them.

A team that already keeps its goldens in DeepEval, Inspect or promptfoo should not have to
convert them to test them. Each preset is one function from a record of that tool to ours, in
the spirit of one reader per format: it knows which of the tool's keys give the id, the input
and the gold, and keeps every other key of the tool's under ``meta``, where nothing checks it.
So ``schema.extra`` stays ``forbid`` for the rest, and a typo in one of *our* fields (which a
team may add to the tool's file) is still caught.

A field map names, for our field, the key it is read from; both sides may be dotted. It may
extend a preset (``{preset: promptfoo, input: vars.ticket}``): its own entries win, and the
keys they consume are no longer the preset's to place.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_evalmix.formats.readers import set_dotted
from pytest_evalmix.model.evalset import FieldMap

# Our own fields: read as ours under any preset, so a team can add them to another tool's file.
OURS = frozenset({"origin", "label", "synthetic", "review", "tags", "grid", "meta"})
TARGETS = ("id", "input", "gold")

# What DeepEval's synthesizer leaves in a golden's additional_metadata.
SYNTH_MARKS = ("evolutions", "synthetic_input_quality")
# The keys `Synthesizer.save_as` writes, and no others: it has no `name` key at all (an
# `EvaluationDataset.save_as` golden always has one, null or not) and keeps no metadata, so this
# shape is the synthesizer's own mark on the file it writes.
SYNTHESIZER_SAVE_AS = frozenset(
    {"input", "actual_output", "expected_output", "context", "source_file"}
)
DEEPEVAL_SYNTHESIZER = "deepeval-synthesizer"
SYNTH_DEFAULTS: dict[str, Any] = {
    "origin": "synthetic",
    "synthetic": {"generator": DEEPEVAL_SYNTHESIZER, "method": "evolution"},
    "label": {"source": "llm", "by": DEEPEVAL_SYNTHESIZER},
}

# Columns that a tool's CSV holds as JSON text; read back, they are the values they were (so a
# field map can reach into them: origin: additional_metadata.origin).
_JSON_TEXT = {
    "deepeval": (
        "additional_metadata",
        "turns",
        "custom_column_key_values",
        "tools_called",
        "expected_tools",
    ),
    "inspect": ("metadata",),
}


@dataclass
class Converted:
    """A record in our shape, and the values a preset proposes when nobody says otherwise."""

    record: dict[str, Any]
    fallback: dict[str, Any] = field(default_factory=dict)


def _take(record: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    """Remove ``a.b.c`` from ``record`` (copying the mappings on the way, which may be shared
    with the reader's data) and return it; an emptied parent is removed too."""
    parts = dotted.split(".")
    if len(parts) == 1:
        if dotted in record:
            return True, record.pop(dotted)
        return False, None
    head = record.get(parts[0])
    if not isinstance(head, dict):
        return False, None
    copy = dict(head)
    found, value = _take(copy, ".".join(parts[1:]))
    if found:
        if copy:
            record[parts[0]] = copy
        else:
            del record[parts[0]]
    return found, value


def apply(raw: dict[str, Any], fields: FieldMap, position: int) -> Converted:
    """One record of theirs as ours. ``position`` is its 1-based place among the file's records,
    which some tools use as the id of a record that has none."""
    record = dict(raw)
    for key in _JSON_TEXT.get(fields.preset or "", ()):
        if key in record:
            record[key] = _json_text(record[key])
    explicit: dict[str, Any] = {}
    for ours, theirs in fields.mapping.items():
        found, value = _take(record, theirs)
        if found and value is not None:  # a null is no value: the defaults may fill it
            explicit[ours] = value
    if fields.preset is None:
        converted = Converted(record)
    else:
        converted = PRESETS[fields.preset](record, position, frozenset(explicit))
    for ours, value in explicit.items():
        set_dotted(converted.record, ours, value)
    return converted


def _split(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our own fields, and everything else (the tool's keys, for ``meta``)."""
    ours = {key: value for key, value in record.items() if key in OURS}
    theirs = {key: value for key, value in record.items() if key not in OURS}
    return ours, theirs


def _finish(ours: dict[str, Any], placed: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Our record: the placed fields, our own fields, and the tool's other keys under ``meta``.

    Null-valued keys of the tool's carry nothing (DeepEval writes a dozen on every golden), so
    they are left out of ``meta``.
    """
    record = {**placed, **ours}
    extra = {key: value for key, value in theirs.items() if value is not None}
    if extra:
        meta = ours.get("meta")
        record["meta"] = {**extra, **meta} if isinstance(meta, dict) else extra
    return record


def _place(
    placed: dict[str, Any],
    theirs: dict[str, Any],
    ours: str,
    key: str,
    skip: frozenset[str],
) -> None:
    """Move their ``key`` to our field ``ours``, unless the field map gives that field."""
    if ours not in skip and key in theirs:
        placed[ours] = theirs.pop(key)


def content_id(prefix: str, value: Any) -> str:
    """A stable id from content: the first 10 hex digits of the SHA-256 of its canonical JSON,
    so it does not change when rows move, and two files with the same input agree."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"{prefix}{hashlib.sha256(canonical.encode('utf-8')).hexdigest()[:10]}"


def _json_text(value: Any) -> Any:
    """A CSV cell that holds JSON text, as the value it was; anything else as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _synthesizer_file(shape: frozenset[str]) -> bool:
    """Whether a golden has the shape `Synthesizer.save_as` gives it: its five keys in JSON;
    in CSV, where empty cells are absent, no more than those and a context or source file (so
    a hand-written file of inputs and expected outputs alone is not taken for one)."""
    if shape == SYNTHESIZER_SAVE_AS:
        return True
    return (
        shape <= SYNTHESIZER_SAVE_AS
        and "actual_output" not in shape
        and bool(shape & {"context", "source_file"})
    )


def deepeval(record: dict[str, Any], position: int, skip: frozenset[str]) -> Converted:
    """DeepEval `Golden` and `ConversationalGolden`, as its `save_as` writes them."""
    ours, theirs = _split(record)
    shape = frozenset(theirs)
    placed: dict[str, Any] = {}
    conversational = "input" not in theirs and "scenario" in theirs
    _place(placed, theirs, "input", "scenario" if conversational else "input", skip)
    if "gold" not in skip:
        key = "expected_output" if "expected_output" in theirs else "expected_outcome"
        if key in theirs:
            placed["gold"] = theirs.pop(key)
    if "id" not in skip:
        name = theirs.pop("name", None)
        if isinstance(name, str) and name:
            placed["id"] = name
        else:
            placed["id"] = content_id("deepeval-", placed.get("input"))
            if name is not None and name != "":
                theirs["name"] = name  # not a name DeepEval would write: kept, not lost
    metadata = theirs.get("additional_metadata")
    marked = isinstance(metadata, dict) and any(mark in metadata for mark in SYNTH_MARKS)
    if marked or _synthesizer_file(shape):
        return Converted(_finish(ours, placed, theirs), dict(SYNTH_DEFAULTS))
    return Converted(_finish(ours, placed, theirs))


def inspect(record: dict[str, Any], position: int, skip: frozenset[str]) -> Converted:
    """Inspect AI samples, as `json_dataset` and `csv_dataset` read them."""
    ours, theirs = _split(record)
    placed: dict[str, Any] = {}
    if "id" not in skip:
        given = theirs.pop("id", None)
        if given is None or given == "":
            placed["id"] = str(position)  # Inspect's auto_id: the 1-based position
        elif isinstance(given, int) and not isinstance(given, bool):
            placed["id"] = str(given)
        else:
            placed["id"] = given
    _place(placed, theirs, "input", "input", skip)
    _place(placed, theirs, "gold", "target", skip)
    return Converted(_finish(ours, placed, theirs))


def promptfoo(record: dict[str, Any], position: int, skip: frozenset[str]) -> Converted:
    """promptfoo tests: a YAML test, or a row of its CSV (``__expected``, ``__description``)."""
    ours, theirs = _split(record)
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
        _place(placed, theirs, "input", "vars", skip)
        _place(placed, theirs, "gold", "assert", skip)
    if "id" not in skip:
        placed["id"] = (
            description if isinstance(description, str) and description else f"pf-{position}"
        )
    elif description is not None:
        theirs["description"] = description
    return Converted(_finish(ours, placed, theirs))


# promptfoo's CSV: __expected, or __expected1, __expected2, ... for several assertions
_EXPECTED = re.compile(r"__expected[0-9]*")
_PROMPTFOO_TEST = frozenset({"vars", "assert", "description", "options", "metadata", "threshold"})

PRESETS: dict[str, Callable[[dict[str, Any], int, frozenset[str]], Converted]] = {
    "deepeval": deepeval,
    "inspect": inspect,
    "promptfoo": promptfoo,
}
