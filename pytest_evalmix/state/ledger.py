"""The synthesis ledger: a record of every text the synthesizer handed out (docs/synthesizer.md).

Its purpose is to catch laundering: LLM output pasted into a record as a ``human`` gold. Each
line is ``{"sha256", "model", "date"}`` for the *normalised* text, so the ledger never stores the
text itself and small edits of case or spacing do not hide a copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pytest_evalmix.files import atomic

LEDGER_NAME = "ledger.jsonl"
_QUOTES = "\"'`“”‘’«»"


def normalize(text: str) -> str:
    """Case, spacing and wrapping quotes are not authorship: a copy stays a copy without them."""
    return " ".join(text.split()).strip(_QUOTES + " ").casefold()


def digest(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    sha256: str
    model: str
    date: str


def append(path: Path, texts: Iterable[str], model: str, today: dt.date) -> None:
    """Append one line per text not yet in the ledger.

    Parallel xdist workers replaying one cache hand out the same texts: under an exclusive lock,
    the file is read again and only the texts still missing are written, so each text is
    appended once. Each line is written whole on an O_APPEND descriptor that refuses a symlink.
    """
    lines = {
        digest(text): json.dumps(
            {"sha256": digest(text), "model": model, "date": today.isoformat()}
        )
        + "\n"
        for text in texts
        if text.strip()
    }
    if not lines:
        return
    fd = atomic.open_append(path)
    try:
        atomic.lock(fd)
        with open(fd, "rb", closefd=False) as handle:
            # A digest is 64 hex digits: found as bytes, it is in the ledger (C speed, and a
            # torn or hand-edited line cannot make it fail).
            present = handle.read()
        for sha in [sha for sha in lines if sha.encode("ascii") in present]:
            del lines[sha]
        for line in lines.values():
            os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read(path: Path) -> dict[str, Entry]:
    """The ledger as sha256 -> first entry. Unreadable lines are skipped: the ledger is a
    detector, and a torn line must not stop the checks from running. The checks read it through
    `pytest_evalmix.checks.inputs`, once per process while it is unchanged."""
    index: dict[str, Entry] = {}
    try:
        handle = path.open("rb")
    except OSError:
        return index
    with handle:
        for raw in handle:
            try:
                data = json.loads(raw)
                entry = Entry(str(data["sha256"]), str(data["model"]), str(data["date"]))
            except (ValueError, KeyError, TypeError, RecursionError):
                continue
            index.setdefault(entry.sha256, entry)
    return index
