"""The ``mix`` check: each origin's share within tolerance of its target, and, when not, the
smallest change that restores every target, as counts."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from conftest import WriteSet, record, run
from pytest_evalmix.checks.records.mix import smallest_change

TARGETS = {"production": 0.5, "synthetic": 0.25, "adversarial": 0.25}


def counts(production: int, synthetic: int, adversarial: int) -> list[dict[str, Any]]:
    return (
        [record(f"prod-{i}", "production") for i in range(production)]
        + [record(f"syn-{i}", "synthetic") for i in range(synthetic)]
        + [record(f"adv-{i}", "adversarial") for i in range(adversarial)]
    )


def headline(result: pytest.RunResult) -> str:
    for line in result.stdout.lines:
        match = re.match(r"^  mix\s+(.*)$", line)
        if match:
            return match.group(1)
    raise AssertionError(result.stdout.str())


def test_healthy_mix_passes(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 0
    assert headline(result) == "passed"


def test_edges_of_the_tolerance_pass(project: pytest.Pytester, write_set: WriteSet) -> None:
    """60% / 15% / 25%: exactly ten points off, which is inside."""
    write_set(counts(12, 3, 5))
    assert headline(run(project, "--evalmix")) == "passed"


def test_off_target_fails_with_the_smallest_change(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(counts(44, 58, 33))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert headline(result) == "FAILED (1 finding)"
    result.stdout.fnmatch_lines(
        [
            "support.evalmix.yaml:1: -: production is 32.6% of the set (44 of 135), target 50% ±"
            " 10 points; synthetic is 43.0% of the set (58 of 135), target 25% ± 10 points —"
            " add 31 production or retire 25 synthetic: the smallest change that brings every"
            " origin within 10 points of its target",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_remedy_may_need_two_origins(project: pytest.Pytester, write_set: WriteSet) -> None:
    """28/6/6: adding synthetic alone leaves adversarial short, so the addition is split."""
    write_set(counts(28, 6, 6))
    result = run(project, "--evalmix")
    result.stdout.fnmatch_lines(
        [
            "support.evalmix.yaml:1: -: production is 70.0% of the set (28 of 40), target 50% ±"
            " 10 points — add 4 synthetic and 3 adversarial or retire 10 production: *",
        ]
    )


def test_targets_and_tolerance_from_the_policy(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(
        counts(28, 6, 6),
        manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  mix:\n"
        "    targets: {production: 0.7, synthetic: 0.3}\n    tolerance: 0.05\n",
    )
    result = run(project, "--evalmix")
    result.stdout.fnmatch_lines(
        [
            "support.evalmix.yaml:1: -: synthetic is 15.0% of the set (6 of 40), target 30% ± 5"
            " points; adversarial is 15.0% of the set (6 of 40), no target (mix.targets leaves it"
            " out, so its share counts against the others) — add 53 production and 27 synthetic or"
            " retire 11 production and 5 adversarial: *",
        ]
    )


def test_below_min_examples_skips_with_reason(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(
        counts(28, 6, 6),
        manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  mix: {min_examples: 50}\n",
    )
    result = run(project, "--evalmix", "-rs", *xdist)
    assert result.ret == 0
    reason = (
        "40 examples, fewer than mix.min_examples (50): the shares of a set this small move by"
        " whole points with every example"
    )
    assert headline(result) == f"skipped: {reason}"
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] support.evalmix.yaml:1: {reason}"])


def test_empty_set_skips(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set([])
    result = run(project, "--evalmix")
    assert headline(result) == "skipped: the set has no valid examples yet"


@pytest.mark.parametrize(
    ("current", "plans"),
    [
        ((44, 58, 33), ["add 31 production", "retire 25 synthetic"]),
        ((28, 6, 6), ["add 4 synthetic and 3 adversarial", "retire 10 production"]),
        ((80, 10, 10), ["add 17 synthetic and 17 adversarial", "retire 50 production"]),
        # Retiring cannot create synthetic examples, and no single addition fixes both sides.
        ((50, 0, 50), ["add 14 production and 29 synthetic"]),
        ((1_000_000, 0, 0), ["add 333334 synthetic and 333333 adversarial"]),
    ],
)
def test_smallest_change_on_concrete_numbers(
    current: tuple[int, int, int], plans: list[str]
) -> None:
    found = smallest_change(dict(zip(TARGETS, current, strict=True)), TARGETS, 0.10)
    assert [plan.describe() for plan in found] == plans


def test_zero_tolerance_needs_exact_shares() -> None:
    found = smallest_change({"production": 7, "synthetic": 1, "adversarial": 2}, TARGETS, 0.0)
    assert [p.describe() for p in found] == [
        "add 1 production, 3 synthetic and 2 adversarial",
        "retire 5 production and 1 adversarial",
    ]
    # An origin with no target and no tolerance can only go; the rest can only be added to.
    only_two = {"production": 0.5, "synthetic": 0.5}
    found = smallest_change({"production": 10, "synthetic": 10, "adversarial": 5}, only_two, 0.0)
    assert [p.describe() for p in found] == ["retire 5 adversarial"]


def _within(final: dict[str, int], tolerance: float) -> bool:
    total = sum(final.values())
    return total > 0 and all(
        abs(final[o] / total - TARGETS[o]) <= tolerance + 1e-9 for o in TARGETS
    )


def _smallest_by_trying(now: dict[str, int], sign: int, tolerance: float) -> int | None:
    """The fewest additions (sign 1) or retirements (sign -1) that work, trying every split of
    k changes among the origins for k = 1, 2, ... up to 30."""
    for k in range(1, 31):
        for a in range(k + 1):
            for b in range(k - a + 1):
                change = (a, b, k - a - b)
                final = {o: now[o] + sign * c for o, c in zip(TARGETS, change, strict=True)}
                if min(final.values()) >= 0 and _within(final, tolerance):
                    return k
    return None


def test_smallest_change_is_minimal_by_brute_force() -> None:
    """Every small set off target: each plan restores the targets, and no smaller addition (or
    retirement) does, found by trying them all."""
    tolerance = 0.10
    for current in itertools.product(range(0, 9), range(0, 7), range(0, 7)):
        now = dict(zip(TARGETS, current, strict=True))
        if not sum(current) or _within(now, tolerance):
            continue
        plans = {
            ("add" if p.add else "retire"): p for p in smallest_change(now, TARGETS, tolerance)
        }
        for kind, sign in (("add", 1), ("retire", -1)):
            best = _smallest_by_trying(now, sign, tolerance)
            plan = plans.get(kind)
            if best is None:
                assert plan is None or (kind == "add" and plan.size > 30), (now, kind, plan)
                continue
            assert plan is not None and plan.size == best, (now, kind, best, plan)
            moved = plan.add if kind == "add" else plan.retire
            final = {o: now[o] + sign * moved.get(o, 0) for o in TARGETS}
            assert _within(final, tolerance), (now, plan)
