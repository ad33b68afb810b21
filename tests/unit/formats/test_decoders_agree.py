"""Property tests (hypothesis, derandomized): the fast JSONL path (`formats.fastload` with the
validators of `formats.validators` and the msgspec decoder of `formats.fastdecode`) and the
pydantic model accept and reject the same records with the same values (docs/performance.md).

Each example is a JSONL file of records drawn around a valid record: ids, inputs, golds, origins
and labels that are right, wrong, empty, blank, NaN, deep or of the wrong type. The file is
loaded by the real loader (which takes the fast path for a plain JSONL file), and each line is
also validated alone by `Example.model_validate_json`; the rows, their values and the number of
schema findings must agree.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_evalmix.evalset.load import load
from pytest_evalmix.evalset.sources import examples
from pytest_evalmix.model.records import Example

SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["", " ", "\t", "billing", "é", "\ud800"]),
)
value = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
dates = st.sampled_from(["2026-10-01", "2026-13-01", "2026-10-01T10:00:00", "", "yesterday", 7])
label = st.fixed_dictionaries(
    {"source": st.sampled_from(["human", "llm", "programmatic", "robot", 3])},
    optional={
        "by": st.sampled_from(["dana", "", None, 5]),
        "at": dates,
        "provisional": st.just({"model": "m", "at": "2026-10-01"}),
        "extra": st.just(1),
    },
)


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": draw(st.sampled_from(["a", "b", "c", "d", "", " x "]) | st.integers(0, 3)),
        "input": draw(st.sampled_from(["ticket", "", "  "]) | value),
        "gold": draw(st.sampled_from(["billing", 1, None]) | value),
        "origin": draw(st.sampled_from(["production", "synthetic", "adversarial", "prod"])),
        "label": draw(label | st.sampled_from([None, "human", {}])),
    }
    for key in draw(
        st.lists(st.sampled_from(["id", "input", "gold", "origin", "label"]), max_size=1)
    ):
        del data[key]
    if draw(st.booleans()):
        data[draw(st.sampled_from(["tags", "meta", "grid", "orgin"]))] = draw(value)
    if data.get("origin") == "synthetic" and draw(st.booleans()):
        data["synthetic"] = {"generator": "g", "method": "paraphrase"}
    return data


def line_of(data: dict[str, Any]) -> str:
    # Python writes NaN and Infinity as the bare words, as a careless tool would.
    return json.dumps(data, allow_nan=True)


def model_rows(lines: list[str]) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """What the model alone makes of the lines: accepted rows (first of each id), and errors."""
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    errors = 0
    for number, text in enumerate(lines, 1):
        try:
            example = Example.model_validate_json(text.encode("utf-8", "surrogatepass"))
        except ValueError:
            errors += 1
            continue
        if not example.input or (isinstance(example.input, str) and example.input.isspace()):
            errors += 1  # the validators say so too; kept explicit for the comparison
            continue
        if example.id in seen:
            errors += 1
            continue
        seen.add(example.id)
        rows.append((number, example.model_dump(mode="python")))
    return rows, errors


@SETTINGS
@given(st.lists(record(), min_size=1, max_size=8))
def test_the_fast_path_and_the_model_accept_the_same_records(records: list[dict[str, Any]]) -> None:
    lines = [line_of(r) for r in records]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "data" / "s.jsonl").write_bytes(
            "".join(text + "\n" for text in lines).encode("utf-8", "surrogatepass")
        )
        (root / "s.evalmix.yaml").write_text("evalmix: 1\ndata: [data/s.jsonl]\n")
        evalset = load(root / "s.evalmix.yaml", root, {})
        fast = [
            (evalset.lines[row], example.model_dump(mode="python"))
            for row, example in examples(evalset)
        ]
    expected, errors = model_rows(lines)
    assert [line for line, _ in fast] == [line for line, _ in expected]
    for (_, got), (_, want) in zip(fast, expected, strict=True):
        assert _same(got, want), (got, want)
    assert len(evalset.findings) == errors, [f.render() for f in evalset.findings]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
