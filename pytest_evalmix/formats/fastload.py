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
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_core import SchemaValidator, ValidationError

from pytest_evalmix.formats import fastdecode, parallel
from pytest_evalmix.formats.validators import (
    Axes,
    build,
    declared_grid,
    decoder,
    derived,
    fast_decoder,
    validator,
    with_grid,
)
from pytest_evalmix.model.columns import Column, GridKey
from pytest_evalmix.model.normalise import input_key

MODULE = "pytest_evalmix.formats.fastload"


@dataclass
class Piece(parallel.PickledIds):
    """The columns of one byte range of one file; rows and lines are relative to the range."""

    origins: Column[str]
    sources: Column[str]
    # Each row's grid cell as written, None for none (see `EvalSet.cells`).
    cells: Column[GridKey | None] = field(default_factory=lambda: Column.of([None]))
    ids: list[str] = field(default_factory=list)
    lines: array[int] = field(default_factory=lambda: array("I"))
    # Each row's `model.normalise.input_key` (see `EvalSet.input_keys`).
    keys: array[int] = field(default_factory=lambda: array("Q"))
    # Sparse by row: (generator, label.by) of synthetic rows, (decision, by) of reviewed rows.
    generated: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    reviews: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Rows that need the whole record (non-human labels), as validated dicts by row.
    whole: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Lines that failed validation, left for the loader's ordinary path to explain.
    failed: list[tuple[int, bytes]] = field(default_factory=list)
    newlines: int = 0


# The JSON types a record's ``input`` may be empty as (see `Example._input_not_empty`).
_SIZED = (str, list, dict)


def scan(
    path: str,
    start: int,
    end: int,
    validate: SchemaValidator | None = None,
    vocab: tuple[list[str], list[str]] | None = None,
    axes: Axes = (),
    fast: Any = None,
) -> Piece:
    """Validate the lines that start in ``[start, end)`` of ``path``. Runs in a worker too.

    This loop runs a million times for a big set, so it does as little as it can per record.
    Each line goes first to ``fast``, the msgspec decoder (`fastdecode`); a record it takes
    whose label is a plain human one, with no review and (for a declared grid) a cell already
    seen, is the common case and becomes a row in a few steps. Every other line goes through
    ``validate``, the pydantic-derived validator, as before: codes for the two dense columns,
    the sparse maps only for rows that have the key. That validator leaves out `Example`'s two
    Python field validators (a Python call per field per record); the loop applies the same
    rules, and a record that breaks one is handed to the model path, which explains it in the
    model's own words. Each row's grid cell is kept only for a declared grid (``axes``, which
    ``validate`` must have been derived with).
    """
    if validate is None or vocab is None:
        spec, validate = derived(), validator(axes)
        assert spec is not None and validate is not None
        vocab = spec[1], spec[2]
        fast = fast_decoder(axes)
    validate_json = validate.validate_json
    decode = fast.decode if fast is not None else fastdecode.refuse
    refused = fastdecode.REFUSED
    intern = sys.intern
    piece = Piece(Column.of(vocab[0]), Column.of(vocab[1]))
    ids, lines, whole, failed = piece.ids, piece.lines, piece.whole, piece.failed
    generated, reviews = piece.generated, piece.reviews
    add_id, add_line = ids.append, lines.append
    add_key, key_of = piece.keys.append, input_key
    add_origin, add_source = piece.origins.codes.append, piece.sources.codes.append
    origin_code, source_code = piece.origins.codebook, piece.sources.codebook
    human = source_code["human"]
    cells = piece.cells
    cell_code, add_cell = cells.codebook, cells.codes.append
    n_axes = len(axes)
    astuple = fastdecode.astuple
    grid_code: dict[Any, int] = {}  # decoded grid -> its cell's code
    none_code = cell_code[None]
    row = line = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        for raw in handle:
            if position >= end:
                break
            position += len(raw)
            line += 1
            try:
                fast_record = decode(raw)
            except refused:
                pass
            else:
                label = fast_record.label
                given = fast_record.input
                if (
                    label.source == "human"
                    and label.provisional is None
                    and label.checker is None
                    and label.pattern is None
                    and fast_record.review is None
                    and fast_record.gold is not None
                    and given is not None
                    and (
                        given.__class__ not in _SIZED
                        or (given and (given.__class__ is not str or not given.isspace()))
                    )
                ):
                    code: int | None = none_code
                    if axes:
                        # The decoder took declared axes and values only, as a struct of the
                        # axes in order (None for an absent one): a grid of some axes is not
                        # placed; a new cell is numbered by the validator below, once.
                        grid = fast_record.grid
                        if grid is not None:
                            code = grid_code.get(grid)
                            if code is None:  # a grid not met yet: its cell, by its values
                                values = astuple(grid)
                                code = cell_code.get(values) if None not in values else none_code
                                if code is not None:
                                    grid_code[grid] = code
                    if code is not None:
                        add_id(fast_record.id)
                        add_key(key_of(given))
                        add_origin(origin_code[fast_record.origin])
                        add_source(human)
                        add_line(line)
                        if axes:
                            add_cell(code)
                        synthetic = fast_record.synthetic
                        if synthetic is not None:
                            by = label.by
                            generated[row] = (
                                intern(synthetic.generator),
                                intern(by) if by is not None else None,
                            )
                        row += 1
                        continue
            try:
                record = validate_json(raw)
            except ValidationError:
                if raw.strip():
                    failed.append((line, raw))
                continue
            given = record["input"]
            if (
                record["gold"] is None
                or given is None
                or (given.__class__ in _SIZED and not given)
                or (given.__class__ is str and given.isspace())
            ):
                failed.append((line, raw))
                continue
            label = record["label"]
            source = label["source"]
            if (
                source != "human"
                or "provisional" in label
                or "checker" in label
                or "pattern" in label
            ):
                whole[row] = record
            add_id(record["id"])
            add_key(key_of(given))
            add_origin(origin_code[record["origin"]])
            add_source(source_code[source])
            add_line(line)
            if axes:
                # Keys are the declared axes, in order, so every axis's value names the cell.
                # The common case is the first line; the rest runs once per distinct grid.
                grid = record.get("grid")
                try:
                    add_cell(cell_code[tuple(grid.values())] if grid else none_code)
                except (KeyError, AttributeError):
                    cell: GridKey | None
                    if grid.__class__ is tuple:  # undeclared: kept as written (`_with_grid`)
                        cell = grid
                        record["grid"] = dict(grid)
                    elif len(grid) != n_axes:  # some axes only: not placed, whichever they are
                        cell = None
                        cell_code[tuple(grid.values())] = none_code  # an alias, only looked up
                    else:
                        cell = tuple(grid.values())
                    code = cell_code.get(cell)
                    if code is None:  # a new cell: may widen the codes, so take the new append
                        cells.append(cell)
                        add_cell = cells.codes.append
                    else:
                        add_cell(code)
            synthetic = record.get("synthetic")
            if synthetic is not None:
                by = label.get("by")
                generated[row] = (
                    intern(synthetic["generator"]),
                    intern(by) if by is not None else None,
                )
            review = record.get("review")
            if review is not None:
                reviews[row] = (review["decision"], intern(review["by"]))
            row += 1
    piece.newlines = line
    if not axes:  # no grid declared: every row "not placed", a zero byte each
        cells.codes.frombytes(bytes(row))
    return piece


Segment = tuple[int, int, int]
"""(index in the list of paths, start byte, end byte)"""


def _jobs(paths: list[Path], sizes: list[int], workers: int) -> list[list[Segment]]:
    """Cut the files, as if laid end to end, into ``workers`` spans of about equal bytes.

    Equal shares measured best: this process also unpickles and merges the children's
    columns, about what a child spends starting up and pickling them.
    """
    total = sum(sizes)
    cuts = [total * k / workers for k in range(1, workers)]
    jobs: list[list[Segment]] = [[] for _ in range(workers)]
    before = 0
    for index, (path, size) in enumerate(zip(paths, sizes, strict=True)):
        worker = sum(1 for cut in cuts if cut <= before)
        inner = [int(cut) - before for cut in cuts if before < cut < before + size]
        bounds = [0, *parallel.aligned(path, inner), size]
        for a, b in itertools.pairwise(bounds):
            if b > a:
                jobs[worker].append((index, a, b))
            worker += 1
        before += size
    return [job for job in jobs if job]


# More processes than this gain little: merging their columns is serial.
MAX_PROCESSES = 4


def scan_files(
    paths: list[Path], sharing: int = 1, axes: Axes = ()
) -> Iterator[tuple[int, int, Piece]]:
    """Yield ``(index in paths, lines before the piece, piece)`` in file and line order.

    Big inputs are shared with child interpreters started with ``-m`` (not multiprocessing,
    whose spawn re-runs the caller's ``__main__``); the last span is scanned here meanwhile.
    A child that fails costs time, not results: its span is scanned here instead.

    ``sharing`` is how many processes like this one run side by side (pytest-xdist workers):
    each uses its share of the cores, so together they do not fight over them.
    """
    sizes = [path.stat().st_size for path in paths]
    workers = min(parallel.cores(sharing), MAX_PROCESSES)
    if workers < 2 or sum(sizes) < parallel.parallel_bytes():
        jobs = [[(index, 0, size)] for index, size in enumerate(sizes)]
        children: list[parallel.Child | None] = []
    else:
        jobs = _jobs(paths, sizes, workers)
        children = [_start(paths, job, axes) for job in jobs[:-1]]
    results: list[list[Piece]] = []
    mine = [
        [scan(str(paths[i]), a, b, axes=axes) for i, a, b in job] for job in jobs[len(children) :]
    ]
    for child, job in zip(children, jobs, strict=False):
        results.append(_finish(child, paths, job, axes))
    results.extend(mine)
    lines_before = [0] * len(paths)
    for job, pieces in zip(jobs, results, strict=True):
        for (index, _a, _b), piece in zip(job, pieces, strict=True):
            yield index, lines_before[index], piece
            lines_before[index] += piece.newlines


def _start(paths: list[Path], job: list[Segment], axes: Axes) -> parallel.Child | None:
    derived_spec = derived()
    assert derived_spec is not None
    schema, origins, sources = derived_spec
    spans = [[str(paths[i]), a, b] for i, a, b in job]
    spec = {"schema": schema, "origins": origins, "sources": sources, "axes": axes, "spans": spans}
    return parallel.start(MODULE, spec)


def _finish(
    child: parallel.Child | None, paths: list[Path], job: list[Segment], axes: Axes
) -> list[Piece]:
    pieces = child.collect() if child is not None else None
    if pieces is not None and len(pieces) == len(job):
        return pieces
    return [scan(str(paths[i]), a, b, axes=axes) for i, a, b in job]


def child_job(spec: dict[str, Any]) -> Iterator[Piece]:
    """A child's work (`parallel.serve`): the pieces of the spans the spec names."""
    axes: Axes = tuple((axis, tuple(values)) for axis, values in spec["axes"])
    validate = build(with_grid(spec["schema"], axes))
    fast = decoder(declared_grid(spec["schema"], axes))
    vocab = spec["origins"], spec["sources"]
    for path, start, end in spec["spans"]:
        yield scan(path, start, end, validate, vocab, axes, fast)


if __name__ == "__main__":
    # The package's copy, so pickled pieces name `pytest_evalmix.formats.fastload.Piece`, which
    # the parent can load, and not `__main__.Piece`, which it cannot.
    from pytest_evalmix.formats.fastload import child_job as job

    parallel.serve(job)
