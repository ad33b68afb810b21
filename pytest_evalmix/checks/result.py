"""What a check is: a pure function of a loaded set, its policy, the run's `Context` and the set's
other `Inputs`, returning a `CheckResult` (docs/architecture.md).

A check reads no file, renders nothing and touches no pytest object, so a test can call it on
data built in memory, and any front end can run it through `checks.suite.run`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_evalmix.checkers.contract import Checker
from pytest_evalmix.checkers.registry import builtins
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.results.outcomes import Outcome

if TYPE_CHECKING:
    from pytest_evalmix.revisions.delta import Baseline


@dataclass(frozen=True)
class Context:
    """What a check may know about the run besides the set: the date, where state lives."""

    today: dt.date
    evalmix_dir: Path
    # The checkers that records may name in label.checker. The pytest layer passes every
    # registered one; the default is the built-ins alone.
    checkers: Mapping[str, Checker] = field(default_factory=builtins)
    # Eval outcomes measured in this run, by manifest path (`EvalSet.manifest`), then example id:
    # the pytest tests parametrized with `pytest_evalmix.examples`. A set's results file is an
    # `Inputs` of its own.
    outcomes: Mapping[str, Mapping[str, Outcome]] = field(default_factory=dict)
    # ``--evalmix-base=REF``: the revision the ``changes`` check compares each set with (its
    # comparison is an `Inputs`, made by `run`).
    base: Baseline | None = None
    # Every eval set of the run, for the checks that compare sets (``leakage`` across splits).
    peers: Sequence[EvalSet] = ()


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.findings:
            return "failed"
        return "skipped" if self.skipped else "passed"


Check = Callable[[EvalSet, Policy, Context, Inputs], CheckResult]
