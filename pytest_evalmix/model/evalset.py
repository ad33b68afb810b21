"""A loaded eval set as data: `EvalSet`, its record files (`Source`) and their field maps.

Memory must grow with the number of ids, not the bytes of the inputs (a million-example set is
about 270 MB of JSONL), so an `EvalSet` keeps records as columns of the few fields that the
checks judge on, with strings interned. Records that carry more than a plain human label
(programmatic, llm, provisional, annotated) are the exception and are kept whole. Reading is
elsewhere (`pytest_evalmix.evalset`): this module does no I/O (docs/architecture.md).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_evalmix.model.columns import Column, GridKey
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.normalise import input_key
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.model.records import ORIGINS, SOURCES, Example


@dataclass(frozen=True)
class FieldMap:
    """How one file's records become ours: a preset, explicit entries, or both."""

    preset: str | None = None
    # our dotted key -> their dotted key
    mapping: Mapping[str, str] = field(default_factory=dict)

    @property
    def plain(self) -> bool:
        return self.preset is None and not self.mapping


NO_MAP = FieldMap()


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
    # Sparse by row: the synthetic.seed_id of each paraphrase that names its seed.
    seeds: dict[int, str] = field(default_factory=dict)
    file_index: array[int] = field(default_factory=lambda: array("H"))
    lines: array[int] = field(default_factory=lambda: array("I"))
    # Each row's `model.normalise.input_key`: what `duplicates` and `leakage` group by, 8 bytes
    # a row. Every loader fills it beside `ids`.
    input_keys: array[int] = field(default_factory=lambda: array("Q"))
    kept: dict[int, Example] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # The ``leakage.against`` files: training data, few-shot examples, prompts (docs/checks.md),
    # and what resolving them found wrong (reported by ``leakage``).
    against: list[Source] = field(default_factory=list)
    against_findings: list[Finding] = field(default_factory=list)
    # The manifest's `split` (dev, test, ...): sets of different splits share no input.
    split: str | None = None
    results: str | None = None
    results_path: Path | None = None
    # whose output the results file is, and the score an Inspect sample must reach (docs/interop.md)
    results_format: str = "evalmix"
    results_threshold: float = 1.0
    inline: list[tuple[int, Any]] = field(default_factory=list)
    # The record files, in the order of `files` after the manifest (file number n is
    # record_files[n - 1]), and how the manifest's inline examples map to ours (file number 0).
    record_files: list[Source] = field(default_factory=list)
    inline_source: Source = field(default_factory=lambda: Source(Path(), "", NO_MAP, {}, 0))

    def __len__(self) -> int:
        return len(self.ids)

    def location(self, row: int) -> tuple[str, int]:
        return self.files[self.file_index[row]], self.lines[row]

    def finding(self, row: int, message: str, fix: str, check: str) -> Finding:
        """A finding about one record, pointing at its file and line."""
        path, line = self.location(row)
        return Finding(path, line, self.ids[row], message, fix, check)

    def spans(self) -> Iterator[tuple[int, int, int]]:
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

    def add(self, file_no: int, line: int, example: Example) -> None:
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
            if synthetic.seed_id is not None:
                self.seeds[row] = synthetic.seed_id
        review = example.review
        if review is not None:
            self.reviews[row] = (review.decision, sys.intern(review.by))
        self.file_index.append(file_no)
        self.lines.append(line)
        self.input_keys.append(input_key(example.input))
        if (
            label.source != "human"
            or label.provisional
            or label.checker
            or label.pattern
            or label.annotations is not None
            or label.adjudicated_by is not None
        ):
            self.kept[row] = example
