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
import os
import pickle
import subprocess
import sys
from array import array
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_evalmix.errors import RecordError

SUFFIXES = (".parquet", ".arrow")
INSTALL = "pip install 'pytest-evalmix[arrow]'"
# Rows per batch: big enough that pyarrow's per-call cost vanishes (a batch is some thirty
# vectorised tests), small enough that a batch stays a few MB.
BATCH_ROWS = 65_536
_REQUIRED = frozenset({"id", "input", "gold", "origin", "label"})
_FIELDS = frozenset(
    {"id", "input", "gold", "origin", "label", "synthetic", "review", "tags", "grid", "meta"}
)
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


def scan(
    path: Path, derived: tuple[dict[str, Any], list[str], list[str]] | None = None
) -> Iterator[tuple[Any, list[tuple[int, dict[str, Any]]]] | RecordError]:
    """The fast path for a file of records in our own shape: `fastload.scan`'s columns, a batch
    at a time, judged column by column with pyarrow's compute functions.

    A million rows must load in about the time of parsing the same set as JSONL, which rules out
    making a Python object of every row. So a batch whose schema holds our fields in the types
    they must have is checked as columns (an id that is empty, an origin that is none of ours, a
    date that does not parse: each is one vectorised test, or one test per distinct value), and
    only what the checks judge on is taken out: ids, origin and label-source codes, and the few
    rows that need more (a synthetic generator, a review, a label that is not plainly human).
    A row that fails a test, or a batch of another shape, goes to the model row by row, which
    says what is wrong in its own words: this path never decides what an error says.

    Yields ``(piece, failed)`` per batch, ``failed`` being the rows the loader's ordinary path
    must explain, or a RecordError that ends the file.
    """
    pa = _pyarrow()
    if pa is None:
        yield missing()
        return
    import pyarrow.compute as pc

    from pytest_evalmix.formats import fastload

    # A child is handed the derived schema, and so never imports the model (pydantic itself).
    if derived is None:
        spec, validator = fastload.derived(), fastload.validator()
    else:
        spec, validator = derived, fastload.dict_validator(derived[0])
    assert spec is not None and validator is not None
    first = 1
    try:
        for batch in _batches(pa, path):
            if _simple(pa, batch.schema):
                yield _columns(pa, pc, batch, first, validator, spec)
            else:
                yield _rows(batch, first, validator, spec)
            first += batch.num_rows
    except (OSError, ValueError, TypeError, KeyError) as exc:
        yield _unreadable(path, exc)


def _piece(spec: Any) -> Any:
    from pytest_evalmix.formats import fastload
    from pytest_evalmix.model.columns import Column

    return fastload.Piece(Column.of(spec[1]), Column.of(spec[2]))


def _rows(
    batch: Any, first: int, validator: Any, spec: Any
) -> tuple[Any, list[tuple[int, dict[str, Any]]]]:
    """A batch of an unusual shape, row by row through the derived validator."""
    from pydantic_core import ValidationError

    piece = _piece(spec)
    failed: list[tuple[int, dict[str, Any]]] = []
    at = 0
    for row, raw in enumerate(batch.to_pylist(), first):
        raw = clean(raw)
        try:
            record = validator.validate_python(raw)
        except ValidationError:
            failed.append((row, raw))
            continue
        given = record["input"]
        if record["gold"] is None or not given or (given.__class__ is str and given.isspace()):
            failed.append((row, raw))
            continue
        _add(piece, at, row, record)
        at += 1
    return piece, failed


def _add(piece: Any, at: int, row: int, record: dict[str, Any]) -> None:
    label = record["label"]
    source = label["source"]
    if source != "human" or not _KEEP.isdisjoint(label):
        piece.whole[at] = record
    piece.ids.append(record["id"])
    piece.origins.codes.append(piece.origins.codebook[record["origin"]])
    piece.sources.codes.append(piece.sources.codebook[source])
    piece.lines.append(row)
    synthetic = record.get("synthetic")
    if synthetic is not None:
        by = label.get("by")
        piece.generated[at] = (
            sys.intern(synthetic["generator"]),
            sys.intern(by) if by is not None else None,
        )
    review = record.get("review")
    if review is not None:
        piece.reviews[at] = (review["decision"], sys.intern(review["by"]))


_DATE: dict[str, Any] = {"type": "date"}
_DATE_OR_TIME: dict[str, Any] = {
    "type": "union",
    "choices": [{"type": "datetime"}, {"type": "date"}],
}

# Struct fields of ours and the Arrow types the columnar path judges them in; any other shape
# goes row by row.
_LABEL = {"source": "str", "by": "str", "at": "date", "checker": "str", "pattern": "str"}
_SYNTHETIC = {"generator": "str", "method": "str", "seed_id": "str", "prompt_sha256": "str"}
_REVIEW = {"by": "str", "decision": "str", "at": "time", "seconds": "number"}


def _kind(pa: Any, arrow_type: Any) -> str:
    types = pa.types
    if types.is_string(arrow_type) or types.is_large_string(arrow_type):
        return "str"
    if types.is_null(arrow_type):
        return "null"
    if types.is_date(arrow_type):
        return "date"
    if types.is_integer(arrow_type) or types.is_floating(arrow_type):
        return "number"
    return "other"


def _struct_ok(pa: Any, arrow_type: Any, fields: dict[str, str], extra: frozenset[str]) -> bool:
    if pa.types.is_null(arrow_type):
        return True
    if not pa.types.is_struct(arrow_type):
        return False
    for index in range(arrow_type.num_fields):
        child = arrow_type.field(index)
        if child.name in extra:
            continue
        want = fields.get(child.name)
        kind = _kind(pa, child.type)
        if want is None or not (
            kind in ("str", "null")
            or (want in ("date", "time") and kind == "date")
            or (want == "number" and kind == "number")
        ):
            return False
    return True


def _simple(pa: Any, schema: Any) -> bool:
    """Whether a batch of this schema can be judged as columns."""
    types = {field.name: field.type for field in schema}
    if not _REQUIRED <= types.keys() or not types.keys() <= _FIELDS:
        return False
    if _kind(pa, types["id"]) != "str" or _kind(pa, types["input"]) != "str":
        return False
    if _kind(pa, types["origin"]) != "str" or not pa.types.is_struct(types["label"]):
        return False
    label = types["label"]
    if label.get_field_index("source") < 0:
        return False
    if not _struct_ok(pa, label, _LABEL, frozenset({"provisional"})):
        return False
    if "synthetic" in types and not _struct_ok(pa, types["synthetic"], _SYNTHETIC, frozenset()):
        return False
    if "review" in types and not _struct_ok(pa, types["review"], _REVIEW, frozenset()):
        return False
    tags = types.get("tags")
    if tags is not None and not (
        pa.types.is_null(tags) or (pa.types.is_list(tags) and _kind(pa, tags.value_type) == "str")
    ):
        return False
    grid = types.get("grid")
    if grid is not None and not (
        pa.types.is_null(grid)
        or (
            pa.types.is_struct(grid)
            and all(
                _kind(pa, grid.field(i).type) in ("str", "null") for i in range(grid.num_fields)
            )
        )
    ):
        return False
    meta = types.get("meta")
    return meta is None or pa.types.is_null(meta) or pa.types.is_struct(meta)


def _bad_values(pa: Any, pc: Any, column: Any, kind: dict[str, Any]) -> Any:
    """Rows whose value the model would refuse, testing each distinct value once (with the
    core schema of the model's field type: `Label.at` is a date, `Review.at` a time or date)."""
    from pydantic_core import SchemaValidator, ValidationError

    adapter = SchemaValidator(kind)
    wrong = []
    for value in pc.unique(column).to_pylist():
        if value is None:
            continue
        try:
            adapter.validate_python(value)
        except ValidationError:
            wrong.append(value)
    if not wrong:
        return None
    return pc.is_in(column, value_set=pa.array(wrong, type=column.type))


def _columns(
    pa: Any, pc: Any, batch: Any, first: int, validator: Any, spec: Any
) -> tuple[Any, list[tuple[int, dict[str, Any]]]]:
    """One batch of a simple schema, judged and taken apart as columns."""

    from pydantic_core import ValidationError

    names = set(batch.schema.names)
    column = batch.column
    label = column("label")
    label_fields = {label.type.field(i).name for i in range(label.type.num_fields)}

    def field(struct: Any, name: str) -> Any:
        return pc.struct_field(struct, name)

    def null(array: Any) -> Any:
        return pc.is_null(array)

    tests = [
        null(column("id")),
        pc.equal(pc.utf8_length(column("id")), 0),
        null(column("input")),
        pc.equal(pc.utf8_length(column("input")), 0),
        pc.utf8_is_space(column("input")),
        null(column("gold")),
        pc.invert(pc.is_in(column("origin"), value_set=pa.array(spec[1]))),
        null(label),
        pc.invert(pc.is_in(field(label, "source"), value_set=pa.array(spec[2]))),
    ]
    if "at" in label_fields and _kind(pa, label.type.field("at").type) == "str":
        tests.append(_bad_values(pa, pc, field(label, "at"), _DATE))
    if "synthetic" in names and pa.types.is_struct(column("synthetic").type):
        synthetic = column("synthetic")
        present = pc.is_valid(synthetic)
        for name in ("generator", "method"):
            if synthetic.type.get_field_index(name) < 0:
                tests.append(present)
            else:
                tests.append(pc.and_(present, null(field(synthetic, name))))
    if "review" in names and pa.types.is_struct(column("review").type):
        review = column("review")
        present = pc.is_valid(review)
        for name in ("by", "decision", "at"):
            if review.type.get_field_index(name) < 0:
                tests.append(present)
            else:
                tests.append(pc.and_(present, null(field(review, name))))
        if review.type.get_field_index("decision") >= 0:
            decision = field(review, "decision")
            allowed = pa.array(["accepted", "edited", "rejected"])
            tests.append(pc.and_(present, pc.invert(pc.is_in(decision, value_set=allowed))))
        if (
            review.type.get_field_index("at") >= 0
            and _kind(pa, review.type.field("at").type) == "str"
        ):
            tests.append(_bad_values(pa, pc, field(review, "at"), _DATE_OR_TIME))
    if "tags" in names and pa.types.is_list(column("tags").type):
        if column("tags").flatten().null_count:
            return _rows(batch, first, validator, spec)
    bad = pa.array([False] * batch.num_rows)
    for test in tests:
        if test is not None:
            bad = pc.or_kleene(bad, test)
    bad = pc.fill_null(bad, False)
    # Rows the checks need whole: validated here, so one that the model refuses (a bad
    # provisional date, say) joins the failed rows before any column is taken.
    whole = pc.not_equal(field(label, "source"), "human")
    for name in sorted(_KEEP & label_fields):
        whole = pc.or_(whole, pc.is_valid(field(label, name)))
    whole = pc.and_(whole, pc.invert(bad))
    kept: dict[int, dict[str, Any]] = {}
    if pc.any(whole).as_py():
        refused = []
        rows = pc.indices_nonzero(whole).to_pylist()
        for row, raw in zip(rows, batch.filter(whole).to_pylist(), strict=True):
            try:
                kept[row] = validator.validate_python(clean(raw))
            except ValidationError:
                refused.append(row)
        if refused:
            marks = [False] * batch.num_rows
            for row in refused:
                marks[row] = True
            bad = pc.or_(bad, pa.array(marks))
    failed: list[tuple[int, dict[str, Any]]] = []
    if pc.any(bad).as_py():
        rows = pc.indices_nonzero(bad).to_pylist()
        failed = [
            (first + row, clean(raw))
            for row, raw in zip(rows, batch.filter(bad).to_pylist(), strict=True)
        ]
        good_rows = pc.indices_nonzero(pc.invert(bad)).to_pylist()
        position = {row: at for at, row in enumerate(good_rows)}
        kept = {position[row]: record for row, record in kept.items() if row in position}
        batch = batch.filter(pc.invert(bad))
        column = batch.column
        label = column("label")
        lines = array("I", [first + row for row in good_rows])
    else:
        lines = array("I", range(first, first + batch.num_rows))
    piece = _piece(spec)
    piece.ids = column("id").to_pylist()
    piece.lines = lines
    piece.whole = kept
    origins = pc.index_in(column("origin"), value_set=pa.array(spec[1]))
    sources = pc.index_in(field(label, "source"), value_set=pa.array(spec[2]))
    piece.origins.codes.extend(array("B", origins.to_pylist()))
    piece.sources.codes.extend(array("B", sources.to_pylist()))
    by = field(label, "by") if "by" in label_fields else None
    if "synthetic" in names and pa.types.is_struct(column("synthetic").type):
        synthetic = column("synthetic")
        present = pc.is_valid(synthetic)
        if pc.any(present).as_py():
            rows = pc.indices_nonzero(present)
            generators = pc.take(field(synthetic, "generator"), rows).to_pylist()
            bys = pc.take(by, rows).to_pylist() if by is not None else [None] * len(rows)
            intern = sys.intern
            piece.generated.update(
                (row, (intern(generator), intern(who) if who is not None else None))
                for row, generator, who in zip(rows.to_pylist(), generators, bys, strict=True)
            )
    if "review" in names and pa.types.is_struct(column("review").type):
        review = column("review")
        present = pc.is_valid(review)
        if pc.any(present).as_py():
            rows = pc.indices_nonzero(present)
            decisions = pc.take(field(review, "decision"), rows).to_pylist()
            reviewers = pc.take(field(review, "by"), rows).to_pylist()
            piece.reviews.update(
                (row, (decision, sys.intern(who)))
                for row, decision, who in zip(rows.to_pylist(), decisions, reviewers, strict=True)
            )
    return piece, failed


# Files from this size on are scanned by a child interpreter that streams its pieces back, so
# pyarrow and its buffers never join the loader's own memory: the columns a set keeps are the
# same as for JSONL, and so is the budget. The variable exists for tuning and for the tests.
CHILD_BYTES = 4 * 1024 * 1024
CHILD_ENV = "PYTEST_EVALMIX_ARROW_CHILD_BYTES"


def _child_bytes() -> int:
    try:
        return int(os.environ.get(CHILD_ENV, CHILD_BYTES))
    except ValueError:
        return CHILD_BYTES


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(part.stat().st_size for part in path.iterdir() if part.is_file())
    return path.stat().st_size


class Child:
    """One child interpreter that scans the big files of a set in order (see `CHILD_BYTES`).

    Started before the loader reaches those files, it spends its start-up (imports) while the
    files before them are read, then runs ahead of the loader by a pipe's worth of batches.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pytest_evalmix.formats.arrow"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self.process = None
            return
        from pytest_evalmix.formats import fastload

        spec = fastload.derived()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(
                json.dumps({"derived": spec, "paths": [str(path) for path in paths]}).encode()
            )
            self.process.stdin.close()
        except OSError:
            self.close()

    def items(self) -> Iterator[tuple[Any, list[tuple[int, dict[str, Any]]]] | RecordError | None]:
        """The next file's items, then None once the child has said that file is done."""
        process = self.process
        if process is None or process.stdout is None:
            return
        try:
            while True:
                item = pickle.load(process.stdout)
                if item == _END:
                    yield None
                    return
                if isinstance(item, tuple) and item[0] == _ERROR:
                    yield RecordError(*item[1:])
                else:
                    yield item
        except Exception:
            self.close()

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.stdout is not None:
                process.stdout.close()
            process.kill()
            process.wait()


def start(paths: list[Path]) -> Child | None:
    """A child for the files of ``paths`` that are big enough to be worth one, or None."""
    try:
        big = [path for path in paths if _size(path) >= _child_bytes()]
    except OSError:
        return None
    return Child(big) if big else None


def scan_file(
    path: Path, child: Child | None = None
) -> Iterator[tuple[Any, list[tuple[int, dict[str, Any]]]] | RecordError]:
    """`scan`, streamed from ``child`` when it has this file, else here.

    The child pickles each batch's piece as soon as it has it, and this process merges it
    meanwhile, so pyarrow and its buffers never join the loader's own memory. A child that
    fails costs time, not results: the batches it did not deliver are scanned here.
    """
    delivered = 0
    if child is not None and path in child.paths:
        items = child.items()
        try:
            for item in items:
                if item is None:
                    if child.paths[-1] == path:
                        child.close()
                    return
                delivered += 1
                yield item
        finally:
            # A caller that stops early must not leave this file's rest to the next file.
            for item in items:
                if item is None:
                    break
    for index, item in enumerate(scan(path)):
        if index >= delivered:
            yield item


_END = "end"
_ERROR = "error"


def _child() -> None:
    """Scan the files named on stdin, with the derived schema given there, and pickle each
    batch's piece to stdout as it comes (our own parent reads them)."""
    order = json.loads(sys.stdin.buffer.read())
    derived = tuple(order["derived"])
    out = sys.stdout.buffer
    for path in order["paths"]:
        for item in scan(Path(path), derived):
            sent: object = item
            if isinstance(item, RecordError):
                # as plain data: the parent makes its own RecordError of it
                sent = (_ERROR, item.line, item.message, item.fix, item.id)
            pickle.dump(sent, out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(_END, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


if __name__ == "__main__":
    # Run the package's copy, so that what is pickled names the package's classes.
    from pytest_evalmix.formats.arrow import _child as child_main

    child_main()
