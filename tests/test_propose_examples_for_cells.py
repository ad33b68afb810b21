"""`evalmix propose --cell` and `--fill` (docs/cli.md): seeds from chosen cells of the coverage grid,
or from every cell below ``coverage.min_per_cell``, recorded from the stand-in Messages API on
127.0.0.1 and then replayed offline from the cache."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import WriteSet, record, run
from fake_messages_api import FakeMessagesAPI, prompt_of
from test_propose_examples import online
from test_review_a_queue import evalmix, lines

MANIFEST = (
    "evalmix: 1\n"
    "name: support\n"
    "data:\n"
    "  - data/support.jsonl\n"
    "  - data/reviewed.jsonl\n"
    "policy:\n"
    "  coverage:\n"
    "    axes: {feature: [billing, refunds], persona: [angry, terse]}\n"
    "    min_per_cell: 3\n"
)


def at(rid: str, origin: str, feature: str, persona: str) -> dict[str, Any]:
    return record(rid, origin, grid={"feature": feature, "persona": persona})


def starved() -> list[dict[str, Any]]:
    """billing × angry and refunds × terse are full; billing × terse holds 2 (1 production
    seed), refunds × angry 1 (an adversarial one, so no seed)."""
    return [
        *(at(f"prod-ba-{i}", "production", "billing", "angry") for i in range(3)),
        *(at(f"prod-rt-{i}", "production", "refunds", "terse") for i in range(3)),
        at("prod-bt-0", "production", "billing", "terse"),
        at("syn-bt-0", "synthetic", "billing", "terse"),
        at("adv-ra-0", "adversarial", "refunds", "angry"),
    ]


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    with FakeMessagesAPI() as server:
        yield server


def test_fill_proposes_only_for_starved_cells_and_replays(
    project: pytest.Pytester, write_set: WriteSet, api: FakeMessagesAPI
) -> None:
    write_set(starved(), manifest=MANIFEST)
    (project.path / "data" / "reviewed.jsonl").write_text("", encoding="utf-8")
    args = ["propose", "support.evalmix.yaml", "--fill", "--n", "2", "--out", "q.jsonl"]

    miss = evalmix(project.path, *args)
    assert miss.returncode == 1
    command = shlex.split(miss.stderr.splitlines()[-1])
    assert command == [
        *("evalmix", "propose", "support.evalmix.yaml", "--n", "2", "--out", "q.jsonl"),
        *("--fill", "--synth", "record"),
    ]
    assert api.count == 0

    recorded = evalmix(project.path, *command[1:], **online(api))
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.splitlines() == [
        "filling cell feature=billing,persona=terse: 2 of coverage.min_per_cell (3) examples, "
        "1 production seed",
        "filling cell feature=refunds,persona=angry: 1 of coverage.min_per_cell (3) examples, "
        "0 production seeds",
        "wrote 2 candidates from 1 production seed of support to q.jsonl",
        "review them with: evalmix review q.jsonl --into DATA_FILE.jsonl",
    ]
    assert recorded.stderr == (
        "evalmix: note: cell feature=refunds,persona=angry has no production seed to "
        "paraphrase: sample and label production traces from it\n"
    )
    # Only the starved cell's seed went to the model.
    assert [prompt_of(seen.body).rsplit("Seed: ", 1)[1] for seen in api.seen] == [
        "ticket text for prod-bt-0"
    ]
    queue = lines(project.path / "q.jsonl")
    assert [c["seed"]["id"] for c in queue] == ["prod-bt-0", "prod-bt-0"]
    assert {str(c["grid"]) for c in queue} == {str({"feature": "billing", "persona": "terse"})}

    # Replay: offline, from the recorded answers, the same queue byte for byte.
    before = (project.path / "q.jsonl").read_bytes()
    (project.path / "q.jsonl").unlink()
    replayed = evalmix(project.path, *args)
    assert replayed.returncode == 0, replayed.stderr
    assert (project.path / "q.jsonl").read_bytes() == before
    assert api.count == 1

    # Dispose: one accepted candidate fills the cell, which its grid says it belongs to.
    done = evalmix(
        project.path,
        *("review", "q.jsonl", "--into", "data/reviewed.jsonl", "--reviewer", "dana"),
        stdin="a\n=\nr\n",
    )
    assert done.returncode == 0, done.stderr
    (accepted,) = lines(project.path / "data" / "reviewed.jsonl")
    assert accepted["grid"] == {"feature": "billing", "persona": "terse"}
    result = run(project, "--evalmix")
    result.stdout.fnmatch_lines(
        ["  billing * 3 · 0 · 0 * 1 · 2 · 0", "  refunds * 0 · 0 · 1 ✗ * 3 · 0 · 0"]
    )
    assert "persona=terse holds" not in result.stdout.str()  # billing × terse is full now
    result.stdout.fnmatch_lines(["*cell feature=refunds,persona=angry holds 1 example, fewer*"])


def test_cell_takes_the_seeds_of_one_cell_or_a_slice(
    project: pytest.Pytester, write_set: WriteSet, api: FakeMessagesAPI
) -> None:
    write_set(starved(), manifest=MANIFEST)
    base = ["propose", "support.evalmix.yaml", "--n", "1", "--out", "q.jsonl", "--synth", "record"]
    one = evalmix(project.path, *base, "--cell", "persona=terse,feature=refunds", **online(api))
    assert one.returncode == 0, one.stderr
    queue = lines(project.path / "q.jsonl")
    assert [c["seed"]["id"] for c in queue] == ["prod-rt-0", "prod-rt-1", "prod-rt-2"]
    assert all(c["grid"] == {"feature": "refunds", "persona": "terse"} for c in queue)

    # An axis left out means every value of it: the billing slice.
    slice_ = evalmix(project.path, *base, "--cell", "feature=billing", **online(api))
    assert slice_.returncode == 0, slice_.stderr
    queue = lines(project.path / "q.jsonl")
    assert [c["seed"]["id"] for c in queue] == ["prod-ba-0", "prod-ba-1", "prod-ba-2", "prod-bt-0"]
    assert [c["grid"]["persona"] for c in queue] == ["angry"] * 3 + ["terse"]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "feature=biling",
            "--cell: 'biling' is not a value of feature (did you mean 'billing'?); its values "
            "are billing, refunds",
        ),
        (
            "featur=billing",
            "--cell: 'featur' is not an axis of the grid (did you mean 'feature'?); the axes "
            "are feature, persona",
        ),
        ("feature", "--cell 'feature': write each axis as axis=value, e.g. feature=billing"),
        (
            "feature=refunds,persona=angry",
            "support.evalmix.yaml has no production record with a text input to paraphrase in "
            "the cells of --cell",
        ),
    ],
)
def test_a_bad_cell_is_one_line(
    project: pytest.Pytester, write_set: WriteSet, cell: str, message: str
) -> None:
    write_set(starved(), manifest=MANIFEST)
    (project.path / "data" / "reviewed.jsonl").write_text("", encoding="utf-8")
    done = evalmix(project.path, "propose", "support.evalmix.yaml", "--out", "q", "--cell", cell)
    assert (done.returncode, done.stderr) == (1, f"evalmix: error: {message}\n")


def test_fill_without_a_grid_or_a_gap(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(starved())
    args = ["propose", "support.evalmix.yaml", "--out", "q.jsonl", "--fill"]
    done = evalmix(project.path, *args)
    assert done.returncode == 1
    assert "declares no coverage grid (policy coverage.axes)" in done.stderr
    write_set(starved(), manifest=MANIFEST.replace("min_per_cell: 3", "min_per_cell: 1"))
    done = evalmix(project.path, *args)
    assert (done.returncode, done.stdout) == (
        0,
        "every cell holds at least coverage.min_per_cell (1) examples: nothing to fill\n",
    )
    assert not (project.path / "q.jsonl").exists()
