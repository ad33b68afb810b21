"""Text that comes from data, made safe to show anywhere: one rule for every front end.

Ids, owners, keys, paths and values are written by whoever sent the pull request. Shown raw, an
ESC sequence recolours or hides the terminal's lines, an OSC sequence retitles it, a bidi
override (U+202E) makes ``evil.py`` read as ``yp.live``, and a newline in an id forges a finding
line of its own. A lone surrogate (``"\\ud800"`` is valid JSON) cannot be encoded as UTF-8 at
all, so it breaks whatever tries to write it: a report, a terminal, xdist's channel. So every
such character is shown as its Python escape (``\\x1b``, ``\\u202e``, ``\\n``, ``\\ud800``),
which is printable ASCII and says exactly what is in the file.
"""

from __future__ import annotations

import unicodedata
from typing import Any, TypeVar, cast

T = TypeVar("T")

# Control (Cc), format (Cf: bidi overrides, zero-width characters), surrogate (Cs), line and
# paragraph separators (Zl, Zp), private use and unassigned (Co, Cn).
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})


def escape(text: str, keep: str = "") -> str:
    """``text`` with every control, format, separator and unencodable character escaped.

    ``keep`` names characters left as they are (the review shows a multi-line text with its
    ``\\n`` and ``\\t``). Printable text, the usual case, is returned unchanged and uncopied.
    """
    if text.isprintable() and text.isascii():
        return text
    out: list[str] = []
    for char in text:
        if char in keep or (char.isprintable() and unicodedata.category(char) not in _HIDDEN):
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


# A shown value is cut at this many characters: a 5 MB id must not be echoed whole into every
# line, report and xdist message that names it (docs/checks.md).
SHOWN = 300
# Room for what `cut` adds, so that a cut text is never cut again (findings cross xdist's
# channel and are rebuilt, and each rebuild would add another suffix).
_SLACK = 40


def cut(text: str, limit: int = SHOWN) -> str:
    """``text`` cut at ``limit`` characters, saying how long it was: ``abc… (5,000,000
    characters)``. Short text is returned unchanged."""
    if len(text) <= limit + _SLACK:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def safe_data(value: T) -> T:
    """Plain data with every string (keys too) escaped, as sent across processes or written
    into a report: nothing in it can fail to encode or reach a terminal raw."""
    return cast(T, _safe(value))


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_safe(v) for v in value)
    return value
