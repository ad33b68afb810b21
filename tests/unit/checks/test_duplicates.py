"""The ``duplicates`` rule (`checks/records/duplicates.py`) and its near-copy engine
(`checks/records/similar.py`), called directly on sets loaded from files."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from evalsets import context, make_set

from conftest import record
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.records import duplicates
from pytest_evalmix.checks.records.similar import UnionFind, jaccard, near_pairs, shingles
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.normalise import input_key, normal_form


def judge(evalset: EvalSet, root: Path) -> list[str]:
    result = duplicates.check(evalset, evalset.policy, context(root), Inputs())
    return [f.render() for f in result.findings]


def test_distinct_inputs_pass_with_no_groups(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, [record(f"r{i}") for i in range(5)])
    result = duplicates.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.status == "passed"
    assert result.data == {"groups": 0, "tally": "no groups"}


def test_inputs_equal_once_normalised_are_one_group_headed_by_the_first(tmp_path: Path) -> None:
    records = [
        record("a", input="Where is my  ORDER?"),
        record("b", input="where is my order?"),
        record("c", input=" Where\tis my order? "),
        record("d", input="Ｗhere is my order?"),  # a fullwidth W: NFKC makes it "W"
    ]
    evalset = make_set(tmp_path, records)
    assert judge(evalset, tmp_path) == [
        f"data/support.jsonl:{line}: {rid}: the same input as a at data/support.jsonl:1 — "
        "retire this copy, or rewrite its input so it tests something the other does not"
        for line, rid in ((2, "b"), (3, "c"), (4, "d"))
    ]


def test_a_repeated_question_with_another_gold_says_conflicting_golds(tmp_path: Path) -> None:
    evalset = make_set(
        tmp_path,
        [
            record("a", input="refund?", gold="refunds"),
            record("b", input="Refund?", gold="billing"),
        ],
    )
    assert judge(evalset, tmp_path) == [
        "data/support.jsonl:2: b: the same input as a at data/support.jsonl:1; conflicting "
        'golds: "billing" here, "refunds" there — the same question answered two ways is label '
        "noise: keep one record, with the right gold"
    ]


def test_structured_inputs_compare_by_their_normalised_strings(tmp_path: Path) -> None:
    records = [
        record("a", input={"q": "Hi  there", "n": 1}),
        record("b", input={"n": 1, "q": "hi there"}),
        record("c", input={"n": 2, "q": "hi there"}),
    ]
    evalset = make_set(tmp_path, records)
    assert [line.split(" — ")[0] for line in judge(evalset, tmp_path)] == [
        "data/support.jsonl:2: b: the same input as a at data/support.jsonl:1"
    ]


def test_near_copies_are_found_only_when_near_is_set(tmp_path: Path) -> None:
    base = "please help me my parcel never arrived and the tracking page shows nothing at all"
    records = [record("a", input=base), record("b", input=base + " today")]
    assert judge(make_set(tmp_path, records), tmp_path) == []
    evalset = make_set(tmp_path, records, policy={"duplicates": {"near": 0.8}})
    assert [line.split(" — ")[0] for line in judge(evalset, tmp_path)] == [
        "data/support.jsonl:2: b: a near copy of a at data/support.jsonl:1 (Jaccard 0.93 over "
        "3-word shingles)"
    ]


def test_more_paraphrases_of_one_seed_than_max_per_seed_fail_once(tmp_path: Path) -> None:
    synthetic = {"generator": "claude-opus-4-7", "method": "paraphrase", "seed_id": "p1"}
    records = [record("p1")] + [record(f"s{i}", "synthetic", synthetic=synthetic) for i in range(4)]
    evalset = make_set(tmp_path, records, policy={"duplicates": {"max_per_seed": 3}})
    assert judge(evalset, tmp_path) == [
        "data/support.jsonl:5: s3: 4 synthetic records paraphrase seed p1 (max_per_seed: 3): "
        "that seed weighs 4 times in the synthetic pass rate — retire 1 of its paraphrases, or "
        "raise policy.duplicates.max_per_seed"
    ]
    evalset = make_set(tmp_path, records, policy={"duplicates": {"max_per_seed": 4}})
    assert judge(evalset, tmp_path) == []


def test_a_set_where_everything_is_alike_is_one_group_and_one_finding_per_copy(
    tmp_path: Path,
) -> None:
    records = [record(f"r{i}", input="the same words every time") for i in range(1500)]
    evalset = make_set(tmp_path, records, policy={"duplicates": {"near": 0.5}})
    result = duplicates.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.data["groups"] == 1
    assert len(result.findings) == 1499
    assert {f.message for f in result.findings} == {"the same input as r0 at data/support.jsonl:1"}


def test_the_key_of_an_input_is_the_key_of_its_normal_form() -> None:
    for value in ["Hello  World", " hello world", "héllo", "ﬁle", "a\x1fb", {"b": ["X  y"]}, 7]:
        assert input_key(value) == input_key(normal_form(value))
    assert input_key("Hello World") == input_key("hello   world")
    assert input_key("hello world") != input_key("hello worlds")


def random_texts(seed: int, count: int) -> list[str]:
    """Texts of 20 random words, a fifth of them near copies of another (one to three words
    changed), as planted in the benchmark."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(3000)]
    texts: list[str] = []
    for index in range(count):
        if index % 5 == 4:
            words = texts[rng.randrange(index)].split()
            for _ in range(rng.randint(1, 3)):
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
        else:
            words = [rng.choice(vocabulary) for _ in range(20)]
        texts.append(" ".join(words))
    return texts


def test_near_pairs_find_95_percent_of_the_pairs_brute_force_jaccard_finds() -> None:
    texts = random_texts(7, 3000)
    threshold = 0.6
    sets = [shingles(text, 3) for text in texts]
    # Exact Jaccard of every pair that shares a shingle (every other pair has Jaccard 0).
    holders: dict[str, list[int]] = {}
    for index, shingle_set in enumerate(sets):
        for shingle in shingle_set:
            holders.setdefault(shingle, []).append(index)
    sharing = {pair for rows in holders.values() for pair in itertools.combinations(rows, 2)}
    truth = {(i, j) for i, j in sharing if jaccard(sets[i], sets[j]) >= threshold}
    assert len(truth) > 250
    found = near_pairs(texts, threshold, 3)
    pairs = {(i, j) for i, j, _ in found}
    assert pairs <= truth  # every reported pair is confirmed exactly
    assert all(abs(s - jaccard(sets[i], sets[j])) < 1e-12 for i, j, s in found)
    groups = UnionFind()
    for i, j in pairs:
        groups.union(i, j)
    joined = sum(groups.find(i) == groups.find(j) for i, j in truth)
    assert joined / len(truth) >= 0.95


def test_union_find_heads_each_group_with_its_smallest_member() -> None:
    groups = UnionFind()
    for a, b in [(5, 3), (3, 9), (1, 2), (9, 4)]:
        groups.union(a, b)
    assert groups.groups() == {1: [1, 2], 3: [3, 4, 5, 9]}
