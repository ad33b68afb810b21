"""``review``: synthetic candidates enter the set only through a decision that could have been a
rejection (docs/checks.md, §9).

"The propose-and-dispose loop only works if the human is empowered to reject." A reviewer who
accepts nearly everything, or decides faster than anyone can read a candidate and its seed, is
rubber-stamping, and low-quality candidates slip in. So, from the decision logs in
``<evalmix_dir>/reviews/*.jsonl`` (written by `evalmix review`), per reviewer with at least
``min_decisions`` decisions:

- the acceptance rate, where **edited counts as accepted** (the candidate got into the set; the
  question is whether the filter ever filters), must not exceed ``max_accept_rate``;
- the median seconds per decision must not be under ``min_median_seconds`` (decisions without a
  time are left out of the median).

The finding points at the reviewer's first decision in their log. The logs are project-wide
(``evalmix_dir`` is one per rootdir), so every set of the project reports a rubber-stamping
reviewer. A line of a log that is not a decision is a finding too: a broken log hides decisions.

On the set itself, at the record's line: a record whose last saved decision, or whose own
``review.decision``, is ``rejected``; with ``required: true``, a synthetic record that no saved
decision let in (its own ``review`` block can be typed by hand, so it is not enough).

``data`` carries, for the reports::

    {"decisions": 42, "reviewers": [{"by": "Dana", "decisions": 30, "accepted": 21,
     "accept_rate": 0.7, "median_seconds": 8.5, "log": ".evalmix/reviews/Dana.jsonl",
     "judged": true}]}
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.files.paths import display_path
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.state import decisions as decisions_mod

NAME = "review"
_EMPOWERED = "the propose-and-dispose loop only works if the reviewer is empowered to reject"


@dataclass
class _Reviewer:
    by: str
    path: str
    line: int
    total: int = 0
    accepted: int = 0
    seconds: list[float] = field(default_factory=list)


def _percent(share: float) -> str:
    text = f"{share * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def _seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0") + " s"


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    settings = policy.review
    findings: list[Finding] = []
    reviewers: dict[str, _Reviewer] = {}
    # The last saved decision on each candidate id, and the log it is in.
    latest: dict[str, tuple[decisions_mod.LoggedDecision, str]] = {}
    total = 0
    # Blind decisions by generator: [decisions, blind gold unlike the seed's, log, first line].
    drift: dict[str, list[Any]] = {}
    for log in inputs.reviews:
        shown = display_path(log.path, evalset.rootdir)
        findings.extend(
            Finding(
                shown,
                problem.line,
                None,
                f"not a review decision: {problem.message}",
                "fix or remove the line; evalmix review writes one JSON decision a line",
                NAME,
            )
            for problem in log.problems
        )
        for decision in log.decisions:
            total += 1
            known = latest.get(decision.id)
            if known is None or decision.at >= known[0].at:
                latest[decision.id] = (decision, shown)
            reviewer = reviewers.setdefault(
                decision.by, _Reviewer(decision.by, shown, decision.line)
            )
            reviewer.total += 1
            if decision.decision in decisions_mod.ACCEPTING:
                reviewer.accepted += 1
            if decision.seconds is not None:
                reviewer.seconds.append(decision.seconds)
            if decision.blind:
                tally = drift.setdefault(decision.generator or "(no generator)", [0, 0, shown, 0])
                if not tally[0]:
                    tally[3] = decision.line
                tally[0] += 1
                tally[1] += decision.blind_gold != decision.seed_gold

    summary = []
    for reviewer in sorted(reviewers.values(), key=lambda r: r.by):
        rate = reviewer.accepted / reviewer.total
        median = statistics.median(reviewer.seconds) if reviewer.seconds else None
        judged = reviewer.total >= settings.min_decisions
        summary.append(
            {
                "by": reviewer.by,
                "decisions": reviewer.total,
                "accepted": reviewer.accepted,
                "accept_rate": rate,
                "median_seconds": median,
                "log": reviewer.path,
                "judged": judged,
            }
        )
        if not judged:
            continue
        if rate > settings.max_accept_rate:
            findings.append(
                Finding(
                    reviewer.path,
                    reviewer.line,
                    None,
                    f"reviewer {reviewer.by} accepted {reviewer.accepted} of {reviewer.total} "
                    f"candidates ({_percent(rate)}, edits included), above max_accept_rate "
                    f"{_percent(settings.max_accept_rate)}: rubber-stamping",
                    f"have someone re-review {reviewer.by}'s accepted candidates and reject the "
                    f"weak ones: {_EMPOWERED}",
                    NAME,
                )
            )
        if median is not None and median < settings.min_median_seconds:
            findings.append(
                Finding(
                    reviewer.path,
                    reviewer.line,
                    None,
                    f"reviewer {reviewer.by} took a median {_seconds(median)} per decision over "
                    f"{len(reviewer.seconds)} decisions, under min_median_seconds "
                    f"{_seconds(settings.min_median_seconds)}: too fast to have read each "
                    "candidate beside its seed",
                    f"re-review {reviewer.by}'s decisions, reading each candidate and its seed "
                    "in full",
                    NAME,
                )
            )

    findings.extend(_intent_drift(drift, settings.min_decisions, settings.max_intent_drift))
    reviews_dir = display_path(context.evalmix_dir / decisions_mod.REVIEWS_DIR, evalset.rootdir)
    findings.extend(_in_the_set(evalset, latest, settings.required, reviews_dir))
    return CheckResult(findings=ordered(findings), data={"decisions": total, "reviewers": summary})


def _intent_drift(drift: dict[str, list[Any]], least: int, most: float) -> list[Finding]:
    """A generator whose paraphrases, reviewed blind (`evalmix review --blind`), too often get
    a gold unlike their seed's: it changes what they mean, so the seed's gold is wrong for them."""
    findings = []
    for generator in sorted(drift):
        decided, differ, path, line = drift[generator]
        if decided < least or differ / decided <= most:
            continue
        findings.append(
            Finding(
                path,
                line,
                None,
                f"generator {generator}: {differ} of {decided} blind reviews "
                f"({_percent(differ / decided)}) gave a gold unlike the seed's, above "
                f"max_intent_drift {_percent(most)}: its paraphrases change their intent",
                f"tighten {generator}'s prompt to keep the intent, and re-review its accepted "
                "paraphrases blind",
                NAME,
            )
        )
    return findings


def _in_the_set(
    evalset: EvalSet,
    latest: dict[str, tuple[decisions_mod.LoggedDecision, str]],
    required: bool,
    reviews_dir: str,
) -> list[Finding]:
    """Records that a review kept out, or (with ``required``) that no saved decision let in.

    The saved decisions are the evidence: a record's own ``review`` block is written by the
    same flow, but can be typed by hand, so it can condemn a record and never clear one.
    """
    findings: list[Finding] = []
    rejected = {rid for rid, (decision, _) in latest.items() if decision.decision == "rejected"}
    rows = set(evalset.reviews)
    if rejected:
        rows.update(row for row, rid in enumerate(evalset.ids) if rid in rejected)
    if required:
        synthetic = evalset.origins.codebook["synthetic"]
        rows.update(row for row, code in enumerate(evalset.origins.codes) if code == synthetic)
    for row in sorted(rows):
        rid = evalset.ids[row]
        own = evalset.reviews.get(row)
        saved = latest.get(rid)
        if saved is not None and saved[0].decision == "rejected":
            decision, log = saved
            findings.append(
                evalset.finding(
                    row,
                    f"candidate was rejected in review by {decision.by} ({log}:{decision.line}) "
                    "but is in the set",
                    "remove it: a rejected candidate stays out (its rejection stays in the log)",
                    NAME,
                )
            )
        elif own is not None and own[0] == "rejected":
            findings.append(
                evalset.finding(
                    row,
                    f"record was rejected in review by {own[1]} but is in the set",
                    "remove it: a rejected candidate stays out (its rejection stays in the log)",
                    NAME,
                )
            )
        elif required and evalset.origins[row] == "synthetic" and saved is None:
            message = (
                f"synthetic example's review ({own[0]} by {own[1]}) is in no saved decision log"
                if own is not None
                else "synthetic example has no accepting review"
            )
            findings.append(
                evalset.finding(
                    row,
                    f"{message} (policy.review.required is true)",
                    "put it through evalmix propose and evalmix review, so a person decides "
                    f"whether it enters the set, and commit the decision logs in {reviews_dir}/",
                    NAME,
                )
            )
    return findings
