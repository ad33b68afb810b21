"""``changes``: what a change does to an eval set since a git revision (``--evalmix-base``).

Two ways a set degrades can only be seen by comparing it with its past. A gold edited in place
while its label still names the old labeller and date: the provenance now lies. And a provisional
label made canonical by hand, its ``provisional`` block deleted or ``llm`` turned into ``human``
with nobody recorded as having backfilled it: "provisional labels left in for two quarters become
canonical by accident", done on purpose. Records are matched by id, not by file, so moving or
renaming a data file changes nothing.

Besides findings, the result carries ``data``, what the summary and both reports show per set::

    {"ref": "origin/main", "commit": "<sha>", "state": "compared" | "new" | "unreadable",
     "reason": None | str, "before": {origin: n}, "before_total": n,
     "after": {origin: n}, "after_total": n, "added": {origin: n}, "removed": {origin: n},
     "changed": {origin: n}, "golds_changed": n, "backfilled": n, "new_files": [path, ...],
     "named": {"added": [id, ...], "removed": [...], "changed": [...],
               "golds": [{"id": id, "old": gold, "new": gold}, ...]}}

``named`` (`revisions.delta.named`) lists the first ids of each kind, sorted, at most
`revisions.delta.NAMED` of each; the counts above are always whole.

``added`` and ``changed`` count by the origin at HEAD, ``removed`` by the origin at REF.
"""

from __future__ import annotations

from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.model.text import escape
from pytest_evalmix.revisions.delta import Comparison, Digest, named

NAME = "changes"
SHOWN = 40


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    if inputs.base is None:
        return CheckResult(skipped="runs only with --evalmix-base=REF")
    return judge(evalset, inputs.base)


def judge(evalset: EvalSet, comparison: Comparison) -> CheckResult:
    """The verdict on one comparison: pure, so it is tested without git."""
    after = _by_origin(evalset.origins.counts())
    data: dict[str, Any] = {
        "ref": comparison.ref,
        "commit": comparison.commit,
        "state": comparison.state,
        "reason": comparison.reason,
        "after": after,
        "after_total": len(evalset),
        "new_files": list(comparison.new_files),
        "named": named(comparison),
    }
    if comparison.state == "unreadable":
        data.update(before=None, before_total=None, added=None, removed=None, changed=None)
        data.update(golds_changed=None, backfilled=None)
        return CheckResult(
            skipped=f"the manifest at {comparison.ref} cannot be read, so there is nothing to "
            f"compare with: {comparison.reason}",
            data=data,
        )
    if comparison.state == "new":
        zero = _by_origin({})
        data.update(before=zero, before_total=0, added=dict(after), removed=zero, changed=zero)
        data.update(golds_changed=0, backfilled=0)
        return CheckResult(data=data)

    before = dict(comparison.unchanged)
    added: dict[str, int] = {}
    removed: dict[str, int] = {}
    changed: dict[str, int] = {}
    golds = backfilled = 0
    findings: list[Finding] = []
    for rid, then in comparison.base.items():
        before[then.origin] = before.get(then.origin, 0) + 1
        if rid not in comparison.head:
            removed[then.origin] = removed.get(then.origin, 0) + 1
    for rid, (row, now) in comparison.head.items():
        then_or_none = comparison.base.get(rid)
        if then_or_none is None:
            added[now.origin] = added.get(now.origin, 0) + 1
            continue
        then = then_or_none
        if now.record != then.record:
            changed[now.origin] = changed.get(now.origin, 0) + 1
        backfill = _backfill(then, now)
        golds += now.gold != then.gold
        backfilled += backfill is not None
        if now.by != then.by or now.at != then.at:
            continue  # someone signed the change
        problems: list[str] = []
        fixes: list[str] = []
        if now.gold != then.gold:
            problems.append(
                f"gold changed since {comparison.ref}, {_shown(then.gold_text)} → "
                f"{_shown(now.gold_text)}, but label.by and label.at still read "
                f"{_signature(now)}: a relabel nobody signed"
            )
            fixes.append(
                "whoever relabelled it sets label.by to their name and label.at to the date, "
                "or the gold goes back"
            )
        if backfill is not None:
            problems.append(
                f"{backfill} since {comparison.ref}, but label.by and label.at still read "
                f"{_signature(now)}: a backfill nobody did"
            )
            fixes.append(
                "the person who hand-labels the gold sets label.source: human, label.by and "
                "label.at; until then the provisional label goes back"
            )
        if problems:
            findings.append(evalset.finding(row, "; ".join(problems), "; ".join(fixes), NAME))
    data.update(
        before=_by_origin(before),
        before_total=sum(before.values()),
        added=_by_origin(added),
        removed=_by_origin(removed),
        changed=_by_origin(changed),
        golds_changed=golds,
        backfilled=backfilled,
    )
    return CheckResult(findings=ordered(findings), data=data)


def _backfill(then: Digest, now: Digest) -> str | None:
    """What made a label canonical between REF and HEAD, or ``None``."""
    what = []
    if then.provisional and not now.provisional:
        what.append("label.provisional was removed")
    if then.source == "llm" and now.source == "human":
        what.append("label.source went from llm to human")
    return " and ".join(what) or None


def _by_origin(counts: dict[str, int]) -> dict[str, int]:
    return {origin: counts.get(origin, 0) for origin in ORIGINS}


def _signature(digest: Digest) -> str:
    by = _shown(digest.by) if digest.by is not None else "(none)"
    return f"{by}, {digest.at or '(none)'}"


def _shown(text: str) -> str:
    """Text from the data, safe in a terminal and in a report, cut to SHOWN characters."""
    shown = escape(text)
    return shown if len(shown) <= SHOWN else shown[: SHOWN - 1] + "…"
