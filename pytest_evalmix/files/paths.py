"""One rule for paths and symlinks, for every read and every write.

A pull request can commit a symlink as easily as a file, and a data entry is a string anyone can
write. So:

- **Reads** (data files, globs, a manifest, results, review logs) must resolve inside pytest's
  rootdir, symlinks resolved; anything else is a finding and is never opened.
- **Globs** start from their literal prefix, which is tested against the rootdir before a single
  directory is listed, and ``**`` never descends into a symlinked directory, so a link loop
  (``loop -> .``) or ``/**/*.jsonl`` cannot make a run walk forever or walk the machine.
- **Writes** (results, reports, the cache, the ledger, review logs, queues) must land where they
  are meant to: below their base directory (``evalmix_dir``, or the directory a relative report
  path is taken from) once every symlink is resolved, with the base itself inside the rootdir
  when it is lexically there, and never through a symlink or onto something that is not a
  regular file. A committed ``.evalmix/results -> ../evals/data`` would otherwise let the results
  of a set named ``production`` replace ``evals/data/production.jsonl``.

Refusals are `UnsafePath`, an `OSError`, so every writer's existing "could not write" handling
reports them in one line.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from pathlib import Path

from pytest_evalmix.model.defaults import RECORD_SUFFIXES as SUFFIXES
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.text import escape

# POSIX file systems (ext4, APFS, NTFS via its API) refuse a name longer than this many bytes.
NAME_MAX = 255


def is_saved_dataset(path: Path) -> bool:
    """A folder written by ``Dataset.save_to_disk``: its ``state.json`` lists the data files."""
    return path.is_dir() and (path / "state.json").is_file()


class UnsafePath(OSError):
    """A write that would leave its directory through a symlink, or replace what it must not."""

    def __init__(self, message: str) -> None:
        message = escape(message)  # it names paths, which a pull request chose
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def display_path(path: Path, rootdir: Path) -> str:
    try:
        return path.relative_to(rootdir).as_posix()
    except ValueError:
        return path.as_posix()


def inside(path: Path, rootdir: Path) -> bool:
    """True when ``path``, every symlink resolved, is ``rootdir`` or below it."""
    try:
        path.resolve().relative_to(rootdir.resolve())
    except (ValueError, OSError, RuntimeError):  # outside, a NUL byte, a symlink loop
        return False
    return True


def lexically_inside(path: Path, base: Path) -> bool:
    """True when ``path`` is below ``base`` as written, ``..`` folded, no symlink followed."""
    try:
        Path(os.path.normpath(path)).relative_to(os.path.normpath(base))
    except ValueError:
        return False
    return True


def bad_name(written: str) -> str | None:
    """Why a path as written can never name a file, if it cannot: checked before the OS sees
    it, so the answer is a finding and not an exception."""
    if "\x00" in written:
        return "contains a NUL byte"
    for part in written.replace("\\", "/").split("/"):
        if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
            return f"has a component longer than {NAME_MAX} bytes"
    return None


def check_write(path: Path, base: Path, rootdir: Path | None = None) -> Path:
    """Return ``path`` if writing it stays inside ``base``; raise `UnsafePath` otherwise.

    ``base`` must itself resolve inside ``rootdir`` when it is lexically inside it (a configured
    ``evalmix_dir`` outside the project is the user's choice; a symlink out of it is not).
    """
    shown = display_path(Path(os.path.normpath(path)), rootdir or base)
    if rootdir is not None:
        if lexically_inside(base, rootdir) and not inside(base, rootdir):
            raise UnsafePath(
                f"refused to write {shown}: {display_path(base, rootdir)} is a symlink that "
                "leads outside the rootdir — replace the symlink with a real directory"
            )
    try:
        real_base = base.resolve()
        real_parent = path.parent.resolve()
    except (OSError, RuntimeError) as exc:
        raise UnsafePath(f"refused to write {shown}: {exc}") from None
    try:
        real_parent.relative_to(real_base)
    except ValueError:
        target = real_parent.as_posix()
        if rootdir is not None and inside(real_parent, rootdir):
            target = display_path(real_parent, rootdir.resolve())
        raise UnsafePath(
            f"refused to write {shown}: a symlink in its directory leads outside "
            f"{display_path(base, rootdir or base.parent)} (to {target}) — replace the symlink "
            "with a real directory"
        ) from None
    if path.is_symlink():
        raise UnsafePath(
            f"refused to write {shown}: it is a symlink, and writing would follow or replace it "
            "— remove the symlink"
        )
    if path.exists() and not path.is_file():
        raise UnsafePath(f"refused to write {shown}: it exists and is not a regular file")
    return path


def check_write_below(path: Path, rootdir: Path, *others: Path) -> Path:
    """`check_write` against the first of the rootdir and ``others`` that ``path`` is below as
    written (a report path given relative to where pytest started); a path below none of them
    was written that way on purpose and is not checked."""
    for base in (rootdir, *others):
        if lexically_inside(path, base):
            return check_write(path, base, rootdir)
    return path


def outside_finding(shown: str, line: int, written: str) -> Finding:
    return Finding(
        shown,
        line,
        None,
        f"data path '{written}' resolves outside the rootdir; it was not read",
        "move the file under the project's rootdir and point the manifest at it",
    )


def _glob_root(pattern: str) -> tuple[str, list[str]]:
    """The literal directory prefix of a glob pattern, and its remaining components."""
    parts = pattern.replace("\\", "/").split("/")
    literal: list[str] = []
    rest = parts[-1:]
    for index, part in enumerate(parts[:-1]):
        if glob.has_magic(part):
            rest = parts[index:]
            break
        literal.append(part)
    prefix = "/".join(literal)
    if literal == [""]:  # an absolute pattern: its root is the file system's
        prefix = "/"
    return prefix or ".", rest


def _match(parts: list[str], names: list[str]) -> bool:
    """Whether path components ``names`` match pattern components ``parts`` (``**`` = any
    number of directories); like `glob`, a wildcard does not match a leading dot."""
    if not parts:
        return not names
    head = parts[0]
    if head == "**":
        if _match(parts[1:], names):
            return True
        return bool(names) and not names[0].startswith(".") and _match(parts, names[1:])
    if not names:
        return False
    name = names[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, head) and _match(parts[1:], names[1:])


def glob_files(root: Path, parts: list[str]) -> list[Path]:
    """Files below ``root`` whose relative path matches ``parts``, sorted; never follows a
    symlinked directory (a loop cannot make it walk forever)."""
    recursive = "**" in parts
    found: list[Path] = []
    depth = len(parts) - 1
    dotted = any(part.startswith(".") for part in parts)
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        rel = os.path.relpath(directory, root)
        names = [] if rel == "." else rel.split(os.sep)
        if not recursive and len(names) >= depth:
            dirnames[:] = []
        elif not dotted:  # a wildcard never matches a hidden name: skip .git and the like
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        dirnames.sort()
        for name in filenames:
            if _match(parts, [*names, name]):
                found.append(Path(directory) / name)
    return sorted(found)


def expand(
    pattern: str,
    here: Path,
    rootdir: Path,
    shown: str,
    line: int,
    findings: list[Finding],
    *,
    kind: str = "data",
    any_type: bool = False,
) -> list[Path]:
    """Resolve one data entry to files, refusing anything outside the rootdir unread.

    ``kind`` names the entry in findings; with ``any_type`` a file of any suffix is taken (a
    ``leakage.against`` entry may be a prompt or any text file)."""
    problem = bad_name(pattern)
    if problem is not None:
        findings.append(
            Finding(
                shown,
                line,
                None,
                f"{kind} path '{pattern}' {problem}: no file can have that name",
                "fix the path in the manifest",
            )
        )
        return []
    full = os.path.join(here, pattern)
    is_glob = glob.has_magic(pattern)
    if is_glob:
        prefix, parts = _glob_root(pattern)
        root = Path(os.path.normpath(os.path.join(here, prefix)))
        if not inside(root, rootdir):
            # Tested before listing anything: `/**/*.jsonl` must not walk the file system.
            findings.append(outside_finding(shown, line, pattern))
            return []
        try:
            candidates = glob_files(root, parts) if root.is_dir() else []
        except OSError as exc:
            findings.append(_unreadable(shown, line, pattern, exc))
            return []
    else:
        candidates = [Path(full)]
    found: list[Path] = []
    outside_told = False
    for path in candidates:
        path = Path(os.path.normpath(path))
        if not inside(path, rootdir):
            if not outside_told:  # one finding per entry, however many links lead out
                findings.append(outside_finding(shown, line, pattern))
                outside_told = True
            continue
        try:
            if is_glob and path.is_dir():
                continue
            exists = path.exists()
        except OSError as exc:
            findings.append(_unreadable(shown, line, pattern, exc))
            continue
        if not exists:
            findings.append(
                Finding(
                    shown,
                    line,
                    None,
                    f"{kind} file '{pattern}' not found",
                    "fix the path (it is relative to the manifest) or remove the entry",
                )
            )
            continue
        if path.is_dir() and path.suffix.lower() not in SUFFIXES:
            # only a Hugging Face save_to_disk folder stands for one record file
            if is_saved_dataset(path):
                found.append(path)
            else:
                findings.append(
                    Finding(
                        shown,
                        line,
                        None,
                        f"{kind} path '{pattern}' is a folder, and not one that Hugging Face's "
                        "save_to_disk wrote",
                        "name the files in it, or a glob such as 'folder/*.jsonl'",
                    )
                )
            continue
        if not any_type and path.suffix.lower() not in SUFFIXES:
            findings.append(
                Finding(
                    shown,
                    line,
                    None,
                    f"data file '{display_path(path, rootdir)}' has an unsupported type",
                    f"use one of {', '.join(SUFFIXES)}",
                )
            )
            continue
        found.append(path)
    if is_glob and not candidates:
        findings.append(
            Finding(
                shown,
                line,
                None,
                f"{kind} glob '{pattern}' matches no file",
                "fix the pattern (it is relative to the manifest) or remove the entry",
            )
        )
    return found


def _unreadable(shown: str, line: int, pattern: str, exc: OSError) -> Finding:
    return Finding(
        shown,
        line,
        None,
        f"data path '{pattern}' cannot be read: {exc.strerror or exc}",
        "fix the path in the manifest, or the file's permissions",
    )
