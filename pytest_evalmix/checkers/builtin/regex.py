"""The ``regex`` checker: verifies a gold against ``label.pattern``, within a time limit."""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pytest_evalmix.checkers.contract import CheckerError, show

if TYPE_CHECKING:
    from pytest_evalmix.model.records import Example


def verify(example: Example) -> bool:
    """Verifies that the gold, stripped, fully matches ``label.pattern``."""
    pattern = example.label.pattern
    if not pattern:
        raise CheckerError(
            "label.pattern is not set", "add label.pattern: the regex the gold must fully match"
        )
    if not isinstance(example.gold, str):
        raise CheckerError(
            f"regex checks a string gold, and this gold is {show(example.gold)}",
            "write the gold as a string",
        )
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise CheckerError(
            f"label.pattern is not a valid regex: {exc}", "fix the regex in label.pattern"
        ) from None
    with _time_limit(REGEX_SECONDS):
        try:
            return compiled.fullmatch(example.gold.strip()) is not None
        except _TooSlow:
            raise CheckerError(
                f"label.pattern took over {REGEX_SECONDS:g} s to match the gold (catastrophic "
                "backtracking, such as (a+)+)",
                "simplify label.pattern: avoid nested repetition",
            ) from None


# A pattern comes from data, and a bad one can backtrack for hours on a short gold.
REGEX_SECONDS = 2.0


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` with `_TooSlow`, where a timer signal can do it.

    ``re`` matching checks for signals (CPython 3.11+), so an interval timer stops a runaway
    match. Only the main thread of a POSIX process gets signals; elsewhere the block runs
    unbounded. A timer that was already armed (pytest-timeout's, say) gets its handler back
    and what remained of its time.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    pending, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if pending:
            left = pending - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), interval)
