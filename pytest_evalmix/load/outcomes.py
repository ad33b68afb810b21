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
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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


@dataclass
class Gathered:
    """Every outcome a check may judge for one set, and what went wrong reading them."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    from_session: int = 0
    from_file: int = 0
    results_file: str | None = None
    results_found: bool = False

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


def gather(evalset: EvalSet, session: Mapping[str, Outcome], check: str) -> Gathered:
    """The set's outcomes: its results file, overridden id by id by this session's tests.

    Results for ids the set does not have are findings (of ``check``), never counted: a renamed
    or deleted example must not keep voting in the pass rates.
    """
    gathered = Gathered(results_file=evalset.results)
    if not session and evalset.results_path is None:
        return gathered  # the common case of a plain check run: no id index to build
    known = set(evalset.ids)
    if evalset.results_path is not None and evalset.results is not None:
        from_file, problems, found = read_results(evalset.results_path, evalset.results, check)
        gathered.results_found = found
        gathered.findings.extend(problems)
        for outcome in from_file:
            if outcome.id in known:
                gathered.outcomes[outcome.id] = outcome
            else:
                gathered.findings.append(_unknown(outcome, evalset, check, "result"))
        gathered.from_file = len(gathered.outcomes)
    for rid in sorted(session):
        outcome = session[rid]
        if rid not in known:
            gathered.findings.append(_unknown(outcome, evalset, check, "test outcome"))
            continue
        if rid in gathered.outcomes:
            gathered.from_file -= 1
        gathered.outcomes[rid] = outcome
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


def read_results(path: Path, shown: str, check: str) -> tuple[list[Outcome], list[Finding], bool]:
    """Read a SPEC §6 results file: its outcomes, its bad lines as findings, whether it exists.

    A bad line is a finding at its line and costs that line only. A missing file is not an error
    (the caller reports it as missing): a file written by the previous run does not exist yet on
    a fresh checkout.
    """
    outcomes: list[Outcome] = []
    findings: list[Finding] = []
    first_line: dict[str, int] = {}
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return outcomes, findings, False
    except OSError as exc:
        findings.append(_unreadable(shown, exc, check))
        return outcomes, findings, True
    with handle:
        try:
            for line, data in enumerate(handle, 1):
                if not data.strip():
                    continue
                parsed = parse_json_line(data, line)
                if not isinstance(parsed, dict):
                    findings.append(Finding(shown, line, parsed.id, parsed.message, _FIX, check))
                    continue
                outcome = _result(parsed, shown, line, check, findings)
                if outcome is None:
                    continue
                if outcome.id in first_line:
                    findings.append(
                        Finding(
                            shown,
                            line,
                            outcome.id,
                            f"a second result for this id (the first is at line "
                            f"{first_line[outcome.id]}); this one was not used",
                            "keep one result per example: write a fresh file for each eval run",
                            check,
                        )
                    )
                    continue
                first_line[outcome.id] = line
                outcomes.append(outcome)
        except OSError as exc:
            findings.append(_unreadable(shown, exc, check))
    return outcomes, findings, True


def _unreadable(shown: str, exc: OSError, check: str) -> Finding:
    return Finding(
        shown,
        1,
        None,
        f"cannot read the results file: {exc.strerror or exc}",
        "check that it is a readable file",
        check,
    )


_FIX = (
    'write each result as one JSON object a line: {"id": ..., "passed": true|false, '
    '"failure_mode": ..., "score": ...} (failure_mode and score optional)'
)


def _result(
    raw: dict[str, Any], shown: str, line: int, check: str, findings: list[Finding]
) -> Outcome | None:
    rid = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        result = Result.model_validate(raw)
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
        findings.append(
            Finding(
                shown,
                line,
                rid,
                "; ".join(problems),
                _FIX,
                check,
            )
        )
        return None
    return Outcome(
        id=result.id,
        passed=result.passed,
        failure_mode=result.failure_mode,
        score=result.score,
        path=shown,
        line=line,
        source="file",
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


def subsets(evalset: EvalSet, outcomes: Mapping[str, Outcome]) -> dict[str, Subset]:
    """Per-origin counts over the set's rows, in `ORIGINS` order."""
    examples: Counter[str] = Counter()
    results: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    unnamed: Counter[str] = Counter()
    modes: dict[str, Counter[str]] = {origin: Counter() for origin in ORIGINS}
    if not outcomes:
        examples.update(evalset.origins.counts())
    for rid, origin in zip(evalset.ids, evalset.origins, strict=True) if outcomes else ():
        examples[origin] += 1
        outcome = outcomes.get(rid)
        if outcome is None:
            continue
        results[origin] += 1
        if outcome.passed:
            passed[origin] += 1
        elif outcome.failure_mode:
            modes.setdefault(origin, Counter())[outcome.failure_mode] += 1
        else:
            unnamed[origin] += 1
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
    with_result = len(gathered.outcomes)
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
