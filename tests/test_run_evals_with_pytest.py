"""The pytest layer as a user meets it: node ids that work when pasted back, each eval set loaded
once per process (items, `examples()` and, under xdist, the controller), pytest's public API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import WriteSet, record, run

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_evalmix"


def test_verbose_node_ids_paste_back(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """``pytest --evalmix -v`` prints ``support.evalmix.yaml::schema``, and that id runs."""
    write_set()
    result = run(project, "--evalmix", "-v", *xdist)
    assert result.ret == 0
    printed = sorted(set(re.findall(r"(\S+\.evalmix\.yaml::[\w-]+)", result.stdout.str())))
    assert "support.evalmix.yaml::schema" in printed
    assert "support.evalmix.yaml::gold-provenance" in printed
    assert not any("evalmix::yaml" in nodeid for nodeid in printed)
    for nodeid in printed:
        again = run(project, "--evalmix", nodeid, *xdist)
        counts = again.parseoutcomes()
        # pass-rates has no outcomes here, so it is skipped; every other check passes.
        assert again.ret == 0, again.stdout.str()
        assert counts.get("passed", 0) + counts.get("skipped", 0) == 1, (nodeid, counts)


COUNTING_CONFTEST = """
import json, os, sys
from pathlib import Path

DATA = str(Path(__file__).parent / "data" / "support.jsonl")
OPENS = []


def _audit(event, args):
    if event == "open" and args and str(args[0]) == DATA:
        OPENS.append(1)


sys.addaudithook(_audit)


def pytest_sessionfinish(session):
    role = getattr(session.config, "workerinput", {}).get("workerid", "main")
    out = Path(__file__).parent / "opens"
    out.mkdir(exist_ok=True)
    (out / f"{role}.json").write_text(json.dumps(len(OPENS)))
"""

EVAL_MODULE = """
import pytest
from pytest_evalmix import examples

@pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
def test_eval(example):
    assert example.gold == "billing"
"""


def test_a_set_is_loaded_once_per_process(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """10,000 examples, two test modules calling `examples()` on them, and the manifest's own
    check items: each process reads the data file twice at most (the validated load, and one
    stream of whole examples for `examples()`), and the xdist controller, which judges the
    checks, once."""
    records = [record(f"ex-{i:05d}", "production") for i in range(5_000)]
    records += [record(f"syn-{i:05d}", "synthetic") for i in range(2_500)]
    records += [record(f"adv-{i:05d}", "adversarial") for i in range(2_500)]
    write_set(records)
    project.makeconftest(COUNTING_CONFTEST)
    project.makepyfile(test_first=EVAL_MODULE, test_second=EVAL_MODULE)
    result = run(project, "--evalmix", "-q", *xdist)
    assert result.ret == 0, result.stdout.str()
    assert result.parseoutcomes()["passed"] >= 20_000
    opens = {path.stem: json.loads(path.read_text()) for path in (project.path / "opens").iterdir()}
    # Each process also opens the file once at collection for the byte search that decides
    # whether `agreement` is collected (`evalset.sources.mentions_annotations`): no parse.
    if xdist:
        assert set(opens) == {"main", "gw0", "gw1"}
        assert opens["main"] == 2, opens  # the controller loads once, for every check
        assert all(opens[w] <= 3 for w in ("gw0", "gw1")), opens
    else:
        assert opens == {"main": 3}, opens


def test_under_xdist_a_worker_never_reads_records_for_the_checks(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """With no `examples()` module, the workers read the manifest only: the records are read
    once in the whole run, by the controller, which judges every check. A million-example
    set is then loaded once with every core, not once per worker with one core each."""
    records = [record(f"ex-{i:04d}", "production") for i in range(1_000)]
    records += [record(f"syn-{i:04d}", "synthetic") for i in range(500)]
    records += [record(f"adv-{i:04d}", "adversarial") for i in range(500)]
    write_set(records)
    project.makeconftest(COUNTING_CONFTEST)
    project.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = run(project, "--evalmix", "-v", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    opens = {path.stem: json.loads(path.read_text()) for path in (project.path / "opens").iterdir()}
    # Every process opens the file once more for the byte search that decides whether
    # `agreement` is collected (`evalset.sources.mentions_annotations`); workers parse no record.
    assert opens == {"main": 2, "gw0": 1, "gw1": 1}, opens
    # Every check still reports, once, under its own node id.
    out = result.stdout.str()
    for check in ("schema", "gold-provenance", "mix", "provisional", "review"):
        assert out.count(f"support.evalmix.yaml::{check} PASSED") == 1, out
    assert re.search(r"PASSED test_plain.py::test_plain", out), out


def test_outcome_checks_under_xdist_judge_the_same(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """Under xdist the controller judges pass-rates on the set a worker sent it: the same
    findings, at the same lines, as a run without xdist."""
    records = [record(f"prod-{i:02d}", "production") for i in range(40)]
    records += [record(f"syn-{i:02d}", "synthetic", gold="refund") for i in range(20)]
    records += [record(f"adv-{i:02d}", "adversarial") for i in range(20)]
    write_set(records)
    project.makepyfile(test_evals=EVAL_MODULE)
    serial = run(project, "--evalmix", "-q", "-rN")
    parallel = run(project, "--evalmix", "-q", "-rN", "-n", "2")
    assert serial.ret == parallel.ret == 1

    def verdicts(result: pytest.RunResult) -> list[str]:
        return sorted(
            line
            for line in result.stdout.lines
            if line.startswith("support:") or "pass rate" in line or "failure mode" in line
        )

    assert "pass-rates FAILED" in "\n".join(verdicts(serial))
    assert verdicts(serial) == verdicts(parallel)


def test_no_private_pytest_imports() -> None:
    """pytest's private modules change between releases; the package uses the public API."""
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*(from|import)\s+_pytest\b", line)
    ]
    assert offenders == []
