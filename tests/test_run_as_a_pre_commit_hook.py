"""The pre-commit hook of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit`` tool.

``pre-commit try-repo`` installs this project the way a user's pre-commit would (a virtualenv,
``pip install .``, here from local wheels with ``--no-index``) from a throwaway git repository that holds the working tree's sources, so the
hook under test is the one in this checkout, committed or not. Installing takes a while (about
20 seconds, once for the whole test), so the scenarios share one environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import healthy, jsonl, record

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
    "pre-commit"
)

# Built by `make test` (see the Makefile): the project's wheel and every wheel it needs.
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"

pytestmark = [
    pytest.mark.skipif(PRE_COMMIT is None, reason="the pre-commit executable is not installed"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "evalmix tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "evalmix tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    # No system or user git config (a global core.hooksPath would make `pre-commit install`
    # refuse), so the scenario runs the same on every machine.
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def sh(
    *args: str, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def git_init(path: Path, env: dict[str, str]) -> None:
    sh("git", "init", "-q", "-b", "main", cwd=path, env=env)
    sh("git", "config", "commit.gpgsign", "false", cwd=path, env=env)


def commit(
    path: Path, env: dict[str, str], message: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    sh("git", "add", "-A", cwd=path, env=env)
    return sh("git", "commit", "-q", "-m", message, cwd=path, env=env, check=check)


def hook_repo(tmp: Path, env: dict[str, str]) -> Path:
    """A git repository holding this checkout's hook file and what ``pip install .`` needs."""
    repo = tmp / "pytest-evalmix"
    repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(
        ROOT / "pytest_evalmix",
        repo / "pytest_evalmix",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    git_init(repo, env)
    commit(repo, env, "pytest-evalmix under test")
    return repo


def write_data(project: Path, records: list[dict[str, Any]]) -> None:
    (project / "evals" / "data" / "support.jsonl").write_text(jsonl(records), encoding="utf-8")


def test_hook_definition() -> None:
    """What pre-commit reads: one hook, ``evalmix``, that runs pytest on eval-file changes only."""
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "evalmix"
    assert hook["entry"].split()[:2] == ["pytest", "--evalmix"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook.get("always_run", False) is False
    files = re.compile(hook["files"])
    for path in (
        "evals/support.evalmix.yaml",
        "evals/support.evalmix.yml",
        "evals/data/production.jsonl",
        "evals/data/goldens.json",
        "evals/data/paraphrases.yaml",
        "evals/data/adversarial.csv",
        "results/latest.jsonl",
    ):
        assert files.search(path), path
    for path in ("README.md", "src/app.py", "evals/test_router.py", "Makefile"):
        assert not files.search(path), path


def test_hook_blocks_a_commit_that_breaks_the_mix(tmp_path: Path) -> None:
    if not (WHEELHOUSE / ".built").exists():
        pytest.fail(
            f"no wheelhouse at {WHEELHOUSE}: run `make test`, which builds it, so that this test "
            "installs the hook without the network"
        )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT", "PYTEST_", "GITHUB_STEP_SUMMARY"))
    }
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    # No network: pip installs the hook from the wheels `make test` built beforehand.
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE), PIP_DISABLE_PIP_VERSION_CHECK="1")
    assert PRE_COMMIT is not None
    pre_commit = PRE_COMMIT
    hooks = hook_repo(tmp_path, env)

    project = tmp_path / "project"
    (project / "evals" / "data").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n", encoding="utf-8")
    (project / "evals" / "support.evalmix.yaml").write_text(
        "evalmix: 1\nname: support\ndata: [data/support.jsonl]\n", encoding="utf-8"
    )
    # An ordinary test module that cannot even be imported here: the hook checks the eval sets
    # and leaves the project's tests (and their dependencies) alone.
    (project / "evals" / "test_app.py").write_text("import app_only_dependency\n", encoding="utf-8")
    write_data(project, healthy())
    (project / "README.md").write_text("# project\n", encoding="utf-8")
    git_init(project, env)
    commit(project, env, "a healthy eval set")

    # A change that leaves 20 production and no synthetic or adversarial example.
    write_data(project, [record(f"prod-{i}") for i in range(20)])
    sh("git", "add", "-A", cwd=project, env=env)
    tried = sh(pre_commit, "try-repo", str(hooks), "evalmix", cwd=project, env=env, check=False)
    output = tried.stdout + tried.stderr
    assert tried.returncode == 1, output
    assert "Failed" in output
    assert "support.evalmix.yaml::mix" in output
    assert "production is 100.0% of the set (20 of 20)" in output

    # Installed as the project's git hook: `git commit` itself is refused.
    rev = sh("git", "rev-parse", "HEAD", cwd=hooks, env=env).stdout.strip()
    config = {"repos": [{"repo": str(hooks), "rev": rev, "hooks": [{"id": "evalmix"}]}]}
    (project / ".pre-commit-config.yaml").write_text(json.dumps(config), encoding="utf-8")
    sh(pre_commit, "install", cwd=project, env=env)
    head = sh("git", "rev-parse", "HEAD", cwd=project, env=env).stdout
    refused = commit(project, env, "retire every synthetic and adversarial example", check=False)
    assert refused.returncode != 0
    assert "evalmix" in refused.stdout + refused.stderr
    assert sh("git", "rev-parse", "HEAD", cwd=project, env=env).stdout == head

    # A change that keeps the mix healthy is allowed.
    records = healthy()
    records[0]["gold"] = "refunds"
    write_data(project, records)
    allowed = commit(project, env, "relabel prod-0", check=False)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "Passed" in allowed.stdout + allowed.stderr
    assert sh("git", "rev-parse", "HEAD", cwd=project, env=env).stdout != head

    # A change to no eval file does not run the hook.
    (project / "README.md").write_text("# project\n\nmore words\n", encoding="utf-8")
    skipped = commit(project, env, "docs", check=False)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "(no files to check)Skipped" in skipped.stdout + skipped.stderr
