"""``failure-modes``: no failure mode exists in one compared subset and never in the other.

"Failure modes that exist only in synthetic examples mean the synthesizer is generating inputs
production never sees. Failure modes that exist only in human examples mean synthetic coverage is
missing the cells that break. The fix in each case is to pull fresh production traces, label
them, and rebalance."

A failure's mode is what the eval named (the ``evalmix_failure_mode`` fixture, or a results
file's ``failure_mode``), else the exception's type name. Failures with no mode at all are
counted in the data but never compared: "unknown" in both subsets says nothing.
"""

from __future__ import annotations

from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.results import file as results_file
from pytest_evalmix.results import outcomes as outcomes_mod

NAME = "failure-modes"
FIX = "pull fresh production traces, label them, and rebalance"
# Ids named in a message; the rest are counted, so a common mode does not print a page of ids.
SHOWN_IDS = 5


def diagnosis(only_in: str, never_in: str) -> str:
    """The background reading's reading of a one-sided failure mode."""
    if only_in == "synthetic":
        return "the synthesizer is generating inputs production never sees"
    if only_in == "production" and never_in == "synthetic":
        return "synthetic coverage is missing the cells that break"
    return f"the {never_in} examples never reach the inputs that break the {only_in} ones"


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    rules = policy.failure_modes
    # Results-file problems are reported once, by pass-rates; here they only cost their outcome.
    session = context.outcomes.get(evalset.manifest, {})
    gathered = outcomes_mod.gather(evalset, session, NAME, inputs.results)
    by_origin = outcomes_mod.subsets(evalset, gathered)
    data: dict[str, Any] = {
        "modes": {
            origin: dict(sorted(subset.modes.items())) for origin, subset in by_origin.items()
        },
        "unnamed": {origin: subset.unnamed for origin, subset in by_origin.items()},
        "comparisons": [],
    }
    if not gathered.count:
        return CheckResult(skipped=f"no outcomes: {gathered.describe_sources()}", data=data)
    findings: list[Finding] = []
    unjudged: list[str] = []
    for first, second in rules.compare:
        a, b = by_origin[first], by_origin[second]
        entry: dict[str, Any] = {"subsets": [first, second], "judged": False}
        data["comparisons"].append(entry)
        empty = [s.origin for s in (a, b) if not s.results]
        if empty:
            reason = (
                f"{' and '.join(empty)} {'has' if len(empty) == 1 else 'have'} no outcomes, so "
                f"no mode can be compared between {first} and {second}"
            )
            entry["reason"] = reason
            unjudged.append(reason)
            continue
        one_sided: list[dict[str, Any]] = []
        for only, other in ((a, b), (b, a)):
            for mode, count in sorted(only.modes.items()):
                if count < rules.min_count or other.modes.get(mode, 0):
                    continue
                one_sided.append({"mode": mode, "only_in": only.origin, "count": count})
                findings.append(_finding(evalset, gathered, mode, only, other))
        entry.update(judged=True, one_sided=one_sided)
    if findings:
        return CheckResult(findings=ordered(findings), data=data)
    if len(unjudged) == len(rules.compare):
        return CheckResult(skipped="; ".join(unjudged), data=data)
    return CheckResult(data=data)


def _finding(
    evalset: EvalSet,
    gathered: outcomes_mod.Gathered,
    mode: str,
    only: outcomes_mod.Subset,
    other: outcomes_mod.Subset,
) -> Finding:
    code = results_file.FAILED + gathered.modes.index(mode)
    origin = evalset.origins.codebook[only.origin]
    failing = [
        row
        for row, (at, has) in enumerate(zip(evalset.origins.codes, gathered.codes, strict=True))
        if has == code and at == origin
    ]
    ids = [evalset.ids[row] for row in failing]
    shown = ", ".join(ids[:SHOWN_IDS]) + (
        f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    )
    plural = "s" if len(ids) != 1 else ""
    message = (
        f"failure mode '{mode}' occurs in {len(ids)} {only.origin} example{plural} ({shown}) and "
        f"in none of the {other.results} {other.origin} examples with an outcome: "
        f"{diagnosis(only.origin, other.origin)}"
    )
    path, line = evalset.location(failing[0])
    return Finding(path, line, ids[0], message, FIX, NAME)
