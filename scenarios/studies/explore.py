"""``clusterfund explore``: sample the uncertain assumptions, run every point, and say
which assumptions drive each outcome (SALib) and under which conditions a target
is lost (PRIM).

The points' outcome statistics are computed in chunks on a backend (local pool
or Dask) and saved as they finish, so a stopped experiment resumes where it
stopped; the tables are written from the saved chunks in point order, so they
are byte-identical whatever the backend, ``--jobs``, chunk size or order of
completion.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from scenarios.analysis import sensitivity as designs
from scenarios.analysis.discovery import Discovery, discover
from scenarios.config.experiment import Experiment
from scenarios.engine.executor import Backend, Executor
from scenarios.engine.points import (
    ChunkJob,
    InfeasiblePoint,
    PointModel,
    ScenarioModel,
    evaluate_chunk,
    make_chunks,
    points_per_chunk,
)
from scenarios.folders.checks import EXPLORE_KIND
from scenarios.folders.manifest import config_sha256, job_source_fields, write_job_manifest
from scenarios.folders.publish import StagedFolder
from scenarios.folders.run_folder import PLOTS_DIR
from scenarios.folders.tables import write_csv
from scenarios.folders.work_folder import WorkFolder
from simulator.outcomes import STATS

EXPERIMENTS_CSV = "experiments.csv"
OUTCOMES_CSV = "outcomes.csv"
SENSITIVITY_CSV = "sensitivity.csv"
DISCOVERY_CSV = "discovery.csv"
KIND = EXPLORE_KIND


@dataclass(frozen=True)
class ExploreRequest:
    """What the user asked ``clusterfund explore`` for."""

    out: Path
    backend: Backend = field(default_factory=Backend)
    resume: bool = False
    force: bool = False
    progress: bool = True
    make_plots: bool = True
    chunk_points: int | None = None
    """Points per chunk [default: about 96 model runs]."""


@dataclass(frozen=True)
class Design:
    """An experiment's points: unit-cube coordinates, input values and overrides."""

    unit: np.ndarray
    values: np.ndarray
    overrides: list[dict[str, Any]]


def build_design(experiment: Experiment) -> Design:
    """Sample the experiment's design and map it to values and config overrides."""
    spec = experiment.spec
    unit = designs.unit_sample(
        spec.design, experiment.input_names, spec.samples, spec.seed, spec.levels
    )
    values = designs.to_values(unit, [i.spec for i in experiment.inputs])
    overrides = [experiment.overrides(row) for row in values]
    return Design(unit, values, overrides)


def fingerprint(experiment: Experiment, design: Design) -> str:
    """What the saved chunks depend on: the file, the base document, the points, the code."""
    digest = hashlib.sha256()
    digest.update(json.dumps(experiment.spec.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(config_sha256(experiment.document).encode())
    digest.update(np.ascontiguousarray(design.values).tobytes())
    digest.update(metadata.version("clusterfund").encode())
    return digest.hexdigest()


def run_points(
    model: PointModel,
    overrides: list[dict[str, Any]],
    replications: int,
    seed: int,
    work: WorkFolder,
    request: ExploreRequest,
    executor: Executor,
    outcomes: int,
    label: str,
) -> np.ndarray:
    """Evaluate every point not yet saved in ``work``; (points, outcomes, 4) statistics."""
    points = len(overrides)
    stats, done = work.load_chunks(points, (outcomes, len(STATS)))
    todo = [i for i in range(points) if not done[i]]
    size = request.chunk_points or points_per_chunk(replications, len(todo), request.backend.jobs)
    chunks = make_chunks(overrides, todo, size)
    job = ChunkJob(model, replications, seed)
    bar = tqdm(
        total=points,
        initial=points - len(todo),
        desc=label,
        unit="point",
        disable=None if request.progress else True,
    )
    with bar:
        for first, chunk_stats in executor.map_unordered(evaluate_chunk, job, chunks):
            work.save_chunk(first, chunk_stats)
            stats[first : first + len(chunk_stats)] = chunk_stats
            bar.update(len(chunk_stats))
    return stats


def execute_explore(
    experiment: Experiment, request: ExploreRequest, model: PointModel | None = None
) -> Path:
    """Run the experiment and write its complete results folder; return its path.

    ``model`` defaults to the clusterfund simulator on the experiment's base
    scenario; tests pass analytic functions through the same pipeline.
    """
    spec = experiment.spec
    design = build_design(experiment)
    targets = [t.outcome for t in experiment.targets]
    model = model or ScenarioModel(
        experiment.document, (*spec.outcomes.values(), *targets), str(experiment.path)
    )
    # with [calibrate], the base scenario itself is scored too: one more point, last
    points = design.overrides + ([{}] if targets else [])
    plan = {"experiment": str(experiment.path), "points": len(points)}
    reads = [experiment.path, *(experiment.base.files if experiment.base else [])]
    with (
        Executor(request.backend) as executor,
        WorkFolder(
            request.out, fingerprint(experiment, design), plan, request.resume, request.force
        ) as work,
    ):
        try:
            stats = run_points(
                model,
                points,
                spec.replications,
                spec.seed,
                work,
                request,
                executor,
                len(spec.outcomes) + len(targets),
                spec.name,
            )
        except InfeasiblePoint:  # a point that cannot be met: the experiment cannot finish
            work.discard()
            raise
        outcome_stats = stats[: len(design.overrides), : len(spec.outcomes)]
        with work.kept_if_refused(), StagedFolder(request.out, request.force, reads) as staging:
            folder = staging.path
            write_tables(folder, experiment, design, outcome_stats)
            if targets:
                from scenarios.studies.calibrate import write_calibration

                calibration = stats[:, len(spec.outcomes) :]
                write_calibration(folder, request.out, experiment, design, calibration)
            manifest = write_explore_manifest(folder, experiment, design, request.backend)
            if request.make_plots:
                from scenarios.folders.explore_folder import ExploreFolder
                from scenarios.present.explore_charts import draw_explore_plots

                draw_explore_plots(ExploreFolder(folder, manifest), folder / PLOTS_DIR)
        work.remove()
        return request.out


def chosen_stat(experiment: Experiment, stats: np.ndarray, outcome: str) -> np.ndarray:
    """One value per point: the outcome's chosen statistic over replications."""
    o = experiment.outcome_names.index(outcome)
    return stats[:, o, STATS.index(experiment.spec.outcomes[outcome].stat)]


def write_tables(folder: Path, experiment: Experiment, design: Design, stats: np.ndarray) -> None:
    """experiments.csv, outcomes.csv, sensitivity.csv and (with [discover]) discovery.csv."""
    spec = experiment.spec
    names = experiment.input_names
    write_csv(  # the numbers the runs used: whole-number inputs rounded as they were set
        folder / EXPERIMENTS_CSV,
        ("point", *names),
        ((p, *experiment.values_used(row)) for p, row in enumerate(design.values)),
    )
    write_csv(
        folder / OUTCOMES_CSV,
        ("point", "outcome", *STATS),
        (
            (p, outcome, *map(float, stats[p, o]))
            for p in range(len(design.values))
            for o, outcome in enumerate(experiment.outcome_names)
        ),
    )
    columns = designs.sensitivity_columns(spec.design)
    rows = []
    for outcome in experiment.outcome_names:
        y = chosen_stat(experiment, stats, outcome)
        result = designs.analyse(
            spec.design, names, design.unit, y, spec.seed, spec.samples, spec.levels
        )
        rank_by = result.values[designs.ranking_column(spec.design)]
        order = np.argsort(-np.nan_to_num(rank_by, nan=-np.inf), kind="stable")
        ranks = np.empty(len(names), dtype=int)
        ranks[order] = np.arange(1, len(names) + 1)
        for j, name in enumerate(names):
            cells = [_cell(result.values[c][j]) for c in columns]
            rows.append(
                (outcome, spec.outcomes[outcome].stat, name, *cells, int(ranks[j]), result.note)
            )
    write_csv(
        folder / SENSITIVITY_CSV, ("outcome", "stat", "input", *columns, "rank", "note"), rows
    )
    if spec.discover is not None:
        found = discover(
            design.values,
            names,
            chosen_stat(experiment, stats, spec.discover.outcome),
            spec.discover,
        )
        write_discovery(folder / DISCOVERY_CSV, found, names)


def _cell(value: float) -> float | str:
    return "" if not np.isfinite(value) else float(value)


def write_discovery(path: Path, found: Discovery, names: list[str]) -> None:
    """The PRIM peeling trajectory, one row per step, the chosen box marked."""
    header = (
        "step",
        "coverage",
        "density",
        "mass",
        "restricted",
        "chosen",
        *[f"{n}:{end}" for n in names for end in ("low", "high")],
    )
    write_csv(
        path,
        header,
        (
            (
                step.index,
                step.coverage,
                step.density,
                step.mass,
                step.restricted,
                int(step.index == found.chosen),
                *[v for n in names for v in step.limits[n]],
            )
            for step in found.steps
        ),
    )


def write_explore_manifest(
    folder: Path, experiment: Experiment, design: Design, backend: Backend
) -> dict[str, Any]:
    """manifest.json of an explore folder."""
    spec = experiment.spec
    fields = {
        **job_source_fields(
            "experiment",
            spec,
            experiment.path,
            experiment.base.files if experiment.base else [],
            experiment.document,
        ),
        "design": spec.design,
        "points": len(design.values),
        "replications": spec.replications,
        "runs": len(design.values) * spec.replications,
        "seed": spec.seed,
        "horizon": experiment.document.get("programme", {}).get("horizon"),
        "inputs": {
            i.name: {"keys": list(i.keys), **i.spec.model_dump(mode="json")}
            for i in experiment.inputs
        },
        "backend": backend.describe(),
        "base_config": experiment.document,
    }
    return write_job_manifest(
        folder, KIND, fields, ("SALib", "ema_workbench", "dask", "distributed")
    )
