"""The enabled pytest layer: manifest collection, check items, the end-of-run summary.

Imported only once ``--evalmix`` (or ini ``evalmix = true``) is in force, so an installed but
disabled plugin never pays for pydantic, PyYAML or the checks.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .checks import CheckResult, Context, registry
from .evalset import EvalSet, ManifestError, load
from .findings import Finding
from .report import Payload, Report, check_payload, set_payload


def evalmix_dir(config: pytest.Config) -> Path:
    configured = str(config.getini("evalmix_dir") or "").strip()
    return config.rootpath / (configured or ".evalmix")


def register(config: pytest.Config, project_policy: dict[str, Any], patterns: list[str]) -> None:
    session = EvalmixSession(config, project_policy, patterns)
    config.pluginmanager.register(session, "evalmix-session")
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
        session: EvalmixSession = self.config.pluginmanager.getplugin("evalmix-session")
        try:
            evalset = load(self.path, self.config.rootpath, session.project_policy)
        except ManifestError as exc:
            raise self.CollectError(f"evalmix: {exc}") from None
        for name in registry():
            yield CheckItem.from_parent(self, name=name, evalset=evalset)


class CheckItem(pytest.Item):
    """One check of one eval set: node id ``<manifest>::<check>``."""

    def __init__(self, *, evalset: EvalSet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evalset = evalset
        self.result: CheckResult | None = None

    def runtest(self) -> None:
        session: EvalmixSession = self.config.pluginmanager.getplugin("evalmix-session")
        check = registry()[self.name]
        self.result = check(self.evalset, self.evalset.policy, session.context())
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
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.evalset.manifest}::{self.name}"

    def payload(self) -> Payload:
        result = self.result or CheckResult(skipped="did not run")
        return {"set": set_payload(self.evalset), "check": check_payload(self.name, result)}


class EvalmixSession:
    """Every hook of an enabled run. Registered only under ``--evalmix``."""

    def __init__(
        self, config: pytest.Config, project_policy: dict[str, Any], patterns: list[str]
    ) -> None:
        self.config = config
        self.project_policy = project_policy
        self.patterns = patterns
        self.manifests_found = False
        self.manifest_errors = 0
        self.payloads: dict[str, Payload] = {}
        today = config.getoption("evalmix_today")
        self.today: dt.date = today or dt.date.today()

    def context(self) -> Context:
        return Context(today=self.today, evalmix_dir=evalmix_dir(self.config))

    def is_manifest(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.patterns)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.File | None:
        if self.is_manifest(file_path.name):
            self.manifests_found = True
            manifest: ManifestFile = ManifestFile.from_parent(parent, path=file_path)
            return manifest
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        report = yield
        if isinstance(item, CheckItem) and call.when == "call":
            # Plain data only: it crosses to the xdist controller inside the report.
            report.evalmix = item.payload()  # type: ignore[attr-defined]
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Under xdist the controller collects nothing itself; a manifest that failed to load on
        # a worker still counts as found, so the run is not also told "no manifest".
        if report.failed and self.is_manifest(report.nodeid.split("::")[0].rsplit("/", 1)[-1]):
            self.manifests_found = True
            self.manifest_errors += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "evalmix", None)
        if isinstance(payload, dict):
            self.payloads[report.nodeid] = payload

    def report(self) -> Report:
        order = list(registry())
        return Report.from_payloads(
            (self.payloads[key] for key in sorted(self.payloads)), order=order
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if (
            self.manifest_errors
            and session.exitstatus == pytest.ExitCode.TESTS_FAILED
            and not self.config.getoption("continue_on_collection_errors")
        ):
            # xdist reports a worker's collection error as a failure; a manifest that cannot be
            # read is exit 2 with or without xdist (SPEC §10).
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        if not self.manifests_found and self.config.getoption("evalmix"):
            if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
                session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if not self.manifests_found:
            looked = ", ".join(self.config.args) or str(self.config.invocation_params.dir)
            terminalreporter.write_line(
                f"evalmix: no manifest found under {looked}: manifests are files named like "
                f"{' or '.join(self.patterns)} (ini evalmix_manifests)"
            )
            return
        report = self.report()
        if not report.sets:
            return
        terminalreporter.section("evalmix")
        for line in report.lines():
            terminalreporter.write_line(line)


class _XdistHooks:
    """Hooks that exist only when pytest-xdist is installed."""

    def __init__(self, session: EvalmixSession) -> None:
        self.session = session

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        for nodeid in ids:
            file_part = nodeid.split("::", 1)[0]
            if self.session.is_manifest(file_part.rsplit("/", 1)[-1]):
                self.session.manifests_found = True
                return
