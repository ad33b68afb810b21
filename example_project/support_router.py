"""A keyword router for customer-support tickets: the system under test of the example eval set.

It is deliberately plain Python with no model call, so the eval set in ``evals/`` can be run in
CI with no API key and gives the same answer every time. Its rules are the kind a support team
writes by hand, with the blind spots such rules have: a customer who asks to "reverse a charge"
wants a refund but never says the word, and a customer writing for the third time needs a senior
agent even when the words are about shipping. The eval set records those misses on purpose.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Queue = Literal["billing", "refunds", "technical", "account", "shipping", "escalation"]

QUEUES: Final[tuple[Queue, ...]] = (
    "billing",
    "refunds",
    "technical",
    "account",
    "shipping",
    "escalation",
)

# The order is the priority: the first queue with a matching rule wins. Escalation comes first
# because a legal threat or a hacked account must reach a senior agent whatever else the ticket
# mentions; refunds come before billing because "refund my charge" is a refund, not a question
# about an invoice. Every pattern is anchored on word boundaries: a bare substring match once
# sent a paralegal's invoice request to escalation because "paralegal" contains "legal".
_RULES: Final[tuple[tuple[Queue, tuple[str, ...]], ...]] = (
    (
        "escalation",
        (
            r"\bignore (?:all |any )?(?:previous|prior|above) instructions\b",
            r"\b(?:hacked|compromised|fraud(?:ulent)?|unauthori[sz]ed)\b",
            r"\b(?:lawyer|attorney|solicitor|legal action|sue|small claims)\b",
            r"\b(?:manager|supervisor)\b",
        ),
    ),
    (
        "refunds",
        (
            r"\brefund(?:s|ed)?\b",
            r"\bmoney back\b",
            r"\breturn(?:ing)? (?:it|them|the|this|my)\b",
            r"\bsend (?:it|them) back\b",
            r"\breimburse(?:d|ment)?\b",
        ),
    ),
    (
        "account",
        (
            r"\bpassword\b",
            r"\b(?:log|sign) ?in\b",
            r"\blocked out\b",
            r"\b(?:two-factor|2fa)\b",
            r"\busername\b",
            r"\bchange (?:the|my) email\b",
            r"\b(?:delete|close|deactivate) my account\b",
        ),
    ),
    (
        "billing",
        (
            r"\binvoices?\b",
            r"\bbill(?:ed|ing)?\b",
            r"\bcharge[sd]?\b",
            r"\bpayments?\b",
            r"\breceipts?\b",
            r"\bvat\b",
            r"\bprice\b",
            r"\bpaying\b",
            r"\bsubscription\b",
            r"\brenewal\b",
            r"\bcard\b",
        ),
    ),
    (
        "shipping",
        (
            r"\bdeliver(?:ed|y)?\b",
            r"\btracking\b",
            r"\bpackage\b",
            r"\bparcel\b",
            r"\bshipped\b",
            r"\barriv(?:e|ed|al)\b",
            r"\bcourier\b",
        ),
    ),
    (
        "technical",
        (
            r"\berror\b",
            r"\bcrash(?:es|ed|ing)?\b",
            r"\bbug\b",
            r"\bapp\b",
            r"\bsync\b",
            r"\bexport\b",
            r"\bstuck\b",
            r"\bwon't load\b",
            r"\bintegration\b",
            r"\bapi\b",
        ),
    ),
)

_COMPILED: Final[tuple[tuple[Queue, re.Pattern[str]], ...]] = tuple(
    (queue, re.compile("|".join(patterns))) for queue, patterns in _RULES
)

# "I don't want a refund, I just want ..." mentions a refund to rule it out; the phrase is removed
# before matching so that the rest of the ticket decides the queue.
_NEGATED_REFUND: Final[re.Pattern[str]] = re.compile(
    r"\b(?:don't|do not|not|never) (?:want|need|asking for|looking for) (?:a )?refunds?\b"
)

# Tickets that no rule understands go to a senior agent rather than being guessed at: a wrong
# queue costs a customer a second wait, a human read costs one.
_FALLBACK: Final[Queue] = "escalation"


def _normalise(ticket: str) -> str:
    """Lower-case the ticket and straighten curly apostrophes, so "don’t" matches "don't"."""
    return ticket.lower().replace("\u2019", "'").replace("\u2018", "'")


def route(ticket: str) -> Queue:
    """Return the queue a support ticket belongs to.

    The rules are tried in priority order (escalation, refunds, account, billing, shipping,
    technical) and the first match wins; a ticket that matches nothing is escalated so that a
    person reads it. The function is pure and deterministic, which is what lets the eval set be
    replayed in CI and its pass rates compared across runs.
    """
    text = _NEGATED_REFUND.sub(" ", _normalise(ticket))
    for queue, pattern in _COMPILED:
        if pattern.search(text):
            return queue
    return _FALLBACK
