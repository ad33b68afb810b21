"""``agreement``: whether the independent labels behind the golds support them (docs/checks.md).

`gold-provenance` checks who *says* they wrote a gold; agreement between independent annotators is
the evidence that the gold is any good. Krippendorff's alpha below 0.667 means the labels do not
support even tentative conclusions. Over the records with at least two ``label.annotations``:

- alpha at ``policy.agreement.level`` (computed by the ``krippendorff`` package) for the set and
  for each origin with at least ``min_items`` such records, below ``min_alpha``: a finding. Its
  95% bootstrap interval resamples records (1,000 resamples, a fixed seed): each record's
  coincidences are counted once and the resamples only re-weight them, so the bootstrap costs a
  few matrix products, not a thousand alphas from scratch (benchmarks/bench_agreement.py);
- a record whose annotations disagree and whose label has no ``adjudicated_by``: a finding;
- a gold equal to none of its annotations, with no ``adjudicated_by``: a finding.

The message names the pair of annotators that agrees least (share of equal golds over the
records they share, among pairs sharing at least ``min_items``). numpy and krippendorff are
imported only inside `alpha_of` and `interval`, so a set without annotations never loads them.

``data`` carries, for the reports::

    {"level": "nominal", "alpha": 0.74, "interval": [0.61, 0.85], "records": 120,
     "origins": {"production": {"alpha": 0.8, "interval": [...], "records": 100},
                 "synthetic": {"skipped": "12 records, fewer than agreement.min_items (20)"}},
     "pairs": [{"a": "ann", "b": "bob", "shared": 40, "agreed": 31, "agreement": 0.775}]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy
from pytest_evalmix.model.text import escape

NAME = "agreement"
RESAMPLES = 1000
SEED = 20110101  # Krippendorff 2011: any fixed number; fixed, so the interval is reproducible
_FLOOR = "below it the labels do not support even tentative conclusions (Krippendorff)"

Key = tuple[str, Any]
Level = Literal["nominal", "ordinal", "interval", "ratio"]


def value_key(value: Any) -> Key:
    """A gold as a JSON value, hashable: 1 and 1.0 are one number, true is not 1."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", float(value))
    if isinstance(value, str):
        return ("s", value)
    return ("j", json.dumps(value, sort_keys=True, ensure_ascii=False))


def _number(key: Key) -> float | None:
    return float(key[1]) if key[0] == "n" else None


def alpha_of(units: Sequence[Sequence[int]], values: Sequence[float], level: Level) -> float:
    """Krippendorff's alpha of ``units`` (each a list of value codes, one per annotator) by the
    ``krippendorff`` package; ``values`` are the codes' values, in code order (ascending for
    the ordered levels)."""
    import krippendorff
    import numpy as np

    counts = np.zeros((len(units), len(values)))
    for row, unit in enumerate(units):
        for code in unit:
            counts[row, code] += 1
    return float(
        krippendorff.alpha(
            value_counts=counts, value_domain=list(values), level_of_measurement=level
        )
    )


def _delta(np: Any, v: Any, n: Any, level: str) -> Any:
    """The squared difference of every two values at ``level`` (V x V); ``n`` are the value
    totals, on which the ordinal metric depends."""
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = ((v[:, None] - v[None, :]) / total) ** 2
        return np.nan_to_num(out)
    # ordinal: (the sum of n_g for g from c to k, less half of n_c and n_k) squared
    codes = np.arange(len(v))
    lo, hi = np.minimum.outer(codes, codes), np.maximum.outer(codes, codes)
    shifted = np.concatenate([[0.0], np.cumsum(n)])
    return (shifted[hi + 1] - shifted[lo] - (n[:, None] + n[None, :]) / 2) ** 2


def interval(
    units: Sequence[Sequence[int]], values: Sequence[float], level: str, seed: int = SEED
) -> tuple[float, tuple[float, float]]:
    """Alpha from summed coincidences, and its 95% bootstrap interval over units.

    Each unit's observed disagreement (its coincidences times the metric) and its value counts
    are computed once; a resample is a vector of unit weights, so its alpha needs two weighted
    sums. For the ordinal level the metric depends on the value totals, so the observed part is
    re-weighted through the per-unit coincidence matrices, summed."""
    import numpy as np

    size, width = len(units), len(values)
    v = np.asarray(values, dtype=float)
    counts = np.zeros((size, width))
    for row, unit in enumerate(units):
        for code in unit:
            counts[row, code] += 1
    m = counts.sum(axis=1)
    # Per unit, o_ck = n_uc (n_uk - [c == k]) / (m_u - 1).
    scale = 1.0 / (m - 1.0)
    n_all = counts.sum(axis=0)
    rng = np.random.default_rng(seed)

    def observed_by_unit(delta: Any) -> Any:
        # sum_ck o_uck delta_ck = (n_u' delta n_u - n_u . diag(delta)) / (m_u - 1)
        return (np.einsum("uc,ck,uk->u", counts, delta, counts) - counts @ np.diag(delta)) * scale

    def alpha(observed: Any, n: Any, delta: Any) -> Any:
        total = n.sum(axis=-1)
        expected = np.einsum("...c,ck,...k->...", n, delta, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 - (total - 1.0) * observed / expected

    full_delta = _delta(np, v, n_all, level)
    point = float(alpha(observed_by_unit(full_delta).sum(), n_all, full_delta))
    results: list[Any] = []
    chunk = max(1, min(RESAMPLES, 4_000_000 // max(size, 1)))
    done = 0
    fixed = None if level == "ordinal" else observed_by_unit(full_delta)
    pair_sums = None
    if level == "ordinal":
        # per-unit coincidences, flattened: (U, V*V)
        coincidence = (
            np.einsum("uc,uk->uck", counts, counts) - np.einsum("uc,ck->uck", counts, np.eye(width))
        ) * scale[:, None, None]
        pair_sums = coincidence.reshape(size, width * width)
    while done < RESAMPLES:
        take = min(chunk, RESAMPLES - done)
        picks = rng.integers(0, size, size=(take, size))
        picks += (np.arange(take) * size)[:, None]
        weights = np.bincount(picks.ravel(), minlength=take * size).reshape(take, size)
        weights = weights.astype(float)
        n = weights @ counts
        if fixed is not None:
            results.append(alpha(weights @ fixed, n, full_delta))
        else:
            assert pair_sums is not None
            o = (weights @ pair_sums).reshape(take, width, width)
            for k in range(take):  # the metric moves with each resample's value totals
                delta = _delta(np, v, n[k], level)
                results.append(np.atleast_1d(alpha((o[k] * delta).sum(), n[k], delta)))
        done += take
    sample = np.concatenate(results)
    sample = sample[np.isfinite(sample)]
    if not len(sample):
        return point, (point, point)
    low, high = np.quantile(sample, [0.025, 0.975])
    return point, (float(low), float(high))


def _rounded(value: float) -> float:
    return round(value, 3)


def _pairs(
    records: list[tuple[int, list[tuple[str, Key]]]], min_shared: int
) -> list[dict[str, Any]]:
    tally: dict[tuple[str, str], list[int]] = {}
    for _row, given in records:
        ordered_by = sorted(given)
        for i, (a, gold_a) in enumerate(ordered_by):
            for b, gold_b in ordered_by[i + 1 :]:
                counts = tally.setdefault((a, b), [0, 0])
                counts[0] += 1
                counts[1] += gold_a == gold_b
    table = [
        {
            "a": a,
            "b": b,
            "shared": shared,
            "agreed": agreed,
            "agreement": _rounded(agreed / shared),
            "judged": shared >= min_shared,
        }
        for (a, b), (shared, agreed) in sorted(tally.items())
    ]
    return table


def _measure(units: list[list[int]], values: list[float], level: Level) -> dict[str, Any]:
    used = {code for unit in units for code in unit}
    if len(used) < 2:  # no variation: alpha is 0/0, so there is nothing to judge
        return {"records": len(units), "skipped": "every annotation gives the same value"}
    value = alpha_of(units, values, level)
    _point, (low, high) = interval(units, values, level)
    return {
        "alpha": _rounded(value),
        "interval": [_rounded(low), _rounded(high)],
        "records": len(units),
    }


def _describe(found: dict[str, Any]) -> str:
    low, high = found["interval"]
    return f"alpha {found['alpha']:.3f} (95% CI {low:.3f}-{high:.3f}, {found['records']} records)"


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    settings = policy.agreement
    level, floor = settings.level, settings.min_alpha
    findings: list[Finding] = []
    records: list[tuple[int, list[tuple[str, Key]]]] = []
    for row in sorted(evalset.kept):
        example = evalset.kept[row]
        label = example.label
        if not label.annotations:
            continue
        keys = [(a.by, value_key(a.gold)) for a in label.annotations]
        distinct = {key for _by, key in keys}
        settled = label.adjudicated_by is not None
        if len(distinct) > 1 and not settled:
            golds = ", ".join(
                f"{escape(by)}: {escape(json.dumps(a.gold, ensure_ascii=False))}"
                for (by, _k), a in zip(keys, label.annotations, strict=True)
            )
            findings.append(
                evalset.finding(
                    row,
                    f"its annotations disagree ({golds}) and nobody settled them",
                    "have someone adjudicate the gold and name them in label.adjudicated_by",
                    NAME,
                )
            )
        if value_key(example.gold) not in distinct and not settled:
            findings.append(
                evalset.finding(
                    row,
                    "its gold equals none of its annotations, and nobody adjudicated it",
                    "set the gold to the annotators' answer, or name who decided it in "
                    "label.adjudicated_by",
                    NAME,
                )
            )
        if len(keys) >= 2:
            records.append((row, keys))
    data: dict[str, Any] = {"level": level, "records": len(records)}
    if not evalset.kept or not any(evalset.kept[row].label.annotations for row in evalset.kept):
        return CheckResult(skipped="no record carries label.annotations", data=data)
    if level != "nominal":
        wrong = [(row, by) for row, keys in records for by, key in keys if _number(key) is None]
        for row, by in wrong:
            findings.append(
                evalset.finding(
                    row,
                    f"annotation of {escape(by)} is not a number, which agreement.level "
                    f"{level} needs",
                    "write numeric golds, or set policy.agreement.level: nominal",
                    NAME,
                )
            )
        bad_rows = {row for row, _by in wrong}
        records = [record for record in records if record[0] not in bad_rows]
    if len(records) < settings.min_items:
        reason = (
            f"{len(records)} records with two or more annotations, fewer than "
            f"agreement.min_items ({settings.min_items}): alpha over so few is noise"
        )
        if findings:
            data["skipped"] = reason
            return CheckResult(findings=ordered(findings), data=data)
        return CheckResult(skipped=reason, data=data)
    codebook: dict[Key, int] = {}
    all_keys = sorted(
        {key for _row, keys in records for _by, key in keys},
        key=(lambda key: (_number(key), key)) if level != "nominal" else None,
    )
    for key in all_keys:
        codebook[key] = len(codebook)
    values = [
        _number(key) or 0.0 if level != "nominal" else float(code) for key, code in codebook.items()
    ]

    def units_of(chosen: list[tuple[int, list[tuple[str, Key]]]]) -> list[list[int]]:
        return [[codebook[key] for _by, key in keys] for _row, keys in chosen]

    whole = _measure(units_of(records), values, level)
    data.update(whole)
    if "skipped" in whole:
        reason = f"{whole['skipped']}: alpha is undefined without variation"
        if findings:
            return CheckResult(findings=ordered(findings), data=data)
        return CheckResult(skipped=reason, data=data)
    pairs = _pairs(records, settings.min_items)
    data["pairs"] = pairs
    judged = [pair for pair in pairs if pair["judged"]]
    worst = min(judged, key=lambda p: (p["agreement"], p["a"], p["b"])) if judged else None
    named = (
        f"; the pair that agrees least is {escape(worst['a'])} and {escape(worst['b'])} "
        f"({worst['agreed']} of {worst['shared']} shared records alike)"
        if worst
        else ""
    )
    origins: dict[str, Any] = {}
    by_origin: dict[str, list[tuple[int, list[tuple[str, Key]]]]] = {}
    for record in records:
        by_origin.setdefault(evalset.origins[record[0]], []).append(record)
    for origin in sorted(by_origin):
        chosen = by_origin[origin]
        if len(chosen) < settings.min_items:
            origins[origin] = {
                "records": len(chosen),
                "skipped": f"{len(chosen)} records, fewer than agreement.min_items "
                f"({settings.min_items})",
            }
            continue
        origins[origin] = _measure(units_of(chosen), values, level)
    data["origins"] = origins
    fix = "re-annotate with clearer guidelines, or adjudicate the disputed golds"
    if whole["alpha"] < floor:
        findings.append(
            Finding(
                evalset.manifest,
                1,
                None,
                f"{level} {_describe(whole)} is below agreement.min_alpha {floor}: {_FLOOR}{named}",
                fix,
                NAME,
            )
        )
    for origin, found in origins.items():
        # One origin holding every record has the set's alpha: said once, for the set.
        if "alpha" in found and found["alpha"] < floor and found["records"] < len(records):
            findings.append(
                Finding(
                    evalset.manifest,
                    1,
                    None,
                    f"origin {origin}: {level} {_describe(found)} is below "
                    f"agreement.min_alpha {floor}",
                    fix,
                    NAME,
                )
            )
    data["summary"] = f"{level} {_describe(whole)}{named}"
    return CheckResult(findings=ordered(findings), data=data)
