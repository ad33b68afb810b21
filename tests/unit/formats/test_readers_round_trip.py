"""Property tests (hypothesis, derandomized): every reader gets back what was written, for
JSONL, JSON, YAML, CSV and Parquet files and for a preset's own file (docs/formats.md)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_evalmix.evalset.load import load
from pytest_evalmix.evalset.sources import examples
from pytest_evalmix.model.records import Example

SETTINGS = settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Text a CSV cell holds as it is: not blank, no NUL, no surrogate, and no ";" (a tags separator).
text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=";"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s.strip())


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(text, min_size=1, max_size=6, unique=True))
    out = []
    for rid in ids:
        data: dict[str, Any] = {
            "id": rid,
            "input": draw(text),
            "gold": draw(text),
            "origin": draw(st.sampled_from(["production", "adversarial"])),
            "label": {"source": "human", "by": draw(text), "at": "2026-10-01"},
        }
        if draw(st.booleans()):
            data["tags"] = draw(st.lists(text, min_size=1, max_size=2))
        out.append(data)
    return out


def write(root: Path, suffix: str, rows: list[dict[str, Any]]) -> Path:
    path = root / "data" / f"s.{suffix}"
    path.parent.mkdir(exist_ok=True)
    if suffix == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif suffix in ("json", "yaml"):
        # JSON is YAML, but PyYAML (YAML 1.1) does not join a "\\ud800\\udc00" escape pair:
        # the YAML file is written with its characters as they are.
        path.write_text(json.dumps(rows, indent=1, ensure_ascii=suffix == "json"), encoding="utf-8")
    elif suffix == "csv":
        columns = ["id", "input", "gold", "origin", "label.source", "label.by", "label.at", "tags"]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for r in rows:
            label = r["label"]
            writer.writerow(
                [
                    r["id"],
                    r["input"],
                    r["gold"],
                    r["origin"],
                    label["source"],
                    label["by"],
                    label["at"],
                    ";".join(r.get("tags", [])),
                ]
            )
        path.write_text(buffer.getvalue(), encoding="utf-8")
    elif suffix == "parquet":
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        pq.write_table(pa.Table.from_pylist([{"tags": [], **r} for r in rows]), path)
    elif suffix == "deepeval.json":
        goldens = [
            {
                "name": r["id"],
                "input": r["input"],
                "expected_output": r["gold"],
                "additional_metadata": {"origin": r["origin"], "by": r["label"]["by"]},
            }
            for r in rows
        ]
        path.write_text(json.dumps(goldens), encoding="utf-8")
    return path


def loaded(root: Path, path: Path, fields: str = "") -> list[dict[str, Any]]:
    entry = f"{{path: {path.relative_to(root).as_posix()}{fields}}}"
    (root / "s.evalmix.yaml").write_text(f"evalmix: 1\ndata: [{entry}]\n", encoding="utf-8")
    evalset = load(root / "s.evalmix.yaml", root, {})
    assert not evalset.findings, [f.render() for f in evalset.findings]
    return [example.model_dump(mode="json") for _, example in examples(evalset)]


@pytest.mark.parametrize("suffix", ["jsonl", "json", "yaml", "csv", "parquet"])
def test_every_reader_gets_back_what_was_written(suffix: str) -> None:
    @SETTINGS
    @given(records())
    def round_trip(rows: list[dict[str, Any]]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            got = loaded(root, write(root, suffix, rows))
        want = [Example.model_validate(r).model_dump(mode="json") for r in rows]
        assert got == want

    round_trip()


def test_a_deepeval_preset_file_gets_back_what_was_written() -> None:
    fields = (
        ", fields: {preset: deepeval, origin: additional_metadata.origin, "
        "label.by: additional_metadata.by}, defaults: {label: {source: human, at: '2026-10-01'}}"
    )

    @SETTINGS
    @given(records())
    def round_trip(rows: list[dict[str, Any]]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            got = loaded(root, write(root, "deepeval.json", rows), fields)
        assert [(g["id"], g["input"], g["gold"], g["origin"]) for g in got] == [
            (r["id"], r["input"], r["gold"], r["origin"]) for r in rows
        ]

    round_trip()
