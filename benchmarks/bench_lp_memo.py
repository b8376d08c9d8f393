"""How many distinct yearly LPs an ensemble solves, keyed by the whole request or by the
canonical problem key, and what one LP solve costs on the fast path and through PuLP.

Runs the baseline ensemble (run i seeded as ``clusterfund run`` seeds it) with and
without its open calls, records every yearly request, and counts per year the
distinct requests (what the memo keyed on before) and the distinct problem keys
(``problem_key``: what the memo keys on now). Then it solves every distinct
problem once on the HiGHS fast path (``simulator.lp_highs``) and a sample through
PuLP (``simulator.lp``), and reports the mean time per solve.

    python benchmarks/bench_lp_memo.py                # 200 runs
    python benchmarks/bench_lp_memo.py --runs 50 --pulp-sample 100
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenarios.config.scenario import load_config  # noqa: E402
from simulator.allocation import Allocation, AllocationRequest, MemoisedAllocator  # noqa: E402
from simulator.lp import LinearProgramAllocator  # noqa: E402
from simulator.lp_highs import HighsAllocator  # noqa: E402
from simulator.model import simulate  # noqa: E402
from simulator.scenario import Scenario  # noqa: E402


def whole_request(request: AllocationRequest) -> Hashable:
    """The whole request as a key (its proposals as plain data)."""
    proposals = tuple(tuple(proposal) for proposal in request.proposals)  # named tuples
    return (
        request.year,
        request.budget,
        request.eligible_clusters,
        request.at_risk,
        request.commitments,
        request.started,
        repr(proposals),
    )


class Recorder:
    """Answers through a memo and notes every request."""

    def __init__(self, inner: HighsAllocator) -> None:
        self.memo = MemoisedAllocator(inner)
        self.seen: list[AllocationRequest] = []

    @property
    def cluster_cap_share(self) -> float:
        return self.memo.cluster_cap_share

    def problem_key(self, request: AllocationRequest) -> Hashable:
        return self.memo.problem_key(request)

    def allocate(self, request: AllocationRequest) -> Allocation:
        return self.allocate_all([request])[0]

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        self.seen.extend(requests)
        return self.memo.allocate_all(requests)


def ensemble_requests(scenario: Scenario, runs: int, seed: int) -> list[AllocationRequest]:
    """Every yearly request of ``runs`` runs (one shared allocator, as an ensemble has)."""
    recorder = Recorder(HighsAllocator(scenario.projects, scenario.allocator))
    for run in range(runs):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(run,)))
        simulate(scenario, rng, recorder)
    return recorder.seen


def distinct_table(
    scenario: Scenario, requests: list[AllocationRequest]
) -> dict[int, tuple[int, int, int]]:
    """Year → (requests, distinct requests, distinct problem keys)."""
    allocator = HighsAllocator(scenario.projects, scenario.allocator)
    asked: dict[int, int] = defaultdict(int)
    whole: dict[int, set] = defaultdict(set)
    canonical: dict[int, set] = defaultdict(set)
    for request in requests:
        asked[request.year] += 1
        whole[request.year].add(whole_request(request))
        canonical[request.year].add(allocator.problem_key(request))
    return {y: (asked[y], len(whole[y]), len(canonical[y])) for y in sorted(asked)}


def solve_times(
    scenario: Scenario, requests: list[AllocationRequest], pulp_sample: int
) -> tuple[int, float, float]:
    """Mean seconds per solve of the distinct problems: fast path, PuLP path (on a sample)."""
    fast = HighsAllocator(scenario.projects, scenario.allocator)
    slow = LinearProgramAllocator(scenario.projects, scenario.allocator)
    distinct = list({fast.problem_key(r): r for r in requests}.values())
    started = time.perf_counter()
    for request in distinct:
        fast.allocate(request)
    fast_mean = (time.perf_counter() - started) / len(distinct)
    sample = distinct[:: max(1, len(distinct) // pulp_sample)]
    started = time.perf_counter()
    for request in sample:
        slow.allocate(request)
    return len(distinct), fast_mean, (time.perf_counter() - started) / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pulp-sample", type=int, default=300)
    args = parser.parse_args()
    baseline = load_config(ROOT / "configs" / "baseline.toml").scenario
    for label, scenario in (
        ("with open calls", baseline),
        ("without open calls", baseline.model_copy(update={"open_calls": None})),
    ):
        requests = ensemble_requests(scenario, args.runs, args.seed)
        table = distinct_table(scenario, requests)
        print(f"\nbaseline, {args.runs} runs, {label}: distinct LPs per year")
        print(f"{'year':>6} {'requests':>9} {'whole request':>14} {'problem key':>12}")
        for year, (asked, whole, canonical) in table.items():
            print(f"{year:>6} {asked:>9} {whole:>14} {canonical:>12}")
        totals = np.array(list(table.values())).sum(axis=0)
        print(f"{'all':>6} {totals[0]:>9} {totals[1]:>14} {totals[2]:>12}")
        n, fast, slow = solve_times(scenario, requests, args.pulp_sample)
        print(
            f"mean time per LP solve over the {n} distinct problems: fast path (highspy) "
            f"{fast * 1e3:.2f} ms; PuLP path {slow * 1e3:.2f} ms ({slow / fast:.1f}x)"
        )


if __name__ == "__main__":
    main()
