"""Label Studio's own exports of a project, `JSON` and `JSON_MIN`, read unchanged
(docs/formats.md, docs/interop.md).

A Label Studio task is one record. Its annotations are the independent labels behind the gold
(`label.annotations`), so `agreement` can judge them, and who gave the gold is decided from
them: the annotation marked ground truth, else the value every non-cancelled annotation agrees
on. An annotation that is a model's pre-annotation accepted unchanged is that model's label,
so `gold-provenance` sees an llm gold that went through a human tool for what it is. A task
whose annotators disagree, with nothing marked ground truth, has no gold: it is a finding, not
a guess.

`JSON_MIN` has one row per annotation, with the task's data and the result side by side:
`gather` makes the rows of one task id one task again, and the field map names the result's
key (``gold: intent``, the ``from_name`` of the labeling config). Under this preset the map's
``gold`` always names a ``from_name``; a map's other keys are read from the task, and a key of
the task's ``data`` may be named with or without ``data.``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pytest_evalmix.formats.presets.common import OURS, Converted, finish, split, take
from pytest_evalmix.formats.readers import Raw, set_dotted
from pytest_evalmix.model.evalset import FieldMap

NAME = "label-studio"
# The keys of a JSON_MIN row that are Label Studio's, not the task's data.
MIN_KEYS = frozenset({"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"})
# Marks a task made of JSON_MIN rows by `gather` (no key of a real export starts with NUL).
_FROM_MIN = "\x00json_min"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class _Entry:
    """One non-cancelled annotation: its `label.annotations` entry, and whether a human gave it."""

    entry: dict[str, Any]
    human: bool
    ground_truth: bool


def gather(items: Iterable[tuple[int, Raw]], fields: FieldMap) -> Iterator[tuple[int, Raw]]:
    """The records of a Label Studio export: a JSON task as it is, and the JSON_MIN rows of
    one task id as one task (at the line of its first row), after the file's other items."""
    from_name = fields.mapping.get("gold")
    groups: dict[Any, tuple[int, dict[str, Any]]] = {}
    for line, raw in items:
        if not isinstance(raw, dict) or "annotations" in raw or "data" in raw:
            yield line, raw
            continue
        key = json.dumps(raw.get("id"), sort_keys=True)
        if key not in groups:
            task: dict[str, Any] = {"id": raw.get("id"), "data": {}, "annotations": []}
            task[_FROM_MIN] = True
            groups[key] = (line, task)
        task = groups[key][1]
        for name, value in raw.items():
            if name in OURS:
                task.setdefault(name, value)
            elif name not in MIN_KEYS and name != from_name:
                task["data"].setdefault(name, value)
        if "annotation_id" in raw or "annotator" in raw:
            result = (
                []
                if from_name is None or from_name not in raw
                else [{"from_name": from_name, "type": "json_min", "value": raw[from_name]}]
            )
            task["annotations"].append(
                {
                    "id": raw.get("annotation_id"),
                    "completed_by": raw.get("annotator"),
                    "created_at": raw.get("created_at"),
                    "lead_time": raw.get("lead_time"),
                    "result": result,
                }
            )
    for line, task in sorted(groups.values(), key=lambda item: item[0]):
        yield line, task


def convert(raw: dict[str, Any], fields: FieldMap) -> Converted:
    """One Label Studio task (or the JSON_MIN rows of one) as our record."""
    task = dict(raw)
    from_min = bool(task.pop(_FROM_MIN, False))
    from_name = fields.mapping.get("gold")
    explicit: dict[str, Any] = {}
    for ours, theirs in fields.mapping.items():
        if ours == "gold":
            continue
        found, value = take(task, theirs)
        if not found and not theirs.startswith("data."):
            found, value = take(task, f"data.{theirs}")
        if found and value is not None:
            explicit[ours] = value
    mine, theirs_ = split(task)
    placed: dict[str, Any] = {}
    rid = theirs_.pop("id", None)
    if "id" not in explicit:
        placed["id"] = str(rid) if isinstance(rid, int) and not isinstance(rid, bool) else rid
    data = theirs_.pop("data", None)
    if "input" not in explicit and isinstance(data, dict):
        placed["input"] = next(iter(data.values())) if len(data) == 1 else data
    elif data not in (None, {}):
        theirs_["data"] = data
    predictions = theirs_.get("predictions")
    entries = _entries(theirs_.pop("annotations", None), predictions, from_name)
    given = theirs_.pop("gold", None)  # the team's own settling of a disputed task
    label = mine.pop("label", None)  # merged into the label the annotations give
    converted = _decide(entries, given, label, placed.get("id"), from_min, from_name)
    placed.update(converted.record)
    record = finish(mine, placed, theirs_)
    for ours, value in explicit.items():
        set_dotted(record, ours, value)
    return Converted(record, problem=converted.problem)


def _entries(annotations: Any, predictions: Any, from_name: str | None) -> list[_Entry]:
    """The task's non-cancelled annotations that give a value, in the export's order."""
    found: list[_Entry] = []
    for annotation in annotations if isinstance(annotations, list) else ():
        if not isinstance(annotation, dict) or annotation.get("was_cancelled") is True:
            continue
        value = result_value(annotation.get("result"), from_name)
        if value is None:
            continue
        model = accepted_model(annotation, predictions)
        entry: dict[str, Any] = {
            "by": model if model is not None else annotator(annotation.get("completed_by")),
            "gold": value,
        }
        at = annotation.get("created_at")
        if isinstance(at, str) and _DATE.match(at):
            entry["at"] = at[:10]
        seconds = annotation.get("lead_time")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            entry["seconds"] = float(seconds)
        found.append(_Entry(entry, model is None, annotation.get("ground_truth") is True))
    return found


def _decide(
    entries: list[_Entry],
    given: Any,
    label: Any,
    rid: Any,
    from_min: bool,
    from_name: str | None,
) -> Converted:
    """The gold and the label: the ground truth, else the value all annotations agree on; the
    label is human when a human annotation gives the gold, else the model's."""
    golds = [item.entry["gold"] for item in entries]
    truth = next((item for item in entries if item.ground_truth), None)
    if given is not None:
        gold = given
    elif truth is not None:
        gold = truth.entry["gold"]
    elif golds and all(value == golds[0] for value in golds):
        gold = golds[0]
    else:
        return Converted(
            {"label": _with_annotations({}, entries, label)},
            problem=_problem(entries, rid, from_min, from_name),
        )
    givers = ([truth] if truth is not None and given is None else []) + [
        item for item in entries if item.entry["gold"] == gold
    ]
    human = next((item for item in givers if item.human), None)
    chosen = human if human is not None else (givers[0] if givers else None)
    computed: dict[str, Any]
    if chosen is not None:
        computed = {"source": "human" if chosen.human else "llm", "by": chosen.entry["by"]}
        if "at" in chosen.entry:
            computed["at"] = chosen.entry["at"]
    else:  # a gold the team gave, equal to no annotation: who settled it says who made it
        settled = label.get("adjudicated_by") if isinstance(label, dict) else None
        computed = {"source": "human", **({"by": settled} if isinstance(settled, str) else {})}
    return Converted({"gold": gold, "label": _with_annotations(computed, entries, label)})


def _with_annotations(computed: dict[str, Any], entries: list[_Entry], label: Any) -> Any:
    """Our label: what the annotations say, with the task's own ``label`` keys winning."""
    if entries:
        computed["annotations"] = [item.entry for item in entries]
    if isinstance(label, dict):
        return {**computed, **label}
    return computed if label is None else label


def _problem(
    entries: list[_Entry], rid: Any, from_min: bool, from_name: str | None
) -> tuple[str, str]:
    if from_min and from_name is None:
        return (
            "a JSON_MIN export puts the result beside the task's data, and the field map names"
            " no result key",
            "name it in the field map: fields: {preset: label-studio, gold: <from_name>}",
        )
    name = rid if rid is not None else "(no id)"
    if not entries:
        return (
            f"Label Studio task {name} has no annotation that gives a value (none, or all"
            " cancelled)",
            "annotate it in Label Studio, or export only the labelled tasks",
        )
    said = ", ".join(f"{item.entry['by']}: {_shown(item.entry['gold'])}" for item in entries)
    return (
        f"the annotators of Label Studio task {name} disagree ({said}) and no annotation is"
        " marked ground truth",
        "settle it in Label Studio (mark the ground truth) and export again, or give the task"
        " `gold` and `label.adjudicated_by`",
    )


def _shown(value: Any) -> str:
    """A gold as the finding quotes it: its JSON, cut short (a textarea may hold pages)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def result_value(result: Any, from_name: str | None) -> Any:
    """The value of an annotation's first result (of ``from_name`` when one is named): a
    `choices` result gives the choice, or the list when several are chosen; `textarea` its
    text; any other kind its value as exported. None when there is no result."""
    if not isinstance(result, list):
        return None
    items = [
        item
        for item in result
        if isinstance(item, dict) and (from_name is None or item.get("from_name") == from_name)
    ]
    if not items:
        return None
    kind, value = items[0].get("type"), items[0].get("value")
    if kind == "json_min" or not isinstance(value, dict):
        return value
    for key, wanted in (("choices", "choices"), ("text", "textarea")):
        inner = value.get(key)
        if (kind == wanted or (kind is None and len(value) == 1)) and inner is not None:
            return inner[0] if isinstance(inner, list) and len(inner) == 1 else inner
    return value


def accepted_model(annotation: dict[str, Any], predictions: Any) -> str | None:
    """The `model_version` of the prediction this annotation started from, when the annotation
    keeps that prediction's result unchanged; else None."""
    parent = annotation.get("parent_prediction")
    if not isinstance(parent, int) or isinstance(parent, bool):
        return None
    candidates = [
        annotation.get("prediction"),
        *(predictions if isinstance(predictions, list) else ()),
    ]
    for prediction in candidates:
        if isinstance(prediction, dict) and prediction.get("id") == parent:
            if _same_result(prediction.get("result"), annotation.get("result")):
                version = prediction.get("model_version")
                return version if isinstance(version, str) and version else f"prediction-{parent}"
            return None
    return None


def _same_result(left: Any, right: Any) -> bool:
    """Whether two results say the same thing: their regions' names, kinds and values, in any
    order (Label Studio gives a result's region a fresh id when an annotation is saved)."""

    def canonical(result: Any) -> list[str] | None:
        if not isinstance(result, list):
            return None
        return sorted(
            json.dumps(
                {key: item.get(key) for key in ("from_name", "to_name", "type", "value")},
                sort_keys=True,
            )
            for item in result
            if isinstance(item, dict)
        )

    mine = canonical(left)
    return mine is not None and bool(mine) and mine == canonical(right)


def annotator(who: Any) -> str:
    """The annotator: the e-mail where the export carries one, else ``user-<id>``."""
    if isinstance(who, dict):
        email = who.get("email")
        if isinstance(email, str) and email:
            return email
        who = who.get("id")
    if isinstance(who, str) and who:
        return who
    if isinstance(who, int) and not isinstance(who, bool):
        return f"user-{who}"
    return "user-unknown"
