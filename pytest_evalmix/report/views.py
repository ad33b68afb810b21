"""Which view a report file gets, and how report files are written; the views themselves are
`report.terminal`, `report.markdown`, `report.json_report` and `report.html`.

Both views are built from the same `Report` the terminal shows, so a CI artifact, a step summary
and the console never disagree. They read each check's ``data`` through `SetReport`'s accessors,
so a check that is absent or skipped simply leaves its part empty. Nothing here knows about
pytest: the pytest layer (`collect`) decides when and where to write.

The JSON view is a contract that dashboards and scripts parse: its shape is versioned
(``evalmix_report``) and documented in docs/json-report.md. It is deterministic,
with sorted keys and no wall-clock time, so two runs over the same data produce the same bytes and
a report can be diffed or committed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

from pytest_evalmix.report.data import (
    ManifestProblem,
    Report,
)
from pytest_evalmix.report.html import to_html
from pytest_evalmix.report.json_report import to_json
from pytest_evalmix.report.markdown import to_markdown

FORMATS = {".md": "markdown", ".json": "json", ".html": "html"}


def report_format(path: str | os.PathLike[str]) -> str | None:
    """``markdown``, ``json`` or ``html`` by the file's suffix (any case), else ``None``."""
    return FORMATS.get(Path(path).suffix.lower())


def render(
    report: Report,
    fmt: str,
    *,
    today: dt.date,
    errors: Iterable[ManifestProblem] = (),
) -> str:
    if fmt == "json":
        return to_json(report, today=today, errors=errors)
    if fmt == "markdown":
        return to_markdown(report, today=today, errors=errors)
    if fmt == "html":
        return to_html(report, today=today, errors=errors)
    raise ValueError(f"unknown report format {fmt!r}")


def append_text(path: Path, text: str) -> None:
    """Append to a file that others append to too (``$GITHUB_STEP_SUMMARY``): what earlier
    steps wrote is kept, and a blank line separates it from this report."""
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        if handle.tell() > 0:
            handle.write("\n")
        handle.write(text)
