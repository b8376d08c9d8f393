"""``clusterfund run``: ensemble → results folder (CSVs, manifest, plots), written atomically."""

from __future__ import annotations

import csv
import json
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from scenarios.config import LoadedConfig
from scenarios.ensemble import run_stream
from scenarios.plots import draw_run_plots
from scenarios.results_folder import (
    ALLOCATION_CSV,
    EVENTS_CSV,
    MANIFEST_JSON,
    PLOTS_DIR,
    SCORECARD_CSV,
    SUMMARY_CSV,
    YEARLY_CSV,
    RunFolder,
    StagingFolder,
    tidy,
    tidy_row,
    write_csv,
    write_manifest,
)
from scenarios.summary import SCORECARD_COLUMNS, SUMMARY_COLUMNS, EnsembleSummary, ScorecardTally
from simulator.cluster import YEARLY_COLUMNS
from simulator.office import ALLOCATION_COLUMNS
from simulator.scorecard import scored_years

INCOME_SOURCES = [
    YEARLY_COLUMNS.index(c)
    for c in ("fee_income", "private_income", "regional_base", "arena_income", "other_public")
]
TOTAL_INCOME = YEARLY_COLUMNS.index("total_income")


def yearly_row(row: tuple) -> tuple:
    """A yearly row as written: floats rounded, ``total_income`` the sum of the rounded sources."""
    tidied = list(tidy_row(row))
    tidied[TOTAL_INCOME] = tidy(sum(tidied[i] for i in INCOME_SOURCES))
    return tuple(tidied)


@dataclass(frozen=True)
class RunRequest:
    """What the user asked ``clusterfund run`` for."""

    out: Path
    runs: int
    seed: int
    jobs: int = 1
    force: bool = False
    progress: bool = True
    make_plots: bool = True
    lang: str = "en"


def execute_run(loaded: LoadedConfig, request: RunRequest) -> Path:
    """Run the ensemble and write the complete results folder; return its path."""
    scenario = loaded.scenario
    with StagingFolder(request.out, request.force) as staging:
        folder = staging.path
        summary = EnsembleSummary(folder, request.runs, scenario.years, list(scenario.clusters))
        tally = ScorecardTally(scenario, scored_years(scenario))
        with (
            (folder / YEARLY_CSV).open("w", newline="", encoding="utf-8") as yearly_file,
            (folder / ALLOCATION_CSV).open("w", newline="", encoding="utf-8") as allocation_file,
            (folder / EVENTS_CSV).open("w", newline="", encoding="utf-8") as events_file,
            # closed on the way out, so a failure or Ctrl-C ends the worker processes at once
            closing(run_stream(scenario, request.runs, request.seed, request.jobs)) as stream,
        ):
            yearly = csv.writer(yearly_file, lineterminator="\n")
            allocation = csv.writer(allocation_file, lineterminator="\n")
            events = csv.writer(events_file, lineterminator="\n")
            yearly.writerow(("run", *YEARLY_COLUMNS))
            allocation.writerow(("run", *ALLOCATION_COLUMNS))
            events.writerow(("run", "year", "cluster", "event"))
            bar = tqdm(
                stream,
                total=request.runs,
                desc=f"{scenario.name}",
                unit="run",
                disable=None if request.progress else True,
            )
            for output in bar:
                rows = [yearly_row(row) for row in output.yearly_rows]
                yearly.writerows((output.run, *row) for row in rows)
                allocation.writerows((output.run, *tidy_row(row)) for row in output.allocation_rows)
                events.writerows((output.run, *row) for row in output.events)
                summary.add(output.run, rows)
                tally.add(output.score_met, output.score_value)
        write_csv(folder / SUMMARY_CSV, SUMMARY_COLUMNS, summary.rows())
        summary.close()
        write_csv(folder / SCORECARD_CSV, SCORECARD_COLUMNS, tally.rows())
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
    return draw_run_plots(RunFolder(folder, manifest), folder / PLOTS_DIR, lang)
