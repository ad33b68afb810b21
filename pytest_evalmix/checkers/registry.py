"""The checker registry: the `checker` decorator, the built-ins, and which checkers are live.

A record only ever names a registered checker (``label.checker: arithmetic``); nothing written in
a data file is imported or evaluated, so a data file cannot choose what code runs. This module
imports no pytest and no pydantic, so ``from pytest_evalmix import checker`` in a conftest costs
next to nothing when the plugin is not enabled (docs/checks.md).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from pytest_evalmix.checkers.builtin import arithmetic, regex, sqlite
from pytest_evalmix.checkers.contract import Checker

F = TypeVar("F", bound=Callable[..., Any])


# A registered name looks like an identifier with dashes or dots, never like an import path
# (``os:system``, ``pkg/mod.py``), so a name that smells of code can never be a known checker.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")


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
    """Register the decorated function as the checker ``name`` (see `checkers.contract`).

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


_register(_BUILTIN, "arithmetic", arithmetic.compute, verifies=False)
_register(_BUILTIN, "regex", regex.verify, verifies=True)
_register(_BUILTIN, "sqlite", sqlite.compute, verifies=False)
