"""``coverage``: every cell of the declared grid holds enough examples, and enough production ones.

The background reading says what synthetic data is for: "systematic coverage of the feature,
scenario, persona grid", and "production anchors the distribution, synthetic fills coverage
gaps". Records carry their cell (``grid: {feature: refunds, persona: angry}``); the policy
declares the axes and their values (``coverage.axes``), and every combination of values is a
cell. The check fails on a cell with fewer than ``min_per_cell`` examples or fewer than
``production_min_per_cell`` production ones, and on a record whose grid names an axis or a value
that is not declared (a typo would otherwise file it in no cell at all, silently). A record
without a grid, or with only some of the axes, is counted as "not placed": the team may not have
placed every record yet, and the summary says how many.

The check's data is the grid itself (each cell's counts by origin, and with outcomes its pass
rate and failure modes), which the reports draw. With outcomes it also names the cells whose
pass rate is significantly below the rest of the set: the test of ``pass-rates`` (a gap over
``max_gap`` that is significant), with the significance Holm-corrected for the number of cells,
so that a healthy 30-cell grid does not name a cell by chance (``benchmarks/bench_gate.py``).

Counting is a pass over two code columns, so a million examples cost a fraction of their load.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.outcomes.pass_rates import compare
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy, suggest
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.model.stats import wilson
from pytest_evalmix.results import file as results_file
from pytest_evalmix.results import outcomes as outcomes_mod

NAME = "coverage"
NOT_PLACED = -1
UNDECLARED = -2


def cell_name(cell: Mapping[str, str]) -> str:
    """``feature=billing,persona=terse``: what ``evalmix propose --cell`` takes."""
    return ",".join(f"{axis}={value}" for axis, value in cell.items())


def cells_of(axes: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every cell of the grid, the last axis varying fastest (its index is `index_of`)."""
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())]


@dataclass
class Placement:
    """Where each distinct grid of the set goes: a cell index, `NOT_PLACED` or `UNDECLARED`,
    by code of `EvalSet.cells`; and, for an undeclared one, what is wrong with it."""

    where: list[int] = field(default_factory=list)
    problems: dict[int, tuple[str, str]] = field(default_factory=dict)


def place(evalset: EvalSet, axes: Mapping[str, Sequence[str]]) -> Placement:
    """Place each distinct grid the records wrote (a few hundred at most), not each record."""
    positions = {axis: {value: i for i, value in enumerate(vs)} for axis, vs in axes.items()}
    strides: dict[str, int] = {}
    stride = 1
    for axis in reversed(list(axes)):
        strides[axis] = stride
        stride *= len(axes[axis])
    placement = Placement()
    for code, key in enumerate(evalset.cells.values):
        if not key:
            placement.where.append(NOT_PLACED)
            continue
        if isinstance(key[0], str):  # every declared axis's value, in order (see GridKey)
            placement.where.append(
                sum(positions[a][v] * strides[a] for a, v in zip(axes, key, strict=True))
            )
            continue
        problems: list[str] = []
        fixes: list[str] = []
        index = 0
        for axis, value in key:
            known = positions.get(axis)
            if known is None:
                problems.append(
                    f"grid names the axis {_quote(axis)}, which coverage.axes does not declare"
                    f"{suggest(axis, set(axes))}"
                )
                fixes.append(f"use one of the axes {', '.join(axes)}, or declare it")
            elif value not in known:
                problems.append(
                    f"grid.{axis} is {_quote(value)}, not a declared value of {axis}"
                    f"{suggest(value, set(known))}"
                )
                fixes.append(f"use one of {', '.join(axes[axis])}, or add it to coverage.axes")
            else:
                index += known[value] * strides[axis]
        if problems:
            placement.where.append(UNDECLARED)
            placement.problems[code] = ("; ".join(problems), "; ".join(dict.fromkeys(fixes)))
        elif len(key) != len(axes):
            placement.where.append(NOT_PLACED)
        else:
            placement.where.append(index)
    return placement


@dataclass
class Cell:
    """One cell's counts: examples by origin, and with outcomes its pass rate and modes."""

    cell: dict[str, str]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORIGINS, 0))
    results: int = 0
    passed: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    unnamed: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def count(evalset: EvalSet, placement: Placement, cells: list[Cell]) -> tuple[int, int]:
    """Add each placed row to its cell; return (not placed, undeclared) row counts."""
    not_placed = undeclared = 0
    codes = evalset.cells.codes
    origins = evalset.origins
    assert origins.codes.itemsize == 1  # three origins
    by_origin = origins.codes.tobytes()
    # C-level passes, one per origin: a mask of its rows, then the cell codes under the mask.
    for origin, code in origins.codebook.items():
        mask = by_origin.translate(bytes(int(c == code) for c in range(256)))
        for cell_code, rows in Counter(itertools.compress(codes, mask)).items():
            where = placement.where[cell_code]
            if where == NOT_PLACED:
                not_placed += rows
            elif where == UNDECLARED:
                undeclared += rows
            else:
                cells[where].counts[origin] += rows
    return not_placed, undeclared


def add_outcomes(
    evalset: EvalSet, placement: Placement, cells: list[Cell], gathered: outcomes_mod.Gathered
) -> None:
    """Add each placed row's outcome to its cell: one C-level tally of (cell, outcome) codes."""
    where = placement.where
    pairs = Counter(zip(evalset.cells.codes, gathered.codes, strict=True))
    for (cell_code, code), rows in pairs.items():
        index = where[cell_code]
        if code == results_file.NONE or index < 0:
            continue
        cell = cells[index]
        cell.results += rows
        if code == results_file.PASSED:
            cell.passed += rows
        else:
            mode = gathered.modes[code - results_file.FAILED]
            if mode:
                cell.modes[mode] += rows
            else:
                cell.unnamed += rows


@dataclass(frozen=True)
class Low:
    """A cell whose pass rate is significantly below the rest of the set's."""

    index: int
    rate: float
    rest: float
    p_value: float
    test: str


def below_rest(
    tallies: Sequence[tuple[int, int]], max_gap: float, alpha: float
) -> tuple[list[Low], int]:
    """The cells (by index of ``tallies``, each ``(passed, results)``) whose pass rate is below
    the rest of the set's by more than ``max_gap``, significantly at ``alpha`` after Holm's
    correction for the number of cells compared; and that number.

    Pure, so the benchmark measures the very rule the reports apply.
    """
    passed_all = sum(passed for passed, _ in tallies)
    results_all = sum(results for _, results in tallies)
    tested: list[tuple[float, int, Any]] = []
    for index, (passed, results) in enumerate(tallies):
        rest = results_all - results
        if not results or not rest:
            continue
        verdict = compare(passed, results, passed_all - passed, rest, max_gap, alpha)
        tested.append((verdict.p_value, index, verdict))
    tested.sort(key=lambda entry: (entry[0], entry[1]))
    found: list[Low] = []
    m = len(tested)
    for rank, (p_value, index, verdict) in enumerate(tested):
        if p_value >= alpha / (m - rank):
            break  # Holm's step-down: no later (larger) p-value is rejected either
        passed, results = tallies[index]
        rest_rate = (passed_all - passed) / (results_all - results)
        if verdict.over_gap and passed / results < rest_rate:
            found.append(Low(index, passed / results, rest_rate, p_value, verdict.test))
    return sorted(found, key=lambda low: low.index), m


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    rules = policy.coverage
    axes = rules.axes
    if not axes:
        return CheckResult(skipped="policy coverage.axes declares no grid")
    placement = place(evalset, axes)
    cells = [Cell(cell) for cell in cells_of(axes)]
    not_placed, undeclared = count(evalset, placement, cells)
    # Results-file problems are reported once, by pass-rates; here outcomes only fill the grid.
    session = context.outcomes.get(evalset.manifest, {})
    gathered = outcomes_mod.gather(evalset, session, NAME, inputs.results)
    if gathered.count:
        add_outcomes(evalset, placement, cells, gathered)
    lows, compared = below_rest(
        [(cell.passed, cell.results) for cell in cells],
        policy.pass_rates.max_gap,
        policy.pass_rates.alpha,
    )
    low_by_index = {low.index: low for low in lows}

    findings: list[Finding] = []
    if placement.problems:
        findings.extend(_undeclared(evalset, placement))
    cell_data: list[dict[str, Any]] = []
    for index, cell in enumerate(cells):
        reasons = _short(cell, rules.min_per_cell, rules.production_min_per_cell)
        for message, fix in reasons:
            findings.append(
                Finding(
                    evalset.manifest,
                    evalset.coverage_line,
                    None,
                    message,
                    fix.format(manifest=evalset.manifest, cell=cell_name(cell.cell)),
                    NAME,
                )
            )
        interval = wilson(cell.passed, cell.results)
        low = low_by_index.get(index)
        cell_data.append(
            {
                "cell": dict(cell.cell),
                "counts": dict(cell.counts),
                "total": cell.total,
                "failing": bool(reasons),
                "synthetic_only": cell.counts["synthetic"] > 0
                and cell.counts["synthetic"] == cell.total,
                "results": cell.results,
                "passed": cell.passed,
                "rate": cell.passed / cell.results if cell.results else None,
                "low": interval[0] if interval else None,
                "high": interval[1] if interval else None,
                "failure_modes": dict(sorted(cell.modes.items())),
                "unnamed_failures": cell.unnamed,
                "below_rest": low is not None,
                "p_value": low.p_value if low else None,
            }
        )
    data: dict[str, Any] = {
        "axes": {axis: list(values) for axis, values in axes.items()},
        "min_per_cell": rules.min_per_cell,
        "production_min_per_cell": rules.production_min_per_cell,
        "examples": len(evalset),
        "placed": len(evalset) - not_placed - undeclared,
        "not_placed": not_placed,
        "undeclared": undeclared,
        "outcomes": sum(cell.results for cell in cells),
        "compared": compared,
        "alpha": policy.pass_rates.alpha,
        "max_gap": policy.pass_rates.max_gap,
        "cells": cell_data,
    }
    return CheckResult(findings=ordered(findings), data=data)


def _short(cell: Cell, minimum: int, production_minimum: int) -> list[tuple[str, str]]:
    """Why a cell fails, as (message, fix) pairs; the fix is formatted by the caller."""
    name = cell_name(cell.cell)
    reasons: list[tuple[str, str]] = []
    production = cell.counts["production"]
    if cell.total < minimum:
        message = (
            f"cell {name} holds {_examples(cell.total)}, fewer than coverage.min_per_cell "
            f"({minimum})"
        )
        if production:
            fix = (
                "fill it: `evalmix propose {manifest} --cell {cell}` paraphrases its production "
                "seeds for review (or --fill, for every cell short of examples)"
            )
        else:
            fix = (
                "sample and label production traces from this cell, or write examples for it "
                "(propose needs a production seed in the cell to paraphrase)"
            )
        reasons.append((message, fix))
    if production < production_minimum:
        reasons.append(
            (
                f"cell {name} holds {_examples(production, 'production ')}, fewer than "
                f"coverage.production_min_per_cell ({production_minimum})",
                "sample and label production traces from this cell: synthetic examples fill "
                "coverage gaps, production anchors the distribution",
            )
        )
    return reasons


def _undeclared(evalset: EvalSet, placement: Placement) -> list[Finding]:
    problems = placement.problems
    findings = []
    for row, code in enumerate(evalset.cells.codes):
        if code in problems:
            message, fix = problems[code]
            findings.append(evalset.finding(row, message, fix, NAME))
    return findings


def _examples(count: int, kind: str = "") -> str:
    return f"{count} {kind}example{'s' if count != 1 else ''}"


def _quote(text: str) -> str:
    """Text from a record in a message: quoted, control characters escaped, kept short."""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:56] + "...'"
