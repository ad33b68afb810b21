"""The ``schema`` check (`checks/records/schema.py`), called directly: it reports what the loader
found, nothing more."""

from __future__ import annotations

from pathlib import Path

from evalsets import DATA, context, make_set

from conftest import healthy, record
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.records import schema
from pytest_evalmix.model.findings import Finding


def test_a_healthy_set_passes_and_counts_its_records(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy())
    result = schema.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.status == "passed"
    assert result.data == {"records": 20}


def test_bad_and_repeated_records_are_findings_at_their_lines(tmp_path: Path) -> None:
    records = healthy()
    del records[3]["gold"]
    records.append(record("prod-0"))  # line 21 repeats line 1's id
    evalset = make_set(tmp_path, records)
    result = schema.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.findings == [
        Finding(DATA, 4, "prod-3", "missing required field 'gold'", "add 'gold'", "schema"),
        Finding(
            DATA,
            21,
            "prod-0",
            f"duplicate id: also at {DATA}:1",
            "give each example its own id; this one was not loaded",
            "schema",
        ),
    ]
    assert result.data == {"records": 19}
