"""Every check by id, in the order its items are collected, and the one way to run one.

`run` loads what a check needs besides the set (`checks.inputs`, once per process), then applies
its pure rule. See docs/checks.md for what each check judges.
"""

from __future__ import annotations

from pytest_evalmix.checks import inputs as inputs_mod
from pytest_evalmix.checks.labels import agreement, gold_provenance, provisional
from pytest_evalmix.checks.labels import review_decisions as review
from pytest_evalmix.checks.outcomes import coverage, failure_modes, pass_rates
from pytest_evalmix.checks.records import changes, duplicates, leakage, mix, schema
from pytest_evalmix.checks.result import Check, CheckResult, Context
from pytest_evalmix.evalset.sources import mentions_annotations
from pytest_evalmix.model.evalset import EvalSet

# What each check judges besides the set (the others need nothing more).
NEEDS: dict[str, frozenset[str]] = {
    "gold-provenance": frozenset({inputs_mod.LEDGER}),
    "pass-rates": frozenset({inputs_mod.RESULTS}),
    "failure-modes": frozenset({inputs_mod.RESULTS}),
    "review": frozenset({inputs_mod.REVIEWS}),
    "changes": frozenset({inputs_mod.BASE}),
    "coverage": frozenset({inputs_mod.RESULTS}),
    "leakage": frozenset({inputs_mod.AGAINST}),
}


# Checks that judge eval outcomes, so must run after every eval of the session has reported. The
# pytest layer runs them last, on the controller, under xdist too (see `collect`).
AFTER_EVALS: frozenset[str] = frozenset({"pass-rates", "failure-modes", "coverage"})


# Checks collected only under ``--evalmix-base=REF``.
BASE_ONLY: frozenset[str] = frozenset({"changes"})


def collected(name: str, evalset: EvalSet) -> bool:
    """Whether a set gets an item for this check: ``coverage`` exists only for a declared grid,
    ``leakage`` only for a set with ``against`` files or a ``split``, ``agreement`` only for a
    set whose records name ``annotations`` (docs/checks.md), so a set shows no check that could
    only ever pass or skip."""
    if name == "coverage":
        return bool(evalset.policy.coverage.axes)
    if name == "leakage":
        return bool(evalset.policy.leakage.against) or evalset.split is not None
    if name == "agreement":
        return mentions_annotations(evalset)
    return True


def registry() -> dict[str, Check]:
    """Every check, in the order its items are collected (stable, so xdist workers agree)."""
    return {
        "schema": schema.check,
        "gold-provenance": gold_provenance.check,
        "provisional": provisional.check,
        "mix": mix.check,
        "pass-rates": pass_rates.check,
        "failure-modes": failure_modes.check,
        "coverage": coverage.check,
        "review": review.check,
        "agreement": agreement.check,
        "duplicates": duplicates.check,
        "leakage": leakage.check,
        "changes": changes.check,
    }


def run(name: str, evalset: EvalSet, context: Context) -> CheckResult:
    """Run check ``name`` on a set: load what it needs (served from the per-process cache when
    unchanged), then apply its pure rule. The one way front ends run a check."""
    needed = inputs_mod.load(
        evalset, context.evalmix_dir, NEEDS.get(name, frozenset()), base=context.base
    )
    return registry()[name](evalset, evalset.policy, context, needed)
