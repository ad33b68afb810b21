"""The router's evals: one test per example of the support-triage set whose gold is a queue.

`pytest_evalmix.examples()` turns the eval set into test parameters, so the set is the single
source of the cases. Under ``pytest --evalmix`` each test's outcome becomes its example's result:
the set's `pass-rates` check compares production with synthetic pass rates, and `failure-modes`
looks for a kind of miss that only one of them has. Without ``--evalmix`` these are plain tests.

The router's known misses are marked xfail (not strict). The run stays green while they are
known, each still counts as a failed example in the pass rates, a new miss fails the run as a
regression, and a fixed one shows as XPASS so its entry here can be deleted.
"""

from __future__ import annotations

import pytest
from support_router import QUEUES, route

from pytest_evalmix import Example, FailureMode, examples

MANIFEST = "evals/support.evalmix.yaml"  # relative to the rootdir, example_project/

# The examples whose gold is a queue. The others (adv-005 to adv-007) have programmatic golds
# (a refund amount, a refund-window verdict, a SQL result) that the gold-provenance check
# reproduces with their checkers; they are not routing cases.
ROUTING = [param for param in examples(MANIFEST) if param.values[0].gold in QUEUES]

# Misses the team knows about, with why the keyword rules get them wrong.
KNOWN_MISSES = {
    "prod-006": "a third contact about a late order needs a senior agent; every word is shipping",
    "prod-007": "'reverse the duplicate charge' is a refund that never says refund",
    "prod-016": "'put the money back on my card' is a refund that never says refund",
    "syn-001": "'undo one of the charges' is a refund that never says refund",
    "syn-002": "a customer chasing an order for the third time needs a senior agent",
}


@pytest.mark.parametrize("example", ROUTING)
def test_route(
    example: Example, request: pytest.FixtureRequest, evalmix_failure_mode: FailureMode
) -> None:
    if example.id in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[example.id], strict=False))
    queue = route(example.input)
    if queue != example.gold:
        # The failure mode that failure-modes compares across production and synthetic.
        evalmix_failure_mode(f"{example.gold} routed to {queue}")
    assert queue == example.gold
