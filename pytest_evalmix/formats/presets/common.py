"""What every preset shares (docs/formats.md): our own fields, and the moves from a tool's
record to ours: take a dotted key, split ours from theirs, place a key, finish with ``meta``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

# Our own fields: read as ours under any preset, so a team can add them to another tool's file.
OURS = frozenset({"origin", "label", "synthetic", "review", "tags", "grid", "meta"})
TARGETS = ("id", "input", "gold")


@dataclass
class Converted:
    """A record in our shape, and the values a preset proposes when nobody says otherwise.

    ``problem`` is what is wrong and what to do when the tool's record gives no gold that the
    preset can stand behind (a Label Studio task whose annotators disagree): it is the record's
    finding unless the record or the file's defaults give the gold.
    """

    record: dict[str, Any]
    fallback: dict[str, Any] = field(default_factory=dict)
    problem: tuple[str, str] | None = None


def take(record: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    """Remove ``a.b.c`` from ``record`` (copying the mappings on the way, which may be shared
    with the reader's data) and return it; an emptied parent is removed too."""
    parts = dotted.split(".")
    if len(parts) == 1:
        if dotted in record:
            return True, record.pop(dotted)
        return False, None
    head = record.get(parts[0])
    if not isinstance(head, dict):
        return False, None
    copy = dict(head)
    found, value = take(copy, ".".join(parts[1:]))
    if found:
        if copy:
            record[parts[0]] = copy
        else:
            del record[parts[0]]
    return found, value


def split(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our own fields, and everything else (the tool's keys, for ``meta``)."""
    ours = {key: value for key, value in record.items() if key in OURS}
    theirs = {key: value for key, value in record.items() if key not in OURS}
    return ours, theirs


def finish(ours: dict[str, Any], placed: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Our record: the placed fields, our own fields, and the tool's other keys under ``meta``.

    Null-valued keys of the tool's carry nothing (DeepEval writes a dozen on every golden), so
    they are left out of ``meta``.
    """
    record = {**placed, **ours}
    extra = {key: value for key, value in theirs.items() if value is not None}
    if extra:
        meta = ours.get("meta")
        record["meta"] = {**extra, **meta} if isinstance(meta, dict) else extra
    return record


def place(
    placed: dict[str, Any],
    theirs: dict[str, Any],
    ours: str,
    key: str,
    skip: frozenset[str],
) -> None:
    """Move their ``key`` to our field ``ours``, unless the field map gives that field."""
    if ours not in skip and key in theirs:
        placed[ours] = theirs.pop(key)


def content_id(prefix: str, value: Any) -> str:
    """A stable id from content: the first 10 hex digits of the SHA-256 of its canonical JSON,
    so it does not change when rows move, and two files with the same input agree."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"{prefix}{hashlib.sha256(canonical.encode('utf-8')).hexdigest()[:10]}"


def json_text(value: Any) -> Any:
    """A CSV cell that holds JSON text, as the value it was; anything else as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
