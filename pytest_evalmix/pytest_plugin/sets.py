"""Each eval set loaded once per process, shared by the manifest's check items and `examples()`.

A set is loaded by the manifest's collector and again by every test module that parametrizes
with `pytest_evalmix.examples`; under pytest-xdist every worker does both. Loading a million
examples takes seconds, so the loaded `EvalSet`, and the examples streamed for `examples()`, are
kept on the session's `config.stash`: they live exactly as long as the pytest session, and a
second session in the same process (pytester, ``pytest.main`` twice) starts afresh.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_evalmix.load.evalset import EvalSet, ManifestError, load
from pytest_evalmix.model.policy import from_pyproject
from pytest_evalmix.model.records import Example
from pytest_evalmix.pytest_plugin.fixtures import xdist_workers


@dataclass
class _Loaded:
    """What this process has loaded: the project policy, and per manifest its set, or the
    error that made it unreadable (so every caller reports the same error, without retrying)."""

    project_policy: Mapping[str, Any] | None = None
    sets: dict[Path, EvalSet | ManifestError] = field(default_factory=dict)
    examples: dict[Path, list[Example]] = field(default_factory=dict)


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


def evalset(config: pytest.Config, manifest: Path) -> EvalSet:
    """The loaded eval set of ``manifest``; raises `ManifestError` if it cannot be read."""
    state = _state(config)
    key = manifest.absolute()
    loaded = state.sets.get(key)
    if loaded is None:
        try:
            loaded = load(
                key, config.rootpath, project_policy(config), sharing=xdist_workers(config)
            )
        except ManifestError as exc:
            loaded = exc
        state.sets[key] = loaded
    if isinstance(loaded, ManifestError):
        raise loaded
    return loaded


def examples(config: pytest.Config, manifest: Path) -> list[Example]:
    """Every valid example of the set, whole, in file order: streamed once per process."""
    state = _state(config)
    key = manifest.absolute()
    cached = state.examples.get(key)
    if cached is None:
        cached = state.examples[key] = [
            example for _, example in evalset(config, manifest).examples()
        ]
    return cached


def seed_project_policy(config: pytest.Config, policy: Mapping[str, Any]) -> None:
    """The policy that ``pytest_configure`` already read (and vetted as a usage error)."""
    _state(config).project_policy = policy


def pack(by_manifest: Mapping[str, EvalSet]) -> bytes:
    """The sets that the checks held back until the evals ran (`rules.AFTER_EVALS`) judge, for
    the xdist controller: without the whole records and sparse maps kept for the other checks,
    which those never look at."""
    slim = {
        manifest: dataclasses.replace(evalset, kept={}, generated={}, reviews={})
        for manifest, evalset in by_manifest.items()
    }
    return pickle.dumps(slim, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes | None) -> dict[str, EvalSet]:
    """`pack`'s sets, by manifest; none if no worker sent any (the controller then loads)."""
    if not data:
        return {}
    loaded = pickle.loads(data)  # bytes from our own xdist worker, never from a file
    return loaded if isinstance(loaded, dict) else {}
