"""`revisions.history.Part`: a file's sums updated from the lines a commit changed are the sums
of the file read whole (docs/cli.md)."""

from __future__ import annotations

import datetime as dt
import random

from pytest_evalmix.revisions.history import Entry, part_of


def entry(n: int, rng: random.Random) -> Entry:
    provisional = rng.random() < 0.3
    deadline = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(60)) if provisional else None
    return (f"r{n}", rng.randrange(3), rng.random() < 0.4, provisional, deadline)


def sums(part: object) -> tuple[object, ...]:
    return tuple(getattr(part, name) for name in ("counts", "llm", "open", "deadlines"))


def test_an_updated_part_has_the_sums_of_the_file_read_whole() -> None:
    rng = random.Random(7)
    records = [entry(n, rng) for n in range(500)]
    part = part_of(records)
    for step in range(20):
        gone = rng.sample(records, 10)
        new = [entry(1000 + step * 10 + k, rng) for k in range(10)]
        records = [r for r in records if r not in gone] + new
        updated = part.updated(gone, new)
        assert updated is not None
        whole = part_of(records)
        assert sums(updated) == sums(whole)
        assert updated.by_id == whole.by_id
        assert updated.overdue(dt.date(2026, 2, 1)) == whole.overdue(dt.date(2026, 2, 1))
        part = updated


def test_a_repeated_id_keeps_the_first_record_and_is_not_updated() -> None:
    first = ("p1", 0, False, False, None)
    again = ("p1", 1, True, False, None)
    part = part_of([first, again])
    assert part.by_id == {"p1": first}
    assert part.counts == [1, 0, 0] and part.llm == 0
    assert part.repeated
    assert part.updated([], []) is None
    assert part_of([first]).updated([], [again]) is None
