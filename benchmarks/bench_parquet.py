"""Parquet load benchmark: the JSONL benchmark's set, as Parquet, against the same JSONL floor.

The same N examples as ``bench_load.py`` are written twice: as JSONL (what the floor, a bare
``orjson`` read of every line, parses) and as one Parquet file per origin, written from the same
records by a child process (so this process's peak memory does not leak into the measured
child's). ``pytest --evalmix`` then runs on the Parquet set. The goal is the JSONL one: at most
2.5 times the JSONL floor, and at most 300 MB at peak. Needs pyarrow (``pytest-evalmix[arrow]``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import bench_load

MANIFEST = "evalmix: 1\nname: bench\ndata:\n  - data/*.parquet\n"
ROWS_PER_GROUP = 100_000

# Runs in a child: builds Arrow tables from bench_load's own records, a row group at a time.
WRITER_CODE = """\
import sys
import pyarrow as pa, pyarrow.parquet as pq
sys.path.insert(0, sys.argv[1])
import bench_load
out, n, ROWS = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
label = pa.struct([("source", pa.string()), ("by", pa.string()), ("at", pa.string())])
synthetic = pa.struct(
    [("generator", pa.string()), ("method", pa.string()), ("seed_id", pa.string())]
)
schema = pa.schema([
    ("id", pa.string()), ("input", pa.string()), ("gold", pa.string()), ("origin", pa.string()),
    ("label", label), ("tags", pa.list_(pa.string())), ("synthetic", synthetic),
])
n_production, n_synthetic = n // 2, n // 4
counts = {"production": n_production, "synthetic": n_synthetic,
          "adversarial": n - n_production - n_synthetic}
for origin, count in counts.items():
    with pq.ParquetWriter(f"{out}/{origin}.parquet", schema) as writer:
        for start in range(1, count + 1, ROWS):
            stop = min(start + ROWS, count + 1)
            rows = [bench_load.record(origin, i, n_production) for i in range(start, stop)]
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
"""


def write_parquet(python: str, data: Path, n: int) -> int:
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            python,
            "-c",
            WRITER_CODE,
            str(Path(__file__).parent),
            str(data),
            str(n),
            str(ROWS_PER_GROUP),
        ],
        check=True,
    )
    return sum(path.stat().st_size for path in data.glob("*.parquet"))


def bench(root: Path, n: int, python: str, repeat: int) -> int:
    jsonl_root, parquet_root = root / "jsonl", root / "parquet"
    jsonl_root.mkdir()
    parquet_root.mkdir()
    start = time.perf_counter()
    jsonl_bytes = bench_load.generate(jsonl_root, n, False)
    (parquet_root / "pyproject.toml").write_text(bench_load.PYPROJECT, encoding="utf-8")
    (parquet_root / "bench.evalmix.yaml").write_text(MANIFEST, encoding="utf-8")
    parquet_bytes = write_parquet(python, parquet_root / "data", n)
    print(
        f"wrote {n:,} examples: JSONL {jsonl_bytes / 1e6:.1f} MB, Parquet "
        f"{parquet_bytes / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    floors: list[float] = []
    floor_cpus: list[float] = []
    candidates: list[float] = []
    cpus: list[float] = []
    peaks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-log-") as logdir:
        log, floor_log = Path(logdir) / "pytest.log", Path(logdir) / "floor.log"
        for attempt in range(1, repeat + 1):
            floor = bench_load.run_floor(python, jsonl_root, floor_log)
            cand = bench_load.run_candidate(python, parquet_root, log, 0)
            rss = "n/a" if cand.rss_mb is None else f"{cand.rss_mb:.1f} MB"
            print(
                f"run {attempt}/{repeat}: JSONL floor {floor.seconds:.2f} s, evalmix on Parquet "
                f"{cand.seconds:.2f} s, peak RSS {rss}, exit {cand.exit_code}",
                flush=True,
            )
            if floor.exit_code != 0 or cand.exit_code != 0:
                print("\n".join(floor.tail + cand.tail), file=sys.stderr)
                return 1
            floors.append(floor.seconds)
            floor_cpus.append(floor.cpu)
            candidates.append(cand.seconds)
            cpus.append(cand.cpu)
            if cand.rss_mb is not None:
                peaks.append(cand.rss_mb)
    figures = bench_load.Figures("evalmix", 0, min(candidates), max(peaks, default=0.0), min(cpus))
    bench_load.report(n, parquet_bytes, False, min(floors), min(floor_cpus), [figures], None)
    return 0


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
