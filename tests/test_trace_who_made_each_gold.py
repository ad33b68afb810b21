"""``gold-provenance`` (docs/checks.md): who produced each gold, and whether they were allowed to."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from conftest import TODAY, WriteSet, healthy, record, run
from pytest_evalmix.state import ledger

MODEL = "claude-opus-4-7"
PROVISIONAL = {"owner": "priya", "backfill_by": "2027-03-31", "created": "2026-11-10"}


def with_label(data: dict[str, Any], **label: Any) -> dict[str, Any]:
    data["label"] = {"at": "2026-10-14", **label}
    return data


def llm(rid: str, **label: Any) -> dict[str, Any]:
    return with_label(record(rid), source="llm", **label)


def calc(rid: str, gold: Any, **label: Any) -> dict[str, Any]:
    return with_label(
        record(
            rid,
            "adversarial",
            gold=gold,
            # Each its own ticket: the same input twice would be a `duplicates` finding.
            input={"ticket": f"2 mugs ({rid})", "expression": "2 * 19.99"},
        ),
        source="programmatic",
        **label,
    )


def synthetic(rid: str, **label: Any) -> dict[str, Any]:
    return with_label(record(rid, "synthetic"), **label)


def in_set(bad: dict[str, Any]) -> list[dict[str, Any]]:
    """The healthy set with the first record of the same origin replaced, so the mix holds."""
    records = healthy()
    index = next(i for i, r in enumerate(records) if r["origin"] == bad["origin"])
    records[index] = bad
    return records


CASES = [
    pytest.param(
        llm("prod-0", by=MODEL),
        llm("prod-0", by=MODEL, provisional=PROVISIONAL),
        f"data/support.jsonl:1: prod-0: gold written by {MODEL} and not provisional — hand-label it, "
        "make it programmatic with a checker, or mark it provisional with an owner and a backfill date",
        id="llm-not-provisional",
    ),
    pytest.param(
        llm("prod-0"),
        with_label(record("prod-0"), source="human", by="dana"),
        "data/support.jsonl:1: prod-0: gold written by an LLM (label.by not set) and not provisional — hand-label it*",
        id="llm-anonymous",
    ),
    pytest.param(
        calc("adv-0", 39.98),
        calc("adv-0", 39.98, checker="arithmetic"),
        "data/support.jsonl:16: adv-0: programmatic gold names no checker: nothing vouches for it — set "
        "label.checker to a registered checker (built in: arithmetic, regex, sqlite), or label the gold human",
        id="no-checker",
    ),
    pytest.param(
        calc("adv-0", 39.98, checker="arithmatic"),
        calc("adv-0", 39.98, checker="arithmetic"),
        "data/support.jsonl:16: adv-0: unknown checker 'arithmatic' (did you mean 'arithmetic'?); "
        "registered: arithmetic, regex, sqlite — register a checker with @pytest_evalmix.checker(name)*",
        id="unknown-checker",
    ),
    pytest.param(
        calc("adv-0", 40, checker="arithmetic"),
        calc("adv-0", 39.98, checker="arithmetic"),
        "data/support.jsonl:16: adv-0: checker 'arithmetic' computes 39.98, not the gold 40 — correct the "
        "gold (or the input) so that the checker reproduces it; a gold that its checker does not "
        "reproduce is not programmatic",
        id="not-reproduced",
    ),
    pytest.param(
        synthetic("syn-0", source="human", by=MODEL),
        synthetic("syn-0", source="human", by="dana"),
        f"data/support.jsonl:11: syn-0: gold labeled by {MODEL}, the model that generated this synthetic "
        "input: the eval would measure how alike two models think, not whether the answer is right — "
        "synthesize the input, hand-label the output: have a person label the gold, or make it "
        "programmatic with a checker",
        id="own-generator",
    ),
    pytest.param(
        synthetic("syn-0", source="llm", by="Claude-Opus-4-7 ", provisional=PROVISIONAL),
        synthetic("syn-0", source="llm", by="gpt-5", provisional=PROVISIONAL),
        "data/support.jsonl:11: syn-0: gold labeled by Claude-Opus-4-7 , the model that generated this "
        "synthetic input*",
        id="own-generator-even-if-provisional",
    ),
]


@pytest.mark.parametrize(("bad", "fixed", "expected"), CASES)
def test_finding_and_its_fix(
    project: pytest.Pytester,
    write_set: WriteSet,
    bad: dict[str, Any],
    fixed: dict[str, Any],
    expected: str,
) -> None:
    write_set(in_set(bad))
    result = run(project, "--evalmix")
    assert result.ret == 1, result.stdout.str()
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    result.stdout.fnmatch_lines([expected, "*gold-provenance *FAILED (1 finding)"])

    write_set(in_set(fixed))
    result = run(project, "--evalmix")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*gold-provenance *passed"])


def test_all_findings_at_once(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    """Every kind in one set: each at its path:line, in file order, the same under xdist."""
    records = healthy()
    records[0] = llm("prod-0", by=MODEL)
    records[10] = synthetic("syn-0", source="human", by=MODEL)
    records[15] = calc("adv-0", 39.98)
    records[16] = calc("adv-1", 39.98, checker="os:system")
    records[17] = calc("adv-2", 1, checker="arithmetic")
    records[18] = calc("adv-3", 39.98, checker="arithmetic")
    write_set(records)
    result = run(project, "--evalmix", *xdist)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "data/support.jsonl:1: prod-0: gold written by claude-opus-4-7 and not provisional*",
            "data/support.jsonl:11: syn-0: gold labeled by claude-opus-4-7, the model that generated*",
            "data/support.jsonl:16: adv-0: programmatic gold names no checker*",
            "data/support.jsonl:17: adv-1: unknown checker 'os:system'*",
            "data/support.jsonl:18: adv-2: checker 'arithmetic' computes 39.98, not the gold 1*",
            "*gold-provenance *FAILED (5 findings)",
        ]
    )
    assert "adv-3" not in result.stdout.str()


def test_laundered_gold_through_the_ledger(project: pytest.Pytester, write_set: WriteSet) -> None:
    """The synthesizer's ledger plugs into this check: a human gold that a model wrote fails."""
    text = "Refund the duplicate charge and apologise for the double billing."
    ledger.append(
        project.path / ".evalmix" / ledger.LEDGER_NAME, [text], MODEL, dt.date.fromisoformat(TODAY)
    )
    records = healthy()
    records[3] = record("prod-3", gold=f"  {text.upper()}\n")
    write_set(records)
    result = run(project, "--evalmix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"data/support.jsonl:4: prod-3: gold labeled human matches text generated by {MODEL} on "
            f"{TODAY} (synthesis ledger) — *"
        ]
    )

    records[3] = record("prod-3", gold="Refund the duplicate charge.")
    write_set(records)
    assert run(project, "--evalmix").ret == 0


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "parallel-load"])
def test_laundered_gold_in_every_file_shape(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """The second pass over the golds lands on the right row whatever the file, including
    after blank lines, records that failed, and repeated ids that were not loaded."""
    text = "Escalate to the payments team."
    ledger.append(
        project.path / ".evalmix" / ledger.LEDGER_NAME, [text], MODEL, dt.date.fromisoformat(TODAY)
    )
    # Each laundered record comes right after a line that is not a row, so a pass that
    # counted that line as a row would blame its neighbour instead.
    jsonl_lines = [json.dumps(r) for r in healthy()]
    jsonl_lines[2] = json.dumps(record("prod-2", gold=text))
    jsonl_lines[3] = json.dumps(record("prod-3", gold=text))
    jsonl_lines.insert(3, "")
    jsonl_lines.insert(4, "{not json")
    jsonl_lines.append(json.dumps(record("prod-0")))  # a repeated id: not loaded
    jsonl_lines.append(json.dumps(record("prod-99", gold=text.upper())))
    # A model's gold that says so is not laundering.
    jsonl_lines.append(json.dumps(llm("llm-1", provisional=PROVISIONAL) | {"gold": text}))
    (project.path / "data").mkdir()
    (project.path / "data" / "support.jsonl").write_text("\n".join(jsonl_lines) + "\n")
    (project.path / "data" / "more.yaml").write_text(
        "- id: yaml-1\n  input: a\n  gold: fine\n  origin: production\n"
        "  label: {source: human, by: dana, at: 2026-10-01}\n"
        "- id: prod-1\n  input: a\n  gold: fine\n  origin: production\n"
        "  label: {source: human, by: dana, at: 2026-10-01}\n"
        "- id: yaml-2\n  input: b\n"
        f"  gold: '{text}'\n  origin: production\n"
        "  label: {source: human, by: dana, at: 2026-10-01}\n"
    )
    (project.path / "data" / "more.csv").write_text(
        "id,text,answer,origin,label.source,label.by,label.at\n"
        "csv-1,c,fine,production,human,dana,2026-10-01\n"
        f"csv-2,d,{text},production,human,dana,2026-10-01\n"
    )
    (project.path / "support.evalmix.yaml").write_text(
        "evalmix: 1\n"
        "data:\n"
        "  - data/support.jsonl\n"
        "  - data/more.yaml\n"
        "  - path: data/more.csv\n"
        "    fields: {input: text, gold: answer}\n"
        "examples:\n"
        "  - id: inline-1\n"
        "    input: e\n"
        f"    gold: '{text}'\n"
        "    origin: production\n"
        "    label: {source: human, by: dana, at: 2026-10-01}\n"
    )
    if parallel:
        monkeypatch.setenv("PYTEST_EVALMIX_PARALLEL_BYTES", "100")
    result = project.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--evalmix-today={TODAY}", "--evalmix"
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    launders = sorted(
        line.split(" gold labeled human", 1)[0]
        for line in out.splitlines()
        if "gold labeled human matches text generated by" in line
    )
    assert launders == [
        "data/more.csv:3: csv-2:",
        "data/more.yaml:11: yaml-2:",
        "data/support.jsonl:24: prod-99:",
        "data/support.jsonl:3: prod-2:",
        "data/support.jsonl:6: prod-3:",
        "support.evalmix.yaml:8: inline-1:",
    ]
