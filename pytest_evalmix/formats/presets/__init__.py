"""Field maps and presets (docs/formats.md): other tools' record files, read as they wrote them.

A team that already keeps its goldens in DeepEval, Inspect, promptfoo or Label Studio should
not have to convert them to test them (docs/interop.md). Each preset is one function from a
record of that tool to ours, in the spirit of one reader per format: it knows which of the
tool's keys give the id, the input and the gold, and keeps every other key of the tool's under
``meta``, where nothing checks it.
So ``schema.extra`` stays ``forbid`` for the rest, and a typo in one of *our* fields (which a
team may add to the tool's file) is still caught.

A field map names, for our field, the key it is read from; both sides may be dotted. It may
extend a preset (``{preset: promptfoo, input: vars.ticket}``): its own entries win, and the
keys they consume are no longer the preset's to place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pytest_evalmix.formats.presets import label_studio
from pytest_evalmix.formats.presets.common import Converted, json_text, take
from pytest_evalmix.formats.presets.deepeval_goldens import deepeval
from pytest_evalmix.formats.presets.inspect_samples import inspect
from pytest_evalmix.formats.presets.promptfoo_tests import promptfoo
from pytest_evalmix.formats.readers import Raw, set_dotted
from pytest_evalmix.model.evalset import FieldMap

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


def apply(raw: dict[str, Any], fields: FieldMap, position: int) -> Converted:
    """One record of theirs as ours. ``position`` is its 1-based place among the file's records,
    which some tools use as the id of a record that has none."""
    if fields.preset == label_studio.NAME:  # it reads the map itself: `gold` names a from_name
        return label_studio.convert(raw, fields)
    record = dict(raw)
    for key in _JSON_TEXT.get(fields.preset or "", ()):
        if key in record:
            record[key] = json_text(record[key])
    explicit: dict[str, Any] = {}
    for ours, theirs in fields.mapping.items():
        found, value = take(record, theirs)
        if found and value is not None:  # a null is no value: the defaults may fill it
            explicit[ours] = value
    if fields.preset is None:
        converted = Converted(record)
    else:
        converted = PRESETS[fields.preset](record, position, frozenset(explicit))
    for ours, value in explicit.items():
        set_dotted(converted.record, ours, value)
    return converted


PRESETS: dict[str, Callable[[dict[str, Any], int, frozenset[str]], Converted]] = {
    "deepeval": deepeval,
    "inspect": inspect,
    "promptfoo": promptfoo,
}

# Every preset's name: those above, and Label Studio's, which reads a whole field map.
NAMES = (*PRESETS, label_studio.NAME)


def records(items: Iterator[tuple[int, Raw]], fields: FieldMap) -> Iterator[tuple[int, Raw]]:
    """A file's items as its records: the same, but for a Label Studio JSON_MIN export, whose
    rows of one task are one record."""
    if fields.preset == label_studio.NAME:
        return label_studio.gather(items, fields)
    return items
