"""The JSON view of a `Report`: the versioned, machine-readable document (docs/json-report.md)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.report.data import CheckReport, ManifestProblem, Report, SetReport, pass_rate

# Bump when a field is removed or changes meaning; adding a field keeps the version.
REPORT_VERSION = 1


# Findings of ``changes`` repeated at the top of the Markdown report; all are in each set's part.
TOP_FINDINGS = 20


def to_data(
    report: Report, *, today: dt.date, errors: Iterable[ManifestProblem] = ()
) -> dict[str, Any]:
    """The JSON report as plain data (see the README's "JSON report reference")."""
    error_list = sorted(
        ({"path": str(e["path"]), "message": str(e["message"])} for e in errors),
        key=lambda e: (e["path"], e["message"]),
    )
    sets = [_set_data(evalset) for evalset in report.sets]
    failed = bool(error_list) or any(s["status"] == "failed" for s in sets)
    return {
        "evalmix_report": REPORT_VERSION,
        "today": today.isoformat(),
        "status": "failed" if failed else "passed",
        "errors": error_list,
        "sets": sets,
    }


def to_json(report: Report, *, today: dt.date, errors: Iterable[ManifestProblem] = ()) -> str:
    data = _plain(to_data(report, today=today, errors=errors))
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def set_status(evalset: SetReport) -> str:
    return "failed" if any(c.status == "failed" for c in evalset.checks.values()) else "passed"


def _set_data(evalset: SetReport) -> dict[str, Any]:
    outcomes = evalset.outcomes() or {}
    by_origin: dict[str, Any] = outcomes.get("origins") or {}
    origins = []
    for origin in ORIGINS:
        count = evalset.counts.get(origin, 0)
        origins.append(
            {
                "origin": origin,
                "count": count,
                "share": count / evalset.total if evalset.total else None,
                "target": evalset.targets.get(origin),
                "pass_rate": pass_rate(by_origin.get(origin)),
            }
        )
    return {
        "name": evalset.name,
        "manifest": evalset.manifest,
        "total": evalset.total,
        "status": set_status(evalset),
        "origins": origins,
        "pass_rate": pass_rate(outcomes.get("coverage")),
        "coming_due": [entry for _, entries in evalset.coming_due() for entry in entries],
        "grid": evalset.grid(),
        "checks": [_check_data(check) for check in evalset.checks.values()],
        "since_base": evalset.since_base(),
    }


def _check_data(check: CheckReport) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": check.status,
        "findings": [_finding_data(f) for f in check.findings],
        "warnings": [_finding_data(f) for f in check.warnings],
        "skipped": check.skipped,
        "data": check.data,
    }


def _finding_data(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
        "fix": finding.fix,
    }


def _plain(value: Any) -> Any:
    """Strictly JSON: tuples become lists, keys strings, NaN and infinities ``null``.

    Check data is plain already (it crosses xdist); this only guards the file against a value
    that `json` would write as the invalid ``NaN``.
    """
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
