"""The ``provisional`` check (`checks/labels/provisional.py`), called directly: owners, deadlines,
and what comes due."""

from __future__ import annotations

from pathlib import Path

from evalsets import DATA, context, make_set

from conftest import healthy, record
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.labels import provisional


def provisional_record(rid: str, **promise: str) -> dict[str, object]:
    rec = record(rid, source="llm")
    rec["label"]["by"] = "claude-opus-4-7"
    rec["label"]["provisional"] = promise
    return rec


def test_a_set_without_provisional_labels_passes(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy())
    result = provisional.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.status == "passed"
    assert result.data == {"provisional": 0, "due": []}


def test_an_ownerless_overdue_label_fails_and_one_due_soon_warns(tmp_path: Path) -> None:
    records = healthy()
    records[0] = provisional_record(
        "prod-0", owner="priya", backfill_by="2026-12-01", created="2026-11-01"
    )
    records[1] = provisional_record("prod-1", backfill_by="2026-11-20", created="2026-11-01")
    evalset = make_set(tmp_path, records)
    result = provisional.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert [(f.path, f.line, f.id, f.message, f.fix) for f in result.findings] == [
        (
            DATA,
            2,
            "prod-1",
            "provisional label has no owner",
            "name the person accountable for the hand label in label.provisional.owner",
        ),
        (
            DATA,
            2,
            "prod-1",
            "provisional label overdue by 5 days: backfill_by 2026-11-20 has passed (owner: none)",
            "its owner: hand-label it now, or commit to a new backfill_by",
        ),
    ]
    assert [(w.line, w.message, w.fix) for w in result.warnings] == [
        (
            1,
            "provisional label due in 6 days: backfill_by 2026-12-01 (owner: priya)",
            "priya: hand-label it by 2026-12-01",
        )
    ]
    assert [(d["id"], d["owner"], d["days_left"]) for d in result.data["due"]] == [
        ("prod-0", "priya", 6),
        ("prod-1", None, -5),
    ]


def test_a_promise_longer_than_max_age_fails(tmp_path: Path) -> None:
    records = healthy()
    records[2] = provisional_record(
        "prod-2", owner="sam", backfill_by="2027-09-01", created="2026-11-01"
    )
    evalset = make_set(tmp_path, records, policy={"provisional": {"max_age_days": 90}})
    result = provisional.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert [(f.line, f.message) for f in result.findings] == [
        (
            3,
            "backfill_by 2027-09-01 is 304 days after the label was created (2026-11-01), more "
            "than max_age_days (90)",
        )
    ]
