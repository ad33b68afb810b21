"""What the reviewer sees: a candidate, its seed and the seed's gold, shown whole, wrapped but
never cut, with invisible and control characters made visible (docs/cli.md).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from pytest_evalmix.model.text import escape

PROMPT = "decision [a]ccept [r]eject [e]dit [s]kip [q]uit [?]help: "


NOTHING = "Enter alone decides nothing: type a, r, e, s or q (? for help)"


HELP = """\
  a  accept: the candidate goes into the data file as shown; you then type its gold
     ('=' copies the seed's gold, '<' goes back)
  e  edit: change the input first ($EDITOR if it is set, else one line here), then type its gold
  r  reject: the candidate stays out of the set; the rejection is logged
  s  skip: decide later; nothing is logged, so a rerun shows it again
  q  quit: stop here; every decision so far is saved and a rerun resumes
  ?  this help
  Enter alone decides nothing. Ctrl-C stops like q. Invisible and control characters in a
  text are shown escaped, such as \\u200b or \\x1b."""


def visible(text: str) -> str:
    """Text with control, format and other invisible characters escaped (newlines and tabs
    kept): an ANSI escape or a right-to-left override must not hide part of a candidate."""
    return escape(text, keep="\n\t")


def render(value: Any, width: int, indent: str = "    ") -> list[str]:
    """A value as wrapped lines: a string as its text, anything else as indented JSON. Lines
    are wrapped at spaces and never shortened, so every character is shown."""
    if isinstance(value, str):
        text = visible(value)
        lines: list[str] = []
        for part in text.split("\n"):
            if not part.strip():
                lines.append(indent + part if part else "")
                continue
            lines.extend(
                textwrap.wrap(
                    part,
                    width=max(width, len(indent) + 20),
                    initial_indent=indent,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                    replace_whitespace=False,
                )
            )
        if value != value.strip():
            lines.append(f"{indent}(this text has leading or trailing whitespace)")
        return lines
    dumped = json.dumps(value, indent=2, ensure_ascii=False)
    result: list[str] = []
    for part in visible(dumped).split("\n"):
        inner = indent + " " * (len(part) - len(part.lstrip(" ")))
        result.extend(
            textwrap.wrap(
                part.lstrip(" "),
                width=max(width, len(inner) + 20),
                initial_indent=inner,
                subsequent_indent=inner + "  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [inner]
        )
    return result


def inline(value: Any) -> str:
    return visible(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
