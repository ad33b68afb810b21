"""The Markdown view of a `Report`: the pull-request comment and job summary, with text from
data escaped for GitHub's renderer (docs/json-report.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_evalmix.checks.labels.provisional import due_in
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.report import grid
from pytest_evalmix.report.data import (
    DELTA_HEADERS,
    ManifestProblem,
    Report,
    SetReport,
    delta_headline,
    delta_rows,
    named,
    named_golds,
    pass_rate,
)
from pytest_evalmix.report.json_report import TOP_FINDINGS, set_status
from pytest_evalmix.results.outcomes import format_rate

_STATUS_MARK = {"failed": "❌", "passed": "✅", "skipped": "⏭️"}


def to_markdown(report: Report, *, today: dt.date, errors: Iterable[ManifestProblem] = ()) -> str:
    """A GitHub-flavoured Markdown report: per set the mix table with pass rates, a mermaid pie
    of the mix, the checks, the provisional labels coming due, and every finding."""
    error_list = list(errors)
    out: list[str] = ["# evalmix report", ""]
    failing = [s.name for s in report.sets if set_status(s) == "failed"]
    count = len(report.sets)
    summary = f"{count} eval set{'s' if count != 1 else ''}, checked on {today.isoformat()}: "
    if failing:
        summary += f"❌ {len(failing)} failing ({', '.join(_text(n) for n in failing)})"
    elif error_list:
        summary += "❌ a manifest could not be read"
    elif count:
        summary += "✅ every check passed"
    else:
        summary = f"No eval set was checked ({today.isoformat()})."
    out += [summary, ""]
    out += _since_markdown(report)
    if error_list:
        out += ["## Manifests that could not be read", ""]
        out += _code_block(f"{e['message']}" for e in error_list)
    for evalset in report.sets:
        out += _set_markdown(evalset)
    return "\n".join(out).rstrip("\n") + "\n"


def _set_markdown(evalset: SetReport) -> list[str]:
    out = [
        f"## {_STATUS_MARK[set_status(evalset)]} {_text(evalset.name)}",
        "",
        f"{_code(evalset.manifest)} · {evalset.total} example{'s' if evalset.total != 1 else ''}",
        "",
    ]
    since = evalset.since_base()
    if since is not None:
        out += [_text(delta_headline(since)), ""]
        if since["state"] != "unreadable":
            out += _table(DELTA_HEADERS, [":--", *["--:"] * 5], delta_rows(since))
            out += _named_markdown(since)
        if since.get("new_files"):
            files = ", ".join(_code(str(name)) for name in since["new_files"])
            out += [f"New data files since {_code(str(since['ref']))}: {files}", ""]
    outcomes = evalset.outcomes()
    if outcomes is not None and not (outcomes.get("coverage") or {}).get("results"):
        outcomes = None  # no eval outcome at all: pass-rate columns would be all dashes
    by_origin: dict[str, Any] = (outcomes or {}).get("origins") or {}
    headers = ["origin", "count", "share", "target"]
    align = [":--", "--:", "--:", "--:"]
    if outcomes is not None:
        headers += ["results", "pass rate [95% CI]"]
        align += ["--:", "--:"]
    rows: list[list[str]] = []
    for origin in ORIGINS:
        target = evalset.targets.get(origin)
        row = [
            origin,
            str(evalset.counts.get(origin, 0)),
            f"{evalset.share(origin):.1%}" if evalset.total else "-",
            f"{target:.0%}" if target is not None else "-",
        ]
        if outcomes is not None:
            row += _rate_cells(by_origin.get(origin))
        rows.append(row)
    total = ["**total**", f"**{evalset.total}**", "100.0%" if evalset.total else "-", ""]
    if outcomes is not None:
        total += _rate_cells(outcomes.get("coverage"))
    rows.append(total)
    out += _table(headers, align, rows)
    out += _pie(evalset)
    out += _comparisons(evalset)
    out += grid.markdown_lines(evalset.grid(), _text, _code, _table)
    out += ["### Checks", ""]
    checks = evalset.checks.values()
    out += _table(
        ["check", "result"],
        [":--", ":--"],
        [[_code(c.name), f"{_STATUS_MARK[c.status]} {_text(c.headline())}"] for c in checks],
    )
    out += _pairs(evalset)
    due = evalset.coming_due()
    if due:
        out += ["### Provisional labels coming due", ""]
        for owner, entries in due:
            out.append(f"- **{_text(owner) if owner else '(no owner)'}**")
            for entry in entries:
                where = f"{entry['path']}:{entry['line']}"
                out.append(
                    f"  - {entry['backfill_by']} {_code(str(entry['id']))} "
                    f"{due_in(int(entry['days_left']))} ({_code(where)})"
                )
        out.append("")
    failed = [c for c in evalset.checks.values() if c.findings]
    if failed:
        out += ["### Findings", ""]
        for check in failed:
            out += [f"{_code(check.name)}:", ""]
            out += _code_block(f.render() for f in check.findings)
    warned = [c for c in evalset.checks.values() if c.warnings]
    if warned:
        out += ["### Warnings", ""]
        for check in warned:
            out += [f"{_code(check.name)}:", ""]
            out += _code_block(f.render() for f in check.warnings)
    return out


def _named_markdown(since: dict[str, Any]) -> list[str]:
    """Which records were added, removed and changed, and the golds old → new, folded under a
    ``<details>`` so the comment stays short (docs/ci.md)."""
    lists = [(kind, total, ids) for kind, total, ids in named(since) if total]
    golds_total, golds = named_golds(since)
    if not lists and not golds_total:
        return []
    what = [f"{total} {kind}" for kind, total, _ in lists]
    if golds_total:
        what.append(f"{golds_total} gold{'s' if golds_total != 1 else ''} changed")
    out = [f"<details><summary>The records: {', '.join(what)}</summary>", ""]
    for kind, total, ids in lists:
        line = f"- {kind}: " + ", ".join(_code(rid) for rid in ids)
        if total > len(ids):
            line += f", and {total - len(ids)} more"
        out.append(line)
    if golds_total:
        out.append("- golds changed, old → new:")
        for gold in golds:
            out.append(f"  - {_code(gold['id'])}: {_code(gold['old'])} → {_code(gold['new'])}")
        if golds_total > len(golds):
            out.append(f"  - and {golds_total - len(golds)} more")
    return [*out, "", "</details>", ""]


def _since_markdown(report: Report) -> list[str]:
    """What the change under review does to each set, first in the report (and so first in a
    pull request's step summary): one row per set, then the unsigned relabels and backfills."""
    rows, findings = [], []
    ref = None
    for evalset in report.sets:
        since = evalset.since_base()
        if since is None:
            continue
        ref = ref or str(since["ref"])
        check = evalset.checks["changes"]
        if since["state"] == "unreadable":
            before, counts = "?", ["-"] * 5
        else:
            before = "new" if since["state"] == "new" else str(since["before_total"])
            counts = [str(sum(since[key].values())) for key in ("added", "removed", "changed")]
            counts += [str(since["golds_changed"]), str(since["backfilled"])]
        rows.append(
            [
                _text(evalset.name),
                f"{before} → {since['after_total']}",
                *counts,
                f"{_STATUS_MARK[check.status]} {check.headline()}",
            ]
        )
        findings += check.findings
    if not rows:
        return []
    out = [f"## Changes since {_code(ref or '')}", ""]
    headers = ["eval set", "examples", "added", "removed", "changed", "golds changed"]
    headers += ["backfilled", "`changes`"]
    out += _table(headers, [":--", *["--:"] * 6, ":--"], rows)
    if findings:
        shown = findings[:TOP_FINDINGS]
        out += ["Relabels and backfills nobody signed:", ""]
        out += _code_block(f.render() for f in shown)
        if len(findings) > len(shown):
            out += [f"… and {len(findings) - len(shown)} more, under each set's findings.", ""]
    return out


def _rate_cells(subset: Mapping[str, Any] | None) -> list[str]:
    rate = pass_rate(subset)
    if rate is None:
        return [str((subset or {}).get("results", 0)), "-"]
    low, high = rate["low"], rate["high"]
    interval = (low, high) if low is not None and high is not None else None
    return [str(rate["n"]), format_rate(rate["rate"], interval)]


def _pie(evalset: SetReport) -> list[str]:
    """A mermaid pie of the mix (GitHub renders it). Mermaid refuses slices of zero, so an absent
    origin is left out of the pie; the table above still shows its 0."""
    slices = [(o, evalset.counts.get(o, 0)) for o in ORIGINS if evalset.counts.get(o, 0) > 0]
    if not slices:
        return []
    name = " ".join(_MERMAID_UNSAFE.sub(" ", evalset.name).split())
    title = f"{name}: {evalset.total} examples"
    return [
        "```mermaid",
        f"pie showData title {title}",
        *(f'    "{origin}" : {count}' for origin, count in slices),
        "```",
        "",
    ]


_MERMAID_UNSAFE = re.compile(r"[^\w .,:/()+-]+")


def _comparisons(evalset: SetReport) -> list[str]:
    """The pass-rate comparisons of the ``pass-rates`` check, one line each."""
    check = evalset.checks.get("pass-rates")
    entries = check.data.get("comparisons") if check else None
    if not isinstance(entries, list) or not entries:
        return []
    out = []
    for entry in entries:
        if not entry.get("judged") and check is not None and check.status == "skipped":
            continue  # the check's row already gives the reason
        subsets = " vs ".join(str(s) for s in entry.get("subsets", []))
        if entry.get("judged"):
            verdict = "❌ over max_gap and significant" if entry.get("failed") else "✅ within"
            if not entry.get("failed") and entry.get("over_gap"):
                verdict = "✅ over max_gap but not significant"
            p_value = float(entry["p_value"])
            p_text = "p < 0.0001" if p_value < 0.0001 else f"p = {p_value:.4f}"
            text = (
                f"gap {float(entry['gap']) * 100:.1f} points, {p_text} "
                f"({entry.get('test', 'test')}): {verdict}"
            )
        else:
            text = f"not judged: {entry.get('reason', '')}"
        out.append(f"- pass rates, {_text(subsets)}: {_text(text)}")
    return [*out, ""]


def _pairs(evalset: SetReport) -> list[str]:
    """`agreement`'s per-pair table: how often each two annotators gave the same gold over the
    records they share (docs/checks.md)."""
    check = evalset.checks.get("agreement")
    pairs = check.data.get("pairs") if check is not None else None
    if not isinstance(pairs, list) or not pairs:
        return []
    rows = [
        [
            _text(str(p["a"])),
            _text(str(p["b"])),
            str(p["shared"]),
            str(p["agreed"]),
            f"{float(p['agreement']):.0%}",
        ]
        for p in pairs
    ]
    out = ["### Annotator agreement", ""]
    return out + _table(
        ["annotator", "with", "shared", "alike", "agreement"],
        [":--", ":--", "--:", "--:", "--:"],
        rows,
    )


def _table(headers: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    lines = [_row(headers), _row(align)]
    lines += [_row(row) for row in rows]
    return [*lines, ""]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """A table cell: a pipe would end it and a newline the table, even inside a code span."""
    return " ".join(text.splitlines()).replace("|", "\\|")


_MD_SPECIAL = re.compile(r"([\\`*{}\[\]<>#|!])")


# An underscore inside a word (``pass_rates.min_results``) never emphasises in GitHub's Markdown.
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _text(text: str) -> str:
    """User text (a set name, an owner) as literal Markdown: nothing in it formats or links."""
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))
    return _MD_UNDERSCORE.sub(r"\\_", escaped)


def _code(text: str) -> str:
    """An inline code span that holds any text, backticks included (CommonMark: the fence is a
    run of backticks longer than any run inside, padded with spaces when the text touches one)."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _code_block(lines: Iterable[str]) -> list[str]:
    """A fenced block for finding lines: nothing inside is Markdown, and its fence is longer
    than any backtick run in the text, so a finding that quotes backticks cannot close it."""
    body = [line for text in lines for line in str(text).splitlines()]
    longest = max((len(run) for line in body for run in re.findall(r"`{3,}", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *body, fence, ""]
