"""The error and warning types that more than one layer raises or catches (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_evalmix.model.text import escape


class EvalmixWarning(UserWarning):
    """A problem that is not yet a failure, such as a provisional label coming due.

    ``-W error::pytest_evalmix.EvalmixWarning`` turns every one of them into a failure.
    """


class ManifestError(Exception):
    """A manifest that cannot be read: a collection error, reported as ``path:line: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        path, message = escape(path), escape(message)  # both may quote the data
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class RecordError:
    """A record, or a whole file, that could not be read; ``line`` is 1-based."""

    line: int
    message: str
    fix: str
    id: str | None = None
