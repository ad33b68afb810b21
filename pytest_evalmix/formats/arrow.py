"""Parquet and Arrow record files, and Hugging Face ``save_to_disk`` folders (docs/formats.md).

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

from pytest_evalmix.errors import RecordError
from pytest_evalmix.files.paths import inside, is_saved_dataset

SUFFIXES = (".parquet", ".arrow")
INSTALL = "pip install 'pytest-evalmix[arrow]'"
# Rows per batch: big enough that pyarrow's per-call cost vanishes (a batch is some thirty
# vectorised tests), small enough that a batch stays a few MB.
BATCH_ROWS = 65_536
# Our required fields: a null in one of them stays, for the model to explain.
REQUIRED = frozenset({"id", "input", "gold", "origin", "label"})


def needs_pyarrow(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES or is_saved_dataset(path)


def missing() -> RecordError:
    return RecordError(
        1,
        "reading Parquet and Arrow files needs pyarrow, which is not installed",
        f"install it: {INSTALL}",
    )


def pyarrow_module() -> ModuleType | None:
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        return None
    module: ModuleType = pyarrow
    return module


def _inside_folder(path: Path, folder: Path) -> Path:
    """The one path rule for the files inside a folder: a symlink that leads out of it (and so,
    perhaps, out of the rootdir) is never opened, and its target is never named."""
    if not inside(path, folder):
        raise ValueError(
            f"its {path.name} is a symlink that leads out of the folder — replace it with the file"
        )
    return path


def _saved_files(folder: Path) -> list[Path]:
    text = _inside_folder(folder / "state.json", folder).read_text(encoding="utf-8")
    try:
        state = json.loads(text)
    except RecursionError:
        raise ValueError("its state.json is JSON nested too deeply to read") from None
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not files:
        raise ValueError("its state.json lists no _data_files")
    paths = []
    for entry in files:
        name = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"its state.json names a data file oddly: {entry!r}")
        paths.append(_inside_folder(folder / name, folder))
    return paths


def batches_of(pa: ModuleType, path: Path) -> Iterator[Any]:
    if path.is_dir():
        for part in _saved_files(path):
            yield from batches_of(pa, part)
        return
    if path.suffix.lower() == ".parquet":
        # One thread and no read-ahead: the loader merges on the other core meanwhile, and
        # both would hold decoded pages that a batch at a time does not need.
        parquet = pa.parquet.ParquetFile(path, pre_buffer=False)
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, use_threads=False)
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


def unreadable(path: Path, exc: BaseException) -> RecordError:
    what = "Hugging Face dataset folder" if path.is_dir() else f"{path.suffix.lower()[1:]} file"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RecordError(
        1,
        f"not a readable {what}: {text[:200]}",
        "write it again with its tool (pyarrow, or datasets' to_parquet / save_to_disk)",
    )


def batches(path: Path) -> Iterator[list[dict[str, Any]] | RecordError]:
    """The file's rows as plain records, a batch at a time; a RecordError ends it."""
    pa = pyarrow_module()
    if pa is None:
        yield missing()
        return
    try:
        for batch in batches_of(pa, path):
            rows = batch.to_pylist()
            yield [clean(row) for row in rows]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        # pyarrow's ArrowInvalid and friends derive from ValueError, OSError or TypeError
        yield unreadable(path, exc)
    except RecursionError as exc:  # pragma: no cover - absurdly nested columns
        yield unreadable(path, exc)


def rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """``(row number, record)``, the reader of docs/formats.md for these files."""
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
        if value is not None or key in REQUIRED
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
