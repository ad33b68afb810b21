"""DeepEval `Golden`s and `ConversationalGolden`s, as `save_as` writes them (docs/formats.md).

A golden that DeepEval's synthesizer wrote carries its marks, and is proposed as synthetic with
an llm gold, so `gold-provenance` catches it with nothing declared by hand.
"""

from __future__ import annotations

from typing import Any

from pytest_evalmix.formats.presets.common import Converted, content_id, finish, place, split

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
    ours, theirs = split(record)
    shape = frozenset(theirs)
    placed: dict[str, Any] = {}
    conversational = "input" not in theirs and "scenario" in theirs
    place(placed, theirs, "input", "scenario" if conversational else "input", skip)
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
        return Converted(finish(ours, placed, theirs), dict(SYNTH_DEFAULTS))
    return Converted(finish(ours, placed, theirs))
