"""What the checks judge besides the set itself, read once per process.

A check is a pure function of loaded data (see `pytest_evalmix.checks.suite`). Whatever else
it judges on is read here: the set's results file, the synthesis ledger, the review decision
logs. Each file is parsed once and served again while it is unchanged (`cache`), so the two
checks that judge outcomes share one parse of a million-line results file, and an xdist
controller or a second front end in the same process pays nothing more.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_evalmix.evalset.against import Against, read_against
from pytest_evalmix.files import cache
from pytest_evalmix.files.paths import inside
from pytest_evalmix.model.evalset import EvalSet
from pytest_evalmix.results.file import ResultsFile, read_results
from pytest_evalmix.revisions.delta import Baseline, Comparison
from pytest_evalmix.state import decisions, ledger

RESULTS = "results"
LEDGER = "ledger"
REVIEWS = "reviews"
BASE = "base"
AGAINST = "against"

# The check that owns a results file's findings (its bad lines, its unknown ids).
RESULTS_CHECK = "pass-rates"


@dataclass(frozen=True)
class Inputs:
    """A set's inputs other than its records, as plain data.

    ``results`` is None when the manifest names no results file (or it was not asked for);
    ``ledger`` maps the sha256 of each normalised text the synthesizer handed out to its first
    entry; ``reviews`` holds every reviewer's decision log, in file-name order.
    """

    results: ResultsFile | None = None
    ledger: Mapping[str, ledger.Entry] = field(default_factory=dict)
    reviews: Sequence[decisions.Log] = ()
    # With ``--evalmix-base=REF``: the set compared with itself at REF (see `load.delta`).
    base: Comparison | None = None
    # The set's ``leakage.against`` files, read (see `evalset.against`).
    against: Against | None = None


def load(
    evalset: EvalSet,
    evalmix_dir: Path,
    needs: Collection[str],
    base: Baseline | None = None,
) -> Inputs:
    """The inputs named in ``needs`` (`RESULTS`, `LEDGER`, `REVIEWS`, `BASE`, `AGAINST`); the
    rest stay empty. `BASE` needs ``base``, the revision given by ``--evalmix-base``."""
    results = None
    if RESULTS in needs and evalset.results_path is not None and evalset.results is not None:
        shown = evalset.results

        def read(path: Path) -> ResultsFile:
            return read_results(
                path,
                shown,
                RESULTS_CHECK,
                evalset.ids,
                fmt=evalset.results_format,
                threshold=evalset.results_threshold,
            )

        results = cache.cached("results", evalset.results_path, read, owner=evalset)
    return Inputs(
        results=results,
        ledger=read_ledger(evalmix_dir / ledger.LEDGER_NAME) if LEDGER in needs else {},
        reviews=read_reviews(evalmix_dir) if REVIEWS in needs else (),
        base=base.compare(evalset) if BASE in needs and base is not None else None,
        against=(
            read_against(
                evalset.against,
                set(evalset.input_keys),
                everything=evalset.policy.leakage.near is not None,
            )
            if AGAINST in needs and evalset.against
            else None
        ),
    )


def read_ledger(path: Path) -> Mapping[str, ledger.Entry]:
    """The ledger's index, parsed once while the file is unchanged (it only grows)."""
    return cache.cached("ledger", path, ledger.read)


def read_reviews(evalmix_dir: Path) -> list[decisions.Log]:
    """Every reviewer's log, each parsed once while unchanged, in file-name order."""
    return [
        # A log linked out of evalmix_dir is refused unread: its values are never echoed.
        cache.cached("review", path, decisions.read)
        if inside(path, evalmix_dir)
        else decisions.refused(path)
        for path in decisions.logs(evalmix_dir)
    ]
