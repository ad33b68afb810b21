"""Label Studio's own exports (docs/formats.md, docs/interop.md), as Label Studio 1.23.2 wrote them
on 127.0.0.1 (tests/fixtures/label_studio/, with the script that made them): six tasks with a
model's predictions, annotated by three users (user-1, user-2, user-3), exported as `JSON` and
`JSON_MIN`. In them: task 2 is a pre-annotation user-1 accepted unchanged, task 3 has a ground
truth, task 4 is disputed with none, task 5 has a cancelled annotation, task 6 has an accepted
pre-annotation that user-3 labelled the same on her own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run

FIXTURES = Path(__file__).parent / "fixtures" / "label_studio"

SET = """evalmix: 1
data:
  - path: data/label_studio/{file}
    fields: {fields}
    defaults: {{origin: production}}
policy:
  mix: {{targets: {{production: 1.0, synthetic: 0.0, adversarial: 0.0}}}}
"""

FIX = (
    "settle it in Label Studio (mark the ground truth) and export again, or give the task"
    " `gold` and `label.adjudicated_by`"
)

# id -> (gold, label source, label by, label at, [(annotation by, gold, at, seconds)])
DAY = "2026-12-04"
FROM_JSON = {
    "1": ["refunds", "human", "user-1", DAY, [["user-1", "refunds", DAY, 12.5],
                                              ["user-2", "refunds", DAY, 8.0]]],
    "2": ["shipping", "llm", "intent-clf-v2", DAY, [["intent-clf-v2", "shipping", DAY, 1.5]]],
    "3": ["account", "human", "user-3", DAY, [["user-1", "account", DAY, 6.0],
                                              ["user-2", "shipping", DAY, 4.0],
                                              ["user-3", "account", DAY, 9.25]]],
    "5": ["account", "human", "user-1", DAY, [["user-1", "account", DAY, 3.0]]],
    "6": ["refunds", "human", "user-3", DAY, [["intent-clf-v2", "refunds", DAY, 0.8],
                                              ["user-3", "refunds", DAY, 7.0]]],
}  # fmt: skip
# JSON_MIN carries no ground truth, no cancelled annotation and no predictions: task 3 is
# disputed too, and an accepted pre-annotation reads as its annotator's.
FROM_JSON_MIN = {
    "1": ["refunds", "human", "user-2", DAY, [["user-2", "refunds", DAY, 8.0],
                                              ["user-1", "refunds", DAY, 12.5]]],
    "2": ["shipping", "human", "user-1", DAY, [["user-1", "shipping", DAY, 1.5]]],
    "5": ["account", "human", "user-1", DAY, [["user-1", "account", DAY, 3.0]]],
    "6": ["refunds", "human", "user-3", DAY, [["user-3", "refunds", DAY, 7.0],
                                              ["user-2", "refunds", DAY, 0.8]]],
}  # fmt: skip

EVAL = """import json

import pytest

from pytest_evalmix import examples

EXPECTED = json.loads({expected!r})


@pytest.mark.parametrize("example", examples("evals.evalmix.yaml"))
def test_gold_and_annotations(example):
    label = example.label
    seen = [
        example.gold, label.source, label.by, label.at.isoformat(),
        [[a.by, a.gold, a.at.isoformat(), a.seconds] for a in label.annotations],
    ]
    assert seen == EXPECTED.pop(example.id)
"""


def project_with(pytester: pytest.Pytester, file: str, fields: str, expected: object) -> None:
    target = pytester.path / "data" / "label_studio"
    target.mkdir(parents=True)
    shutil.copyfile(FIXTURES / file, target / file)
    pytester.makefile(".toml", pyproject="[tool.pytest.ini_options]\n")
    (pytester.path / "evals.evalmix.yaml").write_text(
        SET.format(file=file, fields=fields), encoding="utf-8"
    )
    (pytester.path / "test_golds.py").write_text(
        EVAL.format(expected=json.dumps(expected)), encoding="utf-8"
    )


def no_traceback(result: pytest.RunResult) -> str:
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    return out


def test_a_json_export_gives_golds_annotations_and_catches_the_accepted_pre_annotation(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    """Every task but the disputed one is a record with its gold and annotations; the task
    whose gold only the model's accepted pre-annotation gives is caught by gold-provenance."""
    project_with(pytester, "project.json", "label-studio", FROM_JSON)
    result = run(pytester, "--evalmix", "-rA", *xdist)
    no_traceback(result)
    result.assert_outcomes(passed=len(FROM_JSON) + 4, failed=3, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "data/label_studio/project.json:1: 4: the annotators of Label Studio task 4"
            ' disagree (user-1: "refunds", user-2: "shipping") and no annotation is marked'
            f" ground truth — {FIX}",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "data/label_studio/project.json:1: 2: gold written by intent-clf-v2 and not"
            " provisional — hand-label it, make it programmatic with a checker, or mark it"
            " provisional with an owner and a backfill date",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*schema*FAILED (1 finding)*", "*gold-provenance*FAILED (1 finding)*"]
    )
    assert "task 3 disagree" not in result.stdout.str()


def test_a_json_min_export_groups_the_rows_of_a_task_into_one_record(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    """One row per annotation, the rows of a task one record, the result named by the map;
    with no ground truth in the export, tasks 3 and 4 are one schema finding each."""
    project_with(
        pytester, "project_min.json", "{preset: label-studio, gold: intent}", FROM_JSON_MIN
    )
    result = run(pytester, "--evalmix", "-rA", *xdist)
    no_traceback(result)
    result.assert_outcomes(passed=len(FROM_JSON_MIN) + 5, failed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "data/label_studio/project_min.json:32: 3: the annotators of Label Studio task 3"
            ' disagree (user-3: "account", user-2: "shipping", user-1: "account") and no'
            f" annotation is marked ground truth — {FIX}",
            "data/label_studio/project_min.json:62: 4: the annotators of Label Studio task 4"
            ' disagree (user-2: "shipping", user-1: "refunds") and no annotation is marked'
            f" ground truth — {FIX}",
        ]
    )
    result.stdout.fnmatch_lines(["*schema*FAILED (2 findings)*", "*gold-provenance*passed*"])


def test_a_json_min_export_without_the_result_key_says_to_name_it(
    pytester: pytest.Pytester,
) -> None:
    """Without `gold: <from_name>` the rows' result cannot be told from their data."""
    project_with(pytester, "project_min.json", "label-studio", {})
    result = run(pytester, "--evalmix", "-rA")
    no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            "data/label_studio/project_min.json:2: 1: a JSON_MIN export puts the result beside"
            " the task's data, and the field map names no result key — name it in the field"
            " map: fields: {preset: label-studio, gold: <from_name>}",
            "*schema*FAILED (6 findings)*",
        ]
    )
