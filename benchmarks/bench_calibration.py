"""Wall time of the whole calibration (every wave) of configs/experiments/calibrate_baseline.toml
on 2 cores, with the per-wave counts.

The waves stop early when one rules out every point, so the time depends on the
observations as well as on the design. ``--without cluster:year:metric`` leaves rows out of
a copy of the observations (the experiment is copied beside it, its base made absolute), to
time all the waves when the model cannot meet an observation yet (before the exit
mechanisms, no point meets ``all:2018:closed_clusters >= 1`` and wave 1 rules out
everything).

    python benchmarks/bench_calibration.py                                    # as shipped
    python benchmarks/bench_calibration.py --without all:2018:closed_clusters # every wave
    python benchmarks/bench_calibration.py --samples 32                       # quicker
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenarios.config.experiment import load_experiment  # noqa: E402
from scenarios.engine.executor import Backend  # noqa: E402
from scenarios.studies.explore import ExploreRequest, execute_explore  # noqa: E402

SHIPPED = ROOT / "configs" / "experiments" / "calibrate_baseline.toml"


def experiment_copy(scratch: Path, without: list[str], samples: int | None) -> Path:
    """The shipped experiment in ``scratch`` (its base absolute), its observations without
    the rows named ``cluster:year:metric`` in ``without``, ``samples`` changed if given."""
    spec = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    spec["base"] = str((SHIPPED.parent / spec["base"]).resolve())
    source = SHIPPED.parent / spec["calibrate"]["observations"]
    rows = list(csv.DictReader(io.StringIO(source.read_text(encoding="utf-8"))))
    kept = [r for r in rows if f"{r['cluster']}:{r['year']}:{r['metric']}" not in without]
    if len(kept) != len(rows) - len(without):
        raise SystemExit(f"not every row of {without} is in {source}")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    (scratch / "observations.csv").write_text(buffer.getvalue(), encoding="utf-8")
    spec["calibrate"]["observations"] = "observations.csv"
    if samples is not None:
        spec["samples"] = samples
    path = scratch / SHIPPED.name
    path.write_text(tomli_w.dumps(spec), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--without", action="append", default=[], metavar="CLUSTER:YEAR:METRIC")
    parser.add_argument("--samples", type=int, default=None, help="points per wave")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        path = (
            experiment_copy(scratch, args.without, args.samples)
            if args.without or args.samples
            else SHIPPED
        )
        experiment = load_experiment(path)
        spec = experiment.spec
        assert spec.calibrate is not None
        request = ExploreRequest(
            out=scratch / "out", backend=Backend("local", args.jobs), progress=False
        )
        start = time.perf_counter()
        out = execute_explore(experiment, request)
        wall = time.perf_counter() - start
        waves = list(csv.DictReader((out / "waves.csv").open(encoding="utf-8")))
        runs = (sum(int(w["points"]) for w in waves) + 1) * spec.replications
        print(
            f"{path.name}{' without ' + ', '.join(args.without) if args.without else ''}: "
            f"{spec.design} {spec.samples} points x {spec.replications} replications, "
            f"{len(waves)} of {spec.calibrate.waves} waves run, {args.jobs} jobs"
        )
        for wave in waves:
            print(
                f"  wave {wave['wave']}: {wave['points']} points, "
                f"{wave['not_ruled_out']} not ruled out {wave['note']}".rstrip()
            )
        print(f"wall time {wall:.1f} s for {runs} model runs ({runs / wall:.1f} runs/s)")


if __name__ == "__main__":
    main()
