"""The ``evalmix`` command: the same core as the pytest plugin, for work outside a test run.

Subcommands register themselves in `build_parser`; each is a thin front end over the core. Exit
status: 0 done, 1 failed (with one message, never a traceback), 2 a usage error, 130 interrupted.

The commands find the project the way pytest would, approximately: the rootdir is the nearest
ancestor of the file they work on that holds a pytest configuration (``pytest.ini``,
``.pytest.ini``, ``pyproject.toml`` with ``[tool.pytest.ini_options]``, ``tox.ini`` with
``[pytest]``, ``setup.cfg`` with ``[tool:pytest]``), else the nearest with a ``pyproject.toml``,
else the working directory. The ini options ``evalmix_dir`` and ``evalmix_model`` are read from
that configuration, so the CLI and ``pytest --evalmix`` share one cache, ledger and review log.
"""

from __future__ import annotations

import argparse
import configparser
import datetime as dt
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_evalmix.model.defaults import EVALMIX_DIR, MODEL, SYNTH_MODES
from pytest_evalmix.model.defaults import VERSION as __version__

SCHEMAS = ("example", "manifest", "results")


class Failure(Exception):
    """A command that cannot do its work: printed as one ``evalmix: error:`` line, exit 1."""


# -- the project: rootdir, ini options, evalmix_dir --------------------------------------------


@dataclass(frozen=True)
class Project:
    rootdir: Path
    ini: dict[str, Any]

    def evalmix_dir(self, override: str | None) -> Path:
        if override:
            return Path(override).absolute()
        configured = str(self.ini.get("evalmix_dir") or "").strip()
        return self.rootdir / (configured or EVALMIX_DIR)

    def model(self, override: str | None) -> str:
        if override:
            return override
        return str(self.ini.get("evalmix_model") or "").strip() or MODEL

    def shown(self, path: Path) -> str:
        """A path relative to the rootdir when inside it, as the plugin's findings show it."""
        try:
            return path.absolute().relative_to(self.rootdir).as_posix()
        except ValueError:
            return str(path)


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    return data


def _pytest_ini(directory: Path) -> dict[str, Any] | None:
    """The pytest ini options configured in ``directory``, or ``None`` if it has none."""
    for name in ("pytest.ini", ".pytest.ini"):
        path = directory / name
        if path.is_file():
            return _ini_section(path, "pytest") or {}
    path = directory / "pyproject.toml"
    if path.is_file():
        try:
            options = _load_toml(path).get("tool", {}).get("pytest", {}).get("ini_options")
        except (OSError, ValueError) as exc:
            raise Failure(f"cannot read {path}: {exc}") from None
        if isinstance(options, dict):
            return options
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = directory / name
        if path.is_file():
            options = _ini_section(path, section)
            if options is not None:
                return options
    return None


def _ini_section(path: Path, section: str) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read {path}: {exc}") from None
    return dict(parser[section]) if parser.has_section(section) else None


def find_project(near: Path) -> Project:
    start = near.absolute()
    ancestors = [start, *start.parents] if start.is_dir() else list(start.parents)
    for directory in ancestors:
        options = _pytest_ini(directory)
        if options is not None:
            return Project(directory, options)
    for directory in ancestors:
        if (directory / "pyproject.toml").is_file():
            return Project(directory, {})
    return Project(Path.cwd(), {})


# -- the parser ----------------------------------------------------------------------------------


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--evalmix-dir",
        metavar="DIR",
        help="where the cache, ledger and reviews live (default: ini evalmix_dir, else "
        ".evalmix under the rootdir)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalmix",
        description=(
            "Tools for an LLM eval set checked by pytest-evalmix. "
            "The checks themselves run under `pytest --evalmix`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    propose = commands.add_parser(
        "propose",
        help="paraphrase a set's inputs into candidates for review",
        description=(
            "Paraphrase the inputs of an eval set's records (production by default) into "
            "synthetic candidate records with no gold, for `evalmix review`."
        ),
    )
    propose.add_argument("manifest", metavar="MANIFEST", type=Path, help="the eval set's manifest")
    propose.add_argument("--n", type=_positive, default=10, help="rewrites per seed (default 10)")
    propose.add_argument(
        "--out", type=Path, required=True, metavar="QUEUE", help="the queue to write (JSONL)"
    )
    propose.add_argument(
        "--origin",
        default="production",
        choices=("production", "synthetic", "adversarial"),
        help="which records are the seeds (default production)",
    )
    propose.add_argument("--limit", type=_positive, metavar="K", help="use at most K seeds")
    cells = propose.add_mutually_exclusive_group()
    cells.add_argument(
        "--cell",
        metavar="AXIS=VALUE,...",
        help="only the seeds of this cell of the coverage grid (leave an axis out for every "
        "value of it); candidates carry the cell as their grid",
    )
    cells.add_argument(
        "--fill",
        action="store_true",
        help="only the seeds of the cells below coverage.min_per_cell",
    )
    propose.add_argument(
        "--synth",
        choices=SYNTH_MODES,
        default="replay",
        help="how the synthesizer uses its cache (default replay), as --evalmix-synth",
    )
    propose.add_argument("--model", help="the model (default: ini evalmix_model)")
    propose.add_argument(
        "--concurrency", type=_positive, default=8, help="requests in flight (default 8)"
    )
    _common(propose)

    review = commands.add_parser(
        "review",
        help="accept, edit or reject each candidate of a queue",
        description=(
            "Show each candidate of a queue beside its seed and the seed's gold, and take a "
            "typed decision: a accept, r reject, e edit, s skip, q quit, ? help."
        ),
    )
    review.add_argument("queue", metavar="QUEUE", type=Path, help="a queue from evalmix propose")
    review.add_argument(
        "--into",
        required=True,
        type=Path,
        metavar="DATA_FILE",
        help="the JSONL data file that accepted records are appended to",
    )
    review.add_argument(
        "--reviewer", metavar="NAME", help="your name (default: git config user.name)"
    )
    _common(review)
    review.set_defaults(parser=review)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a file format, for editors",
        description="Print the JSON Schema generated from pytest-evalmix's models.",
    )
    schema.add_argument("kind", choices=SCHEMAS, help="example (a record), manifest or results")
    schema.add_argument(
        "--file",
        action="store_true",
        help="for example: the schema of a whole YAML or JSON record file (a list of records, "
        "or a mapping with examples:) instead of one record",
    )
    schema.set_defaults(parser=schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "schema":
            return run_schema(args)
        if args.command == "propose":
            return run_propose(args)
        return run_review(args)
    except Failure as exc:
        from pytest_evalmix.model.text import escape  # messages quote data: ids, paths

        print(f"evalmix: error: {escape(str(exc), keep=chr(10))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nevalmix: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`evalmix schema manifest | head`): not worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


# -- evalmix schema ------------------------------------------------------------------------------


def schema_of(kind: str, *, file: bool = False) -> dict[str, Any]:
    """The JSON Schema of a format, generated from the models the loader validates with.

    The manifest's ``policy`` is typed as a free mapping in `Manifest` (the loader checks it key
    by key, to say where a wrong key is); here it gets the policy's own schema so an editor can
    complete and check it too.
    """
    from pytest_evalmix.model.policy import Policy
    from pytest_evalmix.model.records import Example, Manifest, Result

    if kind == "example":
        schema = Example.model_json_schema()
        if file:
            record = {"$ref": "#/$defs/Example"}
            defs = schema.pop("$defs", {})
            defs["Example"] = schema
            schema = {
                "title": "pytest-evalmix record file",
                "description": "A YAML or JSON record file: a list of records, or a mapping "
                "with examples:",
                "anyOf": [
                    {"type": "array", "items": record},
                    {
                        "type": "object",
                        "properties": {"examples": {"type": "array", "items": record}},
                        "required": ["examples"],
                        "additionalProperties": False,
                    },
                ],
                "$defs": defs,
            }
    elif kind == "manifest":
        schema = Manifest.model_json_schema()
        policy = Policy.model_json_schema(by_alias=True)
        defs = schema.setdefault("$defs", {})
        defs.update(policy.pop("$defs", {}))
        defs["Policy"] = policy
        schema["properties"]["policy"] = {
            "$ref": "#/$defs/Policy",
            "description": "overrides of the project's policy, key by key",
        }
    else:
        schema = Result.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def run_schema(args: argparse.Namespace) -> int:
    if args.file and args.kind != "example":
        args.parser.error("--file applies to example only: manifests and results are one file each")
    print(json.dumps(schema_of(args.kind, file=args.file), indent=2, ensure_ascii=False))
    return 0


# -- evalmix propose -----------------------------------------------------------------------------


def _record_command(args: argparse.Namespace) -> str:
    parts = ["evalmix", "propose", str(args.manifest), "--n", str(args.n), "--out", str(args.out)]
    if args.origin != "production":
        parts += ["--origin", args.origin]
    if args.limit is not None:
        parts += ["--limit", str(args.limit)]
    if args.cell:
        parts += ["--cell", args.cell]
    if args.fill:
        parts.append("--fill")
    if args.model:
        parts += ["--model", args.model]
    if args.evalmix_dir:
        parts += ["--evalmix-dir", args.evalmix_dir]
    parts += ["--synth", "record"]
    return shlex.join(parts)


def run_propose(args: argparse.Namespace) -> int:
    from pytest_evalmix.errors import ManifestError
    from pytest_evalmix.evalset.load import load
    from pytest_evalmix.files.paths import check_write_below
    from pytest_evalmix.model import policy as policy_mod
    from pytest_evalmix.model.text import escape
    from pytest_evalmix.review import propose

    manifest: Path = args.manifest
    if not manifest.is_file():
        raise Failure(f"no manifest at {manifest}")
    project = find_project(manifest.parent)
    try:  # before any request is paid for: the queue must not leave through a symlink
        check_write_below(args.out.absolute(), project.rootdir)
    except OSError as exc:
        raise Failure(str(exc)) from None
    try:
        project_policy = policy_mod.from_pyproject(project.rootdir)
        evalset = load(manifest.absolute(), project.rootdir, project_policy)
    except ManifestError as exc:
        raise Failure(str(exc)) from None
    except policy_mod.PolicyError as exc:
        raise Failure(f"pyproject.toml [tool.evalmix.policy]: {exc.message}") from None
    except ValueError as exc:  # a TOML syntax error
        raise Failure(f"pyproject.toml: {exc}") from None

    cells = _chosen_cells(evalset, args)
    if args.fill and not cells:
        return 0
    found = propose.seeds_of(evalset, args.origin, args.limit, cells)
    if found.invalid:
        print(
            f"evalmix: note: {found.invalid} problem(s) in the set's records; records that do not "
            "load are not used as seeds (pytest --evalmix lists them)",
            file=sys.stderr,
        )
    if found.not_text:
        print(
            f"evalmix: note: {len(found.not_text)} seed(s) have an input that is not text and "
            f"are left out: {escape(', '.join(found.not_text))}",
            file=sys.stderr,
        )
    if not found.seeds:
        where = f" in the cells {'--fill takes' if args.fill else 'of --cell'}" if cells else ""
        raise Failure(
            f"{evalset.manifest} has no {args.origin} record with a text input to paraphrase{where}"
        )

    from pytest_evalmix.synth.synthesizer import CacheMiss, SynthesisError, Synthesizer

    evalmix_dir = project.evalmix_dir(args.evalmix_dir)
    command = _record_command(args)
    synthesizer = Synthesizer(
        model=project.model(args.model),
        evalmix_dir=evalmix_dir,
        mode=args.synth,
        record_hint=command,
        rootdir=project.rootdir,
    )
    if args.synth == "replay":
        missing = [s for s in found.seeds if not synthesizer.cache_path(s.input, args.n).is_file()]
        if missing:
            raise Failure(
                f"{len(missing)} of {len(found.seeds)} seeds have no cached paraphrases from "
                f"{synthesizer.model} (n={args.n}) in {project.shown(synthesizer.cache_dir)} "
                f"(replay mode), the first {missing[0].id}.\nTo record them, set "
                f"ANTHROPIC_API_KEY and run:\n    {command}"
            )
    notes: list[str] = []
    try:
        records = propose.candidates(
            synthesizer,
            found.seeds,
            args.n,
            concurrency=args.concurrency,
            progress=propose.progress_bar(),
            notes=notes,
        )
    except CacheMiss as exc:
        raise Failure(exc.render(command)) from None
    except SynthesisError as exc:
        message = str(exc).replace("--evalmix-synth=", "--synth ")
        raise Failure(message) from None
    for note in notes:
        print(f"evalmix: note: {note}", file=sys.stderr)
    try:
        propose.write_queue(args.out, records)
    except OSError as exc:
        raise Failure(f"cannot write the queue {args.out}: {exc.strerror or exc}") from None
    seeds = len(found.seeds)
    print(
        f"wrote {len(records)} candidate{'s' if len(records) != 1 else ''} from {seeds} "
        f"{args.origin} seed{'s' if seeds != 1 else ''} of {evalset.name} to {args.out}"
    )
    print(f"review them with: evalmix review {shlex.quote(str(args.out))} --into DATA_FILE.jsonl")
    return 0


def _chosen_cells(evalset: Any, args: argparse.Namespace) -> set[int] | None:
    """The grid cells whose seeds ``--cell`` or ``--fill`` ask for, or None for every seed."""
    from pytest_evalmix.checks.outcomes.coverage import cell_name
    from pytest_evalmix.review import propose

    if args.cell:
        try:
            return propose.select_cells(evalset, args.cell)
        except propose.CellError as exc:
            raise Failure(str(exc)) from None
    if not args.fill:
        return None
    if not evalset.policy.coverage.axes:
        raise Failure(
            f"--fill: {evalset.manifest} declares no coverage grid (policy coverage.axes), so "
            "no cell is short of examples"
        )
    short = propose.short_cells(evalset)
    minimum = evalset.policy.coverage.min_per_cell
    if not short:
        print(
            f"every cell holds at least coverage.min_per_cell ({minimum}) examples: nothing to fill"
        )
        return set()
    for cell in short:
        name = cell_name(cell.cell)
        print(
            f"filling cell {name}: {cell.total} of coverage.min_per_cell ({minimum}) examples, "
            f"{cell.production} production seed{'s' if cell.production != 1 else ''}"
        )
        if not cell.production and args.origin == "production":
            print(
                f"evalmix: note: cell {name} has no production seed to paraphrase: sample and "
                "label production traces from it",
                file=sys.stderr,
            )
    return {cell.index for cell in short}


# -- evalmix review ------------------------------------------------------------------------------


def git_user_name() -> str | None:
    try:
        done = subprocess.run(
            ["git", "config", "user.name"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = done.stdout.strip()
    return name if done.returncode == 0 and name else None


def run_review(args: argparse.Namespace) -> int:
    from pytest_evalmix.files.paths import UnsafePath, check_write
    from pytest_evalmix.model.text import escape
    from pytest_evalmix.review.loop import ReviewSession
    from pytest_evalmix.review.queue import ReviewError, read_queue
    from pytest_evalmix.state import decisions

    reviewer: str = (args.reviewer or "").strip() or git_user_name() or ""
    if not reviewer:
        args.parser.error(
            "no reviewer: pass --reviewer NAME, or set one with git config user.name; every "
            "decision is saved under the name of the person who made it"
        )
    try:
        reviewer.encode("utf-8")
    except UnicodeEncodeError:
        args.parser.error("--reviewer: the name is not valid UTF-8 text")
    if not decisions.slug(reviewer):
        args.parser.error(f"--reviewer {reviewer!r}: a name needs at least one letter or digit")
    into: Path = args.into
    if into.suffix.lower() != ".jsonl":
        raise Failure(
            f"--into {into}: review appends records to a JSONL data file (.jsonl), one record a "
            "line, so each decision is saved at once; use a .jsonl file and list it under data: "
            "in the manifest"
        )
    if into.exists() and not into.is_file():
        raise Failure(f"--into {into} is not a file")
    queue: Path = args.queue
    if not queue.is_file():
        raise Failure(f"no queue at {queue} (write one with evalmix propose)")
    if into.absolute() == queue.absolute():
        raise Failure("--into is the queue itself: point it at the eval set's data file")
    project = find_project(into.absolute().parent)
    evalmix_dir = project.evalmix_dir(args.evalmix_dir)
    log = decisions.log_path(evalmix_dir, reviewer)
    try:  # never append through a committed symlink, out of evalmix_dir or the rootdir
        check_write(log, evalmix_dir, project.rootdir)
        check_write(into.absolute(), project.rootdir)
    except UnsafePath as exc:
        raise Failure(escape(str(exc))) from None
    try:
        candidates = read_queue(queue, project.shown(queue))
    except ReviewError as exc:
        raise Failure(str(exc)) from None
    # Ctrl-C must stop the review even when started from a shell that ignores SIGINT for
    # background jobs: the loop catches it and says where it stopped.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # A byte that is not UTF-8 then spoils one answer, which is asked again, not the whole input.
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")
    session = ReviewSession(
        candidates=candidates,
        queue_shown=project.shown(queue),
        into=into,
        into_shown=project.shown(into),
        reviewer=reviewer,
        log=log,
        log_shown=project.shown(log),
        editor=os.environ.get("EDITOR", "").strip() or None,
        interactive=sys.stdin.isatty(),
        today=dt.date.today(),
    )
    return session.run()


if __name__ == "__main__":
    sys.exit(main())
