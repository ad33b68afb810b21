"""``--evalmix-base=REF`` and the ``changes`` check (docs/checks.md, §7), in real git repositories that
each test makes: ``git init``, commit, change, commit, then pytest as a user runs it in a pull
request. With and without pytest-xdist."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, healthy, jsonl, record, run

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def commit(cwd: Path, message: str) -> str:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-q", "--no-gpg-sign", "-m", message)
    return git(cwd, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(project: pytest.Pytester, write_set: WriteSet) -> Path:
    """The healthy set committed on branch ``base``, the base of the pull request."""
    git(project.path, "init", "-q", "-b", "base")
    write_set()
    commit(project.path, "base")
    git(project.path, "checkout", "-q", "-b", "change")
    return project.path


def rewrite(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text(jsonl(records), encoding="utf-8")


def relabelled(by: str = "dana", at: str = "2026-10-01") -> list[dict[str, Any]]:
    records = healthy()
    records[3]["gold"] = "refunds\x1b[31m"
    records[3]["label"] = {"source": "human", "by": by, "at": at}
    return records


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_unsigned_relabel_fails_at_its_line(
    repo: Path, project: pytest.Pytester, xdist: list[str]
) -> None:
    rewrite(repo / "data" / "support.jsonl", relabelled())
    commit(repo, "relabel prod-3")
    status = git(repo, "status", "--porcelain")
    result = run(
        project,
        "--evalmix",
        "--evalmix-base=base",
        "--evalmix-report=out/r.md",
        "--evalmix-report=out/r.json",
        *xdist,
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            'data/support.jsonl:4: prod-3: gold changed since base, "billing" → '
            '"refunds\\u001b[[]31m", but label.by and label.at still read dana, 2026-10-01: '
            "a relabel nobody signed — whoever relabelled it sets label.by to their name and "
            "label.at to the date, or the gold goes back",
            "*since base (*): 0 added, 0 removed, 1 changed; 1 gold changed; 0 provisional "
            "labels backfilled",
            "*production*10 (50.0%)*10 (50.0%)*0*0*1",
            "*changes*FAILED (1 finding)",
        ]
    )
    assert "\x1b[31m" not in result.stdout.str()
    # Nothing checked out, nothing written into the work tree.
    assert git(repo, "status", "--porcelain") == status + "?? out/\n"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "change"

    markdown = (repo / "out" / "r.md").read_text(encoding="utf-8")
    first_section = markdown.split("\n## ")[1]
    assert first_section.startswith("Changes since `base`")
    assert "| support | 20 → 20 | 0 | 0 | 1 | 1 | 0 | ❌ FAILED (1 finding) |" in first_section
    assert "data/support.jsonl:4: prod-3: gold changed since base" in first_section
    assert "\x1b" not in markdown

    data = read_json(repo / "out" / "r.json")
    since = data["sets"][0]["since_base"]
    assert since["ref"] == "base"
    assert since["state"] == "compared"
    assert since["changed"] == {"production": 1, "synthetic": 0, "adversarial": 0}
    assert since["golds_changed"] == 1
    assert since["before"] == since["after"] == {"production": 10, "synthetic": 5, "adversarial": 5}
    [finding] = next(c for c in data["sets"][0]["checks"] if c["name"] == "changes")["findings"]
    assert (finding["path"], finding["line"], finding["id"]) == ("data/support.jsonl", 4, "prod-3")


def test_signed_relabel_passes(repo: Path, project: pytest.Pytester, xdist: list[str]) -> None:
    # Uncommitted: the work tree as it is against REF.
    records = relabelled(by="sam", at="2026-11-20")
    records.append(record("prod-new"))
    del records[12]  # syn-2
    rewrite(repo / "data" / "support.jsonl", records)
    result = run(project, "--evalmix", "--evalmix-base=base", "-q", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["support: 20 examples, *changes ok; since base +1 -1 ~1"], consecutive=False
    )
    result = run(project, "--evalmix", "--evalmix-base=base", *xdist)
    result.stdout.fnmatch_lines(
        [
            "*since base (*): 1 added, 1 removed, 1 changed; 1 gold changed; 0 provisional "
            "labels backfilled",
            "*production*10 (50.0%)*11 (55.0%)*1*0*1",
            "*synthetic*5 (25.0%)*4 (20.0%)*0*1*0",
            "*changes*passed",
        ]
    )


def provisional(**label: Any) -> dict[str, Any]:
    base = {
        "source": "llm",
        "by": "claude-opus-4-7",
        "at": "2026-11-01",
        "provisional": {"owner": "priya", "backfill_by": "2027-01-15"},
    }
    base.update(label)
    return record("prod-9", label={k: v for k, v in base.items() if v is not None})


def test_backfill_nobody_did_fails(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    git(project.path, "init", "-q", "-b", "main")
    records = healthy()
    records[9] = provisional()
    records[8] = record("prod-8", label=provisional()["label"])
    write_set(records)
    commit(project.path, "bootstrap labels")
    # prod-9: made canonical by hand, nobody named. prod-8: backfilled by a person.
    records[9] = provisional(source="human", provisional=None)
    records[8] = record(
        "prod-8", gold="refunds", label={"source": "human", "by": "priya", "at": "2026-11-24"}
    )
    write_set(records)
    result = run(project, "--evalmix", "--evalmix-base=main", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:10: prod-9: label.provisional was removed and label.source went "
            "from llm to human since main, but label.by and label.at still read claude-opus-4-7, "
            "2026-11-01: a backfill nobody did — the person who hand-labels the gold sets "
            "label.source: human, label.by and label.at; until then the provisional label goes back",
            "*since main (*): 0 added, 0 removed, 2 changed; 1 gold changed; 2 provisional labels "
            "backfilled",
            "  changed (2): prod-8, prod-9",
            '  golds changed (1): prod-8 "billing" → "refunds"',
        ]
    )
    # Named as changed, but no finding: a person signed it.
    assert ": prod-8:" not in result.stdout.str()


def test_new_set_and_new_data_file_count_as_new(
    repo: Path, project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(healthy("b-"), name="billing")
    (repo / "data" / "extra.jsonl").write_text(jsonl([record("prod-x"), record("prod-y")]))
    (repo / "support.evalmix.yaml").write_text(
        "evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/extra.jsonl\n"
    )
    commit(repo, "a new set, a new file")
    result = run(project, "--evalmix", "--evalmix-base=base", "--evalmix-report=r.json", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "eval set billing (billing.evalmix.yaml)",
            "*since base (*): a new eval set, 20 added",
            "eval set support (support.evalmix.yaml)",
            "*since base (*): 2 added, 0 removed, 0 changed; 0 golds changed;*",
            "*new data files since base: data/extra.jsonl",
        ]
    )
    billing, support = read_json(repo / "r.json")["sets"]
    assert billing["since_base"]["state"] == "new"
    assert billing["since_base"]["added"] == {"production": 10, "synthetic": 5, "adversarial": 5}
    assert support["since_base"]["added"]["production"] == 2
    assert (support["since_base"]["before_total"], support["since_base"]["after_total"]) == (20, 22)
    assert support["since_base"]["new_files"] == ["data/extra.jsonl"]


def test_renamed_data_file_raises_nothing(
    repo: Path, project: pytest.Pytester, xdist: list[str]
) -> None:
    git(repo, "mv", "data/support.jsonl", "data/triage.jsonl")
    (repo / "support.evalmix.yaml").write_text("evalmix: 1\ndata:\n  - data/*.jsonl\n")
    commit(repo, "rename")
    result = run(project, "--evalmix", "--evalmix-base=base", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*since base (*): 0 added, 0 removed, 0 changed; 0 golds changed;*",
            "*new data files since base: data/triage.jsonl",
            "*changes*passed",
        ]
    )


def test_relabel_in_a_yaml_file_moved_from_jsonl(
    repo: Path, project: pytest.Pytester, xdist: list[str]
) -> None:
    """Records compare by id whatever file and format they live in."""
    import yaml

    (repo / "data" / "support.jsonl").unlink()
    (repo / "data" / "support.yaml").write_text(yaml.safe_dump(relabelled()), encoding="utf-8")
    (repo / "support.evalmix.yaml").write_text("evalmix: 1\ndata:\n  - data/support.yaml\n")
    result = run(project, "--evalmix", "--evalmix-base=base", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.yaml:*: prod-3: gold changed since base*a relabel nobody signed*",
            "*since base (*): 0 added, 0 removed, 1 changed; 1 gold changed;*",
        ]
    )


def test_without_the_option_changes_is_not_collected(repo: Path, project: pytest.Pytester) -> None:
    result = run(project, "--evalmix", "--collect-only", "-q")
    assert "changes" not in result.stdout.str()
    result = run(project, "--evalmix", "--evalmix-base=base", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["support.evalmix.yaml::changes"])


@pytest.mark.parametrize("ref", ["no-such-branch", "--output=x", "base:support.evalmix.yaml"])
def test_bad_ref_is_a_usage_error(
    repo: Path, project: pytest.Pytester, xdist: list[str], ref: str
) -> None:
    result = run(project, "--evalmix", f"--evalmix-base={ref}", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"--evalmix-base={ref}:" in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert not (repo / "x").exists()


def test_rootdir_outside_git_is_a_usage_error(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    result = run(project, "--evalmix", "--evalmix-base=origin/main", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--evalmix-base=origin/main: the rootdir * is not inside a git work tree*"]
    )


def test_shallow_clone_says_fetch_depth_0(
    pytester: pytest.Pytester,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    xdist: list[str],
) -> None:
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "init", "-q", "-b", "main")
    (origin / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (origin / "data").mkdir()
    (origin / "data" / "support.jsonl").write_text(jsonl(healthy()))
    (origin / "support.evalmix.yaml").write_text("evalmix: 1\ndata: [data/support.jsonl]\n")
    first = commit(origin, "base")
    rewrite(origin / "data" / "support.jsonl", relabelled())
    commit(origin, "change")
    clone = pytester.path / "clone"
    git(pytester.path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    monkeypatch.chdir(clone)
    result = run(pytester, "--evalmix", f"--evalmix-base={first}", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"*--evalmix-base={first}: this is a shallow clone and *{first}* is not in it*fetch-depth: 0*"
        ]
    )


def test_rootdir_below_the_top_of_the_repository(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, xdist: list[str]
) -> None:
    """Paths at REF are taken relative to the rootdir, not to the repository's top."""
    git(pytester.path, "init", "-q", "-b", "main")
    project = pytester.path / "evals"
    (project / "data").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (project / "support.evalmix.yaml").write_text("evalmix: 1\ndata: [data/support.jsonl]\n")
    rewrite(project / "data" / "support.jsonl", healthy())
    commit(pytester.path, "base")
    rewrite(project / "data" / "support.jsonl", relabelled())
    monkeypatch.chdir(project)
    result = run(pytester, "--evalmix", "--evalmix-base=main", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:4: prod-3: gold changed since main*",
            "*since main (*): 0 added, 0 removed, 1 changed; 1 gold changed;*",
        ]
    )


def test_lines_shifted_and_records_moved_between_files(
    repo: Path, project: pytest.Pytester
) -> None:
    """A record inserted at the top shifts every line after it; records moved to another file
    keep their ids: only the real edits count, and the one relabel nobody signed fails."""
    records = healthy()
    moved, kept = records[15:], records[:15]
    kept.insert(0, record("prod-new"))
    kept[10]["gold"] = "refunds"  # prod-9, now on line 11
    rewrite(repo / "data" / "support.jsonl", kept)
    (repo / "data" / "adversarial.jsonl").write_text(jsonl(moved))
    (repo / "support.evalmix.yaml").write_text("evalmix: 1\ndata:\n  - data/*.jsonl\n")
    result = run(project, "--evalmix", "--evalmix-base=base")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            'data/support.jsonl:11: prod-9: gold changed since base, "billing" → "refunds"*',
            "*since base (*): 1 added, 0 removed, 1 changed; 1 gold changed;*",
            "*new data files since base: data/adversarial.jsonl",
        ]
    )


def test_a_manifest_unreadable_at_ref_skips_the_check(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """The pull request may be the one that fixes the manifest: nothing to compare, no failure."""
    git(project.path, "init", "-q", "-b", "main")
    write_set(manifest="evalmix: 1\ndata: [data/support.jsonl\n")
    commit(project.path, "broken")
    write_set()
    result = run(project, "--evalmix", "--evalmix-base=main", "-rs")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*since main (*): not compared, the manifest there cannot be read",
            "SKIPPED*the manifest at main cannot be read, so there is nothing to compare with: "
            "support.evalmix.yaml:3: malformed YAML*",
        ],
        consecutive=False,
    )


def test_records_retired_from_the_middle(repo: Path, project: pytest.Pytester) -> None:
    """Lines removed mid-file: the walk finds its step again, and a relabel after them is still
    caught at its line."""
    records = healthy()
    del records[2], records[4]  # prod-2 and prod-5
    records[12]["gold"] = "refunds"  # syn-4, now on line 13
    rewrite(repo / "data" / "support.jsonl", records)
    result = run(project, "--evalmix", "--evalmix-base=base")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            'data/support.jsonl:13: syn-4: gold changed since base, "billing" → "refunds"*',
            "*since base (*): 0 added, 2 removed, 1 changed; 1 gold changed;*",
            "*production*10 (50.0%)*8 (44.4%)*0*2*0",
        ]
    )


def test_the_pull_request_view_names_the_records(
    repo: Path, project: pytest.Pytester, xdist: list[str]
) -> None:
    """Which ids were added, removed and changed, and each changed gold old → new: the first
    few in the terminal, every one under a fold in Markdown, all of them in the JSON."""
    records = relabelled(by="sam", at="2026-11-20")  # prod-3: "billing" → "refunds\x1b[31m"
    records[4]["input"] = "reworded ticket"  # prod-4: changed, gold the same
    records += [record(f"new-{i}") for i in range(7)]
    del records[12]  # syn-2
    rewrite(repo / "data" / "support.jsonl", records)
    result = run(
        project,
        "--evalmix",
        "--evalmix-base=base",
        "--evalmix-report=r.md",
        "--evalmix-report=r.html",
        *xdist,
    )
    assert (
        result.stdout.lines.count("  added (7): new-0, new-1, new-2, new-3, new-4, and 2 more") == 1
    )
    result.stdout.fnmatch_lines(
        [
            "  added (7): new-0, new-1, new-2, new-3, new-4, and 2 more",
            "  removed (1): syn-2",
            "  changed (2): prod-3, prod-4",
            '  golds changed (1): prod-3 "billing" → "refunds\\u001b[[]31m"',
        ]
    )
    markdown = (repo / "r.md").read_text(encoding="utf-8")
    assert (
        "<details><summary>The records: 7 added, 1 removed, 2 changed, 1 gold changed</summary>\n"
        "\n"
        "- added: `new-0`, `new-1`, `new-2`, `new-3`, `new-4`, `new-5`, `new-6`\n"
        "- removed: `syn-2`\n"
        "- changed: `prod-3`, `prod-4`\n"
        "- golds changed, old → new:\n"
        '  - `prod-3`: `"billing"` → `"refunds\\u001b[31m"`\n'
        "\n"
        "</details>\n"
    ) in markdown
    page = (repo / "r.html").read_text(encoding="utf-8")
    # What changed comes first in the set's part, before the mix.
    assert page.index("<h3>What changed</h3>") < page.index("<h3>Mix</h3>")
    assert (
        '<details class="named"><summary>The records: 7 added, 1 removed, 2 changed, 1 gold '
        "changed</summary>"
    ) in page
    assert "<p>removed: <code>syn-2</code></p>" in page
    assert (
        "<li><code>prod-3</code>: <code>&#34;billing&#34;</code> → "
        "<code>&#34;refunds\\u001b[31m&#34;</code></li>"
    ) in page
    result = run(project, "--evalmix", "--evalmix-base=base", "--evalmix-report=r.json", *xdist)
    named = read_json(repo / "r.json")["sets"][0]["since_base"]["named"]
    assert named == {
        "added": [f"new-{i}" for i in range(7)],
        "removed": ["syn-2"],
        "changed": ["prod-3", "prod-4"],
        "golds": [{"id": "prod-3", "old": '"billing"', "new": '"refunds\\u001b[31m"'}],
    }
