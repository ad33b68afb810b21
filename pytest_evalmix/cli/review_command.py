"""``evalmix review``: a human disposes of the candidates, one by one (docs/cli.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from pytest_evalmix.cli.project import Failure, find_project


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
    from pytest_evalmix.review.blind import BlindSession

    kind = BlindSession if getattr(args, "blind", False) else ReviewSession
    session = kind(
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
