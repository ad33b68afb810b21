"""``leakage``: an eval input that also sits in the training data, the few-shot examples, the
prompt, or a set of another split.

An input the model has already seen measures memory, not skill; so does a dev set that shares
inputs with the test set. The check is collected only for a set that names ``leakage.against``
files or declares a ``split``. Matching is on the normal forms of `model.normalise` (the same
as ``duplicates``), found through the 64-bit keys every loader stores and confirmed exactly;
with ``leakage.near``, near copies of against entries count too, found with MinHash LSH and
confirmed on exact shingle sets (`similar`). See docs/checks.md, "leakage".
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.records.similar import near_pairs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.evalset.against import Against
from pytest_evalmix.evalset.sources import inputs as read_inputs
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.normalise import key_of_normal, normal_form
from pytest_evalmix.model.policy import Policy

NAME = "leakage"
_FIX = (
    "an eval input the model has seen measures memory, not skill: remove it from the eval set "
    "or from the other file"
)
_SPLIT_FIX = (
    "sets of different splits must share no input: keep the example in one split and retire "
    "it from the other"
)


def _normals(evalset: EvalSet, rows: Iterable[int] | None) -> dict[int, str]:
    chosen = None if rows is None else set(rows)
    return {row: normal_form(given) for row, given, _ in read_inputs(evalset, chosen)}


def _against(evalset: EvalSet, against: Against, near: float | None, k: int) -> list[Finding]:
    findings: list[Finding] = []
    reported: set[int] = set()
    if against.matches:
        by_normal = {entry.normal: entry for entry in against.matches}
        keys = {key_of_normal(entry.normal) for entry in against.matches}
        rows = [row for row, key in enumerate(evalset.input_keys) if key in keys]
        for row, normal in sorted(_normals(evalset, rows).items()):
            entry = by_normal.get(normal)
            if entry is not None:
                reported.add(row)
                findings.append(
                    evalset.finding(
                        row,
                        f"the input also appears in {entry.path}:{entry.line}",
                        _FIX,
                        NAME,
                    )
                )
    if near is not None and against.entries and len(evalset):
        mine = _normals(evalset, None)
        rows = sorted(mine)
        texts = [mine[row] for row in rows] + [entry.normal for entry in against.entries]
        count = len(rows)
        best: dict[int, tuple[float, int]] = {}
        for i, j, similarity in near_pairs(texts, near, k):
            if i < count <= j:
                row = rows[i]
                if row not in reported and (row not in best or similarity > best[row][0]):
                    best[row] = (similarity, j - count)
        for row, (similarity, at) in sorted(best.items()):
            entry = against.entries[at]
            findings.append(
                evalset.finding(
                    row,
                    f"the input is a near copy (Jaccard {similarity:.2f} over {k}-word "
                    f"shingles) of {entry.path}:{entry.line}",
                    _FIX,
                    NAME,
                )
            )
    return findings


def _splits(evalset: EvalSet, peers: Iterable[EvalSet]) -> list[Finding]:
    findings: list[Finding] = []
    if evalset.split is None:
        return findings
    mine = set(evalset.input_keys)
    for peer in sorted(peers, key=lambda p: p.manifest):
        if peer.manifest == evalset.manifest or peer.split in (None, evalset.split):
            continue
        shared = mine.intersection(peer.input_keys)
        if not shared:
            continue
        theirs: dict[str, int] = {}
        peer_rows = [row for row, key in enumerate(peer.input_keys) if key in shared]
        for row, normal in sorted(_normals(peer, peer_rows).items()):
            theirs.setdefault(normal, row)
        my_rows = [row for row, key in enumerate(evalset.input_keys) if key in shared]
        for row, normal in sorted(_normals(evalset, my_rows).items()):
            other = theirs.get(normal)
            if other is None:
                continue
            path, line = peer.location(other)
            findings.append(
                evalset.finding(
                    row,
                    f"the input is also in set {peer.name} (split {peer.split}) as "
                    f"{peer.ids[other]} at {path}:{line}",
                    _SPLIT_FIX,
                    NAME,
                )
            )
    return findings


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    findings = list(evalset.against_findings)
    against = inputs.against
    if against is not None:
        findings.extend(against.findings)
        findings.extend(_against(evalset, against, policy.leakage.near, policy.duplicates.shingle))
    findings.extend(_splits(evalset, context.peers))
    return CheckResult(findings=ordered(findings))
