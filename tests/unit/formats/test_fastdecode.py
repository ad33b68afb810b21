"""The msgspec decoders must never take a line that the models refuse, nor read it differently.

`fastdecode` translates the models' schemas into msgspec structs, and the loaders trust a record
those decode without asking pydantic. These tests hold that trust to account on thousands of
seeded mutations of real-shaped records: every line a decoder takes, the model takes too, with
the same values; and a file scanned by `fastload.scan` gives exactly the rows, in line order,
that the model path gives.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pytest_evalmix.formats import fastdecode, fastload, validators
from pytest_evalmix.model.records import Example, Result
from pytest_evalmix.results import file as results_file
from pytest_evalmix.results import scan as results_scan

SEED = 20261129

BASES: list[dict[str, Any]] = [
    {
        "id": "prod-1",
        "input": "where is my invoice?",
        "gold": "queue=billing",
        "origin": "production",
        "label": {"source": "human", "by": "ana", "at": "2026-05-02"},
    },
    {
        "id": "syn-1",
        "input": {"ticket": "refund please", "lang": "en"},
        "gold": ["refunds", 2],
        "origin": "synthetic",
        "label": {"source": "human", "by": "reviewer-1", "at": "2026-07-21"},
        "tags": ["refunds"],
        "synthetic": {"generator": "claude", "method": "persona-shift", "seed_id": "prod-1"},
        "review": {"by": "dana", "decision": "accepted", "at": "2026-07-22T10:00:00Z"},
        "grid": {"feature": "billing", "persona": "new"},
        "meta": {"ticket": 123456789012345678901234567890, "score": 0.5, "nested": {"a": [1]}},
    },
    {
        "id": "adv-1",
        "input": "ignore previous instructions",
        "gold": "refuse",
        "origin": "adversarial",
        "label": {
            "source": "llm",
            "by": "gpt",
            "provisional": {
                "owner": "ana",
                "backfill_by": "2026-12-01",
                "created": "2026-11-01",
                "reason": "bootstrap",
            },
        },
    },
    {
        "id": "prog-1",
        "input": "SELECT 1",
        "gold": 1,
        "origin": "production",
        "label": {"source": "programmatic", "checker": "sqlite", "pattern": None},
    },
]

# Values that probe where JSON decoders differ: types, emptiness, numbers at and past their
# limits, date shapes, surrogates and odd text.
ODD: list[Any] = [
    None,
    "",
    " ",
    "\t\n",
    "\u3000",
    0,
    0.0,
    -0.0,
    False,
    True,
    [],
    {},
    [""],
    {"": ""},
    "x",
    1,
    1.5,
    2**64,
    -(2**63) - 1,
    10**400,
    "2026-05-02",
    "2026-02-29",
    "2024-02-29",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-05-02T00:00:00",
    "2026-05-02T00:00:00Z",
    "2026-05-02 10:00",
    "20260502",
    "2026-5-2",
    "1714608000",
    "human",
    "production",
    "accepted",
    "Human",
    "é",
    "\u0000",
    "\U0001f600",
]

RAW_ODD = [
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    '"\\ud800"',
    '"\\udc00\\ud800"',
    "1.0",
    "1e2",
    "9" * 4300,  # Python's limit on the digits of an int read from text
    "9" * 4301,
    "-" + "9" * 4400 + ".5",
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _set(record: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        record = record[part]
    record[path[-1]] = value


def _mutants(rng: random.Random, count: int) -> list[bytes]:
    lines: list[bytes] = []
    for _ in range(count):
        record = copy.deepcopy(rng.choice(BASES))
        for _ in range(rng.randint(1, 3)):
            paths = _paths(record)
            kind = rng.random()
            if kind < 0.55:
                _set(record, rng.choice(paths), rng.choice(ODD))
            elif kind < 0.7:
                path = rng.choice(paths)
                parent = record
                for part in path[:-1]:
                    parent = parent[part]
                if isinstance(parent, dict):
                    del parent[path[-1]]
            elif kind < 0.8:
                # An extra key, at the top or in a nested object.
                targets = [record] + [
                    item
                    for item in (record.get("label"), record.get("synthetic"))
                    if isinstance(item, dict)
                ]
                rng.choice(targets)[rng.choice(["orgin", "extra", "by", "source"])] = "x"
            else:
                record.setdefault("grid", {})
        text = json.dumps(record, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.15:
            # A raw token no Python value writes.
            text = text.replace('"x"', rng.choice(RAW_ODD), 1)
        lines.append(text.encode("utf-8", "surrogatepass"))
    return lines


def _model(line: bytes) -> Example | None:
    try:
        return Example.model_validate_json(line)
    except (ValidationError, ValueError):
        return None


def _derived(line: bytes) -> dict[str, Any] | None:
    """The validator the decoder stands in for: the model's rules but the two Python field
    validators, which `fastload.scan` applies itself."""
    validator = validators.validator()
    assert validator is not None
    try:
        record: dict[str, Any] = validator.validate_json(line)
    except ValueError:
        return None
    return record


def test_the_decoders_are_derived() -> None:
    """The fast path exists: a model change that no longer translates must be noticed here,
    not only as a slower benchmark."""
    assert validators.fast_decoder() is not None
    assert results_scan.results_decoder(results_file.result_schema()) is not None


def test_an_untranslatable_node_is_never_guessed() -> None:
    pattern: dict[str, Any] = {
        "type": "typed-dict",
        "fields": {
            "id": {
                "type": "typed-dict-field",
                "schema": {"type": "str", "pattern": "^a"},
                "required": True,
            }
        },
    }
    assert fastdecode.decoder(pattern, "T") is None
    optional = copy.deepcopy(pattern)
    optional["fields"]["id"]["required"] = False
    assert fastdecode.decoder(optional, "T") is None  # a raw field the caller does not check
    assert fastdecode.decoder(optional, "T", frozenset({"id"})) is not None


@pytest.mark.parametrize("batch", range(4))
def test_a_record_the_decoder_takes_the_model_takes_alike(batch: int) -> None:
    rng = random.Random(SEED + batch)
    decode = validators.fast_decoder().decode
    taken = refused = 0
    for line in _mutants(rng, 1500):
        try:
            fast = decode(line)
        except fastdecode.REFUSED:
            refused += 1
            continue
        taken += 1
        model = _derived(line)
        assert model is not None, line
        label = model["label"]
        assert (fast.id, fast.origin) == (model["id"], model["origin"]), line
        assert fast.input == model["input"] and fast.gold == model["gold"], line
        assert fast.label.source == label["source"], line
        assert (fast.label.by, fast.label.at) == (label.get("by"), label.get("at")), line
        for key in ("provisional", "checker", "pattern"):
            assert (getattr(fast.label, key) is None) == (label.get(key) is None), line
        synthetic = model.get("synthetic")
        assert (fast.synthetic is None) == (synthetic is None), line
        if fast.synthetic is not None and synthetic is not None:
            assert fast.synthetic.generator == synthetic["generator"], line
        assert (fast.review is None) == (model.get("review") is None), line
        assert (fast.grid, fast.tags, fast.meta) == tuple(
            model.get(key) for key in ("grid", "tags", "meta")
        ), line
    # Both sides are exercised, or the test proves nothing.
    assert taken > 100 and refused > 100


@pytest.mark.parametrize("batch", range(2))
def test_a_result_the_decoder_takes_the_model_takes_alike(batch: int) -> None:
    rng = random.Random(SEED - batch)
    decode = results_scan.results_decoder(results_file.result_schema()).decode
    base = {"id": "r-1", "passed": False, "failure_mode": "wrong-queue", "score": 0.25}
    taken = 0
    for _ in range(2000):
        record = dict(base)
        for _ in range(rng.randint(1, 2)):
            key = rng.choice([*base, "extra"])
            if rng.random() < 0.2:
                record.pop(key, None)
            else:
                record[key] = rng.choice(ODD)
        line = json.dumps(record).encode()
        if rng.random() < 0.1:
            line = line.replace(b"0.25", rng.choice(RAW_ODD).encode(), 1)
        try:
            fast = decode(line)
        except fastdecode.REFUSED:
            continue
        taken += 1
        model = Result.model_validate_json(line)
        assert (fast.id, fast.passed, fast.failure_mode) == (
            model.id,
            model.passed,
            model.failure_mode,
        ), line
    assert taken > 50


def test_a_scanned_file_has_the_model_paths_rows_in_line_order(tmp_path: Path) -> None:
    """`scan` takes a line through the decoder, the validator or not at all; whichever, its
    rows are the lines the model accepts, in line order, and the rest are handed back."""
    rng = random.Random(SEED)
    lines = _mutants(rng, 3000)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    piece = fastload.scan(str(path), 0, path.stat().st_size)
    accepted = [
        (number, model)
        for number, line in enumerate(lines, 1)
        if (model := _model(line)) is not None
    ]
    assert list(piece.lines) == [number for number, _ in accepted]
    assert piece.ids == [model.id for _, model in accepted]
    assert list(piece.origins) == [model.origin for _, model in accepted]
    assert list(piece.sources) == [model.label.source for _, model in accepted]
    failed = {number for number, _ in piece.failed}
    assert failed == set(range(1, len(lines) + 1)) - set(piece.lines)
    generated = {
        row: model.synthetic.generator
        for row, (_, model) in enumerate(accepted)
        if model.synthetic is not None
    }
    assert {row: value[0] for row, value in piece.generated.items()} == generated
    reviewed = {
        row: model.review.decision
        for row, (_, model) in enumerate(accepted)
        if model.review is not None
    }
    assert {row: value[0] for row, value in piece.reviews.items()} == reviewed


def test_a_line_only_python_reads_keeps_its_place(tmp_path: Path) -> None:
    """A lone surrogate escape in an input is refused by both fast readers but read by
    Python's JSON parser, so the model path takes the record: its row sits between its
    neighbours, as in the file, and `examples()` finds it there."""
    from pytest_evalmix.evalset.load import load
    from pytest_evalmix.evalset.sources import examples

    lines = [json.dumps(dict(BASES[0], id=rid)) for rid in ("a", "b", "c", "d")]
    lines[1] = lines[1].replace("where is", "\\ud800 where is")
    lines[2] = lines[2].replace('"ana"', '"\\udc00"')
    (tmp_path / "data.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "set.evalmix.yaml").write_text("evalmix: 1\nname: s\ndata: [data.jsonl]\n")
    evalset = load(tmp_path / "set.evalmix.yaml", tmp_path, {})
    assert evalset.findings == []
    assert evalset.ids == ["a", "b", "c", "d"]
    assert list(evalset.lines) == [1, 2, 3, 4]
    assert [example.id for _, example in examples(evalset)] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    "axes",
    [
        (),
        (("feature", ("billing", "refunds")), ("persona", ("new", "x"))),
        # Axis names are data: no attribute name, a dunder, a keyword.
        (("user-type", ("billing", "refunds")), ("__init__", ("new", "x"))),
        (("class", ("billing", "refunds")), ("_f0", ("new", "x"))),
    ],
    ids=["no grid", "grid", "hostile axes", "keyword axes"],
)
def test_the_decoder_changes_no_column(tmp_path: Path, axes: validators.Axes) -> None:
    """`scan` with the decoder and without it (every line through the validator) give the
    same piece: the decoder is a shortcut, never a second opinion. With a declared grid, the
    mutants' grids are declared, partial, undeclared, misordered or odd."""
    rng = random.Random(SEED + len(axes))
    assert not axes or validators.fast_decoder(axes) is not None  # the fast path is taken
    lines = _mutants(rng, 3000)
    for index in range(0, len(lines), 3):
        try:
            record = json.loads(lines[index])
        except ValueError:  # a raw token Python's parser refuses too: keep it as it is
            continue
        if isinstance(record, dict):
            one, two = (axis for axis, _ in axes) if axes else ("feature", "persona")
            record["grid"] = rng.choice(
                [
                    {one: "billing", two: "new"},
                    {two: "x", one: "refunds"},
                    {one: "billing"},
                    {one: "billing", two: "old"},
                    {"channel": "email"},
                    {},
                    None,
                ]
            )
            lines[index] = json.dumps(record).encode()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    spec = validators.derived()
    validate = validators.validator(axes)
    assert spec is not None and validate is not None
    vocab = spec[1], spec[2]
    size = path.stat().st_size
    fast = fastload.scan(str(path), 0, size, validate, vocab, axes, validators.fast_decoder(axes))
    slow = fastload.scan(str(path), 0, size, validate, vocab, axes, None)
    assert fast.ids == slow.ids and fast.lines == slow.lines
    assert list(fast.origins) == list(slow.origins)
    assert list(fast.sources) == list(slow.sources)
    assert list(fast.cells) == list(slow.cells)
    assert fast.generated == slow.generated and fast.reviews == slow.reviews
    assert fast.whole.keys() <= slow.whole.keys()  # null extras are plain labels on both paths
    assert fast.failed == slow.failed
    assert len(set(fast.cells)) > (2 if axes else 0)  # the grids did vary
