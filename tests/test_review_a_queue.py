"""`evalmix review` (docs/cli.md), driven as a user's script would: a real process, answers piped
into its stdin. Nothing may default to accept; every decision is saved the moment it is made."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, healthy, run

CLI = [sys.executable, "-m", "pytest_evalmix.cli.main"]
INTO = "data/reviewed.jsonl"
MANIFEST = "evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/reviewed.jsonl\n"


def clean_env(**extra: str) -> dict[str, str]:
    """The user's environment minus what would change the outcome: no API key, no editor, and
    a git configuration of our own (none by default)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANTHROPIC_", "GIT_")) and key not in ("EDITOR", "VISUAL")
    }
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, COLUMNS="100")
    env.update(extra)
    return env


def evalmix(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=60,
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done


def candidate(seed: str, k: int, text: str | None = None, gold: Any = "billing") -> dict[str, Any]:
    """A queue record as `evalmix propose` writes it."""
    return {
        "id": f"syn-{seed}-{k}",
        "input": text or f"rewrite {k} of the ticket of {seed}",
        "origin": "synthetic",
        "synthetic": {
            "generator": "claude-opus-4-7",
            "method": "paraphrase",
            "seed_id": seed,
            "prompt_sha256": "ab" * 32,
        },
        "seed": {"id": seed, "input": f"ticket text for {seed}", "gold": gold},
    }


def queue(where: Path, *records: dict[str, Any], name: str = "queue.jsonl") -> Path:
    path = where / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def review(where: Path, stdin: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return evalmix(where, "review", "queue.jsonl", "--into", INTO, *args, stdin=stdin, **env)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def log_of(where: Path, reviewer: str = "dana") -> list[dict[str, Any]]:
    return lines(where / ".evalmix" / "reviews" / f"{reviewer}.jsonl")


def shown(out: str) -> list[str]:
    """The candidates in the order they were shown."""
    return [
        line.split(": ", 1)[1].split()[0]
        for line in out.splitlines()
        if " of " in line and line.startswith("candidate ")
    ]


def test_enter_alone_decides_nothing(project: pytest.Pytester) -> None:
    queue(project.path, candidate("prod-0", 1))
    done = review(project.path, "\n\n   \n", "--reviewer", "dana")
    assert done.returncode == 0
    assert done.stdout.count("Enter alone decides nothing: type a, r, e, s or q (? for help)") == 3
    assert "evalmix: stdin is not a terminal: reading one answer a line from it" in done.stderr
    assert "input ended at syn-prod-0-1 (candidate 1 of 1)" in done.stdout
    assert not (project.path / INTO).exists()
    assert not (project.path / ".evalmix").exists()


def test_accept_with_a_typed_gold_and_with_equals(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(healthy(), manifest=MANIFEST)
    queue(project.path, candidate("prod-0", 1), candidate("prod-1", 1, gold="refunds"))
    done = review(project.path, "a\nescalation\na\n=\n", "--reviewer", "dana")
    assert done.returncode == 0, done.stderr
    assert "gold: refunds (copied from seed prod-1)" in done.stdout
    records = lines(project.path / INTO)
    today = records[0]["label"]["at"]
    for rec in records:
        review_ = rec.pop("review")
        assert review_.keys() == {"by", "decision", "at", "seconds"}
        assert (review_["by"], review_["decision"]) == ("dana", "accepted")
        assert isinstance(review_["seconds"], float)
    assert records == [
        {
            "id": "syn-prod-0-1",
            "input": "rewrite 1 of the ticket of prod-0",
            "gold": "escalation",
            "origin": "synthetic",
            "label": {"source": "human", "by": "dana", "at": today},
            "synthetic": candidate("prod-0", 1)["synthetic"],
        },
        {
            "id": "syn-prod-1-1",
            "input": "rewrite 1 of the ticket of prod-1",
            "gold": "refunds",
            "origin": "synthetic",
            "label": {"source": "human", "by": "dana", "at": today},
            "synthetic": candidate("prod-1", 1, gold="refunds")["synthetic"],
        },
    ]
    log = log_of(project.path)
    assert [(d["id"], d["decision"], d["by"]) for d in log] == [
        ("syn-prod-0-1", "accepted", "dana"),
        ("syn-prod-1-1", "accepted", "dana"),
    ]
    assert all(d["queue"] == "queue.jsonl" and d["into"] == INTO for d in log)
    assert all(len(d["input_sha256"]) == 64 and d["at"].endswith("Z") for d in log)

    # The records load into the set, and the review check accepts them.
    result = run(project, "--evalmix", "-q")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*: 22 examples, *schema ok*review ok*"])


def test_the_gold_prompt_wants_an_answer_and_can_go_back(project: pytest.Pytester) -> None:
    queue(project.path, candidate("prod-0", 1))
    done = review(project.path, "a\n\n<\nr\n", "--reviewer", "dana")
    assert done.returncode == 0
    assert (
        "Enter alone gives no gold: type the gold, '=' to copy the seed's, or '<' to go back"
        in done.stdout
    )
    assert [d["decision"] for d in log_of(project.path)] == ["rejected"]
    assert not (project.path / INTO).exists()


def test_a_structured_gold_is_typed_as_json(project: pytest.Pytester) -> None:
    queue(project.path, candidate("adv-0", 1, gold=[[36.4]]))
    done = review(project.path, "a\n36.4 maybe\nnull\n[[29.9]]\n", "--reviewer", "dana")
    assert done.returncode == 0
    assert "the seed's gold is JSON ([[36.4]]), so type this gold as JSON too" in done.stdout
    assert "a gold cannot be null" in done.stdout
    assert [rec["gold"] for rec in lines(project.path / INTO)] == [[[29.9]]]


def test_reject_and_edit_inline(project: pytest.Pytester) -> None:
    queue(project.path, candidate("prod-0", 1), candidate("prod-0", 2))
    answers = [
        "r",
        "e",
        "<",  # changed my mind: back to the decision
        "e",
        "rewrite 2 of the ticket of prod-0",  # the same text is not an edit
        "e",
        "I was charged twice for one order.",
        "=",
    ]
    done = review(project.path, "\n".join(answers) + "\n", "--reviewer", "dana")
    assert done.returncode == 0, done.stderr
    assert "the input is unchanged: use a to accept it as it is" in done.stdout
    assert "edited input:\n    I was charged twice for one order.\n" in done.stdout
    log = log_of(project.path)
    assert [(d["id"], d["decision"]) for d in log] == [
        ("syn-prod-0-1", "rejected"),
        ("syn-prod-0-2", "edited"),
    ]
    (rec,) = lines(project.path / INTO)
    assert (rec["id"], rec["input"], rec["gold"]) == (
        "syn-prod-0-2",
        "I was charged twice for one order.",
        "billing",
    )
    assert rec["review"]["decision"] == "edited"
    assert "this session: 1 edited, 1 rejected" in done.stdout


def test_edit_opens_the_editor(project: pytest.Pytester) -> None:
    script = project.path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text()\n"
        "if 'rewrite 1' in text:\n"
        "    sys.exit(3)\n"
        "path.write_text(text.replace('rewrite', 'REWRITTEN'))\n",
        encoding="utf-8",
    )
    editor = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    queue(project.path, candidate("prod-0", 1), candidate("prod-0", 2))
    done = review(project.path, "e\nr\ne\nbilling\n", "--reviewer", "dana", EDITOR=editor)
    assert done.returncode == 0, done.stderr
    assert "$EDITOR exited with status 3: nothing changed" in done.stdout
    (rec,) = lines(project.path / INTO)
    assert (rec["id"], rec["input"]) == ("syn-prod-0-2", "REWRITTEN 2 of the ticket of prod-0")
    assert [d["decision"] for d in log_of(project.path)] == ["rejected", "edited"]


def test_skip_and_quit_then_resume(project: pytest.Pytester) -> None:
    queue(project.path, *(candidate("prod-0", k) for k in (1, 2, 3)))
    first = review(project.path, "s\na\n=\nq\n", "--reviewer", "dana")
    assert first.returncode == 0
    assert shown(first.stdout) == ["syn-prod-0-1", "syn-prod-0-2", "syn-prod-0-3"]
    assert "quit at syn-prod-0-3 (candidate 3 of 3): every decision made is saved" in first.stdout
    assert [d["id"] for d in log_of(project.path)] == ["syn-prod-0-2"]

    second = review(project.path, "r\nr\n", "--reviewer", "dana")
    assert second.returncode == 0
    assert "resuming: 1 already decided; 2 to go" in second.stdout
    assert shown(second.stdout) == ["syn-prod-0-1", "syn-prod-0-3"]  # the skipped one first
    assert [d["id"] for d in log_of(project.path)] == [
        "syn-prod-0-2",
        "syn-prod-0-1",
        "syn-prod-0-3",
    ]

    third = review(project.path, "", "--reviewer", "dana")
    assert third.returncode == 0
    assert "nothing left to review" in third.stdout
    # Another reviewer's log is their own.
    other = review(project.path, "q\n", "--reviewer", "lee")
    assert shown(other.stdout) == ["syn-prod-0-1"]


def test_sigint_mid_session_loses_no_decision(project: pytest.Pytester) -> None:
    queue(project.path, *(candidate("prod-0", k) for k in (1, 2, 3, 4)))
    log = project.path / ".evalmix" / "reviews" / "dana.jsonl"
    proc = subprocess.Popen(
        [*CLI, "review", "queue.jsonl", "--into", INTO, "--reviewer", "dana"],
        cwd=project.path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write("a\nescalation\nr\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_text().count("\n") == 2):
            assert proc.poll() is None and time.monotonic() < deadline, "no decisions saved"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err
    assert "interrupted at syn-prod-0-3 (candidate 3 of 4): every decision made is saved" in out
    assert [(d["id"], d["decision"]) for d in log_of(project.path)] == [
        ("syn-prod-0-1", "accepted"),
        ("syn-prod-0-2", "rejected"),
    ]
    assert [(r["id"], r["gold"]) for r in lines(project.path / INTO)] == [
        ("syn-prod-0-1", "escalation")
    ]

    again = review(project.path, "r\nq\n", "--reviewer", "dana")
    assert "resuming: 2 already decided; 2 to go" in again.stdout
    assert shown(again.stdout) == ["syn-prod-0-3", "syn-prod-0-4"]
    assert len(log_of(project.path)) == 3


def test_a_record_saved_without_its_log_line_is_not_asked_again(project: pytest.Pytester) -> None:
    """A crash between writing the record and logging the decision: the record is there, so
    the candidate counts as decided. A data file without a final newline is appended safely."""
    data = project.path / INTO
    data.parent.mkdir()
    data.write_text('{"id": "syn-prod-0-1"}', encoding="utf-8")  # no final newline
    queue(project.path, candidate("prod-0", 1), candidate("prod-0", 2))
    done = review(project.path, "a\n=\n", "--reviewer", "dana")
    assert "resuming: 1 already in data/reviewed.jsonl; 1 to go" in done.stdout
    assert shown(done.stdout) == ["syn-prod-0-2"]
    assert [r["id"] for r in lines(data)] == ["syn-prod-0-1", "syn-prod-0-2"]


def test_the_whole_candidate_is_shown_wrapped_never_cut(project: pytest.Pytester) -> None:
    words = " ".join(f"word{i}" for i in range(150))
    text = f"{words} \x1b[2Khidden\u202e end."
    gold = {"queue": "billing", "priority": 2}
    queue(project.path, candidate("prod-0", 1, text=text, gold=gold))
    done = review(project.path, "r\n", "--reviewer", "dana", COLUMNS="60")
    out = done.stdout
    body = out.split("candidate input (paraphrase by claude-opus-4-7):\n", 1)[1].split(
        "decision [", 1
    )[0]
    assert body.splitlines()[0].startswith("    word0 ")
    assert " ".join(body.split()) == f"{words} \\x1b[2Khidden\\u202e end."
    assert all(len(line) <= 60 for line in body.splitlines())
    seed_gold = out.split("seed prod-0, gold:\n", 1)[1].split("candidate input", 1)[0]
    assert json.loads(seed_gold) == gold
    assert "seed prod-0, input:\n    ticket text for prod-0\n" in out


def test_the_reviewer_defaults_to_git_user_name(project: pytest.Pytester) -> None:
    gitconfig = project.path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Dana Whitfield\n", encoding="utf-8")
    queue(project.path, candidate("prod-0", 1))
    done = review(project.path, "r\n", GIT_CONFIG_GLOBAL=str(gitconfig))
    assert done.returncode == 0, done.stderr
    assert "reviewer Dana Whitfield" in done.stdout
    (decision,) = log_of(project.path, "Dana-Whitfield")
    assert decision["by"] == "Dana Whitfield"


def test_without_a_reviewer_it_refuses_to_start(project: pytest.Pytester) -> None:
    queue(project.path, candidate("prod-0", 1))
    done = review(project.path, "a\n=\n")
    assert done.returncode == 2
    assert (
        "evalmix review: error: no reviewer: pass --reviewer NAME, or set one with git config "
        "user.name" in done.stderr
    )
    assert done.stdout == ""
    assert not (project.path / ".evalmix").exists() and not (project.path / INTO).exists()


def test_a_reviewer_name_cannot_leave_the_reviews_directory(project: pytest.Pytester) -> None:
    queue(project.path, candidate("prod-0", 1))
    done = review(project.path, "r\n", "--reviewer", "../../outside")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (project.path / ".evalmix" / "reviews").iterdir()] == ["outside.jsonl"]


@pytest.mark.parametrize("into", ["data/reviewed.yaml", "data/reviewed.csv"])
def test_only_a_jsonl_data_file_is_appended_to(project: pytest.Pytester, into: str) -> None:
    queue(project.path, candidate("prod-0", 1))
    done = evalmix(project.path, "review", "queue.jsonl", "--into", into, "--reviewer", "dana")
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"evalmix: error: --into {into}: review appends records to a JSONL data file (.jsonl)"
    )


def test_a_bad_queue_is_refused_before_anything_is_shown(project: pytest.Pytester) -> None:
    with_gold = candidate("prod-0", 2)
    with_gold["gold"] = "billing"
    typo = candidate("prod-0", 3)
    typo["tgas"] = ["x"]
    path = queue(project.path, candidate("prod-0", 1), with_gold, typo)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    done = review(project.path, "a\n=\n", "--reviewer", "dana")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "evalmix: error: the queue has records that cannot be reviewed (write it with `evalmix propose`):",
        "  queue.jsonl:2: syn-prod-0-2: a candidate carries no gold: the reviewer writes it (synthesize the input, hand-label the output)",
        "  queue.jsonl:3: syn-prod-0-3: tgas: Extra inputs are not permitted",
        "  queue.jsonl:4: malformed JSON at column 2: Expecting property name enclosed in double quotes",
    ]
    assert done.stdout == ""


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_a_line_that_is_not_utf8_is_asked_again(project: pytest.Pytester, errors: str) -> None:
    """A stray byte in one answer costs that answer, not the session nor the decision."""
    queue(project.path, candidate("prod-0", 1))
    done = subprocess.run(
        [*CLI, "review", "queue.jsonl", "--into", INTO, "--reviewer", "dana"],
        cwd=project.path,
        input=b"a\nbill\xffing\nbilling\n",
        capture_output=True,
        env=clean_env(PYTHONIOENCODING=f"utf-8:{errors}"),
        timeout=60,
    )
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, out + done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in out
    assert "that line is not valid UTF-8 text; type it again" in out
    [saved] = lines(project.path / INTO)
    assert saved["gold"] == "billing"
    assert [d["decision"] for d in log_of(project.path)] == ["accepted"]
