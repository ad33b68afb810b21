"""`checks/inputs.py` and the results reader: every input read once per process, and the checks
pure.

`checks.suite.run` is how every front end runs a check; these call it (and the loaders) directly
on real files, without a pytest run."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from evalsets import RESULTS, context, forty

from pytest_evalmix.checks import inputs
from pytest_evalmix.checks import suite as rules
from pytest_evalmix.formats import parallel
from pytest_evalmix.results import file as results_file
from pytest_evalmix.results import scan as results_scan
from pytest_evalmix.results.file import FAILED, NONE, PASSED, read_results
from pytest_evalmix.state import decisions, ledger


def write_results(root: Path, rows: list[object]) -> Path:
    path = root / RESULTS
    path.parent.mkdir(exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def passing(prefix: str, count: int) -> list[object]:
    return [{"id": f"{prefix}-{i}", "passed": True} for i in range(count)]


def test_the_results_file_is_parsed_once_for_every_check(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    write_results(tmp_path, passing("prod", 20) + passing("syn", 20))
    first = inputs.load(evalset, tmp_path / ".evalmix", {inputs.RESULTS}).results
    again = inputs.load(evalset, tmp_path / ".evalmix", {inputs.RESULTS}).results
    assert first is not None and again is first
    for name in ("pass-rates", "failure-modes"):
        assert rules.run(name, evalset, context(tmp_path)).status == "passed"
    assert inputs.load(evalset, tmp_path / ".evalmix", {inputs.RESULTS}).results is first
    # A changed file is read again.
    write_results(tmp_path, passing("prod", 20) + passing("syn", 19) + ["[]"])
    changed = inputs.load(evalset, tmp_path / ".evalmix", {inputs.RESULTS}).results
    assert changed is not first and changed is not None and changed.count == 39
    result = rules.run("pass-rates", evalset, context(tmp_path))
    assert [(f.path, f.line, f.message) for f in result.findings] == [
        (RESULTS, 40, "record is not an object (got a list)")
    ]


def test_a_parse_is_served_only_to_the_set_it_was_made_for(tmp_path: Path) -> None:
    evalset = forty(tmp_path)
    write_results(tmp_path, passing("prod", 20))
    mine = inputs.load(evalset, tmp_path / ".evalmix", {inputs.RESULTS}).results
    other = forty(tmp_path)  # the same manifest, loaded again: another set object
    theirs = inputs.load(other, tmp_path / ".evalmix", {inputs.RESULTS}).results
    assert theirs is not mine and theirs is not None and theirs.count == 20


def test_bad_lines_cost_their_line_and_say_why(tmp_path: Path) -> None:
    path = write_results(
        tmp_path,
        [
            {"id": "a", "passed": True},
            {"id": "b", "passed": False, "failure_mode": "wrong-queue", "score": 0.5},
            "",
            {"id": "a", "passed": False},
            {"id": "c", "passed": "yes"},
            {"id": "d", "passed": True, "sorce": 1},
            '{"id": "e", "passed": tru',
            {"id": "f", "passed": True, "score": float("inf")},
            {"id": "zz", "passed": True},
            {"id": "zz", "passed": True},
        ],
    )
    results = read_results(path, RESULTS, "pass-rates", ["a", "b", "c", "d"])
    assert results.found
    assert list(results.codes) == [PASSED, FAILED + results.modes.index("wrong-queue"), NONE, NONE]
    assert results.count == 2
    assert results.unknown == [("zz", 9)]
    assert [(f.line, f.id, f.message) for f in results.findings] == [
        (5, "c", "passed: input should be a valid boolean"),
        (6, "d", "unknown key 'sorce' (did you mean 'score'?)"),
        (7, "e", "malformed JSON at column 23: Expecting value"),
        (8, "f", "score: input should be a finite number"),
        (4, "a", "a second result for this id (the first is at line 1); this one was not used"),
        (10, "zz", "a second result for this id (the first is at line 9); this one was not used"),
    ]
    assert results.findings[0].fix.startswith("write each result as one JSON object a line")


def test_non_utf8_bytes_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"id": "a", "passed": true}\n{"id": "b\xff", "passed": true}\n')
    results = read_results(path, "r.jsonl", "pass-rates", ["a"])
    assert [(f.line, f.message) for f in results.findings] == [
        (2, "non-UTF-8 bytes at byte 10 of the line")
    ]
    missing = read_results(tmp_path / "nope.jsonl", "nope.jsonl", "pass-rates", ["a"])
    assert not missing.found and missing.findings == [] and list(missing.codes) == [NONE]


def test_the_ledger_and_review_logs_are_read_once_while_unchanged(tmp_path: Path) -> None:
    evalmix_dir = tmp_path / ".evalmix"
    ledger_path = evalmix_dir / ledger.LEDGER_NAME
    ledger.append(ledger_path, ["a text"], "claude-opus-4-7", context(tmp_path).today)
    first = inputs.read_ledger(ledger_path)
    assert inputs.read_ledger(ledger_path) is first and len(first) == 1
    ledger.append(ledger_path, ["another text"], "claude-opus-4-7", context(tmp_path).today)
    assert len(inputs.read_ledger(ledger_path)) == 2

    log = decisions.log_path(evalmix_dir, "dana")
    entry = {"id": "c-1", "decision": "accepted", "by": "dana", "at": "2026-11-25T10:00:00Z"}
    decisions.append(log, entry)
    logs = inputs.read_reviews(evalmix_dir)
    assert [len(found.decisions) for found in logs] == [1]
    assert inputs.read_reviews(evalmix_dir)[0] is logs[0]
    decisions.append(log, {**entry, "id": "c-2"})
    assert [len(found.decisions) for found in inputs.read_reviews(evalmix_dir)] == [2]


# Calls that touch the file system; a check gets its data from `checks.inputs`, so it makes none.
FILE_CALLS = {
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "glob",
    "rglob",
    "iterdir",
    "exists",
    "is_file",
    "is_dir",
    "stat",
    "scandir",
    "listdir",
    "walk",
}


def test_no_rule_reads_a_file() -> None:
    # One module per check id, in checks/records/, checks/labels/ and checks/outcomes/.
    modules = sorted(Path(rules.__file__).parent.glob("*/*.py"))
    checked = {f"{module.parent.name}/{module.name}" for module in modules}
    assert {"records/schema.py", "labels/review_decisions.py", "outcomes/pass_rates.py"} <= checked
    offenders = []
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in FILE_CALLS:
                    offenders.append(f"{module.parent.name}/{module.name}:{node.lineno}: {name}()")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names]
                if "os" in names or "io" in names or node.__dict__.get("module") in {"os", "io"}:
                    offenders.append(
                        f"{module.parent.name}/{module.name}:{node.lineno}: imports os/io"
                    )
    assert offenders == []


def test_a_big_file_read_in_two_processes_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `parallel.PARALLEL_ENV` bytes a child reads the file's tail: the outcomes and every
    finding (bad lines, unknown ids, an id repeated across the cut) are the same as read here."""
    ids = [f"ex-{i}" for i in range(400)]
    rows: list[object] = []
    for i in range(400):
        rows.append({"id": f"ex-{i}", "passed": i % 7 != 0, "failure_mode": f"mode-{i % 3}"})
        if i in (50, 350):
            rows += ["{not json", {"id": f"ghost-{i}", "passed": True}, {"id": "ex-3", "passed": 1}]
        if i == 390:
            rows.append({"id": "ex-10", "passed": True})  # repeats line 11, across the cut
    path = write_results(tmp_path, rows)

    def read() -> tuple[list[str | int | None], object, list[tuple[str, int]], list[object]]:
        results = read_results(path, RESULTS, "pass-rates", ids)
        failed = [(results.modes[c - FAILED] if c >= FAILED else c) for c in results.codes]
        return failed, results.modes, results.unknown, sorted(results.findings, key=str)

    monkeypatch.setenv(parallel.PARALLEL_ENV, str(10**9))
    alone = read()
    monkeypatch.setenv(parallel.PARALLEL_ENV, "1")
    assert parallel.parallel_bytes() == 1
    assert read() == alone
    # The child's results come back in pieces (here of 30 lines), each taken as it comes.
    monkeypatch.setattr(results_scan, "RESULTS_PIECE_LINES", 30)
    assert read() == alone
    assert alone[2] == [("ghost-50", 53), ("ghost-350", 356)]
    assert len(alone[3]) == 5  # two malformed lines, two bad 'passed', one repeat
    assert any("the first is at line 11" in str(f) for f in alone[3])


@pytest.mark.parametrize("seed", range(6))
def test_results_joined_by_runs_are_the_same_as_one_by_one(seed: int) -> None:
    """`ResultsFile.take` copies runs of results that follow the set's rows whole; whatever
    the order (in order, blocks swapped, shuffled), with repeats and unknown ids, it ends
    exactly as `place` one result at a time does."""
    import random
    from array import array

    from pytest_evalmix.results.file import ResultsFile

    rng = random.Random(seed)
    ids = [f"ex-{i}" for i in range(3000)]
    order = list(ids)
    if seed % 3 == 1:  # the set's files in another order: blocks of rows swapped
        order = order[2000:] + order[:700] + order[700:2000]
    elif seed % 3 == 2:
        rng.shuffle(order)
    stream = []
    for rid in order:
        stream.append(rid)
        if rng.random() < 0.01:
            stream.append(rng.choice(ids))  # a second result, later in the file
        if rng.random() < 0.005:
            stream.append(f"ghost-{rng.randrange(50)}")  # unknown, sometimes twice
    codes = array("I", [rng.choice([PASSED, FAILED, FAILED + 1]) for _ in stream])
    lines = array("I", range(1, len(stream) + 1))

    one = ResultsFile("r", "pass-rates", ids)
    one.modes.append("m")
    for rid, code, line in zip(stream, codes, lines, strict=True):
        one.place(rid, code, line)
    many = ResultsFile("r", "pass-rates", ids)
    many.modes.append("m")
    at = 0
    while at < len(stream):  # pieces of any size, as children send them
        size = rng.randint(1, 700)
        many.take(
            stream[at : at + size], codes[at : at + size], lines[: min(size, len(stream) - at)], at
        )
        at += size
    one.done()
    many.done()
    assert many.codes == one.codes and many.count == one.count
    assert many.unknown == one.unknown
    assert [str(f) for f in many.findings] == [str(f) for f in one.findings]
    assert one.count == 3000 and one.findings  # every row met, and some repeats


def test_a_prefetched_results_file_reads_the_same_and_a_changed_one_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`results.file.prefetch` starts a child on the results file while the set loads; the read
    takes its pieces if the file is unchanged, and reads the file afresh if it changed."""

    monkeypatch.setenv(parallel.PARALLEL_ENV, "1")
    evalset = forty(tmp_path)
    ids = evalset.ids
    rows: list[dict[str, object]] = [
        {"id": rid, "passed": i % 3 != 0, "failure_mode": "m"} for i, rid in enumerate(ids)
    ]
    path = write_results(tmp_path, list(rows))

    def verdicts() -> list[int]:
        return list(read_results(path, RESULTS, "pass-rates", ids).codes)

    alone = verdicts()
    results_file.prefetch(evalset)
    assert results_file.prefetching()  # the child started
    assert verdicts() == alone
    assert not results_file.prefetching()  # and was taken
    results_file.prefetch(evalset)
    rows[0]["passed"] = not rows[0]["passed"]
    write_results(tmp_path, [*rows, {"id": "late", "passed": True}])  # another size
    changed = verdicts()
    assert changed[0] != alone[0] and changed[1:] == alone[1:]


def test_no_temporary_directory_means_no_prefetch_and_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child writes its results into a temporary file; without a writable temporary
    directory there is no child, and the results are read when asked for, the same."""
    import tempfile

    monkeypatch.setenv(parallel.PARALLEL_ENV, "1")
    evalset = forty(tmp_path)
    path = write_results(tmp_path, passing("prod", 20))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    results_file.prefetch(evalset)
    assert not results_file.prefetching()
    assert read_results(path, RESULTS, "pass-rates", evalset.ids).count == 20
