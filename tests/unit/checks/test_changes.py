"""The ``changes`` check (`checks/records/changes.py`) on its own: `checks.records.changes.judge`
over a loaded set and a comparison made by hand, with no git and no pytest run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_evalmix.checks.records.changes import judge
from pytest_evalmix.evalset.load import load
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.revisions.delta import Comparison, Digest


def record(rid: str, origin: str = "production", **label: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "input": f"ticket {rid}",
        "gold": "billing",
        "origin": origin,
        "label": {"source": "human", "by": "dana", "at": "2026-10-01", **label},
    }


def loaded(tmp_path: Path, records: list[dict[str, Any]]) -> EvalSet:
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "s.evalmix.yaml").write_text("evalmix: 1\ndata: [data.jsonl]\n")
    return load(tmp_path / "s.evalmix.yaml", tmp_path, {})


def digest(origin: str = "production", **fields: Any) -> Digest:
    values: dict[str, Any] = {
        "origin": origin,
        "record": 1,
        "gold": 1,
        "gold_text": '"billing"',
        "by": "dana",
        "at": "2026-10-01",
        "source": "human",
        "provisional": False,
    }
    values.update(fields)
    return Digest(**values)


def test_unsigned_relabel_is_a_finding_at_heads_line(tmp_path: Path) -> None:
    evalset = loaded(tmp_path, [record("a"), record("b")])
    comparison = Comparison(
        ref="main",
        commit="0" * 40,
        unchanged={"production": 1},
        head={"b": (1, digest(record=2, gold=2, gold_text='"refunds\\u0007"'))},
        base={"b": digest()},
    )
    result = judge(evalset, comparison)
    [finding] = result.findings
    assert (finding.path, finding.line, finding.id, finding.check) == (
        "data.jsonl",
        2,
        "b",
        "changes",
    )
    assert finding.message.startswith('gold changed since main, "billing" → "refunds\\u0007", ')
    assert result.data["golds_changed"] == 1
    assert result.data["changed"] == {"production": 1, "synthetic": 0, "adversarial": 0}
    assert result.data["before_total"] == 2


def test_signed_relabel_and_signed_backfill_pass(tmp_path: Path) -> None:
    evalset = loaded(tmp_path, [record("a"), record("b")])
    comparison = Comparison(
        ref="main",
        commit="0" * 40,
        head={
            "a": (0, digest(record=2, gold=2, by="sam")),
            "b": (1, digest(record=3, at="2026-11-20")),
        },
        base={"a": digest(), "b": digest(source="llm", provisional=True)},
    )
    result = judge(evalset, comparison)
    assert result.findings == []
    assert (result.data["golds_changed"], result.data["backfilled"]) == (1, 1)


def test_backfill_nobody_did(tmp_path: Path) -> None:
    evalset = loaded(tmp_path, [record("a")])
    comparison = Comparison(
        ref="main",
        commit="0" * 40,
        head={"a": (0, digest(record=2))},
        base={"a": digest(provisional=True)},
    )
    [finding] = judge(evalset, comparison).findings
    assert finding.message.startswith("label.provisional was removed since main")
    assert "a backfill nobody did" in finding.message


def test_added_removed_and_the_mix_before(tmp_path: Path) -> None:
    evalset = loaded(tmp_path, [record("a"), record("new", "synthetic")])
    comparison = Comparison(
        ref="main",
        commit="0" * 40,
        unchanged={"production": 1},
        head={"new": (1, digest("synthetic"))},
        base={"gone": digest("adversarial")},
    )
    data = judge(evalset, comparison).data
    assert data["added"] == {"production": 0, "synthetic": 1, "adversarial": 0}
    assert data["removed"] == {"production": 0, "synthetic": 0, "adversarial": 1}
    assert data["before"] == {"production": 1, "synthetic": 0, "adversarial": 1}
    assert data["after"] == {"production": 1, "synthetic": 1, "adversarial": 0}


def test_new_and_unreadable_sets(tmp_path: Path) -> None:
    evalset = loaded(tmp_path, [record("a")])
    new = judge(evalset, Comparison(ref="main", commit="0" * 40, state="new"))
    assert new.status == "passed"
    assert new.data["added"]["production"] == 1
    unreadable = Comparison(ref="main", commit="0" * 40, state="unreadable", reason="s:1: bad")
    result = judge(evalset, unreadable)
    assert result.status == "skipped"
    assert "s:1: bad" in (result.skipped or "")
