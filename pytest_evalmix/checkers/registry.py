"""Checkers: code that makes a gold programmatic (SPEC §4).

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

import ast
import contextlib
import inspect
import json
import math
import operator
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pytest_evalmix.model.records import Example

F = TypeVar("F", bound=Callable[..., Any])

# A registered name looks like an identifier with dashes or dots, never like an import path
# (``os:system``, ``pkg/mod.py``), so a name that smells of code can never be a known checker.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")


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


_BUILTIN: dict[str, Checker] = {}
_USER: dict[str, Checker] = {}
# Bumped as each pytest session starts (before its conftests are imported), see `_live`.
_session = 0


def _origin(function: Callable[..., Any]) -> str:
    code = getattr(function, "__code__", None)
    where = f" in {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
    return f"{getattr(function, '__qualname__', repr(function))}(){where}"


def _takes_env(name: str, function: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return True
    if len(positional) not in (1, 2):
        raise TypeError(
            f"checker '{name}' must take (example) or (example, env), "
            f"not {len(positional)} required arguments"
        )
    return len(positional) == 2


def _register(table: dict[str, Checker], name: str, function: F, verifies: bool) -> F:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"checker name {name!r} is not valid: use letters, digits, '-', '_' or '.', "
            "starting with a letter"
        )
    entry = Checker(
        name, function, verifies, _takes_env(name, function), _origin(function), _session
    )
    existing = _BUILTIN.get(name) or _USER.get(name)
    if existing is not None and not _live(existing):
        existing = None
    # Importing the same file twice (importlib mode, a re-imported conftest) is not a clash.
    if existing is not None and existing.origin != entry.origin:
        raise ValueError(
            f"checker '{name}' is already registered by {existing.origin}; "
            "give this one another name"
        )
    table[name] = entry
    return function


def checker(name: str, *, verifies: bool = False) -> Callable[[F], F]:
    """Register the decorated function as the checker ``name`` (see the module docstring).

    ``verifies=False`` (the default): the function computes the gold and its result must equal
    the record's gold. ``verifies=True``: the function returns ``True`` or ``False``.
    """
    if callable(name):
        raise TypeError("use @checker('name'), with the name records give in label.checker")

    def decorate(function: F) -> F:
        return _register(_USER, name, function, verifies)

    return decorate


def builtins() -> dict[str, Checker]:
    return dict(_BUILTIN)


def registered() -> dict[str, Checker]:
    """Every checker known now: the built-ins and those registered by conftests and modules."""
    return {**_BUILTIN, **{name: c for name, c in _USER.items() if _live(c)}}


def new_session() -> None:
    """Mark the start of a pytest session in this process (called before conftests load)."""
    global _session
    _session += 1


def _live(entry: Checker) -> bool:
    """Whether a user checker still belongs to the code in effect.

    A checker registered during this session is. One from an earlier session in the same process
    is only if its module is still the one imported under its name: a package conftest or an
    ``evalmix_checkers`` module that Python will not import again. A conftest that pytester (or
    pytest, for a plain ``conftest``) dropped from ``sys.modules`` takes its checkers with it, so
    runs in one process never see each other's checkers.
    """
    if entry.session == _session or _BUILTIN.get(entry.name) is entry:
        return True
    namespace = getattr(entry.function, "__globals__", None)
    if namespace is None:
        return True
    module = sys.modules.get(str(namespace.get("__name__", "")))
    return module is not None and getattr(module, "__dict__", None) is namespace


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
    """The number a text gold reads as (SPEC §4: ``"55"`` equals a computed ``55``), if any."""
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


# --- arithmetic ---------------------------------------------------------------------------------

MAX_EXPRESSION = 1000
MAX_EXPONENT = 100
MAX_MAGNITUDE = 10**300

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_ALLOWED = "only numbers, + - * / ** %, unary + and -, and parentheses are allowed"


def calculate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely: parsed with `ast`, never `eval`.

    Bounds keep a hostile expression cheap: at most `MAX_EXPRESSION` characters, exponents of at
    most `MAX_EXPONENT` in magnitude, and no intermediate value beyond `MAX_MAGNITUDE`. Raises
    `CheckerError` for anything else, including a division by zero.
    """
    if len(expression) > MAX_EXPRESSION:
        raise CheckerError(
            f"the expression is {len(expression)} characters long, more than {MAX_EXPRESSION}",
            "shorten the expression, or write a checker of your own for it",
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CheckerError(
            f"{show(expression)} is not an arithmetic expression",
            f"write the expression with {_ALLOWED.removeprefix('only ')}",
        ) from None
    try:
        return _evaluate(tree.body, expression)
    except RecursionError:
        raise CheckerError("the expression is nested too deeply", "simplify it") from None


def _evaluate(node: ast.expr, source: str) -> int | float:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _bounded(value)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _bounded(_UNARY[type(node.op)](_evaluate(node.operand, source)))
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left, source)
        right = _evaluate(node.right, source)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CheckerError(
                f"exponent {show(right)} is larger than {MAX_EXPONENT} in magnitude",
                "use a smaller exponent",
            )
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CheckerError(
                f"division by zero in {show(source)}", "fix the expression in the input"
            ) from None
        except OverflowError:
            raise CheckerError(f"{show(source)} overflows", "use smaller numbers") from None
        if isinstance(result, complex):
            raise CheckerError(
                f"{show(source)} has no real result", "fix the expression in the input"
            )
        return _bounded(result)
    segment = ast.get_source_segment(source.strip(), node) or type(node).__name__
    raise CheckerError(
        f"{show(segment)} is not allowed in an arithmetic expression: {_ALLOWED}",
        "write the input as plain arithmetic, or register a checker of your own for it",
    )


def _bounded(value: int | float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise CheckerError("a value in the expression overflows", "use smaller numbers")
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        raise CheckerError("a value in the expression exceeds 10**300", "use smaller numbers")
    return value


def _arithmetic(example: Example) -> int | float:
    """Computes the gold from ``input`` (a string) or ``input.expression``."""
    data = example.input
    expression = data.get("expression") if isinstance(data, dict) else data
    if not isinstance(expression, str):
        raise CheckerError(
            "arithmetic reads the expression from the input when it is a string, "
            "else from input.expression",
            "give the input as an expression such as '2 * 19.99', or add input.expression",
        )
    return calculate(expression)


# --- regex --------------------------------------------------------------------------------------


def _regex(example: Example) -> bool:
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


# --- sqlite -------------------------------------------------------------------------------------

SQLITE_SECONDS = 5.0
SQLITE_MAX_ROWS = 10_000
# Memory: no single string or blob over SQLITE_MAX_VALUE (SQLite refuses to build one, so
# ``zeroblob(100000000)`` fails at once), and no result over SQLITE_MAX_BYTES in all.
SQLITE_MAX_VALUE = 1_000_000
SQLITE_MAX_BYTES = 16 * 2**20
SQLITE_MAX_SQL = 100_000
_SQLITE_SETTINGS = {"database"}


def _sqlite(example: Example, env: CheckerEnv) -> list[list[Any]]:
    """Computes the rows of ``input`` (a string) or ``input.query``, as a list of lists.

    The database is ``policy.checkers.sqlite.database``, relative to the manifest. It is opened
    read-only, and an authorizer lets only reads run: no ATTACH, no PRAGMA, no writes. A query
    that runs longer than `SQLITE_SECONDS` or returns more than `SQLITE_MAX_ROWS` rows is refused.
    """
    import sqlite3

    unknown = sorted(set(env.settings) - _SQLITE_SETTINGS)
    if unknown:
        raise CheckerError(
            f"unknown setting policy.checkers.sqlite.{unknown[0]}",
            "the sqlite checker has one setting, database",
        )
    database = env.settings.get("database")
    if not isinstance(database, str) or not database.strip():
        raise CheckerError(
            "policy.checkers.sqlite.database is not set",
            "name the database file in the manifest: "
            "policy: {checkers: {sqlite: {database: db/orders.sqlite}}}",
        )
    # Imported here: this module stays light for conftests, and a check has loaded it anyway.
    from pytest_evalmix.files.paths import inside

    path = (env.base_dir / database).absolute()
    if not inside(path, env.rootdir):
        raise CheckerError(
            f"database '{database}' resolves outside the rootdir; it was not opened",
            "keep the database under the project's rootdir",
        )
    if not path.is_file():
        raise CheckerError(
            f"database '{database}' not found",
            "fix policy.checkers.sqlite.database (it is relative to the manifest)",
        )
    data = example.input
    query = data.get("query") if isinstance(data, dict) else data
    if not isinstance(query, str):
        raise CheckerError(
            "sqlite reads the query from the input when it is a string, else from input.query",
            "give the input as a SELECT statement, or add input.query",
        )
    deadline = time.monotonic() + SQLITE_SECONDS
    allowed = {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }

    def authorize(action: int, *_: Any) -> int:
        return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CheckerError(f"cannot open database '{database}': {exc}") from None
    try:
        connection.set_authorizer(authorize)
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        _limit_memory(connection)
        cursor = connection.execute(query)
        rows: list[Any] = []
        size = 0
        # Row by row, so that without SQLite's own limits (Python < 3.11) at most one oversized
        # row is held when the byte cap stops the query.
        for row in cursor:
            rows.append(row)
            if len(rows) > SQLITE_MAX_ROWS:
                break
            size += sum(_value_bytes(value) for value in row)
            if size > SQLITE_MAX_BYTES:
                raise CheckerError(
                    f"the query returns more than {SQLITE_MAX_BYTES // 2**20} MiB",
                    "narrow the query: a gold is a few values, not a table dump",
                )
    except sqlite3.Error as exc:
        if time.monotonic() > deadline:
            raise CheckerError(
                f"the query ran longer than {SQLITE_SECONDS:g} seconds", "simplify the query"
            ) from None
        detail = str(exc)
        if "not authorized" in detail:
            detail += " (only reading statements may run: the database is opened read-only)"
        raise CheckerError(
            f"the query failed: {detail}",
            "fix input.query: one read-only SELECT against the database",
        ) from None
    finally:
        connection.close()
    if len(rows) > SQLITE_MAX_ROWS:
        raise CheckerError(
            f"the query returns more than {SQLITE_MAX_ROWS} rows", "narrow the query"
        )
    return [list(row) for row in rows]


def _limit_memory(connection: Any) -> None:
    """SQLite's own limits where Python exposes them (3.11+); before that, only the cap on the
    result's bytes applies, counted as rows arrive."""
    import sqlite3

    setlimit = getattr(connection, "setlimit", None)
    if setlimit is None:
        return
    for name, value in (
        ("SQLITE_LIMIT_LENGTH", SQLITE_MAX_VALUE),
        ("SQLITE_LIMIT_SQL_LENGTH", SQLITE_MAX_SQL),
    ):
        category = getattr(sqlite3, name, None)
        if category is not None:
            setlimit(category, value)


def _value_bytes(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return len(value)
    return 8


_register(_BUILTIN, "arithmetic", _arithmetic, verifies=False)
_register(_BUILTIN, "regex", _regex, verifies=True)
_register(_BUILTIN, "sqlite", _sqlite, verifies=False)
