"""The `review` check (docs/checks.md): rubber-stamping by reviewer, rejected records in the set, and
``required: true``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, healthy, record, run

# 30 decisions as a careful reviewer makes them: a fifth rejected, one in ten edited, and
# seconds spread between a quick no and a long read.
SECONDS: list[float | None] = [4.2, 11.0, 7.5, 23.1, 5.9, 9.4, 14.8, 6.1, 3.7, 18.2]
SECONDS += [8.8, 12.3, 41.0, 6.6, 9.9, 5.2, 7.7, 16.4, 10.1, 4.9]
SECONDS += [27.5, 8.1, 6.9, 13.0, 3.3, 19.6, 7.2, 9.0, 11.7, 5.5]
REALISTIC = (["accepted"] * 21 + ["edited"] * 3 + ["rejected"] * 6, SECONDS)
RUBBER_STAMP: tuple[list[str], list[float | None]] = (["accepted"] * 30, [1.0] * 30)


def write_log(where: Path, reviewer: str, verdicts: list[str], seconds: list[float | None]) -> Path:
    path = where / "reviews" / f"{reviewer}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "id": f"syn-{reviewer}-{i}",
            "decision": verdict,
            "by": reviewer,
            "at": f"2026-11-20T10:{i:02d}:00Z",
            "seconds": secs,
            "queue": "queue.jsonl",
            "into": "data/support.jsonl",
        }
        for i, (verdict, secs) in enumerate(zip(verdicts, seconds, strict=True))
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def review_failures(result: pytest.RunResult) -> list[str]:
    """The finding lines of the failed review item."""
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    section = out.split("support.evalmix.yaml: review _", 1)[1]
    return [
        line
        for line in section.splitlines()[1:]
        if line.startswith(("data/", ".evalmix/", "state/"))
    ]


def test_thirty_accepts_at_one_second_each_fail(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    write_log(project.path / ".evalmix", "dana", *REALISTIC)
    write_log(project.path / ".evalmix", "sam", *RUBBER_STAMP)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.assert_outcomes(failed=1, passed=5, skipped=2)
    assert review_failures(result) == [
        ".evalmix/reviews/sam.jsonl:1: -: reviewer sam accepted 30 of 30 candidates (100%, edits included), above max_accept_rate 95%: rubber-stamping — have someone re-review sam's accepted candidates and reject the weak ones: the propose-and-dispose loop only works if the reviewer is empowered to reject",
        ".evalmix/reviews/sam.jsonl:1: -: reviewer sam took a median 1 s per decision over 30 decisions, under min_median_seconds 3 s: too fast to have read each candidate beside its seed — re-review sam's decisions, reading each candidate and its seed in full",
    ]


def test_a_realistic_log_passes(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    write_log(project.path / ".evalmix", "dana", *REALISTIC)
    result = run(project, "--evalmix", "-q", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*review ok*"])


@pytest.mark.parametrize(
    ("verdicts", "seconds", "expected"),
    [
        pytest.param(
            ["accepted"] * 29 + ["rejected"],
            [12.0] * 30,
            [
                "*reviewer lee accepted 29 of 30 candidates (96.7%, edits included), above max_accept_rate 95%*"
            ],
            id="rate-only",
        ),
        pytest.param(
            ["accepted"] * 10 + ["edited"] * 10 + ["rejected"],
            [9.0] * 21,
            ["*reviewer lee accepted 20 of 21 candidates (95.2%, edits included)*"],
            id="edits-count-as-accepts",
        ),
        pytest.param(
            ["accepted"] * 20 + ["rejected"] * 10,
            [2.5] * 16 + [30.0] * 14,
            [
                "*reviewer lee took a median 2.5 s per decision over 30 decisions, under min_median_seconds 3 s*"
            ],
            id="speed-only",
        ),
        pytest.param(
            ["accepted"] * 30,
            [None] * 30,
            ["*reviewer lee accepted 30 of 30 candidates (100%, edits included)*"],
            id="no-times",
        ),
        pytest.param(["accepted"] * 19, [1.0] * 19, [], id="too-few-to-judge"),
        pytest.param(["accepted"] * 19 + ["rejected"], [3.0] * 20, [], id="at-the-limits"),
    ],
)
def test_rubber_stamping_thresholds(
    project: pytest.Pytester,
    write_set: WriteSet,
    verdicts: list[str],
    seconds: list[float | None],
    expected: list[str],
) -> None:
    write_set()
    write_log(project.path / ".evalmix", "lee", verdicts, seconds)
    result = run(project, "--evalmix")
    if not expected:
        assert result.ret == 0, result.stdout.str()
        return
    assert result.ret == 1
    failures = review_failures(result)
    assert len(failures) == len(expected)
    for line, pattern in zip(failures, expected, strict=True):
        assert line.startswith(".evalmix/reviews/lee.jsonl:1: -: ")
        pytest.LineMatcher([line]).fnmatch_lines([pattern])


def test_the_policy_sets_the_limits(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(
        manifest=(
            "evalmix: 1\ndata:\n  - data/support.jsonl\n"
            "policy:\n  review: {max_accept_rate: 1.0, min_median_seconds: 0.5}\n"
        )
    )
    write_log(project.path / ".evalmix", "sam", *RUBBER_STAMP)
    assert run(project, "--evalmix").ret == 0


def test_logs_live_in_the_ini_evalmix_dir(project: pytest.Pytester, write_set: WriteSet) -> None:
    project.makefile(".toml", pyproject='[tool.pytest.ini_options]\nevalmix_dir = "state"\n')
    write_set()
    write_log(project.path / "state", "sam", *RUBBER_STAMP)
    write_log(project.path / ".evalmix", "lee", *RUBBER_STAMP)  # not where the project looks
    result = run(project, "--evalmix")
    assert result.ret == 1
    assert [line.split(": -: ")[0] for line in review_failures(result)] == [
        "state/reviews/sam.jsonl:1",
        "state/reviews/sam.jsonl:1",
    ]


def test_a_line_that_is_not_a_decision_is_a_finding(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set()
    path = write_log(project.path / ".evalmix", "dana", *REALISTIC)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "syn-x", "decision": "maybe", "by": "dana", "at": "2026-11-20"}\n')
        handle.write('{"id": "syn-y", "decisi\n')
    result = run(project, "--evalmix")
    assert result.ret == 1
    assert review_failures(result) == [
        ".evalmix/reviews/dana.jsonl:31: -: not a review decision: 'decision' is 'maybe', not one of accepted, edited, rejected — fix or remove the line; evalmix review writes one JSON decision a line",
        ".evalmix/reviews/dana.jsonl:32: -: not a review decision: malformed JSON: Unterminated string starting at column 17 — fix or remove the line; evalmix review writes one JSON decision a line",
    ]


def reviewed(rid: str, decision: str) -> dict[str, Any]:
    return record(
        rid,
        "synthetic",
        review={"by": "dana", "decision": decision, "at": "2026-11-20T10:00:00Z", "seconds": 8.5},
    )


def test_a_rejected_record_in_the_set_fails(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    records = healthy()
    records[11] = reviewed("syn-1", "rejected")
    records[12] = reviewed("syn-2", "accepted")
    write_set(records)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert review_failures(result) == [
        "data/support.jsonl:12: syn-1: record was rejected in review by dana but is in the set — remove it: a rejected candidate stays out (its rejection stays in the log)"
    ]


def saved(project: pytest.Pytester, *decisions: tuple[str, str]) -> None:
    """Decision log lines of dana's, as `evalmix review` writes them: (id, decision)."""
    path = project.path / ".evalmix" / "reviews" / "dana.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(
            json.dumps(
                {"id": rid, "decision": verdict, "by": "dana", "seconds": 9.0}
                | {"at": f"2026-11-20T11:{i:02d}:00Z"}
            )
            + "\n"
            for i, (rid, verdict) in enumerate(decisions)
        ),
        encoding="utf-8",
    )


def test_a_candidate_rejected_in_the_log_is_caught_in_the_set(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """The saved decisions are the evidence, whatever the record itself says."""
    records = healthy()
    records[10] = reviewed("syn-0", "accepted")  # typed by hand over a rejection
    write_set(records)
    # syn-1 was rejected, then accepted on a second look: the last decision counts.
    saved(project, ("syn-0", "rejected"), ("syn-1", "rejected"), ("syn-1", "accepted"))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert review_failures(result) == [
        "data/support.jsonl:11: syn-0: candidate was rejected in review by dana (.evalmix/reviews/dana.jsonl:1) but is in the set — remove it: a rejected candidate stays out (its rejection stays in the log)"
    ]


def test_required_review(project: pytest.Pytester, write_set: WriteSet) -> None:
    records = healthy()
    records[10] = reviewed("syn-0", "accepted")
    records[11] = reviewed("syn-1", "edited")
    records[12] = reviewed("syn-2", "rejected")
    records[14] = reviewed("syn-4", "accepted")  # no saved decision backs it
    write_set(
        records,
        manifest="evalmix: 1\ndata:\n  - data/support.jsonl\npolicy:\n  review: {required: true}\n",
    )
    saved(project, ("syn-0", "accepted"), ("syn-1", "edited"))
    result = run(project, "--evalmix")
    assert result.ret == 1
    failures = review_failures(result)
    assert failures == [
        "data/support.jsonl:13: syn-2: record was rejected in review by dana but is in the set — remove it: a rejected candidate stays out (its rejection stays in the log)",
        "data/support.jsonl:14: syn-3: synthetic example has no accepting review (policy.review.required is true) — put it through evalmix propose and evalmix review, so a person decides whether it enters the set, and commit the decision logs in .evalmix/reviews/",
        "data/support.jsonl:15: syn-4: synthetic example's review (accepted by dana) is in no saved decision log (policy.review.required is true) — put it through evalmix propose and evalmix review, so a person decides whether it enters the set, and commit the decision logs in .evalmix/reviews/",
    ]

    # Without required, unreviewed synthetic records are fine.
    write_set(records)
    assert len(review_failures(run(project, "--evalmix"))) == 1
