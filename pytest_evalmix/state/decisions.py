"""Review decision logs: ``<evalmix_dir>/reviews/<reviewer>.jsonl``, one decision a line.

A log is the evidence that a person, not a default, let each synthetic candidate into a set:
`evalmix review` appends to it and the `review` check reads it to spot rubber-stamping. It is
append-only, and each line is written with one ``write`` and made durable with ``fsync`` before
the reviewer sees the next candidate, so neither Ctrl-C nor a crash loses a decision that was
shown as saved. Nothing here imports pytest.

A line::

    {"id": "syn-prod-001-3f2a9c1b", "decision": "accepted", "by": "Dana", "seconds": 7.4,
     "at": "2026-11-25T14:30:05Z", "input_sha256": "…", "seed_id": "prod-001",
     "queue": "queue.jsonl", "into": "evals/data/reviewed.jsonl"}

``id``, ``decision`` (``accepted``, ``edited`` or ``rejected``), ``by`` and ``at`` are required;
``seconds`` is the time from showing the candidate to the decision; the rest says which
candidate text was decided and where it went.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_evalmix.files import atomic

REVIEWS_DIR = "reviews"
DECISIONS = ("accepted", "edited", "rejected")
# Decisions that let the candidate into the set.
ACCEPTING = frozenset({"accepted", "edited"})


def slug(reviewer: str) -> str:
    """The log's file name stem for a reviewer: letters, digits, ``.``, ``_`` and ``-`` only.

    A name comes from git config or the command line and becomes a path: it must not be able to
    point outside ``reviews/`` (``../x``) or make a hidden file.
    """
    return re.sub(r"[^\w.-]+", "-", reviewer.strip()).strip("-.")


def log_path(evalmix_dir: Path, reviewer: str) -> Path:
    return evalmix_dir / REVIEWS_DIR / f"{slug(reviewer)}.jsonl"


def input_digest(value: Any) -> str:
    """The identity of a candidate's input, so a decision sticks to the text that was read."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoggedDecision:
    """One line of a log. ``line`` is 1-based, for findings that point at it."""

    id: str
    decision: str
    by: str
    at: str
    line: int
    seconds: float | None = None
    input_sha256: str | None = None
    # `evalmix review --blind` (docs/cli.md): the gold the reviewer gave before seeing the
    # seed, the seed's gold, and the candidate's generator; `blind` is False otherwise.
    blind: bool = False
    blind_gold: Any = None
    seed_gold: Any = None
    generator: str | None = None


@dataclass(frozen=True)
class BadLine:
    line: int
    message: str


@dataclass
class Log:
    """A reviewer's log as read: the decisions, and the lines that are not decisions."""

    path: Path
    decisions: list[LoggedDecision] = field(default_factory=list)
    problems: list[BadLine] = field(default_factory=list)


def parse(data: Any, line: int) -> LoggedDecision | BadLine:
    if not isinstance(data, dict):
        return BadLine(line, "not a JSON object")
    problems = [
        f"'{key}' is missing or not a non-empty string"
        for key in ("id", "by", "at")
        if not isinstance(data.get(key), str) or not data[key].strip()
    ]
    decision = data.get("decision")
    if decision not in DECISIONS:
        problems.append(f"'decision' is {decision!r}, not one of {', '.join(DECISIONS)}")
    seconds = data.get("seconds")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0
    ):
        problems.append(f"'seconds' is {seconds!r}, not a number of seconds")
    digest = data.get("input_sha256")
    if problems:
        return BadLine(line, "; ".join(problems))
    return LoggedDecision(
        id=data["id"],
        decision=str(decision),
        by=data["by"],
        at=data["at"],
        line=line,
        seconds=float(seconds) if seconds is not None else None,
        input_sha256=digest if isinstance(digest, str) else None,
        blind="blind_gold" in data and "seed_gold" in data,
        blind_gold=data.get("blind_gold"),
        seed_gold=data.get("seed_gold"),
        generator=data["generator"] if isinstance(data.get("generator"), str) else None,
    )


def read(path: Path) -> Log:
    """Read a log; a missing file is an empty log, an unreadable one a problem at line 1."""
    log = Log(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return log
    except OSError as exc:
        log.problems.append(BadLine(1, f"cannot read it: {exc.strerror or exc}"))
        return log
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8").strip())
            except UnicodeDecodeError:
                log.problems.append(BadLine(number, "non-UTF-8 bytes"))
                continue
            except json.JSONDecodeError as exc:
                where = f"{'' if exc.msg.endswith(' at') else ' at'} column {exc.colno}"
                log.problems.append(BadLine(number, f"malformed JSON: {exc.msg}{where}"))
                continue
            except (ValueError, RecursionError) as exc:  # a number too long, nesting too deep
                what = (
                    "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
                )
                log.problems.append(BadLine(number, f"JSON {what} to read"))
                continue
            item = parse(data, number)
            if isinstance(item, LoggedDecision):
                log.decisions.append(item)
            else:
                log.problems.append(item)
    return log


def logs(evalmix_dir: Path) -> list[Path]:
    """Every reviewer's log file, in file-name order so findings come out in a stable order."""
    directory = evalmix_dir / REVIEWS_DIR
    try:
        return sorted(p for p in directory.glob("*.jsonl") if p.is_file())
    except OSError:
        return []


def refused(path: Path) -> Log:
    """A log that is a symlink out of evalmix_dir: never opened, so nothing of it is echoed."""
    message = (
        f"{path.name} is a symlink that resolves outside the evalmix directory; it was not read "
        "(commit the log itself)"
    )
    return Log(path, problems=[BadLine(1, message)])


def append(path: Path, record: Mapping[str, Any]) -> None:
    """Append one JSON line and make it durable before returning.

    A file whose last line lacks its newline (edited by hand) gets one first, or the new record
    would be glued onto it and both would be lost to a parse error.
    """
    line = json.dumps(record, ensure_ascii=False) + "\n"
    created = not path.exists()
    fd = atomic.open_append(path)  # refuses a symlink at the log or the data file
    try:
        if os.fstat(fd).st_size:
            os.lseek(fd, -1, os.SEEK_END)
            if os.read(fd, 1) != b"\n":
                line = "\n" + line
        data = line.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a new file's directory entry durable too; not possible on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ids_in(path: Path) -> Iterator[str]:
    """The ids of the records of a JSONL file, skipping lines that are not records."""
    try:
        handle = path.open("rb")
    except OSError:
        return
    with handle:
        for raw in handle:
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                yield data["id"]
