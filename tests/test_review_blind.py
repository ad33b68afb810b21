"""`evalmix review --blind` (docs/cli.md), driven through stdin by a real process: the seed and its
gold stay hidden until the reviewer has given a gold; every branch is saved as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, healthy

CLI = [sys.executable, "-m", "pytest_evalmix.cli.main"]
INTO = "data/reviewed.jsonl"
MANIFEST = "evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/reviewed.jsonl\n"


def blind(where: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "GIT_"))}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, COLUMNS="100")
    env.pop("EDITOR", None)
    done = subprocess.run(
        [*CLI, "review", "queue.jsonl", "--into", INTO, "--reviewer", "dana", "--blind"],
        cwd=where,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done


def candidate(k: int, gold: str, by: str | None = None) -> dict[str, Any]:
    seed: dict[str, Any] = {"id": f"prod-{k}", "input": f"SEED-TEXT-{k}", "gold": gold}
    if by:
        seed["label"] = {"source": "human", "by": by}
    return {
        "id": f"syn-{k}",
        "input": f"paraphrase {k}",
        "origin": "synthetic",
        "synthetic": {"generator": "gen-a", "method": "paraphrase", "seed_id": f"prod-{k}"},
        "seed": seed,
    }


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_seed_stays_hidden_until_the_reviewer_gives_a_gold(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(healthy(), manifest=MANIFEST)
    queue = [
        candidate(1, "SEED-GOLD-1", by="priya"),  # agree, accept
        candidate(2, "SEED-GOLD-2"),  # differ, keep mine
        candidate(3, "SEED-GOLD-3"),  # differ, take the seed's
        candidate(4, "SEED-GOLD-4"),  # differ, type another
        candidate(5, "SEED-GOLD-5"),  # reject before the reveal
        candidate(6, "SEED-GOLD-6"),  # differ, reject after the reveal
        candidate(7, "SEED-GOLD-7"),  # quit, then resume
    ]
    (project.path / "queue.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in queue), encoding="utf-8"
    )
    answers = (
        "g\nSEED-GOLD-1\na\ng\nmine-2\nm\ng\nmine-3\nt\ng\nmine-4\ne\nother-4\nr\ng\nmine-6\nr\nq\n"
    )
    done = blind(project.path, answers)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for k in range(1, 8):
        shown_at = out.find(f"candidate {k} of 7")
        assert shown_at >= 0
        revealed = out.find(f"seed prod-{k}, input:")
        before = out[shown_at:revealed] if revealed >= 0 else out[shown_at:]
        assert f"SEED-TEXT-{k}" not in before
        if k != 1:  # reviewer 1 typed the seed's gold themselves: the echo shows it
            assert f"SEED-GOLD-{k}" not in before
    assert "SEED-TEXT-5" not in out and "SEED-TEXT-7" not in out
    records = {r["id"]: r for r in lines(project.path / INTO)}
    assert {k: r["gold"] for k, r in records.items()} == {
        "syn-1": "SEED-GOLD-1",
        "syn-2": "mine-2",
        "syn-3": "SEED-GOLD-3",
        "syn-4": "other-4",
    }
    assert records["syn-1"]["label"]["annotations"] == [
        {"by": "dana", "gold": "SEED-GOLD-1"},
        {"by": "priya", "gold": "SEED-GOLD-1"},
    ]
    assert records["syn-2"]["label"]["annotations"] == [
        {"by": "dana", "gold": "mine-2"},
        {"by": "seed:prod-2", "gold": "SEED-GOLD-2"},
    ]
    log = lines(project.path / ".evalmix" / "reviews" / "dana.jsonl")
    assert [(d["id"], d["decision"], d.get("blind_gold"), d.get("seed_gold")) for d in log] == [
        ("syn-1", "accepted", "SEED-GOLD-1", "SEED-GOLD-1"),
        ("syn-2", "accepted", "mine-2", "SEED-GOLD-2"),
        ("syn-3", "accepted", "mine-3", "SEED-GOLD-3"),
        ("syn-4", "accepted", "mine-4", "SEED-GOLD-4"),
        ("syn-5", "rejected", None, None),
        ("syn-6", "rejected", "mine-6", "SEED-GOLD-6"),
    ]
    assert all(d["blind"] is True for d in log)
    assert log[1]["generator"] == "gen-a"
    assert "quit at syn-7 (candidate 7 of 7)" in out
    again = blind(project.path, "g\nSEED-GOLD-7\na\n")
    assert again.returncode == 0, again.stderr
    assert "resuming: 6 already decided; 1 to go" in again.stdout
    assert again.stdout.find("SEED-TEXT-7") > again.stdout.find("your gold ")
    assert lines(project.path / INTO)[-1]["id"] == "syn-7"
