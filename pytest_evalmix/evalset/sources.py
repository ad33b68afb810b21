"""A set's records read from its files: once at load, and again for a check that needs every
input or gold (`examples`, `golds`), matched to the loaded rows by location.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from pytest_evalmix.errors import RecordError
from pytest_evalmix.evalset.validate import validate, validate_bytes
from pytest_evalmix.formats import arrow, presets, validators
from pytest_evalmix.formats.readers import SUFFIXES, lfs_pointer, not_an_object, read
from pytest_evalmix.model.evalset import EvalSet, Source
from pytest_evalmix.model.records import Example


def plain_jsonl(source: Source) -> bool:
    """A plain JSONL file: each line's keys are the record's own (the fast path)."""
    return source.plain and source.path.suffix.lower() == ".jsonl"


def plain_arrow(source: Source) -> bool:
    """A plain Parquet or Arrow file (or dataset folder): columns of our own fields."""
    suffix = source.path.suffix.lower()
    return source.plain and (
        suffix in arrow.SUFFIXES or (suffix not in SUFFIXES and source.path.is_dir())
    )


def inline_records(
    inline: list[tuple[int, Any]], source: Source, allow_extra: bool
) -> Iterator[tuple[int, Example | RecordError]]:
    for position, (line, raw) in enumerate(inline, 1):
        if not isinstance(raw, dict):
            yield line, not_an_object(line, raw)
        else:
            yield line, validate(raw, line, source, allow_extra, position)


def source_records(
    source: Source, allow_extra: bool
) -> Iterator[tuple[int, Example | RecordError]]:
    pointer = lfs_pointer(source.path)
    if pointer is not None:
        yield 1, pointer
        return
    fast = source.plain and not allow_extra
    collection = "tests" if source.fields.preset == "promptfoo" else "examples"
    try:
        items = read(source.path, raw_jsonl=fast, collection=collection)
        for position, (line, raw) in enumerate(presets.records(items, source.fields), 1):
            if isinstance(raw, RecordError):
                yield line, raw
            elif isinstance(raw, bytes):
                yield line, validate_bytes(raw, line)
            else:
                yield line, validate(raw, line, source, allow_extra, position)
    except OSError as exc:
        yield (
            1,
            RecordError(
                1,
                f"cannot read the file: {exc.strerror or exc}",
                "check that it exists and is readable",
            ),
        )


def examples(evalset: EvalSet) -> Iterator[tuple[int, Example]]:
    """Stream every valid record again, whole, in row order.

    This re-reads the files: use it only for a check that needs every input or gold. Rows
    dropped at load (invalid records, repeated ids) are skipped by matching locations.
    """
    for file_no, row, end in evalset.spans():
        yield from examples_of(evalset, file_no, row, end)


def golds(evalset: EvalSet, source: str) -> Iterator[tuple[int, Any]]:
    """Stream ``(row, gold)`` for the rows whose label source is ``source``, in row order.

    Like `examples` this re-reads the files, but a plain JSONL line gives up only its gold
    (the JSON parser skips the rest, and no model is built), which makes the pass several
    times cheaper on a big set. Other files go through the model as in `examples`.
    """
    wanted = evalset.sources.codebook.get(source)
    if wanted is None:
        return
    codes = evalset.sources.codes
    for file_no, row, end in evalset.spans():
        if wanted not in codes[row:end]:
            continue
        if file_no and plain_jsonl(evalset.record_files[file_no - 1]):
            yield from _jsonl_golds(evalset, file_no, row, end, wanted)
        else:
            for at, example in examples_of(evalset, file_no, row, end):
                if codes[at] == wanted:
                    yield at, example.gold


def inputs(evalset: EvalSet, rows: Collection[int] | None = None) -> Iterator[tuple[int, Any, Any]]:
    """Stream ``(row, input, gold)`` for ``rows`` (every row when None), in row order.

    Like `golds` this re-reads the files, and a plain JSONL line gives up only its input and
    gold; files that hold none of ``rows`` are not opened.
    """
    lines = evalset.lines
    for file_no, row, end in evalset.spans():
        wanted = range(row, end) if rows is None else sorted(r for r in rows if row <= r < end)
        if not wanted:
            continue
        if file_no and plain_jsonl(evalset.record_files[file_no - 1]):
            read = validators.keys_validator(("input", "gold")).validate_json
            pending = iter(wanted)
            at = next(pending, None)
            try:
                with evalset.record_files[file_no - 1].path.open("rb") as handle:
                    for line, raw in enumerate(handle, 1):
                        if at is None:
                            break
                        if line != lines[at]:
                            continue
                        try:
                            record = read(raw)
                        except ValueError:  # changed since the load: judged on what loaded
                            pass
                        else:
                            yield at, record["input"], record["gold"]
                        at = next(pending, None)
            except OSError:
                continue
        else:
            chosen = set(wanted)
            for at, example in examples_of(evalset, file_no, row, end):
                if at in chosen:
                    yield at, example.input, example.gold


def examples_of(
    evalset: EvalSet, file_no: int, row: int, end: int
) -> Iterator[tuple[int, Example]]:
    """Rows ``row..end-1`` of file ``file_no``, read again through the model."""
    allow_extra = evalset.policy.schema_.extra == "allow"
    if file_no:
        records = source_records(evalset.record_files[file_no - 1], allow_extra)
    else:
        records = inline_records(evalset.inline, evalset.inline_source, allow_extra)
    lines = evalset.lines
    for line, example in records:
        if row == end:
            return
        if isinstance(example, Example) and lines[row] == line:
            yield row, example
            row += 1


def _jsonl_golds(
    evalset: EvalSet, file_no: int, row: int, end: int, wanted: int
) -> Iterator[tuple[int, Any]]:
    """The golds of rows ``row..end-1`` of a plain JSONL file, of label source ``wanted``."""
    codes, lines = evalset.sources.codes, evalset.lines
    read_gold = validators.gold_validator().validate_json
    try:
        with evalset.record_files[file_no - 1].path.open("rb") as handle:
            for line, raw in enumerate(handle, 1):
                if line != lines[row]:
                    continue
                if codes[row] == wanted:
                    try:
                        yield row, read_gold(raw)["gold"]
                    except ValueError:  # changed since the load: judged on what loaded
                        pass
                row += 1
                if row == end:
                    return
    except OSError:
        return


ANNOTATIONS_WORD = b"annotations"


def mentions_annotations(evalset: EvalSet) -> bool:
    """Whether any of the set's record files, inline examples or field maps holds the word
    ``annotations``: what decides that the ``agreement`` check is collected (docs/checks.md).

    Collection must give the same items with and without pytest-xdist, and an xdist worker
    reads a manifest only, so the rule reads bytes, not records: a file is searched in chunks,
    at disk speed, and never parsed. A set whose text names the word without carrying
    ``label.annotations`` gets an ``agreement`` item that skips and says so.
    """
    sources = [*evalset.record_files, evalset.inline_source]
    for source in sources:
        mapping = source.fields.mapping
        if source.fields.preset == "label-studio" or any(
            "annotations" in key or "annotations" in value for key, value in mapping.items()
        ):
            return True
    if evalset.inline and "annotations" in repr(evalset.inline):
        return True
    word, keep = ANNOTATIONS_WORD, len(ANNOTATIONS_WORD) - 1
    for source in evalset.record_files:
        try:
            with open(source.path, "rb") as handle:
                tail = b""
                while chunk := handle.read(1 << 22):
                    if word in tail + chunk[: keep + 1] or word in chunk:
                        return True
                    tail = chunk[-keep:]
        except OSError:
            continue  # the loader reports an unreadable file at its line
    return False
