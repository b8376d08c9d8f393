"""Speed of the batched ensemble against a numpy-vectorised reference of the same member dynamics.

The reference holds every member of every cluster in one set of arrays and
updates them a year at a time (renewal with the model's churn formula, satisfaction,
Poisson joiners drawn by size and type, arena participation), with no SimPy, no
money and no management: the lower bound for the member dynamics alone. Same
members, years and runs, in one process.

Reported (each section can be run alone with ``--only``):

- ``ratio``: the model in-process (``simulate_batch``, default batches, memoised
  allocator; LP and proportional) and the whole ``clusterfund run`` process without
  plots (``--jobs 1`` and ``2``), each against the reference, 2017-2030. "no calls"
  is the baseline with ``open_calls.from_year = 2100`` (the shipped pool only, as the
  reference has); "calls" is the shipped baseline, whose open calls give every run
  its own proposals from 2022 and so LPs of its own.
- ``scaling``: ``clusterfund run`` runs per second at 100, 1,000 and 10,000 runs, the
  slope of time against runs, and the peak memory of the 10,000-run process.
- ``members``: seconds per run at 1x, 10x and 100x the baseline's 1,500 members
  (model and reference; members, joiners and the build-up target scaled).
- ``batch``: seconds per run for batch sizes 1, 8, 64 (in-process, proportional).
- ``writer``: ``yearly.csv`` written column-wise vs row by row with ``csv.writer``.
- ``overhead``: per run, what a worker does after ``simulate_batch`` (scorecard, CSV
  text, summary metrics); and the whole ``clusterfund run`` process for one run.

    python benchmarks/bench_ensemble.py                  # everything (~15 min on 2 cores)
    python benchmarks/bench_ensemble.py --only ratio --runs 200
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the reference writers

from reference_writers import write_yearly, write_yearly_rows  # noqa: E402

from scenarios.config.scenario import load_config  # noqa: E402
from scenarios.engine.ensemble import (  # noqa: E402
    batch_output,
    default_batch_size,
    run_batches,
    run_rng,
)
from scenarios.folders.run_rows import tidy_table  # noqa: E402
from simulator.allocation import MemoisedAllocator, ProportionalAllocator  # noqa: E402
from simulator.members import ESTABLISHED_JOIN_OFFSET  # noqa: E402
from simulator.model import default_allocator, simulate_batch  # noqa: E402
from simulator.scenario import Scenario  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.toml"
NO_CALLS = ("--set", "open_calls.from_year=2100")


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
    """Seconds for ``runs`` reference runs."""
    arena_share = np.full(len(scenario.clusters), 0.2)
    started = time.perf_counter()
    for run in range(runs):
        reference_run(scenario, np.random.default_rng(run), arena_share)
    return time.perf_counter() - started


def time_model(
    scenario: Scenario, runs: int, proportional: bool = False, batch_size: int | None = None
) -> tuple[float, MemoisedAllocator]:
    """Seconds for ``runs`` model runs in batches (one memoised allocator for all)."""
    inner = (
        ProportionalAllocator(scenario.projects) if proportional else default_allocator(scenario)
    )
    allocator = MemoisedAllocator(inner)
    started = time.perf_counter()
    for batch in run_batches(runs, batch_size or default_batch_size(runs, 1)):
        simulate_batch(scenario, [run_rng(1, r) for r in batch], allocator)
    return time.perf_counter() - started, allocator


def time_cli(runs: int, jobs: int, *extra: str) -> tuple[float, float]:
    """Wall time and peak memory (MiB, largest process) of `clusterfund run` without plots."""
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
            *extra,
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        elapsed = time.perf_counter() - started
        peak_kib = int(done.stderr.strip().splitlines()[-1])
    return elapsed, peak_kib / 1024


def baseline(no_calls: bool = True) -> Scenario:
    """The baseline scenario, without open calls by default."""
    scenario = load_config(BASELINE).scenario
    return scenario.model_copy(update={"open_calls": None}) if no_calls else scenario


def section_ratio(runs: int) -> None:
    scenario = baseline()
    reference = time_reference(scenario, runs)
    print(f"reference (numpy, members only)   : {reference:7.2f} s  {runs / reference:7.1f} runs/s")
    model, allocator = time_model(scenario, runs)
    print(f"simulate_batch, LP                : {model:7.2f} s  ratio {model / reference:5.2f}x")
    print(
        f"  LP memo: {allocator.misses} solved, {allocator.hits} reused "
        f"({allocator.hits / max(1, allocator.hits + allocator.misses):.0%} hits)"
    )
    plain, _ = time_model(scenario, runs, proportional=True)
    print(f"simulate_batch, proportional      : {plain:7.2f} s  ratio {plain / reference:5.2f}x")
    for label, extra in (("no calls", NO_CALLS), ("calls", ())):
        one, peak_one = time_cli(runs, 1, *extra)
        two, peak_two = time_cli(runs, 2, *extra)
        print(
            f"clusterfund run --jobs 1, {label:8s}: {one:7.2f} s  ratio {one / reference:5.2f}x  "
            f"{runs / one:6.1f} runs/s  peak {peak_one:.0f} MiB"
        )
        print(
            f"clusterfund run --jobs 2, {label:8s}: {two:7.2f} s  ratio {two / reference:5.2f}x  "
            f"speed-up {one / two:.2f}x  peak {peak_two:.0f} MiB"
        )
    plain_cli, _ = time_cli(runs, 1, *NO_CALLS, "--set", "allocator.method=proportional")
    print(
        f"clusterfund run --jobs 1, proportional, no calls: {plain_cli:7.2f} s  "
        f"ratio {plain_cli / reference:5.2f}x"
    )


def section_scaling() -> None:
    times = {}
    for runs in (100, 1000, 10_000):
        elapsed, peak = time_cli(runs, 1, *NO_CALLS)
        times[runs] = elapsed
        print(
            f"clusterfund run --jobs 1, no calls, {runs:6d} runs: {elapsed:8.2f} s  "
            f"{runs / elapsed:7.1f} runs/s  peak {peak:.0f} MiB"
        )
    slope = (times[10_000] - times[1000]) / 9000
    print(
        f"  slope {slope * 1000:.2f} ms a run (1,000 -> 10,000); fixed cost about "
        f"{times[1000] - slope * 1000:.1f} s"
    )


def scaled(scenario: Scenario, factor: int) -> Scenario:
    """The scenario with every cluster's members and start-up joiners times ``factor``."""
    clusters = {
        cid: c.model_copy(
            update={"members": c.members * factor, "startup_joiners": c.startup_joiners * factor}
        )
        for cid, c in scenario.clusters.items()
    }
    card = scenario.scorecard.model_copy(
        update={"min_members": scenario.scorecard.min_members * factor}
    )
    return scenario.model_copy(update={"clusters": clusters, "scorecard": card})


def section_members() -> None:
    for factor, runs in ((1, 128), (10, 64), (100, 8)):
        scenario = scaled(baseline(), factor)
        model, _ = time_model(scenario, runs, proportional=True)
        reference = time_reference(scenario, runs)
        print(
            f"{factor:4d}x members ({factor * 1500:7d}): model {model / runs * 1000:8.1f} ms a run, "
            f"reference {reference / runs * 1000:8.1f} ms a run, ratio {model / reference:5.2f}x"
        )


def section_batch() -> None:
    scenario = baseline()
    for size in (1, 8, 64):
        elapsed, _ = time_model(scenario, 128, proportional=True, batch_size=size)
        print(f"batch size {size:3d}: {elapsed / 128 * 1000:7.1f} ms a run (proportional)")


def section_writer() -> None:
    scenario = baseline()
    table = simulate_batch(
        scenario, [run_rng(1, r) for r in range(256)], ProportionalAllocator(scenario.projects)
    ).yearly
    tidy = tidy_table(table)
    for name, write in (("column-wise", write_yearly), ("csv.writer rows", write_yearly_rows)):
        handle = io.StringIO()
        started = time.perf_counter()
        write(handle, tidy, 0)
        elapsed = time.perf_counter() - started
        rows = 256 * len(scenario.years) * len(scenario.clusters)
        print(f"yearly.csv {name:16s}: {rows / elapsed:9.0f} rows/s ({elapsed:.2f} s, {rows} rows)")


def section_overhead(runs: int = 256) -> None:
    """What ``clusterfund run`` costs besides the model: a worker's work on each batch
    after ``simulate_batch`` (scorecard, rounding, CSV text, summary metrics), and the
    whole process for one run (imports, config, writing, the printed summary)."""
    scenario = baseline()
    allocator = MemoisedAllocator(default_allocator(scenario))
    model = after = 0.0
    for batch in run_batches(runs, default_batch_size(runs, 1)):
        started = time.perf_counter()
        result = simulate_batch(scenario, [run_rng(1, r) for r in batch], allocator)
        simulated = time.perf_counter()
        batch_output(scenario, batch, result)
        after += time.perf_counter() - simulated
        model += simulated - started
    print(f"simulate_batch          : {model / runs * 1000:6.2f} ms a run ({runs} runs)")
    print(f"worker after the model  : {after / runs * 1000:6.2f} ms a run")
    startup, _ = time_cli(1, 1, *NO_CALLS)
    print(f"clusterfund run, 1 run  : {startup:6.2f} s (no calls, no plots)")


SECTIONS = {
    "ratio": None,
    "scaling": section_scaling,
    "members": section_members,
    "batch": section_batch,
    "writer": section_writer,
    "overhead": section_overhead,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs for the ratio section")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    args = parser.parse_args()
    for name in args.only or list(SECTIONS):
        print(f"== {name}")
        if name == "ratio":
            section_ratio(args.runs)
        else:
            SECTIONS[name]()  # type: ignore[misc]


if __name__ == "__main__":
    main()
