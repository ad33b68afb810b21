"""The record, manifest and result formats of docs/formats.md, §4 and §6 as pydantic models.

The models are the single source of truth: the loader validates with them, `evalmix schema`
prints their JSON Schema, and the checks read their fields. They forbid unknown keys so a typo
such as ``orgin`` is caught instead of silently dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    WithJsonSchema,
    field_validator,
)

from pytest_evalmix.model.jsonvalue import gold_json, input_json, meta_json

Origin = Literal["production", "synthetic", "adversarial"]
ORIGINS: tuple[Origin, ...] = ("production", "synthetic", "adversarial")
LabelSource = Literal["human", "programmatic", "llm"]
SOURCES: tuple[LabelSource, ...] = ("human", "programmatic", "llm")
ReviewDecision = Literal["accepted", "edited", "rejected"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provisional(_Strict):
    """A bootstrap label that a named person has promised to replace by a date."""

    owner: str | None = None
    backfill_by: dt.date | None = None
    created: dt.date | None = None
    reason: str | None = None


class Annotation(_Strict):
    """One annotator's independent label behind a gold, which `agreement` compares."""

    by: str = Field(min_length=1)
    gold: Any = None
    at: dt.date | None = None
    seconds: float | None = Field(default=None, allow_inf_nan=False)


class Label(_Strict):
    """Who produced the gold, which is what gold provenance is judged on."""

    source: LabelSource
    by: str | None = None
    at: dt.date | None = None
    checker: str | None = None
    pattern: str | None = None
    provisional: Provisional | None = None
    # The independent labels behind the gold, one per annotator, and who settled them when
    # they disagree (docs/checks.md, `agreement`).
    annotations: list[Annotation] | None = None
    adjudicated_by: str | None = None

    @field_validator("annotations")
    @classmethod
    def _annotators_distinct(cls, value: list[Annotation] | None) -> list[Annotation] | None:
        if value is not None:
            repeated = repeated_annotator([annotation.by for annotation in value])
            if repeated is not None:
                raise ValueError(f"label.annotations has annotator {repeated!r} twice")
        return value


def repeated_annotator(names: list[str]) -> str | None:
    """The first annotator named twice among a label's annotations, or None: each annotation is
    one independent annotator's label (docs/formats.md), so a repeat would count twice in
    `agreement`. The fast loaders call this too, for the same rule on every path."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


class Synthetic(_Strict):
    """How a synthetic input was generated, so a reviewer can trace it to its seed."""

    generator: str
    method: str
    seed_id: str | None = None
    prompt_sha256: str | None = None


class Review(_Strict):
    """The human decision that let a synthetic candidate into the set."""

    by: str
    decision: ReviewDecision
    at: dt.datetime | dt.date
    seconds: float | None = None


def _not_empty(value: Any, what: str) -> Any:
    if value is None or (isinstance(value, (str, list, dict)) and not value):
        raise ValueError(f"{what} is empty")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{what} is blank")
    return value


class Example(_Strict):
    """One record of an eval set: an input, its gold, where both came from."""

    id: str = Field(min_length=1)
    # The JSON Schema says what the validators below enforce, so an editor flags it too.
    input: Annotated[Any, AfterValidator(input_json)] = Field(
        json_schema_extra={
            "description": "any JSON value, not empty",
            "not": {
                "anyOf": [
                    {"type": "null"},
                    {"type": "string", "pattern": "^\\s*$"},
                    {"type": "array", "maxItems": 0},
                    {"type": "object", "maxProperties": 0},
                ]
            },
        }
    )
    gold: Annotated[Any, AfterValidator(gold_json)] = Field(
        json_schema_extra={
            "description": "the expected answer: any JSON value but null",
            "not": {"type": "null"},
        }
    )
    origin: Origin
    label: Label
    synthetic: Synthetic | None = None
    review: Review | None = None
    tags: list[str] = Field(default_factory=list)
    grid: dict[str, str] = Field(default_factory=dict)
    meta: Annotated[dict[str, Any], AfterValidator(meta_json)] = Field(default_factory=dict)

    @field_validator("input")
    @classmethod
    def _input_not_empty(cls, value: Any) -> Any:
        return _not_empty(value, "input")

    @field_validator("gold")
    @classmethod
    def _gold_present(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("gold is null")
        return value


EXAMPLE_KEYS: dict[str, set[str]] = {
    "": set(Example.model_fields),
    "label": set(Label.model_fields),
    "label.provisional": set(Provisional.model_fields),
    "label.annotations": set(Annotation.model_fields),
    "synthetic": set(Synthetic.model_fields),
    "review": set(Review.model_fields),
}


PRESET_NAMES = ("deepeval", "inspect", "promptfoo", "label-studio")
_FIELD_NAMES: list[JsonValue] = [*sorted(Example.model_fields)]
_PRESET_SCHEMA = {"enum": list(PRESET_NAMES)}
FieldsForm = Annotated[
    str | dict[str, str] | None,
    WithJsonSchema(
        {
            "description": "a preset's name, or a map of our (dotted) field to your (dotted) "
            "key, which may extend a preset: {preset: promptfoo, input: vars.ticket}",
            "anyOf": [
                _PRESET_SCHEMA,
                {
                    "type": "object",
                    "properties": {"preset": _PRESET_SCHEMA},
                    "additionalProperties": {"type": "string", "minLength": 1},
                },
                {"type": "null"},
            ],
        }
    ),
]


class DataFile(_Strict):
    """A data entry of a manifest that carries its own field map and defaults."""

    path: str
    fields: FieldsForm = None
    defaults: dict[str, Any] = Field(
        default_factory=dict,
        json_schema_extra={
            "description": "values for the records that lack a field",
            "propertyNames": {"enum": _FIELD_NAMES},
        },
    )


ResultsFormat = Literal["evalmix", "inspect", "promptfoo"]


class ResultsSpec(_Strict):
    """A manifest's ``results:`` as a mapping: another harness's own output (docs/evals.md)."""

    path: str = Field(min_length=1)
    format: ResultsFormat = "evalmix"
    threshold: float | None = Field(default=None, allow_inf_nan=False)


class Manifest(_Strict):
    """An eval-set manifest: its record files, field maps, results and policy."""

    evalmix: Literal[1]
    name: str | None = None
    data: list[str | DataFile] = Field(default_factory=list)
    examples: list[Any] = Field(default_factory=list)
    results: str | ResultsSpec | None = None
    # Which split this set is (dev, test, ...): sets of different splits share no input.
    split: str | None = Field(default=None, min_length=1)
    fields: FieldsForm = None
    policy: dict[str, Any] = Field(default_factory=dict)


class Result(_Strict):
    """One outcome of an eval run: did the system under test get this example right."""

    # Strict: "passed": "true" or 1 is a typo to report, not a pass to count.
    id: str = Field(min_length=1, strict=True)
    passed: bool = Field(strict=True)
    failure_mode: str | None = Field(default=None, strict=True)
    score: float | None = Field(default=None, allow_inf_nan=False)
