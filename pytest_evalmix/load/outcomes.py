"""Eval outcomes (SPEC §6): read from a results file, carried from pytest evals, aggregated.

An outcome says whether the system under test got one example right. Outcomes come from two
places: the manifest's ``results:`` JSONL, written by whatever ran the evals, and the tests of the
current pytest session that were parametrized with `pytest_evalmix.examples` (the pytest layer
turns their reports into `Outcome` objects and hands them over in `Context.outcomes`). Both are
merged here, and the session wins for an id that has both: it is the fresher measurement.

This module is core: plain data in, plain data out, no pytest.
"""

from __future__ import annotations

import json
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache as cache_fn
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import SchemaValidator

from pytest_evalmix.load import cache, fastload
from pytest_evalmix.load.atomic import write_atomic
from pytest_evalmix.load.evalset import EvalSet
from pytest_evalmix.load.readers import parse_json_line
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import suggest
from pytest_evalmix.model.records import ORIGINS, Result
from pytest_evalmix.model.stats import wilson

SESSION = "session"
"""`Outcome.source` of an outcome measured by a test of the current pytest session."""


@dataclass(frozen=True)
class Outcome:
    """One example's result. ``path:line`` is where it came from: a results-file line, or the
    test that produced it, so a finding about it is clickable either way."""

    id: str
    passed: bool
    failure_mode: str | None = None
    score: float | None = None
    path: str = ""
    line: int = 0
    source: str = SESSION

    def to_result(self) -> dict[str, Any]:
        """The SPEC §6 results-file record; nothing else, so the file reads back as results."""
        record: dict[str, Any] = {
            "id": self.id,
            "passed": self.passed,
            "failure_mode": None if self.passed else self.failure_mode,
        }
        if self.score is not None:
            record["score"] = self.score
        return record


def from_test(data: Mapping[str, Any]) -> Outcome:
    """The outcome of one pytest test, from the plain dict the plugin puts on its report."""
    return Outcome(
        id=str(data["id"]),
        passed=bool(data["passed"]),
        failure_mode=data.get("failure_mode"),
        path=str(data.get("path", "")),
        line=int(data.get("line", 0)),
        source=SESSION,
    )


def combine(tests: Mapping[str, Outcome]) -> Outcome:
    """One example's outcome from every test that ran on it (by node id).

    An example passes only if every test of it passed; a failed example takes the failure mode of
    its first failing test in node-id order, so the result never depends on which xdist worker
    reported first.
    """
    ordered = [tests[nodeid] for nodeid in sorted(tests)]
    failed = [outcome for outcome in ordered if not outcome.passed]
    return failed[0] if failed else ordered[0]


def merge_session(
    collected: Mapping[str, Mapping[str, Mapping[str, Outcome]]],
) -> dict[str, dict[str, Outcome]]:
    """``manifest -> id -> node id -> outcome`` into ``manifest -> id -> outcome``."""
    return {
        manifest: {rid: combine(tests) for rid, tests in sorted(by_id.items())}
        for manifest, by_id in sorted(collected.items())
    }


# Outcome codes, one per results-file line or per row of a set: a million outcomes are a few MB
# of codes instead of a million objects. A failure's code is FAILED plus its failure mode's
# index in a vocabulary whose entry 0 is None (a failure nobody named).
NONE = 0
PASSED = 1
FAILED = 2


@dataclass
class ResultsFile:
    """A results file as read: one entry per usable line, in file order, one per id.

    Columns, not objects: the ids, each one's line, and its outcome code (`PASSED`, or `FAILED`
    plus an index into ``modes``). Bad lines are ``findings``; ``found`` is False for a file
    that does not exist. Readers of other harnesses' formats fill one through `add`.
    """

    shown: str
    check: str
    found: bool = True
    ids: list[str] = field(default_factory=list)
    lines: array[int] = field(default_factory=lambda: array("I"))
    codes: array[int] = field(default_factory=lambda: array("I"))
    modes: list[str | None] = field(default_factory=lambda: [None])
    findings: list[Finding] = field(default_factory=list)
    _mode_codes: dict[str | None, int] = field(default_factory=lambda: {None: 0}, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

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
        """One result, in file order. The caller has made sure ``rid`` is new (see `seen`)."""
        self.ids.append(rid)
        self.lines.append(line)
        self.codes.append(self.code(passed, failure_mode))

    def finding(self, line: int, rid: str | None, message: str, fix: str) -> Finding:
        return Finding(self.shown, line, rid, message, fix, self.check)

    def outcomes(self) -> Iterator[Outcome]:
        """The results as `Outcome` objects, built on demand (a few, or for a test)."""
        for index, rid in enumerate(self.ids):
            code = self.codes[index]
            yield Outcome(
                id=rid,
                passed=code == PASSED,
                failure_mode=None if code == PASSED else self.modes[code - FAILED],
                path=self.shown,
                line=self.lines[index],
                source="file",
            )

    def for_check(self, check: str) -> ResultsFile:
        """The same results, its findings named for ``check`` (the parse is shared)."""
        if check == self.check:
            return self
        return replace(self, check=check, findings=[replace(f, check=check) for f in self.findings])


def read_results(
    path: Path, shown: str, check: str, *, fmt: str = "evalmix", threshold: float = 1.0
) -> ResultsFile:
    """The one entry point for a set's results file, whatever wrote it: parsed once per process
    (see `cache`), then shared by every check that judges outcomes.

    A bad line is a finding at its line and costs that line only. A missing file is not an
    error (``found`` is False, and the caller says so): a file written by the previous run does
    not exist yet on a fresh checkout. ``fmt`` and ``threshold`` are the manifest's
    ``results: {format:, threshold:}``; other harnesses' readers fill a `ResultsFile` too.
    """
    if fmt != "evalmix":
        raise ValueError(f"unknown results format {fmt!r}")

    def parse(at: Path) -> ResultsFile:
        return _read_jsonl(at, shown, check)

    return cache.cached(f"results:{fmt}:{threshold}", path, parse).for_check(check)


@cache_fn
def _validator() -> SchemaValidator:
    """`Result`'s own schema, as a validator of JSON bytes that yields a plain dict."""
    return fastload.dict_validator(Result.__pydantic_core_schema__)


def _read_jsonl(path: Path, shown: str, check: str) -> ResultsFile:
    """The fast path: each line's bytes validated straight to a dict by `Result`'s schema.

    Only a line that fails pays for the slow path, which says what is wrong in the words the
    model would use (`_explain`).
    """
    results = ResultsFile(shown, check)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        results.found = False
        return results
    except OSError as exc:
        results.findings.append(_unreadable(results, exc))
        return results
    validate = _validator().validate_json
    seen: set[str] = set()
    repeated: list[tuple[int, str]] = []
    add_id, add_line, add_code = results.ids.append, results.lines.append, results.codes.append
    mode_codes = results._mode_codes
    with handle:
        try:
            for line, raw in enumerate(handle, 1):
                try:
                    record = validate(raw)
                except ValidationError:
                    if raw.strip():
                        results.findings.append(_explain(raw, line, results))
                    continue
                rid = record["id"]
                if rid in seen:
                    repeated.append((line, rid))
                    continue
                seen.add(rid)
                add_id(rid)
                add_line(line)
                if record["passed"]:
                    add_code(PASSED)
                else:
                    mode = mode_codes.get(record.get("failure_mode"))
                    add_code(
                        FAILED + mode
                        if mode is not None
                        else results.code(False, record.get("failure_mode"))
                    )
        except OSError as exc:
            results.findings.append(_unreadable(results, exc))
    if repeated:
        first = {rid: 0 for _, rid in repeated}
        for index, rid in enumerate(results.ids):
            if rid in first:
                first[rid] = results.lines[index]
        results.findings.extend(
            results.finding(
                line,
                rid,
                f"a second result for this id (the first is at line {first[rid]}); this one "
                "was not used",
                "keep one result per example: write a fresh file for each eval run",
            )
            for line, rid in repeated
        )
    return results


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


@dataclass
class Gathered:
    """Every outcome a check may judge for one set, by row, and what went wrong reading them.

    ``codes[row]`` is `NONE` (no outcome), `PASSED`, or `FAILED` plus an index into ``modes``.
    """

    codes: array[int]
    modes: list[str | None] = field(default_factory=lambda: [None])
    count: int = 0
    findings: list[Finding] = field(default_factory=list)
    from_session: int = 0
    from_file: int = 0
    results_file: str | None = None
    results_found: bool = False

    def __len__(self) -> int:
        """The number of rows with an outcome."""
        return self.count

    def failure_mode(self, row: int) -> str | None:
        """The failure mode of a failed row (None if nobody named one)."""
        return self.modes[self.codes[row] - FAILED]

    def describe_sources(self) -> str:
        """Where the outcomes came from, for a skip reason that tells the user what to do."""
        if self.results_file and not self.results_found:
            file_part = f"the results file {self.results_file} does not exist"
        elif self.results_file:
            file_part = f"the results file {self.results_file} has no result for a known id"
        else:
            file_part = "the manifest names no results: file"
        return (
            "no eval test parametrized with pytest_evalmix.examples() ran for this set, and "
            f"{file_part}"
        )


def join(evalset: EvalSet, results: ResultsFile) -> Gathered:
    """A results file's outcomes laid on the rows of a set.

    Results for ids the set does not have are findings, never counted: a renamed or deleted
    example must not keep voting in the pass rates. A harness usually writes its results in
    the set's order, so each id is first compared with the row after the last match, and the
    id index is built only when that guess fails.
    """
    ids = evalset.ids
    total = len(ids)
    gathered = Gathered(
        array("I", bytes(4 * total)),
        modes=results.modes,
        findings=list(results.findings),
        results_file=results.shown,
        results_found=results.found,
    )
    if results.ids == ids:  # the whole set, in its order: nothing to look up
        gathered.codes = array("I", results.codes)
        gathered.count = gathered.from_file = total
        return gathered
    codes, result_codes = gathered.codes, results.codes
    index: dict[str, int] | None = None
    guess = 0
    for at, rid in enumerate(results.ids):
        row = guess
        if row >= total or ids[row] != rid:
            if index is None:
                index = {known: row for row, known in enumerate(ids)}
            found = index.get(rid)
            if found is None:
                outcome = Outcome(rid, False, path=results.shown, line=results.lines[at])
                gathered.findings.append(_unknown(outcome, evalset, results.check, "result"))
                continue
            row = found
        codes[row] = result_codes[at]
        gathered.count += 1
        guess = row + 1
    gathered.from_file = gathered.count
    return gathered


def gather(
    evalset: EvalSet,
    session: Mapping[str, Outcome],
    check: str,
    results: ResultsFile | None = None,
) -> Gathered:
    """The set's outcomes: its results file (as read by `read_results`), overridden id by id
    by this session's tests. An unknown id in either is a finding of ``check``."""
    if results is not None:
        gathered = join(evalset, results.for_check(check))
    else:
        gathered = Gathered(array("I", bytes(4 * len(evalset))), results_file=evalset.results)
    if not session:
        return gathered
    index = {rid: row for row, rid in enumerate(evalset.ids)}
    vocabulary = {mode: code for code, mode in enumerate(gathered.modes)}
    gathered.modes = list(gathered.modes)
    for rid in sorted(session):
        outcome = session[rid]
        row = index.get(rid)
        if row is None:
            gathered.findings.append(_unknown(outcome, evalset, check, "test outcome"))
            continue
        if gathered.codes[row] == NONE:
            gathered.count += 1
        else:
            gathered.from_file -= 1
        if outcome.passed:
            gathered.codes[row] = PASSED
        else:
            mode = vocabulary.get(outcome.failure_mode)
            if mode is None:
                mode = vocabulary[outcome.failure_mode] = len(gathered.modes)
                gathered.modes.append(outcome.failure_mode)
            gathered.codes[row] = FAILED + mode
        gathered.from_session += 1
    return gathered


def _unknown(outcome: Outcome, evalset: EvalSet, check: str, what: str) -> Finding:
    # "did you mean" over a big set would cost seconds per unknown id; it helps most on small ones.
    hint = suggest(outcome.id, set(evalset.ids)) if len(evalset) <= 2_000 else ""
    return Finding(
        outcome.path or evalset.manifest,
        outcome.line,
        outcome.id,
        f"{what} for an id that is not in eval set {evalset.name}{hint}",
        "fix the id, or drop the result of an example that was renamed or retired",
        check,
    )


@dataclass(frozen=True)
class Subset:
    """One origin's outcomes: the counts a pass rate and its interval are computed from."""

    origin: str
    examples: int
    results: int
    passed: int
    modes: Counter[str]
    unnamed: int  # failures whose failure mode nobody named

    @property
    def rate(self) -> float | None:
        return self.passed / self.results if self.results else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.passed, self.results)

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "examples": self.examples,
            "results": self.results,
            "passed": self.passed,
            "rate": self.rate,
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
        }

    def describe(self) -> str:
        """``85.0% [64.0–94.8] (17/20)``: a rate is never shown without its uncertainty."""
        return f"{format_rate(self.rate, self.interval)} ({self.passed}/{self.results})"


def subsets(evalset: EvalSet, gathered: Gathered) -> dict[str, Subset]:
    """Per-origin counts over the set's rows, in `ORIGINS` order.

    One tally of (origin, outcome code) pairs, made in C: a million rows cost a fraction of a
    second, not a Python step each.
    """
    counts = evalset.origins.counts()
    examples: Counter[str] = Counter({origin: counts.get(origin, 0) for origin in ORIGINS})
    results: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    unnamed: Counter[str] = Counter()
    modes: dict[str, Counter[str]] = {origin: Counter() for origin in ORIGINS}
    if gathered.count:
        names = evalset.origins.values
        for (origin_code, code), count in Counter(
            zip(evalset.origins.codes, gathered.codes, strict=True)
        ).items():
            if code == NONE:
                continue
            origin = names[origin_code]
            results[origin] += count
            if code == PASSED:
                passed[origin] += count
            else:
                mode = gathered.modes[code - FAILED]
                if mode:
                    modes.setdefault(origin, Counter())[mode] += count
                else:
                    unnamed[origin] += count
    return {
        origin: Subset(
            origin,
            examples[origin],
            results[origin],
            passed[origin],
            modes.get(origin, Counter()),
            unnamed[origin],
        )
        for origin in ORIGINS
    }


def coverage(
    evalset: EvalSet, gathered: Gathered, by_origin: Mapping[str, Subset]
) -> dict[str, Any]:
    """How much of the set has a result: reported, never failed (an eval run may sample)."""
    total = len(evalset)
    with_result = gathered.count
    passed = sum(subset.passed for subset in by_origin.values())
    interval = wilson(passed, with_result)
    return {
        "examples": total,
        "results": with_result,
        "share": with_result / total if total else None,
        "passed": passed,
        "rate": passed / with_result if with_result else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
        "from_session": gathered.from_session,
        "from_file": gathered.from_file,
        "results_file": gathered.results_file,
        "results_file_found": gathered.results_found,
    }


def format_rate(rate: float | None, interval: tuple[float, float] | None) -> str:
    """``85.0% [64.0–94.8]``, or ``-`` when there is no outcome."""
    if rate is None or interval is None:
        return "-"
    return f"{rate:.1%} [{interval[0] * 100:.1f}–{interval[1] * 100:.1f}]"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def results_name(set_name: str) -> str:
    """The file name of a set's written outcomes: its name, made safe for any file system."""
    safe = _UNSAFE.sub("-", set_name).strip(".-") or "evalset"
    return f"{safe}.jsonl"


def write_results(path: Path, outcomes: Iterable[Outcome]) -> int:
    """Write outcomes as a SPEC §6 results file, atomically. Returns the number written."""
    lines = [json.dumps(o.to_result(), ensure_ascii=False) + "\n" for o in outcomes]
    write_atomic(path, "".join(lines))
    return len(lines)


def iter_sorted(outcomes: Mapping[str, Outcome]) -> Iterator[Outcome]:
    for rid in sorted(outcomes):
        yield outcomes[rid]
