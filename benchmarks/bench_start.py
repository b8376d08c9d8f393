"""How long a command takes before it does its work: issue #22's item 5, a lighter start.

Times, from one or more checkouts (``--code``, alternating, ``--repeat`` times each):

- ``clusterfund --help``;
- ``clusterfund validate configs/baseline.toml``;
- ``clusterfund run configs/baseline.toml --runs 1 --no-plots --jobs 1``: a one-run command;
- the start of ``clusterfund run configs/baseline.toml --jobs 2``: the seconds from the
  program's first line until it asks for the ensemble's batches (``run_stream`` called, just
  before the worker processes fork);
- the start of ``clusterfund explore`` of ``what_matters.toml``: the seconds until its
  points are handed out (``scenarios.engine.points.run_points`` called), which includes
  sampling the design with SALib.

Each is reported as the median (min–max) in seconds. Compiled modules are cached, as on a
user's machine (the first timing of each command writes them and is not counted).

    python benchmarks/bench_start.py
    python benchmarks/bench_start.py --code /tmp/before --code . --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
WHAT_MATTERS = ROOT / "configs" / "experiments" / "what_matters.toml"

STARTED = """
import runpy, sys, time
started = time.perf_counter()
import {module} as target
def reached(*args, **kwargs):
    print(f"reached {{time.perf_counter() - started:.4f}}", file=sys.stderr, flush=True)
    raise SystemExit(0)
target.{function} = reached
sys.argv = ["clusterfund", *sys.argv[1:]]
runpy.run_module("scenarios.cli", run_name="__main__")
"""
"""A command, stopped when it calls ``module.function`` (as ``studies`` modules call it):
prints the seconds until then. Patched where the study looks it up."""


def environment(code: Path) -> dict[str, str]:
    """The environment a command of checkout ``code`` runs in (its modules cached)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def wall(code: Path, args: list[str]) -> float:
    """Wall seconds of ``clusterfund ARGS`` from checkout ``code``."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "scenarios.cli", *args],
        cwd=code,
        env=environment(code),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def until(code: Path, module: str, function: str, args: list[str]) -> float:
    """Seconds from the program's first line until ``clusterfund ARGS`` calls
    ``module.function`` (the interpreter's own start, about 20 ms, not included)."""
    program = STARTED.format(module=module, function=function)
    done = subprocess.run(
        [sys.executable, "-c", program, *args],
        cwd=code,
        env=environment(code),
        check=True,
        capture_output=True,
        text=True,
    )
    reached = [line for line in done.stderr.splitlines() if line.startswith("reached ")]
    if not reached:
        raise RuntimeError(f"{module}.{function} was never called by clusterfund {args}")
    return float(reached[0].split()[1])


def measures(scratch: Path) -> dict[str, tuple[str, ...]]:
    """What is timed: name → how (``wall`` args, or module, function and args)."""
    out = str(scratch / "out")
    return {
        "--help": ("wall", "--help"),
        "validate": ("wall", "validate", str(BASELINE)),
        "run, 1 run": (
            "wall",
            *("run", str(BASELINE), "--runs", "1", "--no-plots", "--jobs", "1"),
            *("--out", out, "--force"),
        ),
        "run, to batches": (
            "scenarios.studies.run",
            "run_stream",
            *("run", str(BASELINE), "--jobs", "2", "--out", out, "--force"),
        ),
        "explore, to points": (
            "scenarios.studies.explore",
            "run_points",
            *("explore", str(WHAT_MATTERS), "--out", out, "--force"),
        ),
    }


def time_one(code: Path, how: tuple[str, ...]) -> float:
    """One timing of a measure."""
    if how[0] == "wall":
        return wall(code, list(how[1:]))
    return until(code, how[0], how[1], list(how[2:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, action="append", help="a checkout to time")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    codes = [path.resolve() for path in options.code or [ROOT]]
    with tempfile.TemporaryDirectory() as scratch_name:
        todo = measures(Path(scratch_name))
        times: dict[tuple[Path, str], list[float]] = {}
        for code in codes:  # compile and cache every module first
            for how in todo.values():
                time_one(code, how)
        for _ in range(options.repeat):
            for name, how in todo.items():
                for code in codes:
                    times.setdefault((code, name), []).append(time_one(code, how))
    for code in codes:
        print(f"code timed: {code}")
        for name in todo:
            spread = times[(code, name)]
            print(
                f"  {name:20s} {statistics.median(spread):5.2f} s "
                f"({min(spread):.2f}–{max(spread):.2f})"
            )


if __name__ == "__main__":
    main()
