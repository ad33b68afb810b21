"""The ``mix`` check (`checks/records/mix.py`), called directly: shares against targets, and the
smallest remedy."""

from __future__ import annotations

from pathlib import Path

from evalsets import MANIFEST, context, make_set

from conftest import healthy, record
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.records import mix


def test_the_default_mix_passes(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy())
    result = mix.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.status == "passed"
    assert result.data["counts"] == {"production": 10, "synthetic": 5, "adversarial": 5}


def test_too_much_production_says_what_to_add_or_retire(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy() + [record(f"prod-x{i}") for i in range(10)])
    result = mix.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert [(f.path, f.line, f.id) for f in result.findings] == [(MANIFEST, 1, None)]
    assert result.findings[0].message == (
        "production is 66.7% of the set (20 of 30), target 50% ± 10 points"
    )
    assert result.findings[0].fix == (
        "add 2 synthetic and 2 adversarial or retire 5 production: the smallest change that "
        "brings every origin within 10 points of its target"
    )
    assert result.data["remedy"] == [
        {"add": {"synthetic": 2, "adversarial": 2}, "retire": {}},
        {"add": {}, "retire": {"production": 5}},
    ]


def test_a_set_below_min_examples_is_skipped_with_the_reason(tmp_path: Path) -> None:
    evalset = make_set(tmp_path, healthy()[:12], policy={"mix": {"min_examples": 50}})
    result = mix.check(evalset, evalset.policy, context(tmp_path), Inputs())
    assert result.findings == []
    assert result.skipped == (
        "12 examples, fewer than mix.min_examples (50): the shares of a set this small move by "
        "whole points with every example"
    )
