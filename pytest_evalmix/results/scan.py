"""Reading a big evalmix results file fast: lines validated a piece at a time, the tail by a
child interpreter (`formats.parallel`) while this process reads the head or loads the set.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic_core import SchemaValidator, ValidationError

from pytest_evalmix.formats import fastdecode, parallel
from pytest_evalmix.formats.validators import build

MODULE = "pytest_evalmix.results.scan"


@dataclass
class ResultsPiece(parallel.PickledIds):
    """Some results of a results file, as a child hands them back, a few at a time.

    ``codes[i]`` is 1 (passed) or 2 plus an index into ``modes`` (failed), for ``ids[i]`` at
    line ``lines[i]`` of the piece; ``failed`` holds the lines that did not validate. The piece
    covers ``newlines`` lines and ends at byte ``end`` of the file.
    """

    ids: list[str]
    codes: array[int]
    lines: array[int]
    modes: list[str | None]
    failed: list[tuple[int, bytes]]
    newlines: int
    end: int


# Results go back in pieces of this many lines, so the receiving process holds one piece's ids
# at a time, not half a file's.
RESULTS_PIECE_LINES = 50_000


def scan_results(
    path: str,
    start: int,
    end: int,
    validate: SchemaValidator,
    piece_lines: int = 0,
    fast: Any = None,
) -> Iterator[ResultsPiece]:
    """Validate the results-file lines that start in ``[start, end)``, a piece at a time:
    each through ``fast`` (`fastdecode`) first, and through ``validate`` if it refuses."""
    piece_lines = piece_lines or RESULTS_PIECE_LINES
    validate_json = validate.validate_json
    decode = fast.decode if fast is not None else fastdecode.refuse
    refused = fastdecode.REFUSED
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        lines_iter = iter(handle)
        while position < end:
            ids: list[str] = []
            codes, lines = array("I"), array("I")
            modes: dict[str | None, int] = {None: 0}
            failed: list[tuple[int, bytes]] = []
            line = 0
            for raw in lines_iter:
                position += len(raw)
                line += 1
                rid: str | None
                try:
                    result = decode(raw)
                    rid, passed, mode = result.id, result.passed, result.failure_mode
                except refused:
                    try:
                        record = validate_json(raw)
                    except ValidationError:
                        rid = None  # a valid id is never empty: None marks a failed line
                        if raw.strip():
                            failed.append((line, raw))
                    else:
                        rid, passed = record["id"], record["passed"]
                        mode = record.get("failure_mode")
                if rid is not None:
                    ids.append(rid)
                    lines.append(line)
                    codes.append(1 if passed else 2 + modes.setdefault(mode, len(modes)))
                if position >= end or line == piece_lines:
                    break
            else:
                position = end  # the file ended (or shrank) before ``end``
            yield ResultsPiece(ids, codes, lines, list(modes), failed, line, position)


def results_decoder(schema: dict[str, Any]) -> Any:
    """The msgspec decoder of result lines (`fastdecode`), or None."""
    return fastdecode.decoder(schema, "Result")


@dataclass
class Pending:
    """A child reading results bytes ``[start, end)`` of ``path`` into an unlinked temporary
    file of this process's own making: it never waits for a reader, so it works at full speed
    while this process does something else (loads the set the results are for)."""

    path: Path
    start: int
    end: int
    child: parallel.Child

    def stop(self) -> None:
        """Let the child and its output go, whatever it was doing."""
        self.child.close()


def start_results(path: Path, start: int, end: int, schema: Any) -> Pending | None:
    """A child reading the results in ``[start, end)`` of ``path`` (``start`` at a line
    start), or None when no child can start or there is only one core."""
    if parallel.cores() < 2:
        return None
    try:
        output: IO[bytes] = tempfile.TemporaryFile()
    except OSError:  # no writable temporary directory: read here, later
        return None
    spec = {"schema": schema, "results": [str(path), start, end], "lines": RESULTS_PIECE_LINES}
    child = parallel.start(MODULE, spec, output)
    if child is None:
        output.close()
        return None
    return Pending(path, start, end, child)


def results_pieces(
    path: Path, size: int, schema: Any, pending: Pending | None = None
) -> Iterator[ResultsPiece]:
    """Every result of the file's first ``size`` bytes, as pieces in file order.

    ``pending`` is a child started earlier on the whole file (`start_results`). Without one a
    big file's tail goes to a child now, while this process reads the head. Whatever a child
    did not deliver, because it failed or was killed, is read here, so a child costs time and
    never results.
    """
    cut = 0
    if pending is None and size >= parallel.parallel_bytes():
        try:
            # The head is read here meanwhile, and joined, so the child takes a bit more.
            cut = parallel.aligned(path, [size * 9 // 20])[0]
        except OSError:
            cut = size
        pending = start_results(path, cut, size, schema) if cut < size else None
        if pending is None:
            cut = 0
    fast = results_decoder(schema)
    if pending is not None and cut:
        yield from scan_results(str(path), 0, cut, build(schema), fast=fast)
    done = pending.start if pending is not None else 0
    if pending is not None:
        try:
            for piece in pending.child.items():
                if not isinstance(piece, ResultsPiece) or done >= min(pending.end, size):
                    break
                done = piece.end
                yield piece
        finally:
            pending.stop()
    if done < size:
        yield from scan_results(str(path), done, size, build(schema), fast=fast)


def child_job(spec: dict[str, Any]) -> Iterator[ResultsPiece]:
    """A child's work (`parallel.serve`): the pieces of the byte range the spec names."""
    path, start, end = spec["results"]
    yield from scan_results(
        path, start, end, build(spec["schema"]), spec["lines"], results_decoder(spec["schema"])
    )


if __name__ == "__main__":
    # The package's copy, so pickled pieces name `pytest_evalmix.results.scan.ResultsPiece`,
    # which the parent can load, and not `__main__.ResultsPiece`, which it cannot.
    from pytest_evalmix.results.scan import child_job as job

    parallel.serve(job)
