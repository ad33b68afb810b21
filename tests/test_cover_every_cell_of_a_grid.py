"""The ``coverage`` check and the grid (docs/checks.md): collected only for a declared grid; cells short
of examples or of production, and undeclared axes and values, fail at their place; records
without a grid are counted as not placed; the grid in the terminal, Markdown and JSON reports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest

from conftest import WriteSet, jsonl, record, run
from pytest_evalmix.checks.outcomes.coverage import below_rest
from pytest_evalmix.formats import parallel

FEATURES = ("billing", "refunds")
PERSONAS = ("angry", "terse")
MANIFEST = (
    "evalmix: 1\n"
    "name: support\n"
    "data: [data/support.jsonl]\n"
    "policy:\n"
    "  coverage:\n"
    "    axes: {feature: [billing, refunds], persona: [angry, terse]}\n"
)


def placed(rid: str, origin: str, feature: str, persona: str, **extra: Any) -> dict[str, Any]:
    return record(rid, origin, grid={"feature": feature, "persona": persona}, **extra)


def full_grid() -> list[dict[str, Any]]:
    """The healthy 10/5/5 mix over the four cells: production in every cell."""
    cells = [(f, p) for f in FEATURES for p in PERSONAS]
    records = [placed(f"prod-{i}", "production", *cells[i % 4]) for i in range(10)]
    records += [placed(f"syn-{i}", "synthetic", *cells[i % 4]) for i in range(5)]
    records += [placed(f"adv-{i}", "adversarial", *cells[i % 4]) for i in range(5)]
    return records


def check_line(result: pytest.RunResult, name: str = "coverage") -> str:
    for line in result.stdout.lines:
        match = re.match(rf"^  {re.escape(name)}\s+(passed.*|FAILED.*|skipped.*)$", line)
        if match:
            return match.group(1)
    raise AssertionError(result.stdout.str())


def test_a_full_grid_passes_and_is_drawn(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(full_grid(), manifest=MANIFEST)
    result = run(project, "--evalmix", "-v", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*::coverage PASSED*"])
    assert check_line(result) == "passed"
    # The grid comes after the mix table, before the checks.
    result.stdout.fnmatch_lines(
        [
            "total *20*",
            "  coverage grid, feature × persona (production · synthetic · adversarial)",
            "  feature \\ persona    angry      terse",
            "  -*",
            "  billing              3 · 2 · 2  3 · 1 · 1",
            "  refunds              2 · 1 · 1  2 · 1 · 1",
            "  ✗ fails coverage, ◇ only synthetic examples",
            "  20 of 20 examples placed in the grid",
            "  schema *passed",
        ]
    )


def test_without_axes_there_is_no_coverage_item(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(full_grid())
    result = run(project, "--evalmix", "-v")
    assert result.ret == 0
    assert "::coverage" not in result.stdout.str()
    assert "coverage grid" not in result.stdout.str()


def short_grid() -> list[dict[str, Any]]:
    """refunds × terse holds nothing, billing × terse only synthetic examples, one record names a
    persona that is not declared (line 4), and two records have no grid or half of one."""
    records = [
        placed("prod-0", "production", "billing", "angry"),
        placed("prod-1", "production", "refunds", "angry"),
        placed("prod-2", "production", "billing", "angry"),
        placed("prod-3", "production", "billing", "angyr"),
        record("prod-4", "production"),
        record("prod-5", "production", grid={"feature": "billing"}),
    ]
    records += [placed(f"syn-{i}", "synthetic", "billing", "terse") for i in range(3)]
    records += [placed(f"adv-{i}", "adversarial", "refunds", "angry") for i in range(3)]
    return records


SHORT_MANIFEST = (
    "evalmix: 1\n"
    "name: support\n"
    "data: [data/support.jsonl]\n"
    "policy:\n"
    "  mix: {tolerance: 0.5}\n"
    "  coverage:\n"
    "    axes: {feature: [billing, refunds], persona: [angry, terse]}\n"
    "    production_min_per_cell: 1\n"
)


def test_short_cells_and_undeclared_values_fail_at_their_place(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(short_grid(), manifest=SHORT_MANIFEST)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert check_line(result) == "FAILED (4 findings)"
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:4: prod-3: grid.persona is 'angyr', not a declared value of "
            "persona (did you mean 'angry'?) — use one of angry, terse, or add it to "
            "coverage.axes",
            "support.evalmix.yaml:6: -: cell feature=billing,persona=terse holds 0 production "
            "examples, fewer than coverage.production_min_per_cell (1) — sample and label "
            "production traces from this cell: synthetic examples fill coverage gaps, "
            "production anchors the distribution",
            "support.evalmix.yaml:6: -: cell feature=refunds,persona=terse holds 0 examples, "
            "fewer than coverage.min_per_cell (1) — sample and label production traces from "
            "this cell, or write examples for it (propose needs a production seed in the cell "
            "to paraphrase)",
            "support.evalmix.yaml:6: -: cell feature=refunds,persona=terse holds 0 production "
            "examples, fewer than coverage.production_min_per_cell (1) — *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  billing              2 · 0 · 0  0 · 3 · 0 ✗ ◇",
            "  refunds              1 · 0 · 3  0 · 0 · 0 ✗",
            "  ✗ fails coverage, ◇ only synthetic examples",
            "  9 of 12 examples placed in the grid; 2 not placed (no grid, or only some of the "
            "axes); 1 with an undeclared axis or value",
        ]
    )
    quiet = run(project, "--evalmix", "-q", *xdist)
    quiet.stdout.fnmatch_lines(["support: 12 examples, *coverage FAILED (4)*; 2 failing cells"])


def test_an_undeclared_axis_and_a_cell_short_of_examples(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    records = full_grid()
    records[3]["grid"] = {"feature": "billing", "persona": "terse", "chanel": "email"}
    manifest = MANIFEST + "    min_per_cell: 5\n"
    write_set(records, manifest=manifest)
    result = run(project, "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:4: prod-3: grid names the axis 'chanel', which coverage.axes "
            "does not declare — use one of the axes feature, persona, or declare it",
            "support.evalmix.yaml:5: -: cell feature=refunds,persona=angry holds 4 examples, "
            "fewer than coverage.min_per_cell (5) — fill it: `evalmix propose "
            "support.evalmix.yaml --cell feature=refunds,persona=angry` paraphrases its "
            "production seeds for review (or --fill, for every cell short of examples)",
        ]
    )


@pytest.mark.parametrize(
    ("policy", "line", "message"),
    [
        ("coverage: {axes: {feature: [a]}, min_per_cel: 2}", 4, "unknown policy key "),
        ("coverage: {axes: {feature: []}}", 4, "axis 'feature' has no values"),
        ("coverage: {axes: {feature: [a, a]}}", 4, "axis 'feature' lists a more than once"),
        ("coverage: {axes: {feature: [a]}, min_per_cell: -1}", 4, "greater than or equal"),
        ("coverage: {axes: {feature: ['a,b']}}", 4, "'a,b' cannot name an axis or a value"),
        ('coverage: {axes: {"x=y": [a]}}', 4, "'x=y' cannot name an axis or a value"),
    ],
)
def test_a_bad_coverage_policy_is_a_collection_error(
    project: pytest.Pytester, write_set: WriteSet, policy: str, line: int, message: str
) -> None:
    write_set(
        full_grid(), manifest=f"evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  {policy}\n"
    )
    result = run(project, "--evalmix")
    assert result.ret == 2
    text = result.stdout.str()
    assert f"support.evalmix.yaml:{line}: " in text and message in text, text
    assert "Traceback" not in text


def test_axes_from_pyproject_and_a_manifest_replaces_them(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    project.makefile(
        ".toml",
        pyproject="[tool.pytest.ini_options]\n\n[tool.evalmix.policy]\n"
        "coverage = { axes = { feature = ['billing', 'refunds', 'shipping'] } }\n",
    )
    records = full_grid()
    write_set(records)
    result = run(project, "--evalmix")
    assert result.ret == 1  # the project grid has a shipping column nobody reaches
    result.stdout.fnmatch_lines(["*cell feature=shipping holds 0 examples*"])
    # The manifest's axes replace the project's whole: persona, and no shipping.
    write_set(records, manifest=MANIFEST)
    assert run(project, "--evalmix").ret == 0


# -- reports ------------------------------------------------------------------------------


def with_outcomes(project: pytest.Pytester, write_set: WriteSet) -> None:
    """Three axes' worth of records, with results: refunds × terse fails every time."""
    axes = "{feature: [billing, refunds], persona: [angry, terse], channel: [email, chat]}"
    manifest = (
        "evalmix: 1\nname: support <b>|x|</b>\ndata: [data/support.jsonl]\nresults: results.jsonl\n"
        f"policy:\n  coverage:\n    axes: {axes}\n"
    )
    records: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    origins = ["production"] * 2 + ["synthetic", "adversarial"]
    number = 0
    for feature in FEATURES:
        for persona in PERSONAS:
            for channel in ("email", "chat"):
                for copy in range(20):
                    origin = origins[copy % 4]
                    rid = f"{origin[:3]}-{number}"
                    number += 1
                    grid = {"feature": feature, "persona": persona, "channel": channel}
                    records.append(record(rid, origin, grid=grid))
                    bad = (feature, persona) == ("refunds", "terse")
                    results.append(
                        {
                            "id": rid,
                            "passed": not bad and copy != 7,
                            "failure_mode": "wrong queue" if bad else "timeout",
                        }
                    )
    write_set(records, manifest=manifest)
    (project.path / "results.jsonl").write_text(jsonl(results), encoding="utf-8")


def html_tables(markdown: str) -> list[list[list[str]]]:
    """Every table of the Markdown as GitHub renders it: rows of cell texts."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    found = []
    for table in re.findall(r"<table>(.*?)</table>", html, re.S):
        rows = []
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            rows.append([c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
        found.append(rows)
    return found


def test_the_grid_in_markdown_and_json(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    with_outcomes(project, write_set)
    result = run(project, "--evalmix", "--evalmix-report=r.md", "--evalmix-report=r.json", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "  coverage grid, feature × persona (production · synthetic · adversarial, pass rate)",
            "  feature \\ persona    angry             terse",
            "  -*",
            "  billing              20 · 10 · 10 95%  20 · 10 · 10 95%",
            "  refunds              20 · 10 · 10 95%  20 · 10 · 10 0% ▼",
            "  coverage grid, feature × channel (*",
            "  coverage grid, persona × channel (*",
            "  ✗ fails coverage, ◇ only synthetic examples, ▼ pass rate significantly below the "
            "rest of the set",
            "  160 of 160 examples placed in the grid",
            "  ▼ feature=refunds,persona=terse,channel=email: 0.0% (0/20) against 81.4% for the rest",
            "  ▼ feature=refunds,persona=terse,channel=chat: 0.0% (0/20) against 81.4% for the rest",
        ]
    )

    markdown = (project.path / "r.md").read_text(encoding="utf-8")
    tables = html_tables(markdown)
    grids = [t for t in tables if t[0][0].endswith("→")]
    assert [t[0] for t in grids] == [
        ["feature ↓ persona →", "angry", "terse"],
        ["feature ↓ channel →", "email", "chat"],
        ["persona ↓ channel →", "email", "chat"],
    ]
    assert grids[0][1:] == [
        ["billing", "🟩 20 · 10 · 10 (95%)", "🟩 20 · 10 · 10 (95%)"],
        ["refunds", "🟩 20 · 10 · 10 (95%)", "🟥 20 · 10 · 10 (0%)"],
    ]
    assert "🟩 passes 90% or more" in markdown
    assert (
        "Cells whose pass rate is significantly below the rest of the set (a gap over 10 points, "
        "significant at 0.05 after Holm's correction for the 8 cells compared):"
    ) in markdown
    named = [line for line in markdown.splitlines() if line.startswith("- `feature=")]
    assert named == [
        "- `feature=refunds,persona=terse,channel=email`: 0.0% (0/20) against 81.4% for the rest, "
        "p < 0.0001; failure modes: wrong queue (20)",
        "- `feature=refunds,persona=terse,channel=chat`: 0.0% (0/20) against 81.4% for the rest, "
        "p < 0.0001; failure modes: wrong queue (20)",
    ]
    # The set's name is data: escaped, so it neither formats nor breaks a table.
    assert "<b>" not in cmarkgfm.github_flavored_markdown_to_html(markdown)

    data = json.loads((project.path / "r.json").read_text(encoding="utf-8"))
    grid = data["sets"][0]["grid"]
    assert grid["axes"] == {
        "feature": ["billing", "refunds"],
        "persona": ["angry", "terse"],
        "channel": ["email", "chat"],
    }
    assert (grid["examples"], grid["placed"], grid["not_placed"], grid["undeclared"]) == (
        160,
        160,
        0,
        0,
    )
    assert len(grid["cells"]) == 8
    first = grid["cells"][0]
    assert first["cell"] == {"feature": "billing", "persona": "angry", "channel": "email"}
    assert first["counts"] == {"production": 10, "synthetic": 5, "adversarial": 5}
    assert (first["results"], first["passed"], first["failure_modes"]) == (20, 19, {"timeout": 1})
    assert first["below_rest"] is False and first["failing"] is False
    bad = [c for c in grid["cells"] if c["below_rest"]]
    assert [c["cell"]["channel"] for c in bad] == ["email", "chat"]
    assert bad[0]["failure_modes"] == {"wrong queue": 20} and bad[0]["rate"] == 0.0


def test_records_without_grid_are_not_placed_in_every_view(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    records = full_grid()
    for index in (0, 4, 8):  # one production in every other cell, so every cell still counts
        del records[index]["grid"]
    write_set(records, manifest=MANIFEST)
    result = run(project, "--evalmix", "--evalmix-report=r.md", "--evalmix-report=r.json", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["  17 of 20 examples placed in the grid; 3 not placed (no grid, or only some of the axes)"]
    )
    markdown = (project.path / "r.md").read_text(encoding="utf-8")
    assert "17 of 20 examples placed in the grid; 3 not placed" in markdown
    grids = [t for t in html_tables(markdown) if t[0][0].endswith("→")]
    assert grids[0][1] == ["billing", "🟩 0 · 2 · 2", "🟩 3 · 1 · 1"]
    data = json.loads((project.path / "r.json").read_text(encoding="utf-8"))
    assert data["sets"][0]["grid"]["not_placed"] == 3


def test_synthetic_only_cells_are_marked_in_markdown(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(short_grid(), manifest=SHORT_MANIFEST)
    run(project, "--evalmix", "--evalmix-report=r.md")
    markdown = (project.path / "r.md").read_text(encoding="utf-8")
    grids = [t for t in html_tables(markdown) if t[0][0].endswith("→")]
    assert grids[0][1:] == [
        ["billing", "🟩 2 · 0 · 0", "🟥 0 · 3 · 0 ❌ 🧪"],
        ["refunds", "🟩 1 · 0 · 3", "🟥 0 · 0 · 0 ❌"],
    ]
    assert "🧪 only synthetic examples reach it" in markdown


# -- the Holm-corrected test, as the benchmark uses it -------------------------------------


def test_below_rest_names_only_significant_low_cells() -> None:
    healthy = [(16, 20)] * 30
    assert below_rest(healthy, 0.10, 0.05) == ([], 30)
    one_bad = [*healthy[:29], (2, 20)]
    lows, compared = below_rest(one_bad, 0.10, 0.05)
    assert compared == 30 and [low.index for low in lows] == [29]
    # A cell *above* the rest is never named, and cells without outcomes are not compared.
    assert below_rest([(20, 20), (5, 20), (5, 20), (0, 0)], 0.10, 0.05)[1] == 3
    assert [low.index for low in below_rest([(20, 20), *[(10, 20)] * 5], 0.1, 0.05)[0]] == []


def test_the_loader_keeps_cells_compactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Big JSONL goes through the parallel fast path; every row keeps its cell as a code."""
    from pytest_evalmix.evalset.load import load
    from pytest_evalmix.evalset.sources import examples

    records = [
        placed(f"p{i}", "production", FEATURES[i % 2], PERSONAS[i % 3 % 2]) for i in range(3000)
    ]
    del records[7]["grid"]
    records[9]["grid"] = {"persona": "terse", "feature": "refunds"}  # another order, one cell
    records[11]["grid"] = {"feature": "biling", "persona": "terse"}  # kept as written
    records[12]["grid"] = {"feature": "billing"}  # not placed
    records[13]["label"] = {"source": "llm", "by": "m", "provisional": {"owner": "o"}}
    records[13]["grid"] = {"feature": "billing", "persona": "angry", "channel": "chat"}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "support.jsonl").write_text(jsonl(records), encoding="utf-8")
    (tmp_path / "s.evalmix.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setenv(parallel.PARALLEL_ENV, "1")
    evalset = load(tmp_path / "s.evalmix.yaml", tmp_path, {}, sharing=1)
    assert len(evalset) == 3000 and not evalset.findings
    assert evalset.cells.codes.itemsize == 1  # a byte per row
    # Read by the fast path: every axis's value in the declared order names the cell; a grid
    # that names anything undeclared is kept as written, in its row.
    expected: list[Any] = [
        (r["grid"].get("feature"), r["grid"].get("persona")) if "grid" in r else None
        for r in records
    ]
    expected[11] = (("feature", "biling"), ("persona", "terse"))
    expected[12] = None
    expected[13] = (("feature", "billing"), ("persona", "angry"), ("channel", "chat"))
    assert list(evalset.cells) == expected
    assert evalset.kept[13].grid == records[13]["grid"]
    assert [row for row, _ in examples(evalset)] == list(range(3000))
