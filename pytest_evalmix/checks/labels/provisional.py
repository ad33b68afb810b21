"""``provisional``: a bootstrap label has an owner, a real deadline, and does not outlive it.

A provisional label is a promise that a named person will replace a model's gold with their own
by a date. A promise with no one accountable, no date, a date already past, or a date so far off
that the label outlives two quarters is how "provisional labels left in for two quarters become
canonical by accident". A label due soon is a warning, not a failure: the promise still holds.

Besides findings and warnings, the result carries ``data["due"]``, the plain-data list that the
end-of-run summary shows as "provisional labels coming due" (the Markdown and JSON reports use
the same list). One entry per provisional label that has a ``backfill_by`` date, overdue ones
included, in (owner, date, id) order::

    {"id": "prod-019", "owner": "priya" | None, "backfill_by": "2027-03-31",
     "days_left": 126, "path": "evals/data/production.jsonl", "line": 19}

``days_left`` is ``backfill_by`` minus the run's date (``--evalmix-today``); negative when overdue.
"""

from __future__ import annotations

from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy

NAME = "provisional"
_CANONICAL = "provisional labels left in for two quarters become canonical by accident"


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def due_in(days_left: int) -> str:
    """How a deadline reads relative to today: "in 3 days", "today", "overdue by 2 days"."""
    if days_left < 0:
        return f"overdue by {_days(-days_left)}"
    if days_left == 0:
        return "today"
    if days_left == 1:
        return "tomorrow"
    return f"in {_days(days_left)}"


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    today = context.today
    max_age = policy.provisional.max_age_days
    warn_within = policy.provisional.warn_within_days
    findings: list[Finding] = []
    warnings: list[Finding] = []
    due: list[dict[str, Any]] = []
    count = 0
    for row in sorted(evalset.kept):
        label = evalset.kept[row].label
        provisional = label.provisional
        if provisional is None:
            continue
        count += 1

        def add(message: str, fix: str, row: int = row) -> None:
            findings.append(evalset.finding(row, message, fix, NAME))

        owner = (provisional.owner or "").strip() or None
        who = owner or "its owner"
        if owner is None:
            add(
                "provisional label has no owner",
                "name the person accountable for the hand label in label.provisional.owner",
            )
        backfill_by = provisional.backfill_by
        if backfill_by is None:
            add(
                "provisional label has no backfill_by date",
                "set label.provisional.backfill_by to a real date that the owner commits to",
            )
        created = provisional.created or label.at
        if created is None:
            add(
                "provisional label has no creation date, so its age cannot be checked",
                "set label.provisional.created (or label.at) to the day the label was written",
            )
        elif created > today:
            # A future creation date would keep the label young for ever.
            add(
                f"provisional label created {created.isoformat()}, after today "
                f"({today.isoformat()})",
                "set label.provisional.created (or label.at) to the day the label was written",
            )
            created = None
        elif backfill_by is not None and backfill_by < created:
            add(
                f"backfill_by {backfill_by.isoformat()} is before the label was created "
                f"({created.isoformat()})",
                "set label.provisional.backfill_by to a real date after the label was written",
            )
        if backfill_by is not None:
            days_left = (backfill_by - today).days
            path, line = evalset.location(row)
            due.append(
                {
                    "id": evalset.ids[row],
                    "owner": owner,
                    "backfill_by": backfill_by.isoformat(),
                    "days_left": days_left,
                    "path": path,
                    "line": line,
                }
            )
            if days_left < 0:
                add(
                    f"provisional label overdue by {_days(-days_left)}: backfill_by "
                    f"{backfill_by.isoformat()} has passed (owner: {owner or 'none'})",
                    f"{who}: hand-label it now, or commit to a new backfill_by",
                )
            elif days_left <= warn_within:
                warnings.append(
                    evalset.finding(
                        row,
                        f"provisional label due {due_in(days_left)}: backfill_by "
                        f"{backfill_by.isoformat()} (owner: {owner or 'none'})",
                        f"{who}: hand-label it by {backfill_by.isoformat()}",
                        NAME,
                    )
                )
            span = (backfill_by - created).days if created is not None else 0
            if created is not None and span > max_age:
                add(
                    f"backfill_by {backfill_by.isoformat()} is {_days(span)} after the label was "
                    f"created ({created.isoformat()}), more than max_age_days ({max_age})",
                    f"set a backfill_by within {max_age} days of creation: {_CANONICAL}",
                )
        if created is not None and (today - created).days > max_age:
            add(
                f"provisional for {_days((today - created).days)} since {created.isoformat()}, "
                f"longer than max_age_days ({max_age})",
                f"{who}: hand-label it now: {_CANONICAL}",
            )
    due.sort(key=lambda d: (d["owner"] is None, d["owner"] or "", d["backfill_by"], d["id"]))
    return CheckResult(
        findings=ordered(findings),
        warnings=ordered(warnings),
        data={"provisional": count, "due": due},
    )
