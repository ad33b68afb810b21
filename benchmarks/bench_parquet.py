"""Parquet load benchmark: the JSONL benchmark's set written as Parquet the way users write it,
against the orjson floor of the same rows as JSONL, measured in the same run.

The same N examples as ``bench_load.py`` (mixed origins, ``label.at`` dates, synthetic rows) are
written as JSONL, which the floor (a bare ``orjson`` read of every line) parses, and then, from
one JSONL file of all of them, as two Parquet files, each by a child process (so this process's
memory does not leak into the measured runs):

- ``read_json``: ``pyarrow.json.read_json`` and ``pyarrow.parquet.write_table``, the inferred
  schema (``label.at`` becomes ``timestamp[s]``) and one row group for the whole file;
- ``datasets``: a ``datasets.Dataset`` of the same rows and ``Dataset.to_parquet``, as Hugging
  Face users write it (its row groups, its schema metadata).

``pytest --evalmix`` then runs on a set of each, alternating with the floor; the minimum of each
counts, and the peak RSS is the worst. The goal: at most 2.0 times the floor and 300 MB each.
Needs pyarrow and datasets. The load average is printed: on a shared machine only ratios of
the same run mean anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import bench_load

RATIO_GOAL = 2.0
MANIFEST = "evalmix: 1\nname: bench\ndata:\n  - data/set.parquet\n"

# Each runs in a child: argv is the JSONL of every record, the Parquet file to write, a cache
# folder (datasets writes an Arrow cache of what it reads).
WRITERS = {
    "read_json": """\
import sys
import pyarrow.json, pyarrow.parquet
table = pyarrow.json.read_json(sys.argv[1])
pyarrow.parquet.write_table(table, sys.argv[2], row_group_size=max(1, table.num_rows))
print(table.schema.field("label").type)
""",
    "datasets": """\
import sys
import datasets, pyarrow.json
datasets.disable_progress_bars()
# (Dataset.from_json infers a schema per chunk, and the first chunks have no synthetic rows)
dataset = datasets.Dataset(pyarrow.json.read_json(sys.argv[1]))
dataset.to_parquet(sys.argv[2])
print(dataset.features["label"])
""",
}


def write_parquet(python: str, writer: str, records: Path, root: Path, cache: Path) -> int:
    """A rootdir whose set is one Parquet file written by ``writer``; its size in bytes."""
    (root / "data").mkdir(parents=True)
    (root / "pyproject.toml").write_text(bench_load.PYPROJECT, encoding="utf-8")
    (root / "bench.evalmix.yaml").write_text(MANIFEST, encoding="utf-8")
    target = root / "data" / "set.parquet"
    done = subprocess.run(
        [python, "-c", WRITERS[writer], str(records), str(target), str(cache)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{writer} could not write the file:\n{done.stderr[-2000:]}")
    print(f"{writer}: label is {done.stdout.strip()}", flush=True)
    return target.stat().st_size


def concatenate(jsonl_root: Path, target: Path) -> None:
    with target.open("wb") as out:
        for path in sorted((jsonl_root / "data").glob("*.jsonl")):
            with path.open("rb") as part:
                while chunk := part.read(bench_load.CHUNK_BYTES):
                    out.write(chunk)


def bench(root: Path, n: int, python: str, repeat: int) -> int:
    jsonl_root = root / "jsonl"
    jsonl_root.mkdir()
    start = time.perf_counter()
    jsonl_bytes = bench_load.generate(jsonl_root, n, False)
    every = root / "every.jsonl"
    concatenate(jsonl_root, every)
    sizes = {
        writer: write_parquet(python, writer, every, root / writer, root / "cache")
        for writer in WRITERS
    }
    every.unlink()
    print(
        f"wrote {n:,} examples: JSONL {jsonl_bytes / 1e6:.1f} MB, "
        + ", ".join(f"{w} Parquet {size / 1e6:.1f} MB" for w, size in sizes.items())
        + f" in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    floors: list[float] = []
    floor_cpus: list[float] = []
    cpus: dict[str, list[float]] = {writer: [] for writer in WRITERS}
    times: dict[str, list[float]] = {writer: [] for writer in WRITERS}
    peaks: dict[str, list[float]] = {writer: [] for writer in WRITERS}
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-log-") as logdir:
        log, floor_log = Path(logdir) / "pytest.log", Path(logdir) / "floor.log"
        for attempt in range(1, repeat + 1):
            floor = bench_load.run_floor(python, jsonl_root, floor_log)
            load = os.getloadavg()[0]
            line = f"run {attempt}/{repeat} (load {load:.2f}): floor {floor.seconds:.2f} s"
            if floor.exit_code != 0:
                print("\n".join(floor.tail), file=sys.stderr)
                return 1
            floors.append(floor.seconds)
            floor_cpus.append(floor.cpu)
            for writer in WRITERS:
                cand = bench_load.run_candidate(python, root / writer, log, 0)
                if cand.exit_code != 0:
                    print("\n".join(cand.tail), file=sys.stderr)
                    return 1
                times[writer].append(cand.seconds)
                cpus[writer].append(cand.cpu)
                peaks[writer].append(cand.rss_mb or 0.0)
                line += f", {writer} {cand.seconds:.2f} s {cand.rss_mb or 0.0:.0f} MB"
            print(line, flush=True)
    floor_s = min(floors)
    print(f"\nload average {os.getloadavg()}")
    print(f"{'figure':<22} {'value':>10}  goal")
    print(f"{'N':<22} {n:>10,}")
    print(f"{'JSONL floor s':<22} {floor_s:>10.2f}")
    floor_cpu = min(floor_cpus)
    print(f"{'JSONL floor CPU s':<22} {floor_cpu:>10.2f}")
    ok = True
    for writer in WRITERS:
        best, peak = min(times[writer]), max(peaks[writer])
        ratio = best / floor_s
        print(f"{writer + ' s':<22} {best:>10.2f}")
        print(f"{writer + ' ratio':<22} {ratio:>10.2f}  <= {RATIO_GOAL}")
        print(f"{writer + ' RSS MB':<22} {peak:>10.1f}  <= {bench_load.RSS_GOAL_MB:.0f}")
        cpu = min(cpus[writer])
        print(f"{writer + ' CPU s':<22} {cpu:>10.2f}  all its processes")
        print(f"{writer + ' CPU ratio':<22} {cpu / floor_cpu:>10.2f}  for a loaded machine")
        ok = ok and ratio <= RATIO_GOAL and peak <= bench_load.RSS_GOAL_MB
    print()
    for writer in WRITERS:
        ratio = min(times[writer]) / floor_s
        print(f"{writer} ratio {bench_load.verdict(ratio <= RATIO_GOAL)}")
        peak = max(peaks[writer])
        print(f"{writer} peak RSS {bench_load.verdict(peak <= bench_load.RSS_GOAL_MB)}")
    return 0 if ok else 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=bench_load.example_count, default=1_000_000)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--repeat", type=bench_load.at_least_one, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-parquet-") as tmp:
        return bench(Path(tmp), args.n, args.python, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
