"""Explore throughput on 2 cores: local pool, Dask LocalCluster, and the plain run ensemble;
the driver's peak memory at 1× and 10× the points; the shipped experiment's wall time.

Throughput uses the first points of configs/experiments/what_matters.toml (the
same inputs, outcomes, horizon and replications) so it takes a few minutes; the
`run` ensemble runs the base scenario cut to the same horizon with the same
number of model runs. Model runs per second = points × replications / wall time.
Dask's overhead = (local rate / Dask rate − 1).

The driver's memory is measured in a separate process (its own peak RSS; the
workers are other processes) for an LHS experiment of N and 10·N points.

    python benchmarks/bench_explore.py                 # throughput + memory (~5 min)
    python benchmarks/bench_explore.py --points 48     # quicker
    python benchmarks/bench_explore.py --full          # also the whole shipped experiment (~5–10 min more)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenarios.analysis.sensitivity import sample_design  # noqa: E402
from scenarios.config.experiment import Experiment, load_experiment  # noqa: E402
from scenarios.engine.executor import Backend  # noqa: E402
from scenarios.engine.points import ScenarioModel, run_points  # noqa: E402

SHIPPED = ROOT / "configs" / "experiments" / "what_matters.toml"


def throughput(
    experiment: Experiment, points: int, backend: Backend, scratch: Path
) -> tuple[float, float]:
    """Model runs per second over the first ``points`` points on ``backend``: (with the
    backend's start-up, e.g. a Dask LocalCluster's, counted; without it)."""
    from scenarios.engine.executor import Executor
    from scenarios.folders.work_folder import WorkFolder

    spec = experiment.spec
    overrides = sample_design(experiment).overrides[:points]
    model = ScenarioModel(experiment.document, tuple(spec.outcomes.values()))
    start = time.perf_counter()
    with (
        Executor(backend) as executor,
        WorkFolder(scratch / backend.name, backend.name, {}, False, True) as work,
    ):
        started = time.perf_counter()
        run_points(
            model,
            overrides,
            spec.replications,
            spec.seed,
            work,
            executor,
            outcomes=len(spec.outcomes),
            label=backend.name,
            progress=False,
        )
        end = time.perf_counter()
    runs = points * spec.replications
    return runs / (end - start), runs / (end - started)


def run_ensemble_rate(runs: int, horizon: int, scratch: Path) -> float:
    """Model runs per second of `clusterfund run --jobs 2 --no-plots` (the whole process)."""
    out = scratch / "run"
    command = [
        sys.executable,
        "-m",
        "scenarios.cli",
        "run",
        str(ROOT / "configs" / "baseline.toml"),
        "--runs",
        str(runs),
        "--horizon",
        str(horizon),
        "--jobs",
        "2",
        "--no-plots",
        "--out",
        str(out),
        "--force",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return runs / (time.perf_counter() - start)


MEMORY_EXPERIMENT = """
name = "memory"
base = "{base}"
design = "lhs"
samples = {samples}
replications = 1
seed = 1
horizon = 2021

[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: benchmark"

[uncertain."clusters.*.private_income"]
scale = [0.7, 1.3]
source = "assumed: benchmark"

[outcomes.closures]
metric = "closed"
year = 2021

[outcomes.members]
metric = "members"
year = 2021
"""

MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys
    from scenarios.cli import cli
    try:
        cli(sys.argv[1:], obj={{}})
    except SystemExit:
        pass
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def driver_peak_mib(samples: int, scratch: Path) -> tuple[float, float]:
    """(peak RSS of the explore driver in MiB, wall seconds) for an LHS of ``samples`` points."""
    path = scratch / f"memory{samples}.toml"
    path.write_text(
        MEMORY_EXPERIMENT.format(
            base=(ROOT / "configs" / "baseline.toml").as_posix(), samples=samples
        )
    )
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY_PROBE.format(),
            "explore",
            str(path),
            "--jobs",
            "2",
            "--no-plots",
            "--out",
            str(scratch / f"memory{samples}"),
            "--force",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    return int(done.stdout.strip().splitlines()[-1]) / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=96, help="points of the shipped experiment")
    parser.add_argument("--memory-points", type=int, default=300, help="N for the memory test")
    parser.add_argument(
        "--full", action="store_true", help="also time the whole shipped experiment"
    )
    args = parser.parse_args()
    experiment = load_experiment(SHIPPED)
    spec = experiment.spec
    runs = args.points * spec.replications
    horizon = experiment.document["programme"]["horizon"]
    print(
        f"shipped experiment: {len(sample_design(experiment).overrides)} points × "
        f"{spec.replications} replications, horizon {horizon}; timing the first "
        f"{args.points} points ({runs} model runs)"
    )
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        local, _ = throughput(experiment, args.points, Backend("local", 2), scratch)
        print(f"  explore, local --jobs 2:          {local:7.1f} runs/s")
        dask, dask_running = throughput(experiment, args.points, Backend("dask", 2), scratch)
        print(
            f"  explore, dask LocalCluster(2):    {dask:7.1f} runs/s with the cluster's start-up "
            f"(overhead {100 * (local / dask - 1):+.1f} % against local), {dask_running:7.1f} runs/s "
            f"once it runs ({100 * (local / dask_running - 1):+.1f} %; target ≤ 10 %)"
        )
        ensemble = run_ensemble_rate(runs, horizon, scratch)
        print(
            f"  clusterfund run --jobs 2 ({runs} runs, to {horizon}): {ensemble:7.1f} runs/s "
            f"(explore local is {local / ensemble:.2f}× of it)"
        )
        for factor in (1, 10):
            n = args.memory_points * factor
            peak, seconds = driver_peak_mib(n, scratch)
            print(f"  driver peak memory, LHS of {n:>6} points: {peak:6.1f} MiB ({seconds:.0f} s)")
        if args.full:
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "scenarios.cli",
                    "explore",
                    str(SHIPPED),
                    "--jobs",
                    "2",
                    "--out",
                    str(scratch / "what_matters"),
                    "--force",
                ],
                check=True,
                cwd=ROOT,
            )
            print(
                f"  what_matters.toml on 2 cores, with plots: {time.perf_counter() - start:.0f} s"
            )


if __name__ == "__main__":
    main()
