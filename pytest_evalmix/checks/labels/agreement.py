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

Key = str | tuple[str, Any]
Level = Literal["nominal", "ordinal", "interval", "ratio"]


def value_key(value: Any) -> Key:
    """A gold as a JSON value, hashable: 1 and 1.0 are one number, true is not 1."""
    if value.__class__ is str:  # the common gold, as itself: no tuple to build or hash
        return str(value)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", float(value))
    if isinstance(value, str):
        return str(value)
    return ("j", json.dumps(value, sort_keys=True, ensure_ascii=False))


def _number(key: Key) -> float | None:
    return float(key[1]) if isinstance(key, tuple) and key[0] == "n" else None


def _patterns(np: Any, units: Sequence[Sequence[int]], width: int) -> tuple[Any, Any, Any]:
    """Units grouped by their value counts: (the K distinct count rows (K x V), how many units
    have each (K), each unit's group (U)). Alpha depends on a unit only through its counts, and
    few annotators over few values make few groups, so the bootstrap draws group counts."""
    groups: dict[tuple[int, ...], int] = {}
    index = [groups.setdefault(tuple(sorted(unit)), len(groups)) for unit in units]
    counts = np.zeros((len(groups), width))
    for group, row in groups.items():
        for code in group:
            counts[row, code] += 1
    which = np.asarray(index, dtype=np.intp)
    return counts, np.bincount(which, minlength=len(groups)).astype(float), which


def alpha_of(units: Sequence[Sequence[int]], values: Sequence[float], level: Level) -> float:
    """Krippendorff's alpha of ``units`` (each a list of value codes, one per annotator) by the
    ``krippendorff`` package; ``values`` are the codes' values, in code order (ascending for
    the ordered levels)."""
    import numpy as np

    groups, many, _which = _patterns(np, units, len(values))
    return grouped_alpha(groups, many, values, level)


def grouped_alpha(groups: Any, many: Any, values: Sequence[float], level: Level) -> float:
    """`alpha_of` over grouped units (`_patterns`): the package wants one row a unit."""
    import krippendorff
    import numpy as np

    counts = np.repeat(groups, many.astype(np.intp), axis=0)
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

    counts, many, which = _patterns(np, units, len(values))
    return grouped_interval(counts, many, which, values, level, seed)


def grouped_interval(
    counts: Any, many: Any, which: Any, values: Sequence[float], level: str, seed: int = SEED
) -> tuple[float, tuple[float, float]]:
    """`interval` over grouped units (`_patterns`): ``which`` is each unit's group."""
    import numpy as np

    size, width = len(which), len(values)
    v = np.asarray(values, dtype=float)
    m = counts.sum(axis=1)
    # Per unit, o_ck = n_uc (n_uk - [c == k]) / (m_u - 1).
    scale = 1.0 / (m - 1.0)
    n_all = many @ counts
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
    point = float(alpha(many @ observed_by_unit(full_delta), n_all, full_delta))
    results: list[Any] = []
    groups = len(many)
    # Resampling U units with replacement draws each group's count from a multinomial over the
    # groups' shares: K numbers a resample instead of U. Many groups (numeric golds of many
    # values): draw the units themselves, a chunk of resamples at a time.
    by_group = groups * 20 <= size
    chunk = RESAMPLES if by_group else max(1, min(RESAMPLES, 4_000_000 // max(size, 1)))
    done = 0
    fixed = None if level == "ordinal" else observed_by_unit(full_delta)
    pair_sums = None
    if level == "ordinal":
        # per-group coincidences, flattened: (K, V*V)
        coincidence = (
            np.einsum("uc,uk->uck", counts, counts) - np.einsum("uc,ck->uck", counts, np.eye(width))
        ) * scale[:, None, None]
        pair_sums = coincidence.reshape(groups, width * width)
    while done < RESAMPLES:
        take = min(chunk, RESAMPLES - done)
        if by_group:
            weights = rng.multinomial(size, many / size, size=take).astype(float)
        else:
            picks = which[rng.integers(0, size, size=(take, size))]
            picks += (np.arange(take) * groups)[:, None]
            weights = np.bincount(picks.ravel(), minlength=take * groups).reshape(take, groups)
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


def _pairs(tally: dict[tuple[str, str], list[int]], min_shared: int) -> list[dict[str, Any]]:
    """The per-pair table: each two annotators, the records they share and how many alike."""
    return [
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


def _collect(
    evalset: EvalSet, level: str, findings: list[Finding]
) -> tuple[
    list[int],
    list[int],
    list[tuple[tuple[str, ...], tuple[int, ...]]],
    dict[Key, int],
    dict[tuple[str, str], list[int]],
    bool,
]:
    """One pass over the annotated records: the record findings appended to ``findings``; the
    rows with two or more usable annotations, each one's signature (its annotators and value
    codes) as an index into the signatures, in order, the codebook (a gold as a
    JSON value, `value_key`, to its code), the pair tally, and whether any record is annotated.
    This runs once a record, so it builds as little as it can."""
    rows: list[int] = []
    row_signature: list[int] = []
    signatures: dict[tuple[tuple[str, ...], tuple[int, ...]], int] = {}
    signed = signatures.setdefault
    codebook: dict[Key, int] = {}
    code = codebook.setdefault
    tally: dict[tuple[str, str], list[int]] = {}
    numeric = level != "nominal"
    any_annotated = False
    kept = evalset.kept
    for row in sorted(kept):
        example = kept[row]
        label = example.label
        annotations = label.annotations
        if not annotations:
            continue
        any_annotated = True
        golds = [
            gold if gold.__class__ is str else value_key(gold)
            for gold in [a.gold for a in annotations]
        ]
        settled = label.adjudicated_by is not None
        if not settled:
            if len(set(golds)) > 1:
                shown = ", ".join(
                    f"{escape(a.by)}: {escape(json.dumps(a.gold, ensure_ascii=False))}"
                    for a in annotations
                )
                findings.append(
                    evalset.finding(
                        row,
                        f"its annotations disagree ({shown}) and nobody settled them",
                        "have someone adjudicate the gold and name them in label.adjudicated_by",
                        NAME,
                    )
                )
            if value_key(example.gold) not in golds:
                findings.append(
                    evalset.finding(
                        row,
                        "its gold equals none of its annotations, and nobody adjudicated it",
                        "set the gold to the annotators' answer, or name who decided it in "
                        "label.adjudicated_by",
                        NAME,
                    )
                )
        if len(golds) < 2:
            continue
        if numeric:
            words = [
                a.by for a, key in zip(annotations, golds, strict=True) if _number(key) is None
            ]
            for by in words:
                findings.append(
                    evalset.finding(
                        row,
                        f"annotation of {escape(by)} is not a number, which agreement.level "
                        f"{level} needs",
                        "write numeric golds, or set policy.agreement.level: nominal",
                        NAME,
                    )
                )
            if words:
                continue
        rows.append(row)
        # Records alike in annotators and golds are one signature: the pairs and the alpha
        # groups are worked out once a signature, not once a record.
        names = tuple([a.by for a in annotations])
        signature = (names, tuple([code(key, len(codebook)) for key in golds]))
        row_signature.append(signed(signature, len(signatures)))
    seen = [0] * len(signatures)
    for index in row_signature:
        seen[index] += 1
    for (names, codes), index in signatures.items():
        times = seen[index]
        for i in range(len(names) - 1):
            a = names[i]
            for j in range(i + 1, len(names)):
                b = names[j]
                pair = (a, b) if a < b else (b, a)
                counts = tally.get(pair)
                if counts is None:
                    counts = tally[pair] = [0, 0]
                counts[0] += times
                if codes[i] == codes[j]:
                    counts[1] += times
    return rows, row_signature, list(signatures), codebook, tally, any_annotated


def _describe(found: dict[str, Any]) -> str:
    low, high = found["interval"]
    return f"alpha {found['alpha']:.3f} (95% CI {low:.3f}-{high:.3f}, {found['records']} records)"


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    settings = policy.agreement
    level, floor = settings.level, settings.min_alpha
    findings: list[Finding] = []
    import_free = _collect(evalset, level, findings)
    rows, row_signature, signatures, codebook, tally, any_annotated = import_free
    data: dict[str, Any] = {"level": level, "records": len(rows)}
    if not any_annotated:
        return CheckResult(skipped="no record carries label.annotations", data=data)
    if len(rows) < settings.min_items:
        reason = (
            f"{len(rows)} records with two or more annotations, fewer than "
            f"agreement.min_items ({settings.min_items}): alpha over so few is noise"
        )
        if findings:
            data["skipped"] = reason
            return CheckResult(findings=ordered(findings), data=data)
        return CheckResult(skipped=reason, data=data)
    import numpy as np

    keys = list(codebook)
    if level == "nominal":
        order = list(range(len(keys)))
        values = [float(code) for code in order]
    else:
        order = sorted(range(len(keys)), key=lambda code: _number(keys[code]) or 0.0)
        values = [_number(keys[code]) or 0.0 for code in order]
    rank = [0] * len(keys)
    for position, code in enumerate(order):
        rank[code] = position
    groups: dict[tuple[int, ...], int] = {}
    group = groups.setdefault
    group_of = np.asarray(
        [group(tuple(sorted([rank[c] for c in codes])), len(groups)) for _n, codes in signatures],
        dtype=np.intp,
    )
    which = group_of[np.asarray(row_signature, dtype=np.intp)]
    counts = np.zeros((len(groups), len(keys)))
    for values_of, index in groups.items():
        for code in values_of:
            counts[index, code] += 1

    def measure(mask: Any) -> dict[str, Any]:
        chosen = which if mask is None else which[mask]
        many = np.bincount(chosen, minlength=len(groups)).astype(float)
        present = many > 0
        if np.count_nonzero(counts[present].sum(axis=0)) < 2:
            return {"records": len(chosen), "skipped": "every annotation gives the same value"}
        remap = np.cumsum(present) - 1
        sub_counts, sub_many, sub_which = counts[present], many[present], remap[chosen]
        value = grouped_alpha(sub_counts, sub_many, values, level)
        _point, (low, high) = grouped_interval(sub_counts, sub_many, sub_which, values, level)
        return {
            "alpha": _rounded(value),
            "interval": [_rounded(low), _rounded(high)],
            "records": len(chosen),
        }

    whole = measure(None)
    data.update(whole)
    if "skipped" in whole:
        reason = f"{whole['skipped']}: alpha is undefined without variation"
        if findings:
            return CheckResult(findings=ordered(findings), data=data)
        return CheckResult(skipped=reason, data=data)
    pairs = _pairs(tally, settings.min_items)
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
    origin_of = np.asarray([evalset.origins.codes[row] for row in rows])
    for code, origin in sorted(enumerate(evalset.origins.values), key=lambda item: item[1]):
        mask = origin_of == code
        chosen = int(mask.sum())
        if not chosen:
            continue
        if chosen < settings.min_items:
            origins[origin] = {
                "records": chosen,
                "skipped": f"{chosen} records, fewer than agreement.min_items "
                f"({settings.min_items})",
            }
            continue
        origins[origin] = measure(mask)
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
        if "alpha" in found and found["alpha"] < floor and found["records"] < len(rows):
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
