"""msgspec decoders derived from the models' own schemas: the common record, several times faster.

pydantic-core validates a JSON record of our format in about 2.3 µs on the reference machine;
msgspec decodes the same record into a typed struct in about 0.65 µs, faster than orjson builds
a dict. A million-example set spends most of its load there, so the loaders try this decoder
first and fall back to the pydantic-derived validator for anything it refuses.

The structs are translated from the same typed-dict schema the fallback uses, node by node, and
only for the nodes whose msgspec meaning is known to be the same or narrower: a string with a
length, a literal of strings, a date, a float, a strict bool, a list, a string-keyed dict,
nullable, any. A node it does not know makes its field `msgspec.Raw` when the field is
optional (the caller names which such fields it checks for itself, see ``raw_ok``), and the
whole decoder None otherwise. So this decoder can refuse what the model accepts (the fallback
then decides, in the same process and line order), and is never meant to accept what the model
refuses; ``tests/unit/formats/test_fastdecode.py`` holds it to that on mutated records.
"""

from __future__ import annotations

import datetime as dt
from types import GenericAlias
from typing import Annotated, Any, Literal

try:
    import msgspec
    from msgspec.structs import astuple as astuple
except ImportError:  # pragma: no cover - a dependency; without it the pydantic path still works
    msgspec = None  # type: ignore[assignment]
    astuple = tuple  # type: ignore[assignment]


class Unsupported(Exception):
    """A schema node whose msgspec meaning is not known to match pydantic's."""


# Keys of a schema node that never change what it accepts.
_INERT = frozenset({"type", "ref", "metadata", "serialization"})


def decoder(schema: dict[str, Any], name: str, raw_ok: frozenset[str] = frozenset()) -> Any:
    """A ``msgspec.json.Decoder`` for the typed-dict ``schema``, or None.

    None when msgspec is missing, or when a required field, or an optional one outside
    ``raw_ok`` (dotted paths), cannot be translated.
    """
    if msgspec is None:
        return None
    raw: set[str] = set()
    try:
        struct = _type(schema, name, "", raw)
    except Unsupported:
        return None
    if not raw <= raw_ok:
        return None
    return msgspec.json.Decoder(struct)


def _type(schema: Any, name: str, path: str, raw: set[str]) -> Any:
    if not isinstance(schema, dict):
        raise Unsupported(path)
    kind = schema.get("type")
    keys = set(schema) - _INERT
    if kind == "typed-dict":
        return _struct(schema, name, path, raw)
    if kind == "nullable" and keys == {"schema"}:
        return _type(schema["schema"], name, path, raw) | None
    if kind == "any" and not keys:
        return Any
    if kind == "str" and keys <= {"min_length", "max_length", "strict"}:
        lengths = {key: schema[key] for key in ("min_length", "max_length") if key in schema}
        return Annotated[str, msgspec.Meta(**lengths)] if lengths else str
    if kind == "literal" and keys == {"expected"}:
        expected = schema["expected"]
        if not expected or not all(isinstance(value, str) for value in expected):
            raise Unsupported(path)
        return Literal[tuple(expected)]
    if kind == "date" and not keys:
        return dt.date
    if kind == "float" and keys <= {"allow_inf_nan"}:
        return float  # msgspec refuses NaN, Infinity and out-of-range numbers: narrower
    if kind == "bool" and keys == {"strict"} and schema["strict"]:
        return bool
    if kind == "list" and keys <= {"items_schema"}:
        items = _type(schema.get("items_schema", {"type": "any"}), name, path, raw)
        return GenericAlias(list, (items,))
    if kind == "dict" and keys <= {"keys_schema", "values_schema"}:
        if schema.get("keys_schema", {"type": "str"}) != {"type": "str"}:
            raise Unsupported(path)
        values = _type(schema.get("values_schema", {"type": "any"}), name, path, raw)
        return GenericAlias(dict, (str, values))
    raise Unsupported(path)


def _struct(schema: dict[str, Any], name: str, path: str, raw: set[str]) -> Any:
    if set(schema) - _INERT - {"fields", "extra_behavior"}:
        raise Unsupported(path)
    if schema.get("extra_behavior", "ignore") not in ("forbid", "ignore"):
        raise Unsupported(path)
    fields: list[Any] = []
    optional: list[Any] = []
    rename: dict[str, str] = {}
    for number, (key, spec) in enumerate(schema["fields"].items()):
        where = f"{path}.{key}" if path else key
        if not key.isidentifier() or key.startswith("_"):
            # A key from data (a grid axis such as "user-type" or "__init__") is no attribute
            # name: the struct's field gets a name of its own, read from the key as written.
            rename[f"_f{number}"] = key
            key = f"_f{number}"
        if set(spec) - _INERT - {"schema", "required"}:
            raise Unsupported(where)
        required = spec.get("required", True)
        try:
            kind = _type(spec["schema"], f"{name}_{key}", where, raw)
        except Unsupported:
            if required:
                raise
            raw.add(where)
            kind = msgspec.Raw | None
        if required:
            fields.append((key, kind))
        else:
            # Absent reads as None; null is still refused where the schema refuses it.
            optional.append((key, kind, None))
    try:
        return msgspec.defstruct(
            name,
            fields + optional,
            forbid_unknown_fields=schema.get("extra_behavior") == "forbid",
            frozen=True,  # hashable: a decoded grid is its own key in a table of cells
            rename=rename or None,
        )
    except (TypeError, ValueError) as exc:  # a name msgspec will not take: no guessing
        raise Unsupported(path) from exc


class _NoMsgspec(Exception):
    pass


# What a decoder raises for a record it refuses: msgspec's error, or its nesting limit (the
# fallback then reports the depth in its own words).
DecodeError: type[Exception] = msgspec.DecodeError if msgspec is not None else _NoMsgspec
REFUSED: tuple[type[Exception], ...] = (DecodeError, RecursionError)


def refuse(raw: bytes) -> Any:
    """The decode of no decoder: refuses everything, so the fallback reads every line."""
    raise DecodeError("no decoder")
