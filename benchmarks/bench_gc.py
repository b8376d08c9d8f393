"""What Python's garbage collector costs the simulation, with CPython's settings and with
the engine's (:mod:`scenarios.engine.collector`).

Each setting runs the baseline's 320 runs (batches of 64, as ``--jobs 1`` makes them) in a
fresh process, after a warm-up batch, and reports the wall time and the time the
collector itself took (timed by ``gc.callbacks``, so the machine's drift hardly touches
it), by generation. The two settings alternate ``--repeat`` times.

    python benchmarks/bench_gc.py
    python benchmarks/bench_gc.py --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS, BATCH = 320, 64


def one_setting(engine: bool) -> dict[str, object]:
    """Simulate in this process; the wall seconds and the collector's seconds by generation."""
    from scenarios.config.scenario import load_config
    from scenarios.engine import ensemble
    from scenarios.engine.collector import collecting_less

    scenario = load_config(ROOT / "configs" / "baseline.toml").scenario
    warm_up = ensemble.BatchJob(scenario, scenario.seed)
    ensemble.simulate_runs(warm_up, range(BATCH))
    spent, collections, started = [0.0, 0.0, 0.0], [0, 0, 0], [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]
            collections[info["generation"]] += 1

    gc.callbacks.append(timed)
    job = ensemble.BatchJob(scenario, scenario.seed)
    begun = time.perf_counter()
    with collecting_less() if engine else nullcontext():
        for first in range(0, RUNS, BATCH):
            ensemble.simulate_runs(job, range(first, first + BATCH))
    return {"wall": time.perf_counter() - begun, "gc": spent, "collections": collections}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--setting", choices=["cpython", "engine"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.setting:
        print(json.dumps(one_setting(options.setting == "engine")))
        return
    print(f"{RUNS} runs of the baseline, one process; the collector's own time in brackets")
    for _ in range(options.repeat):
        for setting in ("cpython", "engine"):
            command = [sys.executable, __file__, "--setting", setting]
            found = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
            wall, spent = found["wall"], found["gc"]
            by_generation = ", ".join(
                f"gen {g}: {n} in {s:.3f} s"
                for g, (n, s) in enumerate(zip(found["collections"], spent, strict=True))
            )
            print(
                f"  {setting:8s} {wall / RUNS * 1e3:6.2f} ms a run  "
                f"(collector {sum(spent):.3f} s, {sum(spent) / wall:5.1%}; {by_generation})"
            )


if __name__ == "__main__":
    main()
