"""The ``sqlite`` checker: computes the gold of a read-only SQL query on a database in
``policy.checkers.sqlite``, within limits of time, rows and memory.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pytest_evalmix.checkers.contract import CheckerEnv, CheckerError

if TYPE_CHECKING:
    from pytest_evalmix.model.records import Example

SQLITE_SECONDS = 5.0
SQLITE_MAX_ROWS = 10_000
# Memory: no single string or blob over SQLITE_MAX_VALUE (SQLite refuses to build one, so
# ``zeroblob(100000000)`` fails at once), and no result over SQLITE_MAX_BYTES in all.
SQLITE_MAX_VALUE = 1_000_000
SQLITE_MAX_BYTES = 16 * 2**20
SQLITE_MAX_SQL = 100_000
_SQLITE_SETTINGS = {"database"}


def compute(example: Example, env: CheckerEnv) -> list[list[Any]]:
    """Computes the rows of ``input`` (a string) or ``input.query``, as a list of lists.

    The database is ``policy.checkers.sqlite.database``, relative to the manifest. It is opened
    read-only, and an authorizer lets only reads run: no ATTACH, no PRAGMA, no writes. A query
    that runs longer than `SQLITE_SECONDS` or returns more than `SQLITE_MAX_ROWS` rows is refused.
    """
    import sqlite3

    unknown = sorted(set(env.settings) - _SQLITE_SETTINGS)
    if unknown:
        raise CheckerError(
            f"unknown setting policy.checkers.sqlite.{unknown[0]}",
            "the sqlite checker has one setting, database",
        )
    database = env.settings.get("database")
    if not isinstance(database, str) or not database.strip():
        raise CheckerError(
            "policy.checkers.sqlite.database is not set",
            "name the database file in the manifest: "
            "policy: {checkers: {sqlite: {database: db/orders.sqlite}}}",
        )
    # Imported here: this module stays light for conftests, and a check has loaded it anyway.
    from pytest_evalmix.files.paths import inside

    path = (env.base_dir / database).absolute()
    if not inside(path, env.rootdir):
        raise CheckerError(
            f"database '{database}' resolves outside the rootdir; it was not opened",
            "keep the database under the project's rootdir",
        )
    if not path.is_file():
        raise CheckerError(
            f"database '{database}' not found",
            "fix policy.checkers.sqlite.database (it is relative to the manifest)",
        )
    data = example.input
    query = data.get("query") if isinstance(data, dict) else data
    if not isinstance(query, str):
        raise CheckerError(
            "sqlite reads the query from the input when it is a string, else from input.query",
            "give the input as a SELECT statement, or add input.query",
        )
    deadline = time.monotonic() + SQLITE_SECONDS
    allowed = {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }

    def authorize(action: int, *_: Any) -> int:
        return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CheckerError(f"cannot open database '{database}': {exc}") from None
    try:
        connection.set_authorizer(authorize)
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        _limit_memory(connection)
        cursor = connection.execute(query)
        rows: list[Any] = []
        size = 0
        # Row by row, so that without SQLite's own limits (Python < 3.11) at most one oversized
        # row is held when the byte cap stops the query.
        for row in cursor:
            rows.append(row)
            if len(rows) > SQLITE_MAX_ROWS:
                break
            size += sum(_value_bytes(value) for value in row)
            if size > SQLITE_MAX_BYTES:
                raise CheckerError(
                    f"the query returns more than {SQLITE_MAX_BYTES // 2**20} MiB",
                    "narrow the query: a gold is a few values, not a table dump",
                )
    except sqlite3.Error as exc:
        if time.monotonic() > deadline:
            raise CheckerError(
                f"the query ran longer than {SQLITE_SECONDS:g} seconds", "simplify the query"
            ) from None
        detail = str(exc)
        if "not authorized" in detail:
            detail += " (only reading statements may run: the database is opened read-only)"
        raise CheckerError(
            f"the query failed: {detail}",
            "fix input.query: one read-only SELECT against the database",
        ) from None
    finally:
        connection.close()
    if len(rows) > SQLITE_MAX_ROWS:
        raise CheckerError(
            f"the query returns more than {SQLITE_MAX_ROWS} rows", "narrow the query"
        )
    return [list(row) for row in rows]


def _limit_memory(connection: Any) -> None:
    """SQLite's own limits where Python exposes them (3.11+); before that, only the cap on the
    result's bytes applies, counted as rows arrive."""
    import sqlite3

    setlimit = getattr(connection, "setlimit", None)
    if setlimit is None:
        return
    for name, value in (
        ("SQLITE_LIMIT_LENGTH", SQLITE_MAX_VALUE),
        ("SQLITE_LIMIT_SQL_LENGTH", SQLITE_MAX_SQL),
    ):
        category = getattr(sqlite3, name, None)
        if category is not None:
            setlimit(category, value)


def _value_bytes(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return len(value)
    return 8
