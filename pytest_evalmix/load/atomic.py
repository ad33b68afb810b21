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


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends), creating its directory."""
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
