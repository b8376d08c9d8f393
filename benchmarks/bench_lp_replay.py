"""Cost of the arena LP per distinct problem on the ensemble's fast path, by part.

Records every yearly request of a batched baseline ensemble (``simulate_batch``, one
memoised ``HighsAllocator``, runs seeded as ``clusterfund run`` seeds them), keeps one
request per distinct problem key, and replays them ``--repeat`` times, timing

- ``key``: ``problem_key`` of every request the memo looks up (what it pays per such
  request, hit or miss; a request with open-call proposals is solved without one),
- ``inputs``: ``year_inputs`` of each distinct request,
- ``formulate``: the one-year program of each, built one by one,
- ``batched``: the same programs built together, ``BATCH`` at a time
  (``formulate_each``, as an ensemble builds a year's programs of its batch's runs),
- ``objects``: what any build of the programs still does per program in Python: read
  the projects' fields, name and sort the columns, make the column map, the row labels
  and the ``Program`` (here copied from the programs already made): a floor under a
  batched build's cost per program,
- ``highs``: HiGHS's own ``run`` on each program (passed beforehand, outside the
  clock): the part of a solve no change to our code can remove,
- ``allocate``: the whole fast-path solve of each (inputs, program, HiGHS, answer),

as the mean per distinct problem (``key`` per request asked), and the totals: what
the LP costs the ensemble.

    python benchmarks/bench_lp_replay.py                 # 200 runs, no open calls
    python benchmarks/bench_lp_replay.py --runs 100 --calls --repeat 5
    python benchmarks/bench_lp_replay.py --runs 1000 --repeat 2    # the LP of the 1,000-run ratio
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_lp_memo import Recorder  # noqa: E402

from scenarios.config.scenario import load_config  # noqa: E402
from scenarios.engine.ensemble import default_batch_size, run_batches, run_rng  # noqa: E402
from simulator.allocation import AllocationRequest  # noqa: E402
from simulator.formulation import Program, YearInputs, column_name, formulate  # noqa: E402
from simulator.formulation_batch import formulate_each  # noqa: E402
from simulator.lp import nothing_to_allocate, year_inputs  # noqa: E402
from simulator.lp_highs import HighsAllocator, pass_program  # noqa: E402
from simulator.model import simulate_batch  # noqa: E402
from simulator.scenario import Scenario  # noqa: E402

BATCH = 64
"""Programs built together in ``batched`` (a batch of 64 runs asks for at most 64 a year)."""


def ensemble_requests(scenario: Scenario, runs: int, seed: int) -> list[AllocationRequest]:
    """Every yearly request of a batched ensemble of ``runs`` runs."""
    recorder = Recorder(HighsAllocator(scenario.projects, scenario.allocator))
    for batch in run_batches(runs, default_batch_size(runs, 1)):
        simulate_batch(scenario, [run_rng(seed, r) for r in batch], recorder)
    return recorder.seen


def best_mean(task: Callable[[], object], n: int, repeat: int) -> float:
    """The fastest of ``repeat`` timings of ``task``, per item (``n`` items)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        task()
        best = min(best, time.perf_counter() - started)
    return best / n


def highs_run_seconds(allocator: HighsAllocator, programs: Sequence[Program]) -> float:
    """Seconds HiGHS's ``run`` takes over ``programs``, each passed outside the clock."""
    total = 0.0
    for program in programs:
        pass_program(allocator.highs, program)
        started = time.perf_counter()
        allocator.run()
        total += time.perf_counter() - started
    return total


def program_objects(inputs: Sequence[YearInputs], programs: Sequence[Program]) -> None:
    """The per-program Python work a batched build cannot avoid (see ``objects`` above)."""
    for one, program in zip(inputs, programs, strict=True):
        projects, year = one.projects, one.year
        ids = [p.id for p in projects]
        _fields = (  # what the arrays are made from
            [p.cost_per_year for p in projects],
            [p.area for p in projects],
            [p.clusters for p in projects],
            [p.cofunding_per_year for p in projects],
            [p.impact for p in projects],
        )
        sorted(column_name("x", pid, year) for pid in ids)
        replace(
            program,
            column_names=tuple(list(program.column_names)),  # a new tuple, as a build makes
            row_labels=tuple([(kind, tuple(parts)) for kind, parts in program.row_labels]),
            columns={(pid, year): j for j, pid in enumerate(ids)},
            shortfall=dict(program.shortfall),
            budget_rows={year: 0},
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--calls", action="store_true", help="keep the baseline's open calls")
    args = parser.parse_args(argv)
    scenario = load_config(ROOT / "configs" / "baseline.toml").scenario
    if not args.calls:
        scenario = scenario.model_copy(update={"open_calls": None})
    requests = ensemble_requests(scenario, args.runs, args.seed)
    fast = HighsAllocator(scenario.projects, scenario.allocator)
    distinct = list({fast.problem_key(r): r for r in requests}.values())
    solved = [r for r in distinct if nothing_to_allocate(year_inputs(fast.projects, r), r) is None]
    inputs = [year_inputs(fast.projects, r) for r in solved]
    options = scenario.allocator
    programs = [formulate([i], options, binary=False) for i in inputs]
    looked_up = [r for r in requests if not r.proposals]  # as MemoisedAllocator does
    times = {
        "key": best_mean(
            lambda: [fast.problem_key(r) for r in looked_up], max(1, len(looked_up)), 3
        ),
        "inputs": best_mean(
            lambda: [year_inputs(fast.projects, r) for r in solved], len(solved), args.repeat
        ),
        "formulate": best_mean(
            lambda: [formulate([i], options, binary=False) for i in inputs],
            len(inputs),
            args.repeat,
        ),
        "batched": best_mean(
            lambda: [
                program
                for first in range(0, len(inputs), BATCH)
                for program in formulate_each(inputs[first : first + BATCH], options)
            ],
            len(inputs),
            args.repeat,
        ),
        "objects": best_mean(lambda: program_objects(inputs, programs), len(inputs), args.repeat),
        "highs": min(highs_run_seconds(fast, programs) for _ in range(args.repeat)) / len(programs),
        "allocate": best_mean(
            lambda: [fast.allocate(r) for r in distinct], len(distinct), args.repeat
        ),
    }
    label = "with" if args.calls else "without"
    print(
        f"baseline, {args.runs} runs {label} open calls: {len(requests)} requests, "
        f"{len(distinct)} distinct problems ({len(solved)} with a program)"
    )
    counts = {"key": len(looked_up), "allocate": len(distinct)}  # the rest: programs solved
    for name, seconds in times.items():
        unit = "request looked up" if name == "key" else "distinct problem"
        count = counts.get(name, len(solved))
        print(
            f"  {name:10s} {seconds * 1e3:7.3f} ms per {unit:17s}  "
            f"{seconds * count:6.2f} s for the ensemble"
        )


if __name__ == "__main__":
    main()
