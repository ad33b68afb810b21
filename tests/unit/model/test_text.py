"""The one escape for text from data (`model/text.py`), called directly: the pytester tests in
test_survive_hostile_input.py show it at work."""

from __future__ import annotations

import pytest

from pytest_evalmix.model.text import cut, escape, safe_data


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("prod-001", "prod-001"),
        ("café ☕ 数据", "café ☕ 数据"),
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("two\nlines", "two\\nlines"),
        ("lone \ud800", "lone \\ud800"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_escape(text: str, shown: str) -> None:
    assert escape(text) == shown
    assert escape(shown) == shown  # escaping twice changes nothing
    shown.encode("utf-8")


def test_escape_keeps_what_it_is_told_to() -> None:
    assert escape("a\nb\tc\x1b", keep="\n\t") == "a\nb\tc\\x1b"


def test_safe_data_escapes_keys_and_values_at_any_depth() -> None:
    data = {"id\ud800": ["x\x1b", ("y\n", 1)], "n": 2.5, "none": None}
    assert safe_data(data) == {"id\\ud800": ["x\\x1b", ("y\\n", 1)], "n": 2.5, "none": None}


def test_a_long_value_is_cut_with_its_length_and_only_once() -> None:
    shown = cut("x" * 5_000_000)
    assert shown == "x" * 300 + "… (5,000,000 characters)"
    assert cut(shown) == shown
    assert cut("short") == "short"
