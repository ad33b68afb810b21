"""The columnar Arrow path (`formats.arrow_scan`): what it keeps per row must be what the model
path keeps for the same records, whatever types the writer chose (docs/performance.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import record
from pytest_evalmix.evalset.load import load
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.normalise import input_key

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

INPUTS = [
    "Plain ticket text",
    "UPPER and lower",
    "two  spaces inside",
    " a space before",
    "a space after ",
    "tab\tinside",
    "line\nbreak",
    "Ünïcödé ｆｕｌｌｗｉｄｔｈ",
    "ß straße",
    "x",
    "~!@#$%^&*()",
]


def _records() -> list[dict[str, Any]]:
    rows = []
    for i, text in enumerate(INPUTS):
        origin = ("production", "synthetic", "adversarial")[i % 3]
        rows.append(record(f"r{i}", origin, input=text))
    return rows


def _load(root: Path, name: str) -> EvalSet:
    (root / "set.evalmix.yaml").write_text(
        json.dumps({"evalmix": 1, "name": "set", "data": [f"data/{name}"]}), encoding="utf-8"
    )
    return load(root / "set.evalmix.yaml", root, {})


def _as_json(root: Path, rows: list[dict[str, Any]]) -> EvalSet:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "set.json").write_text(json.dumps(rows), encoding="utf-8")
    return _load(root, "set.json")


def _as_jsonl(root: Path, rows: list[dict[str, Any]]) -> EvalSet:
    (root / "data").mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (root / "data" / "set.jsonl").write_text(text, encoding="utf-8")
    return _load(root, "set.jsonl")


def _as_parquet(root: Path, table: Any) -> EvalSet:
    (root / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data" / "set.parquet")
    return _load(root, "set.parquet")


def _timestamps(table: Any, unit: str) -> Any:
    label = table.column("label").combine_chunks()
    at = pa.array(
        [
            dt.datetime.fromisoformat(day)
            for day in pa.compute.struct_field(label, "at").to_pylist()
        ],
        type=pa.timestamp(unit),
    )
    fields = [label.type.field(i).name for i in range(label.type.num_fields)]
    children = [at if name == "at" else pa.compute.struct_field(label, name) for name in fields]
    return table.set_column(
        table.schema.get_field_index("label"), "label", pa.StructArray.from_arrays(children, fields)
    )


def _dictionary(table: Any) -> Any:
    at = table.schema.get_field_index("origin")
    return table.set_column(at, "origin", table.column("origin").dictionary_encode())


def _large_strings(table: Any) -> Any:
    for name in ("id", "input"):
        at = table.schema.get_field_index(name)
        table = table.set_column(at, name, table.column(name).cast(pa.large_string()))
    return table


SHAPES = {
    "inferred": lambda table: table,
    "timestamp-s": lambda table: _timestamps(table, "s"),
    "timestamp-ns": lambda table: _timestamps(table, "ns"),
    "dictionary-origin": _dictionary,
    "large-strings": _large_strings,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("child", [False, True], ids=["here", "child"])
def test_a_parquet_sets_input_keys_are_those_of_the_same_records_read_by_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, child: bool
) -> None:
    if child:
        monkeypatch.setenv("PYTEST_EVALMIX_ARROW_CHILD_BYTES", "0")
    rows = _records()
    as_python = _as_json(tmp_path / "json", rows)
    as_jsonl = _as_jsonl(tmp_path / "jsonl", rows)
    as_arrow = _as_parquet(tmp_path / "parquet", SHAPES[shape](pa.Table.from_pylist(rows)))
    assert as_arrow.findings == []
    assert as_arrow.ids == as_python.ids
    assert list(as_arrow.input_keys) == list(as_jsonl.input_keys)
    assert list(as_arrow.input_keys) == list(as_python.input_keys)
    assert list(as_arrow.input_keys) == [input_key(text) for text in INPUTS]
    assert list(as_arrow.origins) == list(as_python.origins)


def test_a_row_that_fails_a_column_test_keeps_the_keys_of_the_rest_in_row_order(
    tmp_path: Path,
) -> None:
    rows = _records()
    rows[2]["origin"] = "prod"
    as_arrow = _as_parquet(tmp_path, pa.Table.from_pylist(rows))
    assert [finding.line for finding in as_arrow.findings] == [3]
    kept = [text for i, text in enumerate(INPUTS) if i != 2]
    assert list(as_arrow.input_keys) == [input_key(text) for text in kept]
    assert len(as_arrow.input_keys) == len(as_arrow.ids)


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_a_timestamp_label_date_with_a_time_of_day_is_a_finding_at_its_row(
    tmp_path: Path, unit: str
) -> None:
    rows = _records()
    table = _timestamps(pa.Table.from_pylist(rows), unit)
    label = table.column("label").combine_chunks()
    at = pa.compute.struct_field(label, "at").to_pylist()
    at[4] = at[4] + dt.timedelta(hours=3)
    fields = [label.type.field(i).name for i in range(label.type.num_fields)]
    children = [
        pa.array(at, type=pa.timestamp(unit))
        if name == "at"
        else pa.compute.struct_field(label, name)
        for name in fields
    ]
    table = table.set_column(
        table.schema.get_field_index("label"), "label", pa.StructArray.from_arrays(children, fields)
    )
    as_arrow = _as_parquet(tmp_path, table)
    assert [(finding.line, finding.id) for finding in as_arrow.findings] == [(5, "r4")]
    assert "label.at" in as_arrow.findings[0].message
    assert len(as_arrow.ids) == len(INPUTS) - 1
