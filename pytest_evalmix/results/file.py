"""The evalmix results file (docs/evals.md): one JSONL line per example, read fast, joined to
the set's ids, and explained line by line when a line is wrong. A big file is read by a child
(`results.scan`) started while the set loads (`prefetch`).
"""

from __future__ import annotations

import atexit
import os
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache as cache_fn
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import SchemaValidator

from pytest_evalmix.files import cache
from pytest_evalmix.formats import parallel, validators
from pytest_evalmix.formats.readers import parse_json_line
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import suggest
from pytest_evalmix.model.records import Result
from pytest_evalmix.results import harness
from pytest_evalmix.results import scan as results_scan

# Outcome codes, one per row of a set: a million outcomes are a few MB of codes instead of a
# million objects. A failure's code is FAILED plus its failure mode's index in a vocabulary
# whose entry 0 is None (a failure nobody named).
NONE = 0


PASSED = 1


FAILED = 2


class ResultsFile:
    """A results file as read for one set: its outcomes by row of the set, and its problems.

    The file is joined to the set while it is read, straight into ``codes``: ``codes[row]`` is
    `NONE` (no result), `PASSED`, or `FAILED` plus an index into ``modes``. So a million results
    cost a code per row, never an object or a string per result. ``unknown`` holds the results
    for ids the set does not have, ``repeated`` the second results for an id (neither is
    counted), ``findings`` the lines that could not be read. ``found`` is False for a file that
    does not exist.

    A reader fills one with `add` (or `take`, many at once), then calls `done`; the JSONL reader
    is `read_results`, and readers of other harnesses' formats fill one the same way.
    """

    def __init__(self, shown: str, check: str, ids: Sequence[str]) -> None:
        self.shown = shown
        self.check = check
        self.found = True
        self.codes: array[int] = array("I", bytes(4 * len(ids)))
        self.count = 0
        self.modes: list[str | None] = [None]
        self.unknown: list[tuple[str, int]] = []
        self.repeated: list[tuple[str, int]] = []
        self.findings: list[Finding] = []
        self._mode_codes: dict[str | None, int] = {None: 0}
        self._join: _Join | None = _Join(ids)
        self._unknown_ids: set[str] = set()

    def code(self, passed: bool, failure_mode: str | None) -> int:
        """The outcome code of one result; a passed result's failure mode means nothing."""
        if passed:
            return PASSED
        mode = self._mode_codes.get(failure_mode)
        if mode is None:
            mode = self._mode_codes[failure_mode] = len(self.modes)
            self.modes.append(failure_mode)
        return FAILED + mode

    def add(self, rid: str, passed: bool, failure_mode: str | None, line: int) -> None:
        """One result, in file order: the first result for an id is the one that counts."""
        self.place(rid, self.code(passed, failure_mode), line)

    def place(self, rid: str, code: int, line: int) -> None:
        """`add`, with the outcome already a code of this file."""
        join = self._join
        assert join is not None, "add after done"
        self._place(rid, join.row(rid), code, line)

    def _place(self, rid: str, row: int | None, code: int, line: int) -> None:
        if row is None:
            if rid in self._unknown_ids:
                self.repeated.append((rid, line))
            else:
                self._unknown_ids.add(rid)
                self.unknown.append((rid, line))
        elif self.codes[row] != NONE:
            self.repeated.append((rid, line))
        else:
            self.codes[row] = code

    def take(self, rids: list[str], codes: array[int], lines: array[int], before: int) -> None:
        """Many results in file order: ``rids[i]`` has code ``codes[i]`` (of this file) at line
        ``before + lines[i]``. Same outcome as `place` one by one.

        An eval harness mostly writes results in the set's own order, so results come in runs
        that match consecutive rows: such a run is compared and copied whole, at C speed, and
        only the ids outside runs are looked up one by one.
        """
        join = self._join
        assert join is not None, "add after done"
        out, ids = self.codes, join.ids
        at, count = 0, len(rids)
        while at < count:
            row = join.locate(rids[at])
            if row is None:  # an id the set does not have
                self._place(rids[at], None, codes[at], before + lines[at])
                at += 1
                continue
            length = min(count - at, len(ids) - row)
            if ids[row : row + length] != rids[at : at + length]:
                length = _matching(ids, row, rids, at, length)
            if out[row : row + length].count(NONE) == length:
                out[row : row + length] = codes[at : at + length]
                join.after(row + length)
            else:  # some rows of the run already have a result: one by one
                for i in range(at, at + length):
                    self.place(rids[i], codes[i], before + lines[i])
            at += length

    def done(self, first_lines: Mapping[str, int] | None = None) -> ResultsFile:
        """Count the outcomes and let the join go. ``first_lines`` gives, for each id in
        `repeated`, the line of its first result, for the finding that points there."""
        if self._join is not None:
            self.count = len(self.codes) - self.codes.count(NONE)
            self._join = None
        for rid, line in self.repeated:
            first = (first_lines or {}).get(rid)
            self.findings.append(
                self.finding(
                    line,
                    rid,
                    "a second result for this id"
                    + (f" (the first is at line {first})" if first else "")
                    + "; this one was not used",
                    "keep one result per example: write a fresh file for each eval run",
                )
            )
        self.repeated = []
        return self

    def finding(self, line: int, rid: str | None, message: str, fix: str) -> Finding:
        return Finding(self.shown, line, rid, message, fix, self.check)

    def findings_for(self, check: str) -> list[Finding]:
        """The file's own findings, named for ``check`` (the parse is shared)."""
        if check == self.check:
            return list(self.findings)
        return [replace(finding, check=check) for finding in self.findings]


class _Join:
    """Finds the set's row of a result id, cheapest way first.

    Results mostly follow the set's order, so the next row is tried first; failing that, the
    ids are searched in C (a few milliseconds for a million) a few times, and only a file whose
    order is really shuffled pays for a table of every id.
    """

    SEARCHES = 8

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids: list[str] = ids if isinstance(ids, list) else list(ids)
        self.next = 0
        self.searches = 0
        self.index: dict[str, int] | None = None

    def after(self, row: int) -> None:
        """Rows up to ``row`` just got results: the next result is likely ``row``'s."""
        self.next = row

    def locate(self, rid: str) -> int | None:
        ids, row = self.ids, self.next
        if row < len(ids) and ids[row] == rid:
            return row
        return self.row(rid)

    def row(self, rid: str) -> int | None:
        if self.index is None:
            self.searches += 1
            if self.searches <= self.SEARCHES:
                try:
                    return self.ids.index(rid)
                except ValueError:
                    return None
            self.index = dict(zip(self.ids, range(len(self.ids)), strict=True))
            if len(self.index) != len(self.ids):  # the loader never lets an id repeat
                raise ValueError("the set's ids must be unique: codes are laid out by row")
        return self.index.get(rid)


def _matching(ids: list[str], row: int, rids: list[str], at: int, length: int) -> int:
    """How many of ``rids[at:]`` match ``ids[row:]`` one for one (at least the first does)."""
    pairs = zip(ids[row : row + length], rids[at : at + length], strict=True)
    for offset, (a, b) in enumerate(pairs):
        if a != b:
            return offset
    return length


def read_results(
    path: Path,
    shown: str,
    check: str,
    ids: Sequence[str],
    *,
    fmt: str = "evalmix",
    threshold: float = 1.0,
) -> ResultsFile:
    """The one entry point for a set's results file, whatever wrote it, read for the set
    whose ids are ``ids``. `pytest_evalmix.checks.inputs` calls it once per process and file.

    A bad line is a finding at its line and costs that line only. A missing file is not an
    error (``found`` is False, and the caller says so): a file written by the previous run does
    not exist yet on a fresh checkout. ``fmt`` and ``threshold`` are the manifest's
    ``results: {format:, threshold:}``; another harness's reader fills a `ResultsFile` too.
    A file that plainly is another format than declared is one finding, not one per line.
    """
    if fmt != "evalmix":
        results = ResultsFile(shown, check, ids)
        read = harness.read(path, shown, check, fmt, threshold)
        results.found = read.found
        results.findings.extend(read.findings)
        for rid, passed, mode, line in read.outcomes:
            results.add(rid, passed, mode, line)
        return results.done()
    looks = harness.sniff(path)
    if looks is not None and looks != "evalmix":
        results = ResultsFile(shown, check, ids)
        results.findings.append(harness.wrong_format(shown, check, fmt, looks))
        return results.done()
    return _read_jsonl(path, shown, check, ids)


@cache_fn
def result_schema() -> Any:
    """`Result`'s own core schema, as a typed dict: plain data, so a child can build it too."""
    return validators.typed_dict_schema(Result.__pydantic_core_schema__)


@cache_fn
def _validator() -> SchemaValidator:
    """A validator of JSON bytes that yields a plain dict, by `Result`'s own rules."""
    return validators.dict_validator(result_schema())


def _read_jsonl(path: Path, shown: str, check: str, ids: Sequence[str]) -> ResultsFile:
    """Each line's bytes validated straight to a dict by `Result`'s schema, big files in a
    child (started early by `prefetch`, or now), joined to the set a piece at a time.

    Only a line that fails pays for the slow path, which says what is wrong in the words the
    model would use (`_explain`).
    """
    results = ResultsFile(shown, check, ids)
    key = os.path.realpath(path)
    pending = _prefetched.pop(key, None)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        if pending is not None:
            pending[1].stop()
        if isinstance(exc, FileNotFoundError):
            results.found = False
        else:
            results.findings.append(_unreadable(results, exc))
        return results.done()
    child = None
    if pending is not None:
        stamp, child = pending
        if stamp != cache.stamp(path):  # changed since the child started: not its results
            child.stop()
            child = None
    lines = 0
    try:
        for piece in results_scan.results_pieces(path, size, result_schema(), child):
            table = [NONE, PASSED] + [results.code(False, mode) for mode in piece.modes]
            codes = array("I", map(table.__getitem__, piece.codes))
            results.take(piece.ids, codes, piece.lines, lines)
            for line, raw in piece.failed:
                results.findings.append(_explain(raw, lines + line, results))
            lines += piece.newlines
    except OSError as exc:
        results.findings.append(_unreadable(results, exc))
    first_lines = _first_lines(path, {rid for rid, _ in results.repeated})
    return results.done(first_lines)


# Results files whose reading started early, by real path: (their stamp then, the child).
_prefetched: dict[str, tuple[tuple[int, int, int], results_scan.Pending]] = {}


def prefetch(evalset: EvalSet) -> None:
    """Start reading the set's results file in a child now, while the set itself loads.

    The pass-rate checks need the results only after the evals ran, but reading a million of
    them takes as long as a core's share of the set: started beside the set's own loaders, the
    results are ready when asked for (`read_results` takes them, if the file is unchanged). A
    small file, another harness's, or a one-core machine is read when asked for, as before.
    """
    path = evalset.results_path
    if path is None or evalset.results_format != "evalmix":
        return
    stamp = cache.stamp(path)
    if stamp is None or stamp[0] < parallel.parallel_bytes() or not path.is_file():
        return
    if harness.sniff(path) not in (None, "evalmix"):
        return
    key = os.path.realpath(path)
    old = _prefetched.pop(key, None)
    if old is not None:
        old[1].stop()
    pending = results_scan.start_results(path, 0, stamp[0], result_schema())
    if pending is not None:
        if not _prefetched:  # registered again after each time all were taken: harmless
            atexit.unregister(_stop_prefetches)
            atexit.register(_stop_prefetches)
        _prefetched[key] = (stamp, pending)


def prefetching() -> list[str]:
    """The real paths of the results files being read early and not yet taken (for the tests)."""
    return sorted(_prefetched)


def _stop_prefetches() -> None:
    for _stamp, pending in _prefetched.values():
        pending.stop()
    _prefetched.clear()


def _first_lines(path: Path, wanted: set[str]) -> dict[str, int]:
    """The line of the first result for each id in ``wanted``: a second look at the file, paid
    only when some id has two results."""
    first: dict[str, int] = {}
    if not wanted:
        return first
    validate = _validator().validate_json
    try:
        with path.open("rb") as handle:
            for line, raw in enumerate(handle, 1):
                try:
                    rid = validate(raw)["id"]
                except ValidationError:
                    continue
                if rid in wanted and rid not in first:
                    first[rid] = line
                    if len(first) == len(wanted):
                        break
    except OSError:
        pass
    return first


def _explain(raw: bytes, line: int, results: ResultsFile) -> Finding:
    """Why a line failed the fast path: the JSON error, or the model's validation errors."""
    parsed = parse_json_line(raw, line)
    if not isinstance(parsed, dict):
        return results.finding(line, parsed.id, parsed.message, _FIX)
    rid = parsed.get("id") if isinstance(parsed.get("id"), str) else None
    try:
        Result.model_validate(parsed)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            key = ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(f"unknown key '{key}'{suggest(key, set(Result.model_fields))}")
            elif error["type"] == "missing":
                problems.append(f"missing required field '{key}'")
            else:
                problems.append(f"{key}: {str(error['msg']).lower()}")
        return results.finding(line, rid, "; ".join(problems), _FIX)
    # The model accepts what the derived validator refused: never expected, but then the
    # line is still not counted, so say so rather than drop it silently.
    return results.finding(line, rid, "result could not be read", _FIX)


def _unreadable(results: ResultsFile, exc: OSError) -> Finding:
    return results.finding(
        1,
        None,
        f"cannot read the results file: {exc.strerror or exc}",
        "check that it is a readable file",
    )


_FIX = (
    'write each result as one JSON object a line: {"id": ..., "passed": true|false, '
    '"failure_mode": ..., "score": ...} (failure_mode and score optional)'
)
