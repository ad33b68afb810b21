"""pytest-evalmix: test an LLM evaluation set the way unit tests test code.

The public names are resolved lazily, so ``import pytest_evalmix`` (done by pytest for every
run once the plugin is installed) costs nothing until one of them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_evalmix.errors import EvalmixWarning
from pytest_evalmix.model.defaults import VERSION

__version__ = VERSION

if TYPE_CHECKING:
    from pytest_evalmix.checkers.registry import checker
    from pytest_evalmix.model.records import Example
    from pytest_evalmix.pytest_plugin.fixtures import FailureMode
    from pytest_evalmix.pytest_plugin.params import examples

__all__ = ["EvalmixWarning", "Example", "FailureMode", "__version__", "checker", "examples"]


def __getattr__(name: str) -> Any:
    if name == "Example":
        from pytest_evalmix.model.records import Example

        return Example
    if name == "checker":
        from pytest_evalmix.checkers.registry import checker

        return checker
    if name == "examples":
        from pytest_evalmix.pytest_plugin.params import examples

        return examples
    if name == "FailureMode":
        from pytest_evalmix.pytest_plugin.fixtures import FailureMode

        return FailureMode
    raise AttributeError(f"module 'pytest_evalmix' has no attribute {name!r}")
