"""The statistics behind the pass-rate gate, in pure Python (no scipy: a gate needs no science
stack to run in pre-commit).

`pass-rates` fails only when a gap between two subsets is both larger than the policy allows
*and* unlikely to be sampling noise. With 20 examples per subset and equal true pass rates, a
bare ten-point threshold fails about a third of runs by chance; asking for significance too
brings that under the test's level (see ``benchmarks/bench_gate.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The 97.5th percentile of the standard normal: the z of a two-sided 95% interval.
Z95 = 1.959963984540054
# Below this expected count in any cell of the 2x2 table the normal approximation of the
# two-proportion z-test is poor (the usual rule of thumb), so Fisher's exact test is used.
MIN_EXPECTED = 5.0
# Relative tolerance when comparing hypergeometric probabilities, so that tables that are
# equally likely in exact arithmetic are not split by floating-point noise (as scipy does).
_FISHER_RTOL = 1e-7


def wilson(passed: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, or ``None`` when there is nothing to estimate.

    Unlike the textbook ``p ± z·se`` interval it stays inside [0, 1] and does not collapse to a
    point at 0% or 100%, which matters for the small subsets eval sets have.
    """
    if total <= 0:
        return None
    if not 0 <= passed <= total:
        raise ValueError(f"passed={passed} is not between 0 and total={total}")
    p = passed / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    # At 0% and 100% a bound is exactly 0 or 1; rounding must not make it 0.9999999999999999.
    low = 0.0 if passed == 0 else max(0.0, centre - half)
    high = 1.0 if passed == total else min(1.0, centre + half)
    return low, high


def z_test(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of ``x1/n1`` against ``x2/n2``."""
    _check_counts(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:  # both subsets all-pass or all-fail: no evidence of any difference
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return min(1.0, math.erfc(abs(z) / math.sqrt(2)))


def fisher_exact(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table of passes and failures.

    The p-value is the total probability, under fixed margins, of every table at most as likely
    as the one observed (the "minimum likelihood" definition R and scipy use).
    """
    _check_counts(x1, n1, x2, n2)
    passes = x1 + x2
    total = n1 + n2
    low = max(0, passes - n2)
    high = min(n1, passes)
    log_denominator = _log_choose(total, passes)

    def log_p(k: int) -> float:
        return _log_choose(n1, k) + _log_choose(n2, passes - k) - log_denominator

    observed = log_p(x1)
    threshold = observed + math.log1p(_FISHER_RTOL)
    p = math.fsum(math.exp(lp) for lp in map(log_p, range(low, high + 1)) if lp <= threshold)
    return min(1.0, p)


def min_expected(x1: int, n1: int, x2: int, n2: int) -> float:
    """The smallest expected cell count of the 2x2 table under equal pass rates."""
    _check_counts(x1, n1, x2, n2)
    total = n1 + n2
    passes = x1 + x2
    fails = total - passes
    return min(n * c / total for n in (n1, n2) for c in (passes, fails))


@dataclass(frozen=True)
class TestResult:
    """A p-value and the name of the test that produced it, for the failure message."""

    __test__ = False  # not a pytest test class, despite the name

    p_value: float
    test: str


def two_proportion(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Compare two pass rates: the z-test, or Fisher's exact test when a cell is too small."""
    if min_expected(x1, n1, x2, n2) < MIN_EXPECTED:
        return TestResult(fisher_exact(x1, n1, x2, n2), "Fisher's exact test")
    return TestResult(z_test(x1, n1, x2, n2), "two-proportion z-test")


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _check_counts(x1: int, n1: int, x2: int, n2: int) -> None:
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"both subsets need outcomes (got n1={n1}, n2={n2})")
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError(f"passes out of range: {x1}/{n1}, {x2}/{n2}")
