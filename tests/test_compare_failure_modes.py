"""The ``failure-modes`` check: a failure mode seen in one compared subset and never in the other,
with the background reading's diagnosis and fix."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from conftest import WriteSet, healthy, run

RESULTS_MANIFEST = "evalmix: 1\ndata: [data/support.jsonl]\nresults: results/latest.jsonl\n"
FIX = "pull fresh production traces, label them, and rebalance"


def write_results(project: pytest.Pytester, modes: dict[str, str | None]) -> None:
    """A result for every example of the healthy set: failed with the given mode, else passed."""
    results = [
        {"id": r["id"], "passed": r["id"] not in modes, "failure_mode": modes.get(r["id"])}
        for r in healthy()
    ]
    path = project.path / "results" / "latest.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")


def headline(result: pytest.RunResult) -> str:
    for line in result.stdout.lines:
        match = re.match(r"^  failure-modes\s+(.*)$", line)
        if match:
            return match.group(1)
    raise AssertionError(result.stdout.str())


def test_mode_only_in_synthetic(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(manifest=RESULTS_MANIFEST)
    write_results(
        project,
        {"syn-3": "hallucinated-order-id", "syn-1": "hallucinated-order-id", "prod-2": "tone"},
    )
    result = run(project, "--evalmix")
    assert result.ret == 1
    assert headline(result) == "FAILED (2 findings)"
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:3: prod-2: failure mode 'tone' occurs in 1 production example"
            " (prod-2) and in none of the 5 synthetic examples with an outcome: synthetic coverage"
            f" is missing the cells that break — {FIX}",
            "data/support.jsonl:12: syn-1: failure mode 'hallucinated-order-id' occurs in 2"
            " synthetic examples (syn-1, syn-3) and in none of the 10 production examples with an"
            f" outcome: the synthesizer is generating inputs production never sees — {FIX}",
        ]
    )


def test_shared_modes_pass(project: pytest.Pytester, write_set: WriteSet, xdist: list[str]) -> None:
    write_set(manifest=RESULTS_MANIFEST)
    write_results(
        project,
        {"prod-0": "wrong-queue", "syn-0": "wrong-queue", "adv-0": "injection", "prod-1": None},
    )
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 0, result.stdout.str()
    assert headline(result) == "passed"


def test_min_count(project: pytest.Pytester, write_set: WriteSet) -> None:
    """With min_count 2, one stray occurrence is not yet a pattern; two are."""
    write_set(manifest=RESULTS_MANIFEST + "policy:\n  failure_modes: {min_count: 2}\n")
    write_results(project, {"syn-0": "a", "prod-0": "b", "prod-1": "b"})
    result = run(project, "--evalmix")
    assert headline(result) == "FAILED (1 finding)"
    result.stdout.fnmatch_lines(["data/support.jsonl:1: prod-0: failure mode 'b' occurs in 2*"])


def test_other_pairs_get_a_plain_diagnosis(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(
        manifest=RESULTS_MANIFEST
        + "policy:\n  failure_modes: {compare: [[production, adversarial]]}\n"
    )
    write_results(project, {"adv-4": "injection", "syn-0": "only-synthetic"})
    result = run(project, "--evalmix")
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:20: adv-4: failure mode 'injection' occurs in 1 adversarial"
            " example (adv-4) and in none of the 10 production examples with an outcome: the"
            " production examples never reach the inputs that break the adversarial ones — *",
        ]
    )
    assert "only-synthetic" not in result.stdout.str()


def test_no_outcomes_skips(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set()
    result = run(project, "--evalmix", "-rs")
    assert headline(result).startswith("skipped: no outcomes: no eval test parametrized with")


def test_subset_without_outcomes_skips(project: pytest.Pytester, write_set: WriteSet) -> None:
    """No synthetic eval ran: "only in production" would say nothing about synthetic coverage."""
    write_set(manifest=RESULTS_MANIFEST)
    path = project.path / "results" / "latest.jsonl"
    path.parent.mkdir()
    path.write_text('{"id": "prod-0", "passed": false, "failure_mode": "tone"}\n')
    result = run(project, "--evalmix")
    assert result.ret == 0
    assert headline(result) == (
        "skipped: synthetic has no outcomes, so no mode can be compared between production and"
        " synthetic"
    )


EVALS = """
import pytest
from pytest_evalmix import examples


@pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
def test_eval(example, request, evalmix_failure_mode):
    mode = example.meta.get("mode")
    if mode:
        request.applymarker(pytest.mark.xfail(reason="known", strict=False))
        if mode != "unnamed":
            evalmix_failure_mode(mode)
        assert False, mode
"""


def with_modes(modes: dict[str, str]) -> list[dict[str, Any]]:
    records = healthy()
    for rec in records:
        if rec["id"] in modes:
            rec["meta"] = {"mode": modes[rec["id"]]}
    return records


def test_session_evals_feed_failure_modes(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """Named modes from the fixture, the exception's type name otherwise; judged after every
    eval, so the verdict is the same under -n 2."""
    write_set(
        with_modes(
            {"prod-0": "wrong-queue", "syn-4": "wrong-queue", "syn-2": "unnamed", "adv-1": "x"}
        )
    )
    project.makepyfile(test_evals=EVALS)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    assert headline(result) == "FAILED (1 finding)"
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:13: syn-2: failure mode 'AssertionError' occurs in 1 synthetic"
            " example (syn-2) and in none of the 10 production examples with an outcome: the"
            f" synthesizer is generating inputs production never sees — {FIX}",
        ]
    )
