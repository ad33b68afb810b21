"""The terminal view of a run's `Report`: its lines, and every colour they are shown in.

The report says what a line is (a set's title, a failed check, a warning); only this module
says how that looks. pytest drops the markup unless the output is a colour terminal
(``--color``, ``NO_COLOR`` and ``FORCE_COLOR`` apply as to pytest's own output).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.report import grid
from pytest_evalmix.report.data import CheckReport, Report, Row, SetReport, Style

MARKUP: dict[Style, dict[str, bool]] = {
    "title": {"bold": True},
    "failed": {"red": True, "bold": True},
    "warning": {"yellow": True},
    "passed": {"green": True},
    None: {},
}


class Writer(Protocol):
    """What the view needs of pytest's terminal reporter."""

    def write_line(self, line: str, **markup: bool) -> None: ...


def write(writer: Writer, rows: Iterator[Row] | list[Row]) -> None:
    for text, style in rows:
        writer.write_line(text, **MARKUP[style])


def compact_rows(report: Report) -> list[Row]:
    """One line per set for ``-q``: size, mix, each check's verdict, labels coming due; in the
    colour of the set's worst verdict."""
    return [(_compact_line(evalset), _set_style(evalset)) for evalset in report.sets]


def _compact_line(evalset: SetReport) -> str:
    mix = " / ".join(
        f"{origin} {evalset.share(origin):.0%}"
        for origin in ORIGINS
        if evalset.counts.get(origin, 0) or origin in evalset.targets
    )
    checks = ", ".join(
        f"{name} {_compact_status(check)}{_measured(name, check)}"
        for name, check in evalset.checks.items()
    )
    line = f"{evalset.name}: {evalset.total} example{'s' if evalset.total != 1 else ''}"
    if evalset.total:
        line += f", {mix}"
    line += f"; {checks}"
    since = evalset.since_base()
    if since is not None and since["state"] == "compared":
        line += (
            f"; since {since['ref']} +{sum(since['added'].values())} "
            f"-{sum(since['removed'].values())} ~{sum(since['changed'].values())}"
        )
    elif since is not None:
        line += f"; since {since['ref']}: {since['state']}"
    failing = grid.failing_cells(evalset.grid())
    if failing:
        line += f"; {failing} failing cell{'s' if failing != 1 else ''}"
    due = [entry for _, entries in evalset.coming_due() for entry in entries]
    if due:
        first = min(due, key=lambda e: (e["backfill_by"], e["id"]))
        line += (
            f"; {len(due)} provisional label{'s' if len(due) != 1 else ''}, next due "
            f"{first['backfill_by']} ({first.get('owner') or 'no owner'})"
        )
    return line


def _set_style(evalset: SetReport) -> Style:
    """A set's compact line: failed if a check failed, a warning if any check warned."""
    statuses = [check.status for check in evalset.checks.values()]
    if "failed" in statuses:
        return "failed"
    if any(check.warnings for check in evalset.checks.values()):
        return "warning"
    return "passed"


def _measured(name: str, check: CheckReport) -> str:
    """What a check measured, where the verdict alone says too little: `agreement`'s alpha and
    how many records it is over (docs/checks.md)."""
    alpha, records = check.data.get("alpha"), check.data.get("records")
    if name == "agreement" and isinstance(alpha, float) and isinstance(records, int):
        return f" (alpha {alpha:.3f}, {records} record{'s' if records != 1 else ''})"
    return ""


def _compact_status(check: CheckReport) -> str:
    # A check may sum itself up in ``data["tally"]`` (duplicates: its number of groups).
    extra = check.data.get("tally")
    more = f"; {extra}" if isinstance(extra, str) and extra else ""
    if check.status == "failed":
        return f"FAILED ({len(check.findings)}{more})"
    if check.status == "skipped":
        return "skipped"
    if check.warnings:
        count = len(check.warnings)
        return f"ok ({count} warning{'s' if count != 1 else ''}{more})"
    return f"ok ({extra})" if more else "ok"
