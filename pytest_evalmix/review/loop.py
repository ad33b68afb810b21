"""`evalmix review`: the disposing half of propose-and-dispose (docs/cli.md).

The loop only works if the person reviewing is empowered to reject, so nothing here nudges
toward accepting: there is no default answer and Enter alone decides nothing; accepting costs a
typed gold (or an explicit ``=`` to copy the seed's); the candidate, its seed and the seed's gold
are shown whole, wrapped but never cut, with invisible and control characters made visible.

Every decision is durable before the next candidate shows (`decisions.append` fsyncs), and the
record goes into the data file before the decision goes into the log. A crash between the two
leaves a record whose id is already in the data file, which a rerun recognises and does not ask
about again; the other order could log an accept whose record was lost. Ctrl-C is held back
while the two writes happen, so it never splits them.

Nothing here imports pytest.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from pytest_evalmix.model.text import escape
from pytest_evalmix.review.queue import WRITTEN_BY_REVIEW, Candidate
from pytest_evalmix.review.screen import HELP, NOTHING, PROMPT, encodable, inline, render
from pytest_evalmix.state import decisions


@contextmanager
def _hold_interrupt() -> Iterator[list[int]]:
    """Hold back Ctrl-C while a decision is written: never half a decision. The caller learns
    from the yielded list whether one arrived, and stops once the decision is complete."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


class ReviewSession:
    """One review session over a queue. `run` returns the exit status (0, 1 or 130)."""

    def __init__(
        self,
        *,
        candidates: list[Candidate],
        queue_shown: str,
        into: Path,
        into_shown: str,
        reviewer: str,
        log: Path,
        log_shown: str,
        editor: str | None,
        interactive: bool,
        today: dt.date | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.candidates = candidates
        self.queue_shown = queue_shown
        self.into = into
        self.into_shown = into_shown
        self.reviewer = reviewer
        self.log = log
        self.log_shown = log_shown
        self.editor = editor
        self.interactive = interactive
        self.today = today or dt.date.today()
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        columns = shutil.get_terminal_size((100, 24)).columns
        self.width = min(max(columns, 40), 120) - 1
        self.counts: Counter[str] = Counter()
        # Ctrl-C that arrived while a decision was being written: honoured right after it.
        self.interrupted = False

    # -- input and output ------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        # Every line passes through the one escape, whatever it quotes; ids are escaped where
        # they are put in, since a newline in one must not start a line of its own.
        print(escape(text, keep="\n\t"), file=self.out, flush=True)

    def ask(self, prompt: str) -> str | None:
        """One line typed by the reviewer; ``None`` at the end of the input."""
        while True:
            self.out.flush()
            try:
                answer = input(prompt)
            except EOFError:
                self.say()
                return None
            except UnicodeDecodeError:  # a strict UTF-8 stdin
                answer = "\udcff"
            if encodable(answer):
                break
            # A byte that is not UTF-8 (a lenient stdin hands it over as a surrogate) cannot
            # be saved in a log or a data file: ask again rather than fail halfway.
            self.say("that line is not valid UTF-8 text; type it again")
        if not self.interactive:
            # Piped answers are not echoed by a terminal: echo them, so the transcript reads
            # as a session would.
            self.say(answer)
        return answer

    # -- the session -----------------------------------------------------------------------

    def pending(self) -> tuple[list[Candidate], int, int]:
        """Candidates not yet decided, with how many were decided in the log, and how many are
        already in the data file without a logged decision (a crash between the two writes)."""
        log = decisions.read(self.log)
        for problem in log.problems:
            print(
                f"evalmix: note: {self.log_shown}:{problem.line}: ignored, {problem.message}",
                file=self.err,
            )
        decided = {(d.id, d.input_sha256) for d in log.decisions}
        decided_any = {d.id for d in log.decisions if d.input_sha256 is None}
        in_data = set(decisions.ids_in(self.into))
        pending: list[Candidate] = []
        logged = present = 0
        for candidate in self.candidates:
            if (candidate.id, candidate.digest) in decided or candidate.id in decided_any:
                logged += 1
            elif candidate.id in in_data:
                present += 1
            else:
                pending.append(candidate)
        return pending, logged, present

    def run(self) -> int:
        pending, logged, present = self.pending()
        total = len(self.candidates)
        if not self.interactive:
            print(
                "evalmix: stdin is not a terminal: reading one answer a line from it",
                file=self.err,
                flush=True,
            )
        self.say(
            f"evalmix review: {total} candidate{'s' if total != 1 else ''} in "
            f"{self.queue_shown}, reviewer {self.reviewer}, decisions saved to {self.log_shown}, "
            f"accepted records appended to {self.into_shown}"
        )
        if logged or present:
            parts = [f"{logged} already decided"] if logged else []
            if present:
                parts.append(f"{present} already in {self.into_shown}")
            self.say(f"resuming: {', '.join(parts)}; {len(pending)} to go")
        if not pending:
            self.say("nothing left to review")
            return 0
        current: Candidate | None = None
        try:
            for index, candidate in enumerate(pending):
                current = candidate
                outcome = self.review_one(candidate, len(pending) - index)
                if outcome in ("quit", "eof"):
                    why = "quit" if outcome == "quit" else "input ended"
                    self.stopped(why, candidate)
                    return 0
                self.counts[outcome] += 1
                current = pending[index + 1] if index + 1 < len(pending) else None
                if self.interrupted:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            self.say()
            self.stopped("interrupted", current)
            return 130
        except OSError as exc:
            print(
                "evalmix: error: cannot save the decision on "
                f"{current.shown_id if current else '?'}: "
                f"{exc.strerror or exc} ({exc.filename or ''}); decisions before it are saved",
                file=self.err,
            )
            self.summary()
            return 1
        self.summary()
        return 0

    def stopped(self, why: str, at: Candidate | None) -> None:
        where = f" at {at.shown_id} (candidate {at.number} of {len(self.candidates)})" if at else ""
        self.say(
            f"{why}{where}: every decision made is saved in {self.log_shown}; run the same "
            "command again to resume at the first undecided candidate"
        )
        self.summary()

    def summary(self) -> None:
        parts = [
            f"{self.counts[key]} {key}"
            for key in ("accepted", "edited", "rejected", "skipped")
            if self.counts[key]
        ]
        appended = self.counts["accepted"] + self.counts["edited"]
        self.say(f"this session: {', '.join(parts) or 'no decisions'}")
        if appended:
            self.say(
                f"{appended} record{'s' if appended != 1 else ''} appended to {self.into_shown}; "
                "it must be listed under data: in the eval set's manifest"
            )
        if self.counts["skipped"]:
            self.say("skipped candidates are shown again on the next run")

    # -- one candidate ---------------------------------------------------------------------

    def show(self, candidate: Candidate, left: int) -> None:
        seed = candidate.seed
        record = candidate.record
        rule = "-" * min(self.width, 72)
        self.say(rule)
        self.say(
            f"candidate {candidate.number} of {len(self.candidates)}: {candidate.shown_id}  "
            f"({left} left to decide)"
        )
        seed_id = escape(str(seed["id"]))
        self.say(f"seed {seed_id}, input:")
        self.say("\n".join(render(seed["input"], self.width)))
        self.say(f"seed {seed_id}, gold:")
        self.say("\n".join(render(seed["gold"], self.width)))
        synthetic = record.get("synthetic")
        made = ""
        if isinstance(synthetic, dict) and synthetic.get("generator"):
            method = escape(str(synthetic.get("method", "generated")))
            made = f" ({method} by {escape(str(synthetic['generator']))})"
        self.say(f"candidate input{made}:")
        self.say("\n".join(render(record["input"], self.width)))
        extra = {k: v for k, v in record.items() if k not in ("id", "input", "origin", "synthetic")}
        for key, value in extra.items():
            self.say(f"candidate {escape(key)}:")
            self.say("\n".join(render(value, self.width)))

    def review_one(self, candidate: Candidate, left: int) -> str:
        """Show a candidate and take one decision; returns it, or skipped, quit or eof."""
        self.show(candidate, left)
        started = time.monotonic()
        while True:
            answer = self.ask(PROMPT)
            if answer is None:
                return "eof"
            key = answer.strip().lower()
            if not key:
                self.say(NOTHING)
            elif key in ("?", "h", "help"):
                self.say(HELP)
            elif key in ("a", "accept"):
                status, gold = self.ask_gold(candidate)
                if status == "eof":
                    return "eof"
                if status == "ok":
                    self.save(candidate, "accepted", candidate.record["input"], gold, started)
                    return "accepted"
            elif key in ("e", "edit"):
                status, new_input = self.edit(candidate)
                if status == "eof":
                    return "eof"
                if status != "ok":
                    continue
                self.say("edited input:")
                self.say("\n".join(render(new_input, self.width)))
                status, gold = self.ask_gold(candidate)
                if status == "eof":
                    return "eof"
                if status == "ok":
                    self.save(candidate, "edited", new_input, gold, started)
                    return "edited"
            elif key in ("r", "reject"):
                self.save(candidate, "rejected", None, None, started)
                return "rejected"
            elif key in ("s", "skip"):
                self.say(f"skipped {candidate.shown_id}: nothing recorded, a rerun shows it again")
                return "skipped"
            elif key in ("q", "quit"):
                return "quit"
            else:
                self.say(f"unknown answer {answer.strip()!r}: type a, r, e, s or q (? for help)")

    def ask_gold(self, candidate: Candidate) -> tuple[str, Any]:
        """The gold for an accepted candidate: typed, or ``=`` for the seed's. Returns
        ``("ok", gold)``, ``("back", None)`` or ``("eof", None)``."""
        seed_gold = candidate.seed["gold"]
        as_json = not isinstance(seed_gold, str)
        how = "as JSON, " if as_json else ""
        prompt = (
            f"gold for {candidate.shown_id} (type it {how}or '=' to copy the seed's "
            f"{inline(seed_gold)}; '<' goes back): "
        )
        while True:
            answer = self.ask(prompt)
            if answer is None:
                return "eof", None
            text = answer.strip()
            if not text:
                self.say(
                    "Enter alone gives no gold: type the gold, '=' to copy the seed's, or '<' "
                    "to go back"
                )
            elif text == "<":
                return "back", None
            elif text == "=":
                seed_id = escape(str(candidate.seed["id"]))
                self.say(f"gold: {inline(seed_gold)} (copied from seed {seed_id})")
                return "ok", json.loads(json.dumps(seed_gold))
            elif as_json:
                try:
                    value = json.loads(text)
                except (ValueError, RecursionError):
                    self.say(
                        f"the seed's gold is JSON ({inline(seed_gold)}), so type this gold as "
                        "JSON too, e.g. true, 12.5 or [[36.4]]"
                    )
                    continue
                if value is None:
                    self.say("a gold cannot be null")
                    continue
                return "ok", value
            else:
                return "ok", text

    def edit(self, candidate: Candidate) -> tuple[str, Any]:
        """A new input for the candidate: ``("ok", input)``, ``("back", None)`` or
        ``("eof", None)``. An unchanged or empty input goes back to the decision."""
        original = candidate.record["input"]
        as_json = not isinstance(original, str)
        if self.editor:
            text = self.run_editor(candidate, original, as_json)
            if text is None:
                return "back", None
        else:
            answer = self.ask(
                f"new input, one line{' of JSON' if as_json else ''} ('<' goes back): "
            )
            if answer is None:
                return "eof", None
            text = answer.strip()
            if text == "<":
                return "back", None
        if not text:
            self.say("the new input is empty: nothing changed")
            return "back", None
        value: Any = text
        if as_json:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                self.say(f"the new input is not valid JSON ({exc}): nothing changed")
                return "back", None
        if value == original:
            self.say("the input is unchanged: use a to accept it as it is")
            return "back", None
        return "ok", value

    def run_editor(self, candidate: Candidate, original: Any, as_json: bool) -> str | None:
        assert self.editor is not None
        suffix = ".json" if as_json else ".txt"
        text = json.dumps(original, indent=2, ensure_ascii=False) if as_json else original
        with tempfile.TemporaryDirectory(prefix="evalmix-edit-") as tmp:
            path = Path(tmp) / f"{decisions.slug(candidate.id) or 'candidate'}{suffix}"
            path.write_text(text + "\n", encoding="utf-8")
            try:
                command = shlex.split(self.editor)
            except ValueError as exc:
                self.say(f"cannot parse $EDITOR ({exc}): nothing changed")
                return None
            try:
                done = subprocess.run(
                    [*command, str(path)],
                    # A piped stdin carries the review's answers: the editor must not eat them.
                    stdin=None if self.interactive else subprocess.DEVNULL,
                    check=False,
                )
            except OSError as exc:
                self.say(
                    f"cannot run $EDITOR {self.editor!r}: {exc.strerror or exc}; nothing changed "
                    "(unset EDITOR to edit on one line here)"
                )
                return None
            if done.returncode != 0:
                self.say(f"$EDITOR exited with status {done.returncode}: nothing changed")
                return None
            try:
                return path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                self.say(f"cannot read the edited text back ({exc}): nothing changed")
                return None

    def save(
        self,
        candidate: Candidate,
        decision: str,
        new_input: Any,
        gold: Any,
        started: float,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Write the decision (and for an accept, the record first); ``extra`` joins the log
        entry (blind review's ``blind_gold`` and ``seed_gold``, `review.blind`)."""
        seconds = round(time.monotonic() - started, 1)
        at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        stamp = at.isoformat().replace("+00:00", "Z")
        entry = {
            "id": candidate.id,
            "decision": decision,
            "by": self.reviewer,
            "at": stamp,
            "seconds": seconds,
            "input_sha256": candidate.digest,
            "seed_id": candidate.seed["id"],
            "queue": self.queue_shown,
            "into": self.into_shown,
            **(extra or {}),
        }
        with _hold_interrupt() as caught:
            if decision in decisions.ACCEPTING:
                record = self.record(candidate, decision, new_input, gold, stamp, seconds)
                decisions.append(self.into, record)
            decisions.append(self.log, entry)
        self.interrupted = self.interrupted or bool(caught)
        where = f"{self.into_shown} and " if decision in decisions.ACCEPTING else ""
        saved = f"saved to {where}{self.log_shown}"
        self.say(f"{decision}: {candidate.shown_id} ({seconds:g} s), {saved}")

    def record(
        self,
        candidate: Candidate,
        decision: str,
        new_input: Any,
        gold: Any,
        stamp: str,
        seconds: float,
    ) -> dict[str, Any]:
        """The record as it goes into the set: the candidate, its new gold, a human label, the
        review; the queue-only ``seed`` is already gone."""
        record: dict[str, Any] = {
            "id": candidate.id,
            "input": new_input,
            "gold": gold,
            "origin": "synthetic",
            "label": {"source": "human", "by": self.reviewer, "at": self.today.isoformat()},
        }
        for key, value in candidate.record.items():
            if key not in record and key not in WRITTEN_BY_REVIEW:
                record[key] = value
        record["review"] = {
            "by": self.reviewer,
            "decision": decision,
            "at": stamp,
            "seconds": seconds,
        }
        return record
