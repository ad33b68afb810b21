"""The run's report as data, and the rows of its terminal view.

Check items attach a plain-dict payload to their test report; the controller (with or without
xdist) folds the payloads into one `Report`. Terminal, Markdown and JSON are views of that one
object, so they can never disagree about a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tabulate import tabulate

from pytest_evalmix.checks.labels.provisional import due_in
from pytest_evalmix.checks.result import CheckResult
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.model.text import escape, safe_data
from pytest_evalmix.report import grid
from pytest_evalmix.results.outcomes import format_rate

Payload = dict[str, Any]
# How a line of the terminal view should look: a verdict or a title, never a colour, which is the
# terminal view's to choose (`report.terminal`); None for plain text.
Style = Literal["title", "failed", "warning", "passed"] | None
Row = tuple[str, Style]


def set_payload(evalset: EvalSet) -> Payload:
    """The facts about a set that every check's report carries: name, counts, targets."""
    counts = evalset.origins.counts()
    # Escaped: payloads cross to the xdist controller (execnet cannot send a lone surrogate)
    # and end in terminals and reports.
    return safe_data(
        {
            "name": evalset.name,
            "manifest": evalset.manifest,
            "total": len(evalset),
            "counts": {origin: counts.get(origin, 0) for origin in ORIGINS},
            "targets": dict(evalset.policy.mix.targets),
        }
    )


def check_payload(name: str, result: CheckResult) -> Payload:
    return safe_data(
        {
            "name": name,
            "status": result.status,
            "findings": [f.to_dict() for f in ordered(result.findings)],
            "warnings": [f.to_dict() for f in ordered(result.warnings)],
            "skipped": result.skipped,
            "data": result.data,
        }
    )


@dataclass
class CheckReport:
    name: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def style(self) -> Style:
        """The verdict as a style: failed, a warning (skipped, or passed with warnings), or
        passed."""
        if self.status == "failed":
            return "failed"
        if self.status == "skipped" or self.warnings:
            return "warning"
        return "passed"

    def headline(self) -> str:
        # A check may sum itself up in ``data["tally"]`` (duplicates: its number of groups).
        extra = self.data.get("tally")
        more = f"; {extra}" if isinstance(extra, str) and extra else ""
        if self.status == "failed":
            count = len(self.findings)
            return f"FAILED ({count} finding{'s' if count != 1 else ''}{more})"
        if self.status == "skipped":
            return f"skipped: {self.skipped}"
        if self.warnings:
            count = len(self.warnings)
            return f"passed ({count} warning{'s' if count != 1 else ''}{more})"
        return f"passed ({extra})" if more else "passed"


@dataclass
class SetReport:
    name: str
    manifest: str
    total: int
    counts: dict[str, int]
    targets: dict[str, float]
    checks: dict[str, CheckReport] = field(default_factory=dict)

    def share(self, origin: str) -> float:
        return self.counts.get(origin, 0) / self.total if self.total else 0.0

    def mix_rows(self) -> list[list[str]]:
        outcomes = self.outcomes()
        rows = []
        for origin in ORIGINS:
            target = self.targets.get(origin)
            rows.append(
                [
                    origin,
                    str(self.counts.get(origin, 0)),
                    f"{self.share(origin):.1%}",
                    f"{target:.0%}" if target is not None else "-",
                ]
            )
            if outcomes is not None:
                rows[-1] += _outcome_cells(outcomes["origins"].get(origin, {}))
        rows.append(["total", str(self.total), "100.0%" if self.total else "-", ""])
        if outcomes is not None:
            rows[-1] += _outcome_cells(outcomes.get("coverage", {}))
        return rows

    def mix_headers(self) -> list[str]:
        headers = ["origin", "count", "share", "target"]
        if self.outcomes() is not None:
            headers += ["results", "pass rate [95% CI]"]
        return headers

    def outcomes(self) -> dict[str, Any] | None:
        """The ``pass-rates`` check's outcome data, if it ran: ``origins`` maps each origin to
        ``{examples, results, passed, rate, low, high}`` (low/high: the 95% Wilson interval)
        and ``coverage`` holds the same for the whole set, plus where the outcomes came from."""
        check = self.checks.get("pass-rates")
        if check is None or not isinstance(check.data.get("origins"), dict):
            return None
        return check.data

    def since_base(self) -> dict[str, Any] | None:
        """The ``changes`` check's data (see `rules.changes`), when it ran under
        ``--evalmix-base``: what changed in the set since REF."""
        check = self.checks.get("changes")
        if check is None or not isinstance(check.data.get("state"), str):
            return None
        return check.data

    def grid(self) -> dict[str, Any] | None:
        """The ``coverage`` check's grid (see `rules.coverage`), if the set declares one."""
        check = self.checks.get("coverage")
        if check is None or not isinstance(check.data.get("cells"), list):
            return None
        return check.data

    def coming_due(self) -> list[tuple[str | None, list[dict[str, Any]]]]:
        """Provisional labels by owner (owners A-Z, unowned last), each owner's by date.

        The entries are those of the ``provisional`` check's ``data["due"]`` (documented in
        `checks.provisional`), unchanged, so every view shows the same facts.
        """
        check = self.checks.get("provisional")
        entries: list[dict[str, Any]] = list(check.data.get("due", [])) if check else []
        groups: dict[str | None, list[dict[str, Any]]] = {}
        for entry in entries:
            groups.setdefault(entry.get("owner"), []).append(entry)
        return [
            (owner, sorted(groups[owner], key=lambda e: (e["backfill_by"], e["id"])))
            for owner in sorted(groups, key=lambda o: (o is None, o or ""))
        ]


@dataclass
class Report:
    sets: list[SetReport] = field(default_factory=list)

    @classmethod
    def from_payloads(cls, payloads: Iterable[Payload], order: list[str]) -> Report:
        """Fold item payloads into a report; ``order`` is the registry's check order."""
        by_manifest: dict[str, SetReport] = {}
        for payload in payloads:
            info = payload["set"]
            report = by_manifest.get(info["manifest"])
            if report is None:
                report = SetReport(
                    name=info["name"],
                    manifest=info["manifest"],
                    total=info["total"],
                    counts=dict(info["counts"]),
                    targets=dict(info["targets"]),
                )
                by_manifest[info["manifest"]] = report
            check = payload["check"]
            report.checks[check["name"]] = CheckReport(
                name=check["name"],
                status=check["status"],
                findings=[Finding.from_dict(f) for f in check["findings"]],
                warnings=[Finding.from_dict(f) for f in check["warnings"]],
                skipped=check["skipped"],
                data=check["data"],
            )
        rank = {name: index for index, name in enumerate(order)}
        for report in by_manifest.values():
            report.checks = dict(
                sorted(report.checks.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
            )
        return cls(sets=[by_manifest[key] for key in sorted(by_manifest)])

    def rows(self) -> Iterator[Row]:
        """The terminal view: a mix table per set, then a line per check. Each line comes with
        its style, a word that `report.terminal` turns into colours."""
        for index, evalset in enumerate(self.sets):
            if index:
                yield "", None
            yield f"eval set {evalset.name} ({evalset.manifest})", "title"
            headers = evalset.mix_headers()
            table = tabulate(
                evalset.mix_rows(),
                headers=headers,
                tablefmt="simple",
                colalign=("left", *["right"] * (len(headers) - 1)),
            )
            for line in table.splitlines():
                yield line, None
            coverage = (evalset.outcomes() or {}).get("coverage")
            if coverage and coverage.get("results"):
                share = f"{coverage['share']:.1%}"
                yield (
                    f"  results for {coverage['results']} of {coverage['examples']} examples "
                    f"({share})",
                    None,
                )
            since = evalset.since_base()
            if since is not None:
                yield from ((line, None) for line in delta_lines(since))
            for line in grid.terminal_lines(evalset.grid()):
                yield line, None
            width = max((len(name) for name in evalset.checks), default=0)
            for name, check in evalset.checks.items():
                yield f"  {name.ljust(width)}  {check.headline()}", check.style()
            due = evalset.coming_due()
            if due:
                yield "  provisional labels coming due", None
                for owner, entries in due:
                    yield f"    {owner or '(no owner)'}", None
                    for entry in entries:
                        yield (
                            (
                                f"      {entry['backfill_by']}  {entry['id']}  "
                                f"{due_in(entry['days_left'])}  ({entry['path']}:{entry['line']})"
                            ),
                            None,
                        )


def delta_headline(since: dict[str, Any]) -> str:
    """One line of what changed since REF: ``since origin/main (1a2b3c4d5e): 2 added, ...``."""
    where = f"since {since['ref']} ({str(since['commit'])[:10]})"
    if since["state"] == "unreadable":
        return f"{where}: not compared, the manifest there cannot be read"
    added = sum(since["added"].values())
    if since["state"] == "new":
        return f"{where}: a new eval set, {added} added"
    removed = sum(since["removed"].values())
    changed = sum(since["changed"].values())
    golds = since["golds_changed"]
    backfilled = since["backfilled"]
    return (
        f"{where}: {added} added, {removed} removed, {changed} changed; "
        f"{golds} gold{'s' if golds != 1 else ''} changed; {backfilled} provisional "
        f"label{'s' if backfilled != 1 else ''} backfilled"
    )


def delta_rows(since: dict[str, Any]) -> list[list[str]]:
    """Per origin: before (count and share), after, added, removed, changed; then the total."""
    before, after = since["before"], since["after"]
    before_total, after_total = since["before_total"], since["after_total"]

    def cell(count: int, total: int) -> str:
        return f"{count} ({count / total:.1%})" if total else str(count)

    rows = []
    for origin in ORIGINS:
        rows.append(
            [
                origin,
                cell(before.get(origin, 0), before_total),
                cell(after.get(origin, 0), after_total),
                str(since["added"].get(origin, 0)),
                str(since["removed"].get(origin, 0)),
                str(since["changed"].get(origin, 0)),
            ]
        )
    rows.append(
        [
            "total",
            str(before_total),
            str(after_total),
            str(sum(since["added"].values())),
            str(sum(since["removed"].values())),
            str(sum(since["changed"].values())),
        ]
    )
    return rows


# Ids the terminal names per kind; the Markdown and HTML reports list every id the data holds.
FEW = 5
GOLD_SHOWN = 40


def named(since: dict[str, Any]) -> list[tuple[str, int, list[str]]]:
    """``(kind, how many in all, the ids named)`` for added, removed and changed records,
    from the ``changes`` check's ``named`` data; empty for a set that is new or unreadable."""
    lists = since.get("named") or {}
    if since["state"] != "compared":
        return []
    return [
        (kind, sum(since[kind].values()), [str(rid) for rid in lists.get(kind, [])])
        for kind in ("added", "removed", "changed")
    ]


def named_golds(since: dict[str, Any]) -> tuple[int, list[dict[str, str]]]:
    """How many golds changed in all, and the ``{id, old, new}`` the data names."""
    lists = since.get("named") or {}
    if since["state"] != "compared":
        return 0, []
    return int(since["golds_changed"]), list(lists.get("golds", []))


def cut(text: str, limit: int = GOLD_SHOWN) -> str:
    """A gold's text cut to ``limit`` characters for one terminal line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _few(ids: list[str], total: int) -> str:
    shown = ", ".join(escape(rid) for rid in ids[:FEW])
    rest = total - min(len(ids), FEW)
    return f"{shown}, and {rest} more" if rest else shown


DELTA_HEADERS = ["origin", "before", "after", "added", "removed", "changed"]


def delta_lines(since: dict[str, Any]) -> Iterator[str]:
    """The terminal view of what changed since REF: a headline, then the mix before and after
    with what was added, removed and changed, by origin."""
    yield f"  {delta_headline(since)}"
    if since["state"] == "unreadable":
        return
    table = tabulate(
        delta_rows(since),
        headers=DELTA_HEADERS,
        tablefmt="simple",
        colalign=("left", *["right"] * (len(DELTA_HEADERS) - 1)),
    )
    yield from (f"  {line}" for line in table.splitlines())
    for kind, total, ids in named(since):
        if total:
            yield f"  {kind} ({total}): {_few(ids, total)}"
    total, golds = named_golds(since)
    if total:
        shown = "; ".join(
            f"{escape(g['id'])} {escape(cut(g['old']))} → {escape(cut(g['new']))}"
            for g in golds[:FEW]
        )
        rest = total - min(len(golds), FEW)
        yield f"  golds changed ({total}): {shown}" + (f"; and {rest} more" if rest else "")
    if since.get("new_files"):
        names = ", ".join(escape(str(name)) for name in since["new_files"])
        yield f"  new data files since {since['ref']}: {names}"


def _outcome_cells(data: dict[str, Any]) -> list[str]:
    """``results`` and ``pass rate`` cells: ``85.0% [64.0–94.8]``, or ``-`` with no outcome."""
    low, high = data.get("low"), data.get("high")
    interval = (low, high) if low is not None and high is not None else None
    return [str(data.get("results", 0)), format_rate(data.get("rate"), interval)]


ManifestProblem = Mapping[str, str]
"""A manifest that could not be read, as the views show it: its path, line and message."""


def pass_rate(subset: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{rate, low, high, n, passed}`` (a 95% Wilson interval), or ``None`` with no outcome."""
    if not subset or not subset.get("results") or subset.get("rate") is None:
        return None
    return {
        "rate": subset["rate"],
        "low": subset.get("low"),
        "high": subset.get("high"),
        "n": subset["results"],
        "passed": subset.get("passed"),
    }
