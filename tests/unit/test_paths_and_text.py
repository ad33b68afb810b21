"""The one rule for paths (`load/paths.py`) and the one escape for text from data
(`model/text.py`), called directly: the pytester tests in test_survive_hostile_input.py show them at work."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_evalmix.files.paths import UnsafePath, bad_name, check_write, glob_files
from pytest_evalmix.model.text import escape, safe_data


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


def test_bad_names() -> None:
    assert bad_name("data/x.jsonl") is None
    assert bad_name("data/x\x00.jsonl") == "contains a NUL byte"
    assert bad_name("data/" + "é" * 128 + ".jsonl") == "has a component longer than 255 bytes"


def test_glob_never_follows_a_directory_symlink(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "loop").symlink_to(".")
    (tmp_path / "a" / "b" / "x.jsonl").write_text("")
    (tmp_path / "a" / ".hidden").mkdir()
    (tmp_path / "a" / ".hidden" / "x.jsonl").write_text("")
    (tmp_path / "a" / "top.jsonl").write_text("")
    root = tmp_path / "a"
    assert glob_files(root, ["**", "*.jsonl"]) == [root / "b" / "x.jsonl", root / "top.jsonl"]
    assert glob_files(root, ["*.jsonl"]) == [root / "top.jsonl"]
    assert glob_files(root, ["*", "x.jsonl"]) == [root / "b" / "x.jsonl"]


def test_check_write(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / ".evalmix").mkdir(parents=True)
    (root / "data").mkdir()
    (tmp_path / "outside").mkdir()
    base = root / ".evalmix"
    assert check_write(base / "results" / "x.jsonl", base, root)  # not there yet: fine
    (base / "results").symlink_to("../data")
    with pytest.raises(UnsafePath, match=r"leads outside \.evalmix"):
        check_write(base / "results" / "x.jsonl", base, root)
    (base / "ledger.jsonl").symlink_to(tmp_path / "outside" / "ledger.jsonl")
    with pytest.raises(UnsafePath, match="it is a symlink"):
        check_write(base / "ledger.jsonl", base, root)
    (root / "state").symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafePath, match="leads outside the rootdir"):
        check_write(root / "state" / "x.jsonl", root / "state", root)
