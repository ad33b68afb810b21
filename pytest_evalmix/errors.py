"""The error and warning types that more than one layer raises or catches (docs/architecture.md)."""

from __future__ import annotations


class EvalmixWarning(UserWarning):
    """A problem that is not yet a failure, such as a provisional label coming due.

    ``-W error::pytest_evalmix.EvalmixWarning`` turns every one of them into a failure.
    """
