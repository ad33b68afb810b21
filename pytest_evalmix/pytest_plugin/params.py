"""`examples()`: an eval set's examples as ``pytest.param`` objects, for evals written as tests.

Works with or without ``--evalmix``: parametrizing is plain pytest. Each param carries the
`evalmix_example` marker with plain data (manifest, set name, id, origin); an enabled run reads
it back from the test's item to turn the test's outcome into that example's result.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import pytest

import pytest_evalmix.pytest_plugin.sets as sets  # by full name: see plugin.pytest_configure
from pytest_evalmix.errors import ManifestError
from pytest_evalmix.evalset.load import load
from pytest_evalmix.evalset.sources import examples as read_examples
from pytest_evalmix.files.paths import display_path
from pytest_evalmix.model.policy import PolicyError, from_pyproject, suggest
from pytest_evalmix.model.records import ORIGINS
from pytest_evalmix.model.text import cut
from pytest_evalmix.pytest_plugin.fixtures import ACTIVE_CONFIGS, FAILURE_MODE

# What ``pytest.param`` returns. Its class, ParameterSet, is not part of pytest's public API,
# so it is named only here, as what it is for.
Param = Any

MARKER = "evalmix_example"


def examples(
    manifest: str | os.PathLike[str], origin: str | Iterable[str] | None = None
) -> list[Param]:
    """One ``pytest.param`` per valid example of the eval set, with the example id as test id.

    ``manifest`` is relative to pytest's rootdir (the directory of the ``pyproject.toml`` or
    ``pytest.ini`` that configures the run, so the same string works from any working directory),
    or absolute; called outside a pytest run it is relative to the current directory. ``origin``
    keeps only the examples of that origin, or of those origins.

    Records that fail the ``schema`` check are left out (that check reports them). A manifest that
    cannot be read fails the collection of the calling module with the reason, never a traceback.

    Use it as ``@pytest.mark.parametrize("example", examples("evals/support.evalmix.yaml"))``;
    each test then receives a `pytest_evalmix.Example`.
    """
    config = ACTIVE_CONFIGS[-1] if ACTIVE_CONFIGS else None
    rootdir = config.rootpath if config is not None else Path.cwd()
    wanted = _origins(origin)
    path = Path(os.path.normpath(rootdir / Path(manifest)))
    shown = display_path(path, rootdir)
    where = f"examples({os.fspath(manifest)!r})"
    if not path.is_file():
        _fail(f"{where}: no manifest at {path} (the path is relative to the rootdir {rootdir})")
    try:
        if config is not None:
            # Loaded once per process, and shared with the manifest's own check items.
            found = sets.examples(config, path)
            set_name = sets.evalset(config, path).name
        else:
            evalset = load(path, rootdir, from_pyproject(rootdir))
            found = [example for _, example in read_examples(evalset)]
            set_name = evalset.name
    except PolicyError as exc:
        _fail(f"{where}: pyproject.toml [tool.evalmix.policy]: {exc.message}")
    except ManifestError as exc:
        _fail(f"{where}: {exc}")
    except ValueError as exc:  # a TOML syntax error
        _fail(f"{where}: pyproject.toml: {exc}")
    params = []
    for example in found:
        if wanted is not None and example.origin not in wanted:
            continue
        mark = getattr(pytest.mark, MARKER)(
            manifest=shown, set=set_name, id=example.id, origin=example.origin
        )
        # The test id is shown in -v lines and headers: a huge id is cut there (the mark keeps it).
        params.append(pytest.param(example, id=cut(example.id), marks=mark))
    return params


def _origins(origin: str | Iterable[str] | None) -> frozenset[str] | None:
    if origin is None:
        return None
    chosen = [origin] if isinstance(origin, str) else list(origin)
    for name in chosen:
        if name not in ORIGINS:
            _fail(
                f"examples(origin={name!r}): not an origin{suggest(str(name), set(ORIGINS))}; "
                f"use one of {', '.join(ORIGINS)}"
            )
    return frozenset(chosen)


def _fail(message: str) -> NoReturn:
    __tracebackhide__ = True
    pytest.fail(f"evalmix: {message}", pytrace=False)


def outcome_of(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> dict[str, Any] | None:
    """The result of an eval test as plain data for its report, or ``None`` if it is not one.

    The eval passed if its body raised nothing: a pass, and an xfail-marked test that passed
    (XPASS, strict or not). It failed if the body raised (xfailed tests included: the mark
    says the failure is known, not that it is not a failure) or if its setup errored. A
    skipped test, or an ``xfail(run=False)`` one, measured nothing: no result.
    """
    marker = item.get_closest_marker(MARKER)
    if marker is None or not {"manifest", "id"} <= marker.kwargs.keys():
        return None
    excinfo = call.excinfo
    if call.when == "setup":
        if not report.failed:
            return None
        passed = False
    elif call.when == "call":
        if excinfo is None:
            passed = True
        elif excinfo.errisinstance(pytest.skip.Exception):
            return None
        elif excinfo.errisinstance(pytest.xfail.Exception) and str(excinfo.value).startswith(
            "[NOTRUN]"
        ):
            return None  # xfail(run=False): never ran, so measured nothing
        else:
            passed = False
    else:
        return None
    mode = None
    if not passed:
        mode = item.stash.get(FAILURE_MODE, None) or (excinfo.typename if excinfo else "error")
    path, line, _ = report.location
    kwargs = marker.kwargs
    return {
        "manifest": str(kwargs["manifest"]),
        "set": str(kwargs.get("set") or kwargs["manifest"]),
        "id": str(kwargs["id"]),
        "origin": kwargs.get("origin"),
        "passed": passed,
        "failure_mode": mode,
        "path": path,
        "line": (line or 0) + 1,
    }
