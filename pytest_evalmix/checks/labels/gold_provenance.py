"""``gold-provenance``: synthesize the input, hand-label the output.

A gold judged against a model's output must come from someone who could defend it. So a gold may
come from a person (``human``), from code (``programmatic``, vouched for by a registered checker
on every run), or from a model only while it is explicitly ``provisional``. The classic failure,
a synthetic input whose gold was written by the very model that generated it, is caught on its
own: that eval measures how similarly two models think.

LLM text passed off as a human gold is caught through the synthesis ledger (`laundered`), which
this check only consults: the synthesizer writes it, and `pytest_evalmix.checks.inputs` reads it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_evalmix.checkers import contract
from pytest_evalmix.checkers.registry import builtins
from pytest_evalmix.checks.inputs import Inputs
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.evalset.sources import golds
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.policy import Policy, suggest
from pytest_evalmix.state import ledger

NAME = "gold-provenance"
_UNLABELLED_FIX = (
    "hand-label it, make it programmatic with a checker, or mark it provisional with an owner "
    "and a backfill date"
)


def check(evalset: EvalSet, policy: Policy, context: Context, inputs: Inputs) -> CheckResult:
    findings: list[Finding] = []
    own = _own_generator(evalset)
    findings.extend(
        evalset.finding(
            row,
            f"gold labeled by {evalset.generated[row][1]}, the model that generated this "
            "synthetic input: the eval would measure how alike two models think, not whether "
            "the answer is right",
            "synthesize the input, hand-label the output: have a person label the gold, or make "
            "it programmatic with a checker",
            NAME,
        )
        for row in own
    )
    registered = context.checkers
    base_dir = evalset.manifest_path.parent
    envs: dict[str, contract.CheckerEnv] = {}
    programmatic = reproduced = 0
    for row in sorted(evalset.kept):
        example = evalset.kept[row]
        label = example.label
        if label.source == "llm" and label.provisional is None and row not in own:
            written_by = label.by or "an LLM (label.by not set)"
            findings.append(
                evalset.finding(
                    row, f"gold written by {written_by} and not provisional", _UNLABELLED_FIX, NAME
                )
            )
        elif label.source == "programmatic":
            programmatic += 1
            name = label.checker
            if not name:
                findings.append(
                    evalset.finding(
                        row,
                        "programmatic gold names no checker: nothing vouches for it",
                        "set label.checker to a registered checker (built in: "
                        f"{', '.join(sorted(builtins()))}), or label the gold "
                        "human",
                        NAME,
                    )
                )
                continue
            entry = registered.get(name)
            if entry is None:
                findings.append(
                    evalset.finding(
                        row,
                        f"unknown checker '{name}'{suggest(name, set(registered))}; "
                        f"registered: {', '.join(sorted(registered))}",
                        "register a checker with @pytest_evalmix.checker(name) in a conftest.py "
                        "or a module listed in ini evalmix_checkers, and name it here; a data "
                        "file can only name a registered checker, it never imports code",
                        NAME,
                    )
                )
                continue
            env = envs.get(name)
            if env is None:
                env = envs[name] = contract.CheckerEnv(
                    settings=policy.checkers.get(name, {}),
                    base_dir=base_dir,
                    rootdir=evalset.rootdir,
                )
            problem = contract.run(entry, example, env)
            if problem is None:
                reproduced += 1
            else:
                findings.append(evalset.finding(row, problem.message, problem.fix, NAME))
    findings.extend(laundered(evalset, inputs.ledger))
    return CheckResult(
        findings=ordered(findings),
        warnings=_untraced(evalset),
        data={"programmatic": programmatic, "reproduced": reproduced},
    )


def _own_generator(evalset: EvalSet) -> set[int]:
    """Rows whose gold was labelled by the model that generated their input.

    A programmatic gold is exempt: its ``label.by`` names a checker, and the checker decides.
    """
    # A few distinct (generator, labeller) pairs cover every synthetic row: compare those once.
    same = {
        pair
        for pair in set(evalset.generated.values())
        if pair[1] is not None and pair[1].strip().casefold() == pair[0].strip().casefold()
    }
    if not same:
        return set()
    return {
        row
        for row, pair in evalset.generated.items()
        if pair in same and evalset.sources[row] != "programmatic"
    }


_MEMO_LIMIT = 4096


def laundered(evalset: EvalSet, index: Mapping[str, ledger.Entry]) -> list[Finding]:
    """Findings for every ``human`` gold whose normalised text the synthesizer produced.

    Only a non-empty ledger pays for the second pass over the set's golds.
    """
    if not index:
        return []
    findings: list[Finding] = []
    # Golds repeat (a router's few queues, a classifier's labels): hash each text once. The
    # memo is bounded, so a set of long unique answers does not hold them all.
    memo: dict[str, ledger.Entry | None] = {}
    for row, gold in golds(evalset, "human"):
        if not isinstance(gold, str):
            continue
        if gold in memo:
            entry = memo[gold]
        else:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            entry = memo[gold] = index.get(ledger.digest(gold))
        if entry is None:
            continue
        findings.append(
            evalset.finding(
                row,
                f"gold labeled human matches text generated by {entry.model} on {entry.date} "
                "(synthesis ledger)",
                "hand-label it yourself, or label it llm and mark it provisional with an owner "
                "and a backfill date",
                NAME,
            )
        )
    return findings


def _untraced(evalset: EvalSet) -> list[Finding]:
    """Synthetic records with no ``synthetic`` block: nobody can tell what generated the input,
    so a gold labelled by that same model would go unseen. A warning, since the block is
    expected (docs/formats.md#records), not required."""
    code = evalset.origins.codebook.get("synthetic")
    codes = evalset.origins.codes
    if code is None or codes.count(code) <= sum(codes[r] == code for r in evalset.generated):
        return []
    return [
        evalset.finding(
            row,
            "synthetic record with no synthetic block: nothing says what generated its input",
            "add synthetic: {generator, method} (the model, and how it made the input), so "
            "gold-provenance can tell a gold labelled by its own generator",
            NAME,
        )
        for row, origin in enumerate(codes)
        if origin == code and row not in evalset.generated
    ]
