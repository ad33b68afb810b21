"""Findings: what a check reports, as data, so every front end renders the same facts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pytest_evalmix.model.text import cut, escape

# A message or fix quotes values, and may name several: each is cut at a few hundred
# characters (the id at `text.SHOWN`), so a huge value costs one line, not megabytes.
MESSAGE_SHOWN = 1200


@dataclass(frozen=True)
class Finding:
    """One thing wrong with an eval set, with where it is and what to do about it.

    ``path`` is relative to the rootdir and ``line`` is 1-based, so ``path:line`` is clickable in
    an editor and stable across machines. ``id`` is the record id, or ``None`` for a finding about
    a file or the manifest rather than a record.
    """

    path: str
    line: int
    id: str | None
    message: str
    fix: str
    check: str = "schema"

    def __post_init__(self) -> None:
        # Paths, ids and messages quote data: escaped once, here, so every view (terminal,
        # reports, warnings, xdist's channel) shows the same safe text and no finding can
        # forge a line, recolour a terminal or fail to encode.
        for name in ("path", "id", "message", "fix"):
            value = getattr(self, name)
            if isinstance(value, str):
                shown = escape(cut(value, MESSAGE_SHOWN if name in ("message", "fix") else 300))
                if shown is not value:
                    object.__setattr__(self, name, shown)

    def render(self) -> str:
        return f"{self.path}:{self.line}: {self.id or '-'}: {self.message} — {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data, safe to send across xdist and to write into a JSON report."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


def ordered(findings: list[Finding]) -> list[Finding]:
    """Findings in file and line order, so output never depends on load or set order."""
    return sorted(findings, key=lambda f: (f.path, f.line, f.id or "", f.check, f.message))
