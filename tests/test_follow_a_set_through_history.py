"""`evalmix history MANIFEST` (docs/cli.md): one row per commit that changed the set, read from
git with nothing checked out, on a scripted repository whose commits carry fixed dates."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import jsonl, record
from test_review_a_queue import evalmix

HOSTILE = "<img src=x onerror=alert(1)>"
MANIFEST = "evals/support.evalmix.yaml"


def git(cwd: Path, *args: str, date: str = "2026-01-01") -> str:
    stamp = f"{date}T12:00:00+00:00"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def commit(repo: Path, date: str, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-gpg-sign", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD").strip()


def manifest(name: str = "support") -> str:
    return f"evalmix: 1\nname: {json.dumps(name)}\ndata: [data/*.jsonl]\nresults: results.jsonl\n"


PROVISIONAL = {
    "source": "llm",
    "by": "claude",
    "provisional": {"owner": "priya", "backfill_by": "2026-02-01"},
}


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, Any]:
    """Five commits: the set starts; a commit that touches nothing of it; a second data file
    and a results file, after the provisional label's deadline; a broken manifest; a fix."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    shas = {
        "start": commit(
            root,
            "2026-01-05",
            "start",
            {
                MANIFEST: manifest(),
                "evals/data/a.jsonl": jsonl(
                    [record("p1"), record("s1", "synthetic", label=PROVISIONAL)]
                ),
            },
        ),
        "readme": commit(root, "2026-01-20", "readme", {"README.md": "hello\n"}),
        "more": commit(
            root,
            "2026-02-10",
            "more",
            {
                "evals/data/b.jsonl": jsonl([record("a1", "adversarial"), record("p2")]),
                "evals/results.jsonl": jsonl(
                    [
                        {"id": "p1", "passed": True},
                        {"id": "p2", "passed": False},
                        {"id": "s1", "passed": False},
                    ]
                ),
            },
        ),
        "break": commit(root, "2026-02-15", "break", {MANIFEST: "evalmix: [\n"}),
        "fix": commit(root, "2026-02-20", "fix", {MANIFEST: manifest(HOSTILE)}),
    }
    return {"root": root, "shas": shas}


def history(repo: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return evalmix(repo["root"], "history", MANIFEST, *args)


def counts(production: int, synthetic: int, adversarial: int) -> dict[str, int]:
    return {"production": production, "synthetic": synthetic, "adversarial": adversarial}


def row(sha: str, date: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "commit": sha,
        "date": date,
        "counts": counts(0, 0, 0),
        "shares": {"production": 0.0, "synthetic": 0.0, "adversarial": 0.0},
        "llm_golds": 0,
        "provisional": {"open": 0, "overdue": 0},
        "pass_rates": None,
        "error": None,
    }
    base.update(fields)
    return base


BROKEN = f"{MANIFEST}:2: malformed YAML: did not find expected node content"


def expected(shas: dict[str, str]) -> dict[str, Any]:
    later = {
        "counts": counts(2, 1, 1),
        "shares": {"production": 0.5, "synthetic": 0.25, "adversarial": 0.25},
        "llm_golds": 1,
        "provisional": {"open": 1, "overdue": 1},
        "pass_rates": {"production": 0.5, "synthetic": 0.0},
    }
    return {
        "set": HOSTILE,
        "commits": [
            row(shas["fix"], "2026-02-20", **later),
            row(shas["break"], "2026-02-15", error=BROKEN),
            row(shas["more"], "2026-02-10", **later),
            row(
                shas["start"],
                "2026-01-05",
                counts=counts(1, 1, 0),
                shares={"production": 0.5, "synthetic": 0.5, "adversarial": 0.0},
                llm_golds=1,
                provisional={"open": 1, "overdue": 0},
            ),
        ],
    }


def test_the_json_lists_each_commit_that_changed_the_set_exactly(repo: dict[str, Any]) -> None:
    done = history(repo, "--format", "json")
    assert done.returncode == 0, done.stderr
    # Not the readme commit; overdue judged at each commit's date (0 on 2026-01-05, 1 after
    # the deadline); the broken manifest is a row with its reason; pass rates from the
    # results file committed with the second data file.
    assert json.loads(done.stdout) == expected(repo["shas"])
    assert done.stdout.endswith("}\n")
    assert git(repo["root"], "status", "--porcelain") == ""


def test_since_lists_the_commits_after_the_ref(repo: dict[str, Any]) -> None:
    done = history(repo, "--format", "json", "--since", repo["shas"]["more"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["commits"] == expected(repo["shas"])["commits"][:2]


def test_max_commits_keeps_the_newest_rows(repo: dict[str, Any]) -> None:
    done = history(repo, "--format", "json", "--max-commits", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["commits"] == expected(repo["shas"])["commits"][:1]


def test_a_ref_git_cannot_resolve_exits_4_and_names_it(repo: dict[str, Any]) -> None:
    done = history(repo, "--since", "no-such\x1b[31mref")
    assert done.returncode == 4
    assert done.stdout == ""
    assert done.stderr == (
        "evalmix: error: --since 'no-such\\x1b[31mref': git cannot resolve it to a commit; "
        "name a branch, tag or commit that exists here (in a shallow clone, fetch the whole "
        "history first)\n"
    )


def test_the_table_shows_one_line_per_commit(repo: dict[str, Any]) -> None:
    done = history(repo)
    assert done.returncode == 0, done.stderr
    short = {key: sha[:12] for key, sha in repo["shas"].items()}
    lines = done.stdout.splitlines()
    assert lines[0] == f"history of {HOSTILE} ({MANIFEST}): 4 commits"
    assert lines[1].split() == [
        "commit", "date", "production", "synthetic", "adversarial", "llm", "golds",
        "provisional", "overdue", "pass", "rates", "error",
    ]  # fmt: skip
    rates = "production 50%, synthetic 0%"
    assert lines[3].split() == [
        short["fix"], "2026-02-20", "2", "(50%)", "1", "(25%)", "1", "(25%)", "1", "1", "1",
        *rates.split(),
    ]  # fmt: skip
    assert lines[4].split() == [short["break"], "2026-02-15", *BROKEN.split()]
    assert lines[6].split() == [
        short["start"], "2026-01-05", "1", "(50%)", "1", "(50%)", "0", "(0%)", "1", "1", "0", "-",
    ]  # fmt: skip
    assert len(lines) == 7


def test_the_markdown_is_a_table_with_escaped_text(repo: dict[str, Any]) -> None:
    done = history(repo, "--format", "md")
    assert done.returncode == 0, done.stderr
    short = {key: sha[:12] for key, sha in repo["shas"].items()}
    assert done.stdout.splitlines() == [
        f"## history of \\<img src=x onerror=alert(1)\\> ({MANIFEST}): 4 commits",
        "",
        "| commit | date | production | synthetic | adversarial | llm golds | provisional "
        "| overdue | pass rates | error |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| `{short['fix']}` | 2026-02-20 | 2 (50%) | 1 (25%) | 1 (25%) | 1 | 1 | 1 "
        "| production 50%, synthetic 0% |  |",
        f"| `{short['break']}` | 2026-02-15 |  |  |  |  |  |  |  "
        f"| {BROKEN.replace('_', chr(92) + '_')} |",
        f"| `{short['more']}` | 2026-02-10 | 2 (50%) | 1 (25%) | 1 (25%) | 1 | 1 | 1 "
        "| production 50%, synthetic 0% |  |",
        f"| `{short['start']}` | 2026-01-05 | 1 (50%) | 1 (50%) | 0 (0%) | 1 | 1 | 0 | - |  |",
    ]


def test_the_html_is_self_contained_and_escapes_a_hostile_name(
    repo: dict[str, Any], tmp_path: Path
) -> None:
    out = repo["root"] / "history.html"
    done = history(repo, "--format", "html", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    html = out.read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<script" not in html.lower()
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * 5
    titles = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    assert titles == [
        "Counts by origin",
        "Shares by origin",
        "Golds labelled llm",
        "Provisional labels",
        "Pass rates by origin",
    ]
    assert html.count("<polyline") == 3 + 3 + 1 + 2 + 3
    # Three readable commits, oldest first: one point each on every line drawn.
    assert html.count("<circle") == 3 * (3 + 3 + 1 + 2) + 2 + 2 + 0


def test_deleting_a_data_file_is_a_row_and_a_repeated_id_counts_once(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    first = commit(
        root,
        "2026-03-01",
        "two files",
        {
            MANIFEST: manifest(),
            "evals/data/a.jsonl": jsonl([record("p1"), record("p2")]),
            # p1 again: the loader keeps the first, from a.jsonl
            "evals/data/b.jsonl": jsonl([record("p1", "synthetic"), record("a1", "adversarial")]),
        },
    )
    (root / "evals/data/b.jsonl").unlink()
    second = commit(root, "2026-03-02", "drop b", {})
    done = evalmix(root, "history", MANIFEST, "--format", "json")
    assert done.returncode == 0, done.stderr
    got = [(r["commit"], r["counts"]) for r in json.loads(done.stdout)["commits"]]
    assert got == [(second, counts(2, 0, 0)), (first, counts(2, 0, 1))]
