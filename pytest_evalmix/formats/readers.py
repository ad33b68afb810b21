"""Reading record files: every format of docs/formats.md, streamed, with the line of every record.

Each reader yields ``(line, raw)`` pairs where ``raw`` is the record as plain data, or a
`RecordError` for something that could not be read. Validation is elsewhere, so one bad record
costs exactly one finding and the readers never stop early on it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from pytest_evalmix.errors import RecordError
from pytest_evalmix.files import safe_yaml as yamlsafe
from pytest_evalmix.model.defaults import RECORD_SUFFIXES

Raw = dict[str, Any] | bytes | RecordError
"""A reader's item: a parsed record, a raw JSONL line left for the fast validator, or an error."""

SUFFIXES = RECORD_SUFFIXES
UTF8_FIX = "re-save the file as UTF-8"


def read(path: Path, *, raw_jsonl: bool, collection: str = "examples") -> Iterator[tuple[int, Raw]]:
    """Dispatch on the suffix. With ``raw_jsonl`` JSONL lines come back as bytes, unparsed,
    so the caller can validate them in one pass with pydantic's JSON parser. ``collection`` is
    the key of a YAML mapping that holds the records (promptfoo's config holds ``tests:``)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _jsonl(path, raw=raw_jsonl)
    elif suffix == ".json":
        yield from _json(path)
    elif suffix in (".yaml", ".yml"):
        yield from _yaml(path, collection)
    elif suffix in (".parquet", ".arrow") or (suffix not in SUFFIXES and path.is_dir()):
        from pytest_evalmix.formats import arrow as arrowread  # pyarrow only when read

        yield from arrowread.rows(path)
    elif suffix == ".csv":
        yield from _csv(path)
    else:
        yield (
            1,
            RecordError(
                1,
                f"unsupported data file type '{suffix or path.name}'",
                f"use one of {', '.join(SUFFIXES)}",
            ),
        )


# The first line of every Git LFS pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_MAGIC = b"version https://git-lfs.github.com/spec/v1"
# A pointer is three or four short lines; a data file is seldom this small.
LFS_MAX = 1024
LFS_MESSAGE = "a Git LFS pointer, not data"


def lfs_pointer(path: Path) -> RecordError | None:
    """The finding for a data file that is a Git LFS pointer (a checkout without ``git lfs
    pull``, or a revision read with git), so that it is one line that says what to do, and not
    a "malformed JSON" line per line of the pointer (docs/formats.md)."""
    try:
        if path.is_dir() or path.stat().st_size > LFS_MAX:
            return None
        with path.open("rb") as handle:
            head = handle.read(len(LFS_MAGIC))
    except OSError:
        return None
    if head != LFS_MAGIC:
        return None
    return RecordError(
        1,
        LFS_MESSAGE,
        "run `git lfs pull`; in GitHub Actions check out with `lfs: true`",
    )


def not_an_object(line: int, value: Any) -> RecordError:
    return RecordError(
        line,
        f"record is not an object (got {_json_type(value)})",
        "write each record as a mapping with id, input, gold, origin and label",
    )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__


def decode_error(raw: bytes, exc: UnicodeDecodeError, line: int) -> RecordError:
    return RecordError(
        line,
        f"non-UTF-8 bytes at byte {exc.start + 1} of the line",
        UTF8_FIX,
        id=guess_id(raw.decode("utf-8", "replace")),
    )


def beyond_limits(exc: BaseException, line: int, rid: str | None = None) -> RecordError:
    """Valid JSON that Python will not read: nesting past the recursion limit, or an integer
    of more than 4300 digits (CPython's guard against quadratic conversion)."""
    what = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
    return RecordError(
        line,
        f"JSON {what} to read",
        "flatten the value, or write the number as a string",
        id=rid,
    )


def parse_json_line(raw: bytes, line: int) -> dict[str, Any] | RecordError:
    """The slow path for one JSONL line: decode, parse, and name what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return decode_error(raw, exc, line)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return RecordError(
            line,
            f"malformed JSON at column {exc.colno}: {exc.msg}",
            "fix the JSON syntax; each line of a .jsonl file is one complete JSON object",
            id=guess_id(text),
        )
    except (RecursionError, ValueError) as exc:
        return beyond_limits(exc, line, guess_id(text))
    if not isinstance(value, dict):
        return not_an_object(line, value)
    return value


def guess_id(text: str) -> str | None:
    """Best-effort id of a record that does not parse, so its finding can still name it."""
    marker = '"id"'
    at = text.find(marker)
    if at < 0:
        return None
    rest = text[at + len(marker) :].lstrip()
    if not rest.startswith(":"):
        return None
    rest = rest[1:].lstrip()
    if not rest.startswith('"'):
        return None
    end = rest.find('"', 1)
    return rest[1:end] if 1 < end <= 200 else None


def _jsonl(path: Path, *, raw: bool) -> Iterator[tuple[int, Raw]]:
    with path.open("rb") as handle:
        for line, data in enumerate(handle, 1):
            if not data.strip():
                continue
            yield line, data if raw else parse_json_line(data, line)


def _json(path: Path) -> Iterator[tuple[int, Raw]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        yield line, RecordError(line, "non-UTF-8 bytes in the file", UTF8_FIX)
        return
    decoder = json.JSONDecoder()
    size = len(text)

    def skip(at: int) -> int:
        while at < size and text[at] in " \t\r\n":
            at += 1
        return at

    def line_at(at: int) -> int:
        return text.count("\n", 0, at) + 1

    def malformed(exc: json.JSONDecodeError) -> RecordError:
        return RecordError(
            exc.lineno,
            f"malformed JSON at column {exc.colno}: {exc.msg}",
            "fix the JSON syntax; a .json data file holds one list of records",
        )

    at = skip(0)
    if at < size and text[at] == "{" and _json_lines(text):
        # Hugging Face's Dataset.to_json writes JSON Lines under a .json name by default.
        yield from _jsonl(path, raw=False)
        return
    if at >= size or text[at] != "[":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield exc.lineno, malformed(exc)
            return
        except (RecursionError, ValueError) as exc:
            yield 1, beyond_limits(exc, 1)
            return
        yield (
            1,
            RecordError(
                1,
                f"a .json data file must hold a list of records, not {_json_type(value)}",
                "wrap the records in [ ... ], or use .jsonl with one record per line",
            ),
        )
        return
    at = skip(at + 1)
    line_no, counted_to = 1, 0
    first = True
    while True:
        if at < size and text[at] == "]":
            if skip(at + 1) < size:
                bad = skip(at + 1)
                yield (
                    line_at(bad),
                    RecordError(line_at(bad), "extra data after the list", "remove it"),
                )
            return
        if not first:
            if at >= size or text[at] != ",":
                line = line_at(min(at, size))
                yield (
                    line,
                    RecordError(line, "malformed JSON: expected ',' or ']'", "fix the JSON syntax"),
                )
                return
            at = skip(at + 1)
        first = False
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            yield exc.lineno, malformed(exc)
            return
        except (RecursionError, ValueError) as exc:
            yield line_at(at), beyond_limits(exc, line_at(at))
            return
        line_no += text.count("\n", counted_to, at)
        counted_to = at
        yield line_no, value if isinstance(value, dict) else not_an_object(line_no, value)
        at = skip(end)


def _json_lines(text: str) -> bool:
    """Whether a .json file that starts with an object holds JSON Lines: one object a line
    (a lone object on one line too), rather than one object spread over many lines."""
    lines = text.strip().splitlines()
    if len(lines) == 1:
        return True
    try:
        first = json.loads(lines[0])
    except (ValueError, RecursionError):
        return False
    return isinstance(first, dict)


def _yaml(path: Path, collection: str = "examples") -> Iterator[tuple[int, Raw]]:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        yield line, RecordError(line, "non-UTF-8 bytes in the file", UTF8_FIX)
        return
    try:
        root = yamlsafe.compose(data)
    except yamlsafe.YamlError as exc:
        yield exc.line, RecordError(exc.line, exc.message, "fix the YAML; it was not loaded")
        return
    if root is None:
        return
    items: list[Any]
    if isinstance(root, SequenceNode):
        items = list(root.value)
    elif isinstance(root, MappingNode) and collection != "examples":
        # another tool's file (promptfoo's config): the records are one of its keys
        keys = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
        seq = keys.get(collection)
        if not isinstance(seq, SequenceNode):
            line = yamlsafe.line_of(seq if seq is not None else root)
            yield (
                line,
                RecordError(
                    line,
                    f"no '{collection}:' list in this file",
                    f"list the records under '{collection}:', or name the file that holds them",
                ),
            )
            return
        items = list(seq.value)
    elif isinstance(root, MappingNode):
        keys = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
        other = sorted(str(k) for k in keys if k != "examples")
        if other or "examples" not in keys:
            line = yamlsafe.line_of(root)
            yield (
                line,
                RecordError(
                    line,
                    "a YAML data file holds a list of records, or a mapping with only 'examples:'"
                    + (f" (found {', '.join(other)})" if other else ""),
                    "put the records under 'examples:'",
                ),
            )
            return
        seq = keys["examples"]
        if not isinstance(seq, SequenceNode):
            line = yamlsafe.line_of(seq)
            yield line, RecordError(line, "'examples:' is not a list", "make it a list of records")
            return
        items = list(seq.value)
    else:
        line = yamlsafe.line_of(root)
        yield (
            line,
            RecordError(
                line, "a YAML data file must hold a list of records", "make it a list of records"
            ),
        )
        return
    for node in items:
        line = yamlsafe.line_of(node)
        try:
            value = yamlsafe.construct(node)
        except yamlsafe.YamlError as exc:
            yield line, RecordError(exc.line, exc.message, "fix the YAML value")
            continue
        if isinstance(value, str) and value.startswith("file://"):
            yield (
                line,
                RecordError(
                    line,
                    f"'{value[:120]}' refers to another file; its records are not read from here",
                    "name that file as a data entry of the manifest, with the same fields:",
                ),
            )
            continue
        yield line, value if isinstance(value, dict) else not_an_object(line, value)


def _csv(path: Path) -> Iterator[tuple[int, Raw]]:
    # surrogateescape keeps reading past a bad byte, so one bad row costs one finding.
    # utf-8-sig: a spreadsheet's export starts with a byte-order mark, which is not a column.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield 1, RecordError(1, f"malformed CSV header: {exc}", "fix the header row")
            return
        if header is None:
            return
        if any(_has_surrogate(cell) for cell in header):
            yield 1, RecordError(1, "non-UTF-8 bytes in the header", UTF8_FIX)
            return
        columns = [cell.strip() for cell in header]
        seen: set[str] = set()
        for column in columns:
            if not column or column in seen:
                what = "an empty column name" if not column else f"column '{column}' twice"
                yield 1, RecordError(1, f"the CSV header has {what}", "fix the header row")
                return
            seen.add(column)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader cannot resync after a quoting error, so the rows after it are not
                # read: say so, rather than let them vanish.
                fix = (
                    "shorten the field (or move long text to a .jsonl file)"
                    if "field larger than field limit" in str(exc)
                    else "fix the row's quoting"
                )
                yield (
                    start,
                    RecordError(
                        start,
                        f"malformed CSV: {exc}; the rows after it were not read",
                        fix,
                    ),
                )
                return
            if not any(cell.strip() for cell in row):
                continue
            yield start, _csv_record(columns, row, start)


def _has_surrogate(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _csv_record(columns: list[str], row: list[str], line: int) -> Raw:
    if any(_has_surrogate(cell) for cell in row):
        id_at = columns.index("id") if "id" in columns else -1
        rid = row[id_at] if 0 <= id_at < len(row) and not _has_surrogate(row[id_at]) else None
        return RecordError(line, "non-UTF-8 bytes in the row", UTF8_FIX, id=rid)
    if len(row) > len(columns):
        return RecordError(
            line,
            f"the row has {len(row)} cells but the header has {len(columns)}",
            "quote cells that contain commas, or remove the extra cells",
        )
    record: dict[str, Any] = {}
    for column, cell in zip(columns, row, strict=False):
        if cell == "":
            continue
        value: Any = cell
        if column == "tags":
            value = [tag.strip() for tag in cell.split(";") if tag.strip()]
        set_dotted(record, column, value)
    return record


def set_dotted(record: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested mappings, creating them as needed."""
    *parents, last = dotted.split(".")
    here = record
    for part in parents:
        child = here.get(part)
        if not isinstance(child, dict):
            child = {}
            here[part] = child
        here = child
    here[last] = value
