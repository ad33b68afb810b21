"""The checks of SPEC §5, one module and one pure function each.

A check takes a loaded `EvalSet`, its `Policy`, the run's `Context` and the set's other loaded
`Inputs` (results, ledger, review logs), and returns a `CheckResult`: findings, warnings, a skip
reason, and plain data for the reports. It reads no file, renders nothing and touches no pytest
object, so a test can call it on data built in memory, and any front end can run it through
`run`, which loads the inputs a check needs (once per process, see `pytest_evalmix.checks.inputs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_evalmix.checkers.registry import Checker, builtins
from pytest_evalmix.checks import inputs as inputs_mod
from pytest_evalmix.checks.inputs import Inputs as Inputs  # the rules' fourth argument
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.results.outcomes import Outcome

if TYPE_CHECKING:
    from pytest_evalmix.revisions.delta import Baseline


@dataclass(frozen=True)
class Context:
    """What a check may know about the run besides the set: the date, where state lives."""

    today: dt.date
    evalmix_dir: Path
    # The checkers that records may name in label.checker. The pytest layer passes every
    # registered one; the default is the built-ins alone.
    checkers: Mapping[str, Checker] = field(default_factory=builtins)
    # Eval outcomes measured in this run, by manifest path (`EvalSet.manifest`), then example id:
    # the pytest tests parametrized with `pytest_evalmix.examples`. A set's results file is an
    # `Inputs` of its own.
    outcomes: Mapping[str, Mapping[str, Outcome]] = field(default_factory=dict)
    # ``--evalmix-base=REF``: the revision the ``changes`` check compares each set with (its
    # comparison is an `Inputs`, made by `run`).
    base: Baseline | None = None


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.findings:
            return "failed"
        return "skipped" if self.skipped else "passed"


Check = Callable[[EvalSet, Policy, Context, Inputs], CheckResult]

# What each check judges besides the set (the others need nothing more).
NEEDS: dict[str, frozenset[str]] = {
    "gold-provenance": frozenset({inputs_mod.LEDGER}),
    "pass-rates": frozenset({inputs_mod.RESULTS}),
    "failure-modes": frozenset({inputs_mod.RESULTS}),
    "review": frozenset({inputs_mod.REVIEWS}),
    "changes": frozenset({inputs_mod.BASE}),
    "coverage": frozenset({inputs_mod.RESULTS}),
}

# Checks that judge eval outcomes, so must run after every eval of the session has reported. The
# pytest layer runs them last, on the controller, under xdist too (see `collect`).
AFTER_EVALS: frozenset[str] = frozenset({"pass-rates", "failure-modes", "coverage"})
# Checks collected only under ``--evalmix-base=REF``.
BASE_ONLY: frozenset[str] = frozenset({"changes"})


def collected(name: str, policy: Policy) -> bool:
    """Whether a set gets an item for this check: ``coverage`` exists only for a declared grid
    (SPEC §5), so a set without one shows no check that could only ever skip."""
    return name != "coverage" or bool(policy.coverage.axes)


def registry() -> dict[str, Check]:
    """Every check, in the order its items are collected (stable, so xdist workers agree)."""
    from pytest_evalmix.checks.labels import gold_provenance, provisional
    from pytest_evalmix.checks.labels import review_decisions as review
    from pytest_evalmix.checks.outcomes import coverage, failure_modes, pass_rates
    from pytest_evalmix.checks.records import changes, mix, schema

    return {
        "schema": schema.check,
        "gold-provenance": gold_provenance.check,
        "provisional": provisional.check,
        "mix": mix.check,
        "pass-rates": pass_rates.check,
        "failure-modes": failure_modes.check,
        "coverage": coverage.check,
        "review": review.check,
        "changes": changes.check,
    }


def run(name: str, evalset: EvalSet, context: Context) -> CheckResult:
    """Run check ``name`` on a set: load what it needs (served from the per-process cache when
    unchanged), then apply its pure rule. The one way front ends run a check."""
    needed = inputs_mod.load(
        evalset, context.evalmix_dir, NEEDS.get(name, frozenset()), base=context.base
    )
    return registry()[name](evalset, evalset.policy, context, needed)
