"""Shared helpers: build eval-set projects in a pytester dir and run pytest on them as a user would."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

import pytest_evalmix

TODAY = "2026-11-25"

# Test modules are imported by pytest's default "prepend" mode (no __init__.py files), which puts
# only each test file's own folder and this file's folder (tests/) on sys.path. The unit tests live
# in tests/unit/<package folder>/ and share tests/unit/evalsets.py, so tests/unit goes on the path
# too: `from evalsets import ...` and `from conftest import ...` then work from any of them, however
# few of the files a run collects. Test basenames stay unique across tests/ for the same reason.
_UNIT = str(Path(__file__).parent / "unit")
if _UNIT not in sys.path:
    sys.path.insert(0, _UNIT)

# pytester's in-process runs drop from sys.modules every module first imported during the run,
# while modules imported before it (the plugin's entry point and its packages) stay. A later run
# would then mix two copies of one module (a `from package import module` finds the dropped copy
# still set on the package), so that an exception raised by one copy's class escapes an `except`
# naming the other's. Importing the whole package up front makes every run share one copy.
for _module in pkgutil.walk_packages(pytest_evalmix.__path__, "pytest_evalmix."):
    importlib.import_module(_module.name)


def record(
    rid: str,
    origin: str = "production",
    *,
    gold: Any = "billing",
    source: str = "human",
    **extra: Any,
) -> dict[str, Any]:
    """A valid record; keyword arguments add or replace top-level fields."""
    data: dict[str, Any] = {
        "id": rid,
        "input": f"ticket text for {rid}",
        "gold": gold,
        "origin": origin,
        "label": {"source": source, "by": "dana", "at": "2026-10-01"},
    }
    if origin == "synthetic":
        data["synthetic"] = {"generator": "claude-opus-4-7", "method": "paraphrase"}
    data.update(extra)
    return data


def healthy(prefix: str = "") -> list[dict[str, Any]]:
    """Twenty records in the default 50/25/25 mix."""
    return (
        [record(f"{prefix}prod-{i}", "production") for i in range(10)]
        + [record(f"{prefix}syn-{i}", "synthetic") for i in range(5)]
        + [record(f"{prefix}adv-{i}", "adversarial") for i in range(5)]
    )


def jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# Read by pytest or by the plugin, and set by CI services: with CI set pytest prints whole
# failure messages in the short summary, and with GITHUB_STEP_SUMMARY set every run would
# append its report to the real job summary. Tests that need one of them set it themselves.
CI_ENVIRONMENT = ("CI", "BUILD_NUMBER", "GITHUB_STEP_SUMMARY")


@pytest.fixture(autouse=True)
def same_output_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs print the same on a laptop and on a CI runner."""
    for name in CI_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty project whose rootdir is the pytester dir."""
    pytester.makefile(".toml", pyproject="[tool.pytest.ini_options]\n")
    return pytester


WriteSet = Callable[..., Path]


@pytest.fixture
def write_set(project: pytest.Pytester) -> WriteSet:
    """Write a manifest and its JSONL data; returns the manifest path."""

    def write(
        records: Iterable[dict[str, Any]] | None = None,
        *,
        name: str = "support",
        manifest: str | None = None,
    ) -> Path:
        data_dir = project.path / "data"
        data_dir.mkdir(exist_ok=True)
        (data_dir / f"{name}.jsonl").write_text(
            jsonl(healthy() if records is None else records), encoding="utf-8"
        )
        text = manifest or f"evalmix: 1\ndata:\n  - data/{name}.jsonl\n"
        path = project.path / f"{name}.evalmix.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(params=[[], ["-n", "2"]], ids=["no-xdist", "xdist-2"])
def xdist(request: pytest.FixtureRequest) -> list[str]:
    """Run the same scenario with and without pytest-xdist."""
    return list(request.param)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest in-process the way a user would, with the date pinned."""
    return pytester.runpytest("-p", "no:cacheprovider", f"--evalmix-today={TODAY}", *args)
