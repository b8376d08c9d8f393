"""``clusterfund backtest``: score a results folder against observed figures and write
``backtest.csv`` and ``plots/backtest.png`` into it, together (scores:
:mod:`scenarios.analysis.backtest`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenarios.analysis.backtest import Ensemble, backtest_table
from scenarios.config.observations import read_observations
from scenarios.core.errors import UserError, problem_line
from scenarios.core.lazy import pandas as pd
from scenarios.folders.publish import StagedFiles
from scenarios.folders.run_folder import (
    BACKTEST_COLUMNS,
    BACKTEST_CSV,
    BACKTEST_PNG,
    EARLIER_BACKTEST_COLUMNS,
    PLOTS_DIR,
    RunFolder,
)
from scenarios.folders.tables import frame_csv_text, tidy_frame
from scenarios.present.backtest_chart import plot_backtest

SHIPPED_OBSERVATIONS = Path(__file__).resolve().parents[2] / "configs" / "observations.csv"
"""The observations shipped with the tool (used when the current folder has none)."""
LOCAL_OBSERVATIONS = Path("configs") / "observations.csv"


def default_observations() -> Path:
    """``configs/observations.csv`` of the current folder, else the shipped file."""
    return LOCAL_OBSERVATIONS if LOCAL_OBSERVATIONS.is_file() else SHIPPED_OBSERVATIONS


# --- writing ---------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestResult:
    """What ``run_backtest`` wrote."""

    table: pd.DataFrame
    csv: Path
    plot: Path | None
    observations: Path


def check_split(split: int | None, years: list[int], folder: Path) -> None:
    """A split must leave at least one of the run's years on each side."""
    if split is not None and not min(years) <= split < max(years):
        raise UserError(
            problem_line(
                str(folder),
                "--split",
                f"{split} leaves no run year on one side (the run covers {min(years)}–"
                f"{max(years)}); give a year from {min(years)} to {max(years) - 1}, "
                "e.g. the calibration's fit_until",
            )
        )


def run_backtest(
    folder: Path,
    observations_path: Path | None,
    force: bool,
    make_plot: bool = True,
    split: int | None = None,
    lang: str = "en",
) -> BacktestResult:
    """Score ``folder`` against ``observations_path``; write backtest.csv and plots/backtest.png.

    With ``split``, rows up to that year are in sample and later rows out of sample, and
    the persistence reference knows nothing after it. The chart is labelled in ``lang``;
    the table never is. Everything is checked before anything is written: the folder, the
    split, the observations, and an existing backtest.csv (replaced only with ``force``).
    """
    observations_path = observations_path or default_observations()
    run = RunFolder.open(folder, "backtest")
    manifest = run.manifest
    check_split(split, list(run.years), folder)
    observations = read_observations(observations_path, run.clusters, run.years)
    target = folder / BACKTEST_CSV
    plot_path = folder / PLOTS_DIR / BACKTEST_PNG if make_plot else None
    staged = StagedFiles(
        [target, *([plot_path] if plot_path else [])],
        force,
        written_by_backtest,
        option="RESULTS",
        reads=[observations_path],
        within=folder,
    )
    ensemble = Ensemble(run.yearly_table)
    table = backtest_table(ensemble, observations, split)
    text = frame_csv_text(tidy_frame(table))
    with staged:  # the table and its chart together, or neither
        staged.path(target).write_text(text, encoding="utf-8", newline="")
        if plot_path is not None:
            plot_backtest(
                ensemble,
                table,
                run.cluster_names,
                str(manifest["name"]),
                staged.path(plot_path),
                split,
                lang,
            )
    return BacktestResult(table, target, plot_path, observations_path)


def written_by_backtest(path: Path) -> bool:
    """Whether ``path`` is a backtest table this tool wrote (its header), or its chart."""
    if path.suffix != ".csv":
        return True  # plots/backtest.png in a run folder of this tool
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n")
    except (OSError, UnicodeDecodeError):
        return False
    return header in {",".join(c) for c in (BACKTEST_COLUMNS, *EARLIER_BACKTEST_COLUMNS)}
