"""What a hostile or careless pull request still got through (hardening, round three): reads
through symlinks, hangs, wrong verdicts and confusing messages. Each test runs the plugin or the
`evalmix` command as a user does and is named by the behaviour it checks; the sections follow the
order of the defects in docs/checks.md's hardening notes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import WriteSet, healthy, jsonl, run

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

FIXTURES = Path(__file__).parent / "fixtures"


def manifest(project: pytest.Pytester, body: str, name: str = "evals") -> Path:
    path = project.path / f"{name}.evalmix.yaml"
    path.write_text(f"evalmix: 1\n{body}", encoding="utf-8")
    return path


def clean(result: pytest.RunResult) -> str:
    """The run's whole output, which must hold no traceback and no raw control character."""
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "this is a bug" not in out, out
    for char in ("\x1b", "\x07"):
        assert char not in out, f"{char!r} reached the output raw"
    return out


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit(cwd: Path, message: str) -> str:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-q", "--no-gpg-sign", "-m", message)
    return git(cwd, "rev-parse", "HEAD").strip()


def saved_folder(project: pytest.Pytester) -> Path:
    """A copy of the `save_to_disk` fixture in data/saved."""
    pytest.importorskip("pyarrow")
    target = project.path / "data" / "saved"
    shutil.copytree(FIXTURES / "hf" / "saved", target)
    return target


# -- reads, hangs and wrong verdicts -----------------------------------------------------------


@pytest.mark.parametrize("linked", ["data-00000-of-00001.arrow", "state.json"])
def test_a_saved_dataset_folder_never_reads_through_a_symlink_out_of_the_rootdir(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, linked: str
) -> None:
    folder = saved_folder(project)
    outside = tmp_path_factory.mktemp("outside") / linked
    shutil.copyfile(folder / linked, outside)
    (folder / linked).unlink()
    (folder / linked).symlink_to(outside)
    manifest(project, "data: [data/saved]\n")
    result = run(project, "--evalmix")
    out = clean(result)
    result.stdout.fnmatch_lines(
        [
            f"data/saved:1: -: not a readable Hugging Face dataset folder: its {linked} is a "
            "symlink that leads out of the folder*"
        ]
    )
    assert str(outside) not in out
    assert result.ret == 1


def test_a_state_json_nested_100000_deep_is_one_finding(project: pytest.Pytester) -> None:
    folder = saved_folder(project)
    (folder / "state.json").write_text("[" * 100_000, encoding="utf-8")
    manifest(project, "data: [data/saved]\n")
    result = run(project, "--evalmix")
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/saved:1: -: not a readable Hugging Face dataset folder: its state.json is JSON "
            "nested too deeply*"
        ]
    )
    assert result.ret == 1


LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)


@pytest.mark.parametrize("suffix", ["jsonl", "json", "csv", "parquet"])
def test_a_git_lfs_pointer_is_one_finding_that_says_to_pull(
    project: pytest.Pytester, suffix: str, xdist: list[str]
) -> None:
    (project.path / "data").mkdir()
    (project.path / "data" / f"set.{suffix}").write_text(LFS_POINTER, encoding="utf-8")
    manifest(project, f"data: [data/set.{suffix}]\n")
    result = run(project, "--evalmix", *xdist)
    out = clean(result)
    result.stdout.fnmatch_lines(
        [
            f"data/set.{suffix}:1: -: a Git LFS pointer, not data — run `git lfs pull`; in GitHub "
            "Actions check out with `lfs: true`"
        ]
    )
    assert "malformed" not in out and "not a readable" not in out, out
    assert out.count("Git LFS pointer, not data —") == 1, out
    assert result.ret == 1


def test_a_git_lfs_pointer_at_the_base_ref_counts_nothing_as_added(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    git(project.path, "init", "-q", "-b", "main")
    write_set()
    (project.path / "data" / "support.jsonl").write_text(LFS_POINTER, encoding="utf-8")
    commit(project.path, "base: the data went to LFS")
    (project.path / "data" / "support.jsonl").write_text(jsonl(healthy()), encoding="utf-8")
    result = run(project, "--evalmix", "--evalmix-base=main")
    out = clean(result)
    result.stdout.fnmatch_lines(
        ["*changes*skipped:*data/support.jsonl is a Git LFS pointer at main, not data*"]
    )
    assert "20 added" not in out and "+20" not in out, out
    assert result.ret == 0, out


LABEL = '"label": {"source": "human", "by": "dana", "at": "2026-10-01"}'


@pytest.mark.parametrize("suffix", ["jsonl", "json"])
def test_nan_infinity_and_huge_numbers_are_schema_findings(
    project: pytest.Pytester, suffix: str, xdist: list[str]
) -> None:
    golds = ["NaN", "Infinity", "-Infinity", "1e999999"]
    lines = [
        f'{{"id": "r{i}", "input": "text", "gold": {gold}, "origin": "production", {LABEL}}}'
        for i, gold in enumerate(golds)
    ]
    lines.append(
        f'{{"id": "m", "input": {{"x": [NaN]}}, "gold": 1, "origin": "production", {LABEL}}}'
    )
    text = "\n".join(lines) + "\n" if suffix == "jsonl" else "[" + ",\n".join(lines) + "]\n"
    (project.path / "data").mkdir()
    (project.path / "data" / f"set.{suffix}").write_text(text, encoding="utf-8")
    manifest(project, f"data: [data/set.{suffix}]\n")
    result = run(project, "--evalmix", *xdist)
    clean(result)
    result.stdout.fnmatch_lines(
        [
            f"data/set.{suffix}:1: r0: gold holds NaN, which is not JSON — *",
            f"data/set.{suffix}:2: r1: gold holds an infinite number, which is not JSON*",
            f"data/set.{suffix}:3: r2: gold holds an infinite number, which is not JSON*",
            f"data/set.{suffix}:4: r3: gold holds an infinite number, which is not JSON*",
            f"data/set.{suffix}:5: m: input.x?0? holds NaN, which is not JSON*",
        ]
    )
    assert result.ret == 1


def test_binary_and_map_parquet_columns_are_schema_findings(project: pytest.Pytester) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    label = {"source": "human", "by": "dana", "at": "2026-10-01"}
    binary = pa.table(
        {
            "id": ["b0", "b1"],
            "input": pa.array([b"\x00\x01", b"text"], pa.binary()),
            "gold": ["a", "b"],
            "origin": ["production", "production"],
            "label": [label, label],
        }
    )
    mapped = pa.table(
        {
            "id": ["m0"],
            "input": ["text"],
            "gold": pa.array([[(1, "one")]], pa.map_(pa.int64(), pa.string())),
            "origin": ["production"],
            "label": [label],
        }
    )
    (project.path / "data").mkdir()
    pq.write_table(binary, project.path / "data" / "binary.parquet")
    pq.write_table(mapped, project.path / "data" / "map.parquet")
    manifest(project, "data: [data/binary.parquet, data/map.parquet]\n")
    result = run(project, "--evalmix")
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/binary.parquet:1: b0: input holds binary data, which is not JSON*",
            "data/binary.parquet:2: b1: input holds binary data, which is not JSON*",
            "data/map.parquet:1: m0: gold*, which is not JSON*",
        ]
    )
    assert result.ret == 1


# -- flags, names and messages -----------------------------------------------------------------


def test_evalmix_base_without_evalmix_is_a_usage_error_naming_the_flag(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    result = run(project, "--evalmix-base=main", *xdist)
    clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--evalmix-base=main needs --evalmix*add --evalmix*"])


@pytest.fixture
def shallow(
    pytester: pytest.Pytester,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A depth-1 clone of a two-commit repository, as the current directory; returns the first
    commit, which the clone does not hold."""
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "init", "-q", "-b", "main")
    (origin / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (origin / "data").mkdir()
    (origin / "data" / "support.jsonl").write_text(jsonl(healthy()))
    (origin / "support.evalmix.yaml").write_text("evalmix: 1\ndata: [data/support.jsonl]\n")
    first = commit(origin, "base")
    (origin / "data" / "support.jsonl").write_text(jsonl(healthy("x")))
    commit(origin, "change")
    clone = pytester.path / "clone"
    git(pytester.path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    monkeypatch.chdir(clone)
    return first


def test_a_ref_missing_from_a_shallow_clone_is_said_not_to_exist(
    pytester: pytest.Pytester, shallow: str
) -> None:
    result = run(pytester, "--evalmix", "--evalmix-base=no-such-branch")
    clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "--evalmix-base=no-such-branch: there is no branch, tag or commit " in err, err
    assert "shallow" not in err and "fetch the whole history" not in err, err


@pytest.mark.parametrize("beyond", ["commit", "HEAD~1"])
def test_a_commit_beyond_a_shallow_clone_blames_the_depth(
    pytester: pytest.Pytester, shallow: str, beyond: str
) -> None:
    ref = shallow if beyond == "commit" else beyond
    result = run(pytester, "--evalmix", f"--evalmix-base={ref}")
    clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--evalmix-base={ref}: this is a shallow clone*fetch-depth: 0*"])


def test_a_ref_with_terminal_escapes_is_shown_escaped(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    git(project.path, "init", "-q", "-b", "main")
    write_set()
    commit(project.path, "base")
    result = run(project, "--evalmix", "--evalmix-base=x\x1b[2J\x1b]0;pwn\x07")
    clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "ERROR: --evalmix-base=x\\x1b[2J\\x1b]0;pwn\\x07: there is no branch" in err, err


def test_a_5_mb_id_is_shown_cut_with_its_length(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    records = healthy()
    records[0]["id"] = "x" * 5_000_000
    records[0]["origin"] = "prod"
    records[1]["id"] = records[0]["id"]
    write_set(records)
    result = run(project, "--evalmix")
    out = clean(result)
    assert len(out) < 20_000, len(out)
    assert "(5,000,000 characters)" in out, out
    assert result.ret == 1
