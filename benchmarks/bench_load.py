"""Load benchmark for pytest-evalmix: how much slower and fatter than parsing the JSONL ourselves.

A healthy eval set of N examples is generated, with a results file of N lines as an eval run
writes it, then child processes are timed on it: a bare ``orjson`` read of every line of both
(the floor: nothing can load the data faster), ``pytest --evalmix`` without xdist, and
``pytest --evalmix -n 2`` (the candidates). All pay interpreter start-up, so the ratio between
them is the price of the plugin itself. Last, ``pytest --co`` over 300 plain tests, with the
plugin installed but not enabled, against the same run with ``-p no:evalmix``. See
benchmarks/README.md for the goals.
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
XDIST_RATIO_GOAL = 3.0
RSS_GOAL_MB = 300.0
# Installed but not enabled: collecting plain tests costs at most this much more CPU.
IDLE_GOAL = 1.05
# --html: the HTML report adds at most this much to the run's time, and stays this small.
HTML_GOAL = 1.10
HTML_SIZE_GOAL_MB = 5.0
PLAIN_FILES = 10
PLAIN_TESTS_PER_FILE = 30
IDLE_RUNS = 7
CHUNK_BYTES = 4 * 1024 * 1024
TAIL_LINES = 5
TAIL_BYTES = 64 * 1024

# Kept to a single statement list so it can go through ``python -c`` unchanged; the loop is
# what any loader must at least do, so it is the fairest floor.
FLOOR_CODE = """\
import glob, sys, orjson
for p in sorted(glob.glob(sys.argv[1] + "/data/*.jsonl")) + glob.glob(sys.argv[1] + "/*.jsonl"):
    with open(p, "rb") as f:
        for line in f:
            if line.strip():
                orjson.loads(line)
"""

PYPROJECT = "[tool.pytest.ini_options]\n"
MANIFEST = "evalmix: 1\nname: bench\ndata:\n  - data/*.jsonl\n"
RESULTS_NAME = "results.jsonl"
# One result in ten fails, with a named mode; the same modes in every origin, so the set stays
# healthy: pass rates agree and no failure mode is one-sided.
FAILURE_MODES = ("wrong-queue", "wrong-priority", "refused")

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
    # User + system CPU of the child and its reaped descendants: on a machine shared with other
    # work, wall times stretch with the load, CPU much less.
    cpu: float = float("nan")


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


def result_lines(counts: dict[str, int]) -> Iterator[bytes]:
    """One result per example, origin by origin as the data was written (the loader reads the
    files in name order, so the results are not in the set's row order, as after a real run
    over a list of files)."""
    for origin, count in counts.items():
        for i in range(1, count + 1):
            failed = i % 10 == 7
            yield orjson.dumps(
                {
                    "id": f"{ID_PREFIX[origin]}-{i:07d}",
                    "passed": not failed,
                    "failure_mode": FAILURE_MODES[(i // 10) % len(FAILURE_MODES)]
                    if failed
                    else None,
                    "score": 0.0 if failed else 1.0,
                }
            )


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


def generate(root: Path, n: int, results: bool) -> int:
    """Lays out a complete pytest rootdir so the candidate run needs nothing from the caller."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    manifest = MANIFEST + (f"results: {RESULTS_NAME}\n" if results else "")
    (root / "bench.evalmix.yaml").write_text(manifest, encoding="utf-8")
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
    if results:
        total += write_jsonl(root / RESULTS_NAME, result_lines(counts))
    return total


def generate_plain(root: Path) -> None:
    """A project of plain tests and no eval set, for the installed-but-not-enabled figure."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for f in range(PLAIN_FILES):
        body = "".join(
            f"def test_{t}():\n    assert {t} + 1 > {t}\n\n\n" for t in range(PLAIN_TESTS_PER_FILE)
        )
        (root / f"test_plain_{f}.py").write_text(body, encoding="utf-8")


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


def run_floor(python: str, root: Path, log: Path) -> ChildRun:
    with log.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [python, "-c", FLOOR_CODE, str(root)], stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    exit_code = os.waitstatus_to_exitcode(status)
    proc.returncode = exit_code
    return ChildRun(seconds, exit_code, None, tail_of(log), usage.ru_utime + usage.ru_stime)


def run_candidate(
    python: str, root: Path, log: Path, workers: int, html: Path | None = None
) -> ChildRun:
    """Reaps the child with wait4 so the peak RSS is pytest's own, not this script's.

    The peak is the highest of any one process of the run: Linux reports a reaped child's own
    peak or that of its largest reaped descendant (the xdist workers, the loader's helpers),
    whichever is higher.
    """
    xdist = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    cmd = [python, "-m", "pytest", "--evalmix", "-p", "no:cacheprovider", *xdist, "-q", str(root)]
    if html is not None:
        cmd.append(f"--evalmix-report={html}")
    seconds, cpu, exit_code, peak = timed(cmd, root, log)
    return ChildRun(seconds, exit_code, peak, tail_of(log), cpu)


def timed(cmd: list[str], root: Path, log: Path) -> tuple[float, float, int, float]:
    """Run ``cmd`` in ``root``: wall seconds, CPU seconds (it and every process it reaped:
    loader helpers, xdist workers, git), exit code, peak RSS MB of any one of them."""
    # Output goes to a file, not a pipe: nothing has to drain it while we block in wait4.
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # already reaped; stops Popen from waiting on a stale pid
    return seconds, usage.ru_utime + usage.ru_stime, code, maxrss_mb(usage.ru_maxrss)


def run_collect_only(python: str, root: Path, enabled: bool) -> tuple[float, int]:
    """CPU seconds (user + system) of ``pytest --co`` over the plain tests, and the exit code.

    CPU, not wall time: on a shared machine it is the steadier measure of work done.
    """
    plugin = [] if enabled else ["-p", "no:evalmix"]
    cmd = [python, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *plugin, str(root)]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    exit_code = os.waitstatus_to_exitcode(status)
    proc.returncode = exit_code
    return usage.ru_utime + usage.ru_stime, exit_code


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Figures:
    """The best time and the worst peak RSS of one candidate across the runs."""

    label: str
    workers: int
    seconds: float
    rss_mb: float
    cpu: float
    html_seconds: float | None = None  # best time of the same run writing an HTML report


def ratio_goal(workers: int) -> float:
    return XDIST_RATIO_GOAL if workers else RATIO_GOAL


def report(
    n: int,
    data_bytes: int,
    results: bool,
    floor: float,
    floor_cpu: float,
    candidates: list[Figures],
    idle: tuple[float, float] | None,
    html_mb: float | None = None,
) -> None:
    rows = [
        ("N", f"{n:,}", ""),
        ("data MB", f"{data_bytes / 1e6:.1f}", "records" + (" and results" if results else "")),
        ("floor s", f"{floor:.2f}", ""),
        ("floor CPU s", f"{floor_cpu:.2f}", ""),
    ]
    for cand in candidates:
        rows += [
            (f"{cand.label} s", f"{cand.seconds:.2f}", ""),
            (
                f"{cand.label} ratio",
                f"{cand.seconds / floor:.2f}",
                f"<= {ratio_goal(cand.workers)}",
            ),
            (f"{cand.label} RSS MB", f"{cand.rss_mb:.1f}", f"<= {RSS_GOAL_MB:.0f}, any process"),
            (f"{cand.label} CPU s", f"{cand.cpu:.2f}", "all its processes"),
            (f"{cand.label} CPU ratio", f"{cand.cpu / floor_cpu:.2f}", "for a loaded machine"),
        ]
        if cand.html_seconds is not None:
            rows += [
                (
                    f"{cand.label} +html s",
                    f"{cand.html_seconds:.2f}",
                    "with --evalmix-report=r.html",
                ),
                (
                    f"{cand.label} html ratio",
                    f"{cand.html_seconds / cand.seconds:.3f}",
                    f"<= {HTML_GOAL}, over the run without it",
                ),
            ]
    if html_mb is not None:
        rows.append(("html report MB", f"{html_mb:.2f}", f"<= {HTML_SIZE_GOAL_MB:.0f}"))
    if idle is not None:
        enabled, disabled = idle
        rows += [
            ("--co CPU s", f"{enabled:.3f}", "installed, not enabled"),
            ("no:evalmix s", f"{disabled:.3f}", "-p no:evalmix"),
            ("idle ratio", f"{enabled / disabled:.3f}", f"<= {IDLE_GOAL}"),
        ]
    width = max(len(name) for name, _, _ in rows)
    print()
    print(f"{'figure':<{width}} {'value':>12}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}} {value:>12}  {goal}".rstrip())
    print()
    for cand in candidates:
        print(f"{cand.label} ratio {verdict(cand.seconds / floor <= ratio_goal(cand.workers))}")
        print(f"{cand.label} peak RSS {verdict(cand.rss_mb <= RSS_GOAL_MB)}")
        if cand.html_seconds is not None:
            print(
                f"{cand.label} html ratio {verdict(cand.html_seconds / cand.seconds <= HTML_GOAL)}"
            )
    if html_mb is not None:
        print(f"html report size {verdict(html_mb <= HTML_SIZE_GOAL_MB)}")
    if idle is not None:
        print(f"installed but not enabled {verdict(idle[0] / idle[1] <= IDLE_GOAL)}")


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


def worker_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of worker counts") from None
    if not counts or any(count < 0 for count in counts):
        raise argparse.ArgumentTypeError("worker counts are 0 (no xdist) or more")
    return counts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--n", type=example_count, default=200_000, help="examples (default 200000)"
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="write the set to DIR (new or empty) and keep it"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for all children (default: this)"
    )
    parser.add_argument(
        "--repeat", type=at_least_one, default=3, help="runs of each child; best time is kept"
    )
    parser.add_argument(
        "--workers",
        type=worker_counts,
        default=[0, 2],
        metavar="LIST",
        help="xdist worker counts to run, 0 for no xdist (default 0,2)",
    )
    parser.add_argument(
        "--no-results", action="store_true", help="write no results file (the records alone)"
    )
    parser.add_argument(
        "--no-idle", action="store_true", help="skip the installed-but-not-enabled figure"
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="also time each run writing an HTML report, alternating with the run without it",
    )
    args = parser.parse_args(argv)
    keep: Path | None = args.keep
    if keep is not None and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        # Stray files in the rootdir could make the set unhealthy, and a failure would then look
        # like a plugin bug.
        parser.error(f"--keep {keep}: must not exist yet or be an empty directory")
    return args


def idle_cost(python: str) -> tuple[float, float] | None:
    """Least CPU of ``pytest --co`` with the plugin installed but not enabled, and with
    ``-p no:evalmix``, alternating so that both see the same load; None if a run failed."""
    best = {True: float("inf"), False: float("inf")}
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-plain-") as tmp:
        root = Path(tmp)
        generate_plain(root)
        for _ in range(IDLE_RUNS):
            for enabled in (True, False):
                cpu, exit_code = run_collect_only(python, root, enabled)
                if exit_code != 0:
                    print(f"pytest --co exited with {exit_code}", file=sys.stderr)
                    return None
                best[enabled] = min(best[enabled], cpu)
    return best[True], best[False]


def bench(root: Path, args: argparse.Namespace) -> int:
    n, python, repeat = args.n, args.python, args.repeat
    results = not args.no_results
    start = time.perf_counter()
    data_bytes = generate(root, n, results)
    print(
        f"wrote {n:,} examples{' and their results' if results else ''}, {data_bytes:,} bytes "
        f"({data_bytes / 1e6:.1f} MB) to {root} in {time.perf_counter() - start:.1f} s",
        flush=True,
    )

    floors: list[float] = []
    floor_cpus: list[float] = []
    cpus: dict[int, list[float]] = {workers: [] for workers in args.workers}
    times: dict[int, list[float]] = {workers: [] for workers in args.workers}
    peaks: dict[int, list[float]] = {workers: [] for workers in args.workers}
    html_times: dict[int, list[float]] = {workers: [] for workers in args.workers}
    html_mb: float | None = None
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-log-") as logdir:
        log = Path(logdir) / "pytest.log"
        for attempt in range(1, repeat + 1):
            floor = run_floor(python, root, log)
            if floor.exit_code != 0:
                print(f"floor run failed with exit code {floor.exit_code}:", file=sys.stderr)
                print("\n".join(floor.tail), file=sys.stderr)
                return 2
            floors.append(floor.seconds)
            floor_cpus.append(floor.cpu)
            for workers in args.workers:
                cand = run_candidate(python, root, log, workers)
                rss = "n/a" if cand.rss_mb is None else f"{cand.rss_mb:.1f} MB"
                print(
                    f"run {attempt}/{repeat}: floor {floor.seconds:.2f} s, "
                    f"{label(workers)} {cand.seconds:.2f} s, peak RSS {rss}, "
                    f"exit {cand.exit_code}",
                    flush=True,  # keeps progress ahead of any error text on stderr
                )
                if cand.exit_code != 0:
                    # The set is healthy by construction, so this is a plugin bug: repeating it
                    # would only hide the message further up.
                    print(f"pytest exited with {cand.exit_code}; last lines:", file=sys.stderr)
                    print("\n".join(cand.tail), file=sys.stderr)
                    return 1
                times[workers].append(cand.seconds)
                cpus[workers].append(cand.cpu)
                if cand.rss_mb is not None:
                    peaks[workers].append(cand.rss_mb)
                if args.html:
                    page = Path(logdir) / "r.html"
                    with_html = run_candidate(python, root, log, workers, html=page)
                    print(
                        f"run {attempt}/{repeat}: {label(workers)} with the HTML report "
                        f"{with_html.seconds:.2f} s, exit {with_html.exit_code}",
                        flush=True,
                    )
                    if with_html.exit_code != 0 or not page.exists():
                        print(f"pytest exited with {with_html.exit_code}:", file=sys.stderr)
                        print("\n".join(with_html.tail), file=sys.stderr)
                        return 1
                    html_times[workers].append(with_html.seconds)
                    html_mb = max(html_mb or 0.0, page.stat().st_size / 1e6)
    idle = None if args.no_idle else idle_cost(python)

    # Best time filters out noise from other processes; worst RSS, because memory is not noisy
    # in that way and a goal should hold on every run.
    figures = [
        Figures(
            label(w),
            w,
            min(times[w]),
            max(peaks[w], default=float("nan")),
            min(cpus[w]),
            min(html_times[w]) if html_times[w] else None,
        )
        for w in args.workers
    ]
    report(n, data_bytes, results, min(floors), min(floor_cpus), figures, idle, html_mb)
    return 0


def label(workers: int) -> str:
    return f"-n {workers}" if workers else "evalmix"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    keep: Path | None = args.keep
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return bench(keep.resolve(), args)
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-") as tmp:
        return bench(Path(tmp), args)


if __name__ == "__main__":
    sys.exit(main())
