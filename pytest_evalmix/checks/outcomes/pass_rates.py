"""``pass-rates``: compared subsets (production against synthetic by default) pass at rates that
agree within ``max_gap``.

"Pass rates that disagree by more than ten points between subsets mean the synthetic part is not
probing the same surface as the human part." But a gap measured on 20 examples per subset is
mostly noise: with equal true rates, a bare ten-point threshold fails about a third of such runs.
So the gate fails only when the gap is over ``max_gap`` *and* significant at ``alpha``, and it
skips, saying why, below ``min_results`` outcomes per subset. Every rate is shown with its 95%
Wilson interval so the reader sees how much the number can be trusted.

The check also owns the results file's integrity: a result for an id the set does not have is a
finding here, at the file's path and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.model.stats import two_proportion
from pytest_evalmix.results import outcomes as outcomes_mod

NAME = "pass-rates"
FIX = "pull fresh production traces, label them, and rebalance"


@dataclass(frozen=True)
class Comparison:
    """The verdict on one pair of pass rates, as plain numbers."""

    gap: float
    p_value: float
    test: str
    over_gap: bool
    significant: bool

    @property
    def failed(self) -> bool:
        return self.over_gap and self.significant


def compare(x1: int, n1: int, x2: int, n2: int, max_gap: float, alpha: float) -> Comparison:
    """The gate's decision for ``x1/n1`` against ``x2/n2``: pure, so the benchmark measures the
    very rule the check applies."""
    gap = abs(x1 / n1 - x2 / n2)
    result = two_proportion(x1, n1, x2, n2)
    return Comparison(
        gap=gap,
        p_value=result.p_value,
        test=result.test,
        # A tiny slack: 17/20 against 15/20 is a gap of exactly 0.10, not 0.1000000001.
        over_gap=gap > max_gap + 1e-9,
        significant=result.p_value < alpha,
    )


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    rules = policy.pass_rates
    session = context.outcomes.get(evalset.manifest, {})
    gathered = outcomes_mod.gather(evalset, session, NAME, inputs.results)
    by_origin = outcomes_mod.subsets(evalset, gathered)
    data: dict[str, Any] = {
        "origins": {origin: subset.to_dict() for origin, subset in by_origin.items()},
        "coverage": outcomes_mod.coverage(evalset, gathered, by_origin),
        "comparisons": [],
    }
    findings = list(gathered.findings)
    if not gathered.count:
        return CheckResult(
            findings=ordered(findings),
            skipped=None if findings else f"no outcomes: {gathered.describe_sources()}",
            data=data,
        )
    unjudged: list[str] = []
    for first, second in rules.compare:
        a, b = by_origin[first], by_origin[second]
        entry: dict[str, Any] = {"subsets": [first, second], "judged": False}
        data["comparisons"].append(entry)
        short = [s for s in (a, b) if s.results < rules.min_results]
        if short:
            reason = "; ".join(
                f"{s.origin} has {s.results} outcome{'s' if s.results != 1 else ''}" for s in short
            )
            reason += (
                f", fewer than pass_rates.min_results ({rules.min_results}): too few to tell "
                "a real gap from sampling noise"
            )
            entry["reason"] = reason
            unjudged.append(f"{first} vs {second}: {reason}" if len(rules.compare) > 1 else reason)
            continue
        verdict = compare(a.passed, a.results, b.passed, b.results, rules.max_gap, rules.alpha)
        entry.update(
            judged=True,
            gap=verdict.gap,
            p_value=verdict.p_value,
            test=verdict.test,
            over_gap=verdict.over_gap,
            significant=verdict.significant,
            failed=verdict.failed,
        )
        if verdict.failed:
            findings.append(_finding(evalset, a, b, verdict, rules.max_gap, rules.alpha))
    if findings:
        return CheckResult(findings=ordered(findings), data=data)
    if len(unjudged) == len(rules.compare):
        return CheckResult(skipped="; ".join(unjudged), data=data)
    return CheckResult(data=data)


def _finding(
    evalset: EvalSet,
    a: outcomes_mod.Subset,
    b: outcomes_mod.Subset,
    verdict: Comparison,
    max_gap: float,
    alpha: float,
) -> Finding:
    message = (
        f"{a.origin} passes {a.describe()}, {b.origin} {b.describe()}: a gap of "
        f"{verdict.gap * 100:.1f} points, over max_gap ({max_gap * 100:g}), and significant "
        f"({_p(verdict.p_value)} at alpha {alpha:g}, {verdict.test}). The {b.origin} part is "
        f"not probing the same surface as the {a.origin} part"
    )
    return Finding(evalset.manifest, 1, None, message, FIX, NAME)


def _p(value: float) -> str:
    return "p < 0.0001" if value < 0.0001 else f"p = {value:.4f}".rstrip("0").rstrip(".")
