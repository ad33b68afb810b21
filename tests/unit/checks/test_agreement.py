"""The ``agreement`` check (`checks/labels/agreement.py`), called directly: Krippendorff's alpha
against his worked example and the package, the coincidence bootstrap, the least-agreeing pair,
and the record findings."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from evalsets import DATA, MANIFEST, context, make_set

from conftest import record
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.labels import agreement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders x 12 units, with
# missing values (None). Unit 12 has one value, so it is not pairable.
WORKED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def _units(table: list[list[int | None]]) -> list[list[int]]:
    columns = zip(*table, strict=True)
    units = [[value - 1 for value in column if value is not None] for column in columns]
    return [unit for unit in units if len(unit) >= 2]


@pytest.mark.parametrize("level", sorted(PUBLISHED))
def test_alpha_matches_krippendorffs_worked_example(level: agreement.Level) -> None:
    units = _units(WORKED)
    assert round(agreement.alpha_of(units, [1, 2, 3, 4, 5], level), 3) == PUBLISHED[level]
    point, _ = agreement.interval(units, [1, 2, 3, 4, 5], level)
    assert round(point, 3) == PUBLISHED[level]


@pytest.mark.parametrize("level", sorted(PUBLISHED))
def test_summed_coincidences_equal_the_package_on_seeded_random_data(
    level: agreement.Level,
) -> None:
    rng = random.Random(7)
    table = [[rng.choice([None, 1, 2, 3, 3, 4]) for _ in range(60)] for _ in range(4)]
    data = np.array([[np.nan if v is None else v for v in row] for row in table], dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    point, _ = agreement.interval(_units(table), [1, 2, 3, 4], level)
    assert math.isclose(point, expected, abs_tol=1e-9)
    assert math.isclose(agreement.alpha_of(_units(table), [1, 2, 3, 4], level), expected)


def test_the_bootstrap_interval_is_stable_for_a_fixed_seed() -> None:
    units = _units(WORKED)
    first = agreement.interval(units, [1, 2, 3, 4, 5], "nominal")
    assert first == agreement.interval(units, [1, 2, 3, 4, 5], "nominal")
    low, high = first[1]
    assert low < first[0] <= high
    assert agreement.interval(units, [1, 2, 3, 4, 5], "nominal", seed=1) != first


def annotated(
    rid: str, golds: dict[str, Any], gold: Any = "billing", **label: Any
) -> dict[str, Any]:
    data = record(rid, gold=gold)
    data["label"]["annotations"] = [{"by": by, "gold": value} for by, value in golds.items()]
    data["label"].update(label)
    return data


def test_the_least_agreeing_pair_is_named(tmp_path: Path) -> None:
    records = [
        annotated(
            f"r{i}",
            {"ann": "billing", "bob": "billing", "cy": "billing" if i % 2 else "x"},
            adjudicated_by="lead",
        )
        for i in range(20)
    ]
    evalset = make_set(tmp_path, records)
    result = agreement.check(evalset, evalset.policy, context(tmp_path), Inputs())
    pairs = {(p["a"], p["b"]): p["agreed"] for p in result.data["pairs"]}
    assert pairs == {("ann", "bob"): 20, ("ann", "cy"): 10, ("bob", "cy"): 10}
    assert result.data["records"] == 20
    assert [(f.path, f.line) for f in result.findings] == [(MANIFEST, 1)]
    message = result.findings[0].message
    assert message.startswith("nominal alpha ")
    assert "below agreement.min_alpha 0.667" in message
    assert message.endswith(
        "the pair that agrees least is ann and cy (10 of 20 shared records alike)"
    )


def test_unsettled_disagreement_and_a_gold_nobody_gave_are_findings(tmp_path: Path) -> None:
    golds = ["billing", "refund"] * 10
    records = [annotated(f"ok{i}", {"ann": g, "bob": g}, gold=g) for i, g in enumerate(golds)]
    records += [
        annotated("split", {"ann": "billing", "bob": "refund"}),
        annotated("settled", {"ann": "billing", "bob": "refund"}, adjudicated_by="lead"),
        annotated("other", {"ann": "refund", "bob": "refund"}),
    ]
    evalset = make_set(tmp_path, records)
    result = agreement.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert [(f.path, f.line, f.id, f.message) for f in result.findings] == [
        (
            DATA,
            21,
            "split",
            'its annotations disagree (ann: "billing", bob: "refund") and nobody settled them',
        ),
        (DATA, 23, "other", "its gold equals none of its annotations, and nobody adjudicated it"),
    ]


def test_a_set_below_min_items_skips_with_the_reason(tmp_path: Path) -> None:
    evalset = make_set(
        tmp_path, [annotated(f"r{i}", {"a": "billing", "b": "billing"}) for i in range(3)]
    )
    result = agreement.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.skipped == (
        "3 records with two or more annotations, fewer than agreement.min_items (20): "
        "alpha over so few is noise"
    )


def test_a_word_gold_at_the_interval_level_is_a_finding(tmp_path: Path) -> None:
    records = [annotated(f"r{i}", {"a": 1, "b": 1}, gold=1) for i in range(20)]
    records.append(annotated("word", {"a": "one", "b": 1}, gold=1, adjudicated_by="lead"))
    evalset = make_set(tmp_path, records, policy={"agreement": {"level": "interval"}})
    result = agreement.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert [(f.line, f.message) for f in result.findings] == [
        (21, "annotation of a is not a number, which agreement.level interval needs")
    ]
