"""Records into the model: a file's field map and defaults applied, then validation, with
pydantic's errors turned into one finding per record that names every problem and its fix.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pytest_evalmix.errors import RecordError
from pytest_evalmix.formats import presets
from pytest_evalmix.formats.readers import decode_error, parse_json_line
from pytest_evalmix.model import policy as policy_mod
from pytest_evalmix.model.evalset import Source
from pytest_evalmix.model.policy import suggest
from pytest_evalmix.model.records import EXAMPLE_KEYS, Example


def validate_bytes(raw: bytes, line: int) -> Example | RecordError:
    """The fast path: bytes to model in one parse. Only failures pay for a second look."""
    try:
        return Example.model_validate_json(raw)
    except ValidationError:
        pass
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as decode_exc:
        return decode_error(raw, decode_exc, line)
    parsed = parse_json_line(raw, line)
    if isinstance(parsed, RecordError):
        return parsed
    try:  # JSON that pydantic's parser refuses but Python reads (a lone "\ud800" escape)
        return Example.model_validate(parsed)
    except ValidationError as exc:
        return _errors(exc, parsed, line)


def validate(
    raw: dict[str, Any], line: int, source: Source, allow_extra: bool, position: int = 0
) -> Example | RecordError:
    record, problem = convert(raw, source, position)
    if problem is not None and "gold" not in record:
        rid = record.get("id")
        return RecordError(line, *problem, id=rid if isinstance(rid, str) and rid else None)
    if allow_extra:
        record = _strip_extra(record)
    try:
        return Example.model_validate(record)
    except ValidationError as exc:
        return _errors(exc, record, line)


def apply(raw: dict[str, Any], source: Source, position: int = 0) -> dict[str, Any]:
    """Their record as ours: the field map (or preset), then the file's defaults. A preset's
    own proposal (DeepEval's synthesizer marks) fills a field only when neither the record nor
    the defaults give it."""
    return convert(raw, source, position)[0]


def convert(
    raw: dict[str, Any], source: Source, position: int = 0
) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """`apply`, and what the preset found wrong when it could give no gold (a Label Studio
    task whose annotators disagree): the record's finding unless the defaults give one."""
    problem = None
    if source.plain:
        return raw, None
    if source.fields.plain:
        record = raw
    else:
        converted = presets.apply(raw, source.fields, position)
        record, problem = converted.record, converted.problem
        for key, value in converted.fallback.items():
            if key not in record and key not in source.defaults:
                record[key] = value
    if source.defaults:
        record = policy_mod.merge(source.defaults, record)
    return record, problem


def _strip_extra(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    known = EXAMPLE_KEYS.get(prefix)
    if known is None:
        return record
    kept: dict[str, Any] = {}
    for key, value in record.items():
        if key not in known:
            continue
        sub = f"{prefix}.{key}" if prefix else key
        kept[key] = _strip_extra(value, sub) if isinstance(value, dict) else value
    return kept


# Error messages by pydantic error type: what is wrong, and what to do.
_FIXES = {
    "missing": "add it",
    "literal_error": "use one of the allowed values",
    "date_from_datetime_parsing": "write dates as ISO 8601, e.g. 2026-12-31",
    "date_parsing": "write dates as ISO 8601, e.g. 2026-12-31",
    "date_type": "write dates as ISO 8601, e.g. 2026-12-31",
    "datetime_parsing": "write times as ISO 8601, e.g. 2026-12-31T14:30:00Z",
    "datetime_from_date_parsing": "write times as ISO 8601, e.g. 2026-12-31T14:30:00Z",
}


def _errors(exc: ValidationError, record: Any, line: int) -> RecordError:
    """Turn pydantic's errors for one record into one finding naming every problem."""
    rid = record.get("id") if isinstance(record, dict) else None
    rid = rid if isinstance(rid, str) and rid else None
    problems: list[str] = []
    fixes: list[str] = []
    seen: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        if loc[-2:-1] == ["at"] and loc[-1] in ("datetime", "date"):
            loc.pop()  # review.at is a time or a date: one problem, not one per union branch
        if ".".join(loc) in seen:
            continue
        seen.add(".".join(loc))
        kind = error["type"]
        if kind.endswith("_type") and error.get("input", "") is None and loc:
            kind = "missing"  # `name: null` under a field map reads as a missing id, as in CSV
        if kind in ("model_type", "dict_type") and not loc:
            return RecordError(line, "record is not an object", "write each record as a mapping")
        key = ".".join(loc)
        if kind == "extra_forbidden":
            parent = ".".join(loc[:-1])
            known = EXAMPLE_KEYS.get(parent, set())
            problems.append(f"unknown key '{key}'{suggest(loc[-1], known)}")
            fixes.append("rename or remove it (or set policy.schema.extra: allow)")
        elif kind == "missing":
            problems.append(f"missing required field '{key}'")
            fixes.append(f"add '{key}'")
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            problems.append(f"{key} is {_short(error.get('input'))}, expected {expected}")
            fixes.append(f"set {key} to one of {expected}")
        elif kind.startswith("date") or kind.startswith("datetime"):
            problems.append(f"{key} is not a valid date: {_short(error.get('input'))}")
            fixes.append(_FIXES.get(kind, "write dates as ISO 8601, e.g. 2026-12-31"))
        elif kind == "string_unicode":
            problems.append(f"{key} is not valid Unicode text (got {_short(error.get('input'))})")
            fixes.append(f"remove the unpaired surrogate escape (\\ud800-\\udfff) from {key}")
        elif kind == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(message if key in message else f"{key}: {message}")
            if key == "label.annotations":  # a repeated annotator (`Label._annotators_distinct`)
                fixes.append("keep one annotation per annotator in label.annotations")
            else:
                fixes.append(f"give {key} a real value")
        else:
            problems.append(f"{key}: {error['msg'].lower()} (got {_short(error.get('input'))})")
            fixes.append(f"fix {key}")
    unique_fixes = list(dict.fromkeys(fixes))
    return RecordError(line, "; ".join(problems), "; ".join(unique_fixes), id=rid)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
