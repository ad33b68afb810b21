"""Reports (docs/options.md, §10): ``--evalmix-report`` as Markdown and JSON, the GitHub step summary,
the compact ``-q`` summary and colours, with and without pytest-xdist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, WriteSet, healthy, jsonl, record, run

RESULTS_MANIFEST = "evalmix: 1\nname: support\ndata: [data/support.jsonl]\nresults: results.jsonl\n"


def with_results(project: pytest.Pytester, write_set: WriteSet) -> None:
    """The healthy 10/5/5 set, with results: production 8 of 10 pass, synthetic 5 of 5."""
    write_set(manifest=RESULTS_MANIFEST)
    results = [{"id": f"prod-{i}", "passed": i < 8} for i in range(10)]
    results += [{"id": f"syn-{i}", "passed": True} for i in range(5)]
    (project.path / "results.jsonl").write_text(jsonl(results), encoding="utf-8")


def failing_set() -> list[dict[str, Any]]:
    """Every origin production (the mix fails), one record with a misspelt key (schema fails),
    and a provisional label due in 6 days (a warning, and a label coming due)."""
    records = [record(f"prod-{i}") for i in range(18)]
    records.append(
        record(
            "prov-1",
            source="llm",
            label={
                "source": "llm",
                "by": "claude-opus-4-7",
                "provisional": {
                    "owner": "priya",
                    "backfill_by": "2026-12-01",
                    "created": "2026-11-01",
                },
            },
        )
    )
    bad = record("typo-1")
    bad["orgin"] = bad.pop("origin")
    records.append(bad)
    return records


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check(data: dict[str, Any], name: str, set_index: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in data["sets"][set_index]["checks"] if c["name"] == name)
    return found


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every Markdown table row, split on unescaped pipes as GitHub does."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)
            assert cells[0] == "" and cells[-1] == "", line
            rows.append([cell.strip() for cell in cells[1:-1]])
    return rows


# -- JSON and Markdown against a healthy set ----------------------------------------------


def test_healthy_set_reports(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    with_results(project, write_set)
    result = run(
        project,
        "--evalmix",
        "--evalmix-report=out/report.json",
        "--evalmix-report=report.md",
        *xdist,
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "evalmix: JSON report written to out/report.json",
            "evalmix: Markdown report written to report.md",
        ]
    )

    data = read_json(project.path / "out" / "report.json")
    assert data["evalmix_report"] == 1
    assert data["today"] == TODAY
    assert data["status"] == "passed"
    assert data["errors"] == []
    assert len(data["sets"]) == 1
    evalset = data["sets"][0]
    assert (evalset["name"], evalset["manifest"], evalset["total"], evalset["status"]) == (
        "support",
        "support.evalmix.yaml",
        20,
        "passed",
    )
    origins = {o["origin"]: o for o in evalset["origins"]}
    assert [o["origin"] for o in evalset["origins"]] == ["production", "synthetic", "adversarial"]
    assert {k: (o["count"], o["share"], o["target"]) for k, o in origins.items()} == {
        "production": (10, 0.5, 0.5),
        "synthetic": (5, 0.25, 0.25),
        "adversarial": (5, 0.25, 0.25),
    }
    production = origins["production"]["pass_rate"]
    assert production["rate"] == 0.8 and production["n"] == 10 and production["passed"] == 8
    # The 95% Wilson interval of 8/10.
    assert production["low"] == pytest.approx(0.4902, abs=1e-4)
    assert production["high"] == pytest.approx(0.9433, abs=1e-4)
    assert origins["synthetic"]["pass_rate"]["rate"] == 1.0
    assert origins["adversarial"]["pass_rate"] is None  # no result for any adversarial example
    assert evalset["pass_rate"]["n"] == 15 and evalset["pass_rate"]["passed"] == 13
    assert evalset["coming_due"] == []
    names = [c["name"] for c in evalset["checks"]]
    assert names[:4] == ["schema", "gold-provenance", "provisional", "mix"]
    assert "pass-rates" in names
    for entry in evalset["checks"]:
        assert entry["status"] in ("passed", "skipped"), entry
        assert entry["findings"] == []
        assert set(entry) == {"name", "status", "findings", "warnings", "skipped", "data"}
    assert check(data, "mix")["status"] == "passed"
    assert check(data, "pass-rates")["skipped"].startswith("production has 10 outcomes")

    markdown = (project.path / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# evalmix report\n")
    assert f"1 eval set, checked on {TODAY}: ✅ every check passed" in markdown
    assert "## ✅ support\n" in markdown
    rows = table_rows(markdown)
    assert ["origin", "count", "share", "target", "results", "pass rate [95% CI]"] in rows
    assert ["production", "10", "50.0%", "50%", "10", "80.0% [49.0–94.3]"] in rows
    assert ["synthetic", "5", "25.0%", "25%", "5", "100.0% [56.6–100.0]"] in rows
    assert ["adversarial", "5", "25.0%", "25%", "0", "-"] in rows
    assert ["**total**", "**20**", "100.0%", "", "15", "86.7% [62.1–96.3]"] in rows
    assert ["`schema`", "✅ passed"] in rows
    assert ["`mix`", "✅ passed"] in rows
    assert (
        "```mermaid\n"
        "pie showData title support: 20 examples\n"
        '    "production" : 10\n'
        '    "synthetic" : 5\n'
        '    "adversarial" : 5\n'
        "```\n"
    ) in markdown
    assert "### Findings" not in markdown


# -- JSON and Markdown against a failing set ----------------------------------------------


def test_failing_set_reports(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(failing_set())
    result = run(project, "--evalmix", "--evalmix-report=r.json", "--evalmix-report=r.md", *xdist)
    assert result.ret == 1

    data = read_json(project.path / "r.json")
    assert data["status"] == "failed"
    evalset = data["sets"][0]
    assert evalset["status"] == "failed"
    assert evalset["total"] == 19  # the record that does not parse is not counted
    assert [(o["origin"], o["count"]) for o in evalset["origins"]] == [
        ("production", 19),
        ("synthetic", 0),
        ("adversarial", 0),
    ]
    schema = check(data, "schema")
    assert schema["status"] == "failed"
    [finding] = schema["findings"]
    assert set(finding) == {"id", "path", "line", "message", "fix"}
    assert (finding["id"], finding["path"], finding["line"]) == ("typo-1", "data/support.jsonl", 20)
    assert "unknown key 'orgin'" in finding["message"]
    mix = check(data, "mix")
    assert mix["status"] == "failed"
    [finding] = mix["findings"]
    assert (finding["id"], finding["path"], finding["line"]) == (None, "support.evalmix.yaml", 1)
    assert "production is 100.0% of the set (19 of 19)" in finding["message"]
    assert "add" in finding["fix"] or "retire" in finding["fix"]
    provisional = check(data, "provisional")
    assert provisional["status"] == "passed"
    [warning] = provisional["warnings"]
    assert (warning["id"], warning["line"]) == ("prov-1", 19)
    assert evalset["coming_due"] == [
        {
            "id": "prov-1",
            "owner": "priya",
            "backfill_by": "2026-12-01",
            "days_left": 6,
            "path": "data/support.jsonl",
            "line": 19,
        }
    ]

    markdown = (project.path / "r.md").read_text(encoding="utf-8")
    assert "1 eval set, checked on 2026-11-25: ❌ 1 failing (support)" in markdown
    assert "## ❌ support\n" in markdown
    rows = table_rows(markdown)
    assert ["production", "19", "100.0%", "50%"] in rows
    assert ["synthetic", "0", "0.0%", "25%"] in rows
    assert ["`schema`", "❌ FAILED (1 finding)"] in rows
    assert ["`mix`", "❌ FAILED (1 finding)"] in rows
    assert ["`provisional`", "✅ passed (1 warning)"] in rows
    # Mermaid refuses a zero slice: only production is in the pie.
    assert (
        '```mermaid\npie showData title support: 19 examples\n    "production" : 19\n```'
        in markdown
    )
    assert "- **priya**\n  - 2026-12-01 `prov-1` in 6 days (`data/support.jsonl:19`)" in markdown
    # Every finding, as the terminal renders it, inside a code block.
    terminal = result.stdout.str()
    for entry in ("schema", "mix"):
        for f in check(data, entry)["findings"]:
            line = f"{f['path']}:{f['line']}: {f['id'] or '-'}: {f['message']} — {f['fix']}"
            assert line in terminal
            assert f"`{entry}`:\n\n```text\n{line}\n```" in markdown
    assert "### Warnings" in markdown


def test_markdown_escapes_what_would_break_it(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """A pipe or backticks in a name, an id or an owner neither splits a table cell nor opens
    code; a finding that quotes a fence stays inside its block."""
    records = healthy()
    records[0]["label"] = {
        "source": "llm",
        "by": "m",
        "provisional": {"owner": "ana|*bo*", "backfill_by": "2026-12-24", "created": "2026-11-01"},
    }
    records[1]["id"] = "x|`y`"
    records[2]["bad```key"] = 1
    write_set(records, manifest='evalmix: 1\nname: "tri|age `v2`"\ndata: [data/support.jsonl]\n')
    result = run(project, "--evalmix", "--evalmix-report=r.md")
    assert result.ret == 1
    markdown = (project.path / "r.md").read_text(encoding="utf-8")
    assert "## ❌ tri\\|age \\`v2\\`\n" in markdown
    for row in table_rows(markdown):
        assert len(row) in (2, 4), row  # no cell was split by a pipe in the data
    assert "- **ana\\|\\*bo\\***" in markdown
    # A fence longer than the backtick run inside the finding.
    block = re.search(r"^(`{4,})text\n(.*?)\n\1$", markdown, re.M | re.S)
    assert block is not None and "bad```key" in block.group(2)
    # Nothing mermaid would misread in the pie's title.
    assert "pie showData title tri age v2: 19 examples\n" in markdown


# -- a manifest that cannot be read -------------------------------------------------------


def test_unreadable_manifest_is_in_the_reports(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    (project.path / "broken.evalmix.yaml").write_text("evalmix: 1\ndata: [\n", encoding="utf-8")
    result = run(project, "--evalmix", "--evalmix-report=r.json", "--evalmix-report=r.md", *xdist)
    assert result.ret == 2
    data = read_json(project.path / "r.json")
    assert data["status"] == "failed"
    [error] = data["errors"]
    assert error["path"] == "broken.evalmix.yaml"
    assert "broken.evalmix.yaml" in error["message"] and "Traceback" not in error["message"]
    markdown = (project.path / "r.md").read_text(encoding="utf-8")
    assert "❌ a manifest could not be read" in markdown
    assert "## Manifests that could not be read" in markdown


# -- xdist: written once, by the controller, the same bytes -------------------------------


def test_reports_are_the_same_under_xdist(project: pytest.Pytester, write_set: WriteSet) -> None:
    with_results(project, write_set)
    write_set(failing_set(), name="broken")
    written: dict[str, tuple[bytes, bytes]] = {}
    for label, extra in (("serial", []), ("xdist", ["-n", "2"])):
        result = run(
            project,
            "--evalmix",
            f"--evalmix-report={label}.json",
            f"--evalmix-report={label}.md",
            *extra,
        )
        assert result.ret == 1
        written[label] = (
            (project.path / f"{label}.json").read_bytes(),
            (project.path / f"{label}.md").read_bytes(),
        )
    assert written["serial"] == written["xdist"]
    assert [s["name"] for s in json.loads(written["xdist"][0])["sets"]] == ["broken", "support"]
    # Atomic writes leave no temporary file behind.
    assert sorted(p.name for p in project.path.glob("*.json")) == ["serial.json", "xdist.json"]
    assert not list(project.path.glob(".*.tmp"))


# -- GitHub step summary ------------------------------------------------------------------


def test_step_summary_is_appended(
    project: pytest.Pytester,
    write_set: WriteSet,
    xdist: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = project.path / "step-summary.md"
    summary.write_text("## Build\n\nearlier step's summary\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_set(failing_set())
    result = run(project, "--evalmix", "--evalmix-report=r.md", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["evalmix: Markdown report appended to GITHUB_STEP_SUMMARY"])
    text = summary.read_text(encoding="utf-8")
    report = (project.path / "r.md").read_text(encoding="utf-8")
    assert text == "## Build\n\nearlier step's summary\n\n" + report
    # Once: xdist workers write nothing.
    assert text.count("# evalmix report") == 1

    # Without --evalmix-report too, and appended again, not replaced.
    result = run(project, "--evalmix", *xdist)
    text = summary.read_text(encoding="utf-8")
    assert text == "## Build\n\nearlier step's summary\n\n" + report + "\n" + report


def test_no_step_summary_and_no_report_without_evalmix(
    project: pytest.Pytester, write_set: WriteSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed but not enabled, the plugin writes nothing."""
    summary = project.path / "step-summary.md"
    summary.write_text("kept\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_set()
    run(project, "--evalmix-report=r.json", "--evalmix-report=r.txt")
    assert summary.read_text(encoding="utf-8") == "kept\n"
    assert not (project.path / "r.json").exists()


# -- paths and bad values -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["report.txt", "report", "report.htm"])
def test_unknown_report_suffix_is_a_usage_error(
    project: pytest.Pytester, write_set: WriteSet, value: str
) -> None:
    write_set()
    result = run(project, "--evalmix", f"--evalmix-report={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: --evalmix-report={value}: unknown report format *; name the file *.md for Markdown, *.json for JSON or *.html for HTML"
        ]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_report_path_is_relative_to_the_invocation_dir(
    project: pytest.Pytester, write_set: WriteSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_set()
    sub = project.mkdir("sub")
    monkeypatch.chdir(sub)
    result = run(project, "--evalmix", "--evalmix-report=r.JSON", "--evalmix-report=../up.md", "..")
    assert result.ret == 0
    assert read_json(sub / "r.JSON")["sets"][0]["name"] == "support"
    assert (project.path / "up.md").read_text(encoding="utf-8").startswith("# evalmix report")


def test_unwritable_report_is_one_line_not_a_traceback(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set()
    (project.path / "taken").write_text("a file, not a directory\n", encoding="utf-8")
    result = run(project, "--evalmix", "--evalmix-report=taken/r.json")
    result.stdout.fnmatch_lines(["evalmix: could not write the report taken/r.json: *"])
    assert "Traceback" not in result.stdout.str()
    assert result.ret == 0  # the checks passed; the missing file is for the CI step to notice


# -- the terminal summary -----------------------------------------------------------------


def test_quiet_summary_is_one_line_per_set(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(name="alpha")
    write_set(failing_set(), name="beta")
    result = run(project, "--evalmix", "-q", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "alpha: 20 examples, production 50% / synthetic 25% / adversarial 25%; schema ok, "
            "gold-provenance ok, provisional ok, mix ok, *",
            "beta: 19 examples, production 100% / synthetic 0% / adversarial 0%; schema FAILED (1), "
            "gold-provenance ok, provisional ok (1 warning), mix FAILED (1), *; "
            "1 provisional label, next due 2026-12-01 (priya)",
        ]
    )
    output = result.stdout.str()
    assert "eval set alpha" not in output  # not the full tables
    assert not re.search(r"origin +count +share", output)


def test_summary_is_coloured_only_on_a_terminal(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(failing_set())
    plain = run(project, "--evalmix", "--color=no")
    assert "\x1b[" not in plain.stdout.str()
    plain.stdout.fnmatch_lines(["  mix  *FAILED (1 finding)"])
    coloured = run(project, "--evalmix", "--color=yes")
    out = coloured.stdout.str()
    assert re.search(r"\x1b\[31m(\x1b\[1m)?  mix +FAILED \(1 finding\)", out), out
    assert re.search(r"\x1b\[32m  gold-provenance +passed", out), out
    assert re.search(r"\x1b\[33m  provisional +passed \(1 warning\)", out), out
    quiet = run(project, "--evalmix", "--color=yes", "-q")
    # One set line, in its worst verdict's colour: failed, like a failed check's line.
    assert re.search(r"\x1b\[31m(\x1b\[1m)?support: 19 examples", quiet.stdout.str())
