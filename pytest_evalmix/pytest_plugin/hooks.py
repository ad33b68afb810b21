"""The ``pytest11`` entry point: options, and the switch that turns the plugin on.

Every pytest run imports this module once the package is installed, so it imports nothing but
pytest until ``--evalmix`` is given; then `collect` registers the hooks that do the work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

import pytest

from pytest_evalmix.model.defaults import MODEL, SYNTH_MODES
from pytest_evalmix.pytest_plugin.fixtures import (
    ACTIVE_CONFIGS,
    FailureMode,
    evalmix_failure_mode,
    evalmix_synthesizer,
    paraphrase,
)

DEFAULT_MANIFESTS = ["*.evalmix.yaml", "*.evalmix.yml"]


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
        help="write a report: Markdown for .md, JSON for .json, HTML for .html; may repeat",
    )
    group.addoption(
        "--evalmix-synth",
        choices=SYNTH_MODES,
        default="replay",
        help="how the synthesizer uses its cache (default: replay)",
    )
    group.addoption(
        "--evalmix-base",
        default=None,
        metavar="REF",
        help="compare every eval set with its state at git revision REF (read with git, "
        "nothing checked out): adds the changes check and a since-REF delta to the summary",
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
        if config.getoption("evalmix_base") is not None:
            # Without --evalmix nothing would be compared, and the run would pass silently.
            from pytest_evalmix.model.text import escape

            option = escape(f"--evalmix-base={config.getoption('evalmix_base')}")
            raise pytest.UsageError(
                f"{option} needs --evalmix: add --evalmix (or set evalmix = true in the ini)"
            )
        return
    # Imported by its full name, not from its package: the package outlives a pytester run
    # that drops this module, and `from package import module` would hand back the stale one.
    import pytest_evalmix.pytest_plugin.run as collect
    from pytest_evalmix.model import policy as policy_mod

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
    checkers = sys.modules.get("pytest_evalmix.checkers.registry")
    if checkers is not None:
        checkers.new_session()


__all__ = [
    "FailureMode",
    "evalmix_failure_mode",
    "evalmix_synthesizer",
    "paraphrase",
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_unconfigure",
]
