"""Child interpreters that read part of the input while this process reads the rest: the one
mechanism behind the parallel paths for big JSONL record files, big results files and Arrow files
(docs/performance.md).

A child is ``python -m`` one of our own modules, which calls `serve` with its job: it reads a
JSON spec on stdin, pickles each item the job yields to its output (a pipe, or an unlinked
temporary file of the parent's making), then `END`. The parent reads the items with
`Child.items`; a child that fails or is killed only ends the items early, and the caller reads
the rest itself, so a child costs time and never results.

The standard library's `subprocess` runs them, not `multiprocessing`: its spawn start method
re-runs the caller's ``__main__`` (pytest's, or a user's script) in each child, and fork is
unsafe in a process with threads (the git extraction threads, an xdist worker's channel).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

END = "end"
"""The last item a child sends: everything before it was delivered."""

# Below this many bytes of plain JSONL, starting processes costs more than it saves. The
# environment variable exists for tuning and for the tests of the parallel path.
PARALLEL_BYTES = 32 * 1024 * 1024


PARALLEL_ENV = "PYTEST_EVALMIX_PARALLEL_BYTES"


def parallel_bytes() -> int:
    try:
        return int(os.environ.get(PARALLEL_ENV, PARALLEL_BYTES))
    except ValueError:
        return PARALLEL_BYTES


def aligned(path: Path, offsets: list[int]) -> list[int]:
    """Move each offset forward to the start of the next line."""
    bounds: list[int] = []
    with path.open("rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            handle.readline()
            bounds.append(max(handle.tell(), bounds[-1] if bounds else 0))
    return bounds


_SEPARATOR = "\x1e"  # ASCII record separator: never in a sane id, and checked for anyway


class PickledIds:
    """A child pickles its pieces for the parent, which waits for them. Half a million ids as
    one joined string pickle and load several times faster than as a list, provided no id
    contains the separator (then they go as a list)."""

    ids: list[str]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        joined = _SEPARATOR.join(self.ids)
        if joined.count(_SEPARATOR) == max(len(self.ids) - 1, 0):
            state["ids"] = (len(self.ids), joined)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        ids = state["ids"]
        if isinstance(ids, tuple):
            count, joined = ids
            state["ids"] = joined.split(_SEPARATOR) if count else []
        self.__dict__.update(state)


class Child:
    """One child interpreter at work on a spec (see the module docstring)."""

    def __init__(self, process: subprocess.Popen[bytes], output: IO[bytes] | None) -> None:
        self.process = process
        self.output = output
        self.complete = False

    def items(self) -> Iterator[Any]:
        """What the child sent, in order, up to `END` (then `complete` is true). A child that
        failed ends the items early; a file output is read once the child has exited."""
        process = self.process
        try:
            if self.output is not None:
                process.wait()
                self.output.seek(0)
                stream: IO[bytes] | None = self.output
            else:
                stream = process.stdout
            if stream is None:
                return
            while True:
                item = pickle.load(stream)  # our own child's, through our own pipe or file
                if isinstance(item, str) and item == END:
                    self.complete = process.wait() == 0
                    return
                yield item
        except Exception:
            return
        finally:
            if not self.complete:
                self.close()

    def collect(self) -> list[Any] | None:
        """Every item, or None when the child did not deliver them all."""
        items = list(self.items())
        return items if self.complete else None

    def close(self) -> None:
        """Let the child and its output go, whatever it was doing."""
        process = self.process
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self.output is not None:
            self.output.close()


def start(module: str, spec: Any, output: IO[bytes] | None = None) -> Child | None:
    """A child running ``python -m module`` on ``spec`` (plain JSON data), writing to ``output``
    or to a pipe; None if none could start."""
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=output if output is not None else subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    child = Child(process, output)
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(spec).encode())
        process.stdin.close()
    except OSError:
        child.close()
        return None
    return child


def serve(job: Callable[[Any], Iterable[Any]]) -> None:
    """The child's side: run ``job`` on the spec from stdin, pickling each item as it comes."""
    spec = json.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    for item in job(spec):
        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.dump(END, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def cores(sharing: int = 1) -> int:
    """This process's share of the cores, when ``sharing`` processes like it run side by side."""
    return (os.cpu_count() or 1) // max(sharing, 1)
