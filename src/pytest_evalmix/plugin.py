"""The ``pytest11`` entry point: options, and the switch that turns the plugin on.

Every pytest run imports this module once the package is installed, so it imports nothing but
pytest until ``--evalmix`` is given; then `collect` registers the hooks that do the work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .defaults import EVALMIX_DIR, MODEL, SYNTH_MODES

if TYPE_CHECKING:
    from .synth import Paraphrase, Synthesizer

DEFAULT_MANIFESTS = ["*.evalmix.yaml", "*.evalmix.yml"]
# Configs of the pytest sessions in progress, innermost last (pytester nests them), so that
# `pytest_evalmix.examples()`, called while a test module is imported, can resolve a manifest
# against the rootdir.
ACTIVE_CONFIGS: list[pytest.Config] = []


def parse_today(value: str) -> dt.date:
    """argparse type for ``--evalmix-today``: a wrong date is a usage error (exit 4)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-25"
        ) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("evalmix", "test an LLM eval set (pytest-evalmix)")
    group.addoption(
        "--evalmix", action="store_true", default=False, help="collect and check eval sets"
    )
    group.addoption(
        "--evalmix-today",
        type=parse_today,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date deadline checks use (default: today)",
    )
    group.addoption(
        "--evalmix-report",
        action="append",
        default=[],
        metavar="PATH",
        help="write a report: Markdown for .md, JSON for .json; may repeat",
    )
    group.addoption(
        "--evalmix-synth",
        choices=SYNTH_MODES,
        default="replay",
        help="how the synthesizer uses its cache (default: replay)",
    )
    parser.addini("evalmix", "enable pytest-evalmix for this project", type="bool", default=False)
    parser.addini(
        "evalmix_manifests", "globs of eval-set manifests", type="args", default=DEFAULT_MANIFESTS
    )
    parser.addini("evalmix_model", "model of the synthesizer", default=MODEL)
    parser.addini("evalmix_dir", "cache, ledger, results and reviews (default: .evalmix)")
    parser.addini("evalmix_checkers", "modules that register checkers", type="args", default=[])


def enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("evalmix") or config.getini("evalmix"))


def pytest_configure(config: pytest.Config) -> None:
    # Registered whether or not the plugin is enabled: examples() marks its params with it, and
    # --strict-markers must accept them in a run without --evalmix too.
    config.addinivalue_line(
        "markers",
        "evalmix_example(manifest, set, id, origin): this test is an eval of one example of an "
        "eval set (added by pytest_evalmix.examples()); its outcome is that example's result",
    )
    ACTIVE_CONFIGS.append(config)
    if not enabled(config):
        return
    from . import collect
    from . import policy as policy_mod

    try:
        project_policy = policy_mod.from_pyproject(config.rootpath)
    except policy_mod.PolicyError as exc:
        raise pytest.UsageError(f"pyproject.toml [tool.evalmix]: {exc.message}") from None
    except ValueError as exc:  # a TOML syntax error
        raise pytest.UsageError(f"pyproject.toml: {exc}") from None
    patterns = [str(p) for p in config.getini("evalmix_manifests")]
    if not patterns:
        raise pytest.UsageError("ini evalmix_manifests is empty; e.g. *.evalmix.yaml")
    collect.register(config, project_policy, patterns)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in ACTIVE_CONFIGS:
        ACTIVE_CONFIGS.remove(config)


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Runs before any conftest is imported. A second session in one process (pytester, or
    # pytest.main twice) must not see checkers of conftests that are gone, nor clash with them.
    checkers = sys.modules.get("pytest_evalmix.checkers")
    if checkers is not None:
        checkers.new_session()


# The synthesizer's fixtures (SPEC §8). They work with or without --evalmix, and import the
# synthesizer only when a test asks for one.


def evalmix_dir(config: pytest.Config) -> Path:
    """Cache, ledger, results and review logs: ini ``evalmix_dir`` under the rootdir."""
    configured = str(config.getini("evalmix_dir") or "").strip()
    return config.rootpath / (configured or EVALMIX_DIR)


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
    from .synth import Synthesizer

    return Synthesizer(
        model=str(pytestconfig.getini("evalmix_model") or MODEL).strip(),
        evalmix_dir=evalmix_dir(pytestconfig),
        mode=str(pytestconfig.getoption("evalmix_synth")),
        today=pytestconfig.getoption("evalmix_today"),
    )


@pytest.fixture
def paraphrase(evalmix_synthesizer: Synthesizer, request: pytest.FixtureRequest) -> Paraphrase:
    """``paraphrase(seed, n=10)``: up to n rewrites of seed. A cache miss or an API error fails
    the test with what to do, such as the command that records this very test."""
    import shlex

    from .synth import CacheMiss, SynthesisError

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


# Eval outcomes (SPEC §6). The fixture works with or without --evalmix; only an enabled run turns
# the outcome of a test parametrized with examples() into a result.

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
