"""Optimise: evaluations per second, how many evaluations the toy needs, how the time
splits between the simulator and the optimiser, and the shipped specs' wall time.

An evaluation is one candidate × its replications. The toy is the one-cluster
model of tests/test_optimise.py (one replication, a hand-known optimum b* = 1.22);
"converged" means the best feasible lever is within 1 % of b*.

    python benchmarks/bench_optimise.py                # toy + a 60-evaluation slice of the shipped spec
    python benchmarks/bench_optimise.py --full         # also both shipped specs end to end (~10+ min)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_optimise import LEAST_BASE, TOY, TOY_POLICY  # noqa: E402

from scenarios.config.policy import load_policy  # noqa: E402
from scenarios.engine.executor import Backend  # noqa: E402
from scenarios.engine.points import ScenarioModel  # noqa: E402
from scenarios.studies.optimise import OptimiseRequest, execute_optimise  # noqa: E402

POLICIES = ROOT / "configs" / "policies"
SHIPPED = ("least_base_from_2019.toml", "base_per_cluster_front.toml")


class TimedModel:
    """Wraps the simulator and adds up the seconds spent inside it."""

    def __init__(self, model: ScenarioModel) -> None:
        self.model, self.seconds = model, 0.0

    def evaluate(self, overrides: dict, replications: int, seed: int) -> np.ndarray:
        start = time.perf_counter()
        try:
            return self.model.evaluate(overrides, replications, seed)
        finally:
            self.seconds += time.perf_counter() - start


def toy_convergence(scratch: Path) -> None:
    (scratch / "toy.toml").write_text(TOY)
    spec = scratch / "toy_policy.toml"
    spec.write_text(TOY_POLICY.format())
    policy = load_policy(spec)
    model = TimedModel(ScenarioModel(policy.document, tuple(policy.spec.outcomes.values())))
    start = time.perf_counter()
    result = execute_optimise(
        policy, OptimiseRequest(out=scratch / "toy", progress=False, make_plots=False), model=model
    )
    seconds = time.perf_counter() - start
    import pandas as pd

    table = pd.read_csv(result.folder / "evaluations.csv")
    lever = table["base_funding.default.value"].where(table["feasible"] == 1)
    best = lever.cummin().ffill()
    within = np.flatnonzero((best <= LEAST_BASE * 1.01).to_numpy())
    first = int(within[0]) + 1 if len(within) else None
    print(
        f"toy: {len(table)} evaluations in {seconds:.1f} s ({len(table) / seconds:.0f}/s); "
        f"within 1 % of b* = {LEAST_BASE:.3f} after {first} evaluations; "
        f"final {best.iloc[-1]:.4f} ({100 * (best.iloc[-1] / LEAST_BASE - 1):+.2f} %)"
    )
    print(
        f"  time in the simulator {model.seconds:.1f} s ({100 * model.seconds / seconds:.0f} %), "
        f"the rest (pymoo, bookkeeping, files) {seconds - model.seconds:.1f} s"
    )


def shipped_slice(scratch: Path, evaluations: int) -> None:
    policy = load_policy(POLICIES / SHIPPED[0])
    model = TimedModel(ScenarioModel(policy.document, tuple(policy.spec.outcomes.values())))
    start = time.perf_counter()
    execute_optimise(
        policy,
        OptimiseRequest(
            out=scratch / "slice", budget=evaluations, progress=False, make_plots=False
        ),
        model=model,
    )
    seconds = time.perf_counter() - start
    runs = evaluations * policy.spec.replications
    print(
        f"{SHIPPED[0]}, first {evaluations} evaluations × {policy.spec.replications} runs, "
        f"one process: {seconds:.0f} s = {evaluations / seconds:.2f} evaluations/s "
        f"({runs / seconds:.0f} runs/s); simulator {100 * model.seconds / seconds:.0f} % "
        f"of the time (the out-of-sample re-run included)"
    )
    for backend in (Backend("local", 2), Backend("dask", 2)):
        start = time.perf_counter()
        execute_optimise(
            policy,
            OptimiseRequest(
                out=scratch / backend.name,
                budget=evaluations,
                backend=backend,
                progress=False,
                make_plots=False,
            ),
        )
        seconds = time.perf_counter() - start
        print(
            f"  {backend.describe()}: {seconds:.0f} s = {evaluations / seconds:.2f} evaluations/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=60)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        toy_convergence(scratch)
        shipped_slice(scratch, args.evaluations)
        if args.full:
            for name in SHIPPED:
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "scenarios.cli",
                        "optimise",
                        str(POLICIES / name),
                        "--jobs",
                        "2",
                        "--out",
                        str(scratch / name),
                        "--force",
                    ],
                    check=True,
                    cwd=ROOT,
                )
                print(f"{name} on 2 cores: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
