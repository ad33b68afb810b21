"""A seeded fuzz of the newer inputs: Parquet and Arrow files, Hugging Face ``save_to_disk``
folders, preset files (DeepEval, Inspect, promptfoo), Label Studio-like exports, plain text files
(as a ``leakage.against`` file is), refs and revisions (``--evalmix-base``, the mutation in the
work tree or at REF). Each run of ``pytest --evalmix`` must end with a verdict (exit 0, 1, 2, 4
or 5), print no traceback or INTERNALERROR, finish in bounded time, and change no file.

Mutations are batched as in test_fuzz_readers_and_logs.py: each run checks ``COPIES`` small
eval sets side by side (``evals/f<k>/``), each with one file mutated. ``BATCHES`` x ``COPIES``
= 320 mutated sets, plus one mutated ref per batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, record
from test_fuzz_readers_and_logs import MUTATIONS

SEED = 20261204
BATCHES = 4
COPIES = 80  # 4 x 80 = 320 mutated eval sets, plus 4 mutated refs
SECONDS_PER_RUN = 120.0
EXIT_CODES = {0, 1, 2, 4, 5}
FIXTURES = Path(__file__).parent / "fixtures"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}
LABEL = {"source": "human", "by": "dana", "at": "2026-10-01"}
# Data entries of each kind of set: its files (relative to the copy) and its manifest body.
KINDS = ["parquet", "arrow", "saved", "deepeval", "inspect", "promptfoo", "labelstudio", "text"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True
    )


def rows(prefix: str) -> list[dict[str, Any]]:
    return [
        record(f"{prefix}{i}", ("production", "synthetic", "adversarial")[i % 3]) for i in range(6)
    ]


def column_swap(rng: random.Random, pa: Any, table: Any) -> Any:
    """A column replaced by one of a type the model must refuse or explain."""
    n = table.num_rows
    name = rng.choice(["id", "input", "gold", "origin", "label", "meta"])
    column = rng.choice(
        [
            pa.array([b"\x00\xff"] * n, pa.binary()),
            pa.array([[(1, "one")]] * n, pa.map_(pa.int64(), pa.string())),
            pa.array([float("nan")] * n),
            pa.array([None] * n, pa.null()),
            pa.array([[[[1]]]] * n),
            pa.array([rng.choice(["", " ", "\x1b[2J", "\ud7ff" * 50])] * n),
            pa.array([{"source": rng.choice(["human", "robot"]), "at": "2026-13-40"}] * n),
        ]
    )
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, column)
    return table.append_column(name, column)


def make_copy(copy: Path, kind: str, pa: Any, pq: Any) -> tuple[str, list[Path]]:
    """One small set of ``kind`` under ``copy``: its manifest body and its mutable files."""
    data = copy / "data"
    data.mkdir(parents=True)
    prefix = f"{copy.name}-"
    table = pa.Table.from_pylist(rows(prefix))
    if kind == "parquet":
        pq.write_table(table, data / "s.parquet")
        return "data: [data/s.parquet]\n", [data / "s.parquet"]
    if kind == "arrow":
        with pa.ipc.new_file(str(data / "s.arrow"), table.schema) as writer:
            writer.write_table(table)
        return "data: [data/s.arrow]\n", [data / "s.arrow"]
    if kind == "saved":
        shutil.copytree(FIXTURES / "hf" / "saved", data / "saved")
        files = sorted((data / "saved").iterdir())
        return "data: [data/saved]\npolicy: {mix: {tolerance: 1}}\n", files
    defaults = (
        "    defaults: {origin: production, label: {source: human, by: dana, at: '2026-10-01'}}\n"
    )
    if kind == "deepeval":
        shutil.copy(FIXTURES / "deepeval" / "goldens.json", data / "g.json")
        return f"data:\n  - path: data/g.json\n    fields: deepeval\n{defaults}", [data / "g.json"]
    if kind == "inspect":
        shutil.copy(FIXTURES / "inspect" / "samples.jsonl", data / "s.jsonl")
        return f"data:\n  - path: data/s.jsonl\n    fields: inspect\n{defaults}", [data / "s.jsonl"]
    if kind == "promptfoo":
        shutil.copy(FIXTURES / "promptfoo" / "tests.yaml", data / "tests.yaml")
        return (
            f"data:\n  - path: data/tests.yaml\n    fields: promptfoo\n{defaults}",
            [data / "tests.yaml"],
        )
    if kind == "labelstudio":
        tasks = [
            {
                "id": i,
                "data": {"text": f"ticket {i}"},
                "annotations": [{"id": i, "result": [{"value": {"choices": ["billing"]}}]}],
                "predictions": [],
            }
            for i in range(5)
        ]
        (data / "export.json").write_text(json.dumps(tasks, indent=1), encoding="utf-8")
        return "data: [data/export.json]\n", [data / "export.json"]
    (data / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows(prefix)))
    (data / "prompts.txt").write_text("".join(f"ticket text for {prefix}{i}\n" for i in range(6)))
    return "data: [data/s.jsonl, data/prompts.txt]\n", [data / "prompts.txt", data / "s.jsonl"]


def digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.parts
    }


@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutated_columnar_preset_and_revision_inputs(pytester: pytest.Pytester, batch: int) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow.ipc  # noqa: F401

    rng = random.Random(SEED + batch)
    root = pytester.path
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n", encoding="utf-8")
    plan: list[tuple[Path, list[Path], str]] = []
    for k in range(COPIES):
        copy = root / "evals" / f"f{k}"
        kind = KINDS[k % len(KINDS)]
        body, files = make_copy(copy, kind, pa, pq)
        (copy / "s.evalmix.yaml").write_text(f"evalmix: 1\nname: f{k}\n{body}", encoding="utf-8")
        plan.append((copy, files, kind))
    git(root, "init", "-q", "-b", "main")
    # Odd batches mutate what is at REF (committed, then put back), even ones the work tree.
    at_ref = batch % 2 == 1
    originals: dict[Path, bytes] = {}
    if not at_ref:
        git(root, "add", "-A")
        git(root, "commit", "-q", "--no-gpg-sign", "-m", "base")
    applied: list[str] = []
    for _copy, files, kind in plan:
        path = rng.choice(files)
        if kind in ("parquet", "arrow") and rng.random() < 0.5:
            table = column_swap(
                rng,
                pa,
                pq.read_table(path)
                if kind == "parquet"
                else pa.ipc.open_file(str(path)).read_all(),
            )
            originals[path] = path.read_bytes()
            if kind == "parquet":
                pq.write_table(table, path)
            else:
                with pa.ipc.new_file(str(path), table.schema) as writer:
                    writer.write_table(table)
            applied.append(f"column_swap {path.relative_to(root)}")
            continue
        mutation = rng.choice(MUTATIONS)
        originals[path] = path.read_bytes()
        path.write_bytes(mutation(rng, path.read_bytes()))
        applied.append(f"{mutation.__name__} {path.relative_to(root)}")
    if at_ref:
        git(root, "add", "-A")
        git(root, "commit", "-q", "--no-gpg-sign", "-m", "base, mutated")
        for path, data in originals.items():
            path.write_bytes(data)
    ref = rng.choice(["main", "HEAD", "main~0", "HEAD^{commit}"])
    if batch == BATCHES - 1:
        ref = rng.choice(["no-such", "main~5", "-x", "m\x1b[2J", "0" * 40, "main:evals"])
    applied.append(f"ref {ref!r}")

    before = digests(root)
    started = time.monotonic()
    result = pytester.runpytest_inprocess(
        "--evalmix",
        f"--evalmix-base={ref}",
        "-p",
        "no:cacheprovider",
        f"--evalmix-today={TODAY}",
        "--continue-on-collection-errors",
        "-q",
        *(["-n", "2"] if batch == 0 else []),
    )
    elapsed = time.monotonic() - started
    out = result.stdout.str() + result.stderr.str()
    context = "mutations:\n  " + "\n  ".join(applied)
    assert result.ret in EXIT_CODES, f"exit {result.ret}\n{context}\n{out[-3000:]}"
    for bad in ("Traceback", "INTERNALERROR", "this is a bug", "\x1b"):
        assert bad not in out, f"{bad!r}\n{context}\n{out[-3000:]}"
    assert elapsed < SECONDS_PER_RUN, context
    assert digests(root) == before, context
    if result.ret != pytest.ExitCode.USAGE_ERROR:  # a bad ref stops the run before collection
        collected = {line.split("::")[0] for line in out.splitlines() if "evalmix.yaml::" in line}
        assert "s.evalmix.yaml" in out and len(collected) >= 1, out[-3000:]
