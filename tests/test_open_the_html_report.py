"""``--evalmix-report=r.html`` (docs/options.md, docs/ci.md): the page a person opens from a CI
artifact. Its contents, with and without pytest-xdist; and the page in a real Chromium driven by
Playwright: what it shows, that it fetches nothing, logs no error, and runs nothing from data.

Without Chromium the browser tests skip with the line that installs it, except under ``CI=true``,
where they fail: CI must run them (``.ci/run`` installs it)."""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, jsonl, record, run

# Read at import: the autouse fixture of conftest.py clears CI for the inner runs.
UNDER_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "apt-get install chromium"

HOSTILE = "<img src=x onerror=alert(1)>"
MANIFEST = (
    "evalmix: 1\n"
    "name: support <script>alert(2)</script>\n"
    "data: [data/support.jsonl]\n"
    "results: results.jsonl\n"
    "policy:\n"
    "  coverage:\n"
    "    axes: {feature: [billing, refunds], persona: [angry, terse, calm]}\n"
)


def placed(rid: str, origin: str, feature: str, persona: str, **extra: Any) -> dict[str, Any]:
    return record(rid, origin, grid={"feature": feature, "persona": persona}, **extra)


def hostile_set(project: pytest.Pytester, write_set: WriteSet) -> None:
    """10/5/5 over a 2 × 3 grid: the ``calm`` column is empty (two failing cells), refunds ×
    terse only synthetic; one record's id is an HTML tag and its LLM label is not provisional
    (a finding naming it); one provisional label is due in 6 days; 15 results."""
    records = [
        placed(f"prod-{i}", "production", "billing", ("angry", "terse")[i % 2]) for i in range(6)
    ]
    records += [placed(f"prod-{i}", "production", "refunds", "angry") for i in range(6, 9)]
    records.append(
        placed(HOSTILE, "production", "refunds", "angry", label={"source": "llm", "by": "m"})
    )
    records += [placed(f"syn-{i}", "synthetic", "refunds", "terse") for i in range(5)]
    records += [placed(f"adv-{i}", "adversarial", "billing", "angry") for i in range(4)]
    records.append(
        placed(
            "adv-4",
            "adversarial",
            "billing",
            "angry",
            label={
                "source": "llm",
                "by": "m",
                "provisional": {
                    "owner": "priya",
                    "backfill_by": "2026-12-01",
                    "created": "2026-11-01",
                },
            },
        )
    )
    write_set(records, manifest=MANIFEST)
    results = [{"id": f"prod-{i}", "passed": i < 8} for i in range(9)]
    results.append({"id": HOSTILE, "passed": False})
    results += [{"id": f"syn-{i}", "passed": True} for i in range(5)]
    (project.path / "results.jsonl").write_text(jsonl(results), encoding="utf-8")


def report(project: pytest.Pytester, write_set: WriteSet, *args: str) -> Path:
    hostile_set(project, write_set)
    result = run(project, "--evalmix", "--evalmix-report=out/r.html", *args)
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["evalmix: HTML report written to out/r.html"])
    return project.path / "out" / "r.html"


GOLD_PROVENANCE = (
    f"data/support.jsonl:10: {HOSTILE}: gold written by m and not provisional — hand-label it, "
    "make it programmatic with a checker, or mark it provisional with an owner and a backfill "
    "date"
)


def test_the_html_file_is_self_contained_and_escapes_data(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    page = report(project, write_set, *xdist).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n")
    # Nothing that runs, nothing that loads.
    assert "<script" not in page and "<img" not in page
    assert re.search(r"<[^>]*\s(src|href)=", page) is None
    assert "http://" not in page and "https://" not in page
    assert "default-src 'none'" in page
    # Data text appears only escaped.
    assert html.escape(HOSTILE, quote=True) in page
    assert "support &lt;script&gt;alert(2)&lt;/script&gt;" in page
    # The mix as SVG bars with their labels, and the pass rates with their intervals.
    assert page.count('<svg class="mix"') == 1 and page.count('<svg class="rates"') == 1
    assert "10 (50.0%), target 50%" in page
    assert "80.0% [49.0–94.3] of 10 results" in page
    # The grid as a heatmap with its marks.
    assert "20 of 20 examples placed in the grid; 2 failing cells." in page
    assert '<td class="cell none failing">0 · 0 · 0 (-) ✗</td>' in page
    assert '<td class="cell r3 synonly">0 · 5 · 0 (100%) ◇</td>' in page
    # Findings by check, each as path:line: id: message — fix.
    findings = re.findall(r'<pre class="findings">(.*?)</pre>', page, re.S)
    assert any(html.escape(GOLD_PROVENANCE) in block for block in findings)
    assert "<h4><code>gold-provenance</code> (1)</h4>" in page
    # Provisional labels coming due, by owner.
    assert "<h4>priya (1)</h4>" in page
    assert "2026-12-01 <code>adv-4</code> in 6 days (<code>data/support.jsonl:20</code>)" in page


def test_findings_past_the_cap_are_counted_not_listed(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    records = [record(f"bad-{i}", origin="nowhere") for i in range(220)]
    write_set(records)
    result = run(project, "--evalmix", "--evalmix-report=r.html")
    assert result.ret == 1
    page = (project.path / "r.html").read_text(encoding="utf-8")
    assert "<h4><code>schema</code> (220)</h4>" in page
    assert "… and 20 more, not listed here: the JSON report has them all." in page
    [block] = re.findall(r'<pre class="findings">(.*?)</pre>', page, re.S)
    assert len(block.splitlines()) == 200


# -- in a real browser ----------------------------------------------------------------------


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if UNDER_CI:
            pytest.fail(f"CI=true but no Chromium on PATH: {INSTALL} (.ci/run does it)")
        pytest.skip(f"no Chromium on PATH: {INSTALL}")
    return CHROMIUM


def test_the_page_in_chromium_shows_the_report_and_runs_nothing(
    project: pytest.Pytester, write_set: WriteSet, chromium: str
) -> None:
    from playwright.sync_api import Dialog, sync_playwright

    path = report(project, write_set)
    url = path.resolve().as_uri()
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page(java_script_enabled=True)
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", on_dialog)
            page.goto(url)
            page.wait_for_load_state("load")
            text = page.inner_text("body")
            images = page.locator("img").count()
            scripts = page.locator("script").count()
            mix = page.locator("svg.mix text").all_text_contents()
            visible = page.locator("svg.mix").is_visible()
            cells = page.locator("table.heat td").all_inner_texts()
            findings = page.locator("pre.findings").all_inner_texts()
            title = page.locator("h2").first.inner_text()
        finally:
            browser.close()
    assert requests == [url]
    assert errors == []
    assert dialogs == []
    assert images == 0 and scripts == 0
    assert title == "support <script>alert(2)</script>"
    assert visible
    assert mix == [
        "production",
        "10 (50.0%), target 50%",
        "synthetic",
        "5 (25.0%), target 25%",
        "adversarial",
        "5 (25.0%), target 25%",
    ]
    assert cells == [
        "3 · 0 · 5 (100%)",
        "3 · 0 · 0 (100%)",
        "0 · 0 · 0 (-) ✗",
        "4 · 0 · 0 (50%)",
        "0 · 5 · 0 (100%) ◇",
        "0 · 0 · 0 (-) ✗",
    ]
    assert any(GOLD_PROVENANCE in block for block in findings)
    assert HOSTILE in text  # shown as text
    assert "80.0% [49.0–94.3] of 10 results" in text
    assert "priya (1)" in text


def test_jinja2_is_imported_only_for_an_html_report(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set()
    project.makeconftest(
        "import sys\n"
        "def pytest_unconfigure(config):\n"
        "    print('JINJA2', 'jinja2' in sys.modules)\n"
    )
    args = ("-p", "no:cacheprovider", "--evalmix", "-s", "--evalmix-today=2026-11-25")
    result = project.runpytest_subprocess(*args, "--evalmix-report=r.md")
    result.stdout.fnmatch_lines(["JINJA2 False"])
    result = project.runpytest_subprocess(*args, "--evalmix-report=r.html")
    result.stdout.fnmatch_lines(["JINJA2 True"])
