"""`report.html.to_html` on a report built in memory: the page stays small however many
findings a million-example run has, because past the cap they are counted, not listed."""

from __future__ import annotations

import datetime as dt

from pytest_evalmix.model.findings import Finding
from pytest_evalmix.report.data import CheckReport, Report, SetReport
from pytest_evalmix.report.html import CAP, to_html

CHECKS = (
    "schema",
    "gold-provenance",
    "provisional",
    "mix",
    "pass-rates",
    "failure-modes",
    "coverage",
    "review",
    "changes",
    "duplicates",
    "leakage",
    "agreement",
)


def test_a_report_with_a_million_findings_stays_under_five_megabytes() -> None:
    long = "'quoted' <and> \"escaped\" & " * 12  # every character that HTML escapes, 300 chars
    checks = {}
    for name in CHECKS:
        findings = [
            Finding(f"data/part-{i % 7}.jsonl", i + 1, f"record-{i:07d}", long, long, name)
            for i in range(1_000_000 // len(CHECKS))
        ]
        checks[name] = CheckReport(name, "failed", findings=findings, warnings=findings[:CAP])
    counts = {"production": 500_000, "synthetic": 250_000, "adversarial": 250_000}
    targets = {"production": 0.5, "synthetic": 0.25, "adversarial": 0.25}
    evalset = SetReport("big", "big.evalmix.yaml", 1_000_000, counts, targets, checks)
    page = to_html(Report(sets=[evalset]), today=dt.date(2026, 11, 25))
    assert len(page.encode("utf-8")) <= 5_000_000
    rest = 1_000_000 // len(CHECKS) - CAP
    assert page.count(f"… and {rest} more, not listed here") == len(CHECKS)
    assert "<and>" not in page and "&lt;and&gt;" in page
