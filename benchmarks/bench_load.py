"""Load benchmark for pytest-evalmix: how much slower and fatter than parsing the JSONL ourselves.

A healthy eval set of N examples is generated, then two child processes are timed on it: a bare
``orjson`` read of every line (the floor: nothing can load the data faster) and
``pytest --evalmix`` (the candidate). Both pay interpreter start-up, so the ratio between them is
the price of the plugin itself. See benchmarks/README.md for the goals.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

RATIO_GOAL = 2.5
RSS_GOAL_MB = 300.0
CHUNK_BYTES = 4 * 1024 * 1024
TAIL_LINES = 5
TAIL_BYTES = 64 * 1024

# Kept to a single statement list so it can go through ``python -c`` unchanged; the loop is
# what any loader must at least do, so it is the fairest floor.
FLOOR_CODE = """\
import glob, sys, orjson
for p in sorted(glob.glob(sys.argv[1] + "/data/*.jsonl")):
    with open(p, "rb") as f:
        for line in f:
            if line.strip():
                orjson.loads(line)
"""

PYPROJECT = "[tool.pytest.ini_options]\n"
MANIFEST = "evalmix: 1\nname: bench\ndata:\n  - data/*.jsonl\n"

# Fragments are combined by index arithmetic rather than a RNG: the output is reproducible and
# generation stays cheap enough that a million records take seconds, not minutes.
OPENERS = (
    "Hi, I was charged twice",
    "Hello, the app crashes",
    "My password reset link",
    "I can't find the invoice",
    "The export to CSV fails",
    "Our team lost access",
    "Refund still not received",
    "The 2FA code never arrives",
    "Dark mode resets itself",
    "Shipping label has the wrong address",
    "Upgrade button does nothing",
)
MIDDLES = (
    "after the latest update",
    "since yesterday morning",
    "on both iPhone and Android",
    "only in the web app",
    "for every user on our plan",
    "even after clearing the cache",
    "right after adding my card",
    "whenever I switch workspaces",
    "though it was marked fixed",
)
CLOSERS = (
    "please help",
    "what should I do?",
    "this is urgent",
    "can you check?",
    "thanks in advance",
    "any update?",
    "need it by Friday",
)
ROUTES = (
    ("billing", "high"),
    ("technical", "high"),
    ("account", "normal"),
    ("billing", "normal"),
    ("technical", "normal"),
    ("account", "high"),
    ("refunds", "high"),
    ("shipping", "low"),
)
ID_PREFIX = {"production": "prod", "synthetic": "syn", "adversarial": "adv"}
DATES = ("2026-03-14", "2026-05-02", "2026-07-21", "2026-09-09", "2026-10-01")
METHODS = ("paraphrase", "persona-shift", "back-translation")
ATTACKS = ("prompt-injection", "jailbreak", "pii-extraction", "off-topic")


@dataclass
class ChildRun:
    """One timed child process; ``rss_mb`` is None where the OS does not report it."""

    seconds: float
    exit_code: int
    rss_mb: float | None
    tail: list[str]


def ticket_text(i: int) -> str:
    """Gives every record distinct input, as a real set would, so no loader can win by caching."""
    opener = OPENERS[i % len(OPENERS)]
    middle = MIDDLES[(i * 7) % len(MIDDLES)]
    closer = CLOSERS[(i * 13) % len(CLOSERS)]
    return f"{opener} {middle} (#{(i * 2654435761) % 10**7:07d}), {closer}"


def record(origin: str, i: int, n_production: int) -> dict[str, Any]:
    """Shapes a record the way the spec's section 4 expects, so the set passes every check."""
    queue, priority = ROUTES[(i * 3) % len(ROUTES)]
    rec: dict[str, Any] = {
        "id": f"{ID_PREFIX[origin]}-{i:07d}",
        "input": ticket_text(i if origin == "production" else i + 7919 * len(origin)),
        "gold": f"queue={queue} priority={priority}",
        "origin": origin,
        "label": {"source": "human", "by": f"reviewer-{i % 23}", "at": DATES[i % len(DATES)]},
        "tags": [queue],
    }
    if origin == "synthetic":
        rec["synthetic"] = {
            "generator": "claude-opus-4-7",
            "method": METHODS[i % len(METHODS)],
            "seed_id": f"prod-{(i % n_production) + 1:07d}",
        }
    elif origin == "adversarial":
        rec["tags"].append(ATTACKS[i % len(ATTACKS)])
    return rec


def lines(origin: str, count: int, n_production: int) -> Iterator[bytes]:
    for i in range(1, count + 1):
        yield orjson.dumps(record(origin, i, n_production))


def write_jsonl(path: Path, records: Iterator[bytes]) -> int:
    """Writes in large chunks, since per-line writes would make generation the slow part.

    Lines are copied into one buffer at once rather than kept in a list: each ``orjson.dumps``
    result holds a few KiB of spare capacity, and the high-water RSS of this process is
    inherited by the children it launches, which would inflate the measured peak.
    """
    written = 0
    buf = bytearray()
    with path.open("wb") as f:
        for line in records:
            buf += line
            buf += b"\n"
            if len(buf) >= CHUNK_BYTES:
                written += f.write(buf)
                buf.clear()
        written += f.write(buf)
    return written


def generate(root: Path, n: int) -> int:
    """Lays out a complete pytest rootdir so the candidate run needs nothing from the caller."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "bench.evalmix.yaml").write_text(MANIFEST, encoding="utf-8")
    data = root / "data"
    data.mkdir(exist_ok=True)
    n_production = n // 2
    n_synthetic = n // 4
    counts = {
        "production": n_production,
        "synthetic": n_synthetic,
        "adversarial": n - n_production - n_synthetic,
    }
    total = 0
    for origin, count in counts.items():
        total += write_jsonl(data / f"{origin}.jsonl", lines(origin, count, n_production))
    return total


def tail_of(path: Path) -> list[str]:
    """Reads only the end of the log: a broken plugin may print one line per record."""
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - TAIL_BYTES))
        text = f.read().decode("utf-8", errors="replace")
    return text.splitlines()[-TAIL_LINES:]


def maxrss_mb(ru_maxrss: int) -> float:
    """ru_maxrss is KiB on Linux but bytes on macOS; MB here means 10**6 bytes, as in the goal."""
    scale = 1 if sys.platform == "darwin" else 1024
    return ru_maxrss * scale / 1e6


def run_floor(python: str, root: Path) -> ChildRun:
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", FLOOR_CODE, str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    seconds = time.perf_counter() - start
    tail = proc.stderr.decode("utf-8", errors="replace").splitlines()[-TAIL_LINES:]
    return ChildRun(seconds, proc.returncode, None, tail)


def run_candidate(python: str, root: Path, log: Path) -> ChildRun:
    """Reaps the child with wait4 so the peak RSS is pytest's own, not this script's."""
    cmd = [python, "-m", "pytest", "--evalmix", "-p", "no:cacheprovider", "-q", str(root)]
    # Output goes to a file, not a pipe: nothing has to drain it while we block in wait4.
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    exit_code = os.waitstatus_to_exitcode(status)
    proc.returncode = exit_code  # already reaped; stops Popen from waiting on a stale pid
    return ChildRun(seconds, exit_code, maxrss_mb(usage.ru_maxrss), tail_of(log))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(n: int, data_bytes: int, floor: float, candidate: float, rss_mb: float) -> None:
    ratio = candidate / floor
    rows = [
        ("N", f"{n:,}", ""),
        ("data MB", f"{data_bytes / 1e6:.1f}", ""),
        ("floor s", f"{floor:.2f}", ""),
        ("evalmix s", f"{candidate:.2f}", ""),
        ("ratio", f"{ratio:.2f}", f"<= {RATIO_GOAL}"),
        ("peak RSS MB", f"{rss_mb:.1f}", f"<= {RSS_GOAL_MB:.0f}"),
    ]
    print()
    print(f"{'figure':<12} {'value':>12}  goal")
    for name, value, goal in rows:
        print(f"{name:<12} {value:>12}  {goal}".rstrip())
    print()
    print(f"ratio {verdict(ratio <= RATIO_GOAL)}")
    print(f"peak RSS {verdict(rss_mb <= RSS_GOAL_MB)}")


def example_count(text: str) -> int:
    value = int(text)
    if value < 4:
        raise argparse.ArgumentTypeError("must be at least 4, so every origin gets an example")
    return value


def at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--n", type=example_count, default=200_000, help="examples (default 200000)"
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="write the set to DIR (new or empty) and keep it"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for both children (default: this)"
    )
    parser.add_argument(
        "--repeat", type=at_least_one, default=3, help="runs of each child; best time is kept"
    )
    args = parser.parse_args(argv)
    keep: Path | None = args.keep
    if keep is not None and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        # Stray files in the rootdir could make the set unhealthy, and a failure would then look
        # like a plugin bug.
        parser.error(f"--keep {keep}: must not exist yet or be an empty directory")
    return args


def bench(root: Path, n: int, python: str, repeat: int) -> int:
    start = time.perf_counter()
    data_bytes = generate(root, n)
    print(
        f"wrote {n:,} examples, {data_bytes:,} bytes ({data_bytes / 1e6:.1f} MB) to {root} "
        f"in {time.perf_counter() - start:.1f} s",
        flush=True,
    )

    floors: list[float] = []
    candidates: list[float] = []
    peaks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-log-") as logdir:
        log = Path(logdir) / "pytest.log"
        for attempt in range(1, repeat + 1):
            floor = run_floor(python, root)
            if floor.exit_code != 0:
                print(f"floor run failed with exit code {floor.exit_code}:", file=sys.stderr)
                print("\n".join(floor.tail), file=sys.stderr)
                return 2
            cand = run_candidate(python, root, log)
            rss = "n/a" if cand.rss_mb is None else f"{cand.rss_mb:.1f} MB"
            print(
                f"run {attempt}/{repeat}: floor {floor.seconds:.2f} s, "
                f"evalmix {cand.seconds:.2f} s, peak RSS {rss}, exit {cand.exit_code}",
                flush=True,  # keeps progress ahead of any error text on stderr
            )
            if cand.exit_code != 0:
                # The set is healthy by construction, so this is a plugin bug: repeating it
                # would only hide the message further up.
                print(f"pytest exited with {cand.exit_code}; last lines:", file=sys.stderr)
                print("\n".join(cand.tail), file=sys.stderr)
                return 1
            floors.append(floor.seconds)
            candidates.append(cand.seconds)
            if cand.rss_mb is not None:
                peaks.append(cand.rss_mb)

    # Best time filters out noise from other processes; worst RSS, because memory is not noisy
    # in that way and a goal should hold on every run.
    report(n, data_bytes, min(floors), min(candidates), max(peaks, default=float("nan")))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    keep: Path | None = args.keep
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return bench(keep.resolve(), args.n, args.python, args.repeat)
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-") as tmp:
        return bench(Path(tmp), args.n, args.python, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
