"""Synthesizer benchmark: replaying a committed cache, and paraphrasing many seeds side by side.

Two goals from the synthesizer issue, each printed as a ratio to its budget (≤ 1.00 passes):

1. **replay**: 1,000 cached requests, one ``paraphrase`` call each, in at most 1 s in total. CI
   replays the cache on every run, so this is what the fixture costs a test suite.
2. **paraphrase_many**: 100 seeds against a stand-in API that takes 200 ms a request finish
   within 1.4 × (100 × 0.2 s ÷ concurrency): the threads really overlap the requests.

Everything runs against the stand-in Messages API of tests/fake_messages_api.py on 127.0.0.1,
through the real ``anthropic`` SDK, with a fake key; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_messages_api import FakeMessagesAPI
from pytest_evalmix.synth.synthesizer import Synthesizer

MODEL = "claude-opus-4-7"
REPLAY_BUDGET_S = 1.0
MANY_SLACK = 1.4


def seeds(count: int, prefix: str) -> list[str]:
    return [
        f"{prefix} ticket {i}: my order has not arrived and tracking is stuck."
        for i in range(count)
    ]


def bench_replay(requests: int, n: int) -> tuple[float, float]:
    """Record ``requests`` entries against an instant stand-in, then time a fresh replaying
    synthesizer serving each of them once. Returns (record seconds, replay seconds)."""
    items = seeds(requests, "replay")
    with tempfile.TemporaryDirectory() as tmp, FakeMessagesAPI() as api:
        recorder = Synthesizer(model=MODEL, evalmix_dir=Path(tmp), mode="record", base_url=api.url)
        start = time.perf_counter()
        recorder.paraphrase_many(items, n=n, concurrency=16)
        recorded = time.perf_counter() - start
        assert api.count == requests, api.count

        replayer = Synthesizer(model=MODEL, evalmix_dir=Path(tmp))
        start = time.perf_counter()
        for seed in items:
            replayer.paraphrase(seed, n)
        replayed = time.perf_counter() - start
        assert api.count == requests, "replay called the API"
    return recorded, replayed


def bench_many(count: int, n: int, delay: float, concurrency: int) -> tuple[float, int]:
    """Time ``paraphrase_many`` over ``count`` uncached seeds. Returns (seconds, max in flight)."""
    with tempfile.TemporaryDirectory() as tmp, FakeMessagesAPI(delay=delay) as api:
        synth = Synthesizer(model=MODEL, evalmix_dir=Path(tmp), mode="record", base_url=api.url)
        start = time.perf_counter()
        results = synth.paraphrase_many(seeds(count, "many"), n=n, concurrency=concurrency)
        elapsed = time.perf_counter() - start
        assert len(results) == count and api.count == count
        return elapsed, api.max_in_flight


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="cached requests to replay")
    parser.add_argument("--seeds", type=int, default=100, help="seeds for paraphrase_many")
    parser.add_argument("--delay", type=float, default=0.2, help="stand-in seconds per request")
    parser.add_argument("--concurrency", type=int, default=8, help="paraphrase_many workers")
    parser.add_argument("--n", type=int, default=10, help="rewrites per request")
    args = parser.parse_args(argv)
    if min(args.requests, args.seeds, args.concurrency, args.n) < 1 or args.delay < 0:
        parser.error("counts must be positive and --delay not negative")

    # The stand-in gets a fake key: a real one in the environment is never sent anywhere.
    os.environ["ANTHROPIC_API_KEY"] = "sk-ant-bench-not-a-real-key"
    os.environ.pop("ANTHROPIC_BASE_URL", None)

    start = time.perf_counter()
    import anthropic  # noqa: F401  (a one-off cost of the first real call, reported apart)

    sdk_import = time.perf_counter() - start

    recorded, replayed = bench_replay(args.requests, args.n)
    many, in_flight = bench_many(args.seeds, args.n, args.delay, args.concurrency)
    ideal = args.seeds * args.delay / args.concurrency
    many_budget = MANY_SLACK * ideal

    replay_ratio = replayed / REPLAY_BUDGET_S
    many_ratio = many / many_budget
    print(f"SDK import (once per process, not in the figures): {sdk_import:.2f} s")
    print(f"recording {args.requests} requests at concurrency 16: {recorded:.2f} s")
    print()
    print(f"{'goal':<44} {'measured':>10} {'budget':>9} {'ratio':>7}")
    print(
        f"{f'replay {args.requests} cached requests':<44} {replayed:>9.3f}s "
        f"{REPLAY_BUDGET_S:>8.2f}s {replay_ratio:>7.2f}"
    )
    print(
        f"{f'paraphrase_many {args.seeds} seeds, {args.delay:g} s, c={args.concurrency}':<44} "
        f"{many:>9.3f}s {many_budget:>8.2f}s {many_ratio:>7.2f}"
    )
    print()
    print(
        f"replay: {replayed / args.requests * 1e6:.0f} µs a request; "
        f"paraphrase_many: {many / ideal:.2f} × the ideal {ideal:.2f} s, "
        f"{in_flight} requests in flight at most"
    )
    print(f"replay          {'PASS' if replay_ratio <= 1 else 'FAIL'}  (ratio ≤ 1.00)")
    print(f"paraphrase_many {'PASS' if many_ratio <= 1 else 'FAIL'}  (ratio ≤ 1.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
