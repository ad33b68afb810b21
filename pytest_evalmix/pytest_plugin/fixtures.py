"""The plugin's fixtures and the helpers the pytest layer shares.

They work with or without ``--evalmix``; this module imports nothing but pytest, and the
synthesizer only when a test asks for one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_evalmix.model.defaults import EVALMIX_DIR, MODEL

if TYPE_CHECKING:
    from pytest_evalmix.synth.synthesizer import Paraphrase, Synthesizer

# Configs of the pytest sessions in progress, innermost last (pytester nests them), so that
# `pytest_evalmix.examples()`, called while a test module is imported, can resolve a manifest
# against the rootdir.
ACTIVE_CONFIGS: list[pytest.Config] = []


# The synthesizer's fixtures (docs/synthesizer.md). They work with or without --evalmix, and
# import the synthesizer only when a test asks for one.


def evalmix_dir(config: pytest.Config) -> Path:
    """Cache, ledger, results and review logs: ini ``evalmix_dir`` under the rootdir."""
    configured = str(config.getini("evalmix_dir") or "").strip()
    return config.rootpath / (configured or EVALMIX_DIR)


def is_xdist_worker(config: pytest.Config) -> bool:
    """As pytest-xdist itself tells (``xdist.is_xdist_worker``): a worker has ``workerinput``."""
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    """As pytest-xdist itself tells (``xdist.is_xdist_controller``): not a worker, and tests
    are distributed. Without xdist installed there is no ``dist`` option, so never."""
    return not is_xdist_worker(config) and getattr(config.option, "dist", "no") != "no"


def xdist_workers(config: pytest.Config | None) -> int:
    """How many pytest-xdist workers this process runs beside, itself included (1 if it is
    not a worker): loaders share the cores among them."""
    workerinput = getattr(config, "workerinput", None)
    if not isinstance(workerinput, dict):
        return 1
    return max(int(workerinput.get("workercount") or 1), 1)


@pytest.fixture(scope="session")
def evalmix_synthesizer(pytestconfig: pytest.Config) -> Synthesizer:
    """The paraphrase synthesizer: model from ini evalmix_model, cache and ledger under
    evalmix_dir, mode from --evalmix-synth. One per session, so all tests share its client."""
    from pytest_evalmix.synth.synthesizer import Synthesizer

    return Synthesizer(
        model=str(pytestconfig.getini("evalmix_model") or MODEL).strip(),
        evalmix_dir=evalmix_dir(pytestconfig),
        mode=str(pytestconfig.getoption("evalmix_synth")),
        today=pytestconfig.getoption("evalmix_today"),
        rootdir=pytestconfig.rootpath,
    )


@pytest.fixture
def paraphrase(evalmix_synthesizer: Synthesizer, request: pytest.FixtureRequest) -> Paraphrase:
    """``paraphrase(seed, n=10)``: up to n rewrites of seed. A cache miss or an API error fails
    the test with what to do, such as the command that records this very test."""
    import shlex

    from pytest_evalmix.synth.synthesizer import CacheMiss, SynthesisError

    config = request.config
    command = f"pytest --evalmix-synth=record {shlex.quote(request.node.nodeid)}"
    if config.invocation_params.dir != config.rootpath:
        command = f"cd {shlex.quote(str(config.rootpath))} && {command}"

    def paraphrase(seed: str, n: int = 10) -> list[str]:
        __tracebackhide__ = True
        try:
            return evalmix_synthesizer.paraphrase(seed, n)
        except CacheMiss as exc:
            message = exc.render(command)
        except SynthesisError as exc:
            message = str(exc)
        # Outside the except block, so pytest shows no chained SDK or cache exception.
        pytest.fail(f"evalmix: {message}", pytrace=False)

    return paraphrase


# Eval outcomes (docs/evals.md). The fixture works with or without --evalmix; only an enabled
# run turns the outcome of a test parametrized with examples() into a result.

FAILURE_MODE = pytest.StashKey[str]()


class FailureMode:
    """``evalmix_failure_mode("wrong-queue")`` names why this eval failed.

    Counted only if the test fails, so it may be called before the assertion it explains. The
    mode is what `failure-modes` compares across subsets; without one a failure's mode is the
    exception's type name (``AssertionError``), which rarely tells two kinds of miss apart.
    """

    def __init__(self, node: pytest.Item) -> None:
        self._node = node

    def __call__(self, mode: str) -> None:
        if not isinstance(mode, str) or not mode.strip():
            raise ValueError(f"evalmix_failure_mode needs a non-empty name, got {mode!r}")
        self._node.stash[FAILURE_MODE] = mode.strip()

    @property
    def mode(self) -> str | None:
        """The mode named so far in this test, if any."""
        return self._node.stash.get(FAILURE_MODE, None)


@pytest.fixture
def evalmix_failure_mode(request: pytest.FixtureRequest) -> FailureMode:
    """Name the failure mode of the current eval: ``evalmix_failure_mode("wrong-queue")``."""
    node = request.node
    assert isinstance(node, pytest.Item)
    return FailureMode(node)
