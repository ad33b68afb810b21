"""What ``evalmix history`` costs: 100 commits of a set, against one plain run of that set.

The healthy set of `bench_load` (N examples, 50/25/25, in three JSONL files) is committed, then
changed COMMITS times, each commit relabelling RECORDS records of one of the files (in turn),
with dates one day apart. Two child processes are timed on the result, alternately:
``pytest --evalmix`` at HEAD, and ``evalmix history bench.evalmix.yaml --format json``. The
goal: history takes at most three times as long as the plain run (best of each, since the
machine may be shared; the load average is printed). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from bench_load import generate, timed

RATIO_GOAL = 3.0
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
START = dt.date(2026, 1, 1)


def git(root: Path, *args: str, date: dt.date = START) -> None:
    stamp = f"{date.isoformat()}T12:00:00+00:00"
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", *args], cwd=root, env=env, check=True)


def build(root: Path, n: int, commits: int, records: int) -> None:
    generate(root, n, results=False)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-gpg-sign", "-m", "start")
    files = sorted((root / "data").glob("*.jsonl"))
    lines = {path: path.read_bytes().splitlines(keepends=True) for path in files}
    for k in range(1, commits + 1):
        path = files[k % len(files)]
        body = lines[path]
        step = max(len(body) // records, 1)
        for j in range(records):
            at = (j * step + k) % len(body)
            rec = orjson.loads(body[at])
            rec["gold"] = f"{rec['gold']} v{k}"
            rec["label"] = {**rec["label"], "by": "bench-relabeller", "at": "2026-11-20"}
            body[at] = orjson.dumps(rec) + b"\n"
        path.write_bytes(b"".join(body))
        git(
            root,
            "commit",
            "-q",
            "-a",
            "--no-gpg-sign",
            "-m",
            f"change {k}",
            date=START + dt.timedelta(days=k),
        )


def bench(root: Path, n: int, commits: int, records: int, python: str, repeat: int) -> int:
    start = time.perf_counter()
    build(root, n, commits, records)
    print(
        f"{n:,} examples, {commits} commits of {records} changed records each, "
        f"set up in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    out = root / "history.json"  # --out must stay inside the rootdir
    plain = [python, "-m", "pytest", "--evalmix", "-p", "no:cacheprovider", "-q", str(root)]
    history = [
        python, "-m", "pytest_evalmix.cli.main", "history", "bench.evalmix.yaml",
        "--format", "json", "--out", str(out),
    ]  # fmt: skip
    times: dict[str, list[float]] = {"plain": [], "history": []}
    cpus: dict[str, list[float]] = {"plain": [], "history": []}
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-log-") as logdir:
        log = Path(logdir) / "run.log"
        for attempt in range(1, repeat + 1):
            for name, cmd in (("plain", plain), ("history", history)):
                seconds, cpu, code, _rss = timed(cmd, root, log)
                if code != 0:
                    print(f"{name} exited with {code}:", file=sys.stderr)
                    print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                    return 1
                times[name].append(seconds)
                cpus[name].append(cpu)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"run {attempt}/{repeat}: pytest --evalmix {times['plain'][-1]:.2f} s "
                f"(CPU {cpus['plain'][-1]:.2f} s), evalmix history {times['history'][-1]:.2f} s "
                f"(CPU {cpus['history'][-1]:.2f} s), load average {load}",
                flush=True,
            )
    rows = json.loads(out.read_text(encoding="utf-8"))["commits"]
    if len(rows) != commits + 1 or any(row["error"] for row in rows):
        print(f"history gave {len(rows)} rows, expected {commits + 1} without error")
        return 1
    plain_s, history_s = min(times["plain"]), min(times["history"])
    ratio = history_s / plain_s
    print()
    print(f"{'figure':<24} {'value':>8}  goal")
    print(f"{'pytest --evalmix s':<24} {plain_s:>8.2f}")
    print(f"{'evalmix history s':<24} {history_s:>8.2f}")
    print(f"{'ratio':<24} {ratio:>8.2f}  <= {RATIO_GOAL}")
    cpu_plain, cpu_history = min(cpus["plain"]), min(cpus["history"])
    print(f"{'CPU s plain / history':<24} {cpu_plain:>4.2f}/{cpu_history:<4.2f}")
    print(f"{'CPU ratio':<24} {cpu_history / cpu_plain:>8.2f}")
    print()
    print(f"ratio {'PASS' if ratio <= RATIO_GOAL else 'FAIL'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="examples (default 100000)")
    parser.add_argument("--commits", type=int, default=100, help="commits after the first")
    parser.add_argument("--records", type=int, default=100, help="records changed per commit")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; best is kept")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the children")
    args = parser.parse_args(argv)
    if args.n < 1000 or args.repeat < 1 or args.commits < 1 or args.records < 1:
        parser.error("--n must be at least 1000; --repeat, --commits, --records at least 1")
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-history-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        return bench(root, args.n, args.commits, args.records, args.python, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
