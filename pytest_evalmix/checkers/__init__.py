"""Checkers: code that computes or verifies a gold, so that the gold is programmatic.

The public names (``pytest_evalmix.checkers.CheckerEnv``, ``CheckerError``) are re-exported
here from `contract`; see docs/checks.md#gold-provenance.
"""

from __future__ import annotations

from pytest_evalmix.checkers.contract import CheckerEnv, CheckerError
from pytest_evalmix.checkers.registry import checker

__all__ = ["CheckerEnv", "CheckerError", "checker"]
