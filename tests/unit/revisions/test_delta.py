"""The digests that `changes` compares records by (docs/ci.md), tested on records in memory."""

from __future__ import annotations

from conftest import record
from pytest_evalmix.model.records import Example
from pytest_evalmix.revisions.delta import digest, key, keys


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
