"""Near copies: inputs whose word-shingle Jaccard similarity reaches a threshold, found with
MinHash LSH and confirmed exactly (docs/checks.md, "duplicates" and "leakage").

MinHash LSH is `rensa`'s (a Rust implementation; benchmarks/README.md compares it with
`datasketch` on the same file): its bulk digest matrix and duplicate flags cost about a
microsecond a record, so a million inputs are indexed without a Python object each. Only the
rows it flags (those that share an LSH band with another row) are banded again here to name
their candidates, and every candidate pair is then confirmed on the exact shingle sets of the
normal forms, so a reported pair is never an estimate. numpy and rensa are imported only here,
only when ``near`` is set.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

NUM_PERM = 32
SEED = 20261204


def shingles(normal: str, k: int) -> frozenset[str]:
    """The word ``k``-grams of a normal form; a text of fewer words is one shingle."""
    words = normal.split()
    if len(words) <= k:
        return frozenset((" ".join(words),))
    return frozenset(" ".join(words[i : i + k]) for i in range(len(words) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _bands(threshold: float) -> int:
    """Bands of the LSH index: more bands for a lower threshold, so recall stays high."""
    for bands in (4, 8, 16):
        rows = NUM_PERM // bands
        # The chance that a pair at the threshold shares a band.
        if 1 - (1 - threshold**rows) ** bands >= 0.99:
            return bands
    return 16


def _token_hashes(texts: Sequence[str], k: int) -> tuple[object, object]:
    """Flat 64-bit hashes of every text's shingles, and each text's offset into them.

    Words are hashed with the interpreter's own hash (consistent within this process, which
    is all MinHash needs); a shingle's hash is a polynomial of its words' hashes, computed over
    the whole flat array at once.
    """
    import numpy as np

    flat: array[int] = array("q")
    counts: array[int] = array("q")
    add, count, pad = flat.extend, counts.append, [""] * k
    for text in texts:
        words = text.split()
        if len(words) < k:
            words = (words + pad)[:k]
        add(map(hash, words))
        count(len(words))
    word_hashes = np.frombuffer(flat, dtype=np.uint64)
    lengths = np.frombuffer(counts, dtype=np.int64)
    ends = np.cumsum(lengths)
    span = len(word_hashes) - k + 1
    tokens = np.zeros(max(span, 0), dtype=np.uint64)
    primes = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5)
    with np.errstate(over="ignore"):
        for j in range(k):
            prime = np.uint64(primes[j % len(primes)])
            tokens = tokens * np.uint64(1099511628211) + word_hashes[j : j + span] * prime
    valid = np.arange(span) + k <= np.repeat(ends, lengths)[:span]
    offsets = np.zeros(len(lengths) + 1, dtype=np.uint64)
    np.cumsum(lengths - k + 1, out=offsets[1:])
    return tokens[valid], offsets


def _digests(texts: Sequence[str], k: int) -> object:
    import rensa

    tokens, offsets = _token_hashes(texts, k)
    return rensa.RMinHash.digest_matrix_from_flat_token_hashes(tokens, offsets, NUM_PERM, SEED)


def buckets(texts: Sequence[str], threshold: float, k: int) -> list[list[int]]:
    """Groups of indices that MinHash LSH puts in one band bucket (unconfirmed), each sorted,
    each of at least two; a row may be in several."""
    if len(texts) < 2:
        return []
    import rensa

    bands = _bands(threshold)
    index = rensa.RMinHashLSH(threshold, NUM_PERM, bands)
    matrix = _digests(texts, k)
    index.insert_matrix(matrix)
    flags = index.query_duplicate_flags_matrix(matrix)
    flagged = [i for i, flag in enumerate(flags) if flag]
    if not flagged:
        return []
    rows = _digests([texts[i] for i in flagged], k).to_rows()  # type: ignore[attr-defined]
    width = NUM_PERM // bands
    found: set[tuple[int, ...]] = set()
    for band in range(bands):
        by_band: dict[tuple[int, ...], list[int]] = {}
        for at, digest in enumerate(rows):
            by_band.setdefault(tuple(digest[band * width : (band + 1) * width]), []).append(
                flagged[at]
            )
        found.update(tuple(members) for members in by_band.values() if len(members) > 1)
    return sorted(list(members) for members in found)


def near_pairs(texts: Sequence[str], threshold: float, k: int) -> list[tuple[int, int, float]]:
    """Confirmed near copies ``(i, j, jaccard)``, ``i < j``, ``jaccard >= threshold``.

    Within a bucket each member is confirmed against the bucket's first member and against the
    member before it, not against every other: a bucket of a thousand alike inputs costs two
    thousand comparisons, not half a million, and union-find (`UnionFind`) still joins them
    into one group.
    """
    confirmed: dict[tuple[int, int], float] = {}
    cache: dict[int, frozenset[str]] = {}

    def of(i: int) -> frozenset[str]:
        found = cache.get(i)
        if found is None:
            found = cache[i] = shingles(texts[i], k)
        return found

    for members in buckets(texts, threshold, k):
        head = members[0]
        for at in range(1, len(members)):
            for other in {head, members[at - 1]}:
                pair = (other, members[at])
                if pair not in confirmed:
                    similarity = jaccard(of(other), of(members[at]))
                    if similarity >= threshold:
                        confirmed[pair] = similarity
    return sorted((i, j, similarity) for (i, j), similarity in confirmed.items())


class UnionFind:
    """Groups from pairs, near-linear: a set where everything is alike stays one group."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index is the root: the first record, in file order, heads the group.
            low, high = (ra, rb) if ra < rb else (rb, ra)
            self.parent[high] = low

    def groups(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for x in self.parent:
            found.setdefault(self.find(x), []).append(x)
        for root, members in found.items():
            if root not in members:
                members.append(root)
            members.sort()
        return found
