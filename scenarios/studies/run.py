"""``clusterfund run``: a scenario's ensemble → its results folder (CSVs, manifest, plots),
written whole or not at all.

The ensemble's batches run where the executor says (this process, a local pool, or Dask:
:mod:`scenarios.engine.executor`) and come back in run order, so the folder is
byte-identical whatever the backend, ``--jobs`` or ``--batch-size``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from scenarios.config.job_size import document_estimate
from scenarios.config.scenario import LoadedConfig, load_config
from scenarios.core.errors import UserError
from scenarios.engine.ensemble import run_stream
from scenarios.engine.executor import Backend, Executor
from scenarios.engine.summary import EnsembleSummary, ScorecardTally
from scenarios.folders.manifest import write_manifest
from scenarios.folders.publish import StagedFolder, default_folder
from scenarios.folders.run_folder import PLOTS_DIR, RunFolder, RunTables
from scenarios.present.pyplot import warm_up
from scenarios.present.run_charts import LONGEST_TO_DRAW_FIRST, RunCharts, run_chart_png
from scenarios.present.scenario_text import sets_note
from scenarios.studies.input_kinds import SCENARIO, check_input_kind
from simulator.lp import InfeasibleAllocation
from simulator.records import OutOfRange
from simulator.scorecard import scored_years


@dataclass(frozen=True)
class RunRequest:
    """What the user asked ``clusterfund run`` for."""

    config: Path
    """A scenario file, or a run's ``manifest.json`` (which reproduces that run)."""
    overrides: tuple[str, ...] = ()
    """``--set KEY=VALUE`` items."""
    out: Path | None = None
    """The results folder [default: ``results/<scenario name>``]."""
    runs: int | None = None
    seed: int | None = None
    horizon: int | None = None
    backend: Backend = field(default_factory=Backend)
    batch_size: int | None = None
    """Runs per batch (``None``: the ensemble runner's default)."""
    force: bool = False
    progress: bool = True
    make_plots: bool = True
    lang: str = "en"

    def option_overrides(self) -> dict[str, tuple[str, Any]]:
        """The options given that set a config key: option → (key path, value)."""
        return {
            name: (key, value)
            for name, key, value in (
                ("--horizon", "programme.horizon", self.horizon),
                ("--seed", "seed", self.seed),
                ("--runs", "runs", self.runs),
            )
            if value is not None
        }


@dataclass(frozen=True)
class RunResult:
    """What ``run`` wrote."""

    folder: Path
    runs: int
    seed: int


def run_scenario(request: RunRequest, notify: Callable[[str], None] = print) -> RunResult:
    """Load the scenario, run its ensemble and write the results folder.

    ``notify`` receives notes for the user before the work starts (a long job's time
    estimate). An allocation that cannot be met (hard targets) is bad input: one line.
    """
    check_input_kind(request.config, SCENARIO, "run")
    loaded = load_config(request.config, request.overrides, request.option_overrides())
    scenario = loaded.scenario
    estimate = document_estimate(scenario.runs, loaded.document, request.backend.jobs)
    if estimate is not None:
        notify(estimate)
    note = sets_note(loaded.document, scenario.runs, "runs")
    if note is not None:
        notify(note)
    out = request.out or default_folder(scenario.name)
    try:
        execute_run(loaded, out, request)
    except InfeasibleAllocation as exc:  # also when raised in a worker process
        raise infeasible(request.config, exc) from exc
    except OutOfRange as exc:
        raise UserError(f"{request.config}: {exc}") from exc
    return RunResult(out, scenario.runs, scenario.seed)


class ChartsWarmUp:
    """Charts made ready (:func:`scenarios.present.pyplot.warm_up`) in a thread while the
    ensemble runs elsewhere, if ``wanted``; a context manager that waits for the thread on
    the way out, so no thread is busy when the chart workers are forked. (When the
    ensemble stops or fails, it does not wait: no chart is drawn, and the thread, a
    daemon, ends by itself.)"""

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once; call it when the worker processes have started, as a
        fork during an import could leave a worker waiting on a lock held by the thread)."""
        if self.wanted and self.thread is None:
            self.thread = threading.Thread(target=_warm_up, name="charts-warm-up", daemon=True)
            self.thread.start()

    def __enter__(self) -> ChartsWarmUp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        if self.thread is not None and exc_type is None:
            self.thread.join()


def _warm_up() -> None:
    """:func:`scenarios.present.pyplot.warm_up`, quietly: if it fails, drawing the charts
    meets the same error and reports it in one line."""
    with suppress(Exception):  # reported when the charts are drawn
        warm_up()


def draw_plots(executor: Executor, run: RunFolder, out: Path, lang: str) -> None:
    """The run's charts, written in ``out``: drawn side by side on the workers of a local
    ``executor`` (each takes one to two seconds), the same bytes as drawn one after another.
    With Dask they are drawn here, one after another: a worker on another machine may have
    other fonts or another matplotlib, and so draw other bytes."""
    out.mkdir(parents=True, exist_ok=True)
    charts = RunCharts.of(run, lang)
    if executor.backend.name != "local":
        executor = Executor(Backend())  # this process
    order = LONGEST_TO_DRAW_FIRST
    with closing(executor.map(run_chart_png, charts, order)) as pictures:
        for name, png in zip(order, pictures, strict=True):
            (out / f"{name}.png").write_bytes(png)


def infeasible(config: Path, exc: InfeasibleAllocation) -> UserError:
    """The one-line error for an infeasible allocation (``allocate`` and ``run`` alike)."""
    return UserError(f"{config}: allocator: {exc}")


def execute_run(loaded: LoadedConfig, out: Path, request: RunRequest) -> Path:
    """Run the loaded scenario's ensemble and write the complete results folder ``out``.

    The folder is checked before the ensemble starts (refused if it exists, unless
    ``force`` and this tool wrote it), written in a staging folder and published whole.
    """
    scenario = loaded.scenario
    runs, seed = scenario.runs, scenario.seed
    with StagedFolder(out, request.force, reads=loaded.files) as staging:
        folder = staging.path
        summary = EnsembleSummary(folder, runs, scenario.years, list(scenario.clusters))
        tally = ScorecardTally(scenario, scored_years(scenario))
        with Executor(request.backend) as executor:
            with (
                RunTables(folder) as tables,
                # closed on the way out, so a failure or Ctrl-C ends the worker processes at once
                closing(run_stream(scenario, runs, seed, executor, request.batch_size)) as stream,
            ):
                bar = tqdm(
                    total=runs,
                    desc=f"{scenario.name}",
                    unit="run",
                    disable=None if request.progress else True,
                )
                charts_ready = ChartsWarmUp(request.make_plots and executor.runs_elsewhere)
                with bar, charts_ready:
                    for batch in stream:
                        charts_ready.start()  # the workers have started: this process waits
                        tables.add(batch.yearly_csv, batch.allocation_csv, batch.events_csv)
                        summary.add(batch.first_run, batch.metrics)
                        tally.add(batch.score_met, batch.score_value)
                        bar.update(batch.runs)
                tables.write_summary(summary.rows())
                summary.close()
                tables.write_scorecard(tally.rows())
            manifest = write_manifest(
                folder,
                resolved=scenario.model_dump(mode="json"),
                provenance=loaded.provenance,
                files=loaded.files,
                seed=seed,
                runs=runs,
                jobs=request.backend.jobs,
                solver=scenario.allocator.solver if scenario.allocator.method == "lp" else "none",
                extra={"allocator": scenario.allocator.method},
            )
            if request.make_plots:
                draw_plots(executor, RunFolder(folder, manifest), folder / PLOTS_DIR, request.lang)
    return out
