"""The ``coverage`` check (`checks/outcomes/coverage.py`), called directly: cells by origin,
outcomes and failure modes by cell (from a results file and from the session), and the cells
named below the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalsets import MANIFEST, context, make_set, results_for

from conftest import record
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.outcomes import coverage
from pytest_evalmix.results.outcomes import Outcome

POLICY = {"coverage": {"axes": {"feature": ["billing", "refunds"], "persona": ["angry", "terse"]}}}


def at(rid: str, origin: str, feature: str, persona: str) -> dict[str, Any]:
    return record(rid, origin, grid={"feature": feature, "persona": persona})


def grid_set() -> list[dict[str, Any]]:
    return [
        *(at(f"ba-{i}", "production", "billing", "angry") for i in range(4)),
        *(at(f"bt-{i}", "production", "billing", "terse") for i in range(4)),
        *(at(f"ra-{i}", "adversarial", "refunds", "angry") for i in range(4)),
        *(at(f"rt-{i}", "synthetic", "refunds", "terse") for i in range(4)),
        record("loose-0"),
    ]


def cell(data: dict[str, Any], feature: str, persona: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for c in data["cells"] if c["cell"] == {"feature": feature, "persona": persona}
    )
    return found


def test_cells_by_origin_and_not_placed(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, grid_set(), policy=POLICY)
    result = coverage.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.status == "passed"
    data = result.data
    assert (data["examples"], data["placed"], data["not_placed"], data["outcomes"]) == (
        17,
        16,
        1,
        0,
    )
    assert [c["cell"] for c in data["cells"]] == [
        {"feature": "billing", "persona": "angry"},
        {"feature": "billing", "persona": "terse"},
        {"feature": "refunds", "persona": "angry"},
        {"feature": "refunds", "persona": "terse"},
    ]
    refunds_terse = cell(data, "refunds", "terse")
    assert refunds_terse["counts"] == {"production": 0, "synthetic": 4, "adversarial": 0}
    assert refunds_terse["synthetic_only"] is True and refunds_terse["failing"] is False
    assert cell(data, "refunds", "angry")["synthetic_only"] is False


def test_outcomes_and_failure_modes_by_cell(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, grid_set(), policy=POLICY, results=True)
    rows: list[tuple[str, bool, str | None]] = [(f"ba-{i}", True, None) for i in range(4)]
    rows += [(f"bt-{i}", i == 0, "wrong queue") for i in range(4)]
    rows += [("ra-0", False, None)]
    results = results_for(evalset, rows)
    # The session overrides the file id by id.
    session = {"ba-3": Outcome("ba-3", False, "timeout", path="test_x.py", line=3)}
    ctx = context(tmp_path, outcomes={MANIFEST: session})
    result = coverage.check(evalset, evalset.policy, ctx, Inputs(results=results))
    data = result.data
    assert data["outcomes"] == 9
    billing_angry = cell(data, "billing", "angry")
    assert (billing_angry["results"], billing_angry["passed"]) == (4, 3)
    assert billing_angry["failure_modes"] == {"timeout": 1}
    billing_terse = cell(data, "billing", "terse")
    assert (billing_terse["results"], billing_terse["passed"], billing_terse["rate"]) == (
        4,
        1,
        0.25,
    )
    assert billing_terse["failure_modes"] == {"wrong queue": 3}
    refunds_angry = cell(data, "refunds", "angry")
    assert (refunds_angry["results"], refunds_angry["unnamed_failures"]) == (1, 1)
    assert cell(data, "refunds", "terse")["rate"] is None
    # Nine outcomes over three cells: too few to name any cell below the rest.
    assert data["compared"] == 3 and not any(c["below_rest"] for c in data["cells"])


def test_a_missing_cell_fails_at_the_coverage_line(tmp_path: Path) -> None:
    records = [r for r in grid_set() if not r["id"].startswith("rt-")]
    evalset = make_set(tmp_path, records, policy=POLICY)
    result = coverage.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert [(f.path, f.id, f.check) for f in result.findings] == [(MANIFEST, None, "coverage")]
    assert result.findings[0].message == (
        "cell feature=refunds,persona=terse holds 0 examples, fewer than coverage.min_per_cell (1)"
    )
    assert cell(result.data, "refunds", "terse")["failing"] is True


def test_without_axes_it_skips(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, grid_set())
    result = coverage.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.skipped == "policy coverage.axes declares no grid"
