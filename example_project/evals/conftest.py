"""pytest configuration of the example eval set: a custom checker, and the orders database.

A record's gold is *programmatic* when code reproduces it. Records only name a checker
(``label.checker: refund-window``); the code lives here, registered with the `checker`
decorator when pytest imports this conftest. A data file can never point at code itself.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_evalmix import checker
from pytest_evalmix.checkers import CheckerEnv

if TYPE_CHECKING:  # the model imports pydantic; a run without --evalmix need not pay for it
    from pytest_evalmix import Example

DATABASE_SQL = Path(__file__).parent / "db" / "orders.sql"
DATABASE = DATABASE_SQL.with_suffix(".sqlite")


@checker("refund-window")
def refund_window(example: Example, env: CheckerEnv) -> bool:
    """Computes whether a return asked for on ``input.asked`` is inside the refund window that
    opened on ``input.delivered``: the shop's policy, applied by code rather than by a person.

    The window is ``policy.checkers.refund-window.days`` of the manifest (30 when not set); its
    last day still counts, which is exactly the boundary a keyword router cannot see.
    """
    days = int(env.settings.get("days", 30))
    delivered = dt.date.fromisoformat(example.input["delivered"])
    asked = dt.date.fromisoformat(example.input["asked"])
    return 0 <= (asked - delivered).days <= days


def pytest_configure(config: pytest.Config) -> None:
    # Build only for an evalmix run: without --evalmix nothing reads the database.
    if config.getoption("evalmix", False) or config.getini("evalmix"):
        build_database(DATABASE_SQL, DATABASE)


def build_database(sql: Path, database: Path) -> None:
    """Build ``database`` from ``sql`` when it is missing or older than the SQL.

    The SQL is the source, reviewable in a diff; the binary file is a build product (ignored by
    git). It is written to a temporary file and renamed into place, so xdist workers starting at
    the same moment never see half a database.
    """
    if database.exists() and database.stat().st_mtime >= sql.stat().st_mtime:
        return
    fd, temporary = tempfile.mkstemp(dir=database.parent, suffix=".sqlite.tmp")
    os.close(fd)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(sql.read_text(encoding="utf-8"))
            connection.commit()
        finally:
            connection.close()
        os.replace(temporary, database)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
