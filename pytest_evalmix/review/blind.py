"""``evalmix review --blind``: the reviewer gives a gold before seeing the seed (docs/cli.md).

A paraphrase's gold should be its seed's. Shown the seed's gold, a reviewer copies it; shown
nothing, they say what the paraphrase now means. So each candidate is shown whole but without
its seed or the seed's gold, and the reviewer commits first: ``g`` (then types the gold), ``r``
reject, ``s`` skip, ``q`` quit. Only then are the seed and its gold shown beside the typed one:
where they agree, ``a`` accept or ``r`` reject; where they differ, ``m`` keep mine, ``t`` take
the seed's, ``e`` type another, ``r`` reject.

The log records ``blind_gold`` and ``seed_gold`` (and the generator), which is how the
``review`` check measures intent drift; the record written carries the chosen gold and
``label.annotations`` from the reviewer and from the seed's label (its ``by``, or ``seed:<id>``
when it names nobody), which gives ``agreement`` its data.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pytest_evalmix.model.text import escape
from pytest_evalmix.review.loop import ReviewSession
from pytest_evalmix.review.queue import Candidate
from pytest_evalmix.review.screen import inline, render

PROMPT = "blind decision [g]ive the gold [r]eject [s]kip [q]uit: "
AGREE = "you and the seed agree: [a]ccept [r]eject: "
DIFFER = "you and the seed differ: [m] keep mine [t] take the seed's [e] type another [r]eject: "


def seed_annotator(seed: dict[str, Any]) -> str:
    """Who the seed's gold is from, as an annotation's ``by``: its label's ``by``, else
    ``seed:<id>``, so two seeds without a name are never one annotator."""
    label = seed.get("label")
    by = label.get("by") if isinstance(label, dict) else None
    return by if isinstance(by, str) and by.strip() else f"seed:{seed['id']}"


class BlindSession(ReviewSession):
    """A review session that hides the seed until the reviewer has given a gold."""

    annotations: list[dict[str, Any]] | None = None

    def show(self, candidate: Candidate, left: int) -> None:
        record = candidate.record
        self.say("-" * min(self.width, 72))
        self.say(
            f"candidate {candidate.number} of {len(self.candidates)}: {candidate.shown_id}  "
            f"({left} left to decide; blind: the seed is shown once you have given a gold)"
        )
        self.say("candidate input:")
        self.say("\n".join(render(record["input"], self.width)))

    def reveal(self, candidate: Candidate, mine: Any) -> None:
        seed = candidate.seed
        seed_id = escape(str(seed["id"]))
        self.say(f"seed {seed_id}, input:")
        self.say("\n".join(render(seed["input"], self.width)))
        self.say(f"seed {seed_id}, gold: {inline(seed['gold'])}")
        self.say(f"your gold: {inline(mine)}")

    def typed_gold(self, candidate: Candidate, prompt: str) -> tuple[str, Any]:
        """A gold typed by the reviewer (JSON when the seed's is not a string)."""
        as_json = not isinstance(candidate.seed["gold"], str)
        while True:
            answer = self.ask(prompt)
            if answer is None:
                return "eof", None
            text = answer.strip()
            if not text:
                self.say("Enter alone gives no gold: type it, or '<' to go back")
            elif text == "<":
                return "back", None
            elif as_json:
                try:
                    value = json.loads(text)
                except (ValueError, RecursionError):
                    self.say("type this gold as JSON, e.g. true, 12.5 or [[36.4]]")
                    continue
                if value is None:
                    self.say("a gold cannot be null")
                    continue
                return "ok", value
            else:
                return "ok", text

    def review_one(self, candidate: Candidate, left: int) -> str:
        self.show(candidate, left)
        started = time.monotonic()
        how = "as JSON " if not isinstance(candidate.seed["gold"], str) else ""
        while True:
            answer = self.ask(PROMPT)
            if answer is None:
                return "eof"
            key = answer.strip().lower()
            if key in ("q", "quit"):
                return "quit"
            if key in ("s", "skip"):
                self.say(f"skipped {candidate.shown_id}: nothing recorded, a rerun shows it again")
                return "skipped"
            if key in ("r", "reject"):
                self.save(candidate, "rejected", None, None, started, {"blind": True})
                return "rejected"
            if key not in ("g", "gold"):
                self.say("type g to give the gold, r, s or q")
                continue
            status, mine = self.typed_gold(candidate, f"your gold {how}('<' goes back): ")
            if status == "eof":
                return "eof"
            if status == "ok":
                return self.settle(candidate, mine, started)

    def settle(self, candidate: Candidate, mine: Any, started: float) -> str:
        """The seed shown beside the reviewer's gold, and the decision on it."""
        self.reveal(candidate, mine)
        seed_gold = candidate.seed["gold"]
        extra = {"blind": True, "blind_gold": mine, "seed_gold": seed_gold}
        synthetic = candidate.record.get("synthetic")
        if isinstance(synthetic, dict) and isinstance(synthetic.get("generator"), str):
            extra["generator"] = synthetic["generator"]
        agree = mine == seed_gold
        while True:
            answer = self.ask(AGREE if agree else DIFFER)
            if answer is None:
                return "eof"
            key = answer.strip().lower()
            chosen: Any = None
            if key == "r":
                self.save(candidate, "rejected", None, None, started, extra)
                return "rejected"
            if agree and key == "a":
                chosen = mine
            elif not agree and key == "m":
                chosen = mine
            elif not agree and key == "t":
                chosen = json.loads(json.dumps(seed_gold))
            elif not agree and key == "e":
                status, chosen = self.typed_gold(candidate, "gold ('<' goes back): ")
                if status == "eof":
                    return "eof"
                if status == "back":
                    continue
            else:
                self.say("type a or r" if agree else "type m, t, e or r")
                continue
            self.annotations = [
                {"by": self.reviewer, "gold": mine},
                {"by": seed_annotator(candidate.seed), "gold": seed_gold},
            ]
            self.save(candidate, "accepted", candidate.record["input"], chosen, started, extra)
            self.annotations = None
            return "accepted"

    def record(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        record = super().record(*args, **kwargs)
        if self.annotations and self.annotations[0]["by"] != self.annotations[1]["by"]:
            record["label"]["annotations"] = self.annotations
        return record
