"""``duplicates`` and ``leakage`` as a user runs them: repeated and near-copied inputs, inputs
that sit in training data, prompts or another split's set, each a finding at its path:line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import WriteSet, healthy, jsonl, record, run

FIX = "retire this copy, or rewrite its input so it tests something the other does not"
LEAK_FIX = (
    "an eval input the model has seen measures memory, not skill: remove it from the eval set "
    "or from the other file"
)


def test_the_healthy_set_has_no_duplicates(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["  duplicates       passed (no groups)"])
    assert "leakage" not in result.stdout.str()


def test_repeats_conflicting_golds_and_near_copies_fail(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    text = "my parcel never arrived and the tracking page has shown nothing for a whole week"
    records = healthy()
    records[1] = record("prod-1", input="Where is my refund?", gold="refunds")
    records[2] = record("prod-2", input="where is my  REFUND?", gold="billing")
    records[3] = record("prod-3", input=text)
    records[4] = record("prod-4", input=text + " now")
    write_set(
        records,
        manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  duplicates: {near: 0.8}\n",
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:3: prod-2: the same input as prod-1 at data/support.jsonl:2; "
            'conflicting golds: "billing" here, "refunds" there — the same question answered '
            "two ways is label noise: keep one record, with the right gold",
            "data/support.jsonl:5: prod-4: a near copy of prod-3 at data/support.jsonl:4 "
            f"(Jaccard 0.93 over 3-word shingles) — {FIX}",
        ]
    )
    result.stdout.fnmatch_lines(["  duplicates       FAILED (2 findings; 2 groups)"])


def test_too_many_paraphrases_of_one_seed_fail(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    records = healthy()
    for index in range(10, 15):
        records[index]["synthetic"]["seed_id"] = "prod-0"
    write_set(
        records,
        manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  duplicates: {max_per_seed: 4}\n",
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:15: syn-4: 5 synthetic records paraphrase seed prod-0 "
            "(max_per_seed: 4): that seed weighs 5 times in the synthetic pass rate — retire 1 "
            "of its paraphrases, or raise policy.duplicates.max_per_seed"
        ]
    )


def write_against(root: Path) -> None:
    """One leaked input in each kind of against file."""
    (root / "train").mkdir()
    (root / "train" / "chat.jsonl").write_text(
        json.dumps({"prompt": "Ticket text for PROD-1", "completion": "x"}) + "\n",
        encoding="utf-8",
    )
    (root / "train" / "table.csv").write_text(
        "question,answer\nunrelated,x\nticket text for prod-2,y\n", encoding="utf-8"
    )
    pq.write_table(
        pa.table({"question": ["no", "ticket text for prod-3"]}), root / "train" / "rows.parquet"
    )
    (root / "train" / "fewshot.yaml").write_text(
        "- question: ticket text for prod-4\n", encoding="utf-8"
    )
    (root / "prompt.txt").write_text(
        "You are a support agent.\n\n  ticket text   for prod-5\n", encoding="utf-8"
    )


def test_a_leak_through_every_kind_of_against_file(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_against(project.path)
    write_set(
        manifest="""evalmix: 1
data: [data/support.jsonl]
policy:
  leakage:
    against:
      - {path: train/chat.jsonl, fields: {input: prompt}}
      - {path: "train/*.csv", fields: {input: question}}
      - {path: train/rows.parquet, fields: {input: question}}
      - {path: train/fewshot.yaml, fields: {input: question}}
      - prompt.txt
"""
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"data/support.jsonl:2: prod-1: the input also appears in train/chat.jsonl:1 — {LEAK_FIX}",
            f"data/support.jsonl:3: prod-2: the input also appears in train/table.csv:3 — {LEAK_FIX}",
            f"data/support.jsonl:4: prod-3: the input also appears in train/rows.parquet:2 — {LEAK_FIX}",
            f"data/support.jsonl:5: prod-4: the input also appears in train/fewshot.yaml:1 — {LEAK_FIX}",
            f"data/support.jsonl:6: prod-5: the input also appears in prompt.txt:3 — {LEAK_FIX}",
        ]
    )
    result.stdout.fnmatch_lines(["  leakage          FAILED (5 findings)"])


def test_a_near_copy_in_an_against_file_leaks_only_with_near(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    text = "my parcel never arrived and the tracking page has shown nothing for a whole week"
    records = healthy()
    records[0] = record("prod-0", input=text)
    (project.path / "prompt.txt").write_text(f"Example: {text}\n", encoding="utf-8")
    manifest = (
        "evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  leakage: {against: [prompt.txt]%s}\n"
    )
    write_set(records, manifest=manifest % "")
    assert run(project, "--evalmix").ret == 0
    write_set(records, manifest=manifest % ", near: 0.8")
    result = run(project, "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:1: prod-0: the input is a near copy (Jaccard 0.93 over 3-word "
            f"shingles) of prompt.txt:1 — {LEAK_FIX}"
        ]
    )


def test_a_missing_against_file_is_a_leakage_finding(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(
        manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy:\n  leakage: {against: [train.jsonl]}\n"
    )
    result = run(project, "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["support.evalmix.yaml:4: -: against file 'train.jsonl' not found — *"]
    )


def two_splits(project: pytest.Pytester, dev_split: str) -> None:
    data = project.path / "data"
    data.mkdir(exist_ok=True)
    (data / "test.jsonl").write_text(jsonl(healthy()), encoding="utf-8")
    dev = healthy("dev-")
    dev[3]["input"] = "Ticket text for PROD-7"
    (data / "dev.jsonl").write_text(jsonl(dev), encoding="utf-8")
    (project.path / "test.evalmix.yaml").write_text(
        "evalmix: 1\ndata: [data/test.jsonl]\nsplit: test\n", encoding="utf-8"
    )
    (project.path / "dev.evalmix.yaml").write_text(
        f"evalmix: 1\ndata: [data/dev.jsonl]\nsplit: {dev_split}\n", encoding="utf-8"
    )


def test_two_splits_that_share_an_input_fail_in_each_set(
    project: pytest.Pytester, xdist: list[str]
) -> None:
    two_splits(project, "dev")
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    fix = (
        "sets of different splits must share no input: keep the example in one split and "
        "retire it from the other"
    )
    result.stdout.fnmatch_lines(
        [
            "data/dev.jsonl:4: dev-prod-3: the input is also in set test (split test) as prod-7 "
            f"at data/test.jsonl:8 — {fix}",
            "data/test.jsonl:8: prod-7: the input is also in set dev (split dev) as dev-prod-3 "
            f"at data/dev.jsonl:4 — {fix}",
        ]
    )


def test_the_same_split_twice_is_no_leak(project: pytest.Pytester, xdist: list[str]) -> None:
    two_splits(project, "test")
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["  leakage          passed"])
