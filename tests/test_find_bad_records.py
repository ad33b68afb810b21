"""The ``schema`` check: every way a record or data file can be bad, each at its path:line."""

from __future__ import annotations

import fnmatch
import json

import pytest

from conftest import WriteSet, healthy, jsonl, record, run


def test_healthy_set_passes(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set()
    result = run(project, "--evalmix", *xdist)
    assert "failed" not in result.parseoutcomes()
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*eval set support (support.evalmix.yaml)*",
            "*production*10*50.0%*50%*",
            "*synthetic*5*25.0%*25%*",
            "*adversarial*5*25.0%*25%*",
            "*schema*passed*",
        ]
    )


def test_node_id_is_manifest_and_check(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set()
    result = run(project, "--evalmix", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["support.evalmix.yaml::schema"])


def _schema_failure(project: pytest.Pytester, *args: str) -> list[str]:
    result = run(project, "--evalmix", *args)
    assert result.ret == 1, result.stdout.str()
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    return out.splitlines()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": "x1", bad', "data/support.jsonl:21: x1: malformed JSON*"),
        (
            '["not", "an", "object"]',
            "data/support.jsonl:21: -: record is not an object (got a list)*",
        ),
        ('"just text"', "data/support.jsonl:21: -: record is not an object (got a string)*"),
        (
            json.dumps({k: v for k, v in record("x2").items() if k != "gold"}),
            "data/support.jsonl:21: x2: missing required field 'gold' — add 'gold'",
        ),
        (
            json.dumps({**record("x3"), "orgin": "production"}),
            "data/support.jsonl:21: x3: unknown key 'orgin' (did you mean 'origin'?)*",
        ),
        (
            json.dumps(record("x4", "prod")),
            "data/support.jsonl:21: x4: origin is 'prod', expected 'production', 'synthetic' or"
            " 'adversarial'*",
        ),
        (
            json.dumps({**record("x5"), "label": {"source": "human", "at": "2026-13-01"}}),
            "data/support.jsonl:21: x5: label.at is not a valid date: '2026-13-01' — write dates"
            " as ISO 8601*",
        ),
        (
            json.dumps({**record("x6"), "input": ""}),
            "data/support.jsonl:21: x6: input is empty — give input a real value",
        ),
        (
            json.dumps({**record("x7"), "label": {"source": "human", "by": "a", "provsional": {}}}),
            "data/support.jsonl:21: x7: unknown key 'label.provsional' (did you mean"
            " 'provisional'?)*",
        ),
        (
            json.dumps(record("prod-3")),
            "data/support.jsonl:21: prod-3: duplicate id: also at data/support.jsonl:4*",
        ),
    ],
    ids=[
        "malformed",
        "list",
        "string",
        "missing",
        "unknown-key",
        "bad-origin",
        "bad-date",
        "empty-input",
        "nested-unknown",
        "duplicate",
    ],
)
def test_bad_record_fails_with_path_line(
    project: pytest.Pytester, write_set: WriteSet, line: str, expected: str
) -> None:
    write_set()
    data = project.path / "data" / "support.jsonl"
    data.write_text(data.read_text() + line + "\n")
    lines = _schema_failure(project)
    assert any(fnmatch.fnmatch(text, expected) for text in lines), "\n".join(lines)
    # One bad record hides nothing else: the twenty good ones are still counted.
    assert any(fnmatch.fnmatch(text, "total*20*") for text in lines)


def test_non_utf8_line(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set()
    data = project.path / "data" / "support.jsonl"
    bad = (
        json.dumps(record("x8", input="caf\u00e9"), ensure_ascii=False)
        .encode()
        .replace(b"\xc3\xa9", b"\xe9")
    )
    data.write_bytes(data.read_bytes() + bad + b"\n")
    lines = _schema_failure(project)
    assert any(
        fnmatch.fnmatch(t, "data/support.jsonl:21: x8: non-UTF-8 bytes*— re-save the file as UTF-8")
        for t in lines
    ), lines


def test_every_format_and_field_map(project: pytest.Pytester) -> None:
    """JSONL, JSON, YAML (list and mapping), CSV with dotted columns, presets and defaults."""
    (project.path / "data").mkdir()
    (project.path / "data" / "p.jsonl").write_text(
        jsonl([record(f"p{i}") for i in range(4)]) + "\n"
    )
    (project.path / "data" / "s-1.yaml").write_text(
        "- id: s1\n  input: hi\n  gold: billing\n  origin: synthetic\n"
        "  label: {source: human, at: 2026-01-02}\n"
    )
    (project.path / "data" / "s-2.yaml").write_text(
        "examples:\n  - id: s2\n    input: {ticket: hi, lang: en}\n    gold: [billing]\n"
        "    origin: synthetic\n    label: {source: human}\n"
    )
    (project.path / "data" / "a.csv").write_text(
        "id,input,gold,origin,label.source,label.by,grid.feature,tags\n"
        'a1,"Hello, I was charged twice",billing,adversarial,human,ann,refunds,x;y\n'
    )
    (project.path / "data" / "goldens.json").write_text(
        json.dumps(
            [{"name": "g1", "input": "q", "expected_output": "refunds", "context": ["c"]}],
            indent=2,
        )
    )
    (project.path / "data" / "inspect.jsonl").write_text(
        json.dumps({"id": "i1", "input": "q?", "target": "billing", "metadata": {"k": 1}}) + "\n"
    )
    (project.path / "data" / "mine.jsonl").write_text(
        json.dumps({"key": "m1", "question": "q!", "answer": "billing"}) + "\n"
    )
    (project.path / "evals.evalmix.yaml").write_text(
        """evalmix: 1
name: formats
data:
  - data/p.jsonl
  - data/s-*.yaml
  - data/a.csv
  - path: data/goldens.json
    fields: deepeval
    defaults: {origin: adversarial, label: {source: human, by: lee}}
  - path: data/inspect.jsonl
    fields: inspect
    defaults: {origin: production, label: {source: human}}
  - path: data/mine.jsonl
    fields: {id: key, input: question, gold: answer}
    defaults: {origin: production, label: {source: human}}
examples:
  - {id: inline-1, input: hello, gold: billing, origin: adversarial, label: {source: human}}
policy:
  mix: {tolerance: 0.5}
"""
    )
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*eval set formats*",
            "*production*6*",
            "*synthetic*2*",
            "*adversarial*3*",
            "*total*11*",
        ]
    )


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("bad.json", '[\n  {"id": "j1",\n   oops}\n]\n', "data/bad.json:3: -: malformed JSON*"),
        (
            "bad.json",
            '{\n  "id": "j1"\n}\n',
            "data/bad.json:1: -: a .json data file must hold a list*",
        ),
        ("bad.yaml", "- id: y1\n  input: [unclosed\n", "data/bad.yaml:*: -: malformed YAML*"),
        (
            "bad.yaml",
            "- !!python/object/apply:os.system ['touch pwned']\n",
            "data/bad.yaml:1: -: code-running tag !!python/object/apply:os.system refused*",
        ),
        (
            "bad.csv",
            'id,input,gold,origin,label.source\nc1,"unterminated,x,production,human\n',
            "data/bad.csv:2: -: malformed CSV*",
        ),
        (
            "bad.csv",
            "id,input,gold,origin,label.source\nc1,hi,billing,production,human,extra\n",
            "data/bad.csv:2: -: the row has 6 cells but the header has 5*",
        ),
        (
            "bad.txt",
            "hello\n",
            "support.evalmix.yaml:4: -: data file 'data/bad.txt' has an unsupported type*",
        ),
        # Valid syntax that Python cannot read, or PyYAML cannot construct: findings too.
        (
            "deep.jsonl",
            '{"id": "d1", "input": "x", "gold": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
            "data/deep.jsonl:1: d1: JSON nested too deeply to read — flatten the value*",
        ),
        (
            "long.jsonl",
            '{"id": "n1", "input": "x", "gold": 1' + "0" * 5000 + "}\n",
            "data/long.jsonl:1: n1: JSON a number too long to read*",
        ),
        (
            "deep.json",
            "[" * 100_000 + "]" * 100_000 + "\n",
            "data/deep.json:1: -: JSON nested too deeply to read*",
        ),
        (
            "deep.yaml",
            "- id: y1\n  gold: " + "[" * 300 + "]" * 300 + "\n",
            "data/deep.yaml:2: -: YAML nested more than 200 levels deep*",
        ),
        (
            "tagged.yaml",
            "- id: y1\n  input: x\n  gold: !!bool maybe\n- id: y2\n  input: !!int abc\n",
            "data/tagged.yaml:3: -: invalid YAML value (KeyError: 'maybe'): a tagged value*",
        ),
        (
            "bom.csv",
            "\ufeffid,input,gold,origin,label.source\nc1,hi,billing,production,human\n"
            'c2,"' + "x" * 200_000 + '",billing,production,human\n',
            "data/bom.csv:3: -: malformed CSV: field larger than field limit (131072); the rows "
            "after it were not read — shorten the field*",
        ),
    ],
    ids=[
        "json-syntax",
        "json-not-list",
        "yaml-syntax",
        "python-tag",
        "csv-quote",
        "csv-cells",
        "txt",
        "jsonl-deep",
        "jsonl-long-number",
        "json-deep",
        "yaml-deep",
        "yaml-bad-tagged-value",
        "csv-bom-and-huge-field",
    ],
)
def test_bad_file(
    project: pytest.Pytester, write_set: WriteSet, filename: str, content: str, expected: str
) -> None:
    write_set(manifest=f"evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/{filename}\n")
    (project.path / "data" / filename).write_text(content)
    lines = _schema_failure(project)
    assert any(fnmatch.fnmatch(t, expected) for t in lines), "\n".join(lines)
    assert not any("unknown key" in t for t in lines), "\n".join(lines)  # a BOM is not a key
    assert not (project.path / "pwned").exists()


def test_billion_laughs_fails_fast(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/lol.yaml\n")
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        prev = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        levels.append(f"{name}: &{name} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    (project.path / "data" / "lol.yaml").write_text("\n".join(levels) + "\n")
    lines = _schema_failure(project)
    assert any(
        fnmatch.fnmatch(t, "data/lol.yaml:1: -: aliases expand * refused as an alias bomb*")
        for t in lines
    ), lines


def test_missing_file_glob_and_outside_rootdir(
    project: pytest.Pytester, write_set: WriteSet, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret = tmp_path_factory.mktemp("outside") / "secret.jsonl"
    secret.write_text('{"id": "TOP-SECRET-CONTENT"}\n')
    write_set(
        manifest=(
            "evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/missing.jsonl\n"
            f"  - data/nothing-*.yaml\n  - {secret}\n  - ../../outside/*.jsonl\n"
        )
    )
    result = run(project, "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "support.evalmix.yaml:4: -: data file 'data/missing.jsonl' not found*",
            "support.evalmix.yaml:5: -: data glob 'data/nothing-*.yaml' matches no file*",
            "support.evalmix.yaml:6: -: data path * resolves outside the rootdir; it was not read*",
        ]
    )
    assert "TOP-SECRET-CONTENT" not in result.stdout.str()


def test_unreadable_file(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/dir.jsonl\n")
    (project.path / "data" / "dir.jsonl").mkdir()
    lines = _schema_failure(project)
    assert any(fnmatch.fnmatch(t, "data/dir.jsonl:1: -: cannot read the file*") for t in lines), (
        lines
    )


def test_extra_allowed_by_policy(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(
        [*healthy(), {**record("x"), "notes": "free", "label": {"source": "human", "mood": "ok"}}],
        manifest="evalmix: 1\ndata: [data/support.jsonl]\npolicy: {schema: {extra: allow}}\n",
    )
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()


def test_duplicate_across_files_names_both(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(manifest="evalmix: 1\ndata:\n  - data/support.jsonl\n  - data/more.yaml\n")
    (project.path / "data" / "more.yaml").write_text(
        "- id: prod-0\n  input: again\n  gold: billing\n  origin: production\n"
        "  label: {source: human}\n"
    )
    result = run(project, "--evalmix")
    result.stdout.fnmatch_lines(
        ["data/more.yaml:1: prod-0: duplicate id: also at data/support.jsonl:1 — give each*"]
    )


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "parallel"])
def test_big_files_split_across_processes_keep_lines(
    project: pytest.Pytester, write_set: WriteSet, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """The parallel loader must report the same findings, at the same lines, as one process."""
    records = [
        record(f"r{i}", ("production", "synthetic", "adversarial", "production")[i % 4])
        for i in range(400)
    ]
    lines = [json.dumps(r) for r in records]
    lines[150] = '{"id": "r150", broken'
    lines[390] = json.dumps(record("r7"))  # a repeat of a record in an earlier piece
    # The fast path applies the model's two Python rules itself: blank input, null gold.
    lines[60] = json.dumps(record("r60", input="   \t "))
    lines[61] = json.dumps(record("r61", gold=None))
    # Sparse columns: a gold labelled by its own generator, and a rejected record.
    own = record("r301", "synthetic")
    own["label"]["by"] = "claude-opus-4-7"
    lines[301] = json.dumps(own)
    rejected = record(
        "r302", review={"by": "sam", "decision": "rejected", "at": "2026-10-02", "seconds": 40}
    )
    lines[302] = json.dumps(rejected)
    lines.insert(200, "")  # a blank line shifts everything after it
    write_set(manifest="evalmix: 1\ndata: [data/support.jsonl, data/more.jsonl]\n")
    (project.path / "data" / "support.jsonl").write_text("\n".join(lines) + "\n")
    (project.path / "data" / "more.jsonl").write_text(json.dumps(record("r3")) + "\n")
    if parallel:
        monkeypatch.setenv("PYTEST_EVALMIX_PARALLEL_BYTES", "1000")
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/more.jsonl:1: r3: duplicate id: also at data/support.jsonl:4 *",
            "data/support.jsonl:61: r60: input is blank*",
            "data/support.jsonl:62: r61: gold is null*",
            "data/support.jsonl:151: r150: malformed JSON*",
            "data/support.jsonl:392: r7: duplicate id: also at data/support.jsonl:8 *",
            "*gold-provenance*",
            "data/support.jsonl:303: r301: gold labeled by claude-opus-4-7, the model that *",
            "*review*",
            "data/support.jsonl:304: r302: record was rejected in review by sam but is in *",
            "*total*396*",
        ]
    )
