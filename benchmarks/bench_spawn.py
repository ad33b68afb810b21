"""What a child costs to start and hand back a small result, three ways: ``subprocess`` running
``python -m`` (what `pytest_evalmix.formats.parallel` does), and ``concurrent.futures`` with the
``spawn`` and ``forkserver`` start methods. The figures behind docs/architecture.md's choice.

    .venv/bin/python benchmarks/bench_spawn.py
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import pickle
import subprocess
import sys
import time
from collections.abc import Callable

CHILD = (
    "import pickle, sys\n"
    "import pytest_evalmix.formats.fastload\n"
    "sys.stdout.buffer.write(pickle.dumps(b'x' * 10))\n"
)


def job(_: int) -> bytes:
    import pytest_evalmix.formats.fastload  # noqa: F401  the child's real imports

    return b"x" * 10


def by_subprocess() -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, check=True)
    pickle.loads(done.stdout)
    return time.perf_counter() - started


def by_pool(method: str) -> float:
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context(method)) as pool:
        pool.submit(job, 0).result()
    return time.perf_counter() - started


def main() -> None:
    import pytest  # noqa: F401  a parent that has imported what pytest's has

    ways: list[tuple[str, Callable[[], float]]] = [
        ("subprocess -m", by_subprocess),
        ("spawn pool", lambda: by_pool("spawn")),
        ("forkserver pool", lambda: by_pool("forkserver")),
    ]
    for name, way in ways:
        best = min(way() for _ in range(5))
        print(f"{name:16s} best of 5: {best * 1000:.0f} ms")


if __name__ == "__main__":
    main()
