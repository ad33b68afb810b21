"""The ``review`` check (`checks/labels/review_decisions.py`), called directly, with the decision
logs handed in as data."""

from __future__ import annotations

from pathlib import Path

from evalsets import DATA, context, decision, make_set, review_log

from conftest import healthy
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.labels import review_decisions as review
from pytest_evalmix.state.decisions import BadLine

LOG = ".evalmix/reviews/dana.jsonl"


def test_no_logs_no_findings(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy())
    result = review.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.status == "passed"
    assert result.data == {"decisions": 0, "reviewers": []}


def test_a_rubber_stamping_reviewer_is_a_finding_at_their_first_decision(
    tmp_path: Path,
) -> None:
    evalset = make_set(tmp_path, healthy())
    decisions = [decision(f"cand-{i}", "dana", i + 3, seconds=1.0) for i in range(20)]
    log = review_log(tmp_path, "dana", decisions)
    result = review.check(evalset, evalset.policy, context(tmp_path), Inputs(reviews=[log]))
    assert [(f.path, f.line, f.id, f.message) for f in result.findings] == [
        (
            LOG,
            3,
            None,
            "reviewer dana accepted 20 of 20 candidates (100%, edits included), above "
            "max_accept_rate 95%: rubber-stamping",
        ),
        (
            LOG,
            3,
            None,
            "reviewer dana took a median 1 s per decision over 20 decisions, under "
            "min_median_seconds 3 s: too fast to have read each candidate beside its seed",
        ),
    ]
    assert result.findings[0].fix.startswith("have someone re-review dana's accepted candidates")
    assert result.data["reviewers"][0]["accept_rate"] == 1.0


def test_below_min_decisions_a_reviewer_is_shown_but_not_judged(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy())
    log = review_log(tmp_path, "dana", [decision(f"c-{i}", "dana", i + 1) for i in range(19)])
    result = review.check(evalset, evalset.policy, context(tmp_path), Inputs(reviews=[log]))
    assert result.findings == []
    assert result.data["reviewers"][0]["judged"] is False


def test_a_rejected_candidate_in_the_set_and_a_broken_log_line(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy())
    decisions = [decision("syn-2", "dana", 1), decision("syn-2", "dana", 2, "rejected")]
    log = review_log(tmp_path, "dana", decisions, [BadLine(3, "malformed JSON at column 2")])
    result = review.check(evalset, evalset.policy, context(tmp_path), Inputs(reviews=[log]))
    assert [(f.path, f.line, f.id, f.message) for f in result.findings] == [
        (
            LOG,
            3,
            None,
            "not a review decision: malformed JSON at column 2",
        ),
        (
            DATA,
            13,
            "syn-2",
            f"candidate was rejected in review by dana ({LOG}:2) but is in the set",
        ),
    ]


def test_required_review_wants_a_saved_decision_for_every_synthetic_record(
    tmp_path: Path,
) -> None:
    evalset = make_set(tmp_path, healthy(), policy={"review": {"required": True}})
    log = review_log(tmp_path, "dana", [decision(f"syn-{i}", "dana", i + 1) for i in range(4)])
    result = review.check(evalset, evalset.policy, context(tmp_path), Inputs(reviews=[log]))
    assert [(f.path, f.line, f.id, f.message) for f in result.findings] == [
        (
            DATA,
            15,
            "syn-4",
            "synthetic example has no accepting review (policy.review.required is true)",
        )
    ]
    assert "commit the decision logs in .evalmix/reviews/" in result.findings[0].fix


def test_a_generator_whose_blind_golds_drift_from_the_seed_is_a_finding(tmp_path: Path) -> None:
    from dataclasses import replace

    evalset = make_set(tmp_path, healthy())
    decisions = [
        replace(
            decision(f"cand-{i}", "dana", i + 1, verdict="rejected" if i % 2 else "accepted"),
            blind=True,
            blind_gold="refund" if i < 3 else "billing",
            seed_gold="billing",
            generator=generator,
        )
        for generator in ("gen-a", "gen-b")
        for i in range(20 if generator == "gen-a" else 2)
    ]
    log = review_log(tmp_path, "dana", decisions)
    result = review.check(evalset, evalset.policy, context(tmp_path), Inputs(reviews=[log]))
    assert [(f.path, f.line, f.message) for f in result.findings] == [
        (
            LOG,
            1,
            "generator gen-a: 3 of 20 blind reviews (15%) gave a gold unlike the seed's, above "
            "max_intent_drift 10%: its paraphrases change their intent",
        )
    ]
    relaxed = make_set(tmp_path, healthy(), policy={"review": {"max_intent_drift": 0.2}})
    calm = review.check(relaxed, relaxed.policy, context(tmp_path), Inputs(reviews=[log]))
    assert calm.findings == []
