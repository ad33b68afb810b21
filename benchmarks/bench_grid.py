"""What the coverage grid costs: ``pytest --evalmix`` on one big set, with and without axes.

A healthy set of N examples (default 1,000,000) is generated, every record placed in a 3-axis
grid of 5 features × 6 scenarios × 4 personas (120 cells). The same data is then checked twice
per round in child processes, alternately: with a manifest that declares no axes (no
``coverage`` item, no grid) and with one that declares the grid (the ``coverage`` check, and the
grid drawn in the terminal summary). The goal: the check and the grid add at most 10%.

``--baseline-python`` also times the no-axes manifest under another interpreter, e.g. the venv
of a checkout without the grid, to show what keeping each row's cell costs the loader itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

GOAL = 0.10
FEATURES = ("billing", "refunds", "shipping", "account", "technical")
SCENARIOS = ("first-contact", "follow-up", "complaint", "cancellation", "upgrade", "outage")
PERSONAS = ("angry", "terse", "non-native", "business")
AXES = {"feature": FEATURES, "scenario": SCENARIOS, "persona": PERSONAS}
ORIGINS = ("production", "production", "synthetic", "adversarial")
PYPROJECT = "[tool.pytest.ini_options]\n"
MANIFEST = "evalmix: 1\nname: bench\ndata:\n  - data/*.jsonl\n"
AXES_POLICY = "policy:\n  coverage:\n    axes:\n" + "".join(
    f"      {axis}: [{', '.join(values)}]\n" for axis, values in AXES.items()
)
CHUNK_BYTES = 4 * 1024 * 1024


def records(n: int) -> Iterator[bytes]:
    """Records in the 50/25/25 mix, spread over every cell; cheap index arithmetic, no RNG."""
    for i in range(n):
        origin = ORIGINS[i % 4]
        record: dict[str, object] = {
            "id": f"ex-{i:07d}",
            "input": f"ticket {i * 2654435761 % 10**9:09d}: something is wrong, please help",
            "gold": FEATURES[i % 5],
            "origin": origin,
            "label": {"source": "human", "by": f"reviewer-{i % 23}", "at": "2026-10-01"},
            "grid": {
                "feature": FEATURES[i % 5],
                "scenario": SCENARIOS[(i // 5) % 6],
                "persona": PERSONAS[(i // 30) % 4],
            },
        }
        if origin == "synthetic":
            record["synthetic"] = {"generator": "claude-opus-4-7", "method": "paraphrase"}
        yield orjson.dumps(record)


def generate(root: Path, n: int) -> int:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "data").mkdir(exist_ok=True)
    written = 0
    buffer = bytearray()
    with (root / "data" / "set.jsonl").open("wb") as handle:
        for line in records(n):
            buffer += line + b"\n"
            if len(buffer) >= CHUNK_BYTES:
                written += handle.write(buffer)
                buffer.clear()
        written += handle.write(buffer)
    return written


@dataclass(frozen=True)
class Run:
    """One pytest run: wall seconds, CPU seconds (its own and its loader processes'), exit."""

    wall: float
    cpu: float
    exit_code: int
    last: str


def timed(python: str, root: Path, with_axes: bool) -> Run:
    """One pytest run at default verbosity, so the grid is drawn.

    The machine may be shared, so the CPU time is taken too (from wait4, which counts the
    loader's child processes once reaped): it moves far less than the wall time with load.
    """
    manifest = MANIFEST + (AXES_POLICY if with_axes else "")
    (root / "bench.evalmix.yaml").write_text(manifest, encoding="utf-8")
    command = [python, "-m", "pytest", "--evalmix", "-p", "no:cacheprovider", str(root)]
    log = root / "pytest.log"
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=root, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = exit_code = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    last = (text.strip().splitlines() or [""])[-1]
    if with_axes and "coverage grid, feature × scenario" not in text:
        exit_code, last = 3, "the grid was not drawn"
    return Run(wall, usage.ru_utime + usage.ru_stime, exit_code, last)


def in_process(root: Path) -> tuple[float, float]:
    """Seconds to load the set, and to run the coverage check and draw the grid in every view:
    the same work as in the runs, without interpreter start-up or other processes' noise.

    What a run pays with or without a grid is paid before the clock starts: importing the
    rules (every run collects them all) and the set's payload (every check item's report
    carries it, and the first one counts the origins)."""
    import datetime as dt

    from pytest_evalmix.checks import suite as rules
    from pytest_evalmix.checks.result import Context
    from pytest_evalmix.evalset.load import load
    from pytest_evalmix.report import views
    from pytest_evalmix.report.data import Report, check_payload, set_payload

    (root / "bench.evalmix.yaml").write_text(MANIFEST + AXES_POLICY, encoding="utf-8")
    start = time.perf_counter()
    evalset = load(root / "bench.evalmix.yaml", root, {})
    loaded = time.perf_counter() - start
    rules.registry()
    set_payload(evalset)
    start = time.perf_counter()
    today = dt.date(2026, 11, 25)
    result = rules.run("coverage", evalset, Context(today, root / ".evalmix"))
    payload = {"set": set_payload(evalset), "check": check_payload("coverage", result)}
    report = Report.from_payloads([payload], order=["coverage"])
    list(report.rows())
    views.render(report, "markdown", today=today)
    views.render(report, "json", today=today)
    return loaded, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="examples (default 1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best time is kept")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the runs")
    parser.add_argument(
        "--baseline-python", metavar="PYTHON", help="also time the no-axes run under this one"
    )
    args = parser.parse_args(argv)
    if args.n < 120 or args.repeat < 1:
        parser.error("--n must be at least 120 (one example a cell) and --repeat at least 1")
    with tempfile.TemporaryDirectory(prefix="evalmix-bench-grid-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        size = generate(root, args.n)
        print(
            f"wrote {args.n:,} examples ({size / 1e6:.1f} MB) over a 5 × 6 × 4 grid in "
            f"{time.perf_counter() - start:.1f} s on {os.cpu_count()} cores",
            flush=True,
        )
        runs: dict[str, list[Run]] = {"no axes": [], "axes": [], "baseline": []}
        for attempt in range(1, args.repeat + 1):
            plan = [("no axes", args.python, False), ("axes", args.python, True)]
            if args.baseline_python:
                plan.append(("baseline", args.baseline_python, False))
            for name, python, with_axes in plan:
                run = timed(python, root, with_axes)
                print(
                    f"round {attempt}: {name:<8} wall {run.wall:6.2f} s  cpu {run.cpu:6.2f} s  "
                    f"exit {run.exit_code}  {run.last}",
                    flush=True,
                )
                if run.exit_code != 0:
                    print(f"the {name} run failed (exit {run.exit_code})", file=sys.stderr)
                    return 1
                runs[name].append(run)
        loaded, grid = in_process(root)
    # Best of each (other processes' noise only ever adds time), and the median.
    wall = {name: min((r.wall for r in rs), default=0.0) for name, rs in runs.items()}
    cpu = {name: min((r.cpu for r in rs), default=0.0) for name, rs in runs.items()}
    median = {
        name: statistics.median(r.cpu for r in rs) if rs else 0.0 for name, rs in runs.items()
    }
    for what, figures in (("wall", wall), ("cpu", cpu), ("median cpu", median)):
        print(
            f"{what} of {args.repeat}: no axes {figures['no axes']:.2f} s, "
            f"axes {figures['axes']:.2f} s"
        )
    by_cpu = cpu["axes"] / cpu["no axes"] - 1
    by_median = median["axes"] / median["no axes"] - 1
    by_wall = wall["axes"] / wall["no axes"] - 1
    direct = grid / loaded
    print(f"in process: load {loaded:.2f} s; the coverage check and three views {grid:.3f} s")
    print(
        f"the coverage check and the grid add {by_cpu:+.1%} cpu (best), {by_median:+.1%} cpu "
        f"(median), {by_wall:+.1%} wall (best), {direct:+.1%} of the load in process "
        f"(goal: at most {GOAL:.0%})"
    )
    if runs["baseline"]:
        print(
            f"baseline interpreter, no axes: cpu {cpu['baseline']:.2f} s, wall "
            f"{wall['baseline']:.2f} s: keeping each row's cell costs the loader "
            f"{cpu['no axes'] / cpu['baseline'] - 1:+.1%} cpu"
        )
    ok = by_median <= GOAL and direct <= GOAL
    print("PASS" if ok else "FAIL")
    return 0  # a report, like bench_load: 1 only when a run itself failed


if __name__ == "__main__":
    sys.exit(main())
