"""Speed of the baseline ensemble against a numpy-vectorised reference of the same member dynamics.

The reference holds every member of every cluster in one set of arrays and
updates them a year at a time (renewal with the model's churn formula, satisfaction,
Poisson joiners drawn by size and type, arena participation), with no SimPy, no
money and no management: the lower bound for the member dynamics alone. Same
members, years and runs, in one process.

Reported: runs per second of the model (simulate() with the scenario's memoised
allocator, then the full `clusterfund run` with files written), the ratio to the
reference, the speed-up from --jobs 2, and peak memory of `clusterfund run`.

    python benchmarks/bench_ensemble.py               # 1,000 runs, 2017–2030
    python benchmarks/bench_ensemble.py --runs 200    # quicker
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenarios.config import load_config  # noqa: E402
from simulator.allocation import MemoisedAllocator, ProportionalAllocator  # noqa: E402
from simulator.members import ESTABLISHED_JOIN_OFFSET  # noqa: E402
from simulator.model import default_allocator, simulate  # noqa: E402
from simulator.scenario import Scenario  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.toml"


def reference_run(scenario: Scenario, rng: np.random.Generator, arena_share: np.ndarray) -> int:
    """Member dynamics of every cluster at once, vectorised over members; returns final members."""
    behaviour = scenario.members
    clusters = list(scenario.clusters.values())
    n0 = np.array([c.members for c in clusters], dtype=float)
    startup = np.array([c.startup_joiners for c in clusters])
    size_cum = np.array([np.cumsum([c.size_mix.small, c.size_mix.medium, 1.0]) for c in clusters])
    type_cum = np.array(
        [np.cumsum([c.type_mix.company, c.type_mix.academia, 1.0]) for c in clusters]
    )
    start = scenario.programme.start_year
    owner = np.repeat(np.arange(len(clusters)), n0.astype(int))
    draws = rng.random((2, owner.size))
    tier = (draws[0][:, None] >= size_cum[owner, :2]).sum(axis=1)
    kind = (draws[1][:, None] >= type_cum[owner, :2]).sum(axis=1)
    join = np.full(owner.size, start - ESTABLISHED_JOIN_OFFSET)
    satisfaction = np.ones(owner.size)
    in_arena = np.zeros(owner.size)
    w = behaviour.satisfaction_weight
    for t, year in enumerate(scenario.years):
        if t > 0:
            counts = np.bincount(owner, minlength=len(clusters)).astype(float)
            value = np.clip(counts / np.maximum(n0, 1), 0.5, 2.0) ** behaviour.network_elasticity
            satisfaction = (1 - w) * satisfaction + w * value[owner]
            p = np.where(join == year - 1, behaviour.first_year_churn, behaviour.churn)
            p = p * np.exp(-behaviour.value_sensitivity * (satisfaction - 1.0))
            p = np.minimum(p * (1.0 - behaviour.arena_retention * in_arena), 1.0)
            stay = rng.random(owner.size) >= p
            owner, tier, kind, join = owner[stay], tier[stay], kind[stay], join[stay]
            satisfaction, in_arena = satisfaction[stay], in_arena[stay]
            lam = behaviour.join_rate * counts * value * (1 + behaviour.arena_attraction)
            lam = lam + startup * (counts < scenario.scorecard.min_members)
            new = rng.poisson(lam)
            new_owner = np.repeat(np.arange(len(clusters)), new)
            draws = rng.random((2, new_owner.size))
            owner = np.concatenate((owner, new_owner))
            tier = np.concatenate(
                (tier, (draws[0][:, None] >= size_cum[new_owner, :2]).sum(axis=1))
            )
            kind = np.concatenate(
                (kind, (draws[1][:, None] >= type_cum[new_owner, :2]).sum(axis=1))
            )
            join = np.concatenate((join, np.full(new_owner.size, year)))
            satisfaction = np.concatenate((satisfaction, np.ones(new_owner.size)))
            in_arena = np.concatenate((in_arena, np.zeros(new_owner.size)))
        in_arena = (rng.random(owner.size) < arena_share[owner]).astype(float)
    return int(owner.size)


def time_reference(scenario: Scenario, runs: int) -> float:
    arena_share = np.full(len(scenario.clusters), 0.2)
    started = time.perf_counter()
    for run in range(runs):
        reference_run(scenario, np.random.default_rng(run), arena_share)
    return time.perf_counter() - started


def time_model(
    scenario: Scenario, runs: int, proportional: bool = False
) -> tuple[float, MemoisedAllocator]:
    inner = (
        ProportionalAllocator(scenario.projects) if proportional else default_allocator(scenario)
    )
    allocator = MemoisedAllocator(inner)
    started = time.perf_counter()
    for run in range(runs):
        simulate(scenario, np.random.default_rng(run), allocator)
    return time.perf_counter() - started, allocator


def time_cli(runs: int, jobs: int) -> tuple[float, float]:
    """Wall time and peak memory (MiB, largest process) of `clusterfund run`."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable,
            "-c",
            "import resource, sys; from scenarios.cli import main; sys.argv = sys.argv[1:];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), file=sys.stderr)",
            "clusterfund",
            "run",
            str(BASELINE),
            "--out",
            f"{scratch}/out",
            "--runs",
            str(runs),
            "--jobs",
            str(jobs),
            "--no-plots",
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        elapsed = time.perf_counter() - started
        peak_kib = int(done.stderr.strip().splitlines()[-1])
    return elapsed, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    # without open calls: the reference has none, and the memoised allocator is shared by runs
    scenario = load_config(BASELINE).scenario.model_copy(update={"open_calls": None})
    members = sum(c.members for c in scenario.clusters.values())
    print(
        f"baseline: {len(scenario.clusters)} clusters, {members} members, "
        f"{scenario.programme.start_year}–{scenario.programme.horizon}, {args.runs} runs"
    )
    reference = time_reference(scenario, args.runs)
    model, allocator = time_model(scenario, args.runs)
    print(
        f"reference (numpy, members only): {reference:7.2f} s  {args.runs / reference:8.1f} runs/s"
    )
    print(
        f"model simulate() (SimPy + LP)  : {model:7.2f} s  {args.runs / model:8.1f} runs/s  "
        f"ratio {model / reference:.2f}x"
    )
    plain, _ = time_model(scenario, args.runs, proportional=True)
    print(
        f"model simulate() (SimPy, proportional allocator, no LP): {plain:7.2f} s  "
        f"{args.runs / plain:8.1f} runs/s  ratio {plain / reference:.2f}x"
    )
    print(
        f"  LP memo: {allocator.misses} solved, {allocator.hits} reused "
        f"({allocator.hits / max(1, allocator.hits + allocator.misses):.0%} hits)"
    )
    one, peak_one = time_cli(args.runs, 1)
    two, peak_two = time_cli(args.runs, 2)
    print(
        f"clusterfund run --jobs 1       : {one:7.2f} s  {args.runs / one:8.1f} runs/s  "
        f"ratio {one / reference:.2f}x  peak {peak_one:.0f} MiB"
    )
    print(
        f"clusterfund run --jobs 2       : {two:7.2f} s  {args.runs / two:8.1f} runs/s  "
        f"speed-up {one / two:.2f}x  peak {peak_two:.0f} MiB (largest process)"
    )
    print(f"this process peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
