"""The ``duplicates`` check at a million examples (docs/performance.md, benchmarks/README.md).

One JSONL file of N records whose inputs are 20 random words, as issue "duplicates and leaks"
asks, with 1,000 planted exact copies (re-cased, re-spaced) and 1,000 planted near copies
(3-shingle Jaccard 0.89 to 0.95: the last word replaced, or a word appended). Measured, against
the orjson floor of the same file in the same run:

- ``pytest --evalmix`` with ``duplicates.near: 0.8`` (goal at most 5x the floor, 1 GB peak),
  and the share of planted pairs it finds (at least 95%) and the records it names outside them
  (none);
- the same set without ``near``, with ``-k duplicates`` deselected and selected: the cost of the
  exact check (goal at most 10% more);
- rensa's own ``RMinHashLSH`` used the plain way (one ``RMinHash`` per record, ``insert``, then
  ``query``) on the same inputs, beside ours.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

FLOOR = """\
import sys, orjson
with open(sys.argv[1], "rb") as f:
    for line in f:
        orjson.loads(line)
"""
PLANTED = 1000


def write_set(root: Path, n: int, near: bool) -> tuple[set[str], list[str]]:
    """The set, its manifest, and the ids of the planted copies; also returns every input."""
    rng = random.Random(20261204)
    vocabulary = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9)))
        for _ in range(60000)
    ]
    texts = [" ".join(rng.choices(vocabulary, k=20)) for _ in range(n - 2 * PLANTED)]
    planted: list[tuple[int, str]] = []
    for index in rng.sample(range(len(texts)), 2 * PLANTED):
        if len(planted) < PLANTED:
            planted.append((index, "  " + texts[index].upper() + " "))
        elif len(planted) % 2:
            planted.append((index, texts[index] + " " + rng.choice(vocabulary)))
        else:
            words = texts[index].split()
            words[-1] = rng.choice(vocabulary) + "x"
            planted.append((index, " ".join(words)))
    ids = [f"r{i:07d}" for i in range(len(texts))]
    rows = [(ids[i], text) for i, text in enumerate(texts)]
    copies = {f"copy-{k:04d}": (ids[index], text) for k, (index, text) in enumerate(planted)}
    rows += [(cid, text) for cid, (_, text) in copies.items()]
    rng.shuffle(rows)
    origins = ("production", "production", "synthetic", "adversarial")
    (root / "data").mkdir(parents=True, exist_ok=True)
    with (root / "data" / "set.jsonl").open("wb") as out:
        for number, (rid, text) in enumerate(rows):
            out.write(
                orjson.dumps(
                    {
                        "id": rid,
                        "input": text,
                        "gold": "x",
                        "origin": origins[number % 4],
                        "label": {"source": "human", "by": "ann", "at": "2026-10-01"},
                    }
                )
                + b"\n"
            )
    policy = "policy:\n  mix: {tolerance: 0.5}\n"
    if near:
        policy += "  duplicates: {near: 0.8}\n"
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n", encoding="utf-8")
    (root / "bench.evalmix.yaml").write_text(
        "evalmix: 1\nname: bench\ndata: [data/set.jsonl]\n" + policy, encoding="utf-8"
    )
    return set(copies) | {original for original, _ in copies.values()}, [t for _, t in rows]


def timed(cmd: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process of the run."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        return time.perf_counter() - start, usage.ru_maxrss * 1024 / 1e6


def pytest_cmd(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "--evalmix",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-q",
        "--tb=line",
        *extra,
    ]


def plain_rensa(texts: list[str]) -> float:
    """rensa's LSH the way its README uses it: one RMinHash per record, insert, then query."""
    import rensa

    start = time.perf_counter()
    index = rensa.RMinHashLSH(0.8, 32, 8)
    hashes = []
    for key, text in enumerate(texts):
        words = text.lower().split()
        minhash = rensa.RMinHash(num_perm=32, seed=42)
        minhash.update([" ".join(words[i : i + 3]) for i in range(len(words) - 2)])
        index.insert(key, minhash)
        hashes.append(minhash)
    for minhash in hashes:
        index.query(minhash)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        planted, texts = write_set(root, args.n, near=True)
        log = root / "log.txt"
        floor = min(
            timed([sys.executable, "-c", FLOOR, str(root / "data" / "set.jsonl")], root, log)[0]
            for _ in range(args.repeat)
        )
        runs = [timed(pytest_cmd(), root, log) for _ in range(args.repeat)]
        output = log.read_text(encoding="utf-8", errors="replace")
        named = set(re.findall(r"data/set\.jsonl:\d+: (r\d{7}|copy-\d{4}): ", output))
        named |= set(re.findall(r"as (r\d{7}|copy-\d{4}) at data/set", output))
        named |= set(re.findall(r"of (r\d{7}|copy-\d{4}) at data/set", output))
        found = len(named & planted) / len(planted)
        outside = sorted(named - planted)
        near_time = min(seconds for seconds, _ in runs)
        near_peak = max(peak for _, peak in runs)
        (root / "bench.evalmix.yaml").write_text(
            "evalmix: 1\nname: bench\ndata: [data/set.jsonl]\npolicy:\n  mix: {tolerance: 0.5}\n",
            encoding="utf-8",
        )
        without = []
        with_exact = []
        for _ in range(args.repeat):
            without.append(timed(pytest_cmd("-k", "not duplicates"), root, log)[0])
            with_exact.append(timed(pytest_cmd(), root, log)[0])
        rensa_time = plain_rensa(texts)
    print(f"orjson floor of the file: {floor:.2f} s ({args.n:,} records)")
    print(
        f"with near 0.8: {near_time:.2f} s = {near_time / floor:.2f}x the floor (goal <= 5), "
        f"peak {near_peak:.0f} MB (goal <= 1000)"
    )
    print(
        f"planted records named: {found:.1%} (goal >= 95%); "
        f"named outside them: {len(outside)} {outside[:3]}"
    )
    exact = min(with_exact) / min(without)
    print(
        f"exact only: {min(with_exact):.2f} s against {min(without):.2f} s without the check: "
        f"{exact:.3f}x (goal <= 1.10)"
    )
    print(f"rensa's RMinHashLSH used the plain way on the same inputs: {rensa_time:.2f} s")
    print(f"load average at end: {os.getloadavg()}")
    ok = near_time / floor <= 5 and near_peak <= 1000 and found >= 0.95 and not outside
    return 0 if ok and exact <= 1.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
