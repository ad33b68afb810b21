"""The four views of ``evalmix history``: a terminal table, Markdown, JSON and HTML (docs/cli.md).

Each renders the same `History` rows. Every text that comes from data (the set's name, an
error's message, which quotes a manifest) is escaped for where it is shown: `model.text.escape`
for the terminal and JSON, Markdown's own escapes, and jinja2's autoescape in HTML. The HTML
page is self-contained: inline SVG line charts and inline CSS, no script, no external URL.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_evalmix.model.text import escape, safe_data
from pytest_evalmix.revisions.history import ORIGINS, History, Row

FORMATS = ("table", "md", "json", "html")
SHORT = 12


def _share(row: Row, origin: str) -> str:
    return f"{row.counts[origin]} ({row.shares[origin]:.0%})"


def _rates(row: Row) -> str:
    if row.pass_rates is None:
        return "-"
    return ", ".join(f"{o} {row.pass_rates[o]:.0%}" for o in ORIGINS if o in row.pass_rates)


def _cells(row: Row) -> list[Any]:
    if row.error is not None:
        return [row.commit[:SHORT], row.date, "", "", "", "", "", "", "", row.error]
    return [
        row.commit[:SHORT],
        row.date,
        *(_share(row, o) for o in ORIGINS),
        row.llm_golds,
        row.open,
        row.overdue,
        _rates(row),
        "",
    ]


HEADERS = [
    "commit",
    "date",
    *ORIGINS,
    "llm golds",
    "provisional",
    "overdue",
    "pass rates",
    "error",
]


def _title(history: History) -> str:
    count = len(history.rows)
    return f"history of {history.name} ({history.manifest}): {count} commit{'s' * (count != 1)}"


def to_table(history: History) -> str:
    from tabulate import tabulate

    rows = [[escape(str(cell)) for cell in _cells(row)] for row in history.rows]
    body = tabulate(rows, headers=HEADERS, tablefmt="simple", disable_numparse=True)
    return f"{escape(_title(history))}\n{body}\n" if rows else f"{escape(_title(history))}\n"


def _md(text: str) -> str:
    text = escape(text)
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def to_markdown(history: History) -> str:
    out = [f"## {_md(_title(history))}", ""]
    if history.rows:
        out.append("| " + " | ".join(HEADERS) + " |")
        out.append("|" + "---|" * len(HEADERS))
        for row in history.rows:
            cells = _cells(row)
            cells[0] = f"`{cells[0]}`"
            out.append(
                "| " + " | ".join(_md(str(c)) if i else c for i, c in enumerate(cells)) + " |"
            )
    return "\n".join(out) + "\n"


def to_json(history: History) -> str:
    return json.dumps(safe_data(history.as_json()), indent=2) + "\n"


WIDTH, HEIGHT, PAD = 560, 180, 36
COLOURS = {
    "production": "#1b7837",
    "synthetic": "#b35806",
    "adversarial": "#5e3c99",
    "llm golds": "#b2182b",
    "open": "#2166ac",
    "overdue": "#d6604d",
}


def _chart(title: str, rows: list[Row], series: dict[str, list[float | None]], unit: str) -> Any:
    """One line chart: points from numbers only; the texts are escaped by the template."""
    values = [v for points in series.values() for v in points if v is not None]
    top = max(values, default=0) or 1
    if unit == "%":
        top = 1.0
    span = max(len(rows) - 1, 1)
    lines = []
    for label, points in series.items():
        coords = [
            (PAD + i * (WIDTH - 2 * PAD) / span, HEIGHT - PAD - v * (HEIGHT - 2 * PAD) / top)
            for i, v in enumerate(points)
            if v is not None
        ]
        lines.append(
            {
                "label": label,
                "colour": COLOURS.get(label, "#333"),
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                "dots": coords,
            }
        )
    top_label = "100%" if unit == "%" else f"{top:g}"
    return {"title": title, "lines": lines, "top": top_label}


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{ title }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td.text{text-align:left}figure{display:inline-block;margin:0 1em 1em 0}
.legend span{margin-right:1em}
</style></head><body>
<h1>{{ title }}</h1>
{% if not rows %}<p>No commit changed this set.</p>{% endif %}
{% for chart in charts %}<figure><figcaption>{{ chart.title }}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ width }}" height="{{ height }}" role="img">
<title>{{ chart.title }}</title>
<line x1="{{ pad }}" y1="{{ height - pad }}" x2="{{ width - pad }}" y2="{{ height - pad }}"
 stroke="#999"/>
<line x1="{{ pad }}" y1="{{ pad }}" x2="{{ pad }}" y2="{{ height - pad }}" stroke="#999"/>
<text x="2" y="{{ pad + 4 }}" font-size="10">{{ chart.top }}</text>
<text x="2" y="{{ height - pad + 4 }}" font-size="10">0</text>
<text x="{{ pad }}" y="{{ height - 8 }}" font-size="10">{{ first }}</text>
<text x="{{ width - pad }}" y="{{ height - 8 }}" font-size="10" text-anchor="end">{{ last }}</text>
{% for line in chart.lines %}<polyline fill="none" stroke="{{ line.colour }}" stroke-width="2"
 points="{{ line.points }}"/>
{% for x, y in line.dots %}<circle cx="{{ '%.1f' % x }}" cy="{{ '%.1f' % y }}" r="2.5"
 fill="{{ line.colour }}"/>{% endfor %}
{% endfor %}</svg>
<div class="legend">{% for line in chart.lines %}<span style="color:{{ line.colour }}">
&#9632; {{ line.label }}</span>{% endfor %}</div>
</figure>
{% endfor %}
<table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for cells in table %}<tr>{% for cell in cells %}<td
{%- if loop.first or loop.last %} class="text"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
</body></html>
"""


def to_html(history: History) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    rows = list(reversed(history.rows))  # oldest first, left to right
    good = [row for row in rows if row.error is None]
    charts = []
    if good:
        charts = [
            _chart("Counts by origin", good, {o: [r.counts[o] for r in good] for o in ORIGINS}, ""),
            _chart(
                "Shares by origin", good, {o: [r.shares[o] for r in good] for o in ORIGINS}, "%"
            ),
            _chart("Golds labelled llm", good, {"llm golds": [r.llm_golds for r in good]}, ""),
            _chart(
                "Provisional labels",
                good,
                {"open": [r.open for r in good], "overdue": [r.overdue for r in good]},
                "",
            ),
        ]
        if any(r.pass_rates is not None for r in good):
            rates: dict[str, list[float | None]] = {
                o: [(r.pass_rates or {}).get(o) for r in good] for o in ORIGINS
            }
            charts.append(_chart("Pass rates by origin", good, rates, "%"))
    return env.from_string(TEMPLATE).render(
        title=escape(_title(history)),
        rows=rows,
        charts=charts,
        width=WIDTH,
        height=HEIGHT,
        pad=PAD,
        first=good[0].date if good else "",
        last=good[-1].date if good else "",
        headers=HEADERS,
        table=[[escape(str(cell)) for cell in _cells(row)] for row in history.rows],
    )


RENDER = {"table": to_table, "md": to_markdown, "json": to_json, "html": to_html}
