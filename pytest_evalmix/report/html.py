"""The HTML view of a `Report`: one self-contained page that a person opens from a CI artifact.

The owner of an eval set wants to look, not read a log: at the mix against its targets, the pass
rates and their intervals, the coverage grid with its empty and synthetic-only cells. So per set
the page draws those (the mix and the pass rates as inline SVG, the grid as a heatmap table),
puts what changed since ``--evalmix-base`` first, lists the findings by check and the
provisional labels coming due by owner (docs/options.md, docs/ci.md).

Nothing in the page is fetched: no script at all, the style inline, and a content security
policy that forbids loading anything, so it reads the same offline, from a zip, without
JavaScript. Every text from data goes through jinja2 with autoescape on (and was escaped of
control characters when it entered the report, `model.text.safe_data`). It is built from the
same `Report` as the terminal, Markdown and JSON views, so they agree on every count; past
`CAP` lines a list is counted, not shown, which keeps a million-example report small.

jinja2 is imported only when an HTML report is written (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
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
from pytest_evalmix.report.json_report import set_status
from pytest_evalmix.results.outcomes import format_rate

# Lines a list shows (findings of a check, warnings of a check, labels coming due); the rest
# are counted.
CAP = 200
# Bytes of HTML all those lists, and the ids and golds of what changed, may take together, so
# that the page stays under 5 MB whatever the data: past it, the rest is counted too.
BUDGET = 4_000_000
# Drawing sizes of the SVG charts, in pixels.
LABEL_W = 110
BAR_W = 320
ROW_H = 26
COLOURS = {"production": "#3b6ea8", "synthetic": "#b0741c", "adversarial": "#8a3f8f"}


def to_html(report: Report, *, today: dt.date, errors: Iterable[ManifestProblem] = ()) -> str:
    """The page, as one string of HTML."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(TEMPLATE)
    error_list = [str(e["message"]) for e in errors]
    failing = [s.name for s in report.sets if set_status(s) == "failed"]
    budget = Budget(BUDGET)
    return template.render(
        today=today.isoformat(),
        errors=error_list,
        failing=failing,
        sets=[_set_context(evalset, budget) for evalset in report.sets],
        style=STYLE,
        marks={"failing": grid.FAILING, "synonly": grid.SYNTHETIC_ONLY, "low": grid.LOW},
    )


class Budget:
    """What is left of `BUDGET`: each listed line takes its size once escaped."""

    def __init__(self, size: int) -> None:
        self.left = size

    def take(self, text: str) -> bool:
        cost = len(text.encode("utf-8")) + 4 * sum(map(text.count, "<>&\"'")) + 16
        if cost > self.left:
            self.left = 0  # past the budget, every later list is counted only
            return False
        self.left -= cost
        return True

    def fit(self, texts: Iterable[str], cap: int = CAP) -> list[str]:
        """The first of ``texts`` (at most ``cap``) that fit."""
        shown: list[str] = []
        for text in texts:
            if len(shown) >= cap or not self.take(text):
                break
            shown.append(text)
        return shown


def _set_context(evalset: SetReport, budget: Budget) -> dict[str, Any]:
    since = evalset.since_base()
    return {
        "name": evalset.name,
        "manifest": evalset.manifest,
        "total": evalset.total,
        "status": set_status(evalset),
        "since": _since_context(since, budget) if since is not None else None,
        "mix": _mix_chart(evalset),
        "rates": _rate_chart(evalset),
        "grid": _grid_context(evalset.grid()),
        "checks": [
            {"name": c.name, "status": c.status, "headline": c.headline()}
            for c in evalset.checks.values()
        ],
        "due": _due_context(evalset, budget),
        "findings": _grouped(evalset, "findings", budget),
        "warnings": _grouped(evalset, "warnings", budget),
    }


def _since_context(since: dict[str, Any], budget: Budget) -> dict[str, Any]:
    lists = []
    for kind, total, ids in named(since):
        if total:
            shown = budget.fit(ids, cap=len(ids))
            lists.append({"kind": kind, "total": total, "ids": shown, "more": total - len(shown)})
    golds_total, every_gold = named_golds(since)
    golds = [g for g in every_gold if budget.take(f"{g['id']} {g['old']} {g['new']}")]
    return {
        "headline": delta_headline(since),
        "headers": DELTA_HEADERS,
        "rows": delta_rows(since) if since["state"] != "unreadable" else [],
        "new_files": [str(name) for name in since.get("new_files") or []],
        "lists": lists,
        "golds_total": golds_total,
        "golds": golds,
        "golds_more": golds_total - len(golds),
    }


def _mix_chart(evalset: SetReport) -> dict[str, Any]:
    """One bar per origin, its share of the set, with the target and its tolerance band."""
    check = evalset.checks.get("mix")
    tolerance = float(check.data.get("tolerance") or 0.0) if check else 0.0
    rows = []
    for index, origin in enumerate(ORIGINS):
        share = evalset.share(origin)
        target = evalset.targets.get(origin)
        y = index * ROW_H
        row: dict[str, Any] = {
            "origin": origin,
            "y": y,
            "text_y": y + ROW_H * 0.65,
            "width": round(share * BAR_W, 1),
            "colour": COLOURS[origin],
            "label": (
                f"{evalset.counts.get(origin, 0)} ({share:.1%})"
                + (f", target {target:.0%}" if target is not None else ", no target")
            ),
            "target": None,
        }
        if target is not None:
            low, high = max(target - tolerance, 0.0), min(target + tolerance, 1.0)
            row["target"] = {
                "x": round(LABEL_W + target * BAR_W, 1),
                "band_x": round(LABEL_W + low * BAR_W, 1),
                "band_w": round((high - low) * BAR_W, 1),
            }
        rows.append(row)
    return {
        "rows": rows,
        "height": len(ORIGINS) * ROW_H,
        "width": LABEL_W + BAR_W + 200,
        "label_w": LABEL_W,
        "bar_w": BAR_W,
        "row_h": ROW_H,
        "tolerance": f"{tolerance * 100:g}",
    }


def _rate_chart(evalset: SetReport) -> dict[str, Any] | None:
    """The pass rate of each origin and of the whole set, a dot on its 95% interval."""
    outcomes = evalset.outcomes()
    if outcomes is None or not (outcomes.get("coverage") or {}).get("results"):
        return None
    by_origin: Mapping[str, Any] = outcomes.get("origins") or {}
    subsets: list[tuple[str, Any]] = [(origin, by_origin.get(origin)) for origin in ORIGINS]
    subsets.append(("whole set", outcomes.get("coverage")))
    rows = []
    for index, (name, subset) in enumerate(subsets):
        y = index * ROW_H
        rate = pass_rate(subset)
        row: dict[str, Any] = {"name": name, "text_y": y + ROW_H * 0.65, "rate": None}
        if rate is None:
            row["label"] = "no outcome"
        else:
            low = rate["low"] if rate["low"] is not None else rate["rate"]
            high = rate["high"] if rate["high"] is not None else rate["rate"]
            row["rate"] = {
                "x": round(LABEL_W + rate["rate"] * BAR_W, 1),
                "low": round(LABEL_W + low * BAR_W, 1),
                "high": round(LABEL_W + high * BAR_W, 1),
                "y": y + ROW_H / 2,
            }
            row["label"] = (
                f"{format_rate(rate['rate'], (low, high))} of {rate['n']} "
                f"result{'s' if rate['n'] != 1 else ''}"
            )
        rows.append(row)
    ticks = [{"x": LABEL_W + BAR_W * t / 4, "label": f"{t * 25}%"} for t in range(5)]
    return {
        "rows": rows,
        "height": len(rows) * ROW_H + 18,
        "axis_y": len(rows) * ROW_H,
        "width": LABEL_W + BAR_W + 240,
        "ticks": ticks,
    }


def _grid_context(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not data or "cells" not in data:
        return None
    with_outcomes = bool(data.get("outcomes"))
    minimum = int(data.get("min_per_cell", 1))
    tables = []
    for drawn in grid.tables(data):
        rows = []
        for value, cells in zip(drawn.rows, drawn.cells, strict=True):
            rows.append(
                {"value": value, "cells": [_cell(s, with_outcomes, minimum) for s in cells]}
            )
        tables.append(
            {
                "row_axis": drawn.row_axis,
                "column_axis": drawn.column_axis,
                "columns": drawn.columns if drawn.column_axis is not None else ["examples"],
                "rows": rows,
            }
        )
    return {
        "placed": grid.placed_line(data),
        "with_outcomes": with_outcomes,
        "tables": tables,
        "low": grid.low_lines(data) if with_outcomes else [],
        "failing": grid.failing_cells(data),
    }


def _cell(summary: grid.Summary, with_outcomes: bool, minimum: int) -> dict[str, Any]:
    """A heatmap cell: its counts, pass rate, marks and shade (a CSS class)."""
    marks = []
    if summary.failing:
        marks.append(grid.FAILING)
    if summary.synthetic_only:
        marks.append(grid.SYNTHETIC_ONLY)
    if summary.low:
        marks.append(grid.LOW)
    if with_outcomes:
        rate = summary.rate
        shade = (
            "none" if rate is None else next(name for floor, name in RATE_CLASSES if rate >= floor)
        )
        rate_text = f"{rate:.0%}" if rate is not None else "-"
    else:
        rate_text = None
        if summary.failing:
            shade = "r0"
        elif summary.total == 0:
            shade = "none"
        else:
            shade = "r3" if summary.total >= 2 * max(minimum, 1) else "r2"
    classes = [shade]
    if summary.failing:
        classes.append("failing")
    if summary.synthetic_only:
        classes.append("synonly")
    return {
        "counts": summary.counts_text(),
        "rate": rate_text,
        "marks": " ".join(marks),
        "classes": " ".join(classes),
    }


RATE_CLASSES = ((0.9, "r3"), (0.75, "r2"), (0.5, "r1"), (0.0, "r0"))


def _grouped(evalset: SetReport, kind: str, budget: Budget) -> list[dict[str, Any]]:
    """Findings (or warnings) by check, each as its rendered line: the first CAP of each, as
    far as the budget goes."""
    groups = []
    for check in evalset.checks.values():
        items = check.findings if kind == "findings" else check.warnings
        if items:
            lines = budget.fit(f.render() for f in items[:CAP])
            groups.append(
                {
                    "check": check.name,
                    "total": len(items),
                    "lines": lines,
                    "more": len(items) - len(lines),
                }
            )
    return groups


def _due_context(evalset: SetReport, budget: Budget) -> dict[str, Any]:
    owners = []
    left = CAP
    total = 0
    for owner, entries in evalset.coming_due():
        total += len(entries)
        shown = []
        for entry in entries[: max(left, 0)]:
            if not budget.take(f"{entry['backfill_by']} {entry['id']} {entry['path']} xx"):
                break
            shown.append(entry)
        left -= len(shown)
        owners.append(
            {
                "owner": owner or "(no owner)",
                "total": len(entries),
                "entries": [
                    {
                        "date": str(e["backfill_by"]),
                        "id": str(e["id"]),
                        "when": due_in(int(e["days_left"])),
                        "where": f"{e['path']}:{e['line']}",
                    }
                    for e in shown
                ],
                "more": len(entries) - len(shown),
            }
        )
    return {"owners": owners, "total": total}


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d1d1f; margin: 2em auto; max-width: 72em;
  padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
.failed { color: #b00020; } .passed { color: #1b7a2e; } .skipped { color: #7a6200; }
.heat td.cell { min-width: 8em; }
.r3 { background: #cdebd3; } .r2 { background: #f3eab4; } .r1 { background: #f7cfa0; }
.r0 { background: #f2b8b5; } .none { background: #eeeeee; color: #666; }
td.failing { outline: 3px solid #b00020; outline-offset: -3px; }
td.synonly { border: 3px dashed #b0741c; }
.legend span { display: inline-block; padding: 0 .5em; margin-right: .4em; border: 1px solid #ccc; }
svg text { font: 13px system-ui, sans-serif; fill: #1d1d1f; }
.muted { color: #666; }
td code { white-space: nowrap; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evalmix report</title>
<style>{{ style }}</style>
</head>
<body>
<h1>evalmix report</h1>
<p id="summary">{{ sets|length }} eval set{{ '' if sets|length == 1 else 's' }}, checked on \
{{ today }}:
{% if failing %}<strong class="failed">{{ failing|length }} failing ({{ failing|join(', ') }})\
</strong>{% elif errors %}<strong class="failed">a manifest could not be read</strong>\
{% elif sets %}<strong class="passed">every check passed</strong>\
{% else %}no eval set was checked{% endif %}</p>
{% if errors %}
<h2>Manifests that could not be read</h2>
<pre>{% for e in errors %}{{ e }}
{% endfor %}</pre>
{% endif %}
{% for s in sets %}
<section class="set">
<h2 class="{{ s.status }}">{{ s.name }}</h2>
<p><code>{{ s.manifest }}</code> · {{ s.total }} example{{ '' if s.total == 1 else 's' }} · \
<span class="{{ s.status }}">{{ s.status }}</span></p>
{% if s.since %}
<h3>What changed</h3>
<p class="since">{{ s.since.headline }}</p>
{% if s.since.rows %}
<table class="delta"><tr>{% for h in s.since.headers %}<th{% if not loop.first %} class="num"\
{% endif %}>{{ h }}</th>{% endfor %}</tr>
{% for row in s.since.rows %}<tr>{% for c in row %}<td{% if not loop.first %} class="num"\
{% endif %}>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endif %}
{% if s.since.new_files %}<p>New data files: {% for f in s.since.new_files %}<code>{{ f }}</code>\
{{ ', ' if not loop.last }}{% endfor %}</p>{% endif %}
{% if s.since.lists or s.since.golds_total %}
<details class="named"><summary>The records\
{% for l in s.since.lists %}{{ ':' if loop.first else ',' }} {{ l.total }} {{ l.kind }}{% endfor %}\
{% if s.since.golds_total %}{{ ',' if s.since.lists else ':' }} {{ s.since.golds_total }} \
gold{{ '' if s.since.golds_total == 1 else 's' }} changed{% endif %}</summary>
{% for l in s.since.lists %}<p>{{ l.kind }}: {% for rid in l.ids %}<code>{{ rid }}</code>\
{{ ', ' if not loop.last }}{% endfor %}{% if l.more %}, and {{ l.more }} more{% endif %}</p>
{% endfor %}
{% if s.since.golds_total %}<p>golds changed, old → new:</p>
<ul class="golds">{% for g in s.since.golds %}<li><code>{{ g.id }}</code>: \
<code>{{ g.old }}</code> → <code>{{ g.new }}</code></li>
{% endfor %}{% if s.since.golds_more %}<li>and {{ s.since.golds_more }} more</li>{% endif %}</ul>
{% endif %}
</details>
{% endif %}
{% endif %}
<h3>Mix</h3>
<svg class="mix" role="img" aria-label="the mix of {{ s.name }} against its targets" \
width="{{ s.mix.width }}" height="{{ s.mix.height }}" viewBox="0 0 {{ s.mix.width }} \
{{ s.mix.height }}">
{% for r in s.mix.rows %}<g>
<text x="0" y="{{ r.text_y }}">{{ r.origin }}</text>
<rect x="{{ s.mix.label_w }}" y="{{ r.y + 4 }}" width="{{ s.mix.bar_w }}" \
height="{{ s.mix.row_h - 8 }}" fill="#f0f0f0"></rect>
{% if r.target %}<rect x="{{ r.target.band_x }}" y="{{ r.y + 2 }}" width="{{ r.target.band_w }}" \
height="{{ s.mix.row_h - 4 }}" fill="#d8d8d8"></rect>{% endif %}
<rect x="{{ s.mix.label_w }}" y="{{ r.y + 7 }}" width="{{ r.width }}" \
height="{{ s.mix.row_h - 14 }}" fill="{{ r.colour }}"></rect>
{% if r.target %}<line x1="{{ r.target.x }}" x2="{{ r.target.x }}" y1="{{ r.y + 1 }}" \
y2="{{ r.y + s.mix.row_h - 1 }}" stroke="#1d1d1f" stroke-width="2"></line>{% endif %}
<text x="{{ s.mix.label_w + s.mix.bar_w + 8 }}" y="{{ r.text_y }}">{{ r.label }}</text>
</g>
{% endfor %}</svg>
<p class="muted">Bars: each origin's share of the set; the black line is its target, the grey \
band the tolerance of ± {{ s.mix.tolerance }} points.</p>
{% if s.rates %}
<h3>Pass rates</h3>
<svg class="rates" role="img" aria-label="pass rates of {{ s.name }} with 95% intervals" \
width="{{ s.rates.width }}" height="{{ s.rates.height }}" viewBox="0 0 {{ s.rates.width }} \
{{ s.rates.height }}">
{% for t in s.rates.ticks %}<line x1="{{ t.x }}" x2="{{ t.x }}" y1="0" y2="{{ s.rates.axis_y }}" \
stroke="#e2e2e2"></line><text x="{{ t.x - 10 }}" y="{{ s.rates.axis_y + 14 }}">{{ t.label }}</text>
{% endfor %}
{% for r in s.rates.rows %}<g>
<text x="0" y="{{ r.text_y }}">{{ r.name }}</text>
{% if r.rate %}<line x1="{{ r.rate.low }}" x2="{{ r.rate.high }}" y1="{{ r.rate.y }}" \
y2="{{ r.rate.y }}" stroke="#1d1d1f" stroke-width="2"></line>
<circle cx="{{ r.rate.x }}" cy="{{ r.rate.y }}" r="5" fill="#3b6ea8"></circle>{% endif %}
<text x="{{ s.rates.width - 230 }}" y="{{ r.text_y }}">{{ r.label }}</text>
</g>
{% endfor %}</svg>
<p class="muted">A dot at each pass rate, the line its 95% interval.</p>
{% endif %}
{% if s.grid %}
<h3>Coverage grid</h3>
<p>{{ s.grid.placed }}; {{ s.grid.failing }} failing \
cell{{ '' if s.grid.failing == 1 else 's' }}.</p>
<p class="legend">Each cell: examples by origin (production · synthetic · adversarial)\
{% if s.grid.with_outcomes %}, then the pass rate. <span class="r3">90% or more</span>\
<span class="r2">75–90%</span><span class="r1">50–75%</span><span class="r0">under 50%</span>\
<span class="none">no outcome</span>{% else %}. <span class="r3">at least twice min_per_cell</span>\
<span class="r2">fewer</span><span class="r0">failing</span><span class="none">empty</span>\
{% endif %} {{ marks.failing }} fails coverage (red outline); {{ marks.synonly }} only synthetic \
examples reach it (dashed border), where production never goes\
{% if s.grid.with_outcomes %}; {{ marks.low }} pass rate significantly below the rest of the set\
{% endif %}.</p>
{% for t in s.grid.tables %}
<table class="heat">
<caption>{{ t.row_axis }}{% if t.column_axis %} × {{ t.column_axis }}{% endif %}</caption>
<tr><th>{{ t.row_axis }}{% if t.column_axis %} ↓ {{ t.column_axis }} →{% endif %}</th>\
{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr><th>{{ row.value }}</th>{% for c in row.cells %}\
<td class="cell {{ c.classes }}">{{ c.counts }}{% if c.rate is not none %} ({{ c.rate }})\
{% endif %}{% if c.marks %} {{ c.marks }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}
{% if s.grid.low %}<ul class="low">{% for line in s.grid.low %}<li>{{ line }}</li>{% endfor %}</ul>\
{% endif %}
{% endif %}
<h3>Checks</h3>
<table class="checks"><tr><th>check</th><th>result</th></tr>
{% for c in s.checks %}<tr><td><code>{{ c.name }}</code></td><td class="{{ c.status }}">\
{{ c.headline }}</td></tr>
{% endfor %}</table>
{% if s.due.owners %}
<h3>Provisional labels coming due</h3>
{% for o in s.due.owners %}<h4>{{ o.owner }} ({{ o.total }})</h4>
<ul class="due">{% for e in o.entries %}<li>{{ e.date }} <code>{{ e.id }}</code> {{ e.when }} \
(<code>{{ e.where }}</code>)</li>
{% endfor %}{% if o.more %}<li>and {{ o.more }} more</li>{% endif %}</ul>
{% endfor %}
{% endif %}
{% for kind, groups in [('Findings', s.findings), ('Warnings', s.warnings)] %}{% if groups %}
<h3>{{ kind }}</h3>
{% for g in groups %}<h4><code>{{ g.check }}</code> ({{ g.total }})</h4>
<pre class="{{ kind|lower }}">{% for line in g.lines %}{{ line }}
{% endfor %}</pre>
{% if g.more %}<p>… and {{ g.more }} more, not listed here: the JSON report has them all.</p>\
{% endif %}
{% endfor %}
{% endif %}{% endfor %}
</section>
{% endfor %}
</body>
</html>
"""
