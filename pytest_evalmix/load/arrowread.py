"""Parquet and Arrow record files, and Hugging Face ``save_to_disk`` folders (SPEC §3).

pyarrow is an optional extra (``pytest-evalmix[arrow]``), imported here and only when such a file
is read: a project of JSONL files never pays its import, and one without it installed gets one
finding that names the install line instead of an ImportError.

The table is read batch by batch, column-typed as it is stored: no row is turned back into JSON
text. A record's line is its 1-based row number. Arrow cannot leave a key out of one row of a
struct column, so a null there means "absent" and is dropped, as Hugging Face's own readers do
when they hand a row back; a null in a required field (``id``, ``input``, ``gold``, ``origin``,
``label``) is kept, so that it is reported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_evalmix.load.readers import RecordError

SUFFIXES = (".parquet", ".arrow")
INSTALL = "pip install 'pytest-evalmix[arrow]'"
# Rows per batch: big enough that pyarrow's per-batch cost vanishes, small enough that a batch
# of Python rows stays a few MB.
BATCH_ROWS = 16_384
_REQUIRED = frozenset({"id", "input", "gold", "origin", "label"})
# A label with one of these is kept whole, as `fastload.scan` does.
_KEEP = frozenset({"provisional", "checker", "pattern"})


def is_saved_dataset(path: Path) -> bool:
    """A folder written by ``Dataset.save_to_disk``: its ``state.json`` lists the data files."""
    return path.is_dir() and (path / "state.json").is_file()


def needs_pyarrow(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES or is_saved_dataset(path)


def missing() -> RecordError:
    return RecordError(
        1,
        "reading Parquet and Arrow files needs pyarrow, which is not installed",
        f"install it: {INSTALL}",
    )


def _pyarrow() -> ModuleType | None:
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        return None
    module: ModuleType = pyarrow
    return module


def _saved_files(folder: Path) -> list[Path]:
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not files:
        raise ValueError("its state.json lists no _data_files")
    paths = []
    for entry in files:
        name = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"its state.json names a data file oddly: {entry!r}")
        paths.append(folder / name)
    return paths


def _batches(pa: ModuleType, path: Path) -> Iterator[Any]:
    if path.is_dir():
        for part in _saved_files(path):
            yield from _batches(pa, part)
        return
    if path.suffix.lower() == ".parquet":
        yield from pa.parquet.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
        return
    # An .arrow file is Arrow's IPC file format (magic "ARROW1"), or the stream format that
    # `datasets` writes into its own .arrow files.
    with path.open("rb") as handle:
        magic = handle.read(6)
    source = pa.memory_map(str(path))
    reader = pa.ipc.open_file(source) if magic == b"ARROW1" else pa.ipc.open_stream(source)
    if magic == b"ARROW1":
        for index in range(reader.num_record_batches):
            yield reader.get_batch(index)
    else:
        yield from reader


def _unreadable(path: Path, exc: BaseException) -> RecordError:
    what = "Hugging Face dataset folder" if path.is_dir() else f"{path.suffix.lower()[1:]} file"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RecordError(
        1,
        f"not a readable {what}: {text[:200]}",
        "write it again with its tool (pyarrow, or datasets' to_parquet / save_to_disk)",
    )


def batches(path: Path) -> Iterator[list[dict[str, Any]] | RecordError]:
    """The file's rows as plain records, a batch at a time; a RecordError ends it."""
    pa = _pyarrow()
    if pa is None:
        yield missing()
        return
    try:
        for batch in _batches(pa, path):
            rows = batch.to_pylist()
            yield [clean(row) for row in rows]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        # pyarrow's ArrowInvalid and friends derive from ValueError, OSError or TypeError
        yield _unreadable(path, exc)
    except RecursionError as exc:  # pragma: no cover - absurdly nested columns
        yield _unreadable(path, exc)


def rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """``(row number, record)``, the reader of SPEC §3 for these files."""
    row = 0
    for batch in batches(path):
        if isinstance(batch, RecordError):
            yield max(row, 1), batch
            return
        for record in batch:
            row += 1
            yield row, record


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the record it stands for: nulls of absent keys dropped, required ones kept."""
    return {
        key: _drop_nulls(value)
        for key, value in row.items()
        if value is not None or key in _REQUIRED
    }


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


def imported() -> bool:
    """Whether pyarrow was imported (the tests check that JSONL alone never imports it)."""
    return "pyarrow" in sys.modules


def scan(path: Path) -> Iterator[tuple[Any, list[tuple[int, dict[str, Any]]]] | RecordError]:
    """The fast path for a file of records in our own shape: `fastload.scan`'s columns, a batch
    at a time, validated by the same schema-derived validator (no model object per row).

    Yields ``(piece, failed)`` per batch, ``failed`` being the rows the loader's ordinary path
    must explain, or a RecordError that ends the file.
    """
    from pydantic_core import ValidationError

    from pytest_evalmix.load import fastload
    from pytest_evalmix.model.columns import Column

    spec, validator = fastload.derived(), fastload.validator()
    assert spec is not None and validator is not None
    validate = validator.validate_python
    intern = sys.intern
    row = 0
    for batch in batches(path):
        if isinstance(batch, RecordError):
            yield batch
            return
        piece = fastload.Piece(Column.of(spec[1]), Column.of(spec[2]))
        failed: list[tuple[int, dict[str, Any]]] = []
        ids, lines, whole = piece.ids, piece.lines, piece.whole
        generated, reviews = piece.generated, piece.reviews
        origin_code, source_code = piece.origins.codebook, piece.sources.codebook
        add_origin, add_source = piece.origins.codes.append, piece.sources.codes.append
        at = 0
        for raw in batch:
            row += 1
            try:
                record = validate(raw)
            except ValidationError:
                failed.append((row, raw))
                continue
            given = record["input"]
            if record["gold"] is None or not given or (given.__class__ is str and given.isspace()):
                failed.append((row, raw))
                continue
            label = record["label"]
            source = label["source"]
            if (
                source != "human"
                or "provisional" in label
                or "checker" in label
                or "pattern" in label
            ):
                whole[at] = record
            ids.append(record["id"])
            add_origin(origin_code[record["origin"]])
            add_source(source_code[source])
            lines.append(row)
            synthetic = record.get("synthetic")
            if synthetic is not None:
                by = label.get("by")
                generated[at] = (
                    intern(synthetic["generator"]),
                    intern(by) if by is not None else None,
                )
            review = record.get("review")
            if review is not None:
                reviews[at] = (review["decision"], intern(review["by"]))
            at += 1
        yield piece, failed
