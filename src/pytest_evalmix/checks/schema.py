"""``schema``: every record is well formed, every field valid, every id unique.

The loader already found these problems in its single pass; this check only reports them, so a
million-record set is parsed once, not once per check.
"""

from __future__ import annotations

from ..evalset import EvalSet
from ..findings import ordered
from ..policy import Policy
from . import CheckResult, Context


def check(evalset: EvalSet, policy: Policy, context: Context) -> CheckResult:
    findings = ordered(evalset.findings)
    return CheckResult(findings=findings, data={"records": len(evalset)})
