"""Eval sets as they were at a git revision, for ``--evalmix-base=REF``.

Git itself reads the revision: the tree with ``git ls-tree`` and each file with ``git cat-file``,
so nothing is checked out and the work tree is never touched. The manifest and data files of a
set at REF are put, alone, into a temporary directory laid out like the rootdir, and
`load.evalset.load` reads them there: the same manifest parser, field maps, globs, readers and
validation as the set at HEAD, with no second loader to drift from the first.

Every git command is a fixed argument list (no shell), and REF reaches git only after
``--end-of-options``, and only if it does not start with ``-``, so a REF cannot be an option.
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from pytest_evalmix.errors import ManifestError
from pytest_evalmix.evalset.load import fill, load
from pytest_evalmix.evalset.manifest import read_manifest
from pytest_evalmix.evalset.sources import plain_jsonl
from pytest_evalmix.files.paths import display_path
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.records import DataFile
from pytest_evalmix.model.text import escape

CHUNK = 8 * 1024 * 1024
FETCH_ALL = "fetch-depth: 0"


class Lines(Protocol):
    """Writes REF's copy of the plain JSONL files of a set (read as their own keys, under
    ``schema.extra: forbid``), whose lines the loader reads each on its own."""

    def write(self, base: Base, files: list[tuple[str, str, Path]], scratch: Path) -> None:
        """Write each ``(name relative to the rootdir, blob at REF, target)``. Lines may be
        left out: a record at REF is never shown by its line. ``scratch`` is an empty
        folder for intermediate files."""


class GitError(Exception):
    """``--evalmix-base`` cannot be used here: a usage error (exit 4) that names REF."""


@dataclass
class Base:
    """A revision resolved in the repository that holds the rootdir."""

    ref: str
    commit: str
    rootdir: Path
    _tree: dict[str, str] | None = field(default=None, repr=False)

    def tree(self) -> dict[str, str]:
        """The files at REF below the rootdir: path relative to the rootdir -> blob id.

        Read once (one ``git ls-tree``), then shared by every set. Symlinks and submodules are
        left out: their blobs are not the files a loader would read.
        """
        if self._tree is None:
            out = _git(self.rootdir, "ls-tree", "-r", "-z", "--end-of-options", self.commit)
            tree: dict[str, str] = {}
            for entry in out.stdout.split(b"\0"):
                meta, _, name = entry.partition(b"\t")
                parts = meta.split()
                if len(parts) == 3 and parts[1] == b"blob" and parts[0] != b"120000":
                    tree[os.fsdecode(name)] = parts[2].decode("ascii")
            self._tree = tree
        return self._tree

    def same(self, names: list[str]) -> set[str]:
        """The files among ``names`` that are in the work tree as they are at REF, by git's
        own account: from the index and its stat data, reading no file when it can. In most
        pull requests most data files are untouched."""
        if not names:
            return set()
        try:
            out = _git(
                self.rootdir,
                "--literal-pathspecs",
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "--relative",
                "--no-ext-diff",
                "--no-textconv",
                self.commit,
                "--",
                *names,
            )
        except OSError:
            return set()
        changed = {os.fsdecode(name) for name in out.stdout.split(b"\0") if name}
        return set(names) - changed

    def stream(self, blob: str) -> Iterator[bytes]:
        """A blob's bytes in chunks, as git inflates them: a data file may be hundreds of MB."""
        with subprocess.Popen(
            ["git", "cat-file", "blob", blob],
            cwd=self.rootdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as proc:
            assert proc.stdout is not None
            while chunk := proc.stdout.read(CHUNK):
                yield chunk
        if proc.returncode:
            raise OSError(f"git cat-file could not read {blob} at {self.ref}")

    def extract(self, blobs: list[tuple[str, Path]]) -> _Extraction:
        """Write each blob to its path, in a thread, through one ``git cat-file --batch``: the
        caller works meanwhile (git inflates on another core), then calls `join`."""
        return _Extraction(self, blobs)


class _Extraction(threading.Thread):
    def __init__(self, base: Base, blobs: list[tuple[str, Path]]) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.blobs = blobs
        self.error: str | None = None
        self.start()

    def run(self) -> None:
        if not self.blobs:
            return
        try:
            with subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.base.rootdir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            ) as proc:
                assert proc.stdin is not None and proc.stdout is not None
                for blob, path in self.blobs:
                    # One at a time: git never blocks on output that nobody reads.
                    proc.stdin.write(blob.encode("ascii") + b"\n")
                    proc.stdin.flush()
                    _copy(proc.stdout, blob, path)
                proc.stdin.close()
        except (OSError, ValueError) as exc:
            self.error = str(exc)

    def finish(self) -> None:
        self.join()
        if self.error is not None:
            raise OSError(f"git could not read the files at {self.base.ref}: {self.error}")


def _copy(stream: IO[bytes], blob: str, path: Path) -> None:
    header = stream.readline().split()
    if len(header) != 3 or header[1] != b"blob":
        raise ValueError(f"no blob {blob}")
    left = int(header[2])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        while left:
            chunk = stream.read(min(left, CHUNK))
            if not chunk:
                raise ValueError(f"blob {blob} cut short")
            out.write(chunk)
            left -= len(chunk)
    stream.read(1)  # the newline after each object


def open_base(rootdir: Path, ref: str) -> Base:
    """Resolve REF for the repository that holds ``rootdir``, or raise `GitError`."""
    option = escape(f"--evalmix-base={ref}")  # a ref is text anyone can type into a CI job
    if not ref.strip() or ref.startswith("-") or "\0" in ref:
        raise GitError(f"{option}: not a git revision; name a branch, tag or commit")
    try:
        inside = _git(rootdir, "rev-parse", "--is-inside-work-tree", check=False)
    except FileNotFoundError:
        raise GitError(f"{option}: git is not installed or not on PATH") from None
    if inside.returncode or inside.stdout.strip() != b"true":
        why = _first_line(inside.stderr)
        raise GitError(
            f"{option}: the rootdir {rootdir} is not inside a git work tree, so there is no "
            f"revision {ref!r} to compare with{f' ({why})' if why else ''}; run pytest in a git "
            "checkout, or leave out --evalmix-base"
        )
    resolved = _git(
        rootdir,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{ref}^{{commit}}",
        check=False,
    )
    commit = resolved.stdout.decode("ascii", "replace").strip()
    if resolved.returncode == 0 and commit:
        return Base(ref=ref, commit=commit, rootdir=rootdir)
    shown = escape(repr(ref))
    shallow = _git(rootdir, "rev-parse", "--is-shallow-repository", check=False)
    if shallow.stdout.strip() == b"true" and _beyond_depth(rootdir, ref):
        raise GitError(
            f"{option}: this is a shallow clone and {shown} is not in it; fetch the whole "
            f"history: with actions/checkout set `{FETCH_ALL}`, or run "
            "`git fetch --unshallow`"
        )
    raise GitError(
        f"{option}: there is no branch, tag or commit {shown} here; name one that exists (in "
        "CI, fetch the base branch first, e.g. `git fetch origin main`)"
    )


def _beyond_depth(rootdir: Path, ref: str) -> bool:
    """Whether a REF that does not resolve in a shallow clone may be a commit the clone cut off:
    a commit id (which names no ref, so could be anywhere in the history), or a walk back from
    a ref that exists (``main~3``, ``HEAD^``). A branch or tag name that is not here is not
    the depth's fault (docs/cli.md)."""
    if re.fullmatch(r"[0-9a-fA-F]{4,64}", ref):
        return True
    start = re.split(r"[~^@]", ref, maxsplit=1)[0] or "HEAD"
    if start == ref:
        return False
    found = _git(
        rootdir, "rev-parse", "--verify", "--quiet", "--end-of-options", start, check=False
    )
    return found.returncode == 0


@contextmanager
def set_at(
    base: Base,
    manifest: str,
    project_policy: Mapping[str, Any],
    sharing: int = 1,
    *,
    lines: Lines | None = None,
) -> Iterator[EvalSet | None]:
    """The eval set whose manifest is ``manifest`` (relative to the rootdir) as it was at REF,
    loaded from a temporary directory that lives as long as the context; ``None`` when the
    manifest did not exist at REF. A manifest that cannot be read at REF raises
    `ManifestError`, as at HEAD.

    ``lines``, when given, writes REF's copy of the plain JSONL files (read as their own keys,
    under ``schema.extra: forbid``), whose lines the loader reads each on its own; other files
    are copied whole.
    """
    tree = base.tree()
    blob = tree.get(manifest)
    if blob is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="evalmix-base-") as tmp:
        root, raw = Path(tmp) / "root", Path(tmp) / "raw"
        path = root / manifest
        base.extract([(blob, path)]).finish()
        placeholders = _placeholders(root, path, manifest, tree)
        evalset = load(path, root, project_policy, sharing, records=False)
        plain = evalset.policy.schema_.extra == "forbid"
        blobs: list[tuple[str, Path]] = []
        rewrites: list[tuple[str, str, Path]] = []
        for source in evalset.record_files:
            shown = display_path(source.path, root)
            for name in placeholders:
                if name == shown or name.startswith(shown + "/"):
                    if lines is not None and plain and plain_jsonl(source):
                        rewrites.append((name, tree[name], root / name))
                    else:
                        blobs.append((tree[name], root / name))
        # Other formats are copied whole by a thread, while `lines` works on the JSONL.
        extraction = base.extract(blobs)
        try:
            if lines is not None:
                raw.mkdir()
                lines.write(base, rewrites, raw)
        finally:
            extraction.finish()
        fill(evalset, sharing)
        yield evalset


def layout_at(
    base: Base, manifest: str, project_policy: Mapping[str, Any], root: Path
) -> EvalSet | None:
    """The set whose manifest is ``manifest`` as it was at REF, resolved in ``root`` (an empty
    folder) with no records read: its manifest is written there and every file its data entries
    could name is an empty placeholder, so the caller writes only the files it will read.
    ``None`` when the manifest did not exist at REF; a bad manifest raises `ManifestError`.
    `revisions.history` resolves each commit this way (docs/cli.md).
    """
    blob = base.tree().get(manifest)
    if blob is None:
        return None
    path = root / manifest
    base.extract([(blob, path)]).finish()
    _placeholders(root, path, manifest, base.tree())
    return load(path, root, project_policy, records=False)


def _placeholders(root: Path, path: Path, manifest: str, tree: Mapping[str, str]) -> list[str]:
    """Create an empty file for each file at REF that a data entry could name, so that the
    loader's own glob and path rules pick the entries' files; return their names.

    Only files under each entry's fixed leading folders are created, not the whole tree.
    """
    try:
        parsed, _ = read_manifest(path, manifest)
    except ManifestError:
        return []  # the loader raises it again, with its line
    here = posixpath.dirname(manifest)
    names: set[str] = set()
    for entry in parsed.data:
        pattern = entry.path if isinstance(entry, DataFile) else entry
        if os.path.isabs(pattern):
            continue
        full = posixpath.normpath(posixpath.join(here, pattern))
        if full == ".." or full.startswith("../"):
            continue
        parts = full.split("/")
        fixed: list[str] = []
        for part in parts:
            if glob.has_magic(part):
                break
            fixed.append(part)
        if len(fixed) == len(parts):  # a file or a folder
            prefix = full
            names.update(n for n in tree if n == prefix or n.startswith(prefix + "/"))
        else:
            prefix = "/".join(fixed)
            names.update(n for n in tree if not prefix or n.startswith(prefix + "/"))
    names.discard(manifest)
    for name in sorted(names):
        target = root / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        except OSError:  # a file at REF where a folder is needed: the loader will say so
            continue
    return sorted(names)


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and result.returncode:
        raise OSError(f"git {args[0]} failed: {_first_line(result.stderr)}")
    return result


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else ""


__all__ = ["Base", "GitError", "layout_at", "open_base", "set_at"]
