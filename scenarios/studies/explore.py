"""``clusterfund explore``: sample the uncertain assumptions, run every point, and say
which assumptions drive each outcome (SALib) and under which conditions a target
is lost (PRIM).

The points' outcome statistics are computed in chunks on a backend (local pool
or Dask) and saved as they come back, so a stopped experiment resumes where it
stopped; the tables are written from the saved chunks in point order, so they
are byte-identical whatever the backend, ``--jobs``, chunk size or order of
completion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scenarios.analysis.discovery import discover
from scenarios.analysis.sensitivity import (
    DesignPoints,
    chosen_stat,
    sample_design,
    sensitivity_table,
)
from scenarios.config.designs import sensitivity_columns
from scenarios.config.experiment import Experiment, load_experiment
from scenarios.config.job_size import document_estimate
from scenarios.engine.executor import Backend, Executor
from scenarios.engine.points import PointFailed, PointModel, ScenarioModel, run_points
from scenarios.folders import explore_folder
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.folders.manifest import fingerprint
from scenarios.folders.publish import StagedFolder, default_folder
from scenarios.folders.run_folder import PLOTS_DIR
from scenarios.folders.work_folder import WorkFolder
from scenarios.present.explore_charts import draw_explore_plots
from scenarios.present.scenario_text import sets_note
from scenarios.studies.calibrate import calibrate
from scenarios.studies.history_match import HistoryMatch, history_match
from scenarios.studies.input_kinds import EXPERIMENT, check_input_kind


@dataclass(frozen=True)
class ExploreRequest:
    """What the user asked ``clusterfund explore`` for."""

    out: Path | None = None
    """The results folder [default: ``results/<experiment name>``]."""
    backend: Backend = field(default_factory=Backend)
    resume: bool = False
    force: bool = False
    progress: bool = True
    make_plots: bool = True
    chunk_points: int | None = None
    """Points per chunk [default: about 128 model runs, smaller towards the end]."""
    lang: str = "en"
    """The language of the charts (``en`` or ``sv``)."""


def explore(path: Path, request: ExploreRequest, notify: Callable[[str], None] = print) -> Path:
    """Load the experiment file at ``path`` and run it (see :func:`execute_explore`);
    ``notify`` gets the warnings and the time estimate before the runs start."""
    check_input_kind(path, EXPERIMENT, "explore")
    experiment = load_experiment(path)
    for warning in experiment.warnings:
        notify(f"warning: {warning}")
    if not request.resume:  # (resumed, part of the runs are done)
        estimate = document_estimate(
            experiment.model_runs, experiment.document, request.backend.jobs
        )
        if estimate is not None:
            notify(estimate)
    note = sets_note(experiment.document, experiment.spec.replications, "replications")
    if note is not None:
        notify(note)
    return execute_explore(experiment, request)


def study_inputs(experiment: Experiment) -> list[Path]:
    """Every file the experiment reads: the file, its base's files, its observations."""
    files = [
        experiment.path,
        *(Path(f) for f in (experiment.base.files if experiment.base else [])),
    ]
    if experiment.spec.calibrate is not None:
        files.append(experiment.path.parent / experiment.spec.calibrate.observations)
    return files


def experiment_fingerprint(experiment: Experiment, design: DesignPoints) -> str:
    """What the saved chunks depend on: the file, the base document, the points, the code."""
    return fingerprint(
        experiment.spec.model_dump(mode="json"),
        experiment.document,
        np.ascontiguousarray(design.values).tobytes(),
    )


def execute_explore(
    experiment: Experiment, request: ExploreRequest, model: PointModel | None = None
) -> Path:
    """Run the experiment and write its complete results folder; return its path.

    ``model`` defaults to the clusterfund simulator on the experiment's base
    scenario; tests pass analytic functions through the same pipeline.
    """
    spec = experiment.spec
    out = request.out or default_folder(spec.name)
    design = sample_design(experiment)
    targets = [t.outcome for t in experiment.targets]
    model = model or ScenarioModel(
        experiment.document, (*spec.outcomes.values(), *targets), str(experiment.path)
    )
    # with [calibrate], the base scenario itself is scored too: one more point, last
    points = design.overrides + ([{}] if targets else [])
    plan = {"experiment": str(experiment.path), "points": len(points)}
    reads = study_inputs(experiment)
    with (
        Executor(request.backend) as executor,
        WorkFolder(
            out,
            experiment_fingerprint(experiment, design),
            plan,
            request.resume,
            request.force,
            reads,
        ) as work,
    ):
        outcomes = len(spec.outcomes) + len(targets)

        def run_wave(number: int, wave: DesignPoints) -> np.ndarray:
            """The points of ``wave`` (of a calibration in waves), saved in its own store."""
            design_sha = hashlib.sha256(np.ascontiguousarray(wave.values).tobytes()).hexdigest()
            store = work.wave(number, design_sha)
            try:
                stats = run_points(
                    model,
                    wave.overrides,
                    spec.replications,
                    spec.seed,
                    store,
                    executor,
                    outcomes=outcomes,
                    label=f"{spec.name} wave {number}",
                    chunk_points=request.chunk_points,
                    progress=request.progress,
                )
            except PointFailed as exc:  # "point 17" of this wave's design
                raise exc.named(f"{exc.label} of wave {number}") from None
            return stats[:, len(spec.outcomes) :]

        try:
            stats = run_points(
                model,
                points,
                spec.replications,
                spec.seed,
                work,
                executor,
                outcomes=outcomes,
                label=spec.name,
                chunk_points=request.chunk_points,
                progress=request.progress,
            )
            match = (
                history_match(experiment, design, stats[:, len(spec.outcomes) :], run_wave)
                if targets
                else None
            )
        except PointFailed:  # a point that cannot be met: the experiment cannot finish
            work.discard()
            raise
        with work.kept_if_refused(), StagedFolder(out, request.force, reads) as staging:
            write_explore_folder(
                staging.path,
                out,
                request,
                experiment,
                design,
                stats,
                executor.backend.describe(),
                match,
            )
        work.remove()
        return out


def write_explore_folder(
    folder: Path,
    out: Path,
    request: ExploreRequest,
    experiment: Experiment,
    design: DesignPoints,
    stats: np.ndarray,
    backend: str,
    match: HistoryMatch | None = None,
) -> None:
    """Every table of the explore folder ``out`` (written in ``folder``, its staging;
    analysed here), its manifest and its charts.

    ``stats`` holds every point's statistics (points × outcomes × ``STATS``); with
    ``[calibrate]`` the calibration targets follow the outcomes, the base scenario
    follows the points, and ``match`` holds the calibration's waves (wave 1 is ``design``).
    """
    spec = experiment.spec
    names = experiment.input_names
    outcomes = len(spec.outcomes)
    point_stats = stats[: len(design.overrides), :outcomes]
    explore_folder.write_experiments(
        folder, names, [experiment.values_used(row) for row in design.values]
    )
    explore_folder.write_outcomes(folder, experiment.outcome_names, point_stats)
    explore_folder.write_sensitivity(
        folder, sensitivity_columns(spec.design), sensitivity_table(experiment, design, point_stats)
    )
    if spec.discover is not None:
        y = chosen_stat(experiment, point_stats, spec.discover.outcome)
        found = discover(design.values, names, y, spec.discover)
        explore_folder.write_discovery(folder, names, found.steps, found.chosen)
    if match is not None:
        calibrate(folder, out, experiment, match)
    manifest = explore_folder.write_explore_manifest(
        folder,
        experiment,
        len(design.values),
        backend,
        [len(w.design.values) for w in match.waves] if match is not None else [],
    )
    if request.make_plots:
        draw_explore_plots(ExploreFolder(folder, manifest), folder / PLOTS_DIR, request.lang)
