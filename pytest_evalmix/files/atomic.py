"""Writing a file so that no reader ever sees half of it.

Results, reports, queues and cache entries are read by other processes: xdist workers, a CI
step, a reviewer's editor. Each is written to a temporary file in the same directory and moved
into place with ``os.replace``, which is atomic on one file system, so a reader sees the old
file or the new one, and a crash halfway leaves the old one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pytest_evalmix.files.paths import check_write

try:
    import fcntl
except ImportError:  # Windows: appends stay whole lines, only the duplicate check is unlocked
    fcntl = None  # type: ignore[assignment]

# Never follow a symlink at the last component when appending (0 where the OS lacks it).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_atomic(
    path: Path, text: str, *, base: Path | None = None, rootdir: Path | None = None
) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends), creating its directory.

    With ``base``, the write is refused (`paths.UnsafePath`, an `OSError`) unless it stays in
    ``base`` once symlinks are resolved; see `paths.check_write`.
    """
    if base is not None:
        check_write(path, base, rootdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; these are ordinary files others may read.
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def open_append(path: Path) -> int:
    """A descriptor for appending to ``path`` (created 0644), refusing a symlink there: an
    append through a committed link would write wherever the link points."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)


def lock(fd: int) -> None:
    """Hold an exclusive lock on ``fd`` until it is closed (a no-op where there is no flock)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
