"""The coverage grid of a set, drawn from the ``coverage`` check's data for every view.

For two axes, one table: the first axis as rows, the second as columns. For more axes, one
table per pair of axes, each cell summing the cells of the other axes. A cell shows its examples
by origin (``8 · 4 · 2``: production · synthetic · adversarial) and, with outcomes, its pass
rate; cells that fail the check are marked, and so are the cells only synthetic examples reach
(the synthesizer goes where production never does). The terminal, Markdown and JSON views all
read the same data, so they agree on every count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tabulate import tabulate

from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.model.text import escape

FAILING = "✗"
SYNTHETIC_ONLY = "◇"
LOW = "▼"  # pass rate significantly below the rest of the set
# Markdown: GitHub renders these everywhere (tables included) without HTML.
MD_FAILING = "❌"
MD_SYNTHETIC_ONLY = "🧪"
MD_NONE = "⬜"
# Shades by pass rate, best first: (lowest rate, square).
RATE_SHADES = ((0.9, "🟩"), (0.75, "🟨"), (0.5, "🟧"), (0.0, "🟥"))


@dataclass
class Summary:
    """A cell of a drawn table: one grid cell, or the sum of several."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORIGINS, 0))
    results: int = 0
    passed: int = 0
    failing: bool = False
    low: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def synthetic_only(self) -> bool:
        return self.total > 0 and self.counts["synthetic"] == self.total

    @property
    def rate(self) -> float | None:
        return self.passed / self.results if self.results else None

    def add(self, cell: Mapping[str, Any]) -> None:
        for origin in ORIGINS:
            self.counts[origin] += int(cell["counts"].get(origin, 0))
        self.results += int(cell.get("results") or 0)
        self.passed += int(cell.get("passed") or 0)
        self.failing = self.failing or bool(cell.get("failing"))
        self.low = self.low or bool(cell.get("below_rest"))

    def counts_text(self) -> str:
        return " · ".join(str(self.counts[origin]) for origin in ORIGINS)


@dataclass
class Table:
    """One drawn table: ``rows`` values of axis ``row_axis`` by ``columns`` of ``column_axis``
    (``None`` for a one-axis grid, drawn as a single column)."""

    row_axis: str
    column_axis: str | None
    rows: list[str]
    columns: list[str]
    cells: list[list[Summary]]


def tables(data: Mapping[str, Any]) -> list[Table]:
    axes: dict[str, list[str]] = {str(a): [str(v) for v in vs] for a, vs in data["axes"].items()}
    names = list(axes)
    cells: Sequence[Mapping[str, Any]] = data["cells"]
    if len(names) == 1:
        (axis,) = names
        summaries = {value: Summary() for value in axes[axis]}
        for cell in cells:
            summaries[cell["cell"][axis]].add(cell)
        return [Table(axis, None, axes[axis], [""], [[summaries[v]] for v in axes[axis]])]
    drawn = []
    for row_axis, column_axis in itertools.combinations(names, 2):
        grid = {(r, c): Summary() for r in axes[row_axis] for c in axes[column_axis]}
        for cell in cells:
            grid[cell["cell"][row_axis], cell["cell"][column_axis]].add(cell)
        drawn.append(
            Table(
                row_axis,
                column_axis,
                axes[row_axis],
                axes[column_axis],
                [[grid[r, c] for c in axes[column_axis]] for r in axes[row_axis]],
            )
        )
    return drawn


def failing_cells(data: Mapping[str, Any] | None) -> int:
    """How many cells of the grid fail ``coverage`` (the ``-q`` line gives it)."""
    if not data or "cells" not in data:
        return 0
    return sum(1 for cell in data["cells"] if cell.get("failing"))


def placed_line(data: Mapping[str, Any]) -> str:
    """How many examples the grid holds, and how many it could not place."""
    examples, placed = int(data["examples"]), int(data["placed"])
    line = f"{placed} of {examples} example{'s' if examples != 1 else ''} placed in the grid"
    not_placed, undeclared = int(data["not_placed"]), int(data["undeclared"])
    if not_placed:
        line += f"; {not_placed} not placed (no grid, or only some of the axes)"
    if undeclared:
        line += f"; {undeclared} with an undeclared axis or value"
    return line


# Terminal


def printable(text: str) -> str:
    """Text from a manifest or record for the terminal: control and invisible characters
    escaped (`model.text.escape`), so a value cannot move the cursor or hide its line."""
    return escape(str(text))


def terminal_lines(data: Mapping[str, Any] | None) -> list[str]:
    if not data or "cells" not in data:
        return []
    with_outcomes = bool(data.get("outcomes"))
    what = "production · synthetic · adversarial" + (", pass rate" if with_outcomes else "")
    out: list[str] = []
    for table in tables(data):
        title = printable(table.row_axis)
        if table.column_axis is not None:
            title += f" × {printable(table.column_axis)}"
        out.append(f"  coverage grid, {title} ({what})")
        corner = printable(table.row_axis)
        if table.column_axis is not None:
            corner += f" \\ {printable(table.column_axis)}"
        headers = [
            corner,
            *(printable(c) if table.column_axis is not None else "examples" for c in table.columns),
        ]
        rows = [
            [printable(value), *(_terminal_cell(s, with_outcomes) for s in row)]
            for value, row in zip(table.rows, table.cells, strict=True)
        ]
        text = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
        out += [f"  {line}" for line in text.splitlines()]
    legend = f"  {FAILING} fails coverage, {SYNTHETIC_ONLY} only synthetic examples"
    if with_outcomes:
        legend += f", {LOW} pass rate significantly below the rest of the set"
    out.append(legend)
    out.append(f"  {placed_line(data)}")
    if with_outcomes:
        out += [f"  {line}" for line in low_lines(data)]
    return out


def low_lines(data: Mapping[str, Any]) -> list[str]:
    """One line per cell whose pass rate is significantly below the rest, as the Markdown
    report lists them: ``▼ feature=refunds,persona=angry: 40.0% (4/10) against 90.0%``."""
    total_passed = sum(int(cell.get("passed") or 0) for cell in data["cells"])
    total_results = sum(int(cell.get("results") or 0) for cell in data["cells"])
    out = []
    for cell in data["cells"]:
        if not cell.get("below_rest"):
            continue
        name = ",".join(f"{printable(a)}={printable(v)}" for a, v in cell["cell"].items())
        passed, results = int(cell["passed"]), int(cell["results"])
        rest = (total_passed - passed) / (total_results - results)
        out.append(
            f"{LOW} {name}: {passed / results:.1%} ({passed}/{results}) against {rest:.1%} "
            "for the rest"
        )
    return out


def _terminal_cell(summary: Summary, with_outcomes: bool) -> str:
    text = summary.counts_text()
    if with_outcomes:
        rate = summary.rate
        text += f" {rate:.0%}" if rate is not None else " -"
    if summary.failing:
        text += f" {FAILING}"
    if summary.synthetic_only:
        text += f" {SYNTHETIC_ONLY}"
    if summary.low:
        text += f" {LOW}"
    return text


# Markdown

Escape = Callable[[str], str]


def shade(summary: Summary, with_outcomes: bool, minimum: int) -> str:
    """The square a Markdown cell starts with: by pass rate with outcomes, else by count."""
    if with_outcomes:
        rate = summary.rate
        if rate is None:
            return MD_NONE
        return next(square for floor, square in RATE_SHADES if rate >= floor)
    if summary.failing:
        return "🟥"
    if summary.total == 0:
        return MD_NONE
    return "🟩" if summary.total >= 2 * max(minimum, 1) else "🟨"


def legend(with_outcomes: bool) -> str:
    if with_outcomes:
        squares = "🟩 passes 90% or more, 🟨 75–90%, 🟧 50–75%, 🟥 under 50%, ⬜ no outcome"
        what = "examples by origin (production · synthetic · adversarial), then the pass rate"
    else:
        squares = "🟩 at least twice min_per_cell, 🟨 fewer, 🟥 failing, ⬜ empty"
        what = "examples by origin (production · synthetic · adversarial)"
    return (
        f"Each cell: {what}. {squares}. {MD_FAILING} fails `coverage`; "
        f"{MD_SYNTHETIC_ONLY} only synthetic examples reach it, where production never goes."
    )


def markdown_lines(
    data: Mapping[str, Any] | None,
    text: Escape,
    code: Escape,
    table: Callable[[list[str], list[str], list[list[str]]], list[str]],
) -> list[str]:
    """The grid section of the Markdown report; ``text``, ``code`` and ``table`` are the
    report's own escaping and table helpers, so data text is escaped the same way everywhere."""
    if not data or "cells" not in data:
        return []
    with_outcomes = bool(data.get("outcomes"))
    minimum = int(data.get("min_per_cell", 1))
    out = ["### Coverage grid", "", text(placed_line(data)) + ".", "", legend(with_outcomes), ""]
    for drawn in tables(data):
        if drawn.column_axis is not None:
            out += [f"**{text(drawn.row_axis)} × {text(drawn.column_axis)}**", ""]
            corner = f"{text(drawn.row_axis)} ↓ {text(drawn.column_axis)} →"
            headers = [corner, *(text(c) for c in drawn.columns)]
        else:
            out += [f"**{text(drawn.row_axis)}**", ""]
            headers = [text(drawn.row_axis), "examples"]
        rows = [
            [text(value), *(_markdown_cell(s, with_outcomes, minimum) for s in row)]
            for value, row in zip(drawn.rows, drawn.cells, strict=True)
        ]
        out += table(headers, [":--"] * len(headers), rows)
    if with_outcomes:
        out += _below_rest(data, text, code)
    return out


def _markdown_cell(summary: Summary, with_outcomes: bool, minimum: int) -> str:
    parts = [shade(summary, with_outcomes, minimum), summary.counts_text()]
    if with_outcomes:
        rate = summary.rate
        parts.append(f"({rate:.0%})" if rate is not None else "(-)")
    if summary.failing:
        parts.append(MD_FAILING)
    if summary.synthetic_only:
        parts.append(MD_SYNTHETIC_ONLY)
    return " ".join(parts)


def _below_rest(data: Mapping[str, Any], text: Escape, code: Escape) -> list[str]:
    compared = int(data.get("compared") or 0)
    low = [cell for cell in data["cells"] if cell.get("below_rest")]
    how = (
        f"a gap over {float(data.get('max_gap', 0.1)) * 100:g} points, significant at "
        f"{float(data.get('alpha', 0.05)):g} after Holm's correction for the {compared} cells "
        "compared"
    )
    if not low:
        return [f"No cell's pass rate is significantly below the rest of the set ({how}).", ""]
    out = [f"Cells whose pass rate is significantly below the rest of the set ({how}):", ""]
    total_passed = sum(int(cell.get("passed") or 0) for cell in data["cells"])
    total_results = sum(int(cell.get("results") or 0) for cell in data["cells"])
    for cell in low:
        name = ",".join(f"{axis}={value}" for axis, value in cell["cell"].items())
        passed, results = int(cell["passed"]), int(cell["results"])
        rest = (total_passed - passed) / (total_results - results)
        p_value = float(cell["p_value"])
        p_text = "p < 0.0001" if p_value < 0.0001 else f"p = {p_value:.4f}"
        modes = ", ".join(
            f"{text(str(mode))} ({count})" for mode, count in cell["failure_modes"].items()
        )
        line = (
            f"- {code(name)}: {passed / results:.1%} ({passed}/{results}) against {rest:.1%} for "
            f"the rest, {p_text}"
        )
        if modes:
            line += f"; failure modes: {modes}"
        out.append(line)
    return [*out, ""]
