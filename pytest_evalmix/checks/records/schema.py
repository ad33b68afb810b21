"""``schema``: every record is well formed, every field valid, every id unique.

The loader already found these problems in its single pass; this check only reports them, so a
million-record set is parsed once, not once per check.
"""

from __future__ import annotations

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import ordered
from pytest_evalmix.model.policy import Policy


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    findings = ordered(evalset.findings)
    return CheckResult(findings=findings, data={"records": len(evalset)})
