"""The project an ``evalmix`` command works in: its rootdir, ``[tool.evalmix]`` settings and
pytest ini options, found the way pytest finds them (docs/cli.md).
"""

from __future__ import annotations

import configparser
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_evalmix.model.defaults import EVALMIX_DIR, MODEL


class Failure(Exception):
    """A command that cannot do its work: printed as one ``evalmix: error:`` line, exit 1."""


@dataclass(frozen=True)
class Project:
    rootdir: Path
    ini: dict[str, Any]

    def evalmix_dir(self, override: str | None) -> Path:
        if override:
            return Path(override).absolute()
        configured = str(self.ini.get("evalmix_dir") or "").strip()
        return self.rootdir / (configured or EVALMIX_DIR)

    def model(self, override: str | None) -> str:
        if override:
            return override
        return str(self.ini.get("evalmix_model") or "").strip() or MODEL

    def shown(self, path: Path) -> str:
        """A path relative to the rootdir when inside it, as the plugin's findings show it."""
        try:
            return path.absolute().relative_to(self.rootdir).as_posix()
        except ValueError:
            return str(path)


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    return data


def _pytest_ini(directory: Path) -> dict[str, Any] | None:
    """The pytest ini options configured in ``directory``, or ``None`` if it has none."""
    for name in ("pytest.ini", ".pytest.ini"):
        path = directory / name
        if path.is_file():
            return _ini_section(path, "pytest") or {}
    path = directory / "pyproject.toml"
    if path.is_file():
        try:
            options = _load_toml(path).get("tool", {}).get("pytest", {}).get("ini_options")
        except (OSError, ValueError) as exc:
            raise Failure(f"cannot read {path}: {exc}") from None
        if isinstance(options, dict):
            return options
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = directory / name
        if path.is_file():
            options = _ini_section(path, section)
            if options is not None:
                return options
    return None


def _ini_section(path: Path, section: str) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read {path}: {exc}") from None
    return dict(parser[section]) if parser.has_section(section) else None


def find_project(near: Path) -> Project:
    start = near.absolute()
    ancestors = [start, *start.parents] if start.is_dir() else list(start.parents)
    for directory in ancestors:
        options = _pytest_ini(directory)
        if options is not None:
            return Project(directory, options)
    for directory in ancestors:
        if (directory / "pyproject.toml").is_file():
            return Project(directory, {})
    return Project(Path.cwd(), {})
