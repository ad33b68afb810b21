"""Checkers: what a checker is, and how its result is judged against a gold (docs/checks.md).

A gold is programmatic when code, not a person or a model, vouches for it. That code is a
*checker*, registered by name with the `checker` decorator in a ``conftest.py`` or in a module
listed in the ini option ``evalmix_checkers``. A record only ever names a registered checker
(``label.checker: arithmetic``); nothing written in a data file is imported or evaluated, so a
data file cannot choose what code runs.

The API, in full::

    from pytest_evalmix import checker

    @checker("refund-window")              # computes the gold: its result must equal it
    def refund_window(example):
        ...
        return True

    @checker("iso-date", verifies=True)    # verifies the gold: returns True or False
    def iso_date(example, env):
        return is_iso_date(example.gold)

A checker takes the record (a `pytest_evalmix.Example`: ``example.input``, ``example.gold``,
``example.label``...) and, if it declares a second parameter, a `CheckerEnv` with its settings
from ``policy.checkers.<name>`` and the directory they are relative to. A *computing* checker
returns the gold it computes, which is compared with the record's gold as JSON values: strings
after stripping surrounding whitespace, numbers with a relative and absolute tolerance of 1e-9
(``2 * 19.99`` is not exactly ``39.98`` in binary floating point), ``true`` never equal to ``1``,
lists (or tuples) element by element, objects key by key. A *verifying* checker
(``verifies=True``) returns ``True`` when the gold is right and ``False`` when it is not. A
checker that raises gives a finding with the exception's message; `CheckerError` is the way to
explain a refusal to the user, with an optional fix.

Built in: ``arithmetic`` (computes), ``regex`` (verifies) and ``sqlite`` (computes). This module
imports no pytest and no pydantic, so ``from pytest_evalmix import checker`` in a conftest costs
next to nothing when the plugin is not enabled.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_evalmix.model.records import Example


class CheckerError(Exception):
    """A checker's refusal to judge an example, shown as a finding with this message and fix."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class CheckerEnv:
    """What a checker may know besides the example: its own settings and where they point.

    ``settings`` is ``policy.checkers.<name>`` of the eval set (empty when not given); paths in
    it are relative to ``base_dir``, the manifest's directory, and must stay inside ``rootdir``.
    """

    settings: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path = Path()
    rootdir: Path = Path()


@dataclass(frozen=True)
class Checker:
    """A registered checker: the function, whether it verifies or computes, where it came from."""

    name: str
    function: Callable[..., Any]
    verifies: bool
    takes_env: bool
    origin: str
    session: int = 0

    def __call__(self, example: Example, env: CheckerEnv) -> Any:
        return self.function(example, env) if self.takes_env else self.function(example)


@dataclass(frozen=True)
class Problem:
    """Why a checker does not vouch for a gold: a finding's message and fix."""

    message: str
    fix: str


def show(value: Any, limit: int = 120) -> str:
    """A value as JSON for a message, cut short only when it is very long."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except ValueError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def not_json(value: Any) -> str | None:
    """The Python type name of the first part of ``value`` that is not a JSON value, if any."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "non-finite float"
    if isinstance(value, (list, tuple)):
        return next((bad for item in value if (bad := not_json(item))), None)
    if isinstance(value, dict):
        if any(not isinstance(key, str) for key in value):
            return "dict with non-string keys"
        return next((bad for item in value.values() if (bad := not_json(item))), None)
    return type(value).__name__


# A number written as text, the way DeepEval and Inspect store every gold: "55", "-3.5", "1e3".
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def number_of(text: str) -> int | float | None:
    """The number a text gold reads as (``"55"`` equals a computed ``55``), if any."""
    stripped = text.strip()
    if len(stripped) > 400 or not _NUMBER_TEXT.fullmatch(stripped):
        return None
    try:
        if any(c in stripped for c in ".eE"):
            return float(stripped)
        return int(stripped)
    except (ValueError, OverflowError):
        return None


def same(computed: Any, gold: Any) -> bool:
    """JSON-value equality, strings stripped, numbers within 1e-9 (see the module docstring);
    a gold of text that reads as a number equals a computed number of that value."""
    if (
        isinstance(gold, str)
        and isinstance(computed, (int, float))
        and not isinstance(computed, bool)
    ):
        number = number_of(gold)
        return number is not None and same(computed, number)
    if isinstance(computed, str) and isinstance(gold, str):
        return computed.strip() == gold.strip()
    if isinstance(computed, bool) or isinstance(gold, bool):
        return isinstance(computed, bool) and isinstance(gold, bool) and computed == gold
    if isinstance(computed, (int, float)) and isinstance(gold, (int, float)):
        if isinstance(computed, int) and isinstance(gold, int):
            return computed == gold
        try:
            return math.isclose(computed, gold, rel_tol=1e-9, abs_tol=1e-9)
        except OverflowError:
            return False
    if computed is None or gold is None:
        return computed is None and gold is None
    if isinstance(computed, (list, tuple)) and isinstance(gold, (list, tuple)):
        return len(computed) == len(gold) and all(map(same, computed, gold))
    if isinstance(computed, dict) and isinstance(gold, dict):
        return computed.keys() == gold.keys() and all(same(computed[k], gold[k]) for k in gold)
    return False


def run(entry: Checker, example: Example, env: CheckerEnv) -> Problem | None:
    """Run one checker on one example: ``None`` when it vouches for the gold, else why not."""
    name = entry.name
    try:
        value = entry(example, env)
    except CheckerError as exc:
        return Problem(
            f"checker '{name}' cannot check this example: {exc.message}",
            exc.fix or "fix the example's input or gold so the checker can judge it",
        )
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        # A user's checker may raise anything, even pytest.skip() or sys.exit(): a finding,
        # not a traceback, and never a skipped or aborted check.
        return Problem(
            f"checker '{name}' raised {type(exc).__name__}: {exc}",
            "fix the example's input or the checker; until the checker reproduces the gold, "
            "the gold is not programmatic",
        )
    gold = example.gold
    if entry.verifies:
        if not isinstance(value, bool):
            return Problem(
                f"checker '{name}' verifies golds but returned {show(value)}, not true or false",
                "return a bool from a verifying checker, or register it without verifies=True "
                "so that its result is compared with the gold",
            )
        if value:
            return None
        return Problem(
            f"checker '{name}' rejects the gold {show(gold)}",
            "correct the gold (or the input the checker reads) until the checker accepts it",
        )
    bad = not_json(value)
    if bad is not None:
        return Problem(
            f"checker '{name}' returned a {bad}, which is not a JSON value",
            "return str, int, float, bool, None, a list or a dict from a computing checker",
        )
    if same(value, gold):
        return None
    hint = ""
    if (
        isinstance(gold, str)
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and number_of(gold) is None
    ):
        hint = " (the gold is a string; write it as a number)"
    return Problem(
        f"checker '{name}' computes {show(value)}, not the gold {show(gold)}{hint}",
        "correct the gold (or the input) so that the checker reproduces it; a gold that its "
        "checker does not reproduce is not programmatic",
    )
