"""The fast path for plain JSONL: one validated parse per line, in parallel for big files.

A million-example set must load in about twice the time of a bare orjson parse (see
``benchmarks/``). Building a pydantic model per line costs more than that, so this path
validates each line with a validator *derived from* `Example`'s own schema that yields plain
dicts (same rules, same errors, no model objects), keeps only the columns the checks judge on,
and splits big files across processes. Any line that fails is handed back untouched, and the
loader's ordinary path explains it, so the fast path never decides what an error says.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic_core import CoreConfig, SchemaValidator, ValidationError

from .models import Example

# Below this many bytes of plain JSONL, starting processes costs more than it saves. The
# environment variable exists for tuning and for the tests of the parallel path.
PARALLEL_BYTES = 32 * 1024 * 1024
PARALLEL_ENV = "PYTEST_EVALMIX_PARALLEL_BYTES"


def _parallel_bytes() -> int:
    try:
        return int(os.environ.get(PARALLEL_ENV, PARALLEL_BYTES))
    except ValueError:
        return PARALLEL_BYTES


def _as_typed_dict(schema: Any) -> Any:
    """Rewrite a model core schema into the equivalent typed-dict schema.

    Field schemas, constraints and validators are reused as they are; only the containers
    change, and optional fields stay absent instead of being filled with defaults.
    """
    if isinstance(schema, list):
        return [_as_typed_dict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "model":
        inner = schema["schema"]
        fields = {}
        for name, spec in inner["fields"].items():
            sub = spec["schema"]
            optional = sub.get("type") == "default"
            fields[name] = {
                "type": "typed-dict-field",
                "schema": _as_typed_dict(sub["schema"] if optional else sub),
                "required": not optional,
            }
        extra = schema.get("config", {}).get("extra_fields_behavior", "ignore")
        return {"type": "typed-dict", "fields": fields, "extra_behavior": extra}
    return {key: _as_typed_dict(value) for key, value in schema.items()}


@cache
def validator() -> SchemaValidator | None:
    """The derived validator, or None if this pydantic's schema shape is not understood."""
    try:
        # Caching strings saves memory for repeated values but costs time per line; the
        # columns intern the few repeated values themselves.
        config = CoreConfig(cache_strings=False)
        return SchemaValidator(_as_typed_dict(Example.__pydantic_core_schema__), config)
    except Exception:  # pragma: no cover - a future pydantic; the model path still works
        return None


@dataclass
class Piece:
    """The columns of one byte range of one file; lines are relative to the range's start."""

    ids: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    labelled_by: list[str | None] = field(default_factory=list)
    generators: list[str | None] = field(default_factory=list)
    decisions: list[str | None] = field(default_factory=list)
    reviewers: list[str | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    # Rows that need the whole record (non-human labels), as validated dicts by local row.
    whole: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Lines that failed validation, left for the loader's ordinary path to explain.
    failed: list[tuple[int, bytes]] = field(default_factory=list)
    newlines: int = 0


def needs_whole(label: dict[str, Any]) -> bool:
    return (
        label["source"] != "human"
        or label.get("provisional") is not None
        or label.get("checker") is not None
        or label.get("pattern") is not None
    )


def scan(path: str, start: int, end: int) -> Piece:
    """Validate the lines that start in ``[start, end)`` of ``path``. Runs in a worker too."""
    validate = validator()
    assert validate is not None
    validate_json = validate.validate_json
    intern = sys.intern
    piece = Piece()
    ids, origins, sources = piece.ids, piece.origins, piece.sources
    labelled_by, generators = piece.labelled_by, piece.generators
    decisions, reviewers, lines = piece.decisions, piece.reviewers, piece.lines
    line = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        for raw in handle:
            if position >= end:
                break
            position += len(raw)
            line += 1
            try:
                record = validate_json(raw)
            except ValidationError:
                if raw.strip():
                    piece.failed.append((line, raw))
                continue
            label = record["label"]
            if needs_whole(label):
                piece.whole[len(ids)] = record
            ids.append(record["id"])
            # Literal values come back as the schema's own (shared) objects: no intern needed.
            origins.append(record["origin"])
            sources.append(label["source"])
            by = label.get("by")
            labelled_by.append(intern(by) if by is not None else None)
            synthetic = record.get("synthetic")
            generators.append(intern(synthetic["generator"]) if synthetic else None)
            review = record.get("review")
            decisions.append(review["decision"] if review else None)
            reviewers.append(intern(review["by"]) if review else None)
            lines.append(line)
    piece.newlines = line
    return piece


def _ranges(path: Path, size: int, pieces: int) -> list[tuple[int, int]]:
    """Split a file into byte ranges that begin at line starts."""
    bounds = [0]
    with path.open("rb") as handle:
        for index in range(1, pieces):
            handle.seek(size * index // pieces)
            handle.readline()
            bounds.append(max(handle.tell(), bounds[-1]))
    bounds.append(size)
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


Segment = tuple[int, int, int]
"""(index in the list of paths, start byte, end byte)"""


def _jobs(paths: list[Path], sizes: list[int], workers: int) -> list[list[Segment]]:
    """Cut the files, as if laid end to end, into ``workers`` spans of about equal bytes."""
    total = sum(sizes)
    cuts: list[list[Segment]] = [[] for _ in range(workers)]
    before = 0
    for index, (path, size) in enumerate(zip(paths, sizes, strict=True)):
        first = before * workers // total
        last = min(workers - 1, (before + size) * workers // total)
        count = last - first + 1
        for offset, (a, b) in enumerate(_ranges(path, size, count)):
            cuts[min(first + offset, workers - 1)].append((index, a, b))
        before += size
    return [job for job in cuts if job]


def scan_files(paths: list[Path]) -> Iterator[tuple[int, int, Piece]]:
    """Yield ``(index in paths, lines before the piece, piece)`` in file and line order.

    Big inputs are shared with child interpreters started with ``-m`` (not multiprocessing,
    whose spawn re-runs the caller's ``__main__``); the last span is scanned here meanwhile.
    A child that fails costs time, not results: its span is scanned here instead.
    """
    sizes = [path.stat().st_size for path in paths]
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or sum(sizes) < _parallel_bytes():
        jobs = [[(index, 0, size)] for index, size in enumerate(sizes)]
        children: list[subprocess.Popen[bytes] | None] = []
    else:
        jobs = _jobs(paths, sizes, workers)
        children = [_start(paths, job) for job in jobs[:-1]]
    results: list[list[Piece]] = []
    mine = [[scan(str(paths[i]), a, b) for i, a, b in job] for job in jobs[len(children) :]]
    for child, job in zip(children, jobs, strict=False):
        results.append(_finish(child, paths, job))
    results.extend(mine)
    lines_before = [0] * len(paths)
    for job, pieces in zip(jobs, results, strict=True):
        for (index, _a, _b), piece in zip(job, pieces, strict=True):
            yield index, lines_before[index], piece
            lines_before[index] += piece.newlines


def _start(paths: list[Path], job: list[Segment]) -> subprocess.Popen[bytes] | None:
    spec = json.dumps([[str(paths[i]), a, b] for i, a, b in job]).encode()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "pytest_evalmix.fastload"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    assert child.stdin is not None
    child.stdin.write(spec)
    child.stdin.close()
    return child


def _finish(
    child: subprocess.Popen[bytes] | None, paths: list[Path], job: list[Segment]
) -> list[Piece]:
    if child is not None:
        assert child.stdout is not None
        try:
            pieces = pickle.load(child.stdout)
        except Exception:
            pieces = None
            child.kill()
        if child.wait() == 0 and isinstance(pieces, list) and len(pieces) == len(job):
            return pieces
    return [scan(str(paths[i]), a, b) for i, a, b in job]


def _child() -> None:
    """Scan the spans named on stdin and pickle the pieces to stdout (our own parent reads)."""
    spec = json.loads(sys.stdin.buffer.read())
    pieces = [scan(path, start, end) for path, start, end in spec]
    pickle.dump(pieces, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    # Run the package's copy, so pickled pieces name `pytest_evalmix.fastload.Piece`, which the
    # parent can load, and not `__main__.Piece`, which it cannot.
    from pytest_evalmix.fastload import _child as child_main

    child_main()
