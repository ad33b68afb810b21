"""The policy (docs/checks.md): built-in defaults, then ``[tool.evalmix.policy]``, then the
manifest.

Each layer overrides the one below key by key, so a manifest can tighten one tolerance without
restating every target. An unknown key is an error that suggests the nearest known one: a
misspelt ``tolerence`` that silently fell back to the default would be a gate that never shuts.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pytest_evalmix.model.records import DataFile, Origin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


DEFAULT_TARGETS: dict[Origin, float] = {"production": 0.50, "synthetic": 0.25, "adversarial": 0.25}
DEFAULT_COMPARE: list[tuple[Origin, Origin]] = [("production", "synthetic")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemaPolicy(_Section):
    extra: Literal["forbid", "allow"] = "forbid"


class MixPolicy(_Section):
    targets: dict[Origin, float] = Field(default_factory=lambda: dict(DEFAULT_TARGETS))
    tolerance: float = Field(0.10, ge=0, le=1)
    min_examples: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _targets_are_shares(self) -> MixPolicy:
        for origin, share in self.targets.items():
            if not 0 <= share <= 1:
                raise ValueError(f"target for {origin} is {share}, not a share between 0 and 1")
        total = sum(self.targets.values())
        if self.targets and abs(total - 1) > 1e-6:
            raise ValueError(f"targets add up to {total:g}, not 1")
        return self


class ProvisionalPolicy(_Section):
    max_age_days: int = Field(182, ge=1)
    warn_within_days: int = Field(14, ge=0)


class PassRatesPolicy(_Section):
    compare: list[tuple[Origin, Origin]] = Field(default_factory=lambda: list(DEFAULT_COMPARE))
    max_gap: float = Field(0.10, ge=0, le=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    min_results: int = Field(20, ge=1)


class FailureModesPolicy(_Section):
    compare: list[tuple[Origin, Origin]] = Field(default_factory=lambda: list(DEFAULT_COMPARE))
    min_count: int = Field(1, ge=1)


class ReviewPolicy(_Section):
    max_accept_rate: float = Field(0.95, ge=0, le=1)
    min_decisions: int = Field(20, ge=1)
    min_median_seconds: float = Field(3, ge=0)
    required: bool = False
    max_intent_drift: float = Field(0.10, ge=0, le=1)


class DuplicatesPolicy(_Section):
    """Repeated inputs: exact always, near copies from ``near`` (a Jaccard similarity) up."""

    near: float | None = Field(None, gt=0, le=1)
    shingle: int = Field(3, ge=1, le=20)
    max_per_seed: int = Field(10, ge=1)


class LeakagePolicy(_Section):
    """Inputs that also sit in training data, few-shot examples or a prompt (``against``)."""

    against: list[str | DataFile] = Field(default_factory=list)
    near: float | None = Field(None, gt=0, le=1)


class AgreementPolicy(_Section):
    """Krippendorff's alpha over the annotations behind the golds."""

    level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal"
    min_alpha: float = Field(0.667, ge=-1, le=1)
    min_items: int = Field(20, ge=2)


_UNSAFE_NAME = re.compile(r"[,=\x00-\x1f\x7f-\x9f\u2028\u2029]")
# More cells than this is a grid nobody can fill or read; it is also what keeps a typo such as a
# 1000-value axis from costing a million cells of memory.
MAX_CELLS = 10_000


class CoveragePolicy(_Section):
    """The coverage grid: each axis and its values; every combination is a cell to fill."""

    axes: dict[str, list[str]] = Field(default_factory=dict)
    min_per_cell: int = Field(1, ge=0)
    production_min_per_cell: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _axes_are_values(self) -> CoveragePolicy:
        cells = 1
        for axis, values in self.axes.items():
            for name in (axis, *values):
                # `evalmix propose --cell axis=value,...` must be able to name every cell, and
                # a name is printed in findings and tables as it is.
                if not name.strip() or _UNSAFE_NAME.search(name):
                    raise ValueError(
                        f"{name!r} cannot name an axis or a value: use text without ',', '=' "
                        "or control characters"
                    )
            if not values:
                raise ValueError(f"axis '{axis}' has no values; list the values it takes")
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"axis '{axis}' lists {', '.join(repeated)} more than once")
            cells *= len(values)
        if self.axes and cells > MAX_CELLS:
            raise ValueError(
                f"the axes make {cells} cells, more than {MAX_CELLS}: declare fewer values"
            )
        return self


class Policy(_Section):
    """The effective policy of one eval set."""

    schema_: SchemaPolicy = Field(default_factory=SchemaPolicy, alias="schema")
    mix: MixPolicy = Field(default_factory=MixPolicy)
    provisional: ProvisionalPolicy = Field(default_factory=ProvisionalPolicy)
    pass_rates: PassRatesPolicy = Field(default_factory=PassRatesPolicy)
    failure_modes: FailureModesPolicy = Field(default_factory=FailureModesPolicy)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    coverage: CoveragePolicy = Field(default_factory=CoveragePolicy)
    duplicates: DuplicatesPolicy = Field(default_factory=DuplicatesPolicy)
    leakage: LeakagePolicy = Field(default_factory=LeakagePolicy)
    agreement: AgreementPolicy = Field(default_factory=AgreementPolicy)
    # Per-checker settings, e.g. ``checkers: {sqlite: {database: db/orders.sqlite}}``. Their keys
    # belong to each checker, so they are not checked here.
    checkers: dict[str, dict[str, Any]] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# Keys whose value replaces the lower layer's whole, rather than merging into it: a manifest that
# names its own targets (or axes) means exactly those.
_LEAVES = {("mix", "targets"), ("coverage", "axes"), ("leakage", "against")}


class PolicyError(ValueError):
    """A policy that cannot be used. ``key`` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _known_keys(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    known: dict[str, type[BaseModel] | None] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        sub = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, _Section)
            else None
        )
        known[field.alias or name] = sub
    return known


def suggest(key: str, known: list[str] | set[str]) -> str:
    """A "did you mean" suffix for ``key``, or an empty string when nothing is close."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keys(data: Mapping[str, Any], prefix: str = "") -> None:
    """Raise `PolicyError` for the first unknown key, walking sections in a stable order."""
    errors = key_errors(data, prefix)
    if errors:
        raise errors[0]


def key_errors(data: Mapping[str, Any], prefix: str = "") -> list[PolicyError]:
    """Every unknown key and every section that is not a mapping, in a stable order."""
    found: list[PolicyError] = []
    _check_keys(data, Policy, prefix, found)
    return found


def _check_keys(
    data: Mapping[str, Any], model: type[BaseModel], prefix: str, found: list[PolicyError]
) -> None:
    known = _known_keys(model)
    for key in sorted(data, key=str):
        path = f"{prefix}{key}"
        if key not in known:
            found.append(
                PolicyError(
                    path,
                    f"unknown policy key '{path}'{suggest(str(key), set(known))}; "
                    f"known keys here: {', '.join(sorted(known))}",
                )
            )
            continue
        sub = known[key]
        value = data[key]
        if sub is not None:
            if not isinstance(value, Mapping):
                found.append(PolicyError(path, f"policy key '{path}' must be a mapping"))
                continue
            _check_keys(value, sub, f"{path}.", found)


def _known_only(data: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """``data`` without the keys `key_errors` reports, so its values can be judged too."""
    known = _known_keys(model)
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            continue
        sub = known[key]
        if sub is not None:
            if not isinstance(value, Mapping):
                continue
            value = _known_only(value, sub)
        kept[key] = value
    return kept


def merge(
    base: Mapping[str, Any], override: Mapping[str, Any], _at: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Override ``base`` key by key; mappings merge, everything else (and `_LEAVES`) replaces."""
    merged = dict(base)
    for key, value in override.items():
        here = (*_at, key)
        lower = merged.get(key)
        if isinstance(value, Mapping) and isinstance(lower, Mapping) and here not in _LEAVES:
            merged[key] = merge(lower, value, here)
        else:
            merged[key] = value
    return merged


def build(*layers: Mapping[str, Any]) -> Policy:
    """Validate the layers (lowest first) and build the effective policy."""
    merged: dict[str, Any] = {}
    for layer in layers:
        check_keys(layer)
        merged = merge(merged, layer)
    try:
        return Policy.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise PolicyError(key, f"policy key '{key}': {error['msg']}") from None


def from_pyproject(rootdir: Path) -> dict[str, Any]:
    """The ``[tool.evalmix.policy]`` table of the rootdir's pyproject.toml, or nothing."""
    path = rootdir / "pyproject.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    tools = data.get("tool", {})
    tool = tools.get("evalmix", {}) if isinstance(tools, dict) else {}
    if not isinstance(tool, dict):
        raise PolicyError("evalmix", "[tool.evalmix] must be a table (of [tool.evalmix.policy])")
    for key in sorted(tool):
        if key != "policy":
            raise PolicyError(
                key,
                f"unknown key '{key}' in [tool.evalmix]{suggest(key, {'policy'})}: the only "
                "table there is [tool.evalmix.policy]",
            )
    policy = tool.get("policy", {})
    if not isinstance(policy, dict):
        raise PolicyError("policy", "[tool.evalmix.policy] must be a table")
    # Every error at once, so one edit of the file can fix them all. A bad value is this
    # file's error, not every manifest's.
    errors = key_errors(policy)
    try:
        Policy.model_validate(_known_only(policy, Policy))
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            errors.append(PolicyError(key, f"policy key '{key}': {error['msg']}"))
    if errors:
        raise PolicyError(errors[0].key, "; ".join(e.message for e in errors))
    return policy
