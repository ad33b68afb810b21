"""Build small eval sets and their inputs in memory, so each rule is tested directly.

A set is loaded by the real loader from a manifest and a JSONL file written to a temp dir (the
rules take an `EvalSet` as loaded, with its rows' paths and lines); everything else a rule
judges (results, ledger, review logs) is built as the plain data `checks.inputs` would hand over.
No pytest run, no pytester.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from conftest import record
from pytest_evalmix.checks.result import Context
from pytest_evalmix.evalset.load import load
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.results.file import ResultsFile
from pytest_evalmix.state.decisions import BadLine, Log, LoggedDecision

TODAY = dt.date(2026, 11, 25)
DATA = "data/support.jsonl"
MANIFEST = "support.evalmix.yaml"
RESULTS = "results/latest.jsonl"


def make_set(
    root: Path,
    records: Iterable[dict[str, Any]],
    *,
    policy: dict[str, Any] | None = None,
    results: bool = False,
) -> EvalSet:
    """Write ``records`` as ``data/support.jsonl`` (line n is the n-th record) under a manifest
    named ``support``, and load it with ``root`` as the rootdir."""
    (root / "data").mkdir(exist_ok=True)
    (root / DATA).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    manifest: dict[str, Any] = {"evalmix": 1, "name": "support", "data": [DATA]}
    if policy is not None:
        manifest["policy"] = policy
    if results:
        manifest["results"] = RESULTS
    # JSON is YAML: no YAML writer needed.
    (root / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return load(root / MANIFEST, root, {})


def forty(root: Path) -> EvalSet:
    """20 production and 20 synthetic examples (no adversarial, and no mix target for it),
    whose manifest names a results file: enough outcomes per subset to be judged."""
    records = [record(f"prod-{i}") for i in range(20)]
    records += [record(f"syn-{i}", "synthetic") for i in range(20)]
    policy = {"mix": {"targets": {"production": 0.5, "synthetic": 0.5}}}
    return make_set(root, records, policy=policy, results=True)


def context(root: Path, **extra: Any) -> Context:
    return Context(today=TODAY, evalmix_dir=root / ".evalmix", **extra)


def results_for(
    evalset: EvalSet, rows: Sequence[tuple[str, bool, str | None]], check: str = "pass-rates"
) -> ResultsFile:
    """A results file's outcomes for ``evalset``, one ``(id, passed, failure mode)`` a line."""
    results = ResultsFile(RESULTS, check, evalset.ids)
    for line, (rid, passed, mode) in enumerate(rows, 1):
        results.add(rid, passed, mode, line)
    return results.done()


def outcomes(prefix: str, passed: int, total: int, mode: str | None = None) -> list[Any]:
    """``total`` results for ids ``<prefix>-0..``, the first ``passed`` of them passing."""
    return [(f"{prefix}-{i}", i < passed, None if i < passed else mode) for i in range(total)]


def decision(
    rid: str, by: str, line: int, verdict: str = "accepted", seconds: float | None = 10.0
) -> LoggedDecision:
    return LoggedDecision(
        id=rid,
        decision=verdict,
        by=by,
        at=f"2026-11-{line % 28 + 1:02d}T10:00:00Z",
        line=line,
        seconds=seconds,
    )


def review_log(
    root: Path, reviewer: str, decisions: list[LoggedDecision], bad: Sequence[BadLine] = ()
) -> Log:
    return Log(root / ".evalmix" / "reviews" / f"{reviewer}.jsonl", decisions, list(bad))
