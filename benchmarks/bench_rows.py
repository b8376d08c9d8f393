"""The two rows of issue #22's table: where users wait, against the numpy reference.

1. ``clusterfund run configs/baseline.toml --runs 1000`` (default options: two jobs, open
   calls from 2022, plots), against 1,000 runs of the numpy reference of the member
   dynamics (``bench_ensemble.reference_run``, one process) over the same years;
2. ``clusterfund explore`` of ``what_matters.toml`` cut to ``samples = 16`` (1,920 runs to
   2025) with ``--no-plots``, against 1,920 reference runs to 2025.

Each side is timed ``--repeat`` times (default 3), alternating, and reported as the median
with its range, and the ratio of the medians. ``--code DIR`` times the commands of another
checkout (for example the commit before a change, made with ``git worktree add``) with this
checkout's reference, so a before and an after share one reference:

    python benchmarks/bench_rows.py
    python benchmarks/bench_rows.py --code /tmp/before --repeat 3

``--jobs-speedup`` instead times row 1 at ``--jobs 1`` and ``--jobs 2`` (with its plots, and
with ``--no-plots``), alternating, and gives each speed-up of two workers over one. Between
them it times the machine's ceiling: one pure-Python loop, then two at once (two
processes that share nothing). On a shared machine two cores are not always two cores'
worth, and no ``--jobs 2`` can beat that ceiling.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_ensemble import time_reference  # noqa: E402

from scenarios.config.scenario import load_config  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.toml"
WHAT_MATTERS = ROOT / "configs" / "experiments" / "what_matters.toml"
RUN_RUNS, EXPLORE_SAMPLES = 1000, 16


def time_command(code: Path, args: list[str]) -> float:
    """Wall seconds of ``clusterfund ARGS`` run from the checkout ``code``."""
    # as a user's machine runs it: compiled modules cached (this sandbox sets PYTHONDONTWRITEBYTECODE)
    environment = {**os.environ, "PYTHONPATH": str(code)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "scenarios.cli", *args]
    started = time.perf_counter()
    subprocess.run(command, cwd=code, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def explore_file(scratch: Path) -> Path:
    """what_matters.toml with ``samples = 16``, its base named by absolute path."""
    text = WHAT_MATTERS.read_text(encoding="utf-8")
    lines = [
        f"samples = {EXPLORE_SAMPLES}" if re.match(r"samples = \d", line) else line
        for line in text.splitlines()
    ]
    text = "\n".join(lines).replace('base = "../baseline.toml"', f'base = "{BASELINE}"')
    path = scratch / "what_matters_16.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def shown(times: list[float]) -> str:
    """Median (min–max) in seconds."""
    return f"{statistics.median(times):6.2f} s ({min(times):.2f}–{max(times):.2f})"


SPIN = "x = 0\nfor i in range(10_000_000):\n    x += i\n"
"""A pure-Python loop of about a second: what two cores give two processes."""


def spin_seconds(at_once: int) -> float:
    """Wall seconds for ``at_once`` processes, started together, each running :data:`SPIN`."""
    started = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(at_once)]
    for process in processes:
        process.wait()
    return time.perf_counter() - started


def jobs_speedup(code: Path, repeat: int) -> None:
    """Row 1 with one worker and with two, with and without plots: the speed-up of two; and
    the machine's ceiling, timed between them: two loops at once against one."""
    times: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch_name:
        for attempt in range(repeat):
            times.setdefault(("spin", 1), []).append(spin_seconds(1))
            times.setdefault(("spin", 2), []).append(spin_seconds(2))
            for plots in ("plots", "--no-plots"):
                for jobs in (1, 2):
                    out = Path(scratch_name) / f"run{attempt}_{jobs}{plots}"
                    args = ["run", str(BASELINE), "--runs", str(RUN_RUNS), "--out", str(out)]
                    args += ["--jobs", str(jobs)] + ([plots] if plots != "plots" else [])
                    times.setdefault((plots, jobs), []).append(time_command(code, args))
    print(f"code timed: {code}")
    for plots in ("plots", "--no-plots"):
        one, two = times[(plots, 1)], times[(plots, 2)]
        speedup = statistics.median(one) / statistics.median(two)
        print(f"{plots:10s} --jobs 1 {shown(one)}  --jobs 2 {shown(two)}  speed-up {speedup:.2f}x")
    one, two = times[("spin", 1)], times[("spin", 2)]
    ceiling = 2 * statistics.median(one) / statistics.median(two)
    print(
        f"ceiling    one loop {shown(one)}  two at once {shown(two)}  "
        f"{ceiling:.2f}x (the speed-up two processes with nothing to share got)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to time")
    parser.add_argument("--jobs-speedup", action="store_true", help="time row 1 at 1 and 2 jobs")
    options = parser.parse_args()
    code = options.code.resolve()
    if options.jobs_speedup:
        jobs_speedup(code, options.repeat)
        return
    baseline = load_config(BASELINE).scenario
    to_2025 = baseline.model_copy(
        update={"programme": baseline.programme.model_copy(update={"horizon": 2025})}
    )
    runs_of_explore = EXPLORE_SAMPLES * (10 + 2) * 10  # Sobol' N (k + 2) points x 10 replications
    rows = {"run": ([], []), "explore": ([], [])}
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        experiment = explore_file(scratch)
        for attempt in range(options.repeat):
            out = scratch / f"run{attempt}"
            run_args = ["run", str(BASELINE), "--runs", str(RUN_RUNS), "--out", str(out)]
            rows["run"][0].append(time_command(code, run_args))
            rows["run"][1].append(time_reference(baseline, RUN_RUNS))
            out = scratch / f"explore{attempt}"
            explore_args = ["explore", str(experiment), "--no-plots", "--out", str(out)]
            rows["explore"][0].append(time_command(code, explore_args))
            rows["explore"][1].append(time_reference(to_2025, runs_of_explore))
    print(f"code timed: {code}")
    for name, (tool, reference) in rows.items():
        ratio = statistics.median(tool) / statistics.median(reference)
        print(f"{name:8s} tool {shown(tool)}  reference {shown(reference)}  ratio {ratio:.1f}x")


if __name__ == "__main__":
    main()
