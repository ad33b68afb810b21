"""The ``pass-rates`` check: a gap fails only when it is over max_gap *and* significant.

Outcomes come from the manifest's results file and from the session's evals, with and without
pytest-xdist; the verdict is the same either way.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from conftest import WriteSet, record, run
from pytest_evalmix.checks.outcomes.pass_rates import compare

RESULTS_MANIFEST = "evalmix: 1\ndata: [data/support.jsonl]\nresults: results/latest.jsonl\n"


def evalset(
    production: int = 40, synthetic: int = 20, adversarial: int = 20
) -> list[dict[str, Any]]:
    return (
        [record(f"prod-{i}", "production") for i in range(production)]
        + [record(f"syn-{i}", "synthetic") for i in range(synthetic)]
        + [record(f"adv-{i}", "adversarial") for i in range(adversarial)]
    )


def outcomes(prefix: str, passed: int, total: int, mode: str | None = None) -> list[dict[str, Any]]:
    """Results for ``prefix-0`` .. ``prefix-(total-1)``, the first ``passed`` of them passing."""
    return [
        {"id": f"{prefix}-{i}", "passed": i < passed, "failure_mode": None if i < passed else mode}
        for i in range(total)
    ]


def write_results(project: pytest.Pytester, results: list[dict[str, Any]], extra: str = "") -> None:
    path = project.path / "results" / "latest.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in results) + extra, encoding="utf-8")


def lines(result: pytest.RunResult, patterns: list[str]) -> None:
    """fnmatch_lines, with ``[``, ``]`` and ``?`` taken literally: pass rates print intervals
    such as ``[64.0–94.8]``, which fnmatch would read as a character class. ``*`` still works."""
    result.stdout.fnmatch_lines([re.sub(r"([\[\]?])", r"[\1]", p) for p in patterns])


def headline(result: pytest.RunResult, check: str = "pass-rates") -> str:
    """The check's line of the end-of-run summary: ``passed``, ``FAILED (...)`` or ``skipped: ...``."""
    for line in result.stdout.lines:
        match = re.match(rf"^  {re.escape(check)}\s+(.*)$", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no {check} line in:\n{result.stdout.str()}")


def test_significant_gap_over_max_gap_fails(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    write_results(project, outcomes("prod", 19, 20) + outcomes("syn", 10, 20))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert headline(result) == "FAILED (1 finding)"
    lines(
        result,
        [
            "support.evalmix.yaml:1: -: production passes 95.0% [76.4–99.1] (19/20), synthetic"
            " 50.0% [29.9–70.1] (10/20): a gap of 45.0 points, over max_gap (10), and"
            " significant (p = 0.0014 at alpha 0.05, two-proportion z-test). The synthetic part is"
            " not probing the same surface as the production part — pull fresh production"
            " traces, label them, and rebalance",
        ],
    )
    lines(result, ["*production*40*50.0%*50%*20*95.0% [76.4–99.1]*"])
    assert "Traceback" not in result.stdout.str()


def test_fifteen_point_gap_on_twenty_per_subset_does_not_fail(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """85% against 70% on 20 each: over the ten-point max_gap, but well within what sampling
    noise alone produces (Fisher's exact test, p = 0.45). A bare threshold would fail it."""
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    write_results(project, outcomes("prod", 17, 20) + outcomes("syn", 14, 20))
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()
    assert headline(result) == "passed"
    lines(result, ["*production*85.0% [64.0–94.8]*", "*synthetic*70.0% [48.1–85.5]*"])


def test_significant_but_small_gap_passes(project: pytest.Pytester, write_set: WriteSet) -> None:
    """90% against 85% on 1,000 each is significant (p < 0.001) but only five points apart."""
    write_set(evalset(2000, 1000, 1000), manifest=RESULTS_MANIFEST)
    write_results(project, outcomes("prod", 900, 1000) + outcomes("syn", 850, 1000))
    result = run(project, "--evalmix")
    assert headline(result) == "passed"


def test_max_gap_and_alpha_come_from_the_policy(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(
        evalset(),
        manifest=RESULTS_MANIFEST + "policy:\n  pass_rates: {max_gap: 0.5}\n",
    )
    write_results(project, outcomes("prod", 19, 20) + outcomes("syn", 10, 20))
    assert headline(run(project, "--evalmix")) == "passed"
    (project.path / "support.evalmix.yaml").write_text(
        RESULTS_MANIFEST + "policy:\n  pass_rates: {alpha: 0.001}\n"
    )
    assert headline(run(project, "--evalmix")) == "passed"  # p = 0.0033 is not below 0.001


def test_compare_pairs_from_the_policy(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(
        evalset(),
        manifest=RESULTS_MANIFEST
        + "policy:\n  pass_rates: {compare: [[production, adversarial]]}\n",
    )
    write_results(
        project, outcomes("prod", 20, 20) + outcomes("adv", 8, 20) + outcomes("syn", 20, 20)
    )
    result = run(project, "--evalmix")
    assert headline(result) == "FAILED (1 finding)"
    lines(result, ["*production passes 100.0%*adversarial 40.0%*a gap of 60.0 points*"])


def test_too_few_outcomes_skips_with_reason(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    write_results(project, outcomes("prod", 20, 20) + outcomes("syn", 5, 19))
    result = run(project, "--evalmix", "-rs", *xdist)
    assert result.ret == 0
    reason = (
        "synthetic has 19 outcomes, fewer than pass_rates.min_results (20): too few to tell a real"
        " gap from sampling noise"
    )
    assert headline(result) == f"skipped: {reason}"
    lines(result, [f"SKIPPED [1] support.evalmix.yaml:1: {reason}"])
    # The rates are still shown, with their intervals.
    lines(result, ["*synthetic*20*19*26.3% [11.8–48.8]*"])


def test_no_outcomes_skips_with_reason(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(evalset())
    result = run(project, "--evalmix")
    assert result.ret == 0
    assert headline(result) == (
        "skipped: no outcomes: no eval test parametrized with pytest_evalmix.examples() ran for "
        "this set, and the manifest names no results: file"
    )
    lines(result, ["*production*40*50.0%*50%*0*-*"])


def test_missing_results_file_is_named_in_the_skip(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    result = run(project, "--evalmix")
    assert result.ret == 0
    assert headline(result).endswith("the results file results/latest.jsonl does not exist")


def test_result_for_unknown_id_is_a_finding(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    results = outcomes("prod", 20, 20) + outcomes("syn", 20, 20)
    results.insert(2, {"id": "prod-99x", "passed": True})
    write_results(
        project,
        results,
        extra='{"id": "syn-3", "passed": false}\n{"id": "syn-50", "pased": true}\n{"id": oops\n'
        '{"id": "syn-51", "passed": "true"}\n{"id": "syn-52", "passed": false, "score": 1e999}\n'
        '["syn-53", true]\n',
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert headline(result) == "FAILED (7 findings)"
    lines(
        result,
        [
            "results/latest.jsonl:3: prod-99x: result for an id that is not in eval set support"
            " (did you mean 'prod-9'?) — fix the id, or drop the result of an example that was"
            " renamed or retired",
            "results/latest.jsonl:42: syn-3: a second result for this id (the first is at line"
            " 25); this one was not used — keep one result per example*",
            "results/latest.jsonl:43: syn-50: missing required field 'passed'; unknown key"
            " 'pased' (did you mean 'passed'?) — write each result as*",
            "results/latest.jsonl:44: -: malformed JSON at column 8*",
            "results/latest.jsonl:45: syn-51: passed: input should be a valid boolean — write *",
            "results/latest.jsonl:46: syn-52: score: input should be a finite number — write *",
            "results/latest.jsonl:47: -: record is not an object (got a list) — write each result as one JSON object*",
        ],
    )


def test_session_outcomes_override_the_results_file(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """The file says every synthetic example failed; this session's evals say they all pass.
    The session is the fresher measurement and wins; the file still fills in the rest."""
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    write_results(project, outcomes("prod", 20, 20) + outcomes("syn", 0, 20))
    project.makepyfile(
        test_evals="""
        import pytest
        from pytest_evalmix import examples

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml", origin="synthetic"))
        def test_eval(example):
            pass
        """
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 0, result.stdout.str()
    assert headline(result) == "passed"
    lines(result, ["*synthetic*20*20*100.0% [83.9–100.0]*"])


EVALS = """
import pytest
from pytest_evalmix import examples


@pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
def test_eval(example, request, evalmix_failure_mode):
    if example.meta.get("miss"):
        request.applymarker(pytest.mark.xfail(reason="known miss", strict=False))
        evalmix_failure_mode("wrong-queue")
        assert False
"""


def with_misses(production: int, synthetic: int) -> list[dict[str, Any]]:
    """40/20/20, with the first ``production`` and ``synthetic`` examples missed by the evals."""
    records = evalset()
    for rec in records:
        number = int(rec["id"].rsplit("-", 1)[1])
        if (rec["origin"] == "production" and number < production) or (
            rec["origin"] == "synthetic" and number < synthetic
        ):
            rec["meta"] = {"miss": True}
    return records


@pytest.mark.parametrize(
    ("misses", "verdict"),
    [((2, 10), "FAILED (1 finding)"), ((6, 5), "passed")],
    ids=["gap", "no-gap"],
)
def test_session_evals_feed_pass_rates(
    project: pytest.Pytester,
    write_set: WriteSet,
    xdist: list[str],
    misses: tuple[int, int],
    verdict: str,
) -> None:
    """The evals run as tests in the same session, spread over workers under -n 2; the check is
    judged after all of them, with every outcome, and says the same either way."""
    write_set(with_misses(*misses))
    project.makepyfile(test_evals=EVALS)
    result = run(project, "--evalmix", "-rA", *xdist)
    assert headline(result) == verdict
    if verdict == "passed":
        assert result.ret == 0
        lines(result, ["PASSED support.evalmix.yaml::pass-rates"])
    else:
        assert result.ret == 1
        lines(
            result,
            [
                "support.evalmix.yaml:1: -: production passes 95.0% [83.5–98.6] (38/40),"
                " synthetic 50.0% [29.9–70.1] (10/20): a gap of 45.0 points, over max_gap (10),"
                " and significant (p = 0.0001 at alpha 0.05, Fisher's exact test)*",
                "FAILED support.evalmix.yaml::pass-rates - *",
            ],
        )


def test_same_summary_with_and_without_xdist(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(with_misses(2, 10), manifest=RESULTS_MANIFEST)
    write_results(project, [{"id": "ghost", "passed": True}])
    project.makepyfile(test_evals=EVALS)

    def summary(*args: str) -> list[str]:
        out = run(project, "--evalmix", *args).stdout.lines
        start = next(i for i, line in enumerate(out) if "= evalmix =" in line)
        end = next(i for i, line in enumerate(out) if line.startswith("results of support"))
        failures = [
            line for line in out if line.startswith(("support.evalmix.yaml:", "results/", "data/"))
        ]
        return out[start:end] + sorted(failures)

    plain = summary()
    assert "  pass-rates       FAILED (2 findings)" in plain
    assert "  failure-modes    passed" in plain
    assert summary("-n", "2") == plain


def test_gate_false_alarm_rate_and_power() -> None:
    """The gate's rule itself, on seeded simulated runs (benchmarks/bench_gate.py has the full
    figures): healthy sets of 20 per subset fail under alpha, not a third of the time as a bare
    threshold would; a real 20-point gap at 100 per subset is caught most of the time."""
    rng = random.Random(7)

    def fails(rate_a: float, rate_b: float, n: int, trials: int = 2000) -> tuple[float, float]:
        gate = threshold = 0
        for _ in range(trials):
            a = sum(rng.random() < rate_a for _ in range(n))
            b = sum(rng.random() < rate_b for _ in range(n))
            verdict = compare(a, n, b, n, max_gap=0.10, alpha=0.05)
            gate += verdict.failed
            threshold += verdict.over_gap
        return gate / trials, threshold / trials

    gate, threshold = fails(0.8, 0.8, 20)
    assert gate < 0.05 and threshold > 0.25
    gate, _ = fails(0.8, 0.6, 100)
    assert gate > 0.8


def test_node_ids_and_junit(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """The checks judged after the evals are ordinary items to every tool: their node ids are
    collected, and reports such as JUnit XML count them, under xdist too."""
    write_set(evalset(), manifest=RESULTS_MANIFEST)
    write_results(project, outcomes("prod", 19, 20) + outcomes("syn", 10, 20))
    result = run(project, "--evalmix", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["support.evalmix.yaml::pass-rates", "support.evalmix.yaml::failure-modes"]
    )
    result = run(project, "--evalmix", "--junitxml=junit.xml", *xdist)
    xml = (project.path / "junit.xml").read_text()
    assert re.search(
        r'<testcase classname="support.evalmix.yaml" name="pass-rates"[^>]*>\s*<failure', xml
    )
    assert 'name="failure-modes"' in xml
