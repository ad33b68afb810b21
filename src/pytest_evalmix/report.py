"""The run's report as data, and its terminal view.

Check items attach a plain-dict payload to their test report; the controller (with or without
xdist) folds the payloads into one `Report`. Terminal, Markdown and JSON are views of that one
object, so they can never disagree about a count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tabulate import tabulate

from .checks import CheckResult
from .evalset import EvalSet
from .findings import Finding, ordered
from .models import ORIGINS

Payload = dict[str, Any]


def set_payload(evalset: EvalSet) -> Payload:
    """The facts about a set that every check's report carries: name, counts, targets."""
    counts = Counter(evalset.origins)
    return {
        "name": evalset.name,
        "manifest": evalset.manifest,
        "total": len(evalset),
        "counts": {origin: counts.get(origin, 0) for origin in ORIGINS},
        "targets": dict(evalset.policy.mix.targets),
    }


def check_payload(name: str, result: CheckResult) -> Payload:
    return {
        "name": name,
        "status": result.status,
        "findings": [f.to_dict() for f in ordered(result.findings)],
        "warnings": [f.to_dict() for f in ordered(result.warnings)],
        "skipped": result.skipped,
        "data": result.data,
    }


@dataclass
class CheckReport:
    name: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> str:
        if self.status == "failed":
            count = len(self.findings)
            return f"FAILED ({count} finding{'s' if count != 1 else ''})"
        if self.status == "skipped":
            return f"skipped: {self.skipped}"
        if self.warnings:
            count = len(self.warnings)
            return f"passed ({count} warning{'s' if count != 1 else ''})"
        return "passed"


@dataclass
class SetReport:
    name: str
    manifest: str
    total: int
    counts: dict[str, int]
    targets: dict[str, float]
    checks: dict[str, CheckReport] = field(default_factory=dict)

    def share(self, origin: str) -> float:
        return self.counts.get(origin, 0) / self.total if self.total else 0.0

    def mix_rows(self) -> list[list[str]]:
        rows = []
        for origin in ORIGINS:
            target = self.targets.get(origin)
            rows.append(
                [
                    origin,
                    str(self.counts.get(origin, 0)),
                    f"{self.share(origin):.1%}",
                    f"{target:.0%}" if target is not None else "-",
                ]
            )
        rows.append(["total", str(self.total), "100.0%" if self.total else "-", ""])
        return rows


@dataclass
class Report:
    sets: list[SetReport] = field(default_factory=list)

    @classmethod
    def from_payloads(cls, payloads: Iterable[Payload], order: list[str]) -> Report:
        """Fold item payloads into a report; ``order`` is the registry's check order."""
        by_manifest: dict[str, SetReport] = {}
        for payload in payloads:
            info = payload["set"]
            report = by_manifest.get(info["manifest"])
            if report is None:
                report = SetReport(
                    name=info["name"],
                    manifest=info["manifest"],
                    total=info["total"],
                    counts=dict(info["counts"]),
                    targets=dict(info["targets"]),
                )
                by_manifest[info["manifest"]] = report
            check = payload["check"]
            report.checks[check["name"]] = CheckReport(
                name=check["name"],
                status=check["status"],
                findings=[Finding.from_dict(f) for f in check["findings"]],
                warnings=[Finding.from_dict(f) for f in check["warnings"]],
                skipped=check["skipped"],
                data=check["data"],
            )
        rank = {name: index for index, name in enumerate(order)}
        for report in by_manifest.values():
            report.checks = dict(
                sorted(report.checks.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
            )
        return cls(sets=[by_manifest[key] for key in sorted(by_manifest)])

    def lines(self) -> Iterator[str]:
        """The terminal view: a mix table per set, then a line per check."""
        for index, evalset in enumerate(self.sets):
            if index:
                yield ""
            yield f"eval set {evalset.name} ({evalset.manifest})"
            table = tabulate(
                evalset.mix_rows(),
                headers=["origin", "count", "share", "target"],
                tablefmt="simple",
                colalign=("left", "right", "right", "right"),
            )
            yield from table.splitlines()
            width = max((len(name) for name in evalset.checks), default=0)
            for name, check in evalset.checks.items():
                yield f"  {name.ljust(width)}  {check.headline()}"
