"""A review queue as `evalmix propose` writes it: read and checked, one `Candidate` per line
(docs/cli.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_evalmix.model.records import Example
from pytest_evalmix.model.text import escape
from pytest_evalmix.review.screen import encodable
from pytest_evalmix.state import decisions

_QUEUE_ONLY = "seed"


WRITTEN_BY_REVIEW = ("gold", "label", "review")


class ReviewError(Exception):
    """The review cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class Candidate:
    """One queue record: the would-be record (``seed`` removed) and its seed."""

    number: int
    line: int
    record: dict[str, Any]
    seed: dict[str, Any]
    digest: str

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def shown_id(self) -> str:
        """The id as printed: an id is data, and may hold ESC, a newline or a bidi override."""
        return escape(self.id)


def read_queue(path: Path, shown: str) -> list[Candidate]:
    """Read and check a whole queue up front, so a bad line stops nothing half-way."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReviewError(f"cannot read the queue {shown}: {exc.strerror or exc}") from None
    problems: list[str] = []
    candidates: list[Candidate] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{shown}:{number}: non-UTF-8 bytes; re-save the queue as UTF-8")
            continue
        except json.JSONDecodeError as exc:
            problems.append(f"{shown}:{number}: malformed JSON at column {exc.colno}: {exc.msg}")
            continue
        except (ValueError, RecursionError) as exc:  # a number too long, nesting too deep
            what = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
            problems.append(f"{shown}:{number}: JSON {what} to read")
            continue
        problem = _queue_problem(record)
        if problem is None and not encodable(json.dumps(record, ensure_ascii=False)):
            problem = (
                f"{record['id']}: holds a lone surrogate escape (\\ud800-\\udfff), which is "
                "not text and could not be saved"
            )
        if problem is None and record["id"] in seen:
            problem = f"duplicate id {record['id']!r}, also at line {seen[record['id']]}"
        if problem is not None:
            problems.append(f"{shown}:{number}: {problem}")
            continue
        seen[record["id"]] = number
        seed = record.pop(_QUEUE_ONLY)
        record.setdefault("origin", "synthetic")
        candidates.append(
            Candidate(
                len(candidates) + 1, number, record, seed, decisions.input_digest(record["input"])
            )
        )
    if problems:
        shown_problems = [escape(p) for p in problems[:10]]
        if len(problems) > 10:
            shown_problems.append(f"... and {len(problems) - 10} more")
        raise ReviewError(
            "the queue has records that cannot be reviewed (write it with `evalmix propose`):\n"
            + "\n".join(f"  {p}" for p in shown_problems)
        )
    return candidates


def _queue_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "not a JSON object"
    rid = record.get("id")
    if not isinstance(rid, str) or not rid.strip():
        return "no id"
    if "gold" in record:
        return (
            f"{rid}: a candidate carries no gold: the reviewer writes it "
            "(synthesize the input, hand-label the output)"
        )
    for key in ("label", "review"):
        if key in record:
            return f"{rid}: '{key}' is written by the review, not by the queue"
    seed = record.get(_QUEUE_ONLY)
    if (
        not isinstance(seed, dict)
        or not isinstance(seed.get("id"), str)
        or "input" not in seed
        or seed.get("gold") is None
    ):
        return f"{rid}: 'seed' must be {{id, input, gold}}, the seed the candidate rewrites"
    if record.get("origin", "synthetic") != "synthetic":
        return f"{rid}: origin is {record['origin']!r}; a candidate is synthetic"
    trial = {k: v for k, v in record.items() if k != _QUEUE_ONLY}
    trial.update(gold="-", label={"source": "human"}, origin="synthetic")
    try:
        Example.model_validate(trial)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{rid}: {where}: {message}" if where else f"{rid}: {message}"
    return None
