"""The ``pytest11`` entry point: options, and the switch that turns the plugin on.

Every pytest run imports this module once the package is installed, so it imports nothing but
pytest until ``--evalmix`` is given; then `collect` registers the hooks that do the work.
"""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

DEFAULT_MANIFESTS = ["*.evalmix.yaml", "*.evalmix.yml"]
SYNTH_MODES = ("replay", "record", "refresh")


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
    parser.addini("evalmix_model", "model of the synthesizer", default="claude-opus-4-7")
    parser.addini("evalmix_dir", "cache, ledger, results and reviews (default: .evalmix)")
    parser.addini("evalmix_checkers", "modules that register checkers", type="args", default=[])


def enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("evalmix") or config.getini("evalmix"))


def pytest_configure(config: pytest.Config) -> None:
    if not enabled(config):
        return
    from . import collect
    from . import policy as policy_mod

    try:
        project_policy = policy_mod.from_pyproject(config.rootpath)
    except policy_mod.PolicyError as exc:
        raise pytest.UsageError(f"pyproject.toml [tool.evalmix.policy]: {exc.message}") from None
    except ValueError as exc:  # a TOML syntax error
        raise pytest.UsageError(f"pyproject.toml: {exc}") from None
    patterns = [str(p) for p in config.getini("evalmix_manifests")]
    if not patterns:
        raise pytest.UsageError("ini evalmix_manifests is empty; e.g. *.evalmix.yaml")
    collect.register(config, project_policy, patterns)
