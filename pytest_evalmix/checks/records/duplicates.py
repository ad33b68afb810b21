"""``duplicates``: the same question asked twice, near copies, and one seed weighing too much.

The same input twice counts twice in every rate; with two different golds it is label noise,
since one of them is wrong. A paraphrase that is nearly a copy of another record adds no
coverage, and a production example nearly copied by a synthetic one makes the two subsets that
``pass-rates`` compares dependent. Many paraphrases of one seed make that seed weigh that many
times in the synthetic pass rate. See docs/checks.md, "duplicates".

Exact groups come from `EvalSet.input_keys` (one 64-bit key per row, computed at load), so a
set with no repeated key costs one pass over an array; rows whose keys repeat are read again
and grouped on their exact normal forms. With ``near``, every input is read again and MinHash
LSH proposes near copies that `similar` confirms on exact shingle sets. Groups are built with
union-find and reported one finding per member but the first, so a set where everything is
alike costs one finding per record, never one per pair.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.records.similar import UnionFind, jaccard, near_pairs, shingles
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.evalset.sources import inputs as read_inputs
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.normalise import normal_form
from pytest_evalmix.model.policy import Policy

NAME = "duplicates"
# How much of a gold a message quotes.
SHOWN = 80


def shown(value: Any) -> str:
    """A value as a message quotes it: JSON, cut at `SHOWN` characters with its length."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= SHOWN:
        return text
    return f"{text[:SHOWN]}… ({len(text)} characters)"


def same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def repeated_keys(evalset: EvalSet) -> list[int]:
    """Rows whose input key another row shares, in row order (usually none: one C pass)."""
    keys = evalset.input_keys
    if len(set(keys)) == len(keys):
        return []
    repeats = {key for key, count in Counter(keys).items() if count > 1}
    return [row for row, key in enumerate(keys) if key in repeats]


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    settings = policy.duplicates
    groups = UnionFind()
    normals: dict[int, str] = {}
    near: dict[tuple[int, int], float] = {}
    if len(evalset.input_keys) == len(evalset):
        candidates = repeated_keys(evalset)
        by_normal: dict[str, int] = {}
        for row, given, _gold in read_inputs(evalset, candidates):
            normal = normals[row] = normal_form(given)
            first = by_normal.setdefault(normal, row)
            if first != row:
                groups.union(first, row)
    if settings.near is not None and len(evalset) > 1:
        texts = [""] * len(evalset)
        for row, given, _gold in read_inputs(evalset):
            texts[row] = normal_form(given)
        for i, j, similarity in near_pairs(texts, settings.near, settings.shingle):
            groups.union(i, j)
            near[(i, j)] = similarity
            normals[i], normals[j] = texts[i], texts[j]
        del texts
    found = groups.groups()
    members = {row for rows in found.values() for row in rows}
    golds = {row: gold for row, _given, gold in read_inputs(evalset, members)}
    findings: list[Finding] = []
    for head, rows in sorted(found.items()):
        path, line = evalset.location(head)
        there = f"{evalset.ids[head]} at {path}:{line}"
        for row in rows[1:]:
            findings.append(_finding(evalset, settings.shingle, head, row, there, normals, golds))
    findings.extend(_seed_findings(evalset, settings.max_per_seed))
    count = len(found)
    return CheckResult(
        findings=ordered(findings),
        data={
            "groups": count,
            "tally": f"{count} group{'s' if count != 1 else ''}" if count else "no groups",
        },
    )


def _finding(
    evalset: EvalSet,
    k: int,
    head: int,
    row: int,
    there: str,
    normals: dict[int, str],
    golds: dict[int, Any],
) -> Finding:
    conflict = ""
    if head in golds and row in golds and not same_json(golds[head], golds[row]):
        conflict = f"; conflicting golds: {shown(golds[row])} here, {shown(golds[head])} there"
    if normals.get(row) == normals.get(head):
        message = f"the same input as {there}{conflict}"
    else:
        similarity = jaccard(shingles(normals[head], k), shingles(normals[row], k))
        message = (
            f"a near copy of {there} (Jaccard {similarity:.2f} over {k}-word shingles){conflict}"
        )
    if conflict:
        fix = (
            "the same question answered two ways is label noise: keep one record, with the "
            "right gold"
        )
    else:
        fix = "retire this copy, or rewrite its input so it tests something the other does not"
    return evalset.finding(row, message, fix, NAME)


def _seed_findings(evalset: EvalSet, most: int) -> list[Finding]:
    by_seed: dict[str, list[int]] = {}
    for row in sorted(evalset.seeds):
        by_seed.setdefault(evalset.seeds[row], []).append(row)
    findings = []
    for seed, rows in sorted(by_seed.items()):
        if len(rows) > most:
            findings.append(
                evalset.finding(
                    rows[most],
                    f"{len(rows)} synthetic records paraphrase seed {seed} (max_per_seed: "
                    f"{most}): that seed weighs {len(rows)} times in the synthetic pass rate",
                    f"retire {len(rows) - most} of its paraphrases, or raise "
                    "policy.duplicates.max_per_seed",
                    NAME,
                )
            )
    return findings
