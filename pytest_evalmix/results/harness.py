"""Outcomes from other harnesses' own output (docs/evals.md): an Inspect eval log, promptfoo's
``-o``.

A team that runs its evals in Inspect or promptfoo already has a file that says which example
passed; writing a converter to our JSONL is busywork that goes stale. Each reader here maps one
harness's file to ``(id, passed, failure mode)`` with the ids its preset gives the same samples
(docs/formats.md), so the outcomes land on the right rows.

A file that is not in its declared format would otherwise be read line by line as something it is
not, and give a finding per line; `sniff` says what it looks like instead, so that is one finding
naming the ``format:`` that would read it.

inspect-ai is an optional extra, imported only when an Inspect log is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_evalmix.model.findings import Finding

FORMATS = ("evalmix", "inspect", "promptfoo")
INSTALL_INSPECT = "pip install 'pytest-evalmix[inspect]'"
_HEAD_BYTES = 64 * 1024

DESCRIBED = {
    "evalmix": "pytest-evalmix's results JSONL",
    "inspect": "an Inspect eval log",
    "promptfoo": "promptfoo's output (promptfoo eval -o)",
}


@dataclass
class Read:
    """What a harness file gave: ``(id, passed, failure mode, line)`` in file order, one per id."""

    outcomes: list[tuple[str, bool, str | None, int]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    found: bool = True


def sniff(path: Path) -> str | None:
    """Which format the file looks like, from its first bytes; None when none of ours."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return "inspect"  # an .eval log is a ZIP archive
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return None
    first = text.split("\n", 1)[0].strip()
    try:
        value = json.loads(first)
    except ValueError:
        value = None
    if isinstance(value, dict):
        if "passed" in value and "id" in value:
            return "evalmix"
        if "testCase" in value or "gradingResult" in value or "testIdx" in value:
            return "promptfoo"
        if "evalId" in value:
            return "promptfoo"
        if "eval" in value and ("samples" in value or "status" in value):
            return "inspect"
        return None
    # One object over many lines: its first keys say whose it is.
    keys = text[:4096]
    if '"evalId"' in keys:
        return "promptfoo"
    if '"status"' in keys and '"eval"' in keys:
        return "inspect"
    return None


def wrong_format(shown: str, check: str, declared: str, looks: str | None) -> Finding:
    """The one finding for a file that is not what ``format:`` says."""
    declared_text = DESCRIBED.get(declared, declared)
    if looks is None:
        return Finding(
            shown,
            1,
            None,
            f"the results file is not {declared_text}, nor any format this plugin reads",
            "point results: at the file your eval run wrote, with format: evalmix, inspect "
            "or promptfoo",
            check,
        )
    return Finding(
        shown,
        1,
        None,
        f"the results file is declared as {declared_text}, but it looks like {DESCRIBED[looks]}",
        f"read it with results: {{path: {shown}, format: {looks}}}",
        check,
    )


def read(path: Path, shown: str, check: str, fmt: str, threshold: float) -> Read:
    """Read an ``inspect`` or ``promptfoo`` results file (``evalmix`` is outcomes.py's)."""
    if not path.exists():
        return Read(found=False)
    looks = sniff(path)
    if looks != fmt:
        return Read(findings=[wrong_format(shown, check, fmt, looks)])
    if fmt == "inspect":
        return _inspect(path, shown, check, threshold)
    return _promptfoo(path, shown, check)


def _combine(
    results: Iterator[tuple[str, bool, str | None, int]],
) -> list[tuple[str, bool, str | None, int]]:
    """One outcome per id: a sample run several times (epochs, prompts, providers) passes only
    if every run passed, and fails with the first failing run's mode, in file order."""
    by_id: dict[str, tuple[str, bool, str | None, int]] = {}
    for rid, passed, mode, line in results:
        before = by_id.get(rid)
        if before is None or (before[1] and not passed):
            by_id[rid] = (rid, passed, mode, before[3] if before else line)
    return list(by_id.values())


def _unreadable(shown: str, check: str, what: str, exc: BaseException) -> Finding:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Finding(
        shown,
        1,
        None,
        f"cannot read {what}: {text[:200]}",
        "point results: at the file the eval run wrote, whole and unchanged",
        check,
    )


def sample_id(value: Any) -> str:
    """An Inspect sample id as the ``inspect`` preset makes it: integers as decimal text."""
    return str(value)


def _inspect(path: Path, shown: str, check: str, threshold: float) -> Read:
    try:
        from inspect_ai.log import read_eval_log
        from inspect_ai.scorer import value_to_float
    except ImportError:
        return Read(
            findings=[
                Finding(
                    shown,
                    1,
                    None,
                    "reading an Inspect eval log needs inspect-ai, which is not installed",
                    f"install it: {INSTALL_INSPECT}",
                    check,
                )
            ]
        )
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # its readers raise many kinds; any of them means "unreadable"
        return Read(findings=[_unreadable(shown, check, "the Inspect eval log", exc)])
    to_float = value_to_float()

    def outcomes() -> Iterator[tuple[str, bool, str | None, int]]:
        samples = sorted(log.samples or [], key=lambda sample: sample.epoch)
        for sample in samples:
            rid = sample_id(sample.id)
            if sample.error is not None:
                yield rid, False, "error", 1
                continue
            if not sample.scores:
                continue  # not scored (cancelled): no outcome rather than a made-up one
            score = next(iter(sample.scores.values()))
            passed = to_float(score.value) >= threshold
            mode = (score.metadata or {}).get("failure_mode")
            yield rid, passed, mode if isinstance(mode, str) and mode else None, 1

    return Read(_combine(outcomes()))


def _promptfoo(path: Path, shown: str, check: str) -> Read:
    found = Read()
    try:
        if path.suffix.lower() == ".jsonl":
            items = list(_jsonl_items(path, shown, check, found))
        else:
            items = list(_json_items(path))
    except (OSError, ValueError) as exc:
        return Read(findings=[_unreadable(shown, check, "promptfoo's output", exc)])

    def outcomes() -> Iterator[tuple[str, bool, str | None, int]]:
        for line, result in items:
            if not isinstance(result, dict) or not isinstance(result.get("success"), bool):
                found.findings.append(
                    Finding(
                        shown,
                        line,
                        None,
                        "a promptfoo result without a true or false 'success'",
                        "write the file with promptfoo eval -o, unchanged",
                        check,
                    )
                )
                continue
            yield _promptfoo_id(result), result["success"], _promptfoo_mode(result), line

    found.outcomes = _combine(outcomes())
    return found


def _json_items(path: Path) -> Iterator[tuple[int, Any]]:
    data = json.loads(path.read_bytes())
    results = data.get("results") if isinstance(data, dict) else None
    if isinstance(results, dict):  # output format version 3 and later
        results = results.get("results")
    if not isinstance(results, list):
        raise ValueError("no results list in it")
    for item in results:
        yield 1, item


def _jsonl_items(path: Path, shown: str, check: str, found: Read) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                yield line, json.loads(raw)
            except (ValueError, RecursionError) as exc:
                found.findings.append(
                    Finding(
                        shown,
                        line,
                        None,
                        f"malformed JSON: {exc}"[:200],
                        "write the file with promptfoo eval -o, unchanged",
                        check,
                    )
                )


def _promptfoo_id(result: dict[str, Any]) -> str:
    """The id the ``promptfoo`` preset gives the same test: its description, else its place."""
    case = result.get("testCase")
    description = case.get("description") if isinstance(case, dict) else None
    if isinstance(description, str) and description:
        return description
    index = result.get("testIdx")
    return f"pf-{index + 1}" if isinstance(index, int) else "pf-?"


def _promptfoo_mode(result: dict[str, Any]) -> str | None:
    """The type of the first failed assertion, or ``error`` for a run that errored."""
    if result.get("success"):
        return None
    grading = result.get("gradingResult")
    if result.get("failureReason") == 2 or not isinstance(grading, dict):
        return "error"
    for component in grading.get("componentResults") or ():
        if isinstance(component, dict) and component.get("pass") is False:
            assertion = component.get("assertion")
            kind = assertion.get("type") if isinstance(assertion, dict) else None
            if isinstance(kind, str) and kind:
                return kind
    return None
