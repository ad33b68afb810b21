"""Loading an eval set: the manifest, its policy and its records, in one validated pass.

Memory must grow with the number of ids, not the bytes of the inputs (a million-example set is
about 270 MB of JSONL), so an `EvalSet` keeps records as columns of the few fields that the
checks judge on, with strings interned. Records that carry more than a plain human label
(programmatic, llm, provisional) are the exception and are kept whole. A check that really needs
every input and gold streams them again with `EvalSet.examples`.
"""

from __future__ import annotations

import os
import sys
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_evalmix.files import safe_yaml as yamlsafe
from pytest_evalmix.files.paths import bad_name, display_path, inside
from pytest_evalmix.files.paths import expand as _expand
from pytest_evalmix.files.paths import outside_finding as _outside
from pytest_evalmix.formats import arrow as arrowread
from pytest_evalmix.formats import fastload, presets
from pytest_evalmix.formats.presets import NO_MAP, FieldMap
from pytest_evalmix.formats.readers import (
    SUFFIXES,
    RecordError,
    decode_error,
    guess_id,
    not_an_object,
    parse_json_line,
    read,
)
from pytest_evalmix.model import policy as policy_mod
from pytest_evalmix.model.columns import Column, GridKey
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import Policy, PolicyError, suggest
from pytest_evalmix.model.records import (
    EXAMPLE_KEYS,
    ORIGINS,
    SOURCES,
    DataFile,
    Example,
    Manifest,
    ResultsSpec,
)
from pytest_evalmix.model.text import escape


class ManifestError(Exception):
    """A manifest that cannot be read: a collection error, reported as ``path:line: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        path, message = escape(path), escape(message)  # both may quote the data
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Source:
    """One record file of an eval set, with how its keys map to ours."""

    path: Path
    display: str
    fields: FieldMap
    defaults: Mapping[str, Any]
    manifest_line: int

    @property
    def plain(self) -> bool:
        """True when records can go straight from bytes to the model, the fast path."""
        return self.fields.plain and not self.defaults

    @property
    def plain_jsonl(self) -> bool:
        """A plain JSONL file: each line's keys are the record's own."""
        return self.plain and self.path.suffix.lower() == ".jsonl"

    @property
    def plain_arrow(self) -> bool:
        """A plain Parquet or Arrow file (or dataset folder): columns of our own fields."""
        suffix = self.path.suffix.lower()
        return self.plain and (
            suffix in arrowread.SUFFIXES or (suffix not in SUFFIXES and self.path.is_dir())
        )


@dataclass
class EvalSet:
    """A loaded eval set: what the checks judge. Rows are indexed 0..len-1 in file order."""

    name: str
    manifest: str
    manifest_path: Path
    rootdir: Path
    policy: Policy
    files: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    origins: Column[str] = field(default_factory=lambda: Column.of(ORIGINS))
    sources: Column[str] = field(default_factory=lambda: Column.of(SOURCES))
    # Each row's grid cell, as written (None: no grid): a code per row, a few hundred cells.
    cells: Column[GridKey | None] = field(default_factory=lambda: Column.of([None]))
    # The manifest line that declares the coverage grid, for findings about a cell.
    coverage_line: int = 1
    # Sparse by row, since most rows have neither: (synthetic.generator, label.by) of every
    # synthetic row, and (review.decision, review.by) of every reviewed row.
    generated: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    reviews: dict[int, tuple[str, str]] = field(default_factory=dict)
    file_index: array[int] = field(default_factory=lambda: array("H"))
    lines: array[int] = field(default_factory=lambda: array("I"))
    kept: dict[int, Example] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    results: str | None = None
    results_path: Path | None = None
    # SPEC §6: whose output the results file is, and the score an Inspect sample must reach
    results_format: str = "evalmix"
    results_threshold: float = 1.0
    inline: list[tuple[int, Any]] = field(default_factory=list)
    _sources: list[Source] = field(default_factory=list)
    _inline_source: Source = field(default_factory=lambda: Source(Path(), "", NO_MAP, {}, 0))

    def __len__(self) -> int:
        return len(self.ids)

    def location(self, row: int) -> tuple[str, int]:
        return self.files[self.file_index[row]], self.lines[row]

    def finding(self, row: int, message: str, fix: str, check: str) -> Finding:
        """A finding about one record, pointing at its file and line."""
        path, line = self.location(row)
        return Finding(path, line, self.ids[row], message, fix, check)

    def examples(self) -> Iterator[tuple[int, Example]]:
        """Stream every valid record again, whole, in row order.

        This re-reads the files: use it only for a check that needs every input or gold. Rows
        dropped at load (invalid records, repeated ids) are skipped by matching locations.
        """
        for file_no, row, end in self._spans():
            yield from self._examples_of(file_no, row, end)

    def golds(self, source: str) -> Iterator[tuple[int, Any]]:
        """Stream ``(row, gold)`` for the rows whose label source is ``source``, in row order.

        Like `examples` this re-reads the files, but a plain JSONL line gives up only its gold
        (the JSON parser skips the rest, and no model is built), which makes the pass several
        times cheaper on a big set. Other files go through the model as in `examples`.
        """
        wanted = self.sources.codebook.get(source)
        if wanted is None:
            return
        codes = self.sources.codes
        for file_no, row, end in self._spans():
            if wanted not in codes[row:end]:
                continue
            if file_no and self._sources[file_no - 1].plain_jsonl:
                yield from self._jsonl_golds(file_no, row, end, wanted)
            else:
                for at, example in self._examples_of(file_no, row, end):
                    if codes[at] == wanted:
                        yield at, example.gold

    def _spans(self) -> Iterator[tuple[int, int, int]]:
        """``(file number, first row, end row)`` of each file that holds rows, in row order:
        the loader appends rows file by file (inline examples, number 0, first)."""
        file_index, total = self.file_index, len(self.ids)
        row = 0
        while row < total:
            file_no, end = file_index[row], row + 1
            while end < total and file_index[end] == file_no:
                end += 1
            yield file_no, row, end
            row = end

    def _examples_of(self, file_no: int, row: int, end: int) -> Iterator[tuple[int, Example]]:
        """Rows ``row..end-1`` of file ``file_no``, read again through the model."""
        allow_extra = self.policy.schema_.extra == "allow"
        if file_no:
            records = _source_records(self._sources[file_no - 1], allow_extra)
        else:
            records = _inline_records(self.inline, self._inline_source, allow_extra)
        lines = self.lines
        for line, example in records:
            if row == end:
                return
            if isinstance(example, Example) and lines[row] == line:
                yield row, example
                row += 1

    def _jsonl_golds(
        self, file_no: int, row: int, end: int, wanted: int
    ) -> Iterator[tuple[int, Any]]:
        """The golds of rows ``row..end-1`` of a plain JSONL file, of label source ``wanted``."""
        codes, lines = self.sources.codes, self.lines
        read_gold = fastload.gold_validator().validate_json
        try:
            with self._sources[file_no - 1].path.open("rb") as handle:
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

    def _add(self, file_no: int, line: int, example: Example) -> None:
        row = len(self.ids)
        label = example.label
        self.ids.append(example.id)
        self.origins.append(example.origin)
        self.sources.append(label.source)
        grid = example.grid if self.policy.coverage.axes else None
        self.cells.append(tuple(grid.items()) if grid else None)
        synthetic = example.synthetic
        if synthetic is not None:
            by = sys.intern(label.by) if label.by is not None else None
            self.generated[row] = (sys.intern(synthetic.generator), by)
        review = example.review
        if review is not None:
            self.reviews[row] = (review.decision, sys.intern(review.by))
        self.file_index.append(file_no)
        self.lines.append(line)
        if label.source != "human" or label.provisional or label.checker or label.pattern:
            self.kept[row] = example


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
    the records later (`load.git` puts the files of a git revision in place in between).
    """
    shown = display_path(manifest_path, rootdir)
    if not inside(manifest_path, rootdir):
        raise ManifestError(
            shown,
            1,
            "the manifest is a symlink that resolves outside the rootdir; it was not read — "
            "put the manifest itself under the project's rootdir",
        )
    manifest, lines = _read_manifest(manifest_path, shown)

    def line_of(*key: Any) -> int:
        return lines.get(key, 1)

    try:
        policy_mod.check_keys(manifest.policy, prefix="policy.")
        effective = policy_mod.build(project_policy, manifest.policy)
    except PolicyError as exc:
        parts = tuple(int(p) if p.isdigit() else p for p in exc.key.split("."))
        if parts[0] != "policy":
            parts = ("policy", *parts)
        while parts and parts not in lines:
            parts = parts[:-1]
        raise ManifestError(shown, lines.get(parts, 1), exc.message) from None

    name = manifest.name or _default_name(manifest_path)
    evalset = EvalSet(
        name=name,
        manifest=shown,
        manifest_path=manifest_path,
        rootdir=rootdir,
        policy=effective,
    )
    base_map = _field_map(manifest.fields, shown, line_of("fields"))
    evalset.coverage_line = line_of("policy", "coverage")
    evalset.files.append(shown)
    evalset._inline_source = Source(manifest_path, shown, base_map, {}, 0)
    evalset.inline = [(line_of("examples", i), raw) for i, raw in enumerate(manifest.examples)]
    here = manifest_path.parent

    for index, entry in enumerate(manifest.data):
        spec = entry if isinstance(entry, DataFile) else DataFile(path=entry)
        entry_line = line_of("data", index)
        mapping = base_map
        if spec.fields is not None:
            mapping = _field_map(spec.fields, shown, line_of("data", index, "fields"))
        defaults = spec.defaults
        if defaults and effective.schema_.extra != "allow":
            # A typo here is one mistake in the manifest, not one per record it fills.
            defaults, typos = _known_defaults(defaults, "", ("data", index, "defaults"), lines)
            evalset.findings.extend(
                Finding(shown, line, None, message, fix) for line, message, fix in typos
            )
        for path in _expand(spec.path, here, rootdir, shown, entry_line, evalset.findings):
            evalset.files.append(display_path(path, rootdir))
            evalset._sources.append(Source(path, evalset.files[-1], mapping, defaults, entry_line))

    if manifest.results is not None:
        spec_results = (
            manifest.results
            if isinstance(manifest.results, ResultsSpec)
            else ResultsSpec(path=manifest.results)
        )
        results = (here / spec_results.path).absolute()
        problem = bad_name(spec_results.path)
        if problem is not None:
            evalset.findings.append(
                Finding(
                    shown,
                    line_of("results"),
                    None,
                    f"results path '{spec_results.path}' {problem}: no file can have that name",
                    "fix the path in the manifest",
                )
            )
        elif not inside(results, rootdir):
            evalset.findings.append(_outside(shown, line_of("results"), spec_results.path))
        else:
            evalset.results = display_path(results, rootdir)
            evalset.results_path = results
            evalset.results_format = spec_results.format
            if spec_results.threshold is not None:
                evalset.results_threshold = spec_results.threshold

    if records:
        _fill(evalset, sharing)
    return evalset


def fill(evalset: EvalSet, sharing: int = 1) -> None:
    """Read the records of a set that `load` resolved with ``records=False``."""
    _fill(evalset, sharing)


def _default_name(path: Path) -> str:
    name = path.name
    for suffix in (".evalmix.yaml", ".evalmix.yml", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _read_manifest(path: Path, shown: str) -> tuple[Manifest, dict[tuple[Any, ...], int]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(shown, 1, f"cannot read the manifest: {exc.strerror}") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ManifestError(shown, line, "non-UTF-8 bytes; re-save the file as UTF-8") from None
    try:
        root = yamlsafe.compose(data)
        raw = yamlsafe.construct(root) if root is not None else None
    except yamlsafe.YamlError as exc:
        raise ManifestError(shown, exc.line, exc.message) from None
    lines = dict(yamlsafe.key_lines(root)) if root is not None else {}
    if not isinstance(raw, dict):
        raise ManifestError(
            shown,
            1,
            "a manifest is a YAML mapping: 'evalmix: 1', then data: with its record files",
        )
    try:
        return Manifest.model_validate(raw), lines
    except ValidationError as exc:
        error, loc = _manifest_error(exc, raw)
        key = ".".join(str(p) for p in loc)
        if error["type"] == "extra_forbidden":
            known = DataFile.model_fields if loc[0] == "data" else Manifest.model_fields
            message = f"unknown manifest key '{key}'{suggest(str(loc[-1]), set(known))}"
        elif error["type"] == "missing":
            message = f"missing required key '{key}'"
            if key == "evalmix":
                message += ": add 'evalmix: 1' (the format version)"
        elif key == "evalmix":
            message = f"unsupported format version {raw.get('evalmix')!r}: this plugin reads 1"
        else:
            message = f"'{key}': {error['msg']}"
        while loc and loc not in lines:
            loc = loc[:-1]
        raise ManifestError(shown, lines.get(loc, 1), message) from None


def _known_defaults(
    defaults: dict[str, Any],
    prefix: str,
    at: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
) -> tuple[dict[str, Any], list[tuple[int, str, str]]]:
    """``defaults`` without its unknown keys, and ``(line, message, fix)`` for each of them."""
    known = EXAMPLE_KEYS.get(prefix)
    if known is None:
        return defaults, []
    kept: dict[str, Any] = {}
    typos: list[tuple[int, str, str]] = []
    for key, value in defaults.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in known:
            typos.append(
                (
                    lines.get((*at, key), lines.get(at, 1)),
                    f"unknown key '{dotted}' in the data entry's defaults{suggest(key, known)}",
                    "rename or remove it (or set policy.schema.extra: allow)",
                )
            )
            continue
        if isinstance(value, dict):
            value, deeper = _known_defaults(value, dotted, (*at, key), lines)
            typos.extend(deeper)
        kept[key] = value
    return kept, typos


def _manifest_error(exc: ValidationError, raw: Any) -> tuple[Any, tuple[Any, ...]]:
    """The error to report, with pydantic's union branches taken out of its location.

    A data entry is a path or a mapping, so a typo inside a mapping entry (``feilds:``) fails
    both branches, and the first error pydantic lists (``data.0.str``) is the branch the user
    did not mean. Keep the errors of the branch that matches the value's type, an unknown key
    first, since it names the typo.
    """
    kept: list[tuple[Any, tuple[Any, ...]]] = []
    for error in exc.errors():
        loc: list[Any] = []
        here, taken = raw, True
        for part in error["loc"]:
            if isinstance(here, dict) and part in here:
                here = here[part]
            elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
                here = here[part]
            elif isinstance(part, str) and part in ("str", "int", "float", "bool"):
                taken = taken and not isinstance(here, (dict, list))  # a scalar branch
                continue
            elif isinstance(part, str) and (part[:1].isupper() or part.startswith("dict[")):
                taken = taken and isinstance(here, dict)  # a model or mapping branch
                continue
            else:
                here = None
            loc.append(part)
        if taken:
            kept.append((error, tuple(loc)))
    if not kept:
        first = exc.errors()[0]
        return first, tuple(first["loc"])
    kept.sort(key=lambda pair: pair[0]["type"] != "extra_forbidden")
    return kept[0]


def _field_map(fields: str | dict[str, str] | None, shown: str, line: int) -> FieldMap:
    """A manifest's ``fields:`` (a preset's name, or our keys -> theirs, maybe with ``preset``)."""
    if fields is None:
        return NO_MAP
    if isinstance(fields, str):
        return FieldMap(_preset(fields, shown, line))
    mapping = dict(fields)
    preset = mapping.pop("preset", None)
    for ours, theirs in mapping.items():
        known = _target_problem(ours)
        if known is not None:
            raise ManifestError(shown, line, f"fields: {known}")
        if not theirs or any(not part for part in theirs.split(".")):
            raise ManifestError(
                shown, line, f"fields: '{ours}' is read from '{theirs}', which is not a key name"
            )
    return FieldMap(_preset(preset, shown, line) if preset is not None else None, mapping)


def _preset(name: str, shown: str, line: int) -> str:
    if name not in presets.PRESETS:
        raise ManifestError(
            shown,
            line,
            f"unknown field preset '{name}'{suggest(name, set(presets.PRESETS))}; "
            f"presets: {', '.join(sorted(presets.PRESETS))}, or a mapping of our key to yours",
        )
    return name


def _target_problem(ours: str) -> str | None:
    """Why ``ours`` names none of our fields, with the nearest one; None when it does."""
    parts = ours.split(".")
    prefix = ""
    for depth, part in enumerate(parts):
        if prefix in ("meta", "grid") and depth:
            return None  # free-form mappings: any key
        known = EXAMPLE_KEYS.get(prefix)
        if known is None or part not in known:
            return f"unknown field '{ours}'{suggest(part, known or set())}"
        prefix = f"{prefix}.{part}" if prefix else part
    return None


def _fill(evalset: EvalSet, sharing: int = 1) -> None:
    """The one validated pass: records into columns, problems into findings.

    Plain JSONL files go through `fastload` (columns straight from a dict validator, in
    parallel when big); everything else goes record by record through the model.
    """
    dedupe = _Dedupe(evalset)
    allow_extra = evalset.policy.schema_.extra == "allow"
    for line, result in _inline_records(evalset.inline, evalset._inline_source, allow_extra):
        dedupe.take(0, line, result)
    fast = {
        number
        for number, source in enumerate(evalset._sources, 1)
        if source.plain_jsonl
        and not allow_extra
        and source.path.is_file()
        and os.access(source.path, os.R_OK)
        and fastload.validator() is not None
    }
    axes = tuple((axis, tuple(values)) for axis, values in evalset.policy.coverage.axes.items())
    pieces = fastload.scan_files(
        [evalset._sources[number - 1].path for number in sorted(fast)], sharing, axes
    )
    numbers = sorted(fast)
    waiting = next(pieces, None)
    columnar = {
        number
        for number, source in enumerate(evalset._sources, 1)
        if source.plain_arrow and not allow_extra and fastload.validator() is not None
    }
    child = arrowread.start([evalset._sources[number - 1].path for number in sorted(columnar)])
    for number, source in enumerate(evalset._sources, 1):
        if number in columnar:
            _fill_arrow(evalset, number, source, dedupe, child)
            continue
        if number not in fast:
            for line, result in _source_records(source, allow_extra):
                dedupe.take(number, line, result)
            continue
        while waiting is not None and numbers[waiting[0]] == number:
            _, offset, piece = waiting
            # The lines the fast path handed back: nearly always errors, but one that only
            # Python's JSON parser reads (a lone surrogate escape) is a row, in its place.
            late: list[tuple[int, Example]] = []
            for line, raw in piece.failed:
                result = _validate_bytes(raw, offset + line)
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
    child: arrowread.Child | None,
) -> None:
    """A Parquet or Arrow file of our own fields: columns a batch at a time, as `fastload`
    gives them for JSONL, so a million rows never become a million models."""
    for item in arrowread.scan_file(source.path, child):
        if isinstance(item, RecordError):
            dedupe.error(number, item)  # the last item: the file is not read further
            continue
        piece, failed = item
        for line, raw in failed:
            dedupe.take(number, line, _validate(raw, line, source, False))
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
            self.evalset._add(file_no, line, result)


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


def _inline_records(
    inline: list[tuple[int, Any]], source: Source, allow_extra: bool
) -> Iterator[tuple[int, Example | RecordError]]:
    for position, (line, raw) in enumerate(inline, 1):
        if not isinstance(raw, dict):
            yield line, not_an_object(line, raw)
        else:
            yield line, _validate(raw, line, source, allow_extra, position)


def _source_records(
    source: Source, allow_extra: bool
) -> Iterator[tuple[int, Example | RecordError]]:
    fast = source.plain and not allow_extra
    collection = "tests" if source.fields.preset == "promptfoo" else "examples"
    try:
        for position, (line, raw) in enumerate(
            read(source.path, raw_jsonl=fast, collection=collection), 1
        ):
            if isinstance(raw, RecordError):
                yield line, raw
            elif isinstance(raw, bytes):
                yield line, _validate_bytes(raw, line)
            else:
                yield line, _validate(raw, line, source, allow_extra, position)
    except OSError as exc:
        yield (
            1,
            RecordError(
                1,
                f"cannot read the file: {exc.strerror or exc}",
                "check that it exists and is readable",
            ),
        )


def _validate_bytes(raw: bytes, line: int) -> Example | RecordError:
    """The fast path: bytes to model in one parse. Only failures pay for a second look."""
    try:
        return Example.model_validate_json(raw)
    except ValidationError:
        pass
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as decode_exc:
        return decode_error(raw, decode_exc, line)
    parsed = parse_json_line(raw, line)
    if isinstance(parsed, RecordError):
        return parsed
    try:  # JSON that pydantic's parser refuses but Python reads (a lone "\ud800" escape)
        return Example.model_validate(parsed)
    except ValidationError as exc:
        return _errors(exc, parsed, line)


def _validate(
    raw: dict[str, Any], line: int, source: Source, allow_extra: bool, position: int = 0
) -> Example | RecordError:
    record = _apply(raw, source, position)
    if allow_extra:
        record = _strip_extra(record)
    try:
        return Example.model_validate(record)
    except ValidationError as exc:
        return _errors(exc, record, line)


def _apply(raw: dict[str, Any], source: Source, position: int = 0) -> dict[str, Any]:
    """Their record as ours: the field map (or preset), then the file's defaults. A preset's
    own proposal (DeepEval's synthesizer marks) fills a field only when neither the record nor
    the defaults give it."""
    if source.plain:
        return raw
    if source.fields.plain:
        record = raw
    else:
        converted = presets.apply(raw, source.fields, position)
        record = converted.record
        for key, value in converted.fallback.items():
            if key not in record and key not in source.defaults:
                record[key] = value
    if source.defaults:
        record = policy_mod.merge(source.defaults, record)
    return record


def _strip_extra(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    known = EXAMPLE_KEYS.get(prefix)
    if known is None:
        return record
    kept: dict[str, Any] = {}
    for key, value in record.items():
        if key not in known:
            continue
        sub = f"{prefix}.{key}" if prefix else key
        kept[key] = _strip_extra(value, sub) if isinstance(value, dict) else value
    return kept


# Error messages by pydantic error type: what is wrong, and what to do.
_FIXES = {
    "missing": "add it",
    "literal_error": "use one of the allowed values",
    "date_from_datetime_parsing": "write dates as ISO 8601, e.g. 2026-12-31",
    "date_parsing": "write dates as ISO 8601, e.g. 2026-12-31",
    "date_type": "write dates as ISO 8601, e.g. 2026-12-31",
    "datetime_parsing": "write times as ISO 8601, e.g. 2026-12-31T14:30:00Z",
    "datetime_from_date_parsing": "write times as ISO 8601, e.g. 2026-12-31T14:30:00Z",
}


def _errors(exc: ValidationError, record: Any, line: int) -> RecordError:
    """Turn pydantic's errors for one record into one finding naming every problem."""
    rid = record.get("id") if isinstance(record, dict) else None
    rid = rid if isinstance(rid, str) and rid else None
    problems: list[str] = []
    fixes: list[str] = []
    seen: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        if loc[-2:-1] == ["at"] and loc[-1] in ("datetime", "date"):
            loc.pop()  # review.at is a time or a date: one problem, not one per union branch
        if ".".join(loc) in seen:
            continue
        seen.add(".".join(loc))
        kind = error["type"]
        if kind.endswith("_type") and error.get("input", "") is None and loc:
            kind = "missing"  # `name: null` under a field map reads as a missing id, as in CSV
        if kind in ("model_type", "dict_type") and not loc:
            return RecordError(line, "record is not an object", "write each record as a mapping")
        key = ".".join(loc)
        if kind == "extra_forbidden":
            parent = ".".join(loc[:-1])
            known = EXAMPLE_KEYS.get(parent, set())
            problems.append(f"unknown key '{key}'{suggest(loc[-1], known)}")
            fixes.append("rename or remove it (or set policy.schema.extra: allow)")
        elif kind == "missing":
            problems.append(f"missing required field '{key}'")
            fixes.append(f"add '{key}'")
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            problems.append(f"{key} is {_short(error.get('input'))}, expected {expected}")
            fixes.append(f"set {key} to one of {expected}")
        elif kind.startswith("date") or kind.startswith("datetime"):
            problems.append(f"{key} is not a valid date: {_short(error.get('input'))}")
            fixes.append(_FIXES.get(kind, "write dates as ISO 8601, e.g. 2026-12-31"))
        elif kind == "string_unicode":
            problems.append(f"{key} is not valid Unicode text (got {_short(error.get('input'))})")
            fixes.append(f"remove the unpaired surrogate escape (\\ud800-\\udfff) from {key}")
        elif kind == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(message if key in message else f"{key}: {message}")
            fixes.append(f"give {key} a real value")
        else:
            problems.append(f"{key}: {error['msg'].lower()} (got {_short(error.get('input'))})")
            fixes.append(f"fix {key}")
    unique_fixes = list(dict.fromkeys(fixes))
    return RecordError(line, "; ".join(problems), "; ".join(unique_fixes), id=rid)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["EvalSet", "ManifestError", "display_path", "guess_id", "inside", "load"]
