"""Eval outcomes (docs/evals.md): read from a results file, carried from pytest evals, aggregated.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_evalmix.files.atomic import write_atomic
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import suggest
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.model.stats import wilson
from pytest_evalmix.results.file import FAILED, NONE, PASSED, ResultsFile

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
        """The results-file record (docs/evals.md); nothing else, so it reads back as results."""
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


def gather(
    evalset: EvalSet,
    session: Mapping[str, Outcome],
    check: str,
    results: ResultsFile | None = None,
) -> Gathered:
    """The set's outcomes: its results file (as read by `read_results` for this set),
    overridden id by id by this session's tests.

    Results and test outcomes for ids the set does not have are findings of ``check``, never
    counted: a renamed or deleted example must not keep voting in the pass rates.
    """
    if results is None:
        gathered = Gathered(array("I", bytes(4 * len(evalset))), results_file=evalset.results)
    else:
        gathered = Gathered(
            # The file's codes are shared by every check; a session's outcomes change a copy.
            array("I", results.codes) if session else results.codes,
            modes=list(results.modes),
            count=results.count,
            findings=results.findings_for(check),
            from_file=results.count,
            results_file=results.shown,
            results_found=results.found,
        )
        gathered.findings.extend(
            _unknown(Outcome(rid, False, path=results.shown, line=line), evalset, check, "result")
            for rid, line in results.unknown
        )
    if not session:
        return gathered
    index = {rid: row for row, rid in enumerate(evalset.ids)}
    vocabulary = {mode: code for code, mode in enumerate(gathered.modes)}
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
    """Write outcomes as a docs/evals.md results file, atomically. Returns the number written."""
    lines = [json.dumps(o.to_result(), ensure_ascii=False) + "\n" for o in outcomes]
    write_atomic(path, "".join(lines))
    return len(lines)


def iter_sorted(outcomes: Mapping[str, Outcome]) -> Iterator[Outcome]:
    for rid in sorted(outcomes):
        yield outcomes[rid]
