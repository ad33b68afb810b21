"""One read per file per process: a file's parsed form, kept while the file is unchanged.

Several checks need the same inputs (a results file, the ledger, the review logs), and an xdist
controller or a CLI run may ask again later in the same process. Each is parsed once and served
from here until its size, modification time or inode changes. A file that cannot be stat'ed
(missing, unreadable) is not cached: reading it again is cheap, and reports why.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# (what was read, resolved path) -> (stamp of the file when read, its owner, parsed value)
_entries: dict[tuple[str, str], tuple[tuple[int, int, int], Any, Any]] = {}


def stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file from the one that was read: size, mtime (ns) and inode."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def cached(kind: str, path: Path, read: Callable[[Path], T], owner: object = None) -> T:
    """``read(path)``, or what it returned last time for the unchanged file.

    ``kind`` tells apart two parses of one file. A parse made for one object (a results file
    is read for one eval set) passes it as ``owner``: it is served to that same object only,
    and held weakly, so the cache never keeps a set alive.
    """
    before = stamp(path)
    if before is None:
        return read(path)
    key = (kind, os.path.realpath(path))
    hit = _entries.get(key)
    if hit is not None and hit[0] == before and (owner is None or hit[1]() is owner):
        value: T = hit[2]
        return value
    value = read(path)
    _entries[key] = (before, weakref.ref(owner) if owner is not None else None, value)
    return value


def clear() -> None:
    """Forget every parse: for a long-lived process that wants to let the memory go."""
    _entries.clear()
