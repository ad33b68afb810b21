"""Hostile input, as a hostile contributor would send it (issue 13): no write through a symlink,
no hang, no traceback, and messages that say exactly what is wrong. Each test is named by the
behaviour it checks; the sections follow the order of the defects in the issue."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, WriteSet, healthy, jsonl, record, run
from fake_messages_api import FakeMessagesAPI
from pytest_evalmix.state import ledger
from pytest_evalmix.synth.synthesizer import SynthesisError, Synthesizer

KEY = "sk-ant-api03-EVALMIXHARDENING-0123456789"
CLI = [sys.executable, "-m", "pytest_evalmix.cli.main"]
RAW = ("\x1b", "\x07", "\u202e", "\ud800")


def clean(result: pytest.RunResult) -> str:
    """The run's whole output, which must hold no traceback and no raw control character."""
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "this is a bug" not in out, out
    for char in RAW:
        assert char not in out, f"{char!r} reached the output raw"
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evalmix(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "GIT_"))}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        errors="surrogateescape",
    )
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out
    for char in RAW:
        assert char not in out, f"{char!r} reached the output raw"
    return done


EVAL_TEST = """
import pytest
from pytest_evalmix import examples

@pytest.mark.parametrize("example", examples("evals/production.evalmix.yaml"))
def test_eval(example):
    assert example.gold
"""


# -- no write through a symlink --------------------------------------------------------------------


def test_results_never_follow_a_symlink_onto_a_data_file(
    project: pytest.Pytester, xdist: list[str]
) -> None:
    data = project.path / "evals" / "data"
    data.mkdir(parents=True)
    (data / "production.jsonl").write_text(jsonl(healthy()), encoding="utf-8")
    (project.path / "evals" / "production.evalmix.yaml").write_text(
        "evalmix: 1\nname: production\ndata:\n  - data/production.jsonl\n", encoding="utf-8"
    )
    (project.path / ".evalmix").mkdir()
    (project.path / ".evalmix" / "results").symlink_to("../evals/data")
    project.makepyfile(test_evals=EVAL_TEST)
    before = digest(data / "production.jsonl")
    result = run(project, "--evalmix", *xdist)
    out = clean(result)
    assert digest(data / "production.jsonl") == before
    assert "results: could not write .evalmix/results/production.jsonl: refused" in out
    assert not (data / "production.jsonl.tmp").exists()


def test_a_relative_report_path_never_leaves_through_a_symlink(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (project.path / "reports").symlink_to(outside)
    healthy_set(project)
    result = run(project, "--evalmix", "--evalmix-report=reports/evalmix.md")
    out = clean(result)
    assert not list(outside.iterdir())
    assert "evalmix: could not write the report reports/evalmix.md: refused" in out


def healthy_set(project: pytest.Pytester) -> None:
    """A healthy set, written without the write_set fixture (tests that need two layouts)."""
    (project.path / "data").mkdir(exist_ok=True)
    (project.path / "data" / "support.jsonl").write_text(jsonl(healthy()), encoding="utf-8")
    (project.path / "support.evalmix.yaml").write_text(
        "evalmix: 1\ndata:\n  - data/support.jsonl\n", encoding="utf-8"
    )


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeMessagesAPI]]:
    started: list[FakeMessagesAPI] = []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    yield started
    for server in started:
        server.stop()


def start(started: list[FakeMessagesAPI], monkeypatch: pytest.MonkeyPatch, **kw: Any) -> str:
    server = FakeMessagesAPI(**kw).start()
    started.append(server)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    return server.url


@pytest.mark.parametrize("linked", ["cache", "ledger.jsonl", "."])
def test_the_synthesizer_refuses_a_cache_or_ledger_symlinked_out(
    tmp_path: Path,
    api: list[FakeMessagesAPI],
    monkeypatch: pytest.MonkeyPatch,
    linked: str,
) -> None:
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    url = start(api, monkeypatch)
    evalmix_dir = root / ".evalmix"
    if linked == ".":
        evalmix_dir.symlink_to(outside)
    else:
        evalmix_dir.mkdir()
        (outside / "ledger.jsonl").write_text("", encoding="utf-8")
        target = outside if linked == "cache" else outside / "ledger.jsonl"
        (evalmix_dir / linked).symlink_to(target)
    synthesizer = Synthesizer(
        model="m", evalmix_dir=evalmix_dir, mode="record", base_url=url, rootdir=root
    )
    with pytest.raises(SynthesisError, match="refused"):
        synthesizer.paraphrase("Where is my parcel?", 2)
    assert [p.name for p in outside.iterdir() if p.stat().st_size] == []


def test_review_never_appends_through_a_symlink(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "victim.jsonl").write_text("", encoding="utf-8")
    healthy_set(project)
    (project.path / "data" / "reviewed.jsonl").symlink_to(outside / "victim.jsonl")
    queue = project.path / "queue.jsonl"
    queue.write_text(json.dumps(candidate("c1", "prod-1")) + "\n", encoding="utf-8")
    done = evalmix(
        project.path,
        "review",
        "queue.jsonl",
        "--into",
        "data/reviewed.jsonl",
        "--reviewer",
        "dana",
        stdin="a\nbilling\n",
    )
    assert done.returncode == 1
    assert "refused to write data/reviewed.jsonl: it is a symlink" in done.stderr
    assert (outside / "victim.jsonl").read_text() == ""


def test_review_logs_and_proposed_queues_never_leave_through_a_symlink(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    healthy_set(project)
    (project.path / ".evalmix").mkdir()
    (project.path / ".evalmix" / "reviews").symlink_to(outside)
    (project.path / "queue.jsonl").write_text(
        json.dumps(candidate("c1", "prod-1")) + "\n", encoding="utf-8"
    )
    done = evalmix(
        project.path, "review", "queue.jsonl", "--into", "data/r.jsonl", "--reviewer", "dana",
        stdin="r\n",
    )  # fmt: skip
    assert done.returncode == 1
    assert "refused to write .evalmix/reviews/dana.jsonl: a symlink in its directory" in done.stderr
    assert not list(outside.iterdir())
    (project.path / "queues").symlink_to(outside)
    done = evalmix(project.path, "propose", "support.evalmix.yaml", "--out", "queues/q.jsonl")
    assert done.returncode == 1
    assert "refused to write queues/q.jsonl: a symlink in its directory" in done.stderr
    assert not list(outside.iterdir())


def candidate(rid: str, seed: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": rid,
        "input": f"rewrite of {seed}",
        "origin": "synthetic",
        "synthetic": {"generator": "claude-opus-4-7", "method": "paraphrase", "seed_id": seed},
        "seed": {"id": seed, "input": f"ticket text for {seed}", "gold": "billing"},
    }
    data.update(extra)
    return data


# -- globs: no hang, no walk of the file system ----------------------------------------------------


def test_a_glob_through_a_symlink_loop_ends_and_passes(project: pytest.Pytester) -> None:
    extra = project.path / "extra"
    (extra / "deep").mkdir(parents=True)
    (extra / "loop1").symlink_to(".")
    (extra / "loop2").symlink_to(".")
    (extra / "deep" / "production.jsonl").write_text(jsonl(healthy()), encoding="utf-8")
    evals = project.path / "evals"
    evals.mkdir()
    (evals / "s.evalmix.yaml").write_text(
        "evalmix: 1\ndata:\n  - ../extra/**/production.jsonl\n", encoding="utf-8"
    )
    started = time.monotonic()
    # pytest itself is pointed at evals/: its own collection would walk the loop otherwise.
    result = project.runpytest_subprocess(
        "--evalmix", "-p", "no:cacheprovider", f"--evalmix-today={TODAY}", "-q", "evals",
        timeout=60,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    clean(result)
    assert result.ret == 0, result.stdout.str()


def test_an_absolute_glob_is_one_finding_and_no_walk(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - data/support.jsonl\n  - /**/*.jsonl\n")
    started = time.monotonic()
    result = run(project, "--evalmix")
    assert time.monotonic() - started < 20
    out = clean(result)
    finding = "support.evalmix.yaml:4: -: data path '/**/*.jsonl' resolves outside the rootdir"
    assert out.count(finding) == 1


# -- lone surrogates -------------------------------------------------------------------------------


def test_lone_surrogates_in_ids_and_reviewers_are_findings_shown_escaped(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    line = jsonl(healthy()[:-1]) + (
        '{"id": "adv-\\ud800", "input": "x", "gold": "y", "origin": "adversarial", '
        '"label": {"source": "human"}}\n'
    )
    write_set()
    (project.path / "data" / "support.jsonl").write_text(line, encoding="utf-8")
    reviews = project.path / ".evalmix" / "reviews"
    reviews.mkdir(parents=True)
    (reviews / "x.jsonl").write_text(
        "".join(
            f'{{"id": "c{i}", "decision": "accepted", "by": "sam\\udc80", "at": "2026-11-20", '
            '"seconds": 1}\n'
            for i in range(25)
        ),
        encoding="utf-8",
    )
    result = run(project, "--evalmix", "--evalmix-report=r.json", "--evalmix-report=r.md", *xdist)
    out = clean(result)
    assert result.ret == 1
    assert "data/support.jsonl:20: adv-\\ud800: id is not valid Unicode text" in out
    assert "reviewer sam\\udc80 accepted 25 of 25" in out
    report = (project.path / "r.md").read_text(encoding="utf-8")
    assert "adv-\\ud800" in report
    assert json.loads((project.path / "r.json").read_text(encoding="utf-8"))["status"] == "failed"


def test_a_lone_surrogate_in_a_queue_or_a_seed_is_refused_with_its_line(
    project: pytest.Pytester,
) -> None:
    healthy_set(project)
    (project.path / "queue.jsonl").write_text(
        json.dumps(candidate("c1", "prod-1", input="hi \ud800")) + "\n", encoding="utf-8"
    )
    done = evalmix(
        project.path, "review", "queue.jsonl", "--into", "data/r.jsonl", "--reviewer", "d",
        stdin="a\nbilling\n",
    )  # fmt: skip
    assert done.returncode == 1
    assert "queue.jsonl:1: c1: holds a lone surrogate escape" in done.stderr
    records = [record(f"prod-{i}", input=f"ticket {i} \ud800") for i in range(2)]
    (project.path / "data" / "support.jsonl").write_text(jsonl(records), encoding="utf-8")
    done = evalmix(project.path, "propose", "support.evalmix.yaml", "--out", "q.jsonl")
    assert done.returncode == 1
    assert "seed(s) have an input that is not text and are left out: prod-0, prod-1" in done.stderr


# -- deep or huge values ---------------------------------------------------------------------------

HOSTILE = ['{"id": ' + "9" * 5000 + "}", "[" * 100_000]


@pytest.mark.parametrize("value", HOSTILE, ids=["huge-int", "deep"])
def test_deep_or_huge_json_in_a_review_log_or_the_cache_is_a_finding_not_a_crash(
    project: pytest.Pytester, write_set: WriteSet, value: str, xdist: list[str]
) -> None:
    write_set()
    state = project.path / ".evalmix"
    (state / "reviews").mkdir(parents=True)
    (state / "reviews" / "x.jsonl").write_text(value + "\n", encoding="utf-8")
    (state / "ledger.jsonl").write_text(value + "\n", encoding="utf-8")
    (state / "cache").mkdir()
    synthesizer = Synthesizer(model="claude-opus-4-7", evalmix_dir=state)
    synthesizer.cache_path("Hello there.", 2).write_text(value, encoding="utf-8")
    project.makepyfile(
        test_para="""
        def test_it(paraphrase):
            paraphrase("Hello there.", 2)
        """
    )
    result = run(project, "--evalmix", *xdist)
    out = clean(result)
    what = "a number too long" if "9999" in value else "nested too deeply"
    assert f".evalmix/reviews/x.jsonl:1: -: not a review decision: JSON {what} to read" in out
    assert "is unreadable" in out and "record mode replaces it" in out


@pytest.mark.parametrize("value", HOSTILE, ids=["huge-int", "deep"])
def test_review_refuses_deep_or_huge_json_in_a_queue_and_survives_it_in_the_into_file(
    project: pytest.Pytester, value: str
) -> None:
    healthy_set(project)
    (project.path / "queue.jsonl").write_text(value + "\n", encoding="utf-8")
    done = evalmix(
        project.path, "review", "queue.jsonl", "--into", "data/r.jsonl", "--reviewer", "d"
    )
    assert done.returncode == 1 and "queue.jsonl:1: JSON" in done.stderr
    (project.path / "queue.jsonl").write_text(
        json.dumps(candidate("c1", "prod-1")) + "\n", encoding="utf-8"
    )
    (project.path / "data" / "r.jsonl").write_text(value + "\n", encoding="utf-8")
    done = evalmix(
        project.path, "review", "queue.jsonl", "--into", "data/r.jsonl", "--reviewer", "d",
        stdin="r\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


# -- YAML alias chains -----------------------------------------------------------------------------


def alias_chain(levels: int) -> str:
    return "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, levels))


def test_yaml_alias_chains_stop_at_200_levels_in_data_and_manifests(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/chain.yaml\n")
    chain = alias_chain(1300).replace("\n", "\n  ").replace("a0:", "  a0:", 1)
    (project.path / "data" / "chain.yaml").write_text(
        "- id: chained\n  input: x\n  origin: production\n  label: {source: human}\n"
        "  meta:\n" + "    " + chain.strip().replace("\n  ", "\n    ") + "\n  gold: *a1299\n",
        encoding="utf-8",
    )
    (project.path / "other.evalmix.yaml").write_text(
        "evalmix: 1\nname: other\nexamples: []\npolicy:\n  checkers:\n    x:\n"
        + "".join("      " + line + "\n" for line in alias_chain(1300).splitlines())
        + "      y: *a1299\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = run(project, "--evalmix", "other.evalmix.yaml")
    out = clean(result)
    assert result.ret == 2
    assert "other.evalmix.yaml:202: YAML nested more than 200 levels deep (aliases expanded)" in out
    result = run(project, "--evalmix", "support.evalmix.yaml")
    out = clean(result)
    assert result.ret == 1
    assert "data/chain.yaml:202: -: YAML nested more than 200 levels deep (aliases expanded)" in out
    assert time.monotonic() - started < 20


# -- a 200 answer that is not a message ------------------------------------------------------------

MALFORMED = [
    ("application/json", b"{not json"),
    ("text/html", b"<html><body>Welcome to the hotel wifi</body></html>"),
    ("application/json", b"{}"),
]


@pytest.mark.parametrize("malformed", MALFORMED, ids=["invalid-json", "html", "empty-object"])
def test_a_malformed_200_api_answer_fails_the_test_with_one_line(
    project: pytest.Pytester,
    api: list[FakeMessagesAPI],
    monkeypatch: pytest.MonkeyPatch,
    malformed: tuple[str, bytes],
) -> None:
    start(api, monkeypatch, malformed=malformed)
    project.makepyfile(
        test_para="""
        def test_it(paraphrase):
            paraphrase("Where is my parcel?", 2)
        """
    )
    result = run(project, "--evalmix-synth=record")
    out = clean(result)
    result.assert_outcomes(failed=1)
    assert "evalmix: the Anthropic API answered 200 with" in out
    assert "check ANTHROPIC_BASE_URL and the network, then try again" in out
    assert "anthropic/" not in out and KEY not in out


def test_propose_exits_1_with_one_line_on_a_malformed_200_api_answer(
    project: pytest.Pytester,
    write_set: WriteSet,
    api: list[FakeMessagesAPI],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = start(api, monkeypatch, malformed=MALFORMED[1])
    write_set()
    env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": KEY}
    done = subprocess.run(
        [
            *CLI,
            "propose",
            "support.evalmix.yaml",
            "--n",
            "2",
            "--out",
            "q.jsonl",
            "--synth",
            "record",
        ],
        cwd=project.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("evalmix: error: the Anthropic API answered 200 with a body")


# -- the sqlite checker's memory -------------------------------------------------------------------


def test_the_sqlite_checker_refuses_results_too_big_for_memory(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    db = project.path / "db.sqlite"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE t (n INTEGER)")
    connection.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(40)])
    connection.commit()
    connection.close()

    def sql(rid: str, query: str) -> dict[str, Any]:
        data = record(rid, "adversarial", gold=[[1]], source="programmatic", input=query)
        data["label"] = {"source": "programmatic", "checker": "sqlite"}
        return data

    records = [
        *healthy()[:-2],
        sql("adv-blob", "SELECT zeroblob(100000000) FROM t"),
        sql("adv-many", "SELECT zeroblob(900000) FROM t"),
    ]
    write_set(
        records,
        manifest="evalmix: 1\ndata:\n  - data/support.jsonl\n"
        "policy:\n  checkers:\n    sqlite: {database: db.sqlite}\n",
    )
    result = run(project, "--evalmix")
    out = clean(result)
    assert (
        "adv-blob: checker 'sqlite' " in out and "the query failed: string or blob too big" in out
    )
    assert "adv-many: checker 'sqlite' " in out and "the query returns more than 16 MiB" in out


# -- paths that cannot name a file -----------------------------------------------------------------


def test_a_data_path_with_a_long_component_or_a_nul_byte_is_a_finding(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    long = "a" * 300
    write_set(
        manifest=f'evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/{long}.jsonl\n  - "data/x\\0y.jsonl"\n'
    )
    result = run(project, "--evalmix", *xdist)
    out = clean(result)
    assert result.ret == 1
    assert (
        f"support.evalmix.yaml:4: -: data path 'data/{long}.jsonl' has a component longer than 255 bytes"
        in out
    )
    assert "support.evalmix.yaml:5: -: data path 'data/x\\x00y.jsonl' contains a NUL byte" in out
    assert "\x00" not in out


# -- symlinks out of the rootdir are not read ------------------------------------------------------


def test_a_manifest_or_review_log_symlinked_outside_the_rootdir_is_not_read(
    project: pytest.Pytester, write_set: WriteSet, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "data.jsonl").write_text(jsonl([record("secret-outside-id")]), encoding="utf-8")
    (outside / "x.evalmix.yaml").write_text(
        "evalmix: 1\nexamples:\n  - {id: secret-manifest-id, input: x}\n", encoding="utf-8"
    )
    (outside / "log.jsonl").write_text('{"id": "secret-log-id", "by": 1}\n', encoding="utf-8")
    write_set()
    (project.path / "linked.evalmix.yaml").symlink_to(outside / "x.evalmix.yaml")
    (project.path / ".evalmix" / "reviews").mkdir(parents=True)
    (project.path / ".evalmix" / "reviews" / "x.jsonl").symlink_to(outside / "log.jsonl")
    result = run(project, "--evalmix", "linked.evalmix.yaml")
    out = clean(result)
    assert result.ret == 2
    assert "secret" not in out
    assert (
        "linked.evalmix.yaml:1: the manifest is a symlink that resolves outside the rootdir" in out
    )
    result = run(project, "--evalmix", "support.evalmix.yaml")
    out = clean(result)
    assert "secret" not in out
    assert ".evalmix/reviews/x.jsonl:1: -: not a review decision: x.jsonl is a symlink" in out


# -- terminal escapes ------------------------------------------------------------------------------


def test_terminal_escapes_in_ids_owners_and_keys_are_shown_escaped(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    bad = healthy()
    bad[0] = record("prod-\x1b]0;pwned\x07", gold="x", source="llm")
    bad[1] = record("prod-\u202egnp.exe", orgin="production")
    bad[2] = record("prod-x\nsrc/app.py:1: -: all good — nothing to do", source="llm")
    bad[3]["label"]["provisional"] = {"owner": "\x1b[8mpriya", "backfill_by": "2026-12-01"}
    bad[3]["label"]["source"] = "llm"
    write_set(bad)
    result = run(project, "--evalmix", "--evalmix-report=r.md", *xdist)
    out = clean(result)
    assert "prod-\\x1b]0;pwned\\x07: gold written by" in out
    assert "prod-\\u202egnp.exe: unknown key 'orgin'" in out
    assert "\nsrc/app.py:1" not in out
    assert "prod-x\\nsrc/app.py:1: -: all good" in out
    assert "\\x1b[8mpriya" in out
    report = (project.path / "r.md").read_text(encoding="utf-8")
    assert "\x1b" not in report and "\u202e" not in report


def test_review_shows_ids_and_generators_escaped(project: pytest.Pytester) -> None:
    healthy_set(project)
    queue = candidate(
        "c1\x1b[8m",
        "prod-1\u202e",
        synthetic={"generator": "m\x1b]0;x\x07", "method": "para\nphrase", "seed_id": "prod-1"},
    )
    (project.path / "queue.jsonl").write_text(json.dumps(queue) + "\n", encoding="utf-8")
    done = evalmix(
        project.path, "review", "queue.jsonl", "--into", "data/r.jsonl", "--reviewer", "d",
        stdin="s\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "c1\\x1b[8m" in done.stdout
    assert "seed prod-1\\u202e, input:" in done.stdout
    assert "(para\\nphrase by m\\x1b]0;x\\x07)" in done.stdout


# -- the ledger under xdist ------------------------------------------------------------------------


def test_xdist_workers_append_each_paraphrase_to_the_ledger_once(
    project: pytest.Pytester, api: list[FakeMessagesAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = start(api, monkeypatch)
    seeds = [f"Ticket {i}: my order {1000 + i} never arrived." for i in range(30)]
    state = project.path / ".evalmix"
    recorder = Synthesizer(model="claude-opus-4-7", evalmix_dir=state, mode="record", base_url=url)
    recorder.paraphrase_many(seeds, 5)
    (state / "ledger.jsonl").unlink()
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    project.makepyfile(
        test_many=f"""
        import pytest

        SEEDS = {seeds!r}

        @pytest.mark.parametrize("i", range(120))
        def test_it(paraphrase, i):
            assert len(paraphrase(SEEDS[(i * 7) % 30], 5)) == 5
        """
    )
    run(project, "-n", "2").assert_outcomes(passed=120)
    rows = [json.loads(line) for line in (state / "ledger.jsonl").read_text().splitlines()]
    assert len(rows) == len({row["sha256"] for row in rows}) == 150
    assert {row["sha256"] for row in rows} == {
        ledger.digest(f"Rewrite {k} of: {seed}") for seed in seeds for k in range(1, 6)
    }


# -- the exit status does not depend on xdist ------------------------------------------------------


def test_a_test_file_without_a_manifest_exits_5_with_or_without_xdist(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    project.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = run(project, "--evalmix", "test_plain.py", *xdist)
    clean(result)
    assert result.ret == 5
    assert "evalmix: no manifest found under test_plain.py" in result.stdout.str()


# -- a programmatic gold stored as text ------------------------------------------------------------


def test_a_gold_of_text_that_reads_as_a_number_matches_the_computed_number(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    def calc(rid: str, expression: str, gold: Any) -> dict[str, Any]:
        data = record(rid, "adversarial", gold=gold, source="programmatic", input=expression)
        data["label"] = {"source": "programmatic", "checker": "arithmetic"}
        return data

    records = [
        *healthy()[:-3],
        calc("adv-a", "17 * 3 + 4", "55"),
        calc("adv-b", "2 * 19.99", " 39.98 "),
        calc("adv-c", "4 + 17 * 3", "56"),
    ]
    write_set(records)
    out = clean(run(project, "--evalmix"))
    assert "adv-a" not in out and "adv-b" not in out
    assert "adv-c: checker 'arithmetic' computes 55, not the gold \"56\" —" in out


# -- messages that say exactly what is wrong -------------------------------------------------------


def test_a_typo_in_a_data_entry_suggests_the_key(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - path: data/support.jsonl\n    feilds: deepeval\n")
    out = clean(run(project, "--evalmix"))
    assert (
        "support.evalmix.yaml:4: unknown manifest key 'data.0.feilds' (did you mean 'fields'?)"
        in out
    )


def test_a_typo_in_defaults_is_reported_once_at_the_manifest(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(
        manifest="evalmix: 1\ndata:\n  - path: data/support.jsonl\n"
        "    defaults:\n      meta: {}\n      orgin: production\n"
    )
    out = clean(run(project, "--evalmix"))
    line = "support.evalmix.yaml:6: -: unknown key 'orgin' in the data entry's defaults (did you mean 'origin'?)"
    assert out.count(line) == 1
    assert "data/support.jsonl:" not in out


def test_every_pyproject_policy_error_is_reported_at_once(project: pytest.Pytester) -> None:
    project.makefile(
        ".toml",
        pyproject="[tool.pytest.ini_options]\n[tool.evalmix.policy]\n"
        'mix = {tolerence = 0.1, min_examples = "x"}\nreveiw = {}\n',
    )
    result = run(project, "--evalmix")
    assert result.ret == 4
    err = result.stderr.str()
    for part in ("'mix.tolerence'", "'reveiw'", "'mix.min_examples'"):
        assert part in err


def test_a_bad_review_date_and_a_null_id_say_what_is_wrong(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    bad = healthy()
    bad[0]["review"] = {"by": "d", "decision": "accepted", "at": "yesterday"}
    bad[1] = {**bad[1], "name": None}
    del bad[1]["id"]
    write_set(
        bad, manifest="evalmix: 1\ndata:\n  - path: data/support.jsonl\n    fields: {id: name}\n"
    )
    out = clean(run(project, "--evalmix"))
    assert "data/support.jsonl:1: prod-0: review.at is not a valid date: 'yesterday' —" in out
    assert "review.at.date" not in out and "review.at.datetime" not in out
    assert "data/support.jsonl:2: -: missing required field 'id' — add 'id'" in out


def test_a_bad_yaml_tagged_value_is_reported_at_its_line(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    padding = "".join(f"# line {i}\n" for i in range(3, 45))
    write_set(
        manifest="evalmix: 1\ndata:\n" + padding + "  - data/support.jsonl\npolicy:\n"
        "  mix: {min_examples: !!int abc}\n"
    )
    out = clean(run(project, "--evalmix"))
    assert "support.evalmix.yaml:47: invalid YAML value" in out


# -- Markdown --------------------------------------------------------------------------------------


def test_a_skip_reason_is_markdown_escaped_in_the_checks_table(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - data/support.jsonl\nresults: '*d*<x>.jsonl'\n")
    clean(run(project, "--evalmix", "--evalmix-report=r.md"))
    report = (project.path / "r.md").read_text(encoding="utf-8")
    row = next(line for line in report.splitlines() if line.startswith("| `pass-rates`"))
    assert "\\*d\\*\\<x\\>.jsonl" in row


# -- a synthetic record with no synthetic block ----------------------------------------------------


def test_a_synthetic_record_without_its_synthetic_block_warns(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    records = healthy()
    del records[10]["synthetic"]
    write_set(records)
    result = run(project, "--evalmix", *xdist)
    out = clean(result)
    assert result.ret == 0
    assert (
        "data/support.jsonl:11: EvalmixWarning: syn-0: synthetic record with no synthetic block"
        in out
    )
