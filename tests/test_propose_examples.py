"""`evalmix propose` (docs/cli.md): paraphrase a set's seeds into a review queue through the
synthesizer, against the stand-in Messages API on 127.0.0.1, then dispose of it with review."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import WriteSet, healthy, record, run
from fake_messages_api import FakeMessagesAPI, prompt_of
from test_review_a_queue import CLI, clean_env, evalmix, lines

KEY = "sk-ant-api03-EVALMIXPROPOSESENTINEL-0123456789"
MANIFEST = "evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/reviewed.jsonl\n"


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    with FakeMessagesAPI() as server:
        yield server


def online(api: FakeMessagesAPI) -> dict[str, str]:
    return {"ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": KEY, "NO_PROXY": "127.0.0.1"}


def test_propose_records_replays_and_feeds_review(
    project: pytest.Pytester, write_set: WriteSet, api: FakeMessagesAPI
) -> None:
    write_set(healthy())
    args = ["propose", "support.evalmix.yaml", "--n", "3", "--out", "queue.jsonl", "--limit", "2"]

    # Replay with an empty cache: nothing is called, and the message says how to record.
    miss = evalmix(project.path, *args)
    assert miss.returncode == 1
    assert miss.stderr.splitlines() == [
        "evalmix: error: 2 of 2 seeds have no cached paraphrases from claude-opus-4-7 (n=3) in .evalmix/cache (replay mode), the first prod-0.",
        "To record them, set ANTHROPIC_API_KEY and run:",
        "    evalmix propose support.evalmix.yaml --n 3 --out queue.jsonl --limit 2 --synth record",
    ]
    assert api.count == 0 and not (project.path / "queue.jsonl").exists()

    # The printed command records them.
    command = shlex.split(miss.stderr.splitlines()[-1])
    recorded = evalmix(project.path, *command[1:], **online(api))
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.splitlines() == [
        "wrote 6 candidates from 2 production seeds of support to queue.jsonl",
        "review them with: evalmix review queue.jsonl --into DATA_FILE.jsonl",
    ]
    assert "paraphrasing" not in recorded.stderr  # no progress bar outside a terminal
    assert KEY not in recorded.stdout + recorded.stderr
    assert api.count == 2
    prompts = {prompt_of(seen.body) for seen in api.seen}
    assert {seen.body["model"] for seen in api.seen} == {"claude-opus-4-7"}

    queue = lines(project.path / "queue.jsonl")
    assert [c["seed"]["id"] for c in queue] == ["prod-0"] * 3 + ["prod-1"] * 3
    for candidate in queue:
        seed = candidate["seed"]
        assert re.fullmatch(rf"syn-{seed['id']}-[0-9a-f]{{8}}", candidate["id"])
        assert "gold" not in candidate and "label" not in candidate
        assert candidate["origin"] == "synthetic"
        assert seed == {
            "id": seed["id"],
            "input": f"ticket text for {seed['id']}",
            "gold": "billing",
        }
        synthetic = candidate["synthetic"]
        assert synthetic.keys() == {"generator", "method", "seed_id", "prompt_sha256"}
        assert (synthetic["generator"], synthetic["method"], synthetic["seed_id"]) == (
            "claude-opus-4-7",
            "paraphrase",
            seed["id"],
        )
        sent = [p for p in prompts if p.endswith(f"Seed: {seed['input']}")]
        assert synthetic["prompt_sha256"] == hashlib.sha256(sent[0].encode()).hexdigest()
    assert queue[0]["input"] == "Rewrite 1 of: ticket text for prod-0"
    assert len({c["id"] for c in queue}) == 6

    # Replay now serves the cache, offline, and writes the same queue byte for byte.
    before = (project.path / "queue.jsonl").read_bytes()
    (project.path / "queue.jsonl").unlink()
    replayed = evalmix(project.path, *args)
    assert replayed.returncode == 0, replayed.stderr
    assert (project.path / "queue.jsonl").read_bytes() == before
    assert api.count == 2

    # Dispose: accept one with a typed gold, reject one, and the set still passes.
    write_set(healthy(), manifest=MANIFEST)
    done = evalmix(
        project.path,
        *("review", "queue.jsonl", "--into", "data/reviewed.jsonl", "--reviewer", "dana"),
        stdin="a\nrefunds\nr\nq\n",
    )
    assert done.returncode == 0, done.stderr
    (accepted,) = lines(project.path / "data" / "reviewed.jsonl")
    assert accepted["id"] == queue[0]["id"] and accepted["gold"] == "refunds"
    assert "seed" not in accepted
    assert accepted["synthetic"] == queue[0]["synthetic"]
    result = run(project, "--evalmix", "-q")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*: 21 examples, *gold-provenance ok*review ok*"])


def test_origin_limit_and_seeds_that_are_not_text(
    project: pytest.Pytester, write_set: WriteSet, api: FakeMessagesAPI
) -> None:
    records = healthy()
    records[15] = record("adv-0", "adversarial", input={"expression": "2 * 19.99"})
    write_set(records)
    done = evalmix(
        project.path,
        *("propose", "support.evalmix.yaml", "--n", "2", "--out", "out/q.jsonl"),
        *("--origin", "adversarial", "--limit", "2", "--synth", "record"),
        **online(api),
    )
    assert done.returncode == 0, done.stderr
    assert (
        "evalmix: note: 1 seed(s) have an input that is not text and are left out: adv-0"
        in done.stderr
    )
    queue = lines(project.path / "out" / "q.jsonl")
    assert [c["seed"]["id"] for c in queue] == ["adv-1", "adv-1", "adv-2", "adv-2"]


def test_the_ini_model_and_evalmix_dir_are_used(
    project: pytest.Pytester, write_set: WriteSet, api: FakeMessagesAPI
) -> None:
    project.makefile(
        ".toml",
        pyproject='[tool.pytest.ini_options]\nevalmix_dir = "state"\nevalmix_model = "claude-test-1"\n',
    )
    write_set(healthy())
    args = ["propose", "support.evalmix.yaml", "--n", "2", "--out", "q.jsonl", "--limit", "1"]
    done = evalmix(project.path, *args, "--synth", "record", **online(api))
    assert done.returncode == 0, done.stderr
    assert [seen.body["model"] for seen in api.seen] == ["claude-test-1"]
    assert {c["synthetic"]["generator"] for c in lines(project.path / "q.jsonl")} == {
        "claude-test-1"
    }
    assert len(list((project.path / "state" / "cache").glob("*.json"))) == 1
    assert len(lines(project.path / "state" / "ledger.jsonl")) == 2
    assert not (project.path / ".evalmix").exists()

    other = evalmix(project.path, *args, "--model", "claude-other")
    assert other.returncode == 1
    assert "no cached paraphrases from claude-other (n=2) in state/cache" in other.stderr
    assert "--limit 1 --model claude-other --synth record" in other.stderr


def test_api_errors_and_a_missing_key_are_one_clear_line(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(healthy())
    args = ["propose", "support.evalmix.yaml", "--out", "q.jsonl", "--synth", "record"]
    with FakeMessagesAPI(always=401) as api:
        refused = evalmix(project.path, *args, **online(api))
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "evalmix: error: Anthropic API error 401 (authentication_error: invalid x-api-key) for "
        "model claude-opus-4-7: the API key was refused; check ANTHROPIC_API_KEY"
    )
    assert len(refused.stderr.splitlines()) == 1 and KEY not in refused.stderr

    no_key = evalmix(project.path, *args)
    assert no_key.returncode == 1
    assert no_key.stderr.startswith(
        "evalmix: error: --synth record calls the Anthropic API, which needs a key, but "
        "ANTHROPIC_API_KEY is not set."
    )
    assert not (project.path / "q.jsonl").exists()


def test_a_short_answer_is_a_note(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(healthy())
    with FakeMessagesAPI("1. Only this one rewrite.") as api:
        done = evalmix(
            project.path,
            *("propose", "support.evalmix.yaml", "--n", "3", "--out", "q.jsonl"),
            *("--limit", "1", "--synth", "record"),
            **online(api),
        )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(
        "evalmix: note: paraphrase('ticket text for prod-0', n=3) got 1 distinct rewrites of 3 "
        "from claude-opus-4-7"
    )
    assert [c["input"] for c in lines(project.path / "q.jsonl")] == ["Only this one rewrite."]


def test_a_bad_manifest_is_one_line(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(healthy(), manifest="evalmix: 1\ndta:\n  - data/support.jsonl\n")
    done = evalmix(project.path, "propose", "support.evalmix.yaml", "--out", "q.jsonl")
    assert done.returncode == 1
    assert done.stderr == (
        "evalmix: error: support.evalmix.yaml:2: unknown manifest key 'dta' (did you mean "
        "'data'?)\n"
    )
    missing = evalmix(project.path, "propose", "nowhere.evalmix.yaml", "--out", "q.jsonl")
    assert (missing.returncode, missing.stderr) == (
        1,
        "evalmix: error: no manifest at nowhere.evalmix.yaml\n",
    )
    usage = evalmix(project.path, "propose", "support.evalmix.yaml", "--n", "0", "--out", "q")
    assert usage.returncode == 2
    assert "argument --n: '0' is not a positive whole number" in usage.stderr


def on_a_terminal(cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    """Run the CLI with its stderr on a pseudo-terminal; the exit status and what it showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=clean_env(**env),
    )
    os.close(follower)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed its end of the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, b"".join(chunks).decode()


def test_a_progress_bar_on_a_terminal(
    project: pytest.Pytester, write_set: WriteSet, api: FakeMessagesAPI
) -> None:
    write_set(healthy())
    status, shown = on_a_terminal(
        project.path,
        *("propose", "support.evalmix.yaml", "--n", "2", "--out", "q.jsonl"),
        *("--synth", "record", "--concurrency", "4"),
        **online(api),
    )
    assert status == 0, shown
    assert [line for line in shown.replace("\r", "\n").splitlines() if line.strip()] == [
        f"paraphrasing [{'#' * n}{'.' * (30 - n)}] {done}/10 seeds"
        for n, done in ((0, 0), (12, 4), (24, 8), (30, 10))
    ]
    assert len(lines(project.path / "q.jsonl")) == 20


def test_candidates_that_repeat_the_set_or_each_other_are_left_out(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """A reviewer's time is the scarce thing: a rewrite equal to a record of the set (here
    prod-5's input), or to an earlier rewrite once normalised, never reaches the queue."""
    write_set(healthy())
    reply = "1. Ticket text for PROD-5\n2. A new  way to ask."
    with FakeMessagesAPI(reply) as api:
        done = evalmix(
            project.path,
            *("propose", "support.evalmix.yaml", "--n", "2", "--out", "q.jsonl"),
            *("--limit", "2", "--synth", "record"),
            **online(api),
        )
    assert done.returncode == 0, done.stderr
    # Each seed got both rewrites: both copies of prod-5, and the second seed's "A new way to
    # ask.", repeat something.
    assert done.stdout.splitlines()[:2] == [
        "left out 3 candidates that repeat a record of support or another candidate",
        "wrote 1 candidate from 2 production seeds of support to q.jsonl",
    ]
    assert [c["input"] for c in lines(project.path / "q.jsonl")] == ["A new  way to ask."]
