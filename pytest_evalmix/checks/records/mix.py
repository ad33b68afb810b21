"""``mix``: each origin's share of the set stays within ``tolerance`` of its target.

"About half production, a quarter synthetic with hand labels, a quarter adversarial": production
anchors the distribution, synthetic fills coverage gaps, adversarial cases catch regressions. A
failure says what to do as counts, because "production is 70%" leaves the user to do the algebra;
"add 12 synthetic and 4 adversarial, or retire 16 production" does not.

The remedy is the smallest one: the fewest additions (of one or more origins) that bring every
share within tolerance, and the fewest retirements that do. For a candidate final size ``N``
each origin's count must lie in ``[ceil((t - tol)·N), floor((t + tol)·N)]``; adding only (or
retiring only) further bounds it below (above) by today's count, so the cost of reaching ``N`` is
``|N - total|`` whenever those boxes can sum to ``N``. The search walks ``N`` away from today's
total, starting at a bound no feasible ``N`` can beat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.model.records import ORIGINS

# Shares are compared with a little slack so that 15 of 100 against 25% ± 10 is inside, as it is
# in exact arithmetic, whatever binary floating point makes of 0.25 - 0.10.
EPS = 1e-9
Mode = Literal["add", "retire", "both"]


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    mix = policy.mix
    total = len(evalset)
    counts = evalset.origins.counts()
    targets: dict[str, float] = {str(o): float(share) for o, share in mix.targets.items()}
    origins: list[str] = [o for o in ORIGINS if o in targets or counts.get(o, 0)]
    data: dict[str, object] = {
        "total": total,
        "counts": {o: counts.get(o, 0) for o in origins},
        "shares": {o: counts.get(o, 0) / total if total else None for o in origins},
        "targets": targets,
        "tolerance": mix.tolerance,
    }
    if not targets:
        return CheckResult(skipped="policy mix.targets is empty: no share to check", data=data)
    if total == 0:
        return CheckResult(skipped="the set has no valid examples yet", data=data)
    if total < mix.min_examples:
        return CheckResult(
            skipped=(
                f"{total} examples, fewer than mix.min_examples ({mix.min_examples}): "
                "the shares of a set this small move by whole points with every example"
            ),
            data=data,
        )
    current: dict[str, int] = {o: counts.get(o, 0) for o in origins}
    off = [o for o in origins if not _within(current[o], total, targets.get(o, 0.0), mix.tolerance)]
    if not off:
        return CheckResult(data=data)
    remedy = smallest_change(current, targets, mix.tolerance)
    data["remedy"] = [plan.to_dict() for plan in remedy]
    parts = []
    for origin in off:
        target = targets.get(origin)
        aim = (
            f"target {_pct(target)} ± {_points(mix.tolerance)}"
            if target is not None
            else ("no target (mix.targets leaves it out, so its share counts against the others)")
        )
        parts.append(
            f"{origin} is {current[origin] / total:.1%} of the set ({current[origin]} of "
            f"{total}), {aim}"
        )
    if remedy:
        fix = " or ".join(plan.describe() for plan in remedy)
        fix += (
            f": the smallest change that brings every origin within {_points(mix.tolerance)} "
            "of its target"
        )
    else:
        fix = "no whole number of examples meets these targets; widen mix.tolerance"
    return CheckResult(
        findings=[Finding(evalset.manifest, 1, None, "; ".join(parts), fix, "mix")],
        data=data,
    )


@dataclass(frozen=True)
class Plan:
    """A change to the set's counts: how many of each origin to add and to retire."""

    add: dict[str, int]
    retire: dict[str, int]

    @property
    def size(self) -> int:
        return sum(self.add.values()) + sum(self.retire.values())

    def describe(self) -> str:
        parts = []
        if self.add:
            parts.append("add " + _join(f"{n} {o}" for o, n in self.add.items()))
        if self.retire:
            parts.append("retire " + _join(f"{n} {o}" for o, n in self.retire.items()))
        return " and ".join(parts)

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {"add": dict(self.add), "retire": dict(self.retire)}


def smallest_change(
    counts: Mapping[str, int], targets: Mapping[str, float], tolerance: float
) -> list[Plan]:
    """The smallest addition and the smallest retirement that put every share within tolerance.

    Either may be impossible (retiring cannot create an origin the set lacks); when both are,
    the smallest change that mixes the two is returned instead. Empty when nothing works.
    """
    current: dict[str, int] = {o: counts.get(o, 0) for o in ORIGINS if o in counts or o in targets}
    plans = [
        plan
        for plan in (
            _search(current, targets, tolerance, "add"),
            _search(current, targets, tolerance, "retire"),
        )
        if plan is not None
    ]
    if not plans:
        both = _search(current, targets, tolerance, "both")
        plans = [both] if both is not None else []
    return plans


def _search(
    counts: dict[str, int], targets: Mapping[str, float], tol: float, mode: Mode
) -> Plan | None:
    total = sum(counts.values())
    # Every feasible N satisfies (t - tol)·N <= final count <= (t + tol)·N for each origin; with
    # the final count bounded by today's (below when adding, above when retiring) that bounds N.
    candidates: Iterable[int]
    if mode == "add":
        start = max(total, 1)
        for origin, count in counts.items():
            room = targets.get(origin, 0.0) + tol
            if count and room <= 0:
                return None
            if count:
                start = max(start, math.ceil(count / room - EPS))
        stop = 2 * start + 1000
        candidates = range(start, stop + 1)
    elif mode == "retire":
        start = total
        for origin, count in counts.items():
            need = targets.get(origin, 0.0) - tol
            if need > EPS:
                start = min(start, math.floor(count / need + EPS))
        candidates = range(start, 0, -1)
    else:
        candidates = _outward(total, 2 * max(total, 1) + 1000)
    best: tuple[int, dict[str, int]] | None = None
    for size in candidates:
        if best is not None and abs(size - total) >= best[0]:
            break
        final = _fit(counts, targets, tol, size, mode)
        if final is None:
            continue
        cost = sum(abs(final[o] - counts[o]) for o in counts)
        if best is None or cost < best[0]:
            best = (cost, final)
    if best is None:
        return None
    final = best[1]
    return Plan(
        add={o: final[o] - counts[o] for o in counts if final[o] > counts[o]},
        retire={o: counts[o] - final[o] for o in counts if final[o] < counts[o]},
    )


def _outward(centre: int, stop: int) -> Iterator[int]:
    """centre, centre + 1, centre - 1, centre + 2, ...: sizes in order of distance, all >= 1."""
    for distance in range(stop + 1):
        if distance == 0:
            if centre >= 1:
                yield centre
            continue
        yield centre + distance
        if centre - distance >= 1:
            yield centre - distance


def _fit(
    counts: dict[str, int], targets: Mapping[str, float], tol: float, size: int, mode: Mode
) -> dict[str, int] | None:
    """Final counts summing to ``size`` with every share within tolerance, changed as little as
    possible, or ``None`` if there are none. Extra examples go to the origins furthest below
    their target, retirements come from those furthest above, one at a time, so the plan is
    balanced and does not depend on dict order."""
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    for origin, count in counts.items():
        lo, hi = _bounds(targets.get(origin, 0.0), tol, size)
        if mode == "add":
            lo = max(lo, count)
        elif mode == "retire":
            hi = min(hi, count)
        if lo > hi:
            return None
        low[origin], high[origin] = lo, hi
    if sum(low.values()) > size or sum(high.values()) < size:
        return None
    final: dict[str, int] = {o: min(max(counts[o], low[o]), high[o]) for o in counts}
    rank: dict[str, int] = {o: i for i, o in enumerate(ORIGINS)}
    missing = size - sum(final.values())
    while missing:
        step = 1 if missing > 0 else -1

        def need(origin: str, step: int = step) -> float:
            # How far below its target (when adding) or above it (when retiring) an origin is.
            return step * (targets.get(origin, 0.0) * size - final[origin])

        movable = sorted(
            (o for o in final if (final[o] < high[o] if step > 0 else final[o] > low[o])),
            key=lambda o: (-need(o), rank[o]),
        )
        origin = movable[0]
        room = high[origin] - final[origin] if step > 0 else final[origin] - low[origin]
        # Move in bulk while this origin stays the neediest, so a big set costs few rounds.
        lead = need(origin) - need(movable[1]) if len(movable) > 1 else math.inf
        amount = min(room, abs(missing), max(1, math.floor(lead)) if lead != math.inf else room)
        final[origin] += step * amount
        missing -= step * amount
    return final


def _bounds(target: float, tol: float, size: int) -> tuple[int, int]:
    return (
        max(0, math.ceil((target - tol) * size - EPS)),
        math.floor((target + tol) * size + EPS),
    )


def _within(count: int, total: int, target: float, tol: float) -> bool:
    lo, hi = _bounds(target, tol, total)
    return lo <= count <= hi


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:g}%"


def _points(tol: float) -> str:
    return f"{tol * 100:g} points"


def _join(items: Iterable[str]) -> str:
    parts = list(items)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
