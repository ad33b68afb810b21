"""What the ``agreement`` check costs: 100,000 records with three annotations each, alpha and its
1,000-resample bootstrap included. The goal: at most 1.5 s. Loading is not timed (bench_load
times it). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.labels import agreement
from pytest_evalmix.checks.result import Context
from pytest_evalmix.evalset.load import load

GOAL_SECONDS = 1.5
LABELS = ("billing", "refund", "login", "shipping")
ANNOTATORS = ("ann", "bob", "cy", "dee", "eve")


def generate(root: Path, count: int) -> Path:
    """A set of ``count`` annotated records: three of five annotators each, agreeing 80%."""
    rng = random.Random(11)
    (root / "data").mkdir()
    origins = ("production", "production", "synthetic", "adversarial")
    with open(root / "data" / "a.jsonl", "w", encoding="utf-8") as out:
        for i in range(count):
            gold = rng.choice(LABELS)
            who = rng.sample(ANNOTATORS, 3)
            notes = [
                {"by": by, "gold": gold if rng.random() < 0.8 else rng.choice(LABELS)} for by in who
            ]
            record = {
                "id": f"r{i}",
                "input": f"ticket {i}",
                "gold": gold,
                "origin": origins[i % 4],
                "label": {
                    "source": "human",
                    "by": "ann",
                    "annotations": notes,
                    "adjudicated_by": "lead",
                },
            }
            out.write(json.dumps(record) + "\n")
    manifest = root / "a.evalmix.yaml"
    manifest.write_text("evalmix: 1\ndata: [data/a.jsonl]\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        evalset = load(generate(root, args.records), root, {})
        context = Context(today=__import__("datetime").date(2026, 11, 25), evalmix_dir=root)
        import krippendorff  # noqa: F401  # import time is start-up, not the check's
        import numpy  # noqa: F401

        start = time.perf_counter()
        result = agreement.check(evalset, evalset.policy, context, Inputs())
        seconds = time.perf_counter() - start
    print(
        f"agreement over {result.data['records']:,} records (3 annotations each), "
        f"alpha {result.data.get('alpha')} {result.data.get('interval')}: {seconds:.2f} s "
        f"(goal <= {GOAL_SECONDS} s)"
    )
    return 0 if seconds <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
