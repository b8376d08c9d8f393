"""Where the simulation's time goes, by part, and what it would cost without some parts.

Runs the baseline (open calls from 2022, memoised HiGHS allocator, batches as ``--jobs 1``
makes them: 64 runs from 256 runs on) in this process, after a warm-up on a job of its
own (imports, caches; its memo is not the timed job's), with a wall-clock timer around
each part:

- ``allocation step``: the yearly arena decision of all the batch's runs (requests,
  allocate, record); inside it ``request`` (the commitment book's request), ``year
  inputs``, ``formulate`` (the year's programs of every run, built together),
  ``pass program`` (the arrays handed to HiGHS), ``highs run`` (HiGHS's own solves,
  first and second) and ``break ties`` (the tie-break); the tie-break's second solves
  count in ``break ties`` and again in ``pass program`` and ``highs run``;
- ``draw call``: the year's open-call proposals of a run;
- ``payouts``: a run's money and allocation rows from its answer;
- ``transfers``: members of closed clusters moving to open ones;
- ``output``: a batch's scorecard, CSV text and summary metrics;
- the rest: the clusters' year (members, money, management), SimPy and the office's own
  bookkeeping.

It then gives the cost per run if ``formulate`` and ``draw call`` took no time at all:
an upper bound on what making them faster still could save.

    python benchmarks/bench_parts.py               # 320 runs
    python benchmarks/bench_parts.py --runs 640
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import simulator.allocation as allocation  # noqa: E402
import simulator.lp_highs as lp_highs  # noqa: E402
import simulator.office as office  # noqa: E402
from scenarios.config.scenario import load_config  # noqa: E402
from scenarios.engine import ensemble  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.toml"
PARTS: list[tuple[Any, str, str]] = [
    (office, "allocation_steps", "allocation step"),
    (allocation.CommitmentBook, "request", "  request"),
    (lp_highs, "year_inputs", "  year inputs"),
    (lp_highs, "formulate_each", "  formulate"),
    (lp_highs, "pass_program", "  pass program"),
    (lp_highs.HighsAllocator, "run", "  highs run"),
    (lp_highs.HighsAllocator, "break_ties", "  break ties"),
    (office, "draw_call", "draw call"),
    (office.Payouts, "of", "payouts"),
    (office, "place_transfers", "transfers"),
    (ensemble, "batch_output", "output"),
]
"""(where, name, label): each part is the function ``name`` as ``where`` calls it."""
OUTSIDE_ALLOCATION = ("draw call", "payouts", "transfers", "output")


def timed(function: Callable[..., Any], label: str, totals: dict[str, float]) -> Callable:
    """``function``, adding its wall time to ``totals[label]``."""

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started

    return timed_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=320)
    options = parser.parse_args()
    scenario = load_config(BASELINE).scenario
    job = ensemble.BatchJob(scenario, scenario.seed)
    batch = ensemble.default_batch_size(options.runs, 1)
    warm_up = ensemble.BatchJob(scenario, scenario.seed)  # its own memo: none is shared
    ensemble.simulate_runs(warm_up, range(0, min(batch, options.runs)))
    totals = dict.fromkeys((label for _, _, label in PARTS), 0.0)
    for where, name, label in PARTS:
        setattr(where, name, timed(getattr(where, name), label, totals))
    started = time.perf_counter()
    for first in range(0, options.runs, batch):
        ensemble.simulate_runs(job, range(first, min(first + batch, options.runs)))
    whole = time.perf_counter() - started
    per_run = whole / options.runs * 1e3
    print(
        f"{options.runs} runs of the baseline in one process: {whole:.2f} s, {per_run:.2f} ms a run"
    )
    for label, seconds in totals.items():
        print(f"  {label:18s} {seconds / options.runs * 1e3:6.2f} ms a run  {seconds / whole:6.1%}")
    rest = whole - totals["allocation step"] - sum(totals[label] for label in OUTSIDE_ALLOCATION)
    print(f"  {'the rest':18s} {rest / options.runs * 1e3:6.2f} ms a run  {rest / whole:6.1%}")
    free = totals["  formulate"] + totals["draw call"]
    print(
        f"with formulate and the call draw free: "
        f"{(whole - free) / options.runs * 1e3:.2f} ms a run, {free / whole:.1%} less"
    )


if __name__ == "__main__":
    main()
