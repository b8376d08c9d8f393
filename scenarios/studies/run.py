"""``clusterfund run``: ensemble → results folder (CSVs, manifest, plots), written atomically."""

from __future__ import annotations

import csv
import json
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from scenarios.config.scenario import LoadedConfig
from scenarios.engine.ensemble import run_stream
from scenarios.engine.summary import EnsembleSummary, ScorecardTally
from scenarios.folders.manifest import write_manifest
from scenarios.folders.publish import MANIFEST_JSON, StagedFolder
from scenarios.folders.run_folder import (
    ALLOCATION_CSV,
    EVENTS_CSV,
    PLOTS_DIR,
    SCORECARD_COLUMNS,
    SCORECARD_CSV,
    SUMMARY_COLUMNS,
    SUMMARY_CSV,
    YEARLY_CSV,
    RunFolder,
)
from scenarios.folders.run_rows import yearly_header
from scenarios.folders.tables import write_tidy_csv
from simulator.records import ALLOCATION_COLUMNS, EVENT_COLUMNS
from simulator.scorecard import scored_years


@dataclass(frozen=True)
class RunRequest:
    """What the user asked ``clusterfund run`` for."""

    out: Path
    runs: int
    seed: int
    jobs: int = 1
    batch_size: int | None = None
    """Runs per batch (``None``: the ensemble runner's default)."""
    force: bool = False
    progress: bool = True
    make_plots: bool = True
    lang: str = "en"


def execute_run(loaded: LoadedConfig, request: RunRequest) -> Path:
    """Run the ensemble and write the complete results folder; return its path.

    The folder is checked before the ensemble starts (refused if it exists, unless
    ``force`` and this tool wrote it), written in a staging folder and published whole.
    """
    scenario = loaded.scenario
    with StagedFolder(request.out, request.force, reads=loaded.files) as staging:
        folder = staging.path
        summary = EnsembleSummary(folder, request.runs, scenario.years, list(scenario.clusters))
        tally = ScorecardTally(scenario, scored_years(scenario))
        with (
            (folder / YEARLY_CSV).open("w", newline="", encoding="utf-8") as yearly_file,
            (folder / ALLOCATION_CSV).open("w", newline="", encoding="utf-8") as allocation_file,
            (folder / EVENTS_CSV).open("w", newline="", encoding="utf-8") as events_file,
            # closed on the way out, so a failure or Ctrl-C ends the worker processes at once
            closing(
                run_stream(scenario, request.runs, request.seed, request.jobs, request.batch_size)
            ) as stream,
        ):
            yearly_file.write(",".join(yearly_header()) + "\n")
            allocation_file.write(",".join(("run", *ALLOCATION_COLUMNS)) + "\n")
            csv.writer(events_file, lineterminator="\n").writerow(("run", *EVENT_COLUMNS))
            bar = tqdm(
                total=request.runs,
                desc=f"{scenario.name}",
                unit="run",
                disable=None if request.progress else True,
            )
            with bar:
                for batch in stream:
                    yearly_file.write(batch.yearly_csv)
                    allocation_file.write(batch.allocation_csv)
                    events_file.write(batch.events_csv)
                    summary.add(batch.first_run, batch.metrics)
                    tally.add(batch.score_met, batch.score_value)
                    bar.update(batch.runs)
        write_tidy_csv(folder / SUMMARY_CSV, SUMMARY_COLUMNS, summary.rows())
        summary.close()
        write_tidy_csv(folder / SCORECARD_CSV, SCORECARD_COLUMNS, tally.rows())
        write_manifest(
            folder,
            resolved=scenario.model_dump(mode="json"),
            provenance=loaded.provenance,
            files=loaded.files,
            seed=request.seed,
            runs=request.runs,
            jobs=request.jobs,
            solver=scenario.allocator.solver if scenario.allocator.method == "lp" else "none",
            extra={"allocator": scenario.allocator.method},
        )
        if request.make_plots:
            write_plots(folder, request.lang)
    return request.out


def write_plots(folder: Path, lang: str) -> list[Path]:
    """The run's standard charts, under ``plots/`` (read back from the files just written)."""
    manifest = json.loads((folder / MANIFEST_JSON).read_text(encoding="utf-8"))
    from scenarios.present.run_charts import draw_run_plots  # matplotlib only when charts are drawn

    return draw_run_plots(RunFolder(folder, manifest), folder / PLOTS_DIR, lang)
