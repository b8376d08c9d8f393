"""Cost of parameter sets: ``clusterfund run`` of the baseline with K parameter sets against
the same run without them (the issue asks for within 10 %).

The sets vary the calibration's inputs (``members.churn``, ``members.join_rate``,
``members.first_year_churn`` and every cluster's ``private_income`` and ``other_public``)
with values drawn around the baseline's; run r uses set r mod K. Each command runs as its
own process (imports included), without plots, alternating with and without sets, and
the median of ``--repeats`` is reported.

    python benchmarks/bench_parameter_sets.py --runs 1000 --sets 32 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"


def write_sets(folder: Path, sets: int, seed: int = 1) -> Path:
    """A scenario extending the baseline with ``sets`` random parameter sets beside it."""
    sys.path.insert(0, str(ROOT))
    from scenarios.config.scenario import load_config

    scenario = load_config(BASELINE).scenario
    rng = np.random.default_rng(seed)
    keys = ["members.churn", "members.join_rate", "members.first_year_churn"]
    centre = [scenario.members.churn, scenario.members.join_rate, scenario.members.first_year_churn]
    for cid, cluster in scenario.clusters.items():
        keys += [f"clusters.{cid}.private_income", f"clusters.{cid}.other_public"]
        centre += [cluster.private_income, cluster.other_public]
    rows = [",".join(["set", *keys])]
    for number in range(sets):
        values = np.array(centre) * rng.uniform(0.8, 1.2, len(centre))
        rows.append(",".join([str(number), *(repr(float(v)) for v in values)]))
    (folder / "sets.csv").write_text("\n".join(rows) + "\n")
    config = folder / "with_sets.toml"
    config.write_text(
        f'extends = "{BASELINE}"\nname = "with_sets"\nparameter_sets = "sets.csv"\n'
        '[provenance]\nparameter_sets = "assumed: benchmark"\n'
    )
    return config


def timed_run(config: Path, out: Path, runs: int, jobs: int) -> float:
    """Wall seconds of one ``clusterfund run`` process without plots."""
    command = [
        sys.executable, "-m", "scenarios.cli", "run", str(config), "--out", str(out),
        "--runs", str(runs), "--jobs", str(jobs), "--no-plots", "--force",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--sets", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_sets(folder, args.sets)
        without, with_sets = [], []
        for _ in range(args.repeats):
            without.append(timed_run(BASELINE, folder / "plain", args.runs, args.jobs))
            with_sets.append(timed_run(config, folder / "sets", args.runs, args.jobs))
    plain, sets = statistics.median(without), statistics.median(with_sets)
    print(f"runs {args.runs}, jobs {args.jobs}, K = {args.sets} sets, median of {args.repeats}")
    print(f"  without sets: {plain:.2f} s  (all: {', '.join(f'{t:.2f}' for t in without)})")
    print(f"  with sets:    {sets:.2f} s  (all: {', '.join(f'{t:.2f}' for t in with_sets)})")
    print(f"  ratio with/without: {sets / plain:.3f}")


if __name__ == "__main__":
    main()
