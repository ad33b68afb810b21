"""Validators derived from the model's own schema, for the fast paths: the same rules and errors
as `Example` and `Result`, yielding plain dicts (or msgspec structs) instead of models.

The schemas are plain data, so a child interpreter (`formats.parallel`) builds the same
validators from them. See docs/performance.md.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic_core import CoreConfig, SchemaValidator

from pytest_evalmix.formats import fastdecode

# Checked by the scans themselves (`fastload.scan`, `arrow_scan`), so the derived schema holds
# no function and can be sent to a child as JSON.
SCANNED = frozenset(
    {
        "_input_not_empty",
        "_gold_present",
        "_annotators_distinct",
        "input_json",
        "gold_json",
        "meta_json",
    }
)


def _name(schema: dict[str, Any]) -> str:
    return str(getattr(schema.get("function", {}).get("function"), "__name__", ""))


def _as_typed_dict(schema: Any) -> Any:
    """Rewrite a model core schema into the equivalent typed-dict schema.

    Field schemas, constraints and validators are reused as they are; only the containers
    change, and optional fields stay absent instead of being filled with defaults.
    """
    if isinstance(schema, list):
        return [_as_typed_dict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-after" and _name(schema) in SCANNED:
        return _as_typed_dict(schema["schema"])
    if schema.get("type") == "model":
        inner = schema["schema"]
        fields = {}
        for name, spec in inner["fields"].items():
            sub = spec["schema"]
            optional = sub.get("type") == "default"
            fields[name] = {
                "type": "typed-dict-field",
                "schema": _as_typed_dict(sub["schema"] if optional else sub),
                "required": not optional,
            }
        extra = schema.get("config", {}).get("extra_fields_behavior", "ignore")
        return {"type": "typed-dict", "fields": fields, "extra_behavior": extra}
    return {key: _as_typed_dict(value) for key, value in schema.items()}


# A declared coverage grid: each axis and its values, in order (hashable, for the caches).
Axes = tuple[tuple[str, tuple[str, ...]], ...]


@cache
def derived() -> tuple[dict[str, Any], list[str], list[str]] | None:
    """The derived schema (plain data), and the origins and label sources in code order."""
    from pytest_evalmix.model.records import ORIGINS, SOURCES, Example

    try:
        schema = _as_typed_dict(Example.__pydantic_core_schema__)
    except Exception:  # pragma: no cover - a future pydantic; the model path still works
        return None
    return schema, list(ORIGINS), list(SOURCES)


def _as_written(grid: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A grid naming an axis or a value that is not declared: kept as written, for the
    ``coverage`` check to report at its line (a tuple, so `scan` tells it apart)."""
    return tuple(grid.items())


def _declared(axes: Axes) -> dict[str, Any]:
    """A grid of declared axes and values only: the axes in declared order, each optional."""
    return {
        "type": "typed-dict",
        "fields": {
            axis: {
                "type": "typed-dict-field",
                "schema": {"type": "literal", "expected": list(values)},
                "required": False,
            }
            for axis, values in axes
        },
        "extra_behavior": "forbid",
    }


def _grid_as(schema: dict[str, Any], grid: dict[str, Any]) -> dict[str, Any]:
    fields = dict(schema["fields"])
    fields["grid"] = {**fields["grid"], "schema": grid}
    return {**schema, "fields": fields}


def with_grid(schema: dict[str, Any], axes: Axes) -> dict[str, Any]:
    """``schema`` reading ``grid`` against the declared ``axes``.

    A grid of declared axes and values comes back as the schema's own key and value objects, in
    the axes' order, so every axis's value names the cell and its hash is known already: keeping
    each row's cell costs one small tuple and a lookup. Anything else comes back as written.
    """
    if not axes:
        return schema
    written = {
        "type": "function-after",
        "function": {"type": "no-info", "function": _as_written},
        "schema": schema["fields"]["grid"]["schema"],
    }
    union = {"type": "union", "mode": "left_to_right", "choices": [_declared(axes), written]}
    return _grid_as(schema, union)


def declared_grid(schema: dict[str, Any], axes: Axes) -> dict[str, Any]:
    """``schema`` taking only a grid of declared axes and values (the fast decoder's: any
    other grid is refused there and read as written by `_with_grid`'s validator)."""
    return _grid_as(schema, _declared(axes)) if axes else schema


@cache
def validator(axes: Axes = ()) -> SchemaValidator | None:
    """The derived validator, or None if this pydantic's schema shape is not understood.

    The loader takes the fast path only when this is not None, so a child given the same
    schema can build it too.
    """
    spec = derived()
    try:
        return build(with_grid(spec[0], axes)) if spec is not None else None
    except Exception:  # pragma: no cover - a future pydantic; the model path still works
        return None


# Optional fields the fast path reads whole through the validator instead: ``review`` is a
# datetime or a date, a union msgspec cannot hold; `scan` sends every reviewed record there.
RAW_OK = frozenset({"review"})


def decoder(schema: dict[str, Any]) -> Any:
    return fastdecode.decoder(schema, "Example", RAW_OK)


@cache
def fast_decoder(axes: Axes = ()) -> Any:
    """The msgspec decoder of records (`fastdecode`), or None: then every line is validated.
    With ``axes``, it takes a grid of declared axes and values only, as a struct whose fields
    are the axes in order."""
    spec = derived()
    return decoder(declared_grid(spec[0], axes)) if spec is not None else None


@cache
def gold_validator() -> SchemaValidator:
    """Reads only ``gold`` from a line: the other keys are parsed past but never built."""
    return keys_validator(("gold",))


@cache
def keys_validator(keys: tuple[str, ...]) -> SchemaValidator:
    """Reads only ``keys`` (each required) from a line, as any JSON value."""
    return SchemaValidator(
        {
            "type": "typed-dict",
            "fields": {
                key: {"type": "typed-dict-field", "schema": {"type": "any"}, "required": True}
                for key in keys
            },
            "extra_behavior": "ignore",
        }
    )


def dict_validator(schema: Any) -> SchemaValidator:
    """A validator of JSON bytes that yields plain dicts, from `typed_dict_schema`: the
    model's rules and errors, without a model object per line."""
    return build(schema)


def build(schema: dict[str, Any]) -> SchemaValidator:
    # Caching strings saves memory for repeated values but costs time per line; the scan
    # interns the few repeated values itself.
    return SchemaValidator(schema, CoreConfig(cache_strings=False))


def typed_dict_schema(model_schema: Any) -> Any:
    """A model's core schema as the equivalent typed-dict schema (plain data, sent to a child)."""
    return _as_typed_dict(model_schema)
