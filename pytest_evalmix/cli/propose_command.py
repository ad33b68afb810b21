"""``evalmix propose``: synthetic candidates for a human to dispose of (docs/cli.md)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from pytest_evalmix.cli.project import Failure, find_project


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
    records, repeats = propose.new_only(evalset, records)
    if repeats:
        print(
            f"left out {repeats} candidate{'s that repeat' if repeats != 1 else ' that repeats'} "
            f"a record of {evalset.name} or another candidate"
        )
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
