"""Loading an eval set: the manifest resolved (`manifest`), then every record in one validated
pass into the columns of an `EvalSet` (docs/architecture.md).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_evalmix.errors import RecordError
from pytest_evalmix.evalset.manifest import resolve
from pytest_evalmix.evalset.sources import inline_records, plain_arrow, plain_jsonl, source_records
from pytest_evalmix.evalset.validate import validate, validate_bytes
from pytest_evalmix.formats import arrow_scan, fastload, validators
from pytest_evalmix.model.evalset import EvalSet, Source
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.records import Example


def load(
    manifest_path: Path,
    rootdir: Path,
    project_policy: Mapping[str, Any],
    sharing: int = 1,
    *,
    records: bool = True,
) -> EvalSet:
    """Load one eval set. Bad records become findings; a bad manifest raises `ManifestError`.

    ``sharing`` is how many processes load side by side (pytest-xdist workers); big JSONL
    inputs are scanned with this process's share of the cores (see `fastload.scan_files`).
    With ``records=False`` only the manifest is read and its data files resolved; `fill` reads
    the records later (`revisions.git` puts the files of a git revision in place in between).
    """
    evalset = resolve(manifest_path, rootdir, project_policy)
    if records:
        fill(evalset, sharing)
    return evalset


def fill(evalset: EvalSet, sharing: int = 1) -> None:
    """The one validated pass: records into columns, problems into findings.

    Plain JSONL files go through `fastload` (columns straight from a dict validator, in
    parallel when big); everything else goes record by record through the model.
    """
    dedupe = _Dedupe(evalset)
    allow_extra = evalset.policy.schema_.extra == "allow"
    for line, result in inline_records(evalset.inline, evalset.inline_source, allow_extra):
        dedupe.take(0, line, result)
    fast = {
        number
        for number, source in enumerate(evalset.record_files, 1)
        if plain_jsonl(source)
        and not allow_extra
        and source.path.is_file()
        and os.access(source.path, os.R_OK)
        and validators.validator() is not None
    }
    axes = tuple((axis, tuple(values)) for axis, values in evalset.policy.coverage.axes.items())
    pieces = fastload.scan_files(
        [evalset.record_files[number - 1].path for number in sorted(fast)], sharing, axes
    )
    numbers = sorted(fast)
    waiting = next(pieces, None)
    columnar = {
        number
        for number, source in enumerate(evalset.record_files, 1)
        if plain_arrow(source) and not allow_extra and validators.validator() is not None
    }
    child = arrow_scan.start([evalset.record_files[number - 1].path for number in sorted(columnar)])
    for number, source in enumerate(evalset.record_files, 1):
        if number in columnar:
            _fill_arrow(evalset, number, source, dedupe, child)
            continue
        if number not in fast:
            for line, result in source_records(source, allow_extra):
                dedupe.take(number, line, result)
            continue
        while waiting is not None and numbers[waiting[0]] == number:
            _, offset, piece = waiting
            # The lines the fast path handed back: nearly always errors, but one that only
            # Python's JSON parser reads (a lone surrogate escape) is a row, in its place.
            late: list[tuple[int, Example]] = []
            for line, raw in piece.failed:
                result = validate_bytes(raw, offset + line)
                if isinstance(result, Example):
                    late.append((offset + line, result))
                else:
                    dedupe.error(number, result)
            _merge_piece(evalset, number, offset, piece, dedupe, late)
            waiting = next(pieces, None)


def _fill_arrow(
    evalset: EvalSet,
    number: int,
    source: Source,
    dedupe: _Dedupe,
    child: arrow_scan.Child | None,
) -> None:
    """A Parquet or Arrow file of our own fields: columns a batch at a time, as `fastload`
    gives them for JSONL, so a million rows never become a million models."""
    for item in arrow_scan.scan_file(source.path, child):
        if isinstance(item, RecordError):
            dedupe.error(number, item)  # the last item: the file is not read further
            continue
        piece, failed = item
        for line, raw in failed:
            dedupe.take(number, line, validate(raw, line, source, False))
        _merge_piece(evalset, number, 0, piece, dedupe)


class _Dedupe:
    """Appends rows in order, refusing repeated ids with a finding that names both places."""

    def __init__(self, evalset: EvalSet) -> None:
        self.evalset = evalset
        self.seen: set[str] = set()
        self.where: dict[str, int] | None = None

    def error(self, file_no: int, error: RecordError) -> None:
        self.evalset.findings.append(
            Finding(self.evalset.files[file_no], error.line, error.id, error.message, error.fix)
        )

    def repeated(self, file_no: int, line: int, rid: str) -> bool:
        if rid not in self.seen:
            self.seen.add(rid)
            if self.where is not None:
                self.where[rid] = len(self.evalset.ids)
            return False
        evalset = self.evalset
        if self.where is None:  # only a set with repeats pays for the id -> row map
            self.where = {r: row for row, r in reversed(list(enumerate(evalset.ids)))}
        first_path, first_line = evalset.location(self.where[rid])
        evalset.findings.append(
            Finding(
                evalset.files[file_no],
                line,
                rid,
                f"duplicate id: also at {first_path}:{first_line}",
                "give each example its own id; this one was not loaded",
            )
        )
        return True

    def take(self, file_no: int, line: int, result: Example | RecordError) -> None:
        if isinstance(result, RecordError):
            self.error(file_no, result)
        elif not self.repeated(file_no, line, result.id):
            self.evalset.add(file_no, line, result)


def _merge_piece(
    evalset: EvalSet,
    file_no: int,
    offset: int,
    piece: fastload.Piece,
    dedupe: _Dedupe,
    late: list[tuple[int, Example]] | None = None,
) -> None:
    """Append a piece's rows, and ``late``, rows of the same lines that the model path read
    (by line, in order), each in its line's place."""
    base = len(evalset.ids)
    seen = dedupe.seen
    before = len(seen)
    seen.update(piece.ids)
    if not late and dedupe.where is None and len(seen) - before == len(piece.ids):
        # The common case: no repeats, so whole columns are appended at once.
        evalset.ids.extend(piece.ids)
        evalset.input_keys.extend(piece.keys)
        evalset.origins.extend(piece.origins)
        evalset.sources.extend(piece.sources)
        evalset.cells.extend(piece.cells)
        evalset.file_index.extend(array("H", [file_no]) * len(piece.ids))
        evalset.lines.extend(
            array("I", map(offset.__add__, piece.lines)) if offset else piece.lines
        )
        # Rows of the piece, shifted to rows of the set (C-level; a million rows add up).
        generated, reviews = piece.generated, piece.reviews
        evalset.generated.update(zip(map(base.__add__, generated), generated.values(), strict=True))
        evalset.reviews.update(zip(map(base.__add__, reviews), reviews.values(), strict=True))
        for row, record in piece.whole.items():
            evalset.kept[base + row] = Example.model_validate(record)
        return
    # A repeat, or late rows: back to row by row, with `seen` as it was before this piece.
    dedupe.seen = set(evalset.ids)
    pending = list(reversed(late or []))
    for row, rid in enumerate(piece.ids):
        line = offset + piece.lines[row]
        while pending and pending[-1][0] < line:
            dedupe.take(file_no, *pending.pop())
        if dedupe.repeated(file_no, line, rid):
            continue
        target = len(evalset.ids)
        evalset.ids.append(rid)
        evalset.input_keys.append(piece.keys[row])
        evalset.origins.append(piece.origins[row])
        evalset.sources.append(piece.sources[row])
        evalset.cells.append(piece.cells[row])
        evalset.file_index.append(file_no)
        evalset.lines.append(line)
        if row in piece.generated:
            evalset.generated[target] = piece.generated[row]
        if row in piece.reviews:
            evalset.reviews[target] = piece.reviews[row]
        if row in piece.whole:
            evalset.kept[target] = Example.model_validate(piece.whole[row])
    while pending:
        dedupe.take(file_no, *pending.pop())
