"""`evalmix propose`: the proposing half of propose-and-dispose (docs/cli.md).

The synthesizer rewrites the set's seeds (its production inputs by default) into candidate
records for `evalmix review`. A candidate has an input and where it came from, and no gold: the
model synthesizes the input, a person labels the output. A queue is self-contained: each
candidate carries its seed (``seed: {id, input, gold}``) so review can show it beside the
candidate, and drops it when the record goes into the set.

Candidate ids are ``syn-<seed id>-<8 hex of the text's hash>``: the same text from the same seed
always gets the same id, so rerunning propose (with another ``--n``, or after a cache refresh)
never gives an id to a different text, and a review resumes correctly against the new queue.

With a coverage grid, the seeds may come from chosen cells (``--cell feature=billing``) or from
every cell short of ``coverage.min_per_cell`` (``--fill``): "synthetic fills coverage gaps" in
one command, and a person still disposes. Such candidates carry their seed's cell as ``grid``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_evalmix.checks.outcomes import coverage
from pytest_evalmix.checks.records.similar import near_pairs
from pytest_evalmix.evalset.sources import examples
from pytest_evalmix.evalset.sources import inputs as read_inputs
from pytest_evalmix.files.atomic import write_atomic
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.normalise import key_of_normal, normal_form
from pytest_evalmix.model.policy import suggest
from pytest_evalmix.state import ledger

if TYPE_CHECKING:
    from pytest_evalmix.synth.synthesizer import Synthesizer

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Seed:
    id: str
    input: str
    gold: Any
    grid: Mapping[str, str] | None = None


@dataclass
class Seeds:
    seeds: list[Seed] = field(default_factory=list)
    not_text: list[str] = field(default_factory=list)
    invalid: int = 0


def seeds_of(
    evalset: EvalSet, origin: str, limit: int | None, cells: set[int] | None = None
) -> Seeds:
    """The records of ``origin`` that can be paraphrased, in file order, at most ``limit``;
    with ``cells`` (indices of `coverage.cells_of`), only those placed in one of them.

    Only text inputs can be paraphrased; a structured input (a query, a mapping) is left out and
    named, rather than sent to the model as JSON it would rewrite into something else.
    """
    found = Seeds(invalid=len(evalset.findings))
    wanted = {row for row, o in enumerate(evalset.origins) if o == origin}
    grids: dict[int, dict[str, str]] = {}
    if cells is not None:
        grids = {row: cell for row, cell in cell_rows(evalset, cells).items() if row in wanted}
        wanted = set(grids)
    if not wanted:
        return found
    for row, example in examples(evalset):
        if row not in wanted:
            continue
        if limit is not None and len(found.seeds) >= limit:
            break
        if isinstance(example.input, str) and example.input.strip() and _text(example.input):
            found.seeds.append(Seed(example.id, example.input, example.gold, grids.get(row)))
        else:
            found.not_text.append(example.id)
    return found


def _text(value: str) -> bool:
    """A lone surrogate (``"\\ud800"`` is valid JSON) is not text: it cannot be sent or saved."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class CellError(ValueError):
    """A ``--cell`` that names no cell of the declared grid; the message says why."""


def select_cells(evalset: EvalSet, spec: str) -> set[int]:
    """The cells ``axis=value,...`` names: one cell, or a slice when some axes are left out."""
    axes = evalset.policy.coverage.axes
    if not axes:
        raise CellError(
            f"{evalset.manifest} declares no coverage grid (policy coverage.axes), so there is "
            "no cell to choose"
        )
    chosen: dict[str, str] = {}
    for part in spec.split(","):
        axis, equals, value = part.partition("=")
        axis, value = axis.strip(), value.strip()
        if not equals or not axis or not value:
            raise CellError(f"--cell {spec!r}: write each axis as axis=value, e.g. feature=billing")
        if axis not in axes:
            raise CellError(
                f"--cell: {axis!r} is not an axis of the grid{suggest(axis, set(axes))}; the "
                f"axes are {', '.join(axes)}"
            )
        if value not in axes[axis]:
            raise CellError(
                f"--cell: {value!r} is not a value of {axis}{suggest(value, set(axes[axis]))}; "
                f"its values are {', '.join(axes[axis])}"
            )
        if chosen.get(axis, value) != value:
            raise CellError(f"--cell: {axis} is given twice")
        chosen[axis] = value
    return {
        index
        for index, cell in enumerate(coverage.cells_of(axes))
        if all(cell[axis] == value for axis, value in chosen.items())
    }


@dataclass(frozen=True)
class Short:
    """A cell below ``coverage.min_per_cell``."""

    index: int
    cell: dict[str, str]
    total: int
    production: int


def short_cells(evalset: EvalSet) -> list[Short]:
    """The cells of the declared grid that hold fewer than ``coverage.min_per_cell`` examples,
    as the ``coverage`` check counts them."""
    axes = evalset.policy.coverage.axes
    placement = coverage.place(evalset, axes)
    cells = [coverage.Cell(cell) for cell in coverage.cells_of(axes)]
    coverage.count(evalset, placement, cells)
    minimum = evalset.policy.coverage.min_per_cell
    return [
        Short(index, cell.cell, cell.total, cell.counts["production"])
        for index, cell in enumerate(cells)
        if cell.total < minimum
    ]


def cell_rows(evalset: EvalSet, cells: set[int]) -> dict[int, dict[str, str]]:
    """Each row placed in one of ``cells``, with its cell in the axes' declared order."""
    axes = evalset.policy.coverage.axes
    where = coverage.place(evalset, axes).where
    every = coverage.cells_of(axes)
    return {
        row: every[where[code]]
        for row, code in enumerate(evalset.cells.codes)
        if where[code] in cells
    }


def candidate_id(seed_id: str, text: str) -> str:
    return f"syn-{seed_id}-{ledger.digest(text)[:8]}"


def candidates(
    synthesizer: Synthesizer,
    seeds: Sequence[Seed],
    n: int,
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
    notes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Paraphrase every seed and build the queue records, in seed order.

    Seeds go to the synthesizer in batches of ``concurrency`` so a progress bar can move; within
    a batch the requests run side by side. A failure raises the synthesizer's error, after the
    batches before it were cached. The synthesizer's warnings (a short answer) become ``notes``.
    """
    records: list[dict[str, Any]] = []
    taken: set[str] = set()
    step = max(concurrency, 1)
    if progress:
        progress(0, len(seeds))
    for start in range(0, len(seeds), step):
        batch = seeds[start : start + step]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = synthesizer.paraphrase_many(
                [seed.input for seed in batch], n, concurrency=step
            )
        if notes is not None:
            notes.extend(str(warning.message) for warning in caught)
        for seed, texts in zip(batch, results, strict=True):
            prompt_sha = hashlib.sha256(
                synthesizer.prompt(seed.input, n).encode("utf-8")
            ).hexdigest()
            for text in texts:
                rid = candidate_id(seed.id, text)
                if rid in taken:  # two seeds with one id cannot happen; the same text twice can
                    continue
                taken.add(rid)
                record: dict[str, Any] = {
                    "id": rid,
                    "input": text,
                    "origin": "synthetic",
                    "synthetic": {
                        "generator": synthesizer.model,
                        "method": "paraphrase",
                        "seed_id": seed.id,
                        "prompt_sha256": prompt_sha,
                    },
                }
                if seed.grid is not None:
                    record["grid"] = dict(seed.grid)
                record["seed"] = {"id": seed.id, "input": seed.input, "gold": seed.gold}
                records.append(record)
        if progress:
            progress(min(start + step, len(seeds)), len(seeds))
    return records


def new_only(evalset: EvalSet, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The candidates that repeat nothing, and how many were left out: a candidate whose input
    equals (once normalised) a record of the set or an earlier candidate, and with the policy's
    ``duplicates.near`` a near copy of either. A reviewer's time is the scarce thing; the
    ``duplicates`` check would fail the copies anyway (docs/checks.md)."""
    near = evalset.policy.duplicates.near
    normals = [normal_form(record["input"]) for record in records]
    keys = {key_of_normal(normal) for normal in normals}
    rows = [row for row, key in enumerate(evalset.input_keys) if key in keys]
    known = {normal_form(given) for _, given, _ in read_inputs(evalset, rows)}
    dropped: set[int] = set()
    for index, normal in enumerate(normals):
        if normal in known:
            dropped.add(index)
        known.add(normal)
    if near is not None and records:
        mine = [normal_form(given) for _, given, _ in read_inputs(evalset)]
        count = len(mine)
        for i, j, _ in near_pairs(mine + normals, near, evalset.policy.duplicates.shingle):
            if j >= count and (i < count or i - count not in dropped):
                dropped.add(j - count)
    kept = [record for index, record in enumerate(records) if index not in dropped]
    return kept, len(dropped)


def write_queue(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Write the whole queue at once: a reviewer reading an older queue never sees half of the
    new one."""
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def progress_bar(stream: Any = None) -> Progress | None:
    """A one-line bar on stderr when it is a terminal; nothing in a pipe or a log file."""
    out = stream or sys.stderr
    if not out.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        out.write(f"\rparaphrasing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} seeds")
        if done >= total:
            out.write("\n")
        out.flush()

    return show
