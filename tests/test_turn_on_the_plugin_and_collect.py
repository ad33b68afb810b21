"""Activation, collection and the exit codes of bad set-up (docs/options.md, §3, §10)."""

from __future__ import annotations

import pytest

from conftest import WriteSet, run


def test_inert_without_flag(project: pytest.Pytester, write_set: WriteSet) -> None:
    """Installed but not enabled: no manifest collected, nothing written, no anthropic."""
    write_set()
    project.makepyfile(
        test_probe="""
        import sys

        def test_nothing_heavy_imported():
            assert "anthropic" not in sys.modules
            assert "pytest_evalmix.evalset.load" not in sys.modules
        """
    )
    before = sorted(p.name for p in project.path.rglob("*"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*evalmix*"])
    assert "evalmix.yaml" not in result.stdout.str()
    runner_files = {"runpytest-0", "runpytest-current", "stdout", "stderr", "__pycache__"}
    after = sorted(p.name for p in project.path.rglob("*"))
    new = [n for n in after if n not in before and n not in runner_files and not n.endswith(".pyc")]
    assert new == []
    assert not (project.path / ".evalmix").exists()


def test_enabled_run_does_not_import_anthropic(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set()
    project.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            print("ANTHROPIC-IMPORTED" if "anthropic" in sys.modules else "ANTHROPIC-NOT-IMPORTED")
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--evalmix", "-s")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*ANTHROPIC-NOT-IMPORTED*"])


def test_ini_enables(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set()
    (project.path / "pyproject.toml").write_text("[tool.pytest.ini_options]\nevalmix = true\n")
    result = run(project)
    # One item per check; the count grows with the checks, so only "ran and passed" is pinned.
    assert result.ret == 0 and result.parseoutcomes().get("passed", 0) >= 1


def test_other_yaml_not_claimed(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set()
    (project.path / "docker-compose.yaml").write_text("services: {web: {image: x}}\n")
    (project.path / "notes.evalmix.txt").write_text("not a manifest\n")
    result = run(project, "--evalmix", "--collect-only", "-q")
    out = result.stdout.str()
    assert "docker-compose" not in out and "notes.evalmix" not in out
    result.stdout.fnmatch_lines(["support.evalmix.yaml::schema"])


def test_custom_manifest_glob(project: pytest.Pytester, write_set: WriteSet) -> None:
    path = write_set()
    path.rename(project.path / "evalset.yml")
    (project.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nevalmix_manifests = ["evalset.yml"]\n'
    )
    result = run(project, "--evalmix", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["evalset.yml::schema"])


def test_no_manifest_exits_5(project: pytest.Pytester, xdist: list[str]) -> None:
    project.makepyfile(test_other="def test_ok():\n    pass\n")
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 5
    result.stdout.fnmatch_lines(
        [
            "evalmix: no manifest found under *: manifests are files named like"
            " *.evalmix.yaml or *.evalmix.yml (ini evalmix_manifests)"
        ]
    )


def test_no_manifest_and_nothing_else_exits_5(project: pytest.Pytester) -> None:
    result = run(project, "--evalmix")
    assert result.ret == 5
    result.stdout.fnmatch_lines(["evalmix: no manifest found*"])


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("evalmix: 1\ndata: [a.jsonl\n", "*support.evalmix.yaml:3: malformed YAML*"),
        ("- just\n- a list\n", "*support.evalmix.yaml:1: a manifest is a YAML mapping*"),
        (
            "evalmix: 1\nexamples:\n" + "  - {id: x, input: " + "y" * 1_100_000 + "}\n",
            "*support.evalmix.yaml:2: the manifest is 1.1 MB; at most 1024 KiB is read — move the"
            " inline examples: to a JSONL file and list it under data:",
        ),
        ("name: x\n", "*support.evalmix.yaml:1: missing required key 'evalmix'*"),
        ("evalmix: 2\n", "*support.evalmix.yaml:1: unsupported format version 2*"),
        (
            "evalmix: 1\ndatta: []\n",
            "*support.evalmix.yaml:2: unknown manifest key 'datta' (did you mean 'data'?)*",
        ),
        (
            "evalmix: 1\npolicy:\n  mix:\n    tolerence: 0.2\n",
            "*support.evalmix.yaml:4: unknown policy key 'policy.mix.tolerence' (did you mean 'tolerance'?)*",
        ),
        (
            "evalmix: 1\npolicy:\n  mixx: {}\n",
            "*support.evalmix.yaml:3: unknown policy key 'policy.mixx' (did you mean 'mix'?)*",
        ),
        (
            "evalmix: 1\npolicy:\n  mix:\n    tolerance: lots\n",
            "*support.evalmix.yaml:4: policy key 'mix.tolerance': *",
        ),
        (
            "evalmix: 1\nfields: deepevall\n",
            "*support.evalmix.yaml:2: unknown field preset 'deepevall' (did you mean 'deepeval'?)*",
        ),
        (
            "evalmix: 1\nx: !!python/name:os.system\n",
            "*support.evalmix.yaml:2: code-running tag*refused*",
        ),
    ],
    ids=[
        "yaml",
        "list",
        "too-big",
        "no-version",
        "version",
        "key",
        "policy-key",
        "policy-section",
        "policy-value",
        "preset",
        "tag",
    ],
)
def test_unreadable_manifest_is_collection_error(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str], manifest: str, expected: str
) -> None:
    write_set(manifest=manifest)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 2, result.stdout.str()
    result.stdout.fnmatch_lines([expected])
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert "no manifest found" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["--evalmix-today=25/11/2026"],
        ["--evalmix-synth=sometimes"],
    ],
    ids=["today", "synth"],
)
def test_bad_option_is_usage_error(
    project: pytest.Pytester, write_set: WriteSet, args: list[str]
) -> None:
    write_set()
    result = project.runpytest("--evalmix", *args)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*error: argument --evalmix-*"])


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[tool.evalmix.policy]\nmix = {tolerence = 0.2}\n",
            "unknown policy key 'mix.tolerence' (did you mean 'tolerance'?)*",
        ),
        (
            "[tool.evalmix.polcy.mix]\ntolerance = 0.2\n",
            "unknown key 'polcy' in [[]tool.evalmix[]] (did you mean 'policy'?)*",
        ),
        (
            "[tool.evalmix.policy]\nmix = {tolerance = 'wide'}\n",
            "policy key 'mix.tolerance': *",
        ),
    ],
    ids=["unknown-policy-key", "unknown-table", "bad-value"],
)
def test_bad_project_policy_is_usage_error(
    project: pytest.Pytester, write_set: WriteSet, toml: str, message: str
) -> None:
    """pyproject.toml's mistakes are named there, once, as a usage error: not at every manifest."""
    write_set()
    (project.path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n\n" + toml)
    result = run(project, "--evalmix")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*pyproject.toml [[]tool.evalmix[]]: {message}"])


def test_project_policy_then_manifest_override(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """pyproject sets the targets, the manifest overrides one key; the table shows the result."""
    write_set(manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  mix: {tolerance: 0.3}\n")
    (project.path / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n\n[tool.evalmix.policy.mix]\n"
        "targets = {production = 0.6, synthetic = 0.2, adversarial = 0.2}\n"
    )
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*production*10*50.0%*60%*", "*synthetic*5*25.0%*20%*"])
