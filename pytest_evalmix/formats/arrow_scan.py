"""The fast path for Parquet and Arrow files of our own fields: the columns the checks judge on,
a batch at a time, checked as columns with pyarrow's compute functions, big files in a child
interpreter (`formats.parallel`) so pyarrow's buffers never join the loader's memory
(docs/performance.md).
"""

from __future__ import annotations

import os
import sys
import zlib
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_evalmix.errors import RecordError
from pytest_evalmix.formats import arrow, arrow_types, parallel, validators
from pytest_evalmix.model.jsonvalue import not_json
from pytest_evalmix.model.normalise import input_key

MODULE = "pytest_evalmix.formats.arrow_scan"

_REQUIRED = arrow.REQUIRED
_FIELDS = frozenset(
    {"id", "input", "gold", "origin", "label", "synthetic", "review", "tags", "grid", "meta"}
)
# A label with one of these is kept whole, as `fastload.scan` does.
_KEEP = frozenset({"provisional", "checker", "pattern", "adjudicated_by"})


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
    pa = arrow.pyarrow_module()
    if pa is None:
        yield arrow.missing()
        return
    import pyarrow.compute as pc

    # A child is handed the derived schema, and so never imports the model (pydantic itself).
    if derived is None:
        spec, validator = validators.derived(), validators.validator()
    else:
        spec, validator = derived, validators.dict_validator(derived[0])
    assert spec is not None and validator is not None
    first = 1
    try:
        for batch in arrow.batches_of(pa, path):
            batch = arrow_types.decoded(pa, batch)
            if _simple(pa, batch.schema) and arrow_types.finite(pa, pc, batch):
                yield _columns(pa, pc, batch, first, validator, spec)
            else:
                yield _rows(batch, first, validator, spec)
            first += batch.num_rows
    except (OSError, ValueError, TypeError, KeyError) as exc:
        yield arrow.unreadable(path, exc)


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
        raw = arrow.clean(raw)
        try:
            record = validator.validate_python(raw)
        except ValidationError:
            failed.append((row, raw))
            continue
        given = record["input"]
        if (
            record["gold"] is None
            or not given
            or (given.__class__ is str and given.isspace())
            or not_json(record)
        ):
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
    piece.keys.append(input_key(record["input"]))
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
        if synthetic.get("seed_id") is not None:
            piece.seeds[at] = synthetic["seed_id"]
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
_LABEL = {
    "source": "str",
    "by": "str",
    "at": "date",
    "checker": "str",
    "pattern": "str",
    "adjudicated_by": "str",
}
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
    if types.is_timestamp(arrow_type):
        return "timestamp"
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
            or (want in ("date", "time") and kind in ("date", "timestamp"))
            or (want == "number" and kind == "number")
        ):
            return False
    return True


def _simple(pa: Any, schema: Any) -> bool:
    """Whether a batch of this schema can be judged as columns."""
    types = {field.name: field.type for field in schema}
    if not _REQUIRED <= types.keys() or not types.keys() <= _FIELDS:
        return False
    if not arrow_types.json_column(pa, types["gold"]):
        return False
    if "meta" in types and not arrow_types.json_column(pa, types["meta"], False):
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


def _not_a_day(pa: Any, pc: Any, column: Any) -> Any:
    """Rows whose timestamp `Label.at`, a date, refuses: one with a time of day ("datetimes
    provided to dates should have zero time"). A zoned timestamp is tested value by value, as
    the model sees it."""
    if column.type.tz is not None:
        return _bad_values(pa, pc, column, _DATE)
    return pc.not_equal(pc.floor_temporal(column, unit="day"), column)


def _keys(pa: Any, pc: Any, column: Any) -> array[int]:
    """Each row's `model.normalise.input_key`, the plain ASCII rows as columns, the rest by
    `input_key` itself.

    Printable ASCII with no space at either end and no double space inside is its own normal
    form but for case, so its key is the two checksums of its lowered bytes: pyarrow lowers the
    column, the checksums run over it at C speed (`map`), and pyarrow joins the two halves.
    """
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return array("Q", map(input_key, column.to_pylist()))
    plain = pc.and_(
        pc.ascii_is_printable(column),  # (false for any byte beyond ASCII)
        pc.invert(
            pc.or_(
                pc.match_substring_regex(column, "  "),  # (RE2 beats the plain search)
                pc.or_(pc.starts_with(column, " "), pc.ends_with(column, " ")),
            )
        ),
    )
    plain = pc.fill_null(plain, False)
    binary = pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary()
    lowered = pc.if_else(plain, pc.ascii_lower(column), "").cast(binary).to_pylist()
    halves = [
        pa.Array.from_buffers(
            pa.uint32(), len(lowered), [None, pa.py_buffer(array("I", map(checksum, lowered)))]
        ).cast(pa.uint64())
        for checksum in (zlib.crc32, zlib.adler32)
    ]
    joined = pc.bit_wise_or(pc.shift_left(halves[0], 32), halves[1])
    keys = array("Q")
    keys.frombytes(joined.buffers()[1])
    del keys[len(column) :]
    if not pc.all(plain).as_py():
        rows = pc.indices_nonzero(pc.invert(plain))
        for row, value in zip(rows.to_pylist(), pc.take(column, rows).to_pylist(), strict=True):
            keys[row] = input_key(value)
    return keys


def _interned(pc: Any, column: Any) -> list[str | None]:
    """A string column as Python strings, one interned object per distinct value."""
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    values = [
        sys.intern(value) if value is not None else None for value in encoded.dictionary.to_pylist()
    ]
    return list(map(values.__getitem__, encoded.indices.to_pylist()))


def _codes(pa: Any, indices: Any) -> array[int]:
    """An index column (every value found) as one-byte codes."""
    codes = array("B")
    codes.frombytes(indices.cast(pa.uint8()).buffers()[1])
    del codes[len(indices) :]
    return codes


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
    if "at" in label_fields:
        at_kind = _kind(pa, label.type.field("at").type)
        if at_kind == "str":
            tests.append(_bad_values(pa, pc, field(label, "at"), _DATE))
        elif at_kind == "timestamp":
            tests.append(_not_a_day(pa, pc, field(label, "at")))
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
                kept[row] = validator.validate_python(arrow.clean(raw))
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
            (first + row, arrow.clean(raw))
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
    piece.keys = _keys(pa, pc, column("input"))
    piece.lines = lines
    piece.whole = kept
    origins = pc.index_in(column("origin"), value_set=pa.array(spec[1]))
    sources = pc.index_in(field(label, "source"), value_set=pa.array(spec[2]))
    piece.origins.codes.extend(_codes(pa, origins))
    piece.sources.codes.extend(_codes(pa, sources))
    by = field(label, "by") if "by" in label_fields else None
    if "synthetic" in names and pa.types.is_struct(column("synthetic").type):
        synthetic = column("synthetic")
        present = pc.is_valid(synthetic)
        if pc.any(present).as_py():
            rows = pc.indices_nonzero(present)
            generators = _interned(pc, pc.take(field(synthetic, "generator"), rows))
            bys = _interned(pc, pc.take(by, rows)) if by is not None else [None] * len(rows)
            pairs = zip(generators, bys, strict=True)
            piece.generated.update(zip(rows.to_pylist(), pairs, strict=True))
            if synthetic.type.get_field_index("seed_id") >= 0:
                seed_ids = pc.take(field(synthetic, "seed_id"), rows).to_pylist()
                piece.seeds.update(
                    (row, seed)
                    for row, seed in zip(rows.to_pylist(), seed_ids, strict=True)
                    if seed is not None
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
    """One child interpreter (`formats.parallel`) that scans the big files of a set in order
    (see `CHILD_BYTES`).

    Started before the loader reaches those files, it spends its start-up (imports) while the
    files before them are read, then runs ahead of the loader by a pipe's worth of batches.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        spec = {"derived": validators.derived(), "paths": [str(path) for path in paths]}
        self.child = parallel.start(MODULE, spec)
        self.stream = self.child.items() if self.child is not None else iter(())

    def items(self) -> Iterator[tuple[Any, list[tuple[int, dict[str, Any]]]] | RecordError | None]:
        """The next file's items, then None once the child has said that file is done."""
        for item in self.stream:
            if item == _FILE_END:
                yield None
                return
            if isinstance(item, tuple) and item[0] == _ERROR:
                yield RecordError(*item[1:])
            else:
                yield item
        self.close()

    def close(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None
        self.stream = iter(())


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


_FILE_END = "file-end"
_ERROR = "error"


def child_job(order: dict[str, Any]) -> Iterator[Any]:
    """A child's work (`parallel.serve`): each batch's piece of each file, as it comes, then
    `_FILE_END` after each file."""
    derived = tuple(order["derived"])
    for path in order["paths"]:
        for item in scan(Path(path), derived):
            if isinstance(item, RecordError):
                # as plain data: the parent makes its own RecordError of it
                yield (_ERROR, item.line, item.message, item.fix, item.id)
            else:
                yield item
        yield _FILE_END


if __name__ == "__main__":
    # The package's copy, so that what is pickled names the package's classes.
    from pytest_evalmix.formats.arrow_scan import child_job as job

    parallel.serve(job)
