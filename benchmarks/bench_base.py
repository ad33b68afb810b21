"""What ``--evalmix-base=REF`` costs: the same run with and without the comparison with REF.

The healthy set of `bench_load` (N examples, 50/25/25) is committed as branch ``base``; then 1%
of its records are changed (a gold relabelled and signed, so every check still passes), a few
removed and added, and that is committed on ``change``. Two child processes are timed on the
result: ``pytest --evalmix`` and ``pytest --evalmix --evalmix-base=base``. The goal: the second
takes at most twice as long as the first. See benchmarks/README.md.
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

import orjson
from bench_load import CHUNK_BYTES, generate, timed

RATIO_GOAL = 2.0
CHANGED_EVERY = 100  # 1% of the records
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, check=True)


def change(path: Path) -> int:
    """Relabel every 100th record (a new gold, signed with a new label.by and label.at), drop
    one of every 1,000 others and add as many new ones. Returns the records changed."""
    changed = 0
    tmp = path.with_suffix(".tmp")
    with path.open("rb") as src, tmp.open("wb") as out:
        buf = bytearray()
        for i, line in enumerate(src):
            if i % CHANGED_EVERY == 0:
                rec = orjson.loads(line)
                rec["gold"] = rec["gold"] + " escalate=yes"
                rec["label"] = {**rec["label"], "by": "bench-relabeller", "at": "2026-11-20"}
                line = orjson.dumps(rec) + b"\n"
                changed += 1
            elif i % 1000 == 1:
                rec = orjson.loads(line)
                rec["id"] = rec["id"] + "-new"
                line = orjson.dumps(rec) + b"\n"
                changed += 1
            buf += line
            if len(buf) >= CHUNK_BYTES:
                out.write(buf)
                buf.clear()
        out.write(buf)
    tmp.replace(path)
    return changed


def bench(root: Path, n: int, python: str, repeat: int) -> int:
    start = time.perf_counter()
    size = generate(root, n, results=False)  # the data alone: no results file to pad both runs
    git(root, "init", "-q", "-b", "base")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-gpg-sign", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    changed = sum(change(p) for p in sorted((root / "data").glob("*.jsonl")))
    git(root, "commit", "-q", "-a", "--no-gpg-sign", "-m", "change")
    print(
        f"{n:,} examples ({size / 1e6:.0f} MB) at base and at change, {changed:,} changed, "
        f"set up in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    plain = [python, "-m", "pytest", "--evalmix", "-p", "no:cacheprovider", "-q", str(root)]
    based = [*plain, "--evalmix-base=base"]
    times: dict[str, list[float]] = {"without": [], "with": []}
    cpus: dict[str, list[float]] = {"without": [], "with": []}
    peaks: dict[str, float] = {"without": 0.0, "with": 0.0}
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-log-") as logdir:
        log = Path(logdir) / "pytest.log"
        for attempt in range(1, repeat + 1):
            for name, cmd in (("without", plain), ("with", based)):
                seconds, cpu, code, rss = timed(cmd, root, log)
                if code != 0:
                    print(f"pytest {name} --evalmix-base exited with {code}:", file=sys.stderr)
                    print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                    return 1
                times[name].append(seconds)
                cpus[name].append(cpu)
                peaks[name] = max(peaks[name], rss)
            print(
                f"run {attempt}/{repeat}: without {times['without'][-1]:.2f} s "
                f"(CPU {cpus['without'][-1]:.2f} s), with --evalmix-base "
                f"{times['with'][-1]:.2f} s (CPU {cpus['with'][-1]:.2f} s)",
                flush=True,
            )
    without, with_base = min(times["without"]), min(times["with"])
    ratio = with_base / without
    print()
    print(f"{'figure':<28} {'value':>8}  goal")
    print(f"{'without --evalmix-base s':<28} {without:>8.2f}")
    print(f"{'with --evalmix-base s':<28} {with_base:>8.2f}")
    print(f"{'ratio':<28} {ratio:>8.2f}  <= {RATIO_GOAL}")
    cpu_without, cpu_with = min(cpus["without"]), min(cpus["with"])
    print(f"{'CPU s without / with':<28} {cpu_without:>4.2f}/{cpu_with:<4.2f}")
    print(f"{'CPU ratio':<28} {cpu_with / cpu_without:>8.2f}")
    print(f"{'peak RSS MB without / with':<28} {peaks['without']:>4.0f}/{peaks['with']:<4.0f}")
    print()
    print(f"ratio {'PASS' if ratio <= RATIO_GOAL else 'FAIL'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=200_000, help="examples (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; best is kept")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the children")
    args = parser.parse_args(argv)
    if args.n < 1000 or args.repeat < 1:
        parser.error("--n must be at least 1000 and --repeat at least 1")
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-base-") as tmp:
        return bench(Path(tmp), args.n, args.python, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
