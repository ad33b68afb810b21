"""The ``agreement`` check end to end (docs/checks.md): collected only for annotated sets, alpha in
the summary line, a failing and a passing set, a repeated annotator as a schema finding, the pair
table in the reports, and no numpy without annotations. With and without pytest-xdist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy  # noqa: F401  # loaded once here: pytester's in-process runs drop new modules
import pytest

from conftest import WriteSet, record, run

# Every record is production here; the mix is not what these tests judge.
MANIFEST = "evalmix: 1\ndata:\n  - data/support.jsonl\npolicy:\n  mix: {targets: {}}\n"


def annotated(rid: str, golds: dict[str, str], gold: str, **label: Any) -> dict[str, Any]:
    data = record(rid, gold=gold)
    data["label"]["annotations"] = [{"by": by, "gold": value} for by, value in golds.items()]
    data["label"].update(label)
    return data


def agreeing() -> list[dict[str, Any]]:
    golds = ["billing", "refund", "login", "billing"] * 5
    return [annotated(f"r{i}", {"ann": g, "bob": g}, g) for i, g in enumerate(golds)]


def disputed() -> list[dict[str, Any]]:
    golds = ["billing", "refund"] * 10
    other = {"billing": "refund", "refund": "billing"}
    return [
        annotated(
            f"r{i}", {"ann": g, "bob": g if i % 3 == 0 else other[g]}, g, adjudicated_by="lead"
        )
        for i, g in enumerate(golds)
    ]


def test_an_agreeing_set_passes_and_the_summary_gives_alpha(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(agreeing(), manifest=MANIFEST)
    result = run(project, "--evalmix", "-q", *xdist)
    result.stdout.fnmatch_lines(["*agreement ok (alpha 1.000, 20 records)*"])
    assert result.ret == 0, result.stdout.str()


def test_a_disputed_set_fails_naming_alpha_and_the_pair(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(disputed(), manifest=MANIFEST)
    result = run(project, "--evalmix", "--evalmix-report=report.json", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "support.evalmix.yaml:1: -: nominal alpha -0.*(95% CI *, 20 records) is below "
            "agreement.min_alpha 0.667: below it the labels do not support even tentative "
            "conclusions (Krippendorff); the pair that agrees least is ann and bob "
            "(7 of 20 shared records alike) — re-annotate with clearer guidelines, or "
            "adjudicate the disputed golds",
        ]
    )
    report = json.loads((project.path / "report.json").read_text(encoding="utf-8"))
    check = next(c for c in report["sets"][0]["checks"] if c["name"] == "agreement")
    assert check["data"]["pairs"] == [
        {"a": "ann", "b": "bob", "shared": 20, "agreed": 7, "agreement": 0.35, "judged": True}
    ]


def test_a_set_without_annotations_has_no_agreement_item(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    result = run(project, "--evalmix", "-v", *xdist)
    assert result.ret == 0
    assert "::agreement" not in result.stdout.str()
    assert "support.evalmix.yaml::review PASSED" in result.stdout.str()


def test_a_repeated_annotator_is_one_schema_finding(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    records = agreeing()
    records[3]["label"]["annotations"].append({"by": "ann", "gold": "refund"})
    write_set(records, manifest=MANIFEST)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:4: r3: label.annotations has annotator 'ann' twice — keep one "
            "annotation per annotator in label.annotations",
        ]
    )


def test_a_run_without_annotations_imports_no_numpy(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "s.jsonl").write_text(
        "".join(json.dumps(record(f"r{i}")) + "\n" for i in range(5)), encoding="utf-8"
    )
    (tmp_path / "s.evalmix.yaml").write_text("evalmix: 1\ndata: [data/s.jsonl]\n", "utf-8")
    code = (
        "import sys, pytest\n"
        "pytest.main(['-q', '-p', 'no:cacheprovider', '--evalmix', '--evalmix-today=2026-11-25'])\n"
        "print('NUMPY' if 'numpy' in sys.modules else 'CLEAN')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "CLEAN", done.stdout + done.stderr
