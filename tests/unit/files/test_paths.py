"""The one rule for paths (`files/paths.py`), called directly: the pytester tests in
test_survive_hostile_input.py show it at work."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_evalmix.files.paths import UnsafePath, bad_name, check_write, glob_files


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
