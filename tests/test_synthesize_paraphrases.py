"""The paraphrase synthesizer (docs/synthesizer.md), run as users run it: the real ``anthropic`` SDK inside a
pytest run, talking to a stand-in Messages API on 127.0.0.1. Nothing leaves the machine."""

from __future__ import annotations

import json
import shlex
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, WriteSet, healthy, record, run
from fake_messages_api import FakeMessagesAPI, prompt_of
from pytest_evalmix import EvalmixWarning
from pytest_evalmix.state import ledger
from pytest_evalmix.synth.synthesizer import CacheMiss, SynthesisError, Synthesizer, parse_variants

# Recognisable, so a leak anywhere (output, cache, ledger, reports) is easy to find.
KEY = "sk-ant-api03-EVALMIXSENTINELKEY-0123456789"
SEED = "My order #48213 says delivered but there's nothing at my door."
MODEL = "claude-opus-4-7"

StartAPI = Callable[..., FakeMessagesAPI]


@pytest.fixture(scope="session")
def sdk_imported() -> None:
    """Import the SDK once, before any pytester snapshot of sys.modules: each in-process run
    and each pytester teardown would otherwise drop it and pay for its import again."""
    import anthropic  # noqa: F401


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch, sdk_imported: None) -> Iterator[StartAPI]:
    """Start a stand-in API and point the SDK at it with a fake key, as a user's env would."""
    started: list[FakeMessagesAPI] = []
    for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    def start(*args: Any, **kwargs: Any) -> FakeMessagesAPI:
        api = FakeMessagesAPI(*args, **kwargs).start()
        started.append(api)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        return api

    yield start
    for api in started:
        api.stop()


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key and no endpoint: what CI has."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def write_test(pytester: pytest.Pytester, seed: str = SEED, n: int = 3) -> None:
    """A user's test that paraphrases one seed and saves what it got, for us to inspect."""
    pytester.makepyfile(
        test_para=f"""
        import json
        from pathlib import Path

        def test_it(paraphrase):
            out = paraphrase({seed!r}, {n})
            Path("out.json").write_text(json.dumps(out))
        """
    )


def got(pytester: pytest.Pytester) -> list[str]:
    data = json.loads((pytester.path / "out.json").read_text())
    assert isinstance(data, list)
    return [str(item) for item in data]


def cache_files(root: Path) -> list[Path]:
    return sorted((root / ".evalmix" / "cache").glob("*.json"))


def assert_clean(result: pytest.RunResult) -> str:
    """No traceback, no SDK internals, no key: the output a user should see."""
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert "_base_client.py" not in out and "anthropic/" not in out
    assert KEY not in out
    return out


# -- record, replay, refresh, miss --------------------------------------------------------


def test_record_then_replay_offline(
    project: pytest.Pytester,
    fake_api: StartAPI,
    monkeypatch: pytest.MonkeyPatch,
    xdist: list[str],
) -> None:
    api = fake_api()
    write_test(project)
    result = run(project, "--evalmix-synth=record", *xdist)
    result.assert_outcomes(passed=1)
    assert api.count == 1
    assert api.seen[0].credential == KEY
    assert api.seen[0].body["model"] == MODEL and api.seen[0].body["max_tokens"] == 1024
    recorded = got(project)
    assert recorded == [f"Rewrite {i} of: {SEED}" for i in (1, 2, 3)]

    [entry] = cache_files(project.path)
    data = json.loads(entry.read_text())
    assert set(data) == {"model", "prompt", "params", "response", "stop_reason", "created"}
    assert data["model"] == MODEL and data["created"] == TODAY
    assert data["params"] == {"max_tokens": 1024}
    assert data["prompt"].startswith("Rewrite the message below 3 ways. Vary tone, formality")
    assert data["prompt"].endswith(f"One per line.\n\nSeed: {SEED}")
    assert entry.stem not in entry.read_text()
    assert not list(entry.parent.glob("*.tmp"))

    # CI: no key, no endpoint, the stand-in gone. The cache key does not depend on the endpoint.
    api.stop()
    offline(monkeypatch)
    (project.path / "out.json").unlink()
    result = run(project, *xdist)
    result.assert_outcomes(passed=1)
    assert got(project) == recorded


def test_replay_miss_fails_with_the_command_that_records_it(
    project: pytest.Pytester, fake_api: StartAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project)
    offline(monkeypatch)
    result = run(project)
    result.assert_outcomes(failed=1)
    out = assert_clean(result)
    result.stdout.fnmatch_lines(
        [
            f'evalmix: no cached answer for paraphrase("My order #48213 says*", n=3) from {MODEL} in replay mode (no .evalmix/cache/*.json)',
            "To record it, set ANTHROPIC_API_KEY and run:",
            "    pytest --evalmix-synth=record test_para.py::test_it",
        ]
    )
    assert not cache_files(project.path)

    # The command is runnable as printed.
    command = out.split("set ANTHROPIC_API_KEY and run:\n", 1)[1].splitlines()[0]
    argv = shlex.split(command)
    assert argv[0] == "pytest"
    api = fake_api()
    result = run(project, *argv[1:])
    result.assert_outcomes(passed=1)
    assert api.count == 1 and len(cache_files(project.path)) == 1


def test_record_reuses_the_cache_and_refresh_overwrites_it(
    project: pytest.Pytester, fake_api: StartAPI
) -> None:
    first = fake_api("1. Where is my parcel?\n2. The parcel is not here.\n3. Nothing arrived.")
    write_test(project)
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    assert first.count == 1, "record mode asked again for a cached request"

    second = fake_api("- No parcel at my door.\n- It says delivered, it isn't.\n- Missing order.")
    run(project, "--evalmix-synth=refresh").assert_outcomes(passed=1)
    assert second.count == 1
    assert got(project) == [
        "No parcel at my door.",
        "It says delivered, it isn't.",
        "Missing order.",
    ]
    [entry] = cache_files(project.path)
    assert json.loads(entry.read_text())["response"].startswith("- No parcel at my door.")

    run(project).assert_outcomes(passed=1)
    assert got(project)[0] == "No parcel at my door."
    assert first.count + second.count == 2


def test_unreadable_cache_entry_in_replay_says_what_to_do(
    project: pytest.Pytester, fake_api: StartAPI
) -> None:
    api = fake_api()
    write_test(project)
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    [entry] = cache_files(project.path)
    entry.write_text('{"model": "claude-opus-4-7", <<<<<<< HEAD')
    result = run(project)
    result.assert_outcomes(failed=1)
    assert_clean(result)
    result.stdout.fnmatch_lines(
        [f"evalmix: cache entry .evalmix/cache/{entry.name} is unreadable*"]
    )
    result.stdout.fnmatch_lines(
        ["*record mode replaces it", "*pytest --evalmix-synth=record test_para.py::test_it"]
    )
    # Record mode repairs it.
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    assert api.count == 2
    assert json.loads(entry.read_text())["model"] == MODEL


# -- the API: retries, errors, the key ------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500])
def test_retried_statuses_then_success(
    project: pytest.Pytester, fake_api: StartAPI, status: int
) -> None:
    api = fake_api(statuses=[status, status])
    write_test(project)
    start = time.perf_counter()
    result = run(project, "--evalmix-synth=record")
    result.assert_outcomes(passed=1)
    assert api.count == 3, "the SDK's two default retries"
    assert time.perf_counter() - start < 5, "the stand-in's retry-after-ms was not honoured"
    assert len(got(project)) == 3


@pytest.mark.parametrize(
    ("status", "requests", "advice"),
    [
        (401, 1, "the API key was refused; check ANTHROPIC_API_KEY"),
        (429, 3, "rate limited even after the SDK's retries; try again later*"),
        (500, 3, "the API failed even after the SDK's retries; try again later"),
    ],
)
def test_api_error_is_a_clear_failure(
    project: pytest.Pytester, fake_api: StartAPI, status: int, requests: int, advice: str
) -> None:
    api = fake_api(always=status)
    write_test(project)
    result = run(project, "--evalmix-synth=record", "--showlocals")
    result.assert_outcomes(failed=1)
    assert_clean(result)
    result.stdout.fnmatch_lines(
        [f"evalmix: Anthropic API error {status} (*) for model {MODEL}: {advice}*"]
    )
    assert api.count == requests
    assert not cache_files(project.path)
    assert not (project.path / ".evalmix" / "ledger.jsonl").exists()


def test_record_without_a_key_names_the_variable(
    project: pytest.Pytester, fake_api: StartAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fake_api()
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    write_test(project)
    result = run(project, "--evalmix-synth=record")
    result.assert_outcomes(failed=1)
    assert_clean(result)
    result.stdout.fnmatch_lines(
        [
            "evalmix: --evalmix-synth=record calls the Anthropic API, which needs a key, but "
            "ANTHROPIC_API_KEY is not set.*"
        ]
    )
    assert api.count == 0


def test_the_key_is_never_written_or_printed(project: pytest.Pytester, fake_api: StartAPI) -> None:
    # A retried request, a good one, and a refused one whose failure must not echo the key.
    api = fake_api(
        statuses=[429], status_of=lambda body: 401 if "refund" in prompt_of(body) else None
    )
    project.makepyfile(
        test_key="""
        def test_ok(paraphrase):
            assert paraphrase("I can't log in to my account.", 3)

        def test_refused(paraphrase):
            paraphrase("Please refund my November charge.", 3)
        """
    )
    reports = ["--junitxml=junit.xml", "--evalmix-report=r.md", "--evalmix-report=r.json"]
    result = run(project, "--evalmix-synth=record", "-rA", "-l", "-vv", *reports)
    result.assert_outcomes(passed=1, failed=1)
    assert api.count == 3
    assert api.seen and all(seen.credential == KEY for seen in api.seen)
    assert KEY not in result.stdout.str() + result.stderr.str()
    written = [p for p in project.path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "cache" for p in written)
    assert any(p.name == "ledger.jsonl" for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path


# -- parsing and the short-answer warning -------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("1. One\n2) Two\n(3) Three", ["One", "Two", "Three"]),
        ("- One\n* Two\n• Three\n– Four", ["One", "Two", "Three", "Four"]),
        ("\"One\"\n“Two”\n'Three'", ["One", "Two", "Three"]),
        ("One\n\n   \nTwo\n", ["One", "Two"]),
        ("One\none \n  ONE\nTwo", ["One", "Two"]),
        (f"1. {SEED}\n2. {SEED.upper()}\n3. Other", ["Other"]),
        (
            "Here are 3 rewrites:\n1. One\n2. Two\n3. Three\nHope this helps!",
            ["One", "Two", "Three"],
        ),
        ("-5% off was promised\n*nix users too", ["-5% off was promised", "*nix users too"]),
        ('"Hi," she said, "thanks"', ['"Hi," she said, "thanks"']),
        ("'I can't log in'", ["I can't log in"]),
    ],
)
def test_parse_drops_markers_quotes_blanks_duplicates_and_the_seed(
    answer: str, expected: list[str]
) -> None:
    assert parse_variants(answer, SEED, 10) == expected


def test_parse_cuts_to_n_and_drops_a_truncated_last_line() -> None:
    answer = "\n".join(f"{i}. Rewrite {i}" for i in range(1, 13))
    assert parse_variants(answer, SEED, 10) == [f"Rewrite {i}" for i in range(1, 11)]
    assert parse_variants("1. Whole\n2. Cut in the mid", SEED, 5, truncated=True) == ["Whole"]


def test_fewer_than_n_warns_and_can_be_made_an_error(
    project: pytest.Pytester, fake_api: StartAPI
) -> None:
    fake_api(f'1. "Nothing came."\n2. nothing came.\n3. {SEED}\n4. Where is it?')
    write_test(project, n=5)
    result = run(project, "--evalmix-synth=record")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*EvalmixWarning: paraphrase(*, n=5) got 2 distinct rewrites of 5*"]
    )
    assert got(project) == ["Nothing came.", "Where is it?"]
    result = run(project, "-W", "error::pytest_evalmix.EvalmixWarning")
    result.assert_outcomes(failed=1)


# -- ledger, xdist, the fixture's configuration --------------------------------------------


def test_parallel_workers_share_one_cache_and_ledger(
    project: pytest.Pytester, fake_api: StartAPI
) -> None:
    api = fake_api(delay=0.05)
    seeds = ["Refund please.", "App crashes on start.", "Parcel is late."]
    project.makepyfile(
        test_many=f"""
        import pytest

        @pytest.mark.parametrize("i", range(9))
        def test_it(paraphrase, i):
            assert len(paraphrase({seeds!r}[i % 3], 4)) == 4
        """
    )
    run(project, "--evalmix-synth=record", "-n", "2").assert_outcomes(passed=9)
    assert 3 <= api.count <= 6
    entries = cache_files(project.path)
    assert len(entries) == 3
    for entry in entries:
        assert json.loads(entry.read_text())["model"] == MODEL
    assert not list(entries[0].parent.glob("*.tmp"))
    lines = (project.path / ".evalmix" / "ledger.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    expected = {ledger.digest(f"Rewrite {i} of: {s}") for s in seeds for i in range(1, 5)}
    assert {row["sha256"] for row in rows} == expected
    assert all(row["model"] == MODEL and row["date"] == TODAY for row in rows)

    # Replaying leaves the ledger as it was: a committed ledger stays clean.
    run(project, "-n", "2").assert_outcomes(passed=9)
    assert (project.path / ".evalmix" / "ledger.jsonl").read_text().splitlines() == lines


def test_synthesizer_fixture_follows_ini_and_options(
    project: pytest.Pytester, fake_api: StartAPI
) -> None:
    api = fake_api()
    project.makefile(
        ".toml",
        pyproject='[tool.pytest.ini_options]\nevalmix_model = "claude-test-1"\n'
        'evalmix_dir = "state/evalmix"\n',
    )
    project.makepyfile(
        test_obj="""
        def test_it(evalmix_synthesizer):
            assert evalmix_synthesizer.model == "claude-test-1"
            assert evalmix_synthesizer.mode == "record"
            out = evalmix_synthesizer.paraphrase_many(["a seed", "b seed", "a seed"], 2)
            assert out == [
                ["Rewrite 1 of: a seed", "Rewrite 2 of: a seed"],
                ["Rewrite 1 of: b seed", "Rewrite 2 of: b seed"],
                ["Rewrite 1 of: a seed", "Rewrite 2 of: a seed"],
            ]
        """
    )
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    assert api.count == 2 and {s.body["model"] for s in api.seen} == {"claude-test-1"}
    assert len(list((project.path / "state/evalmix/cache").glob("*.json"))) == 2
    assert (project.path / "state/evalmix/ledger.jsonl").is_file()


def test_replay_never_imports_anthropic(
    project: pytest.Pytester, fake_api: StartAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_api()
    write_test(project)
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    offline(monkeypatch)
    project.makepyfile(
        test_modules="""
        import sys
        import pytest

        def test_replay_and_miss(paraphrase, evalmix_synthesizer):
            assert paraphrase("My order #48213 says delivered but there's nothing at my door.", 3)
            with pytest.raises(pytest.fail.Exception, match="no cached answer"):
                paraphrase("never recorded", 3)
            assert evalmix_synthesizer.mode == "replay"
            assert "anthropic" not in sys.modules
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "test_modules.py")
    result.assert_outcomes(passed=1)


# -- paraphrase_many ----------------------------------------------------------------------


def test_paraphrase_many_runs_side_by_side_in_input_order(
    tmp_path: Path, fake_api: StartAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fake_api(delay=0.1)
    seeds = [f"Ticket number {i} needs help." for i in range(8)]
    synth = Synthesizer(model=MODEL, evalmix_dir=tmp_path, mode="record")
    start = time.perf_counter()
    out = synth.paraphrase_many(seeds, n=2, concurrency=4)
    elapsed = time.perf_counter() - start
    assert out == [[f"Rewrite {i} of: {s}" for i in (1, 2)] for s in seeds]
    assert api.max_in_flight == 4
    assert api.count == 8
    assert elapsed < 0.8 * 8 * 0.1, "requests ran one at a time"

    # The results are in the shared cache: a replaying synthesizer serves them with no API.
    api.stop()
    offline(monkeypatch)
    replay = Synthesizer(model=MODEL, evalmix_dir=tmp_path)
    assert replay.paraphrase(seeds[5], 2) == out[5]
    with pytest.raises(CacheMiss, match=r"2 of 3 paraphrase requests .* no cached answer") as info:
        replay.paraphrase_many([seeds[0], "new one", "new two"], n=2)
    assert info.value.command == "pytest --evalmix-synth=record"


def test_paraphrase_many_one_at_a_time(tmp_path: Path, fake_api: StartAPI) -> None:
    api = fake_api(delay=0.02)
    synth = Synthesizer(model=MODEL, evalmix_dir=tmp_path, mode="record")
    synth.paraphrase_many([f"seed {i}" for i in range(4)], n=1, concurrency=1)
    assert api.max_in_flight == 1 and api.count == 4


def test_paraphrase_many_reports_an_api_failure_after_caching_the_rest(
    tmp_path: Path, fake_api: StartAPI
) -> None:
    api = fake_api(statuses=[401])
    synth = Synthesizer(model=MODEL, evalmix_dir=tmp_path, mode="record")
    with pytest.raises(SynthesisError, match="401") as info:
        synth.paraphrase_many(["first seed", "second seed", "third seed"], n=2, concurrency=1)
    assert not isinstance(info.value, CacheMiss)
    assert api.count == 3
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2


def test_bad_arguments() -> None:
    synth = Synthesizer(model=MODEL, evalmix_dir=Path("unused"))
    with pytest.raises(SynthesisError, match="non-empty string"):
        synth.paraphrase("   ", 3)
    with pytest.raises(SynthesisError, match="positive integer"):
        synth.paraphrase("seed", 0)
    with pytest.raises(ValueError, match="concurrency"):
        synth.paraphrase_many(["seed"], 1, concurrency=0)
    with pytest.raises(ValueError, match="mode must be one of replay, record, refresh"):
        Synthesizer(model=MODEL, evalmix_dir=Path("unused"), mode="live")


def test_short_answer_warning_outside_pytest(tmp_path: Path, fake_api: StartAPI) -> None:
    fake_api("1. Only one")
    synth = Synthesizer(model=MODEL, evalmix_dir=tmp_path, mode="record")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert synth.paraphrase("seed text", 3) == ["Only one"]
    assert [type(w.message) for w in caught] == [EvalmixWarning]


# -- laundered gold ------------------------------------------------------------------------


def test_laundered_gold_fails_gold_provenance(
    project: pytest.Pytester,
    fake_api: StartAPI,
    monkeypatch: pytest.MonkeyPatch,
    write_set: WriteSet,
    xdist: list[str],
) -> None:
    fake_api()
    write_test(project)
    run(project, "--evalmix-synth=record").assert_outcomes(passed=1)
    generated = got(project)[1]

    # Someone pastes the model's rewrite into a record as a human-written gold answer.
    offline(monkeypatch)
    laundered = record("prod-0", gold=f"  {generated.upper()} ")
    write_set([laundered, *healthy()[1:]])
    result = run(project, "--evalmix", "support.evalmix.yaml", *xdist)
    assert result.ret == 1
    assert_clean(result)
    result.stdout.fnmatch_lines(
        [
            f"data/support.jsonl:1: prod-0: gold labeled human matches text generated by {MODEL} "
            f"on {TODAY} (synthesis ledger) — hand-label it yourself*"
        ]
    )
    result.stdout.fnmatch_lines(["*gold-provenance*FAILED (1 finding)*"])
