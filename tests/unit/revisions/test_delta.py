"""`revisions.delta` on records and comparisons made in memory, with no git: the digests that
`changes` compares records by (docs/ci.md), and which records a pull-request view names."""

from __future__ import annotations

from conftest import record
from pytest_evalmix.model.records import Example
from pytest_evalmix.revisions.delta import Comparison, Digest, digest, key, keys, named


def test_a_record_and_its_gold_are_told_apart_by_128_bit_digests() -> None:
    one = digest(Example.model_validate(record("a")))
    other = digest(Example.model_validate(record("a", gold="refunds")))
    assert len(one.record) >= 16 and len(one.gold) >= 16
    assert one.record != other.record and one.gold != other.gold
    assert digest(Example.model_validate(record("a"))) == one


def test_a_gold_with_a_lone_surrogate_has_a_digest() -> None:
    assert len(digest(Example.model_validate(record("a", gold="\ud800"))).gold) == 16


def test_line_keys_are_the_keys_of_each_line() -> None:
    lines = [b"{}", b'{"a": 1}', b""]
    assert list(keys(lines)) == [key(line) for line in lines]
    assert len(set(keys(lines))) == 3


def made(record: int = 1, gold: int = 1, gold_text: str = '"billing"') -> Digest:
    return Digest(
        "production",
        bytes([record]) * 16,
        bytes([gold]) * 16,
        gold_text,
        "dana",
        "2026-10-01",
        "human",
        False,
    )


def test_named_lists_the_first_ids_of_each_kind_sorted_and_counts_nothing_twice() -> None:
    comparison = Comparison(ref="main", commit="0" * 40)
    comparison.base = {
        "kept": made(),
        "gone-b": made(),
        "gone-a": made(),
        "edited": made(),
        "relabelled": made(),
    }
    comparison.head = {
        "kept": (0, made()),
        "new-c": (1, made()),
        "new-a": (2, made()),
        "new-b": (3, made()),
        "edited": (4, made(record=2)),
        "relabelled": (5, made(record=3, gold=2, gold_text='"refunds"')),
    }
    assert named(comparison, limit=2) == {
        "added": ["new-a", "new-b"],
        "removed": ["gone-a", "gone-b"],
        "changed": ["edited", "relabelled"],
        "golds": [{"id": "relabelled", "old": '"billing"', "new": '"refunds"'}],
    }


def test_a_new_set_names_nothing() -> None:
    comparison = Comparison(ref="main", commit="0" * 40, state="new")
    comparison.head = {"a": (0, made())}
    assert named(comparison) == {"added": [], "removed": [], "changed": [], "golds": []}
