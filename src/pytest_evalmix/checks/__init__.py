"""The checks of SPEC §5, one module and one pure function each.

A check takes a loaded `EvalSet`, its `Policy` and the run's `Context`, and returns a
`CheckResult`: findings, warnings, a skip reason, and plain data for the reports. It renders
nothing and touches no pytest object, so the CLI and any other front end can run it too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..evalset import EvalSet
from ..findings import Finding
from ..policy import Policy


@dataclass(frozen=True)
class Context:
    """What a check may know about the run besides the set: the date, where state lives."""

    today: dt.date
    evalmix_dir: Path


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


Check = Callable[[EvalSet, Policy, Context], CheckResult]


def registry() -> dict[str, Check]:
    """Every check, in the order its items are collected (stable, so xdist workers agree)."""
    from . import schema

    return {"schema": schema.check}
