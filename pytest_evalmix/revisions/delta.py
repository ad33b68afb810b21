"""What changed in an eval set since a git revision: the input of the ``changes`` check.

A million-example set at REF and at HEAD must compare in much less than the time of a load, so
neither side is held as records. A line of a plain JSONL file that is byte for byte the same at
REF and at HEAD is the same record (same id, same everything) wherever it sits, even in a
renamed file, and is settled without being parsed: against its twin at the same position in
the file of the same name, else by a hash of its bytes (see `_Lines`). Those lines are left out
of REF's copy of the file (nothing at REF is ever shown by its line), so the REF load validates
only what differs. The records left on either side are reduced to a `Digest` each, by id: a
hash of the record, the canonical JSON of its gold, and the few label fields that the check
compares.

Records of other files (CSV, YAML, JSON, a field map, ``schema.extra: allow``) are all reduced
to digests, through the model: slower, but the same comparison.
"""

from __future__ import annotations

import heapq
import json
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from hashlib import blake2b
from itertools import compress, repeat
from operator import eq, is_, methodcaller, not_
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from pytest_evalmix.errors import ManifestError
from pytest_evalmix.evalset.sources import examples, examples_of, plain_jsonl
from pytest_evalmix.formats.readers import LFS_MESSAGE
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.records import Example
from pytest_evalmix.revisions import git

GOLD_TEXT = 200
# Ids a report names per list (added, removed, changed, golds changed); the rest are counted.
NAMED = 1000
RAW_BUDGET = 64 * 1024 * 1024
# How far ahead a walk in step looks for a line when lines were added or removed, and how many
# lookups in a row may find nothing before it gives up and matches the rest by hash.
WINDOW = 1000
GIVE_UP = 8


class Digest(NamedTuple):
    """One record, reduced to what ``changes`` compares and shows."""

    origin: str
    record: bytes  # 128-bit digest of the canonical JSON of the whole record
    gold: bytes  # 128-bit digest of the canonical JSON of the gold
    gold_text: str  # the gold's canonical JSON, cut to GOLD_TEXT characters (unescaped)
    by: str | None
    at: str | None
    source: str
    provisional: bool


@dataclass
class Comparison:
    """One eval set at HEAD against itself at REF.

    ``state`` is ``compared``, ``new`` (the manifest did not exist at REF) or ``unreadable``
    (it did, but could not be read there: ``reason`` says why). Records proven identical on
    both sides are only counted, by origin, in ``unchanged``; every other record is in ``head``
    (id -> its row at HEAD and its digest) or ``base`` (id -> its digest at REF), or both.
    """

    ref: str
    commit: str
    state: str = "compared"
    reason: str | None = None
    unchanged: dict[str, int] = field(default_factory=dict)
    head: dict[str, tuple[int, Digest]] = field(default_factory=dict)
    base: dict[str, Digest] = field(default_factory=dict)
    new_files: list[str] = field(default_factory=list)


class Baseline:
    """REF, and the comparisons made with it so far: what `rules.Context.base` holds.

    A comparison is made the first time the ``changes`` check of a set asks for it.
    """

    def __init__(self, base: git.Base, project_policy: Mapping[str, Any], sharing: int = 1) -> None:
        self.base = base
        self.project_policy = project_policy
        self.sharing = sharing
        self._done: dict[str, Comparison] = {}

    @property
    def ref(self) -> str:
        return self.base.ref

    def compare(self, head: EvalSet) -> Comparison:
        if head.manifest not in self._done:
            self._done[head.manifest] = compare(head, self.base, self.project_policy, self.sharing)
        return self._done[head.manifest]


def compare(
    head: EvalSet, base: git.Base, project_policy: Mapping[str, Any], sharing: int = 1
) -> Comparison:
    result = Comparison(ref=base.ref, commit=base.commit)
    try:
        tree = base.tree()
    except OSError as exc:
        result.state = "unreadable"
        result.reason = f"git could not list the files: {exc}"
        return result
    result.new_files = sorted({f for f in head.files[1:] if f not in tree})
    if head.manifest not in tree:
        result.state = "new"
        return result
    lines = _Lines(head) if head.policy.schema_.extra == "forbid" else None
    try:
        with git.set_at(base, head.manifest, project_policy, sharing, lines=lines) as at_ref:
            if at_ref is None:
                result.state = "new"
                return result
            pointers = [f for f in at_ref.findings if f.message == LFS_MESSAGE]
            if pointers:
                # Git holds the pointer, not the data: every record would count as added.
                result.state = "unreadable"
                result.reason = (
                    f"{pointers[0].path} is a Git LFS pointer at {base.ref}, not data — "
                    "fetch its objects (`git lfs fetch origin <REF>`) or compare with a REF "
                    "from before the file moved to LFS"
                )
                return result
            for _, example in examples(at_ref):
                result.base.setdefault(example.id, digest(example))
    except ManifestError as exc:
        result.state = "unreadable"
        result.reason = str(exc)
        return result
    except OSError as exc:
        result.state = "unreadable"
        result.reason = f"git could not read it: {exc}"
        return result

    for row, example in _rows(head, lines):
        result.head[example.id] = (row, digest(example))
    # Counted from the columns: every row not in `head` was matched by a line at REF.
    counts = head.origins.counts()
    for _, found in result.head.values():
        counts[found.origin] -= 1
    result.unchanged = {origin: count for origin, count in counts.items() if count}
    stale = [rid for rid in result.base if rid not in result.head]
    if stale and result.unchanged:
        # A record at REF under an id whose line matched HEAD's: REF held that id twice. The
        # matched one stands for it.
        for rid in set(filter(set(stale).__contains__, head.ids)):
            del result.base[rid]
    return result


def named(comparison: Comparison, limit: int = NAMED) -> dict[str, Any]:
    """The records a pull-request view names: the first ``limit`` ids (sorted) added, removed
    and changed, and the golds that changed as ``{id, old, new}`` (each gold's canonical JSON,
    cut to GOLD_TEXT characters). Ids only, and at most ``limit`` of each, so a million changed
    records cost a bounded report (docs/json-report.md). Nothing is named for a set that is new
    or could not be read at REF: the counts say it all."""
    if comparison.state != "compared":
        return {"added": [], "removed": [], "changed": [], "golds": []}
    head, base = comparison.head, comparison.base
    added = heapq.nsmallest(limit, (rid for rid in head if rid not in base))
    removed = heapq.nsmallest(limit, (rid for rid in base if rid not in head))
    both = [(rid, base[rid], now) for rid, (_, now) in head.items() if rid in base]
    changed = heapq.nsmallest(limit, (rid for rid, then, now in both if then.record != now.record))
    golds = heapq.nsmallest(limit, (rid for rid, then, now in both if then.gold != now.gold))
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "golds": [
            {"id": rid, "old": base[rid].gold_text, "new": head[rid][1].gold_text} for rid in golds
        ],
    }


def digest(example: Example) -> Digest:
    label = example.label
    gold = _canonical(example.gold)
    return Digest(
        origin=example.origin,
        # The model's own key order, so only nested mappings (input, meta) keep the file's.
        record=key(_record_json(example).encode("utf-8", "surrogatepass")),
        gold=key(gold.encode("utf-8", "surrogatepass")),
        gold_text=gold[:GOLD_TEXT],
        by=label.by,
        at=label.at.isoformat() if label.at is not None else None,
        source=label.source,
        provisional=label.provisional is not None,
    )


# 128 bits: two different records (or lines) that are taken for the same one would hide a
# change, and Python's 64-bit hash leaves that to chance on a set of millions (docs/ci.md).
_DIGEST = partial(blake2b, digest_size=16)
_BYTES = methodcaller("digest")


def key(data: bytes) -> bytes:
    """The 128-bit digest that stands for a record or a line."""
    return blake2b(data, digest_size=16).digest()


def keys(lines: Iterator[bytes] | list[bytes]) -> Iterator[bytes]:
    """`key` of each line, at C speed (no Python frame per line)."""
    return map(_BYTES, map(_DIGEST, lines))


def _record_json(example: Example) -> str:
    try:
        return example.model_dump_json(exclude_none=True)
    except ValueError:  # a lone surrogate, which pydantic will not write as JSON
        return json.dumps(example.model_dump(exclude_none=True), ensure_ascii=False, default=str)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _spans(head: EvalSet) -> list[tuple[int, int, int]]:
    """``(file number, first row, end row)`` per file, by binary search: rows are appended file
    by file, so the file numbers never decrease."""
    index = head.file_index
    spans = []
    for file_no in sorted(set(index)):
        start = bisect_left(index, file_no)
        spans.append((file_no, start, bisect_left(index, file_no + 1, start)))
    return spans


class _Lines:
    """`git.Lines` for one set: writes REF's copy of its plain JSONL files without the lines
    that HEAD has byte for byte, and keeps, by the hash of its line, each HEAD row that no line
    at REF matched (yet).

    A file that has the same name on both sides is walked in step, line against line (a
    ``bytes`` comparison each, no hash): a record edited in place, added or removed leaves every
    other line paired with its twin (the walk finds its step again after lines added or
    removed). Lines that differ, and every line of a file with no twin of its name, are matched
    by hash after that, across files, so a moved or renamed record is found too.

    Only bytes that are equal are ever paired, so however the walk goes, a HEAD row is settled
    only by a line at REF that is the same record.
    """

    def __init__(self, head: EvalSet) -> None:
        self.head = head
        self.wanted: dict[bytes, int] = {}  # key of a HEAD line -> its row, not matched yet
        self.covered: set[int] = set()  # HEAD file numbers whose rows are settled here
        self.plain = {
            head.files[number]: number
            for number, source in enumerate(head.record_files, 1)
            if plain_jsonl(source)
        }
        self.spans = {number: (row, end) for number, row, end in _spans(head)}
        # The bytes of HEAD lines that differed in step, so they need not be read again: a
        # few when records were edited in place, and never more than RAW_BUDGET bytes.
        self.raw: dict[int, bytes] = {}
        self.budget = RAW_BUDGET

    def write(self, base: git.Base, files: list[tuple[str, str, Path]], scratch: Path) -> None:
        # Files git says are unchanged (known from the index, mostly without reading them):
        # every row is its own twin, and REF's copy stays empty.
        same = base.same([name for name, _, _ in files if name in self.plain])
        pending: list[tuple[Path, Path]] = []
        for name, blob, target in files:
            number = self.plain.get(name)
            paired = number is not None and number not in self.covered
            if paired and number is not None and name in same:
                self.covered.add(number)
                continue
            candidates = scratch / str(len(pending))
            if paired and number is not None and number in self.spans:
                self.covered.add(number)
                self._in_step(base.stream(blob), number, candidates)
            else:
                with candidates.open("wb") as out:
                    for chunk in base.stream(blob):
                        out.write(chunk)
            pending.append((candidates, target))
        for number in self.plain.values():
            if number not in self.covered and number in self.spans:
                self.covered.add(number)
                self._scan(number)
        for candidates, target in pending:
            with candidates.open("rb") as src, target.open("wb") as out:
                for parts in _split(_chunks(src)):
                    kept = self._keep(parts)
                    if kept:
                        out.write(b"\n".join(kept) + b"\n")
            candidates.unlink()

    def _in_step(self, ref: Iterator[bytes], number: int, candidates: Path) -> None:
        """Walk REF's file and HEAD's of the same name together: lines that differ at a
        position become candidates on both sides. Where lines were added or removed, the walk
        finds its step again (`_realign`); where it cannot, the rest of both files become
        candidates, matched by hash."""
        row_lo, row_hi = self.spans[number]
        with (
            self.head.record_files[number - 1].path.open("rb", buffering=0) as handle,
            candidates.open("wb") as out,
        ):
            at_ref, at_head = _Buffer(_split(ref)), _Buffer(_split(_chunks(handle)))
            first = 1  # the line number of HEAD's current line
            lost = 0  # realignments in a row that found nothing
            size = 1 << 16  # lines per step: small just after a realignment, then doubling
            while lost < GIVE_UP:
                at_ref.fill(1)
                at_head.fill(1)
                step = min(at_ref.left, at_head.left, size)
                if not step:
                    break
                ref_part, head_part = at_ref.peek(step), at_head.peek(step)
                equal = list(map(eq, ref_part, head_part))
                done = step
                for at in compress(range(step), map(not_, equal)):
                    if at + 1 < step and not equal[at + 1]:
                        done = at  # two in a row: lines added or removed here?
                        break
                    out.write(ref_part[at] + b"\n")  # one line changed in place
                    self._want(head_part[at], first + at, row_lo, row_hi)
                at_ref.skip(done)
                at_head.skip(done)
                first += done
                if done < step:
                    found, moved = self._realign(at_ref, at_head, out, first, row_lo, row_hi)
                    first += moved
                    lost = 0 if found else lost + 1
                    size = 64  # another may be near: compare no further than needed
                else:
                    lost = 0
                    size = min(size * 2, 1 << 16)
            for parts in at_ref.rest():  # REF's file is longer, or the walk lost its step
                if parts:
                    out.write(b"\n".join(parts) + b"\n")
            for parts in at_head.rest():  # HEAD's is longer: added at the end
                for at, raw in enumerate(parts):
                    self._want(raw, first + at, row_lo, row_hi)
                first += len(parts)

    def _realign(
        self,
        at_ref: _Buffer,
        at_head: _Buffer,
        out: Any,
        first: int,
        row_lo: int,
        row_hi: int,
    ) -> tuple[bool, int]:
        """The current lines differ and so do the next: look up to WINDOW lines ahead on each
        side for the other side's line. Returns whether it was found, and how many HEAD lines
        were passed."""
        at_ref.fill(WINDOW + 1)
        at_head.fill(WINDOW + 1)
        ref_window, head_window = at_ref.peek(WINDOW + 1), at_head.peek(WINDOW + 1)
        added = _index(head_window, ref_window[0])
        removed = _index(ref_window, head_window[0])
        if added and (not removed or added <= removed):
            for at in range(added):
                self._want(head_window[at], first + at, row_lo, row_hi)
            at_head.skip(added)
            return True, added
        if removed:
            out.write(b"\n".join(ref_window[:removed]) + b"\n")
            at_ref.skip(removed)
            return True, 0
        out.write(ref_window[0] + b"\n")
        self._want(head_window[0], first, row_lo, row_hi)
        at_ref.skip(1)
        at_head.skip(1)
        return False, 1

    def _want(self, raw: bytes, line: int, row_lo: int, row_hi: int) -> None:
        row = bisect_left(self.head.lines, line, row_lo, row_hi)
        if row < row_hi and self.head.lines[row] == line:
            self.wanted[key(raw)] = row
            if self.budget >= len(raw):
                self.raw[row] = raw
                self.budget -= len(raw)

    def _scan(self, number: int) -> None:
        """Every row of a HEAD file with no twin at REF becomes a candidate, at C speed."""
        lines = self.head.lines
        row, end = self.spans[number]
        try:
            with self.head.record_files[number - 1].path.open("rb", buffering=0) as handle:
                first = 1
                for parts in _split(_chunks(handle)):
                    stop = bisect_left(lines, first + len(parts), row, end)
                    if stop > row:
                        picked = map(parts.__getitem__, map((-first).__add__, lines[row:stop]))
                        self.wanted.update(zip(keys(picked), range(row, stop), strict=True))
                        row = stop
                    first += len(parts)
                    if row == end:
                        break
        except OSError:
            self.covered.discard(number)  # changed or gone since the load: the model reads it

    def _keep(self, parts: list[bytes]) -> list[bytes]:
        """The lines at REF that no HEAD row has byte for byte; each one matched settles it."""
        popped = list(map(self.wanted.pop, keys(parts), repeat(None)))
        return list(compress(parts, map(is_, popped, repeat(None))))

    def unmatched(self) -> tuple[list[int], list[int]]:
        """Rows that no line at REF matched, in row order: those to read by line, and those
        of files this never covered, to read through the model."""
        by_line = sorted(self.wanted.values())
        other = [
            row
            for number, (start, end) in self.spans.items()
            if number not in self.covered
            for row in range(start, end)
        ]
        return by_line, other


class _Buffer:
    """Lines read ahead from a stream of line chunks, consumed from the front."""

    def __init__(self, chunks: Iterator[list[bytes]]) -> None:
        self.chunks = chunks
        self.lines: list[bytes] = []
        self.at = 0

    @property
    def left(self) -> int:
        return len(self.lines) - self.at

    def fill(self, count: int) -> None:
        while self.left < count:
            more = next(self.chunks, None)
            if more is None:
                return
            self.lines = self.lines[self.at :] + more
            self.at = 0

    def peek(self, count: int) -> list[bytes]:
        return self.lines[self.at : self.at + count]

    def skip(self, count: int) -> None:
        self.at += count

    def rest(self) -> Iterator[list[bytes]]:
        yield self.lines[self.at :]
        yield from self.chunks


def _index(lines: list[bytes], line: bytes) -> int:
    """Where ``line`` is in ``lines`` after the first, or 0."""
    try:
        return lines.index(line, 1)
    except ValueError:
        return 0


def _chunks(handle: Any) -> Iterator[bytes]:
    while chunk := handle.read(git.CHUNK):
        yield chunk


def _split(chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
    """Lines, a chunk's worth at a time, without their newlines, numbered as a file iterator
    numbers them (a last line without a newline counts; nothing after a final newline)."""
    rest = b""
    for chunk in chunks:
        parts = chunk.split(b"\n")
        parts[0] = rest + parts[0]
        rest = parts.pop()
        if parts:
            yield parts
    if rest:
        yield [rest]


def _rows(head: EvalSet, lines: _Lines | None) -> Iterator[tuple[int, Example]]:
    """The records at HEAD that no line at REF matched: lines of plain JSONL picked by number,
    the rest through the model."""
    if lines is not None:
        by_line, other = lines.unmatched()
    else:
        by_line, other = [], list(range(len(head)))
    if by_line:
        assert lines is not None
        by_file: dict[int, list[int]] = {}
        for row in by_line:
            raw = lines.raw.get(row)
            if raw is not None:
                try:
                    yield row, Example.model_validate_json(raw)
                except ValidationError:  # cannot be: the line loaded as this row
                    pass
                continue
            by_file.setdefault(head.file_index[row], []).append(row)
        for number, rows in sorted(by_file.items()):
            yield from _by_line(head, number, rows)
    if other:
        keep = set(other)
        for number, start, end in _spans(head):
            if any(row in keep for row in range(start, end)):
                for row, example in examples_of(head, number, start, end):
                    if row in keep:
                        yield row, example


def _by_line(head: EvalSet, number: int, rows: list[int]) -> Iterator[tuple[int, Example]]:
    lines = head.lines
    at = 0
    try:
        with head.record_files[number - 1].path.open("rb", buffering=0) as handle:
            first = 1
            for parts in _split(_chunks(handle)):
                last = first + len(parts)
                while at < len(rows) and lines[rows[at]] < last:
                    row = rows[at]
                    at += 1
                    try:
                        yield row, Example.model_validate_json(parts[lines[row] - first])
                    except ValidationError:  # changed since the load: judged on what loaded
                        continue
                first = last
                if at == len(rows):
                    return
    except OSError:
        return


__all__ = ["NAMED", "Baseline", "Comparison", "Digest", "compare", "digest", "named"]
