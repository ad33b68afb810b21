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
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

# pydantic_core only: a loader child imports this module, and pydantic itself would double the
# child's start-up. The schema comes from `Example`, in the parent (see `derived`).
from pydantic_core import CoreConfig, SchemaValidator, ValidationError

from pytest_evalmix.formats import fastdecode
from pytest_evalmix.model.columns import Column, GridKey

# Below this many bytes of plain JSONL, starting processes costs more than it saves. The
# environment variable exists for tuning and for the tests of the parallel path.
PARALLEL_BYTES = 32 * 1024 * 1024
PARALLEL_ENV = "PYTEST_EVALMIX_PARALLEL_BYTES"


def parallel_bytes() -> int:
    try:
        return int(os.environ.get(PARALLEL_ENV, PARALLEL_BYTES))
    except ValueError:
        return PARALLEL_BYTES


# `Example`'s Python field validators whose rules `scan` applies itself, cheaper per record.
SCANNED = frozenset({"_input_not_empty", "_gold_present"})


def _name(schema: dict[str, Any]) -> str:
    return str(getattr(schema.get("function", {}).get("function"), "__name__", ""))


def _as_typed_dict(schema: Any) -> Any:
    """Rewrite a model core schema into the equivalent typed-dict schema.

    Field schemas, constraints and validators are reused as they are; only the containers
    change, and optional fields stay absent instead of being filled with defaults.
    """
    if isinstance(schema, list):
        return [_as_typed_dict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-after" and _name(schema) in SCANNED:
        return _as_typed_dict(schema["schema"])
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


# A declared coverage grid: each axis and its values, in order (hashable, for the caches).
Axes = tuple[tuple[str, tuple[str, ...]], ...]


@cache
def derived() -> tuple[dict[str, Any], list[str], list[str]] | None:
    """The derived schema (plain data), and the origins and label sources in code order."""
    from pytest_evalmix.model.records import ORIGINS, SOURCES, Example

    try:
        schema = _as_typed_dict(Example.__pydantic_core_schema__)
    except Exception:  # pragma: no cover - a future pydantic; the model path still works
        return None
    return schema, list(ORIGINS), list(SOURCES)


def _as_written(grid: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A grid naming an axis or a value that is not declared: kept as written, for the
    ``coverage`` check to report at its line (a tuple, so `scan` tells it apart)."""
    return tuple(grid.items())


def _declared(axes: Axes) -> dict[str, Any]:
    """A grid of declared axes and values only: the axes in declared order, each optional."""
    return {
        "type": "typed-dict",
        "fields": {
            axis: {
                "type": "typed-dict-field",
                "schema": {"type": "literal", "expected": list(values)},
                "required": False,
            }
            for axis, values in axes
        },
        "extra_behavior": "forbid",
    }


def _grid_as(schema: dict[str, Any], grid: dict[str, Any]) -> dict[str, Any]:
    fields = dict(schema["fields"])
    fields["grid"] = {**fields["grid"], "schema": grid}
    return {**schema, "fields": fields}


def _with_grid(schema: dict[str, Any], axes: Axes) -> dict[str, Any]:
    """``schema`` reading ``grid`` against the declared ``axes``.

    A grid of declared axes and values comes back as the schema's own key and value objects, in
    the axes' order, so every axis's value names the cell and its hash is known already: keeping
    each row's cell costs one small tuple and a lookup. Anything else comes back as written.
    """
    if not axes:
        return schema
    written = {
        "type": "function-after",
        "function": {"type": "no-info", "function": _as_written},
        "schema": schema["fields"]["grid"]["schema"],
    }
    union = {"type": "union", "mode": "left_to_right", "choices": [_declared(axes), written]}
    return _grid_as(schema, union)


def _declared_grid(schema: dict[str, Any], axes: Axes) -> dict[str, Any]:
    """``schema`` taking only a grid of declared axes and values (the fast decoder's: any
    other grid is refused there and read as written by `_with_grid`'s validator)."""
    return _grid_as(schema, _declared(axes)) if axes else schema


@cache
def validator(axes: Axes = ()) -> SchemaValidator | None:
    """The derived validator, or None if this pydantic's schema shape is not understood.

    The loader takes the fast path only when this is not None, so a child given the same
    schema can build it too.
    """
    spec = derived()
    try:
        return _build(_with_grid(spec[0], axes)) if spec is not None else None
    except Exception:  # pragma: no cover - a future pydantic; the model path still works
        return None


# Optional fields the fast path reads whole through the validator instead: ``review`` is a
# datetime or a date, a union msgspec cannot hold; `scan` sends every reviewed record there.
RAW_OK = frozenset({"review"})


def _decoder(schema: dict[str, Any]) -> Any:
    return fastdecode.decoder(schema, "Example", RAW_OK)


@cache
def fast_decoder(axes: Axes = ()) -> Any:
    """The msgspec decoder of records (`fastdecode`), or None: then every line is validated.
    With ``axes``, it takes a grid of declared axes and values only, as a struct whose fields
    are the axes in order."""
    spec = derived()
    return _decoder(_declared_grid(spec[0], axes)) if spec is not None else None


@cache
def gold_validator() -> SchemaValidator:
    """Reads only ``gold`` from a line: the other keys are parsed past but never built."""
    return SchemaValidator(
        {
            "type": "typed-dict",
            "fields": {
                "gold": {"type": "typed-dict-field", "schema": {"type": "any"}, "required": True}
            },
            "extra_behavior": "ignore",
        }
    )


def dict_validator(schema: Any) -> SchemaValidator:
    """A validator of JSON bytes that yields plain dicts, from `typed_dict_schema`: the
    model's rules and errors, without a model object per line."""
    return _build(schema)


def _build(schema: dict[str, Any]) -> SchemaValidator:
    # Caching strings saves memory for repeated values but costs time per line; the scan
    # interns the few repeated values itself.
    return SchemaValidator(schema, CoreConfig(cache_strings=False))


class _PickledIds:
    """A child pickles its pieces for the parent, which waits for them. Half a million ids as
    one joined string pickle and load several times faster than as a list, provided no id
    contains the separator (then they go as a list)."""

    ids: list[str]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        joined = _SEPARATOR.join(self.ids)
        if joined.count(_SEPARATOR) == max(len(self.ids) - 1, 0):
            state["ids"] = (len(self.ids), joined)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        ids = state["ids"]
        if isinstance(ids, tuple):
            count, joined = ids
            state["ids"] = joined.split(_SEPARATOR) if count else []
        self.__dict__.update(state)


_SEPARATOR = "\x1e"  # ASCII record separator: never in a sane id, and checked for anyway


@dataclass
class Piece(_PickledIds):
    """The columns of one byte range of one file; rows and lines are relative to the range."""

    origins: Column[str]
    sources: Column[str]
    # Each row's grid cell as written, None for none (see `EvalSet.cells`).
    cells: Column[GridKey | None] = field(default_factory=lambda: Column.of([None]))
    ids: list[str] = field(default_factory=list)
    lines: array[int] = field(default_factory=lambda: array("I"))
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


@dataclass
class ResultsPiece(_PickledIds):
    """Some results of a results file, as a child hands them back, a few at a time.

    ``codes[i]`` is 1 (passed) or 2 plus an index into ``modes`` (failed), for ``ids[i]`` at
    line ``lines[i]`` of the piece; ``failed`` holds the lines that did not validate. The piece
    covers ``newlines`` lines and ends at byte ``end`` of the file.
    """

    ids: list[str]
    codes: array[int]
    lines: array[int]
    modes: list[str | None]
    failed: list[tuple[int, bytes]]
    newlines: int
    end: int


# Results go back in pieces of this many lines, so the receiving process holds one piece's ids
# at a time, not half a file's.
RESULTS_PIECE_LINES = 50_000


def scan_results(
    path: str,
    start: int,
    end: int,
    validate: SchemaValidator,
    piece_lines: int = 0,
    fast: Any = None,
) -> Iterator[ResultsPiece]:
    """Validate the results-file lines that start in ``[start, end)``, a piece at a time:
    each through ``fast`` (`fastdecode`) first, and through ``validate`` if it refuses."""
    piece_lines = piece_lines or RESULTS_PIECE_LINES
    validate_json = validate.validate_json
    decode = fast.decode if fast is not None else fastdecode.refuse
    refused = fastdecode.REFUSED
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        lines_iter = iter(handle)
        while position < end:
            ids: list[str] = []
            codes, lines = array("I"), array("I")
            modes: dict[str | None, int] = {None: 0}
            failed: list[tuple[int, bytes]] = []
            line = 0
            for raw in lines_iter:
                position += len(raw)
                line += 1
                rid: str | None
                try:
                    result = decode(raw)
                    rid, passed, mode = result.id, result.passed, result.failure_mode
                except refused:
                    try:
                        record = validate_json(raw)
                    except ValidationError:
                        rid = None  # a valid id is never empty: None marks a failed line
                        if raw.strip():
                            failed.append((line, raw))
                    else:
                        rid, passed = record["id"], record["passed"]
                        mode = record.get("failure_mode")
                if rid is not None:
                    ids.append(rid)
                    lines.append(line)
                    codes.append(1 if passed else 2 + modes.setdefault(mode, len(modes)))
                if position >= end or line == piece_lines:
                    break
            else:
                position = end  # the file ended (or shrank) before ``end``
            yield ResultsPiece(ids, codes, lines, list(modes), failed, line, position)


def results_decoder(schema: dict[str, Any]) -> Any:
    """The msgspec decoder of result lines (`fastdecode`), or None."""
    return fastdecode.decoder(schema, "Result")


@dataclass
class Pending:
    """A child reading results bytes ``[start, end)`` of ``path`` into ``output``, an unlinked
    temporary file of this process's own making: it never waits for a reader, so it works at
    full speed while this process does something else (loads the set the results are for)."""

    path: Path
    start: int
    end: int
    child: subprocess.Popen[bytes]
    output: IO[bytes]

    def stop(self) -> None:
        """Let the child and its output go, whatever it was doing."""
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait()
        self.output.close()


def start_results(path: Path, start: int, end: int, schema: Any) -> Pending | None:
    """A child reading the results in ``[start, end)`` of ``path`` (``start`` at a line
    start), or None when no child can start or there is only one core."""
    if (os.cpu_count() or 1) < 2:
        return None
    try:
        output = tempfile.TemporaryFile()
    except OSError:  # no writable temporary directory: read here, later
        return None
    spec = {"schema": schema, "results": [str(path), start, end], "lines": RESULTS_PIECE_LINES}
    child = _spawn(spec, output)
    if child is None:
        output.close()
        return None
    return Pending(path, start, end, child, output)


def results_pieces(
    path: Path, size: int, schema: Any, pending: Pending | None = None
) -> Iterator[ResultsPiece]:
    """Every result of the file's first ``size`` bytes, as pieces in file order.

    ``pending`` is a child started earlier on the whole file (`start_results`). Without one a
    big file's tail goes to a child now, while this process reads the head. Whatever a child
    did not deliver, because it failed or was killed, is read here, so a child costs time and
    never results.
    """
    cut = 0
    if pending is None and size >= parallel_bytes():
        try:
            # The head is read here meanwhile, and joined, so the child takes a bit more.
            cut = _aligned(path, [size * 9 // 20])[0]
        except OSError:
            cut = size
        pending = start_results(path, cut, size, schema) if cut < size else None
        if pending is None:
            cut = 0
    fast = results_decoder(schema)
    if pending is not None and cut:
        yield from scan_results(str(path), 0, cut, _build(schema), fast=fast)
    done = pending.start if pending is not None else 0
    if pending is not None:
        try:
            pending.child.wait()
            pending.output.seek(0)
            while done < min(pending.end, size):
                piece = pickle.load(pending.output)  # our own child's, in our own temp file
                if not isinstance(piece, ResultsPiece):
                    break
                done = piece.end
                yield piece
        except Exception:
            pass
        finally:
            pending.stop()
    if done < size:
        yield from scan_results(str(path), done, size, _build(schema), fast=fast)


def typed_dict_schema(model_schema: Any) -> Any:
    """A model's core schema as the equivalent typed-dict schema (plain data, sent to a child)."""
    return _as_typed_dict(model_schema)


def _aligned(path: Path, offsets: list[int]) -> list[int]:
    """Move each offset forward to the start of the next line."""
    bounds: list[int] = []
    with path.open("rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            handle.readline()
            bounds.append(max(handle.tell(), bounds[-1] if bounds else 0))
    return bounds


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
        bounds = [0, *_aligned(path, inner), size]
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
    workers = min((os.cpu_count() or 1) // max(sharing, 1), MAX_PROCESSES)
    if workers < 2 or sum(sizes) < parallel_bytes():
        jobs = [[(index, 0, size)] for index, size in enumerate(sizes)]
        children: list[subprocess.Popen[bytes] | None] = []
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


def _start(paths: list[Path], job: list[Segment], axes: Axes) -> subprocess.Popen[bytes] | None:
    derived_spec = derived()
    assert derived_spec is not None
    schema, origins, sources = derived_spec
    return _spawn(
        {
            "schema": schema,
            "origins": origins,
            "sources": sources,
            "axes": axes,
            "spans": [[str(paths[i]), a, b] for i, a, b in job],
        }
    )


def _spawn(spec: dict[str, Any], output: IO[bytes] | None = None) -> subprocess.Popen[bytes] | None:
    """A child interpreter running `_child` on ``spec``, or None if none could start. It
    writes to ``output``, or to a pipe that the caller reads."""
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "pytest_evalmix.formats.fastload"],
            stdin=subprocess.PIPE,
            stdout=output if output is not None else subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    assert child.stdin is not None
    child.stdin.write(json.dumps(spec).encode())
    child.stdin.close()
    return child


def _collect(child: subprocess.Popen[bytes] | None) -> Any:
    """What a child pickled, or None if it failed (the caller then does the work itself)."""
    if child is None:
        return None
    assert child.stdout is not None
    try:
        value = pickle.load(child.stdout)
    except Exception:
        value = None
        child.kill()
    return value if child.wait() == 0 else None


def _finish(
    child: subprocess.Popen[bytes] | None, paths: list[Path], job: list[Segment], axes: Axes
) -> list[Piece]:
    pieces = _collect(child)
    if isinstance(pieces, list) and len(pieces) == len(job):
        return pieces
    return [scan(str(paths[i]), a, b, axes=axes) for i, a, b in job]


def _child() -> None:
    """Scan the spans named on stdin and pickle the pieces to stdout (our own parent reads)."""
    spec = json.loads(sys.stdin.buffer.read())
    if spec.get("results"):
        validate = _build(spec["schema"])
        path, start, end = spec["results"]
        fast = results_decoder(spec["schema"])
        for piece in scan_results(path, start, end, validate, spec["lines"], fast):
            pickle.dump(piece, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        axes: Axes = tuple((axis, tuple(values)) for axis, values in spec["axes"])
        validate = _build(_with_grid(spec["schema"], axes))
        fast = _decoder(_declared_grid(spec["schema"], axes))
        vocab = spec["origins"], spec["sources"]
        pieces = [
            scan(path, start, end, validate, vocab, axes, fast)
            for path, start, end in spec["spans"]
        ]
        pickle.dump(pieces, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    # Run the package's copy, so pickled pieces name `pytest_evalmix.formats.fastload.Piece`,
    # which the     # parent can load, and not `__main__.Piece`, which it cannot.
    from pytest_evalmix.formats.fastload import _child as child_main

    child_main()
