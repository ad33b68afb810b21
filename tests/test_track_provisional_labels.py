"""``provisional`` (docs/checks.md): owner, a real backfill date, not overdue, not older than two quarters."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import WriteSet, healthy, record, run

GOOD = {"owner": "priya", "backfill_by": "2027-03-31", "created": "2026-11-10"}


def provisional(rid: str = "prod-0", at: str | None = None, **fields: Any) -> dict[str, Any]:
    """A production record with a model's gold, marked provisional with ``fields``."""
    data = record(rid)
    data["label"] = {"source": "llm", "by": "claude-opus-4-7", "provisional": fields}
    if at is not None:
        data["label"]["at"] = at
    return data


def with_first(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """The healthy set whose first production records are replaced."""
    base = healthy()
    return [*records, *base[len(records) :]]


def clean(result: pytest.RunResult) -> str:
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    return out


@pytest.mark.parametrize(
    ("fields", "at", "expected"),
    [
        (
            {"backfill_by": "2027-03-31", "created": "2026-11-10"},
            None,
            [
                "prod-0: provisional label has no owner — name the person accountable for the hand label in label.provisional.owner"
            ],
        ),
        (
            {"owner": " ", "backfill_by": "2027-03-31", "created": "2026-11-10"},
            None,
            ["prod-0: provisional label has no owner*"],
        ),
        (
            {"owner": "priya", "created": "2026-11-10"},
            None,
            [
                "prod-0: provisional label has no backfill_by date — set label.provisional.backfill_by to a real date that the owner commits to"
            ],
        ),
        (
            {"owner": "priya", "backfill_by": "2026-11-20", "created": "2026-11-10"},
            None,
            [
                "prod-0: provisional label overdue by 5 days: backfill_by 2026-11-20 has passed (owner: priya) — priya: hand-label it now*"
            ],
        ),
        (
            {"owner": "priya", "backfill_by": "2027-06-01", "created": "2026-11-01"},
            None,
            [
                "prod-0: backfill_by 2027-06-01 is 212 days after the label was created (2026-11-01), more than max_age_days (182) — set a backfill_by within 182 days of creation: provisional labels left in for two quarters become canonical by accident"
            ],
        ),
        (
            {"owner": "priya", "backfill_by": "2026-09-01"},
            "2026-04-01",
            [
                "prod-0: provisional for 238 days since 2026-04-01, longer than max_age_days (182) — priya: hand-label it now: provisional labels left in for two quarters become canonical by accident",
                "prod-0: provisional label overdue by 85 days*",
            ],
        ),
        (
            {"owner": "priya", "backfill_by": "2027-03-31"},
            None,
            [
                "prod-0: provisional label has no creation date, so its age cannot be checked — set label.provisional.created (or label.at)*"
            ],
        ),
        (
            {"owner": "priya", "backfill_by": "2027-03-31", "created": "9999-12-31"},
            None,
            [
                "prod-0: provisional label created 9999-12-31, after today (2026-11-25) — set label.provisional.created (or label.at)*"
            ],
        ),
        (
            {"owner": "priya", "backfill_by": "2026-11-10", "created": "2026-11-20"},
            None,
            [
                "prod-0: backfill_by 2026-11-10 is before the label was created (2026-11-20) — set label.provisional.backfill_by to a real date after the label was written",
                "prod-0: provisional label overdue by 15 days*",
            ],
        ),
    ],
    ids=[
        "no-owner",
        "blank-owner",
        "no-backfill",
        "overdue",
        "deadline-too-far",
        "too-old",
        "no-created",
        "created-in-the-future",
        "deadline-before-creation",
    ],
)
def test_finding_and_its_fix(
    project: pytest.Pytester,
    write_set: WriteSet,
    fields: dict[str, Any],
    at: str | None,
    expected: list[str],
) -> None:
    write_set(with_first(provisional(at=at, **fields)))
    result = run(project, "--evalmix")
    assert result.ret == 1, result.stdout.str()
    clean(result)
    result.stdout.fnmatch_lines([f"data/support.jsonl:1: {line}" for line in expected])
    result.stdout.fnmatch_lines([f"*provisional *FAILED ({len(expected)} finding*"])

    write_set(with_first(provisional(**GOOD)))
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()
    assert "warning" not in result.stdout.str()


def test_creation_date_falls_back_to_label_at(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(with_first(provisional(at="2026-11-10", owner="priya", backfill_by="2027-03-31")))
    assert run(project, "--evalmix").ret == 0


DUE_SOON = provisional(owner="priya", backfill_by="2026-12-01", created="2026-11-10")
WARNING = (
    "prod-0: provisional label due in 6 days: backfill_by 2026-12-01 (owner: priya) — "
    "priya: hand-label it by 2026-12-01"
)


def test_due_soon_is_a_warning_not_a_failure(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(with_first(DUE_SOON))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 0, result.stdout.str()
    clean(result)
    assert result.parseoutcomes()["warnings"] == 1
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "support.evalmix.yaml::provisional",
            f"  data/support.jsonl:1: EvalmixWarning: {WARNING}",
            "*provisional *passed (1 warning)",
        ]
    )


def test_warning_as_error_fails(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(with_first(DUE_SOON))
    result = run(project, "--evalmix", "-W", "error::pytest_evalmix.EvalmixWarning", *xdist)
    assert result.ret == 1, result.stdout.str()
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "*_ support.evalmix.yaml: provisional _*",
            f"data/support.jsonl:1: {WARNING}",
            "*provisional *FAILED (1 finding)",
        ]
    )


@pytest.mark.parametrize(
    ("today", "policy", "expected"),
    [
        ("2026-12-01", "", "*prod-0: provisional label due today: backfill_by 2026-12-01*"),
        ("2026-11-30", "", "*prod-0: provisional label due tomorrow*"),
        ("2026-11-17", "", "*prod-0: provisional label due in 14 days*"),
        ("2026-11-16", "", None),
        ("2026-11-25", "  provisional: {warn_within_days: 5}\n", None),
        (
            "2026-11-25",
            "  provisional: {warn_within_days: 30}\n",
            "*prod-0: provisional label due in 6 days*",
        ),
    ],
)
def test_today_and_window_decide_the_warning(
    project: pytest.Pytester,
    write_set: WriteSet,
    today: str,
    policy: str,
    expected: str | None,
) -> None:
    manifest = "evalmix: 1\ndata: [data/support.jsonl]\n" + (f"policy:\n{policy}" if policy else "")
    write_set(with_first(DUE_SOON), manifest=manifest)
    result = run(project, "--evalmix", f"--evalmix-today={today}")
    assert result.ret == 0, result.stdout.str()
    if expected is None:
        assert "EvalmixWarning" not in result.stdout.str()
    else:
        result.stdout.fnmatch_lines([expected])


def test_today_pins_the_deadline(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(with_first(DUE_SOON))
    result = run(project, "--evalmix", "--evalmix-today=2026-12-03")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["data/support.jsonl:1: prod-0: provisional label overdue by 2 days*"]
    )
    assert run(project, "--evalmix", "--evalmix-today=2026-11-12").ret == 0  # 19 days left


def test_summary_lists_labels_coming_due_by_owner(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(
        with_first(
            provisional("prod-a", owner="priya", backfill_by="2027-03-31", created="2026-11-10"),
            provisional("prod-b", owner="marcus", backfill_by="2026-12-10", created="2026-11-10"),
            provisional("prod-c", owner="priya", backfill_by="2026-12-20", created="2026-11-10"),
            provisional("prod-d", backfill_by="2026-12-31", created="2026-11-10"),
            provisional("prod-e", owner="marcus", backfill_by="2027-01-15", created="2026-11-10"),
        )
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1  # prod-d has no owner
    lines = result.stdout.str().splitlines()
    start = lines.index("  provisional labels coming due")
    assert lines[start : start + 9] == [
        "  provisional labels coming due",
        "    marcus",
        "      2026-12-10  prod-b  in 15 days  (data/support.jsonl:2)",
        "      2027-01-15  prod-e  in 51 days  (data/support.jsonl:5)",
        "    priya",
        "      2026-12-20  prod-c  in 25 days  (data/support.jsonl:3)",
        "      2027-03-31  prod-a  in 126 days  (data/support.jsonl:1)",
        "    (no owner)",
        "      2026-12-31  prod-d  in 36 days  (data/support.jsonl:4)",
    ]


def test_no_provisional_label_no_summary(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set()
    result = run(project, "--evalmix")
    assert result.ret == 0
    assert "coming due" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*provisional *passed"])
