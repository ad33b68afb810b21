"""A seeded fuzz of the example project: a few hundred mutated copies of its files, and each run
of ``pytest --evalmix`` over them must end with a verdict (exit 0, 1, 2, 4 or 5), print no
traceback, finish in bounded time, and write nothing into a data file.

To keep the suite's cost modest, mutations are batched: each run checks many copies of the eval
set side by side (``evals/f<k>/``), each copy with one of its files mutated, plus one mutation of
the project-wide state (ledger, cache entry, review log). ``--continue-on-collection-errors``
keeps a manifest that cannot be read from stopping the others' checks.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import TODAY

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
SEED = 20261125
BATCHES = 8
COPIES = 32  # 8 x 32 = 256 mutated eval sets, plus 8 mutations of the project's state
SECONDS_PER_RUN = 60.0
EXIT_CODES = {0, 1, 2, 4, 5}

Mutation = Callable[[random.Random, bytes], bytes]


def _at(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: _at(rng, data)]


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    at = _at(rng, data)
    return data[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"]) + data[at:]


def _after_value_start(rng: random.Random, data: bytes) -> int:
    """Where a value starts: after a ``: `` when there is one, anywhere otherwise."""
    spots = [i + 2 for i in range(len(data) - 1) if data[i : i + 2] == b": "]
    return rng.choice(spots) if spots else _at(rng, data)


def deep_nesting(rng: random.Random, data: bytes) -> bytes:
    at = _after_value_start(rng, data)
    depth = rng.choice([300, 5_000, 100_000])
    return data[:at] + b"[" * depth + b"1" + b"]" * depth + data[at:]


def huge_number(rng: random.Random, data: bytes) -> bytes:
    at = _after_value_start(rng, data)
    number = b"9" * rng.choice([400, 5_000, 50_000]) + rng.choice([b"", b".5", b"e999999"])
    return data[:at] + number + b", " + data[at:]


def surrogate(rng: random.Random, data: bytes) -> bytes:
    quotes = [i + 1 for i, byte in enumerate(data) if byte == ord('"')]
    at = rng.choice(quotes) if quotes else _at(rng, data)
    escape = rng.choice([b"\\ud800", b"\\udfff", b"\\u001b[31m", b"\\u202e", b"\\n", b"\\u0000"])
    return data[:at] + escape + data[at:]


_TOKENS = [b"null", b"true", b"[]", b"{}", b"-1e999", b'"x"', b"1.5", b"[[1]]", b"{a: 1}", b"-"]


def type_swap(rng: random.Random, data: bytes) -> bytes:
    """Replace one value (after ``: `` or a comma) with a value of another type."""
    at = _after_value_start(rng, data)
    end = at
    while end < len(data) and data[end : end + 1] not in (b",", b"\n", b"}"):
        end += 1
    return data[:at] + rng.choice(_TOKENS) + data[end:]


def yaml_alias_chain(rng: random.Random, data: bytes) -> bytes:
    levels = rng.choice([150, 400, 1_300])
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, levels))
    return data + f"\nzz0: &a0 [1]\n{chain}".encode()


MUTATIONS: list[Mutation] = [
    truncate,
    flip_bytes,
    invalid_utf8,
    deep_nesting,
    huge_number,
    surrogate,
    type_swap,
    yaml_alias_chain,
]


def digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        # The interpreter's bytecode cache (it imports the project's conftest.py) is not ours.
        if path.is_file() and path.suffix != ".sqlite" and "__pycache__" not in path.parts
    }


def build_project(root: Path, copies: int) -> list[Path]:
    """The example project, without its test modules, with ``copies`` copies of its eval set
    under ``evals/f<k>/``; returns the copies' mutable files (manifest and data)."""
    for name in ("pyproject.toml", "support_router.py"):
        shutil.copy(EXAMPLE / name, root / name)
    shutil.copytree(EXAMPLE / ".evalmix", root / ".evalmix")
    reviews = root / ".evalmix" / "reviews"
    reviews.mkdir()
    (reviews / "dana.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "id": f"syn-{i}",
                    "decision": "accepted" if i % 4 else "rejected",
                    "by": "dana",
                    "at": f"2026-11-20T10:{i:02d}:00Z",
                    "seconds": 4.5 + i,
                }
            )
            + "\n"
            for i in range(24)
        ),
        encoding="utf-8",
    )
    evals = root / "evals"
    evals.mkdir()
    shutil.copy(EXAMPLE / "evals" / "conftest.py", evals / "conftest.py")
    shutil.copytree(
        EXAMPLE / "evals" / "db", evals / "db", ignore=shutil.ignore_patterns("*.sqlite*")
    )
    targets: list[Path] = []
    source = EXAMPLE / "evals"
    for k in range(copies):
        copy = evals / f"f{k}"
        shutil.copytree(
            source, copy, ignore=shutil.ignore_patterns("test_*.py", "conftest.py", "*.sqlite*")
        )
        # A results file too, so that mutations reach the outcomes reader.
        ids = [json.loads(line)["id"] for line in (copy / "data" / "production.jsonl").open()]
        (copy / "results.jsonl").write_text(
            "".join(
                json.dumps({"id": rid, "passed": i % 5 != 0, "failure_mode": "wrong-queue"}) + "\n"
                for i, rid in enumerate(ids)
            ),
            encoding="utf-8",
        )
        with (copy / "support.evalmix.yaml").open("a", encoding="utf-8") as manifest:
            manifest.write("results: results.jsonl\n")
        (copy / "db").mkdir(exist_ok=True)
        connection = sqlite3.connect(copy / "db" / "orders.sqlite")
        connection.executescript((source / "db" / "orders.sql").read_text(encoding="utf-8"))
        connection.close()
        targets.extend(
            sorted(
                path
                for path in copy.rglob("*")
                if path.is_file() and path.suffix in (".yaml", ".yml", ".jsonl", ".json", ".csv")
            )
        )
    return targets


def state_files(root: Path) -> list[Path]:
    state = root / ".evalmix"
    return sorted(
        [state / "ledger.jsonl", state / "reviews" / "dana.jsonl", *(state / "cache").glob("*")]
    )


@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutated_example_project(pytester: pytest.Pytester, batch: int) -> None:
    rng = random.Random(SEED + batch)
    root = pytester.path
    targets = build_project(root, COPIES)
    # One mutation per copy of the set: pick a file of that copy.
    by_copy: dict[str, list[Path]] = {}
    for path in targets:
        by_copy.setdefault(path.relative_to(root).parts[1], []).append(path)
    applied: list[str] = []
    for files in by_copy.values():
        path = rng.choice(files)
        mutation = rng.choice(MUTATIONS)
        path.write_bytes(mutation(rng, path.read_bytes()))
        applied.append(f"{mutation.__name__} {path.relative_to(root)}")
    state = rng.choice(state_files(root))
    mutation = rng.choice(MUTATIONS)
    state.write_bytes(mutation(rng, state.read_bytes()))
    applied.append(f"{mutation.__name__} {state.relative_to(root)}")

    before = digests(root / "evals")
    xdist = ["-n", "2"] if batch == 0 else []
    started = time.monotonic()
    result = pytester.runpytest_inprocess(
        "--evalmix",
        "-p",
        "no:cacheprovider",
        f"--evalmix-today={TODAY}",
        "--continue-on-collection-errors",
        "-o",
        "python_files=",
        "-q",
        *xdist,
    )
    elapsed = time.monotonic() - started
    out = result.stdout.str() + result.stderr.str()
    context = "mutations:\n  " + "\n  ".join(applied)
    assert result.ret in EXIT_CODES, f"exit {result.ret}\n{context}\n{out[-3000:]}"
    for bad in ("Traceback", "INTERNALERROR", "this is a bug"):
        assert bad not in out, f"{bad}\n{context}\n{out[-3000:]}"
    assert elapsed < SECONDS_PER_RUN, context
    assert digests(root / "evals") == before, context


def test_mutated_queues_logs_ledgers_and_cache_entries_read_cleanly(tmp_path: Path) -> None:
    """The readers of `evalmix review` and of the synthesizer's state, called directly on a few
    hundred mutations: none raises but with its own error, and none loses a line. The queue is
    read whole (one candidate per non-empty line) or refused with the lines at fault; a review
    log accounts for each non-empty line once, as a decision or a problem at its line; the
    ledger and ``ids_in`` give only what the file holds; a cache entry reads back or is a miss
    that names the file."""
    from pytest_evalmix.review.queue import Candidate, ReviewError, read_queue
    from pytest_evalmix.state import decisions, ledger
    from pytest_evalmix.synth.synthesizer import CacheEntry, CacheMiss, Synthesizer

    rng = random.Random(SEED)
    queue = json.dumps(
        {
            "id": "syn-prod-1-3f2a9c1b",
            "input": "I canceled on the 3rd, yet November was still billed.",
            "origin": "synthetic",
            "synthetic": {"generator": "claude-opus-4-7", "method": "paraphrase"},
            "seed": {"id": "prod-1", "input": "I cancelled but was charged.", "gold": "refunds"},
        }
    ).encode()
    log = json.dumps(
        {"id": "c1", "decision": "accepted", "by": "dana", "at": "2026-11-20", "seconds": 4.2}
    ).encode()
    cache = next((EXAMPLE / ".evalmix" / "cache").glob("*.json")).read_bytes()
    ledger_line = (EXAMPLE / ".evalmix" / "ledger.jsonl").read_bytes().splitlines()[0]
    synthesizer = Synthesizer(model="claude-opus-4-7", evalmix_dir=tmp_path)
    path = tmp_path / "file"
    outcomes = {"queue read": 0, "queue refused": 0, "decisions": 0, "problems": 0, "misses": 0}
    for _ in range(200):
        mutation = rng.choice(MUTATIONS)
        for original in (queue, log, ledger_line):
            data = mutation(rng, original + b"\n" + original + b"\n")
            path.write_bytes(data)
            context = f"{mutation.__name__}: {data[:300]!r}"

            # The queue reader splits as bytes.splitlines() does; a log is read line by line.
            queue_lines = [n for n, raw in enumerate(data.splitlines(), 1) if raw.strip()]
            try:
                candidates = read_queue(path, "queue.jsonl")
            except ReviewError as exc:
                outcomes["queue refused"] += 1
                message = str(exc)
                assert message.startswith("the queue has records that cannot be reviewed"), context
                named = [
                    int(line.split(":")[1])
                    for line in message.splitlines()[1:]
                    if line.startswith("  queue.jsonl:")
                ]
                assert named, context
                assert set(named) <= set(queue_lines), context
            else:
                outcomes["queue read"] += 1
                assert all(isinstance(c, Candidate) for c in candidates), context
                assert [c.line for c in candidates] == queue_lines, context
                assert [c.number for c in candidates] == list(range(1, len(candidates) + 1))

            log_lines = [n for n, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
            read = decisions.read(path)
            outcomes["decisions"] += len(read.decisions)
            outcomes["problems"] += len(read.problems)
            assert all(isinstance(d, decisions.LoggedDecision) for d in read.decisions), context
            assert all(isinstance(p, decisions.BadLine) and p.message for p in read.problems)
            accounted = sorted([d.line for d in read.decisions] + [p.line for p in read.problems])
            assert accounted == log_lines, context

            entries = ledger.read(path)
            assert len(entries) <= len(log_lines), context
            for sha256, entry in entries.items():
                assert isinstance(entry, ledger.Entry) and entry.sha256 == sha256, context

            ids = list(decisions.ids_in(path))
            assert all(isinstance(rid, str) for rid in ids), context
            assert len(ids) <= len(log_lines), context
            # Every decision the log reader took is a record whose id `ids_in` finds too.
            assert {d.id for d in read.decisions} <= set(ids), context

        data = mutation(rng, cache)
        path.write_bytes(data)
        try:
            cached = synthesizer._read(path)
        except CacheMiss as exc:
            outcomes["misses"] += 1
            assert "is unreadable" in exc.detail and "record mode replaces it" in exc.detail
            assert str(path.name) in exc.detail
        else:
            assert isinstance(cached, CacheEntry), f"{mutation.__name__}: {data[:300]!r}"
    # The fuzz reached both sides of each reader.
    assert all(outcomes.values()), outcomes
