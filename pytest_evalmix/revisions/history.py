"""How an eval set has moved over its git history: the rows of ``evalmix history`` (docs/cli.md).

Git reads every revision (``git log`` for the commits and the files each one changed, then
``git ls-tree`` and ``git cat-file`` per commit), so nothing is checked out. Each commit's
manifest is resolved by `git.layout_at`, the same resolver as ``--evalmix-base``, so the globs,
field maps and presets are the loader's own.

A commit costs what changed in it, not a load. Each data file is reduced once to a `Part` (its
records as small tuples: id, origin, whether the gold is an LLM's, the provisional deadline),
kept by blob id and carried to every commit where the blob is unchanged. A plain JSONL file
that did change is split into lines, and only a line never seen before is validated: a line of
the same bytes is the same record (the idea of `revisions.delta`). Other formats are read whole
through the loader's own readers, once per blob.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import tempfile
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import itemgetter, ne
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_evalmix.errors import ManifestError, RecordError
from pytest_evalmix.evalset.sources import inline_records, plain_jsonl, source_records
from pytest_evalmix.evalset.validate import validate_bytes
from pytest_evalmix.files.paths import display_path
from pytest_evalmix.formats import validators
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.records import Example
from pytest_evalmix.revisions import git

ORIGINS = ("production", "synthetic", "adversarial")
_SERIALS = count()
# One record: id, index into ORIGINS, gold labelled llm, provisional, backfill_by.
Entry = tuple[str, int, bool, bool, dt.date | None]
# Reads a set's results file (written at the path, shown by the name) for the given ids: per
# id, passed, failed or no result (None). The caller brings the results reader, a layer apart.
Outcomes = Callable[[Path, str, EvalSet, list[str]], Sequence[bool | None]]


class HistoryError(Exception):
    """``evalmix history`` cannot run here: a usage error (exit 4) that names the ref or path."""


@dataclass
class Row:
    """One commit that changed the set; ``error`` says why the set could not be read there."""

    commit: str
    date: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORIGINS, 0))
    llm_golds: int = 0
    open: int = 0
    overdue: int = 0
    pass_rates: dict[str, float] | None = None
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def shares(self) -> dict[str, float]:
        total = self.total
        return {o: round(self.counts[o] / total, 4) if total else 0.0 for o in ORIGINS}

    def as_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "date": self.date,
            "counts": dict(self.counts),
            "shares": self.shares,
            "llm_golds": self.llm_golds,
            "provisional": {"open": self.open, "overdue": self.overdue},
            "pass_rates": None if self.pass_rates is None else dict(self.pass_rates),
            "error": self.error,
        }


@dataclass
class History:
    name: str
    manifest: str
    rows: list[Row]

    def as_json(self) -> dict[str, Any]:
        return {"set": self.name, "commits": [row.as_json() for row in self.rows]}


@dataclass
class Part:
    """One data file (or the manifest's inline records), reduced: the first record of each id,
    as the loader keeps it, and their sums. Never changed once made: a new version of a file
    is a new `Part`, made from the old one and git's diff of the two (`updated`)."""

    by_id: dict[str, Entry]
    repeated: bool  # an id was repeated in the file: no update from a diff
    counts: list[int]
    llm: int
    open: int
    deadlines: list[dt.date]  # sorted: the backfill_by dates of its provisional labels
    # the part this one was updated from, and the ids it put in: whether it shares an id with
    # another part is then a question about those ids only
    parent: tuple[Part, list[str]] | None = None
    serial: int = field(default_factory=lambda: next(_SERIALS))

    def overdue(self, today: dt.date) -> int:
        return bisect_left(self.deadlines, today)

    def updated(self, removed: list[Entry], added: list[Entry]) -> Part | None:
        """This part with the records of the removed lines taken out and of the added lines
        put in; ``None`` where that is not what the loader would keep (a repeated id)."""
        if self.repeated:
            return None
        self.parent = None  # one step back is all `_Walk.apart` asks for
        by_id = dict(self.by_id)
        counts = list(self.counts)
        llm, open_, deadlines = self.llm, self.open, list(self.deadlines)
        for entry in removed:
            if by_id.pop(entry[0], None) != entry:
                return None
            counts[entry[1]] -= 1
            llm -= entry[2]
            open_ -= entry[3]
            if entry[3] and entry[4] is not None:
                del deadlines[bisect_left(deadlines, entry[4])]
        for entry in added:
            if entry[0] in by_id:
                return None
            by_id[entry[0]] = entry
            counts[entry[1]] += 1
            llm += entry[2]
            open_ += entry[3]
            if entry[3] and entry[4] is not None:
                insort(deadlines, entry[4])
        return Part(
            by_id, False, counts, llm, open_, deadlines, (self, [entry[0] for entry in added])
        )


def part_of(found: Iterable[Entry]) -> Part:
    entries = list(found)
    entries.reverse()  # so that the first record of an id is the one a dict keeps
    by_id = dict(zip(map(itemgetter(0), entries), entries, strict=True))
    entries.reverse()
    kept = by_id.values()
    by_origin = Counter(map(itemgetter(1), kept))
    return Part(
        by_id=by_id,
        repeated=len(by_id) != len(entries),
        counts=[by_origin[0], by_origin[1], by_origin[2]],
        llm=sum(map(itemgetter(2), kept)),
        open=sum(map(itemgetter(3), kept)),
        deadlines=sorted(e[4] for e in kept if e[3] and e[4] is not None),
    )


def _plain(record: dict[str, Any]) -> bool:
    """A record the fast validator settles alone: a gold, an input that is not empty, and a
    human or LLM label with nothing the model checks further."""
    given, label = record["input"], record["label"]
    return not (
        record["gold"] is None
        or given is None
        or (isinstance(given, (str, list, dict)) and not given)
        or (isinstance(given, str) and given.isspace())
        or label["source"] not in ("human", "llm")
        or "provisional" in label
        or "checker" in label
        or "pattern" in label
    )


def _entry(example: Example) -> Entry:
    label = example.label
    provisional = label.provisional
    return (
        example.id,
        ORIGINS.index(example.origin),
        label.source == "llm",
        provisional is not None,
        provisional.backfill_by if provisional is not None else None,
    )


class _Blobs:
    """Blobs read through one ``git cat-file --batch`` for the whole walk."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.proc: subprocess.Popen[bytes] | None = None

    def read(self, blob: str) -> bytes:
        if self.proc is None:
            self.proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.rootdir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(blob.encode("ascii") + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise OSError(f"git cat-file could not read {blob}")
        size = int(header[2])
        data = self.proc.stdout.read(size)
        self.proc.stdout.read(1)  # the newline after each object
        if len(data) != size:
            raise OSError(f"git cat-file cut {blob} short")
        return data

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


class _Walk:
    """The caches carried from commit to commit."""

    def __init__(
        self, rootdir: Path, project_policy: Mapping[str, Any], outcomes: Outcomes | None
    ) -> None:
        self.rootdir = rootdir
        self.outcomes = outcomes
        self.project_policy = project_policy
        self.blobs = _Blobs(rootdir)
        self.tmp = tempfile.TemporaryDirectory(prefix="evalmix-history-")
        self.layouts: dict[tuple[str | None, frozenset[str]], tuple[Any, Path]] = {}
        self.lines: dict[bytes, Entry | None] = {}
        # file name -> the blob of it read last, and its lines
        # (the parts of other versions are let go: a version seen again is one more diff)
        self.latest: dict[str, tuple[str, list[bytes], Part]] = {}
        self.disjoint: dict[tuple[int, int], bool] = {}  # by the parts' serials
        self.parts: dict[tuple[Any, ...], Part] = {}

    def jsonl_part(self, name: str, blob: str) -> Part:
        """A plain JSONL blob. Where an earlier version of the file was read, only the lines
        that differ from it are records to take out and put in: compared in step, line by line
        (one ``bytes`` comparison in C each) when both have as many lines, else as sets. A line
        seen before (in any blob) is not validated again."""
        before = self.latest.get(name)
        if before is not None and before[0] == blob:
            return before[2]
        part: Part | None = None
        lines = self.blobs.read(blob).split(b"\n")
        entry = self.lines.__getitem__
        if before is not None:
            _, old_lines, old_part = before
            if len(old_lines) == len(lines):
                at = list(compress(count(), map(ne, old_lines, lines)))
                removed = [old_lines[i] for i in at]
                added = [lines[i] for i in at]
            else:
                new_set, old_set = set(lines), set(old_lines)
                removed = list(old_set.difference(new_set))
                added = list(new_set.difference(old_set))
            self.learn(line for line in added if line not in self.lines)
            part = old_part.updated(
                list(filter(None, map(entry, removed))), list(filter(None, map(entry, added)))
            )
        else:
            self.learn(set(lines).difference(self.lines))
        if part is None:  # a repeated id: the file's order decides which record is kept
            part = part_of(filter(None, map(entry, lines)))
        self.latest[name] = (blob, lines, part)
        return part

    def learn(self, lines: Iterable[bytes]) -> None:
        """Validate lines not seen before. The common record goes through the loader's own
        fast validator (`formats.validators`, with the checks `formats.fastload` adds); any
        other line, and one it refuses, through the model, as the loader does."""
        cache = self.lines
        fast = validators.validator()
        for line in lines:
            if not line.strip():
                cache[line] = None
                continue
            if fast is not None:
                try:
                    record = fast.validate_json(line)
                except ValidationError:
                    record = None
                if record is not None and _plain(record):
                    cache[line] = (
                        record["id"],
                        ORIGINS.index(record["origin"]),
                        record["label"]["source"] == "llm",
                        False,
                        None,
                    )
                    continue
            parsed = validate_bytes(line.rstrip(b"\r"), 0)
            cache[line] = _entry(parsed) if isinstance(parsed, Example) else None

    def layout(self, base: git.Base, manifest: str) -> tuple[EvalSet | None, Path]:
        """The set resolved at ``base`` (`git.layout_at`), and the folder it is laid out in.

        The same manifest over the same file names resolves the same way, so a layout is made
        once and kept, in its own folder, for the whole walk. A bad manifest raises
        `ManifestError` each time."""
        tree = base.tree()
        key = (tree.get(manifest), frozenset(tree))
        if key not in self.layouts:
            root = Path(self.tmp.name) / str(len(self.layouts))
            root.mkdir()
            try:
                found: EvalSet | ManifestError | None = git.layout_at(
                    base, manifest, self.project_policy, root
                )
            except ManifestError as exc:
                found = exc
            self.layouts[key] = (found, root)
        found, root = self.layouts[key]
        if isinstance(found, ManifestError):
            raise found
        return found, root

    def row(self, base: git.Base, date: str, manifest: str, changed: set[str]) -> Row | None:
        """The row of one commit; ``None`` when it changed nothing of the set (or the set did
        not exist there)."""
        row = Row(commit=base.commit, date=date)
        tree = base.tree()
        if manifest not in tree:
            if manifest in changed:
                row.error = f"{manifest}: the manifest was deleted"
                return row
            return None
        if not changed:
            return None
        try:
            evalset, root = self.layout(base, manifest)
            if evalset is None:
                return None
            if manifest not in changed and not _touches(evalset, root, changed):
                gone = {name for name in changed if name not in tree}
                if not gone or not self.had(base.commit, manifest, gone):
                    return None
            parts = self.parts_of(base, evalset, root, manifest)
        except ManifestError as exc:
            row.error = str(exc)
            return row
        except OSError as exc:
            row.error = f"git could not read the set: {exc}"
            return row
        today = dt.date.fromisoformat(date)
        if self.overlap(parts):
            parts = [part_of(entry for part in parts for entry in part.by_id.values())]
        row.counts = {o: sum(p.counts[i] for p in parts) for i, o in enumerate(ORIGINS)}
        row.llm_golds = sum(p.llm for p in parts)
        row.open = sum(p.open for p in parts)
        row.overdue = sum(p.overdue(today) for p in parts)
        row.pass_rates = self.pass_rates(base, evalset, root, parts)
        return row

    def had(self, commit: str, manifest: str, gone: set[str]) -> bool:
        """Whether the set at the commit's parent read one of the files the commit deleted."""
        parent = git.Base(ref=f"{commit}^", commit=f"{commit}^", rootdir=self.rootdir)
        try:
            evalset, root = self.layout(parent, manifest)
        except (ManifestError, OSError):
            return False
        return evalset is not None and _touches(evalset, root, gone)

    def close(self) -> None:
        self.blobs.close()
        self.tmp.cleanup()

    def overlap(self, parts: list[Part]) -> bool:
        """Whether an id is in two parts (the loader keeps only its first record). Parts are
        kept for the whole walk, so a pair is compared once."""
        for i, first in enumerate(parts):
            for second in parts[i + 1 :]:
                if not self.apart(first, second):
                    return True
        return False

    def apart(self, first: Part, second: Part) -> bool:
        key = (first.serial, second.serial)
        if key not in self.disjoint:
            known = self.disjoint.get
            if first.parent is not None and known((first.parent[0].serial, second.serial)):
                found = second.by_id.keys().isdisjoint(first.parent[1])
            elif second.parent is not None and known((first.serial, second.parent[0].serial)):
                found = first.by_id.keys().isdisjoint(second.parent[1])
            else:
                found = first.by_id.keys().isdisjoint(second.by_id.keys())
            self.disjoint[key] = found
        return self.disjoint[key]

    def parts_of(self, base: git.Base, evalset: EvalSet, root: Path, manifest: str) -> list[Part]:
        tree = base.tree()
        allow_extra = evalset.policy.schema_.extra == "allow"
        parts: list[Part] = []
        if evalset.inline:
            key: tuple[Any, ...] = ("inline", tree[manifest], allow_extra)
            if key not in self.parts:
                records = inline_records(evalset.inline, evalset.inline_source, allow_extra)
                self.parts[key] = part_of(
                    _entry(r) for _, r in records if not isinstance(r, RecordError)
                )
            parts.append(self.parts[key])
        for source in evalset.record_files:
            shown = display_path(source.path, root)
            names = sorted(n for n in tree if n == shown or n.startswith(shown + "/"))
            if plain_jsonl(source) and not allow_extra and names == [shown]:
                parts.append(self.jsonl_part(shown, tree[shown]))
                continue
            key = (
                tuple((n, tree[n]) for n in names),
                shown,
                repr(source.fields),
                repr(sorted(source.defaults.items())),
                allow_extra,
            )
            if key not in self.parts:
                base.extract([(tree[n], root / n) for n in names]).finish()
                self.parts[key] = part_of(
                    _entry(r)
                    for _, r in source_records(source, allow_extra)
                    if not isinstance(r, RecordError)
                )
            parts.append(self.parts[key])
        return parts

    def pass_rates(
        self, base: git.Base, evalset: EvalSet, root: Path, parts: list[Part]
    ) -> dict[str, float] | None:
        """Pass rates by origin from the set's results file as committed here, else ``None``."""
        if evalset.results_path is None or self.outcomes is None:
            return None
        shown = display_path(evalset.results_path, root)
        blob = base.tree().get(shown)
        if blob is None:
            return None
        path = root / shown
        base.extract([(blob, path)]).finish()
        entries = [entry for part in parts for entry in part.by_id.values()]
        outcomes = self.outcomes(path, shown, evalset, [entry[0] for entry in entries])
        passed = [0, 0, 0]
        judged = [0, 0, 0]
        for entry, outcome in zip(entries, outcomes, strict=False):
            if outcome is not None:
                passed[entry[1]] += outcome
                judged[entry[1]] += 1
        return {o: round(passed[i] / judged[i], 4) for i, o in enumerate(ORIGINS) if judged[i]}


def _touches(evalset: EvalSet, root: Path, changed: set[str]) -> bool:
    """Whether a commit changed one of the set's data files (the set as of that commit)."""
    for source in evalset.record_files:
        shown = display_path(source.path, root)
        if any(n == shown or n.startswith(shown + "/") for n in changed):
            return True
    return False


def _git(rootdir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=rootdir, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError:
        raise HistoryError("git is not installed or not on PATH") from None


def _resolve(rootdir: Path, ref: str, option: str) -> str:
    if not ref.strip() or ref.startswith("-") or "\0" in ref:
        raise HistoryError(f"{option} {ref!r}: not a git revision; name a branch, tag or commit")
    out = _git(rootdir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    commit = out.stdout.decode("ascii", "replace").strip()
    if out.returncode or not commit:
        raise HistoryError(
            f"{option} {ref!r}: git cannot resolve it to a commit; name a branch, tag or commit "
            "that exists here (in a shallow clone, fetch the whole history first)"
        )
    return commit


def commits(rootdir: Path, since: str | None) -> list[tuple[str, str, set[str]]]:
    """``(commit, date, files it changed below the rootdir)``, newest first, along the first
    parent of HEAD (of ``since..HEAD`` with ``since``)."""
    inside = _git(rootdir, "rev-parse", "--is-inside-work-tree")
    if inside.returncode or inside.stdout.strip() != b"true":
        raise HistoryError(f"{rootdir} is not inside a git work tree; run it in a git checkout")
    head = _resolve(rootdir, "HEAD", "HEAD")
    span = head if since is None else f"{_resolve(rootdir, since, '--since')}..{head}"
    out = _git(
        rootdir,
        "log",
        "-z",
        "--first-parent",
        "-m",
        "--no-renames",
        "--relative",
        "--name-only",
        "--format=%x01%H %cs",
        "--end-of-options",
        span,
        "--",
        ".",
    )
    if out.returncode:
        raise HistoryError(f"git log failed: {out.stderr.decode('utf-8', 'replace').strip()}")
    found: list[tuple[str, str, set[str]]] = []
    for chunk in out.stdout.split(b"\x01")[1:]:
        header, _, rest = chunk.partition(b"\0")
        commit, _, date = header.decode("ascii", "replace").partition(" ")
        names = {os.fsdecode(n.strip(b"\n")) for n in rest.split(b"\0") if n.strip(b"\n")}
        if found and found[-1][0] == commit:  # -m lists a merge once per parent
            found[-1][2].update(names)
        else:
            found.append((commit, date, names))
    return found


def history(
    rootdir: Path,
    manifest: Path,
    project_policy: Mapping[str, Any],
    *,
    since: str | None = None,
    max_commits: int | None = None,
    outcomes: Outcomes | None = None,
) -> History:
    """The rows of ``evalmix history MANIFEST``, newest first (docs/cli.md). Pass rates need
    ``outcomes``, the results reader."""
    shown = display_path(manifest.absolute(), rootdir)
    if shown.startswith("../") or os.path.isabs(shown):
        raise HistoryError(f"{shown}: the manifest is not inside the rootdir {rootdir}")
    walk = _Walk(rootdir, project_policy, outcomes)
    rows: list[Row] = []
    name = manifest.name.split(".evalmix.")[0]
    # The walk makes a tuple per record and keeps them all: the cyclic collector would walk
    # them again and again for nothing (none of them can be in a cycle).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for commit, date, changed in commits(rootdir, since):
            if max_commits is not None and len(rows) >= max_commits:
                break
            base = git.Base(ref=commit, commit=commit, rootdir=rootdir)
            row = walk.row(base, date, shown, changed)
            if row is not None:
                rows.append(row)
        title = _name(walk, rootdir, shown) or name
    finally:
        walk.close()
        if collecting:
            gc.enable()
    return History(name=title, manifest=shown, rows=rows)


def _name(walk: _Walk, rootdir: Path, manifest: str) -> str | None:
    """The set's name as its manifest at HEAD gives it."""
    try:
        evalset, _ = walk.layout(git.Base(ref="HEAD", commit="HEAD", rootdir=rootdir), manifest)
    except (ManifestError, OSError):
        return None
    return evalset.name if evalset is not None else None


__all__ = ["ORIGINS", "History", "HistoryError", "Outcomes", "Row", "commits", "history"]
