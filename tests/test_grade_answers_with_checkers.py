"""Checkers (docs/formats.md#records): registration in code, the built-ins, and data that can never name code."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, healthy, record, run
from pytest_evalmix.checkers.builtin.arithmetic import calculate
from pytest_evalmix.checkers.contract import CheckerError, same


def programmatic(
    rid: str, checker: str | None, gold: Any, input: Any, **label: Any
) -> dict[str, Any]:
    """An adversarial record whose gold a checker vouches for."""
    data = record(rid, "adversarial", gold=gold, source="programmatic", input=input)
    data["label"] = {"source": "programmatic", "at": "2026-10-14", **label}
    if checker is not None:
        data["label"]["checker"] = checker
    return data


def with_records(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The healthy set with its last adversarial records replaced, so the mix stays 10/5/5."""
    base = healthy()
    return base[: len(base) - len(extra)] + list(extra)


def clean(result: pytest.RunResult) -> str:
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    return out


# --- the arithmetic calculator, directly: it is pure and bounded ---------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("2 * 19.99", 39.98),
        ("3 * 12.50 - 5.00", 32.5),
        ("(1 + 2) * -3", -9),
        ("2 ** 10 % 7", 2),
        ("7 / 2", 3.5),
        ("-(-4) + +1", 5),
        ("2 ** -2", 0.25),
    ],
)
def test_calculate(expression: str, value: float) -> None:
    assert same(calculate(expression), value)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("2 ** 101", "exponent 101 is larger than 100"),
        ("9 ** 9 ** 9", "exponent 387420489 is larger than 100"),
        ("(10 ** 100) ** 100", "exceeds 10**300"),
        ("1e300 * 1e300", "overflows"),
        ("(-8) ** 0.5", "has no real result"),
        ("__import__('os').system('true')", "is not allowed"),
        ("x + 1", '"x" is not allowed'),
        ("True + 1", '"True" is not allowed'),
        ("'a' * 3", "is not allowed"),
        ("2 // 3", "is not allowed"),
        ("[1][0]", "is not allowed"),
        ("1 +", "is not an arithmetic expression"),
        ("1" + " + 1" * 300, "characters long, more than 1000"),
        ("-" * 900 + "1", ""),
    ],
)
def test_calculate_refuses(expression: str, message: str) -> None:
    try:
        calculate(expression)
    except CheckerError as exc:
        assert message in exc.message
    else:
        assert message == "", "expected a refusal"


@pytest.mark.parametrize(
    ("computed", "gold", "equal"),
    [
        (" billing\n", "billing", True),
        (39.980000000000004, 39.98, True),
        (2.0, 2, True),
        (True, 1, False),
        (1, True, False),
        (None, None, True),
        ((1, "a "), [1, "a"], True),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, 2], [2, 1], False),
        ("1", 1, False),
        (55, "55", True),
        (39.980000000000004, " 39.98 ", True),
        (55, "56", False),
        (True, "1", False),
        (55, "55 apples", False),
        (0.1, 0.10001, False),
    ],
)
def test_json_value_equality(computed: Any, gold: Any, equal: bool) -> None:
    assert same(computed, gold) is equal


# --- the built-ins in a run --------------------------------------------------------------------


def test_arithmetic_findings_and_fixes(project: pytest.Pytester, write_set: WriteSet) -> None:
    broken = [
        programmatic(
            "calc-1", "arithmetic", 39.97, {"ticket": "2 mugs", "expression": "2 * 19.99"}
        ),
        programmatic("calc-2", "arithmetic", 1, "1 / 0"),
        programmatic("calc-3", "arithmetic", 0, "__import__('os').system('touch PWNED')"),
        programmatic("calc-4", "arithmetic", "39.97", "2 * 19.99"),
        programmatic("calc-5", "arithmetic", 3, {"ticket": "no expression here"}),
    ]
    write_set(with_records(*broken))
    result = run(project, "--evalmix")
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:16: calc-1: checker 'arithmetic' computes 39.98, not the gold 39.97 — correct the gold*",
            "data/support.jsonl:17: calc-2: checker 'arithmetic' cannot check this example: division by zero in \"1 / 0\" — fix the expression in the input",
            "data/support.jsonl:18: calc-3: checker 'arithmetic' cannot check this example: *is not allowed in an arithmetic expression: only numbers, + - * / ** %, unary + and -, and parentheses are allowed — *",
            "data/support.jsonl:19: calc-4: checker 'arithmetic' computes 39.98, not the gold \"39.97\" — correct the gold*",
            "data/support.jsonl:20: calc-5: checker 'arithmetic' cannot check this example: arithmetic reads the expression from the input when it is a string, else from input.expression*",
        ]
    )
    assert not (project.path / "PWNED").exists()

    fixed = [
        programmatic(
            "calc-1", "arithmetic", 39.98, {"ticket": "2 mugs", "expression": "2 * 19.99"}
        ),
        programmatic("calc-2", "arithmetic", 0.5, "1 / 2"),
        programmatic("calc-3", "arithmetic", 32.5, "3 * 12.50 - 5.00"),
        programmatic("calc-4", "arithmetic", 36.4, "2 * 14.95 + 6.50"),
        programmatic("calc-5", "arithmetic", 8, {"ticket": "t", "expression": "2 ** 3"}),
    ]
    write_set(with_records(*fixed))
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()


@pytest.mark.parametrize(
    ("gold", "pattern", "expected"),
    [
        (
            "ZD-4810",
            r"ZD-\d{5}",
            "checker 'regex' rejects the gold \"ZD-4810\" — correct the gold*",
        ),
        ("ZD-48102 and more", r"ZD-\d{5}", "checker 'regex' rejects the gold*"),
        ("ZD-48102", None, "*label.pattern is not set — add label.pattern*"),
        ("ZD-48102", r"ZD-(\d", "*label.pattern is not a valid regex: missing ), *"),
        (
            48102,
            r"\d+",
            "*regex checks a string gold, and this gold is 48102 — write the gold as a string",
        ),
    ],
    ids=["partial", "prefix-only", "no-pattern", "bad-regex", "not-a-string"],
)
def test_regex_checker(
    project: pytest.Pytester, write_set: WriteSet, gold: Any, pattern: str | None, expected: str
) -> None:
    label = {"pattern": pattern} if pattern is not None else {}
    write_set(with_records(programmatic("rx-1", "regex", gold, "ticket number?", **label)))
    result = run(project, "--evalmix")
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines([f"data/support.jsonl:20: rx-1: {expected}"])

    # A gold that fully matches passes; surrounding blanks are not part of the gold.
    fixed = programmatic("rx-1", "regex", " ZD-48102\n", "ticket number?", pattern=r"ZD-\d{5}")
    write_set(with_records(fixed))
    assert run(project, "--evalmix").ret == 0


ORDERS = """
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, shipping REAL);
INSERT INTO orders VALUES (1, 'ana', 4.95), (2, 'ben', 0.0), (3, 'ana', 6.5);
"""


def make_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(ORDERS)
    connection.commit()
    connection.close()
    return path


def sqlite_manifest(database: str | None) -> str:
    text = "evalmix: 1\ndata: [data/support.jsonl]\n"
    if database is not None:
        text += f"policy:\n  checkers:\n    sqlite: {{database: {database}}}\n"
    return text


def test_sqlite_checker(project: pytest.Pytester, write_set: WriteSet) -> None:
    db = make_db(project.path / "db" / "orders.sqlite")
    query = (
        "SELECT customer, COUNT(*), SUM(shipping) FROM orders GROUP BY customer ORDER BY customer"
    )
    broken = [
        programmatic("sql-1", "sqlite", [["ana", 2, 11.45], ["ben", 1, 1.0]], {"query": query}),
        programmatic("sql-2", "sqlite", [[3]], "SELECT COUNT(*) FROM ordrs"),
        programmatic("sql-3", "sqlite", [], "DELETE FROM orders"),
        programmatic("sql-4", "sqlite", [], "ATTACH DATABASE 'x.sqlite' AS x"),
        programmatic("sql-5", "sqlite", [[1]], {"ticket": "no query"}),
    ]
    write_set(with_records(*broken), manifest=sqlite_manifest("db/orders.sqlite"))
    result = run(project, "--evalmix")
    assert result.ret == 1
    clean(result)
    assert (
        'data/support.jsonl:16: sql-1: checker \'sqlite\' computes [["ana", 2, 11.45], ["ben", 1, 0.0]], not the gold [["ana", 2, 11.45], ["ben", 1, 1.0]] — '
        in result.stdout.str()
    )
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:17: sql-2: checker 'sqlite' cannot check this example: the query failed: no such table: ordrs — fix input.query*",
            "data/support.jsonl:18: sql-3: checker 'sqlite' cannot check this example: the query failed: not authorized (only reading statements may run*",
            "data/support.jsonl:19: sql-4: checker 'sqlite' cannot check this example: the query failed: not authorized (only reading statements may run*",
            "data/support.jsonl:20: sql-5: *sqlite reads the query from the input when it is a string, else from input.query*",
        ]
    )
    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM orders").fetchall()
    assert rows == [(3,)]
    assert not (project.path / "x.sqlite").exists()

    fixed = [
        programmatic("sql-1", "sqlite", [["ana", 2, 11.45], ["ben", 1, 0]], {"query": query}),
        programmatic("sql-2", "sqlite", [[3]], "SELECT COUNT(*) FROM orders"),
        programmatic("sql-3", "sqlite", [["ana"]], "SELECT customer FROM orders WHERE id = 1"),
        programmatic("sql-4", "sqlite", [], "SELECT * FROM orders WHERE id > 100"),
        programmatic(
            "sql-5", "sqlite", [[6.5]], {"ticket": "t", "query": "SELECT MAX(shipping) FROM orders"}
        ),
    ]
    write_set(with_records(*fixed), manifest=sqlite_manifest("db/orders.sqlite"))
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        (
            None,
            "policy.checkers.sqlite.database is not set — name the database file in the manifest*",
        ),
        (
            "db/missing.sqlite",
            "database 'db/missing.sqlite' not found — fix policy.checkers.sqlite.database*",
        ),
        (
            "../outside.sqlite",
            "database '../outside.sqlite' resolves outside the rootdir; it was not opened*",
        ),
    ],
    ids=["unset", "missing", "outside"],
)
def test_sqlite_database_setting(
    project: pytest.Pytester, write_set: WriteSet, database: str | None, expected: str
) -> None:
    make_db(project.path.parent / "outside.sqlite")
    write_set(
        with_records(programmatic("sql-1", "sqlite", [[3]], "SELECT COUNT(*) FROM orders")),
        manifest=sqlite_manifest(database),
    )
    result = run(project, "--evalmix")
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines(
        [f"data/support.jsonl:20: sql-1: checker 'sqlite' cannot check this example: {expected}"]
    )


# --- user checkers -------------------------------------------------------------------------------

CONFTEST_CHECKERS = """
import json
from pytest_evalmix import checker

@checker("queue-of")
def queue_of(example):
    return {"refund": "refunds", "invoice": "billing"}[example.input["keyword"]]

@checker("known-queue", verifies=True)
def known_queue(example):
    return example.gold in {"billing", "refunds"}

@checker("scaled")
def scaled(example, env):
    return example.input["value"] * env.settings["factor"]

@checker("half-verdict", verifies=True)
def half_verdict(example):
    return "yes"

@checker("a-set")
def a_set(example):
    return {1, 2}
"""


def test_conftest_checkers(project: pytest.Pytester, write_set: WriteSet, xdist: list[str]) -> None:
    project.makeconftest(CONFTEST_CHECKERS)
    manifest = (
        "evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  checkers:\n    scaled: {factor: 3}\n"
    )
    broken = [
        programmatic("own-1", "queue-of", "billing", {"keyword": "refund"}),
        programmatic("own-2", "queue-of", "billing", {"keyword": "gift card"}),
        programmatic("own-3", "known-queue", "shipping", "where is it"),
        programmatic("own-4", "scaled", 10, {"value": 4}),
        programmatic("own-5", "half-verdict", "x", "y"),
    ]
    write_set(with_records(*broken), manifest=manifest)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines(
        [
            'data/support.jsonl:16: own-1: checker \'queue-of\' computes "refunds", not the gold "billing"*',
            "data/support.jsonl:17: own-2: checker 'queue-of' raised KeyError: 'gift card' — fix the example's input or the checker; until the checker reproduces the gold, the gold is not programmatic",
            "data/support.jsonl:18: own-3: checker 'known-queue' rejects the gold \"shipping\"*",
            "data/support.jsonl:19: own-4: checker 'scaled' computes 12, not the gold 10*",
            "data/support.jsonl:20: own-5: checker 'half-verdict' verifies golds but returned \"yes\", not true or false — return a bool*",
        ]
    )

    fixed = [
        programmatic("own-1", "queue-of", " refunds ", {"keyword": "refund"}),
        programmatic("own-2", "queue-of", "billing", {"keyword": "invoice"}),
        programmatic("own-3", "known-queue", "refunds", "where is it"),
        programmatic("own-4", "scaled", 12, {"value": 4}),
        programmatic("own-5", "regex", "yes", "y", pattern="y.s"),
    ]
    write_set(with_records(*fixed), manifest=manifest)
    assert run(project, "--evalmix").ret == 0


def test_non_json_result(project: pytest.Pytester, write_set: WriteSet) -> None:
    project.makeconftest(CONFTEST_CHECKERS)
    write_set(with_records(programmatic("own-1", "a-set", [1, 2], "x")))
    result = run(project, "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["data/support.jsonl:20: own-1: checker 'a-set' returned a set, which is not a JSON value*"]
    )


def test_checkers_module_from_ini(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    project.makepyfile(
        team_checkers="""
        from pytest_evalmix import checker

        @checker("ticket-id", verifies=True)
        def ticket_id(example):
            return example.gold.startswith("ZD-")
        """
    )
    (project.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["."]\nevalmix_checkers = ["team_checkers"]\n'
    )
    write_set(with_records(programmatic("tid-1", "ticket-id", "ZD-1", "ticket?")))
    assert run(project, "--evalmix").ret == 0
    write_set(with_records(programmatic("tid-1", "ticket-id", "JIRA-1", "ticket?")))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["data/support.jsonl:20: tid-1: checker 'ticket-id' rejects the gold \"JIRA-1\"*"]
    )


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            "no_such_checkers",
            "*ini evalmix_checkers: cannot import 'no_such_checkers': ModuleNotFoundError: *",
        ),
        (
            "broken_checkers",
            "*ini evalmix_checkers: cannot import 'broken_checkers': ZeroDivisionError: division by zero*",
        ),
    ],
)
def test_checkers_module_import_error_is_usage_error(
    project: pytest.Pytester, write_set: WriteSet, module: str, expected: str
) -> None:
    project.makepyfile(broken_checkers="x = 1 / 0\n")
    (project.path / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\npythonpath = ["."]\nevalmix_checkers = ["{module}"]\n'
    )
    write_set()
    result = run(project, "--evalmix")
    assert result.ret == 4
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stderr.str()


def test_two_checkers_with_one_name(project: pytest.Pytester, write_set: WriteSet) -> None:
    project.makeconftest(
        "from pytest_evalmix import checker\n\n"
        "@checker('refund-total')\ndef a(example):\n    return 1\n"
    )
    project.mkdir("evals").joinpath("conftest.py").write_text(
        "from pytest_evalmix import checker\n\n"
        "@checker('refund-total')\ndef b(example):\n    return 2\n"
    )
    write_set()
    result = run(project, "--evalmix", "evals", "support.evalmix.yaml")
    assert result.ret != 0
    assert (
        "checker 'refund-total' is already registered by a() in "
        in result.stdout.str() + result.stderr.str()
    )


def test_data_never_names_code(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """Import paths in label.checker are unknown checkers: nothing is imported, nothing runs."""
    project.makepyfile(
        evilmod="""
        from pathlib import Path

        Path(__file__).with_name("MARKER-imported").write_text("imported")

        def run(*args, **kwargs):
            Path(__file__).with_name("MARKER-ran").write_text("ran")

        system = run
        """
    )
    (project.path / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    names = ["os:system", "evilmod:run", "evilmod.run", "evilmod"]
    evil = [programmatic(f"evil-{i}", name, 0, "touch MARKER") for i, name in enumerate(names)]
    write_set(with_records(*evil))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:17: evil-0: unknown checker 'os:system'*; registered: arithmetic, regex, sqlite — register a checker with @pytest_evalmix.checker(name) in a conftest.py or a module listed in ini evalmix_checkers, and name it here; a data file can only name a registered checker, it never imports code",
            "data/support.jsonl:18: evil-1: unknown checker 'evilmod:run'*",
            "data/support.jsonl:19: evil-2: unknown checker 'evilmod.run'*",
            "data/support.jsonl:20: evil-3: unknown checker 'evilmod'*",
        ]
    )
    assert not (project.path / "MARKER-imported").exists()
    assert not (project.path / "MARKER-ran").exists()


def test_checker_names_cannot_look_like_code(project: pytest.Pytester, write_set: WriteSet) -> None:
    project.makeconftest(
        "from pytest_evalmix import checker\n\n"
        "@checker('os:system')\ndef f(example):\n    return 1\n"
    )
    write_set()
    result = run(project, "--evalmix")
    assert result.ret != 0
    assert "checker name 'os:system' is not valid" in result.stdout.str() + result.stderr.str()


ESCAPING_CHECKERS = """
import sys

import pytest

from pytest_evalmix import checker

@checker("skips")
def skips(example):
    pytest.skip("no database here")

@checker("exits")
def exits(example):
    sys.exit(3)

@checker("double")
def double(example):
    return example.input * 2
"""


def test_a_checker_that_skips_or_exits_is_a_finding_and_the_check_still_runs(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """pytest.skip() or sys.exit() inside a checker must not skip or abort gold-provenance,
    which would let the other records' wrong golds through."""
    project.makeconftest(ESCAPING_CHECKERS)
    write_set(
        with_records(
            programmatic("esc-1", "skips", "x", "y"),
            programmatic("esc-2", "exits", "x", "y"),
            programmatic("esc-3", "double", 3, 2),
        )
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:18: esc-1: checker 'skips' raised Skipped: no database here — *",
            "data/support.jsonl:19: esc-2: checker 'exits' raised SystemExit: 3 — *",
            "data/support.jsonl:20: esc-3: checker 'double' computes 4, not the gold 3*",
        ]
    )


def test_a_pattern_that_backtracks_forever_is_stopped(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    slow = programmatic("rx-9", "regex", "a" * 40 + "b", "ticket?", pattern="(a+)+")
    write_set(with_records(slow))
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:20: rx-9: checker 'regex' cannot check this example: label.pattern "
            "took over 2 s to match the gold (catastrophic backtracking, such as (a+)+) — "
            "simplify label.pattern*"
        ]
    )
