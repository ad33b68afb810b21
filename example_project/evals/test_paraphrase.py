"""Paraphrases as a robustness test of the router: a rewrite keeps the seed's intent, so it must
keep the seed's queue.

This is "synthesize the input, hand-label the output" inside a test: the `paraphrase` fixture
writes new inputs from a production ticket, and the expected queue is the gold a support lead
typed for that ticket. The model never decides what is right.

The rewrites come from the synthesizer's cache, committed under ``.evalmix/cache/``, so this test
replays offline and in CI with no API key. To ask the model again (see the README):

    ANTHROPIC_API_KEY=... pytest --evalmix-synth=refresh evals/test_paraphrase.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support_router import route

from pytest_evalmix.synth import Paraphrase

PRODUCTION = Path(__file__).parent / "data" / "production.jsonl"


def production_ticket(ticket_id: str) -> dict[str, Any]:
    for line in PRODUCTION.read_text(encoding="utf-8").splitlines():
        record: dict[str, Any] = json.loads(line)
        if record["id"] == ticket_id:
            return record
    raise LookupError(ticket_id)


def test_rewrites_of_a_refund_request_still_go_to_refunds(paraphrase: Paraphrase) -> None:
    seed = production_ticket("prod-002")  # cancelled on the 3rd, charged for November anyway
    rewrites = paraphrase(seed["input"], n=8)

    assert len(rewrites) == 8
    misrouted = {text: route(text) for text in rewrites if route(text) != seed["gold"]}
    assert not misrouted, f"rewrites of {seed['id']} left the {seed['gold']} queue: {misrouted}"
