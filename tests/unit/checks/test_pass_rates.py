"""The ``pass-rates`` check (`checks/outcomes/pass_rates.py`), called directly, with the results
handed in as data."""

from __future__ import annotations

from pathlib import Path

from evalsets import MANIFEST, RESULTS, context, forty, outcomes, results_for

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.outcomes import pass_rates
from pytest_evalmix.results.outcomes import Outcome


def test_agreeing_rates_pass_with_their_intervals(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    results = results_for(evalset, outcomes("prod", 19, 20) + outcomes("syn", 18, 20))
    result = pass_rates.check(evalset, evalset.policy, context(tmp_path), Inputs(results=results))
    assert result.status == "passed"
    assert result.data["origins"]["production"]["passed"] == 19
    assert result.data["origins"]["synthetic"]["results"] == 20
    assert result.data["coverage"]["from_file"] == 40
    assert result.data["comparisons"][0]["judged"] is True


def test_a_significant_gap_fails_and_unknown_ids_are_findings(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    rows = outcomes("prod", 20, 20) + outcomes("syn", 10, 20, "wrong-queue")
    rows += [("ghost", True, None), ("prod-0", False, None)]
    results = results_for(evalset, rows)
    result = pass_rates.check(evalset, evalset.policy, context(tmp_path), Inputs(results=results))
    assert [(f.path, f.line, f.id, f.message) for f in result.findings] == [
        (RESULTS, 41, "ghost", "result for an id that is not in eval set support"),
        (RESULTS, 42, "prod-0", "a second result for this id; this one was not used"),
        (
            MANIFEST,
            1,
            None,
            "production passes 100.0% [83.9–100.0] (20/20), synthetic 50.0% [29.9–70.1] "
            "(10/20): a gap of 50.0 points, over max_gap (10), and significant (p = 0.0003 at "
            "alpha 0.05, two-proportion z-test). The synthetic part is not probing the same "
            "surface as the production part",
        ),
    ]
    assert result.findings[0].fix == (
        "fix the id, or drop the result of an example that was renamed or retired"
    )
    assert result.findings[2].fix == "pull fresh production traces, label them, and rebalance"
    # The first result of prod-0 counts, not the second.
    assert result.data["origins"]["production"]["passed"] == 20


def test_the_session_overrides_the_file_id_by_id(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    results = results_for(evalset, outcomes("prod", 20, 20) + outcomes("syn", 10, 20))
    session = {f"syn-{i}": Outcome(f"syn-{i}", True) for i in range(10, 20)}
    ctx = context(tmp_path, outcomes={evalset.manifest: session})
    result = pass_rates.check(evalset, evalset.policy, ctx, Inputs(results=results))
    assert result.status == "passed"
    assert result.data["origins"]["synthetic"]["passed"] == 20
    assert result.data["coverage"]["from_session"] == 10
    assert result.data["coverage"]["from_file"] == 30
    # The shared codes of the file were not changed by the session's outcomes.
    assert list(results.codes).count(1) == 30


def test_too_few_outcomes_skip_and_say_why(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    results = results_for(evalset, outcomes("prod", 20, 20) + outcomes("syn", 5, 19))
    result = pass_rates.check(evalset, evalset.policy, context(tmp_path), Inputs(results=results))
    assert result.findings == []
    assert result.skipped == (
        "synthetic has 19 outcomes, fewer than pass_rates.min_results (20): too few to tell a "
        "real gap from sampling noise"
    )


def test_no_outcomes_at_all_skip_naming_the_sources(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    missing = results_for(evalset, [])
    missing.found = False
    result = pass_rates.check(evalset, evalset.policy, context(tmp_path), Inputs(results=missing))
    assert result.skipped == (
        "no outcomes: no eval test parametrized with pytest_evalmix.examples() ran for this set, "
        "and the results file results/latest.jsonl does not exist"
    )
