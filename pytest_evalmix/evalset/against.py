"""The ``leakage.against`` files read as inputs: what an eval input must not also be
(docs/checks.md, "leakage").

A record file (JSONL, JSON, YAML, CSV, Parquet, Arrow, a ``save_to_disk`` folder) gives each
record's ``input``, through the entry's field map or preset (a training file in another shape:
``fields: {input: prompt}``); any other file gives each non-blank line, so a system prompt or a
few-shot file is judged line by line. Only the 64-bit keys of the inputs are kept, with the
first place of each, unless the caller asks for the normal forms (``near``, or the few keys
that a set shares).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_evalmix.errors import RecordError
from pytest_evalmix.evalset.validate import apply
from pytest_evalmix.formats.readers import SUFFIXES, read
from pytest_evalmix.model.evalset import Source
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.normalise import key_of_normal, normal_form


@dataclass(frozen=True)
class Entry:
    """One input of an against file: where it is, and its normal form."""

    path: str
    line: int
    normal: str


@dataclass
class Against:
    """What a set's against files hold, as the ``leakage`` check needs it.

    ``matches`` are the entries whose key is one of the set's (first place of each normal
    form); ``entries`` holds every entry, only when asked for (``near``).
    """

    matches: list[Entry] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _values(source: Source, findings: list[Finding]) -> Iterator[tuple[int, Any]]:
    """``(line, input)`` of each input of one file."""
    suffix = source.path.suffix.lower()
    if suffix in SUFFIXES or source.path.is_dir():
        for line, raw in read(source.path, raw_jsonl=False):
            if isinstance(raw, RecordError):
                findings.append(
                    Finding(source.display, raw.line, raw.id, raw.message, raw.fix, "leakage")
                )
                continue
            if not isinstance(raw, dict):
                continue
            given = apply(raw, source).get("input")
            if given is not None and given != "" and given != [] and given != {}:
                yield line, given
        return
    try:
        with source.path.open("r", encoding="utf-8", errors="replace") as handle:
            for line, text in enumerate(handle, 1):
                if text.strip():
                    yield line, text
    except OSError as exc:
        findings.append(
            Finding(
                source.display,
                1,
                None,
                f"cannot read the against file: {exc.strerror or exc}",
                "check that it exists and is readable",
                "leakage",
            )
        )


def read_against(sources: list[Source], keys: Collection[int], *, everything: bool) -> Against:
    """Read every against file once: the entries that share a key with ``keys``, and with
    ``everything`` every entry's normal form too."""
    found = Against()
    seen: set[str] = set()
    for source in sources:
        try:
            for line, given in _values(source, found.findings):
                normal = normal_form(given)
                key = key_of_normal(normal)  # the same as `input_key(given)`
                if everything:
                    found.entries.append(Entry(source.display, line, normal))
                if key in keys and normal not in seen:
                    seen.add(normal)
                    found.matches.append(Entry(source.display, line, normal))
        except (OSError, ValueError) as exc:
            found.findings.append(
                Finding(
                    source.display,
                    1,
                    None,
                    f"cannot read the against file: {exc}",
                    "check that it is a readable record or text file",
                    "leakage",
                )
            )
    return found
