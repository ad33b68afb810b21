"""The `label-studio` preset's mapping (docs/formats.md): a task (or the JSON_MIN rows of one)
into our record, on tasks built in memory in the shape Label Studio exports them."""

from __future__ import annotations

from typing import Any

from pytest_evalmix.formats import presets
from pytest_evalmix.formats.presets import label_studio
from pytest_evalmix.model.evalset import FieldMap

PRESET = FieldMap("label-studio")


def choice(value: str | list[str], from_name: str = "intent") -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    return [
        {"from_name": from_name, "to_name": "text", "type": "choices", "value": {"choices": values}}
    ]


def annotation(by: Any, result: Any, **extra: Any) -> dict[str, Any]:
    return {
        "completed_by": by,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": "2026-10-01T09:30:00.5Z",
        "lead_time": 4,
        **extra,
    }


def task(*annotations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": 7,
        "data": {"text": "where is my parcel"},
        "annotations": list(annotations),
        **extra,
    }


def test_agreeing_annotators_give_a_human_gold_with_their_annotations() -> None:
    converted = presets.apply(
        task(
            annotation(1, choice("shipping")),
            annotation({"id": 2, "email": "bo@x.io"}, choice("shipping")),
        ),
        PRESET,
        1,
    )
    assert converted.problem is None
    record = converted.record
    assert (record["id"], record["input"], record["gold"]) == (
        "7",
        "where is my parcel",
        "shipping",
    )
    assert record["label"] == {
        "source": "human",
        "by": "user-1",
        "at": "2026-10-01",
        "annotations": [
            {"by": "user-1", "gold": "shipping", "at": "2026-10-01", "seconds": 4.0},
            {"by": "bo@x.io", "gold": "shipping", "at": "2026-10-01", "seconds": 4.0},
        ],
    }


def test_the_ground_truth_decides_and_cancelled_annotations_do_not_count() -> None:
    record = presets.apply(
        task(
            annotation(1, choice("refunds")),
            annotation(2, choice("shipping"), ground_truth=True),
            annotation(3, [], was_cancelled=True),
        ),
        PRESET,
        1,
    ).record
    assert record["gold"] == "shipping"
    assert (record["label"]["source"], record["label"]["by"]) == ("human", "user-2")
    assert [entry["by"] for entry in record["label"]["annotations"]] == ["user-1", "user-2"]


def test_a_pre_annotation_accepted_unchanged_is_the_models_label() -> None:
    prediction = {"id": 5, "model_version": "clf-v3", "result": choice("refunds")}
    accepted = annotation(1, choice("refunds"), parent_prediction=5, prediction=prediction)
    record = presets.apply(task(accepted), PRESET, 1).record
    assert (record["label"]["source"], record["label"]["by"]) == ("llm", "clf-v3")
    assert record["label"]["annotations"][0]["by"] == "clf-v3"


def test_a_pre_annotation_that_was_changed_is_the_annotators() -> None:
    prediction = {"id": 5, "model_version": "clf-v3", "result": choice("refunds")}
    edited = annotation(1, choice("shipping"), parent_prediction=5, prediction=prediction)
    record = presets.apply(task(edited), PRESET, 1).record
    assert (record["label"]["source"], record["label"]["by"]) == ("human", "user-1")


def test_a_human_who_agrees_with_an_accepted_pre_annotation_gives_a_human_gold() -> None:
    prediction = {"id": 5, "model_version": "clf-v3", "result": choice("refunds")}
    record = presets.apply(
        task(
            annotation(1, choice("refunds"), parent_prediction=5, prediction=prediction),
            annotation(2, choice("refunds")),
        ),
        PRESET,
        1,
    ).record
    assert (record["label"]["source"], record["label"]["by"]) == ("human", "user-2")


def test_a_disputed_task_has_no_gold_and_says_how_to_settle_it() -> None:
    converted = presets.apply(
        task(annotation(1, choice("refunds")), annotation(2, choice("shipping"))), PRESET, 1
    )
    assert "gold" not in converted.record
    assert converted.problem == (
        'the annotators of Label Studio task 7 disagree (user-1: "refunds", user-2: "shipping")'
        " and no annotation is marked ground truth",
        "settle it in Label Studio (mark the ground truth) and export again, or give the task"
        " `gold` and `label.adjudicated_by`",
    )


def test_a_gold_the_team_gives_settles_the_dispute() -> None:
    settled = task(
        annotation(1, choice("refunds")),
        annotation(2, choice("shipping")),
        gold="shipping",
        label={"adjudicated_by": "lead@x.io"},
    )
    converted = presets.apply(settled, PRESET, 1)
    record = converted.record
    assert converted.problem is None
    assert record["gold"] == "shipping"
    assert record["label"]["adjudicated_by"] == "lead@x.io"
    assert (record["label"]["source"], record["label"]["by"]) == ("human", "user-2")


def test_values_by_kind_and_the_from_name_the_map_names() -> None:
    assert label_studio.result_value(choice(["a", "b"]), None) == ["a", "b"]
    text = [{"from_name": "answer", "type": "textarea", "value": {"text": ["Paris"]}}]
    assert label_studio.result_value(text, None) == "Paris"
    rating = [{"from_name": "stars", "type": "rating", "value": {"rating": 4}}]
    assert label_studio.result_value(rating, None) == {"rating": 4}
    both = choice("x", "topic") + choice("y", "intent")
    assert label_studio.result_value(both, "intent") == "y"
    assert label_studio.result_value([], None) is None


def test_several_data_keys_need_the_input_named_and_the_rest_goes_to_meta() -> None:
    raw = task(annotation(1, choice("refunds")))
    raw["data"] = {"text": "charged twice", "channel": "email"}
    whole = presets.apply(raw, PRESET, 1).record
    assert whole["input"] == {"text": "charged twice", "channel": "email"}
    named = presets.apply(raw, FieldMap("label-studio", {"input": "data.text"}), 1).record
    assert named["input"] == "charged twice"
    assert named["meta"]["data"] == {"channel": "email"}


def test_json_min_rows_of_one_task_are_one_record_wherever_they_stand() -> None:
    rows = [
        {"text": "t1", "id": 1, "intent": "a", "annotator": 1, "annotation_id": 1,
         "created_at": "2026-10-01T00:00:00Z", "lead_time": 2.0},
        {"text": "t2", "id": 2, "intent": "b", "annotator": "cy@x.io", "annotation_id": 3},
        {"text": "t1", "id": 1, "intent": "a", "annotator": 2, "annotation_id": 2},
    ]  # fmt: skip
    fields = FieldMap("label-studio", {"gold": "intent"})
    gathered = list(presets.records(iter(enumerate(rows, 1)), fields))
    assert [line for line, _ in gathered] == [1, 2]
    records = [presets.apply(raw, fields, 1).record for _, raw in gathered if isinstance(raw, dict)]
    assert [(r["id"], r["input"], r["gold"]) for r in records] == [
        ("1", "t1", "a"),
        ("2", "t2", "b"),
    ]
    assert [e["by"] for e in records[0]["label"]["annotations"]] == ["user-1", "user-2"]
    assert records[1]["label"]["by"] == "cy@x.io"


def test_other_presets_keep_their_items_as_they_are() -> None:
    items = [(1, {"input": "x"}), (2, {"input": "y"})]
    assert list(presets.records(iter(items), FieldMap("inspect"))) == items


def test_malformed_tasks_are_records_to_judge_never_a_crash() -> None:
    """Whatever shape a hand-edited export takes, the preset returns a record (which `schema`
    then judges) or a problem; it never raises."""
    odd: list[dict[str, Any]] = [
        {"id": True, "data": "text", "annotations": "none"},
        {"id": 1, "data": {}, "annotations": [None, 3, {"result": "x"}, {"result": [None]}]},
        {"data": {"a": 1}, "annotations": [annotation(None, choice("a"), lead_time="slow")]},
        {"id": 2, "annotations": [annotation(1, choice("a"), parent_prediction=True)]},
        {"id": 3, "annotations": [annotation(1, choice("a"), created_at=5, prediction=[])]},
        {"id": 4, "annotations": [annotation(1, [{"value": {"choices": []}}], parent_prediction=1,
                                             prediction={"id": 1, "result": None})]},
    ]  # fmt: skip
    for raw in odd:
        converted = presets.apply(raw, PRESET, 1)
        assert isinstance(converted.record, dict)
    no_value = presets.apply(odd[1], PRESET, 1)
    assert (
        no_value.problem is not None
        and "has no annotation that gives a value" in no_value.problem[0]
    )
    assert presets.apply(odd[2], PRESET, 1).record["label"]["annotations"][0] == {
        "by": "user-unknown",
        "gold": "a",
        "at": "2026-10-01",
    }
