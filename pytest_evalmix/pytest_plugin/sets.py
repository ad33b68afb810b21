"""Each eval set loaded once per process, shared by the manifest's check items and `examples()`.

A set is needed by the manifest's check items and by every test module that parametrizes with
`pytest_evalmix.examples`. Loading a million examples takes seconds, so the loaded `EvalSet`,
and the examples streamed for `examples()`, are kept on the session's `config.stash`: they live
exactly as long as the pytest session, and a second session in the same process (pytester,
``pytest.main`` twice) starts afresh. Under pytest-xdist the controller judges every check, so
it alone reads the records for them; a worker reads a manifest only, and its records only for
`examples()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_evalmix.errors import ManifestError
from pytest_evalmix.evalset.load import fill, load
from pytest_evalmix.evalset.sources import examples as read_examples
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.policy import from_pyproject
from pytest_evalmix.model.records import Example
from pytest_evalmix.pytest_plugin.fixtures import is_xdist_worker, xdist_workers
from pytest_evalmix.results import file as results_file


@dataclass
class _Loaded:
    """What this process has loaded: the project policy, and per manifest its set, or the
    error that made it unreadable (so every caller reports the same error, without retrying)."""

    project_policy: Mapping[str, Any] | None = None
    sets: dict[Path, EvalSet | ManifestError] = field(default_factory=dict)
    examples: dict[Path, list[Example]] = field(default_factory=dict)
    filled: set[Path] = field(default_factory=set)  # sets whose records are read


LOADED = pytest.StashKey[_Loaded]()


def _state(config: pytest.Config) -> _Loaded:
    state = config.stash.get(LOADED, None)
    if state is None:
        state = config.stash[LOADED] = _Loaded()
    return state


def project_policy(config: pytest.Config) -> Mapping[str, Any]:
    """``[tool.evalmix.policy]`` of the rootdir's pyproject.toml, read once.

    Raises `PolicyError` or `ValueError` (a TOML syntax error) as `from_pyproject` does; the
    callers turn them into a usage error or a failed collection.
    """
    state = _state(config)
    if state.project_policy is None:
        state.project_policy = from_pyproject(config.rootpath)
    return state.project_policy


def evalset(config: pytest.Config, manifest: Path, *, records: bool = True) -> EvalSet:
    """The loaded eval set of ``manifest``; raises `ManifestError` if it cannot be read.

    With ``records=False`` only the manifest is read (enough to collect its checks): an xdist
    worker that never judges a check leaves the records to the controller. A later call that
    wants the records reads them into the same set.
    """
    state = _state(config)
    key = manifest.absolute()
    loaded = state.sets.get(key)
    if loaded is None:
        try:
            loaded = load(key, config.rootpath, project_policy(config), records=False)
        except ManifestError as exc:
            loaded = exc
        state.sets[key] = loaded
    if isinstance(loaded, ManifestError):
        raise loaded
    if records and key not in state.filled:
        state.filled.add(key)
        if not is_xdist_worker(config):
            # The checks judge the results after the evals: read them beside the set now.
            results_file.prefetch(loaded)
        fill(loaded, sharing=xdist_workers(config))
    return loaded


def examples(config: pytest.Config, manifest: Path) -> list[Example]:
    """Every valid example of the set, whole, in file order: streamed once per process."""
    state = _state(config)
    key = manifest.absolute()
    cached = state.examples.get(key)
    if cached is None:
        cached = state.examples[key] = [
            example for _, example in read_examples(evalset(config, manifest))
        ]
    return cached


def seed_project_policy(config: pytest.Config, policy: Mapping[str, Any]) -> None:
    """The policy that ``pytest_configure`` already read (and vetted as a usage error)."""
    _state(config).project_policy = policy
