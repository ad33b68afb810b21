"""`revisions.delta.named` on comparisons made by hand: which records a pull-request view names,
sorted and bounded, with no git."""

from __future__ import annotations

from pytest_evalmix.revisions.delta import Comparison, Digest, named


def digest(record: int = 1, gold: int = 1, gold_text: str = '"billing"') -> Digest:
    return Digest("production", record, gold, gold_text, "dana", "2026-10-01", "human", False)


def test_named_lists_the_first_ids_of_each_kind_sorted_and_counts_nothing_twice() -> None:
    comparison = Comparison(ref="main", commit="0" * 40)
    comparison.base = {
        "kept": digest(),
        "gone-b": digest(),
        "gone-a": digest(),
        "edited": digest(),
        "relabelled": digest(),
    }
    comparison.head = {
        "kept": (0, digest()),
        "new-c": (1, digest()),
        "new-a": (2, digest()),
        "new-b": (3, digest()),
        "edited": (4, digest(record=2)),
        "relabelled": (5, digest(record=3, gold=2, gold_text='"refunds"')),
    }
    assert named(comparison, limit=2) == {
        "added": ["new-a", "new-b"],
        "removed": ["gone-a", "gone-b"],
        "changed": ["edited", "relabelled"],
        "golds": [{"id": "relabelled", "old": '"billing"', "new": '"refunds"'}],
    }


def test_a_new_set_names_nothing() -> None:
    comparison = Comparison(ref="main", commit="0" * 40, state="new")
    comparison.head = {"a": (0, digest())}
    assert named(comparison) == {"added": [], "removed": [], "changed": [], "golds": []}
