"""How often the ``pass-rates`` gate cries wolf, and how often it catches a real gap.

The gate fails a run only when two subsets' pass rates differ by more than ``max_gap`` *and* the
difference is significant at ``alpha`` (a two-proportion z-test, or Fisher's exact test when a
cell is small). This script simulates eval runs with known true pass rates and applies the very
function the check uses
(`pytest_evalmix.checks.outcomes.pass_rates.compare`) to each, next to a bare
``gap > max_gap`` threshold for contrast:

- **false-alarm rate**: both subsets truly pass at the same rate, so every failure is noise;
- **power**: the true rates are 20 points apart, so every pass is a miss.

The same goes for the coverage grid: the Markdown report names the cells whose pass rate is
significantly below the rest of the set
(`pytest_evalmix.checks.outcomes.coverage.below_rest`, the same
test, Holm-corrected for the number of cells). On a healthy 30-cell grid every named cell is a
false alarm, and at most 5% of runs may name any.

Seeded, so the figures are the same on every machine. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_evalmix.checks.outcomes.coverage import below_rest
from pytest_evalmix.checks.outcomes.pass_rates import compare

MAX_GAP = 0.10
ALPHA = 0.05


@dataclass(frozen=True)
class Scenario:
    name: str
    rate_a: float
    rate_b: float
    n: int

    @property
    def healthy(self) -> bool:
        return self.rate_a == self.rate_b


SCENARIOS = (
    Scenario("healthy", 0.80, 0.80, 20),
    Scenario("healthy", 0.80, 0.80, 100),
    Scenario("healthy", 0.50, 0.50, 20),
    Scenario("healthy", 0.95, 0.95, 20),
    Scenario("20-point gap", 0.80, 0.60, 100),
    Scenario("20-point gap", 0.80, 0.60, 20),
)


@dataclass(frozen=True)
class Figures:
    gate: float
    threshold: float


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Passes among n examples that each pass with probability p."""
    return sum(rng.random() < p for _ in range(n))


def simulate(scenario: Scenario, trials: int, rng: random.Random) -> Figures:
    """The share of simulated runs that the gate fails, and that a bare threshold fails."""
    gate = threshold = 0
    for _ in range(trials):
        passed_a = binomial(rng, scenario.n, scenario.rate_a)
        passed_b = binomial(rng, scenario.n, scenario.rate_b)
        verdict = compare(passed_a, scenario.n, passed_b, scenario.n, MAX_GAP, ALPHA)
        gate += verdict.failed
        threshold += verdict.over_gap
    return Figures(gate / trials, threshold / trials)


@dataclass(frozen=True)
class GridScenario:
    name: str
    cells: int
    n: int
    rate: float
    bad_rate: float  # the true rate of the last cell; ``rate`` too on a healthy grid

    @property
    def healthy(self) -> bool:
        return self.rate == self.bad_rate


GRID_SCENARIOS = (
    GridScenario("healthy grid", 30, 20, 0.80, 0.80),
    GridScenario("healthy grid", 30, 10, 0.80, 0.80),
    GridScenario("healthy grid", 30, 50, 0.50, 0.50),
    GridScenario("one bad cell", 30, 20, 0.80, 0.30),
)
GRID_GOAL = 0.05


def simulate_grid(scenario: GridScenario, trials: int, rng: random.Random) -> float:
    """The share of simulated runs in which the report names any cell (healthy grid), or the
    bad cell (one bad cell)."""
    named = 0
    for _ in range(trials):
        tallies = [
            (binomial(rng, scenario.n, scenario.rate), scenario.n)
            for _ in range(scenario.cells - 1)
        ]
        tallies.append((binomial(rng, scenario.n, scenario.bad_rate), scenario.n))
        lows, _ = below_rest(tallies, MAX_GAP, ALPHA)
        if scenario.healthy:
            named += bool(lows)
        else:
            named += any(low.index == scenario.cells - 1 for low in lows)
    return named / trials


def margin(rate: float, trials: int) -> float:
    """Half-width of the 95% Monte Carlo interval of a simulated rate."""
    return 1.96 * math.sqrt(max(rate * (1 - rate), 1e-12) / trials)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000, help="runs per scenario")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    rng = random.Random(args.seed)
    print(
        f"pass-rates gate: fail when gap > {MAX_GAP:.0%} and p < {ALPHA} "
        f"({args.trials:,} simulated runs per row, seed {args.seed})"
    )
    header = f"{'scenario':<14}{'true rates':>14}{'n/subset':>10}{'measures':>13}"
    header += f"{'gate fails':>14}{'gap>10 fails':>15}"
    print(header)
    print("-" * len(header))
    for scenario in SCENARIOS:
        figures = simulate(scenario, args.trials, rng)
        measures = "false alarms" if scenario.healthy else "power"
        rates = f"{scenario.rate_a:.2f} vs {scenario.rate_b:.2f}"
        gate = f"{figures.gate:.1%} ±{margin(figures.gate, args.trials):.1%}"
        print(
            f"{scenario.name:<14}{rates:>14}{scenario.n:>10}{measures:>13}"
            f"{gate:>14}{figures.threshold:>15.1%}"
        )
    print(
        "\ngate fails: share of runs the check fails (± the 95% Monte Carlo margin). On healthy"
        "\nrows that is the false-alarm rate, on gap rows the power. gap>10 fails: what a bare"
        "\nten-point threshold would fail, for contrast."
    )
    grid_trials = max(1, args.trials // 10)
    print(
        f"\ncoverage grid: cells named below the rest (gap > {MAX_GAP:.0%}, Holm-corrected "
        f"p < {ALPHA}; {grid_trials:,} simulated runs per row)"
    )
    header = f"{'scenario':<14}{'cells':>7}{'n/cell':>8}{'true rates':>14}{'runs naming':>28}"
    print(header)
    print("-" * len(header))
    ok = True
    for grid in GRID_SCENARIOS:
        share = simulate_grid(grid, grid_trials, rng)
        what = "any cell" if grid.healthy else "the bad cell"
        rates = f"{grid.rate:.2f}" if grid.healthy else f"{grid.rate:.2f}/{grid.bad_rate:.2f}"
        text = f"{share:.1%} ±{margin(share, grid_trials):.1%} {what}"
        print(f"{grid.name:<14}{grid.cells:>7}{grid.n:>8}{rates:>14}{text:>28}")
        if grid.healthy and share > GRID_GOAL:
            ok = False
    print(
        f"\nOn healthy grids every named cell is a false alarm: goal at most {GRID_GOAL:.0%} of "
        f"runs. {'PASS' if ok else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
