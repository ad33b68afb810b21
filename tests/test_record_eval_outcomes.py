"""Outcomes (docs/evals.md): `examples()`, how a test's outcome becomes a result, the results file
written at the end of the run, and the statistics the pass-rate gate rests on."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteSet, healthy, record, run
from pytest_evalmix.model import stats

EVAL_MODULE = """
import pytest
from pytest_evalmix import examples


@pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
def test_eval(example, evalmix_failure_mode):
    kind = example.meta.get("kind", "pass")
    if kind == "fail":
        assert example.gold == "something else"
    elif kind == "named":
        evalmix_failure_mode("wrong-queue")
        assert example.gold == "something else"
    elif kind == "named-but-passes":
        evalmix_failure_mode("never-counted")
    elif kind == "error":
        raise KeyError(example.id)
    elif kind == "skip":
        pytest.skip("not applicable")
    elif kind == "imperative-xfail":
        pytest.xfail("known")
"""


def results_of(project: pytest.Pytester, name: str = "support") -> dict[str, dict[str, Any]]:
    path = project.path / ".evalmix" / "results" / f"{name}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["id"]: json.loads(line) for line in lines}


def kinds(**by_id: str) -> list[dict[str, Any]]:
    """The healthy set, with some examples told (through meta) how their eval should end."""
    records = healthy()
    for rec in records:
        if rec["id"] in by_id:
            rec["meta"] = {"kind": by_id[rec["id"]]}
    return records


def test_test_outcomes_become_results(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(
        kinds(
            **{
                "prod-0": "fail",
                "prod-1": "named",
                "prod-2": "named-but-passes",
                "prod-3": "error",
                "prod-4": "skip",
                "prod-5": "imperative-xfail",
            }
        )
    )
    project.makepyfile(test_evals=EVAL_MODULE)
    # -m: the evals alone (the checks are the other test modules' business).
    result = run(project, "--evalmix", "-m", "evalmix_example", *xdist)
    result.assert_outcomes(failed=3, passed=15, skipped=1, xfailed=1)
    results = results_of(project)
    assert results["prod-0"] == {"id": "prod-0", "passed": False, "failure_mode": "AssertionError"}
    assert results["prod-1"] == {"id": "prod-1", "passed": False, "failure_mode": "wrong-queue"}
    assert results["prod-2"] == {"id": "prod-2", "passed": True, "failure_mode": None}
    assert results["prod-3"]["failure_mode"] == "KeyError"
    assert "prod-4" not in results  # a skipped eval measured nothing
    assert results["prod-5"] == {"id": "prod-5", "passed": False, "failure_mode": "XFailed"}
    assert results["syn-0"]["passed"] is True
    assert len(results) == 19
    result.stdout.fnmatch_lines(
        ["results of support: 19 outcomes written to .evalmix/results/support.jsonl"]
    )
    assert list((project.path / ".evalmix" / "results").iterdir()) == [
        project.path / ".evalmix" / "results" / "support.jsonl"
    ], "a temporary file was left behind"


def test_xfail_marks_keep_the_run_green_and_still_count(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    """The documented way to keep known misses from failing CI: xfail (not strict). An xfailed
    eval is a failed result; an XPASS, strict or not, is a passed one."""
    write_set()
    project.makepyfile(
        test_evals="""
        import pytest
        from pytest_evalmix import examples

        MISSES = {"prod-0": False, "prod-1": False, "prod-2": True, "prod-3": True}

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
        def test_eval(example, request, evalmix_failure_mode):
            if example.id in MISSES:
                strict = example.id == "prod-3"
                request.applymarker(pytest.mark.xfail(reason="known miss", strict=strict))
            if example.id in MISSES and not MISSES[example.id]:
                evalmix_failure_mode("refunds routed to billing")
                assert False

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml", origin="adversarial"))
        @pytest.mark.xfail(run=False, reason="too slow today")
        def test_not_run(example):
            pass
        """
    )
    result = run(project, "--evalmix", "-m", "evalmix_example")
    result.assert_outcomes(xfailed=7, xpassed=1, failed=1, passed=16)  # prod-3: XPASS(strict)
    results = results_of(project)
    assert results["prod-0"] == {
        "id": "prod-0",
        "passed": False,
        "failure_mode": "refunds routed to billing",
    }
    assert results["prod-2"]["passed"] is True
    assert results["prod-3"]["passed"] is True
    # The xfail(run=False) tests never ran: the adversarial results come from test_eval only.
    assert results["adv-0"]["passed"] is True and len(results) == 20


def test_several_tests_of_one_example(project: pytest.Pytester, write_set: WriteSet) -> None:
    """An example passes only if every test of it passed; the first failing test (by node id)
    names the mode, whatever order they ran in."""
    write_set()
    project.makepyfile(
        test_a="""
        import pytest
        from pytest_evalmix import examples

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml", origin="production"))
        def test_tone(example, evalmix_failure_mode):
            evalmix_failure_mode("tone")
            assert example.id != "prod-1"
        """,
        test_b="""
        import pytest
        from pytest_evalmix import examples

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml", origin="production"))
        def test_route(example, evalmix_failure_mode):
            evalmix_failure_mode("route")
            assert example.id not in ("prod-1", "prod-2")
        """,
    )
    run(project, "--evalmix", "-p", "no:randomly")
    results = results_of(project)
    assert results["prod-0"]["passed"] is True
    assert results["prod-1"]["failure_mode"] == "tone"  # test_a sorts before test_b
    assert results["prod-2"]["failure_mode"] == "route"


def test_examples_params(project: pytest.Pytester, write_set: WriteSet) -> None:
    """Ids are the example ids, values are `Example`s, the origin filter works, and nothing of
    the plugin's is needed: no --evalmix, --strict-markers, nothing written."""
    write_set()
    project.makepyfile(
        test_evals="""
        import pytest
        from pytest_evalmix import Example, examples

        ALL = examples("support.evalmix.yaml")
        SOME = examples("./support.evalmix.yaml", origin=["synthetic", "adversarial"])

        def test_shape():
            assert [p.id for p in ALL][:2] == ["prod-0", "prod-1"] and len(ALL) == 20
            assert all(isinstance(p.values[0], Example) for p in ALL)
            assert {p.values[0].origin for p in SOME} == {"synthetic", "adversarial"}
            mark = ALL[0].marks[0]
            assert mark.name == "evalmix_example"
            assert mark.kwargs == {
                "manifest": "support.evalmix.yaml", "set": "support", "id": "prod-0",
                "origin": "production",
            }

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml", origin="synthetic"))
        def test_each(example):
            assert example.origin == "synthetic"
        """
    )
    result = run(project, "--strict-markers", "-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*test_each?syn-0? PASSED*"])
    assert not (project.path / ".evalmix").exists()


def test_manifest_is_relative_to_rootdir(
    project: pytest.Pytester, write_set: WriteSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_set()
    tests = project.mkdir("tests")
    (tests / "test_evals.py").write_text(
        "import pytest\nfrom pytest_evalmix import examples\n\n"
        "@pytest.mark.parametrize('example', examples('support.evalmix.yaml'))\n"
        "def test_eval(example):\n    pass\n"
    )
    monkeypatch.chdir(tests)
    result = run(project, "--evalmix", "--rootdir", str(project.path), ".")
    result.assert_outcomes(passed=20)
    assert len(results_of(project)) == 20


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            'examples("nowhere.evalmix.yaml")',
            "*evalmix: examples('nowhere.evalmix.yaml'): no manifest at *nowhere.evalmix.yaml (the path is relative to the rootdir *)",
        ),
        (
            'examples("support.evalmix.yaml", origin="synthetc")',
            "*evalmix: examples(origin='synthetc'): not an origin (did you mean 'synthetic'?); use one of production, synthetic, adversarial",
        ),
        (
            'examples("bad.evalmix.yaml")',
            "*evalmix: examples('bad.evalmix.yaml'): bad.evalmix.yaml:1: missing required key 'evalmix'*",
        ),
    ],
    ids=["missing", "origin", "bad-manifest"],
)
def test_examples_errors_fail_the_module_without_traceback(
    project: pytest.Pytester, write_set: WriteSet, call: str, expected: str
) -> None:
    write_set()
    (project.path / "bad.evalmix.yaml").write_text("name: x\n")
    project.makepyfile(
        test_evals=f"import pytest\nfrom pytest_evalmix import examples\n\n"
        f"@pytest.mark.parametrize('example', {call})\ndef test_eval(example):\n    pass\n"
    )
    result = run(project, "test_evals.py")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*ERROR collecting test_evals.py*", expected])
    out = result.stdout.str()
    assert "Traceback" not in out and "params.py" not in out


def test_nothing_written_when_not_enabled(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(kinds(**{"prod-0": "fail"}))
    project.makepyfile(test_evals=EVAL_MODULE)
    result = run(project)
    result.assert_outcomes(failed=1, passed=19)
    assert not (project.path / ".evalmix").exists()


def test_results_dir_follows_ini(project: pytest.Pytester, write_set: WriteSet) -> None:
    write_set(
        [record("a/b 1", "production"), *healthy()],
        manifest="evalmix: 1\nname: support triage/v2\ndata: [data/support.jsonl]\n",
    )
    (project.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nevalmix_dir = "build/evalmix"\n'
    )
    project.makepyfile(test_evals=EVAL_MODULE)
    run(project, "--evalmix")
    written = project.path / "build" / "evalmix" / "results" / "support-triage-v2.jsonl"
    assert len(written.read_text().splitlines()) == 21


# The statistics, against published values (R's fisher.test and prop.test, Wilson 1927).


def test_wilson_interval() -> None:
    low, high = stats.wilson(17, 20) or (0.0, 0.0)
    assert (round(low, 4), round(high, 4)) == (0.6396, 0.9476)
    none_passed = stats.wilson(0, 10) or (1.0, 0.0)
    assert none_passed[0] == 0.0 and round(none_passed[1], 4) == 0.2775
    all_passed = stats.wilson(10, 10) or (1.0, 0.0)
    assert round(all_passed[0], 4) == 0.7225 and all_passed[1] == 1.0
    assert stats.wilson(0, 0) is None


@pytest.mark.parametrize(
    ("table", "p"),
    [
        ((3, 4, 1, 4), 0.4857),  # Fisher's lady tasting tea
        ((1, 12, 9, 12), 0.002759),  # Wikipedia's studying example, two-sided
        ((8, 10, 2, 10), 0.02301),
        ((3, 3, 0, 3), 0.1),
        ((5, 5, 5, 5), 1.0),
    ],
)
def test_fisher_exact(table: tuple[int, int, int, int], p: float) -> None:
    assert stats.fisher_exact(*table) == pytest.approx(p, rel=1e-3)


def test_z_test_and_choice_of_test() -> None:
    # prop.test(c(80, 60), c(100, 100), correct = FALSE): X-squared = 9.5238, p = 0.002028
    assert stats.z_test(80, 100, 60, 100) == pytest.approx(0.002028, rel=1e-3)
    assert stats.z_test(10, 10, 20, 20) == 1.0
    assert stats.two_proportion(80, 100, 60, 100).test == "two-proportion z-test"
    # 17/20 against 14/20: 4.5 expected failures per subset, too few for the normal approximation
    small = stats.two_proportion(17, 20, 14, 20)
    assert small.test == "Fisher's exact test" and small.p_value == pytest.approx(0.4506, 1e-3)
    with pytest.raises(ValueError):
        stats.z_test(1, 0, 1, 2)


def test_fisher_is_exact_on_a_big_table() -> None:
    """lgamma keeps big tables finite; the p-value stays a probability."""
    p = stats.fisher_exact(900, 1000, 850, 1000)
    assert 0 < p < 0.01 and math.isfinite(p)


def test_outcome_file_reads_back_as_results(tmp_path: Path) -> None:
    """What the plugin writes is a valid docs/evals.md results file."""
    from pytest_evalmix.results.file import FAILED, PASSED, read_results
    from pytest_evalmix.results.outcomes import Outcome, write_results

    path = tmp_path / "r" / "x.jsonl"
    written = [Outcome("a", True), Outcome("b", False, "wrong-queue"), Outcome("c", False)]
    assert write_results(path, written) == 3
    results = read_results(path, "r/x.jsonl", "pass-rates", ["c", "b", "a"])
    assert results.found and results.findings == [] and results.unknown == []
    assert list(results.codes) == [FAILED, FAILED + results.modes.index("wrong-queue"), PASSED]
    assert results.modes[0] is None  # "c" failed with no mode named


def test_evals_alone_under_evalmix(project: pytest.Pytester, write_set: WriteSet) -> None:
    """Running just the eval module still records the set's results: examples() found it."""
    write_set()
    project.makepyfile(test_evals=EVAL_MODULE)
    result = run(project, "--evalmix", "test_evals.py")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["results of support: 20 outcomes written to *support.jsonl"])
    assert "no manifest found" not in result.stdout.str()


def test_two_sets_of_one_name_do_not_overwrite_each_others_results(
    project: pytest.Pytester, write_set: WriteSet, xdist: list[str]
) -> None:
    write_set(
        kinds(**{"prod-0": "fail"}),
        manifest="evalmix: 1\nname: support\ndata: [data/support.jsonl]\n",
    )
    (project.path / "b").mkdir()
    (project.path / "b" / "support.evalmix.yaml").write_text(
        "evalmix: 1\nname: support\ndata: [../data/support.jsonl]\n"
    )
    project.makepyfile(
        test_evals="""
import pytest
from pytest_evalmix import examples

@pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
def test_a(example):
    assert example.meta.get("kind") != "fail"

@pytest.mark.parametrize("example", examples("b/support.evalmix.yaml"))
def test_b(example):
    pass
"""
    )
    result = run(project, "--evalmix", "-m", "evalmix_example", *xdist)
    result.assert_outcomes(failed=1, passed=39)
    written = sorted(p.name for p in (project.path / ".evalmix" / "results").iterdir())
    assert written == ["b-support.evalmix.jsonl", "support.evalmix.jsonl"]
    assert results_of(project, "support.evalmix")["prod-0"]["passed"] is False
    assert results_of(project, "b-support.evalmix")["prod-0"]["passed"] is True
