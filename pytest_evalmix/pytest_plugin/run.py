"""The enabled pytest layer: manifest collection, check items, the end-of-run summary.

Imported only once ``--evalmix`` (or ini ``evalmix = true``) is in force, so an installed but
disabled plugin never pays for pydantic, PyYAML or the checks.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib
import os
import warnings
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

import pytest_evalmix.pytest_plugin.sets as sets  # by full name: see plugin.pytest_configure
from pytest_evalmix.checkers import registry as checkers
from pytest_evalmix.checks import suite as rules
from pytest_evalmix.checks.result import CheckResult, Context
from pytest_evalmix.checks.suite import AFTER_EVALS, BASE_ONLY, collected, registry
from pytest_evalmix.errors import EvalmixWarning, ManifestError
from pytest_evalmix.files.atomic import write_atomic
from pytest_evalmix.files.paths import check_write, check_write_below, display_path
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.model.findings import Finding, ordered
from pytest_evalmix.model.text import escape
from pytest_evalmix.pytest_plugin.fixtures import (
    evalmix_dir,
    is_xdist_controller,
    is_xdist_worker,
    xdist_workers,
)
from pytest_evalmix.pytest_plugin.params import outcome_of
from pytest_evalmix.report import terminal, views
from pytest_evalmix.report.data import Payload, Report, check_payload, set_payload
from pytest_evalmix.results import outcomes as outcomes_mod
from pytest_evalmix.results.outcomes import Outcome
from pytest_evalmix.revisions import git
from pytest_evalmix.revisions.delta import Baseline


def register(config: pytest.Config, project_policy: dict[str, Any], patterns: list[str]) -> None:
    writer = ReportWriter(config)  # first: a bad --evalmix-report is a usage error (exit 4)
    sets.seed_project_policy(config, project_policy)
    session = EvalmixSession(config, patterns)
    config.pluginmanager.register(session, "evalmix-session")
    writer.session = session
    config.pluginmanager.register(writer, "evalmix-reports")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(session), "evalmix-xdist")


class CheckFailed(Exception):
    """Raised by a check item with its findings; rendered as ``path:line`` lines, no traceback."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} findings")
        self.findings = findings


class ManifestFile(pytest.File):
    """One manifest: parsed in `collect`, never in `pytest_collect_file`."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            # An xdist worker collects the checks but never judges them (`after_evals`), so it
            # reads the manifest only; the controller reads the records, once, for every check.
            evalset = sets.evalset(self.config, self.path, records=not is_xdist_worker(self.config))
        except ManifestError as exc:
            raise self.CollectError(f"evalmix: {exc}") from None
        except Exception as exc:
            # Our bug, not the user's data: still one line with the file (no traceback, which
            # would also land in the reports), and what to send us.
            shown = display_path(self.path, self.config.rootpath)
            raise self.CollectError(
                f"evalmix: {shown}:1: cannot load this eval set: {type(exc).__name__}: {exc} "
                "— this is a bug in pytest-evalmix; please report it with the file that caused it"
            ) from None
        base = self.config.pluginmanager.getplugin("evalmix-session").base
        for name in registry():
            if name in BASE_ONLY and base is None:
                continue  # ``changes``: only under --evalmix-base
            if collected(name, evalset):
                yield CheckItem.from_parent(self, name=name, evalset=evalset)


class CheckItem(pytest.Item):
    """One check of one eval set: node id ``<manifest>::<check>``."""

    def __init__(self, *, evalset: EvalSet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evalset = evalset
        self.result: CheckResult | None = None

    def runtest(self) -> None:
        session: EvalmixSession = self.config.pluginmanager.getplugin("evalmix-session")
        self.result = rules.run(self.name, self.evalset, session.context())
        promoted = _warn(self.result.warnings)
        if promoted:
            # ``-W error::pytest_evalmix.EvalmixWarning``: those warnings are failures now, and
            # the report says so too.
            self.result.warnings = [w for w in self.result.warnings if w not in promoted]
            self.result.findings = ordered(self.result.findings + promoted)
        if self.result.findings:
            raise CheckFailed(self.result.findings)
        if self.result.skipped:
            pytest.skip(self.result.skipped)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            return "\n".join(f.render() for f in excinfo.value.findings)
        if isinstance(excinfo.value, EvalmixWarning):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        # The domain heads the failure section. It must not end the node id: pytest -v prints
        # a node id that ends with the domain with the domain's dots turned into ``::``, which
        # made ``support::evalmix::yaml::schema``, an id that selects nothing when pasted back.
        return self.path, 0, f"{self.evalset.manifest}: {self.name}"

    def payload(self) -> Payload:
        result = self.result or CheckResult(skipped="did not run")
        return {"set": set_payload(self.evalset), "check": check_payload(self.name, result)}


class EvalmixSession:
    """Every hook of an enabled run. Registered only under ``--evalmix``."""

    def __init__(self, config: pytest.Config, patterns: list[str]) -> None:
        self.config = config
        self.patterns = patterns
        self.manifests_found = False
        self.manifest_errors = 0
        # Manifest node id -> the collection error's text, for the Markdown and JSON reports.
        self.manifest_error_texts: dict[str, str] = {}
        self.payloads: dict[str, Payload] = {}
        today = config.getoption("evalmix_today")
        self.today: dt.date = today or dt.date.today()
        _import_checkers(config)
        # Eval outcomes from tests parametrized with examples(), as their reports arrive:
        # manifest -> example id -> node id -> outcome (an example may have several tests).
        self.outcomes: dict[str, dict[str, dict[str, Outcome]]] = {}
        self.set_names: dict[str, str] = {}
        # True while the outcome-dependent checks run, after every eval (see `judge_after_evals`).
        self.judging = False
        # Under xdist: the node ids a worker collected; the controller collects nothing itself.
        self.collected_ids: list[str] | None = None
        self.results_lines: list[str] = []
        self.base = _open_base(config)

    def context(self) -> Context:
        return Context(
            today=self.today,
            evalmix_dir=evalmix_dir(self.config),
            # Taken per item, so conftests met during collection have registered theirs.
            checkers=checkers.registered(),
            outcomes=outcomes_mod.merge_session(self.outcomes),
            base=self.base,
        )

    def is_manifest(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.patterns)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.File | None:
        if self.is_manifest(file_path.name):
            manifest: ManifestFile = ManifestFile.from_parent(parent, path=file_path)
            return manifest
        return None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Found means selected, as under xdist (the workers report only the items they run):
        # pytest offers every file of a directory to pytest_collect_file, even when the command
        # line names one test file beside the manifest.
        if any(isinstance(item, CheckItem) for item in session.items):
            self.manifests_found = True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if isinstance(item, CheckItem) and call.when == "call":
            # Plain data only: it crosses to the xdist controller inside the report.
            report.evalmix = item.payload()  # type: ignore[attr-defined]
            if report.skipped and isinstance(report.longrepr, tuple):
                # -rs points at the manifest, not at the line of this module that skipped.
                report.longrepr = (str(item.path), 1, report.longrepr[2])
        if call.when != "teardown":
            outcome = outcome_of(item, call, report)
            if outcome is not None:
                # Plain data too, like pytest-json-report's: the controller aggregates it.
                report.evalmix_outcome = outcome  # type: ignore[attr-defined]
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Under xdist the controller collects nothing itself; a manifest that failed to load on
        # a worker still counts as found, so the run is not also told "no manifest".
        if report.failed and self.is_manifest(report.nodeid.split("::")[0].rsplit("/", 1)[-1]):
            self.manifests_found = True
            self.manifest_errors += 1
            self.manifest_error_texts[report.nodeid] = str(report.longrepr).strip()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "evalmix", None)
        if isinstance(payload, dict):
            self.payloads[report.nodeid] = payload
        outcome = getattr(report, "evalmix_outcome", None)
        if isinstance(outcome, dict):
            manifest = str(outcome["manifest"])
            by_id = self.outcomes.setdefault(manifest, {})
            by_id.setdefault(str(outcome["id"]), {})[report.nodeid] = outcomes_mod.from_test(
                outcome
            )
            self.set_names[manifest] = str(outcome["set"])
            # examples() read this manifest: found, even if no check item of it was selected
            # (under xdist the controller only learns of manifests through selected items).
            self.manifests_found = True

    def after_evals(self, item: pytest.Item) -> bool:
        """Whether ``item`` is judged after every eval, by the process that saw them all.

        The checks of outcomes always are. Under xdist every check is: the controller loads
        each set once, with every core, and judges all its checks; a worker that loaded a
        million examples to judge ``schema`` would only repeat that load on one core.
        """
        if not isinstance(item, CheckItem):
            return False
        return item.name in AFTER_EVALS or is_xdist_worker(self.config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        """Hold back the checks that judge outcomes: they run in `judge_after_evals`.

        Where the item is met (in this process, or on an xdist worker) it is only set up and
        torn down, unreported, so pytest's setup state stays in step with ``nextitem``; a
        failure there (a fixture finalizer of another test) is still reported.
        """
        if self.judging or not self.after_evals(item):
            return None
        for report in (_unlogged(item, "setup"), _unlogged(item, "teardown", nextitem)):
            if report.failed:
                item.ihook.pytest_runtest_logreport(report=report)
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Iterator[None]:
        """After the loop (and under xdist after every worker), judge with every outcome in."""
        try:
            result = yield
        finally:
            if not is_xdist_worker(self.config):
                self.write_results()
        if (
            not is_xdist_worker(self.config)
            and not self.config.option.collectonly
            and not session.shouldfail
            and not session.shouldstop
        ):
            self.judge_after_evals(session)
        return result

    def judge_after_evals(self, session: pytest.Session) -> None:
        """Run the held-back checks (`after_evals`) through pytest's own runtest protocol, last.

        Without xdist they are this session's items. Under xdist the controller rebuilds the
        check items its workers collected (same manifests, same node ids), because only it has
        seen every worker's outcomes; it loads each set itself, once. One code path, so the
        verdicts are the same with ``-n N`` as without.
        """
        if is_xdist_controller(self.config):
            items = self._rebuild(session)
        else:
            items = [item for item in session.items if self.after_evals(item)]
        self.judging = True
        try:
            for index, item in enumerate(items):
                nextitem = items[index + 1] if index + 1 < len(items) else None
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.shouldfail or session.shouldstop:
                    break
        finally:
            self.judging = False

    def _rebuild(self, session: pytest.Session) -> list[pytest.Item]:
        wanted = [
            nodeid
            for nodeid in self.collected_ids or []
            if nodeid.count("::") == 1
            and self.is_manifest(nodeid.split("::")[0].rsplit("/", 1)[-1])
        ]
        found: dict[str, pytest.Item] = {}
        for file_part in dict.fromkeys(nodeid.split("::")[0] for nodeid in wanted):
            manifest = ManifestFile.from_parent(session, path=self.config.rootpath / file_part)
            try:
                found.update((item.nodeid, item) for item in manifest.collect())
            except pytest.Collector.CollectError as exc:
                # The manifest changed on disk since the workers read it: a collection error.
                failed = pytest.CollectReport(file_part, "failed", str(exc.args[0]), [])
                session.ihook.pytest_collectreport(report=failed)
                session.testsfailed += 1
        return [found[nodeid] for nodeid in wanted if nodeid in found]

    def write_results(self) -> None:
        """Write each set's session outcomes to ``<evalmix_dir>/results/<name>.jsonl``."""
        base = evalmix_dir(self.config) / "results"
        merged = outcomes_mod.merge_session(self.outcomes)
        files = {m: outcomes_mod.results_name(self.set_names.get(m, m)) for m in merged}
        taken = Counter(files.values())
        for manifest, by_id in merged.items():
            name = files[manifest]
            if taken[name] > 1:
                # Two sets of one name must not overwrite each other's outcomes: these take
                # their manifest's path instead.
                name = outcomes_mod.results_name(manifest.removesuffix(".yaml").replace("/", "-"))
            path = base / name
            shown = display_path(path, self.config.rootpath)
            try:
                check_write(path, evalmix_dir(self.config), self.config.rootpath)
                count = outcomes_mod.write_results(path, outcomes_mod.iter_sorted(by_id))
            except OSError as exc:
                self.results_lines.append(f"results: could not write {shown}: {exc}")
            else:
                name = escape(self.set_names.get(manifest, manifest))  # a set's name is data
                self.results_lines.append(f"results of {name}: {count} outcomes written to {shown}")

    def report(self) -> Report:
        order = list(registry())
        return Report.from_payloads(
            (self.payloads[key] for key in sorted(self.payloads)), order=order
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if is_xdist_worker(self.config):
            return
        if (
            self.manifest_errors
            and session.exitstatus == pytest.ExitCode.TESTS_FAILED
            and not self.config.getoption("continue_on_collection_errors")
        ):
            # xdist reports a worker's collection error as a failure; a manifest that cannot be
            # read is exit 2 with or without xdist (docs/json-report.md).
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        if not self.manifests_found and self.config.getoption("evalmix"):
            if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
                session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if is_xdist_worker(self.config):
            return
        if not self.manifests_found:
            looked = ", ".join(self.config.args) or str(self.config.invocation_params.dir)
            terminalreporter.write_line(
                f"evalmix: no manifest found under {looked}: manifests are files named like "
                f"{' or '.join(self.patterns)} (ini evalmix_manifests)"
            )
            return
        report = self.report()
        quiet = self.config.getoption("verbose") < 0
        if not report.sets and (quiet or not self.results_lines):
            return
        terminalreporter.section("evalmix")
        if quiet:  # -q: one line per set
            terminal.write(terminalreporter, terminal.compact_rows(report))
        else:
            terminal.write(terminalreporter, report.rows())
        if self.config.getoption("verbose") >= 0:  # -q keeps to one line per set
            for line in self.results_lines:
                terminalreporter.write_line(line)


def _unlogged(
    item: pytest.Item, when: str, nextitem: pytest.Item | None = None
) -> pytest.TestReport:
    """Run one phase of ``item``'s runtest protocol through pytest's public hooks and return
    its report, unlogged: what pytest's own protocol does, minus the logging and the call."""
    ihook = item.ihook
    if when == "setup":
        call = pytest.CallInfo.from_call(
            lambda: ihook.pytest_runtest_setup(item=item), when="setup", reraise=_RERAISE
        )
    else:
        call = pytest.CallInfo.from_call(
            lambda: ihook.pytest_runtest_teardown(item=item, nextitem=nextitem),
            when="teardown",
            reraise=_RERAISE,
        )
    report: pytest.TestReport = ihook.pytest_runtest_makereport(item=item, call=call)
    return report


# What pytest's own protocol lets escape a phase: an exit request and Ctrl-C.
_RERAISE = (pytest.exit.Exception, KeyboardInterrupt)


class ReportWriter:
    """``--evalmix-report`` files and the GitHub step summary, on the controller only.

    Written at session finish with ``trylast``, so after every verdict is in: the checks held
    back until the evals ran, and the exit status that `EvalmixSession` settles. Under xdist the
    workers write nothing; the controller has every payload.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.session: EvalmixSession | None = None
        self.targets: dict[Path, str] = {}
        self.lines: list[str] = []
        self.relative: set[Path] = set()  # given relative: must not leave through a symlink
        base = config.invocation_params.dir
        for value in config.getoption("evalmix_report") or []:
            fmt = views.report_format(value)
            if fmt is None:
                raise pytest.UsageError(
                    f"--evalmix-report={value}: unknown report format "
                    f"{Path(value).suffix or '(no suffix)'!r}; name the file *.md for Markdown "
                    "or *.json for JSON"
                )
            path = Path(os.path.normpath(base / Path(value).expanduser()))
            if not Path(value).expanduser().is_absolute():
                self.relative.add(path)
            self.targets.setdefault(path, fmt)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        summary = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
        if (
            self.session is None
            or is_xdist_worker(self.config)
            or self.config.option.collectonly
            or not (self.targets or summary)
        ):
            return
        evalmix = self.session
        report = evalmix.report()
        errors = [
            {"path": nodeid, "message": text}
            for nodeid, text in sorted(evalmix.manifest_error_texts.items())
        ]
        rendered: dict[str, str] = {}

        def text(fmt: str) -> str:
            if fmt not in rendered:
                rendered[fmt] = views.render(report, fmt, today=evalmix.today, errors=errors)
            return rendered[fmt]

        for path, fmt in self.targets.items():
            shown = display_path(path, self.config.rootpath)
            try:
                if path in self.relative:
                    check_write_below(path, self.config.rootpath, self.config.invocation_params.dir)
                write_atomic(path, text(fmt))
            except OSError as exc:
                self.lines.append(f"evalmix: could not write the report {shown}: {exc}")
            else:
                label = {"markdown": "Markdown", "json": "JSON"}[fmt]
                self.lines.append(f"evalmix: {label} report written to {shown}")
        if summary:
            try:
                views.append_text(Path(summary), text("markdown"))
            except OSError as exc:
                self.lines.append(f"evalmix: could not append to GITHUB_STEP_SUMMARY: {exc}")
            else:
                self.lines.append("evalmix: Markdown report appended to GITHUB_STEP_SUMMARY")

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.lines:
            terminalreporter.write_line(line, red=line.startswith("evalmix: could not"))


def _import_checkers(config: pytest.Config) -> None:
    """Import the modules of ini ``evalmix_checkers``: their decorators register checkers.

    These names come from the project's configuration, which is code's to choose; a record can
    only name a checker that is already registered.
    """
    for name in config.getini("evalmix_checkers"):
        try:
            importlib.import_module(str(name))
        except Exception as exc:  # any error in the user's module: a usage error, exit 4
            raise pytest.UsageError(
                f"ini evalmix_checkers: cannot import {name!r}: {type(exc).__name__}: {exc}"
            ) from None


def _open_base(config: pytest.Config) -> Baseline | None:
    """``--evalmix-base=REF``, resolved with git now: a REF that git cannot resolve is a usage
    error (exit 4) before anything is collected."""
    ref = config.getoption("evalmix_base")
    if ref is None:
        return None
    try:
        base = git.open_base(config.rootpath, ref)
    except git.GitError as exc:
        raise pytest.UsageError(str(exc)) from None
    return Baseline(base, sets.project_policy(config), sharing=xdist_workers(config))


def _warn(findings: list[Finding]) -> list[Finding]:
    """Emit each warning as an `EvalmixWarning` located at the record's path and line.

    The location is the record's, not this module's, so pytest's warnings summary reads
    ``path:line: EvalmixWarning: id: message — fix``. Returns the warnings that the warning
    filters raised as errors (``-W error::pytest_evalmix.EvalmixWarning``), so that they fail the
    item as findings.
    """
    raised: list[Finding] = []
    for finding in findings:
        text = finding.render().removeprefix(f"{finding.path}:{finding.line}: ")
        try:
            warnings.warn_explicit(EvalmixWarning(text), EvalmixWarning, finding.path, finding.line)
        except EvalmixWarning:
            raised.append(finding)
    return raised


class _XdistHooks:
    """Hooks that exist only when pytest-xdist is installed."""

    def __init__(self, session: EvalmixSession) -> None:
        self.session = session

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.session.collected_ids is None:  # every worker collects the same items
            self.session.collected_ids = list(ids)
        for nodeid in ids:
            file_part = nodeid.split("::", 1)[0]
            if self.session.is_manifest(file_part.rsplit("/", 1)[-1]):
                self.session.manifests_found = True
                return
