"""The ``failure-modes`` check (`checks/outcomes/failure_modes.py`), called directly, with the
results handed in as data."""

from __future__ import annotations

from pathlib import Path

from evalsets import DATA, context, forty, outcomes, results_for

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.outcomes import failure_modes
from pytest_evalmix.results.outcomes import Outcome


def test_a_mode_on_both_sides_passes(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    rows = outcomes("prod", 18, 20, "wrong-queue") + outcomes("syn", 17, 20, "wrong-queue")
    results = results_for(evalset, rows)
    result = failure_modes.check(evalset, evalset.policy, context(tmp_path), Inputs(results))
    assert result.status == "passed"
    assert result.data["modes"]["production"] == {"wrong-queue": 2}
    assert result.data["modes"]["synthetic"] == {"wrong-queue": 3}


def test_a_one_sided_mode_points_at_its_first_record(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    rows = outcomes("prod", 20, 20) + outcomes("syn", 13, 20, "invented-refund")
    rows[25] = ("syn-5", False, None)  # a failure nobody named is counted, never compared
    results = results_for(evalset, rows)
    result = failure_modes.check(evalset, evalset.policy, context(tmp_path), Inputs(results))
    assert [(f.path, f.line, f.id, f.message, f.fix) for f in result.findings] == [
        (
            DATA,
            34,  # syn-13, the first synthetic record that failed this way
            "syn-13",
            "failure mode 'invented-refund' occurs in 7 synthetic examples (syn-13, syn-14, "
            "syn-15, syn-16, syn-17 and 2 more) and in none of the 20 production examples with "
            "an outcome: the synthesizer is generating inputs production never sees",
            "pull fresh production traces, label them, and rebalance",
        )
    ]
    assert result.data["unnamed"]["synthetic"] == 1
    assert result.data["comparisons"][0]["one_sided"] == [
        {"mode": "invented-refund", "only_in": "synthetic", "count": 7}
    ]


def test_session_failures_bring_their_own_modes(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    results = results_for(evalset, outcomes("prod", 20, 20) + outcomes("syn", 20, 20))
    session = {"prod-3": Outcome("prod-3", False, "KeyError")}
    ctx = context(tmp_path, outcomes={evalset.manifest: session})
    result = failure_modes.check(evalset, evalset.policy, ctx, Inputs(results))
    assert [(f.line, f.id) for f in result.findings] == [(4, "prod-3")]
    assert "'KeyError' occurs in 1 production example (prod-3)" in result.findings[0].message
    assert "synthetic coverage is missing the cells that break" in result.findings[0].message


def test_no_outcomes_skip(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    result = failure_modes.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.findings == []
    assert result.skipped is not None and result.skipped.startswith("no outcomes: ")
