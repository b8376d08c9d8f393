"""``clusterfund backtest``: score a results folder against observed figures.

For each observation inside the run's years the ensemble gives one number per run
(see :mod:`scenarios.config.observations` for the metrics). Per observation:

- ``p10, p50, p90``: the ensemble's quantiles (``numpy.quantile``, linear, as in summary.csv);
- ``in_band``: a value lies in [P10, P90]; bounds overlap [P10, P90];
- ``spread``: P90 > P10. Rows without spread (the model's inputs, such as the
  starting members) are shown but left out of the coverage;
- ``pit`` (a value ``y``): the share of runs below ``y``, ties counted half;
- ``probability`` (bounds): the share of runs within the bounds (inclusive);
- ``crps`` (a value): the ensemble CRPS, ``E|X - y| - E|X - X'| / 2``, in the metric's unit.

The summary gives the coverage of the P10–P90 band over values with spread
(ideally 0.8), the mean CRPS per metric and the worst misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.config.observations import ALL, Observation, ObservationSet, read_observations
from scenarios.folders.publish import StagedFiles
from scenarios.folders.run_folder import PLOTS_DIR, RunFolder
from scenarios.folders.tables import frame_csv_text, tidy_frame
from simulator.records import CLOSED

BACKTEST_CSV = "backtest.csv"
BACKTEST_PNG = "backtest.png"
SHIPPED_OBSERVATIONS = Path(__file__).resolve().parent.parent / "configs" / "observations.csv"
BAND = (0.1, 0.5, 0.9)
WORST = 5
SPREAD_TOLERANCE = 1e-9
"""A band narrower than this (relative to the median, at least 1) counts as no spread."""
BACKTEST_COLUMNS = (
    "line",
    "cluster",
    "year",
    "metric",
    "value",
    "lower",
    "upper",
    "status",
    "runs",
    "p10",
    "p50",
    "p90",
    "spread",
    "in_band",
    "pit",
    "probability",
    "crps",
    "source",
    "note",
)


# --- scores -----------------------------------------------------------------


def crps_ensemble(sample: np.ndarray, y: float) -> float:
    """CRPS of the empirical distribution of ``sample`` at ``y``: ``E|X-y| - E|X-X'|/2``.

    ``E|X-X'| = 2/n² · Σ_i (2i - n - 1) x_(i)`` over the sorted sample (i = 1..n), so
    the whole costs one sort, O(n log n).
    """
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = len(x)
    ranks = np.arange(1, n + 1)
    mean_pair_distance = 2.0 * float(np.sum((2 * ranks - n - 1) * x)) / n**2
    return float(np.mean(np.abs(x - y))) - 0.5 * mean_pair_distance


def pit(sample: np.ndarray, y: float) -> float:
    """Share of the ensemble below ``y``, runs equal to ``y`` counted half."""
    x = np.asarray(sample)
    return float((np.sum(x < y) + 0.5 * np.sum(x == y)) / len(x))


def bound_probability(sample: np.ndarray, lower: float | None, upper: float | None) -> float:
    """Share of the ensemble within ``[lower, upper]`` (a missing bound is open)."""
    x = np.asarray(sample)
    inside = np.ones(len(x), dtype=bool)
    if lower is not None:
        inside &= x >= lower
    if upper is not None:
        inside &= x <= upper
    return float(inside.mean())


# --- the ensemble of a results folder ----------------------------------------


class Ensemble:
    """Per-run values of a metric for a cluster (or ``all``), by year, from ``yearly.csv``."""

    def __init__(self, yearly: pd.DataFrame) -> None:
        self.yearly = yearly
        self._tables: dict[tuple[str, str], pd.DataFrame] = {}

    def table(self, cluster: str, metric: str) -> pd.DataFrame:
        """Runs (rows, sorted) × years (columns)."""
        key = (cluster, metric)
        if key not in self._tables:
            self._tables[key] = self._build(cluster, metric).sort_index()
        return self._tables[key]

    def _build(self, cluster: str, metric: str) -> pd.DataFrame:
        frame = self.yearly if cluster == ALL else self.yearly[self.yearly.cluster == cluster]
        if metric in ("active_clusters", "closed_clusters"):
            closed = frame.status == CLOSED
            flag = ~closed if metric == "active_clusters" else closed
            series = flag.astype(float).groupby([frame.run, frame.year]).sum()
        elif metric == "regional_share" and cluster == ALL:
            sums = frame.groupby(["run", "year"])[["regional_base", "total_income"]].sum()
            series = (sums.regional_base / sums.total_income.where(sums.total_income > 0)).fillna(
                0.0
            )
        else:
            series = frame.groupby(["run", "year"])[metric].sum().astype(float)
        return series.unstack("year")

    def sample(self, observation: Observation) -> np.ndarray:
        """One value per run for the observation's cluster, metric and year."""
        return self.table(observation.cluster, observation.metric)[observation.year].to_numpy()


# --- scoring ------------------------------------------------------------------


def score(observation: Observation, sample: np.ndarray) -> dict[str, object]:
    """The backtest row of one observation inside the run's years."""
    p10, p50, p90 = (float(q) for q in np.quantile(sample, BAND))
    row: dict[str, object] = {
        "status": "scored",
        "runs": len(sample),
        "p10": p10,
        "p50": p50,
        "p90": p90,
        "spread": p90 - p10 > SPREAD_TOLERANCE * max(1.0, abs(p50)),
    }
    if observation.value is not None:
        y = observation.value
        row.update(in_band=p10 <= y <= p90, pit=pit(sample, y), crps=crps_ensemble(sample, y))
    else:
        low = -np.inf if observation.lower is None else observation.lower
        high = np.inf if observation.upper is None else observation.upper
        row.update(
            in_band=low <= p90 and p10 <= high,
            probability=bound_probability(sample, observation.lower, observation.upper),
        )
    return row


def _observed(observation: Observation) -> dict[str, object]:
    return {
        "line": observation.line,
        "cluster": observation.cluster,
        "year": observation.year,
        "metric": observation.metric,
        "value": observation.value,
        "lower": observation.lower,
        "upper": observation.upper,
        "source": observation.source,
        "note": observation.note,
    }


def backtest_table(ensemble: Ensemble, observations: ObservationSet) -> pd.DataFrame:
    """One row per observation: scored ones with their scores, skipped ones with the reason."""
    rows = [{**_observed(o), **score(o, ensemble.sample(o))} for o in observations.scored]
    rows += [{**_observed(o), "status": f"skipped: {why}"} for o, why in observations.skipped]
    table = pd.DataFrame(rows).reindex(columns=list(BACKTEST_COLUMNS))
    table["year"] = table["year"].astype("Int64")
    table["runs"] = table["runs"].astype("Int64")
    for column in ("value", "lower", "upper"):
        table[column] = pd.to_numeric(table[column])
    return table.sort_values(["status", "line"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class BacktestSummary:
    """The headline numbers of a backtest."""

    scored: int
    skipped: int
    values_with_spread: int
    no_spread: int
    coverage: float
    """Share of values with spread inside the P10–P90 band (NaN when there are none)."""
    bounds: int
    bounds_in_band: int
    crps_by_metric: dict[str, float]
    worst: pd.DataFrame


def _tail(row: pd.Series) -> float:
    if pd.notna(row["pit"]):
        return float(min(row["pit"], 1.0 - row["pit"]))
    return float(row["probability"])


def summarise(table: pd.DataFrame) -> BacktestSummary:
    """Coverage, mean CRPS per metric, and the worst misses (the furthest in the tails)."""
    scored = table[table.status == "scored"]
    values = scored[scored.value.notna()]
    spread = values[values.spread.astype(bool)]
    bounds = scored[scored.value.isna()]
    misses = scored[~scored.in_band.astype(bool)].copy()
    misses["tail"] = misses.apply(_tail, axis=1)
    worst = misses.sort_values(["tail", "line"]).head(WORST)
    return BacktestSummary(
        scored=len(scored),
        skipped=len(table) - len(scored),
        values_with_spread=len(spread),
        no_spread=len(values) - len(spread),
        coverage=float(spread.in_band.astype(bool).mean()) if len(spread) else float("nan"),
        bounds=len(bounds),
        bounds_in_band=int(bounds.in_band.astype(bool).sum()),
        crps_by_metric={
            m: float(c) for m, c in values.groupby("metric").crps.mean().sort_index().items()
        },
        worst=worst,
    )


def describe_backtest(table: pd.DataFrame, folder: Path, observations: Path) -> str:
    """The terminal view: the scored rows, the skipped ones, and the summary."""
    summary = summarise(table)
    scored = table[table.status == "scored"]
    shown = scored[[c for c in BACKTEST_COLUMNS if c not in ("status", "runs", "source", "note")]]
    lines = [
        f"backtest of {folder} against {observations}: {summary.scored} scored, "
        f"{summary.skipped} skipped",
        shown.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep=""),
        "",
        f"coverage of the P10–P90 band: {summary.coverage:.2f} "
        f"over {summary.values_with_spread} value(s) with spread (ideally 0.80); "
        f"{summary.no_spread} value(s) without spread (the same in every run, e.g. inputs) left out",
        f"bounds: {summary.bounds_in_band} of {summary.bounds} overlap the band",
        "mean CRPS: "
        + (
            ", ".join(f"{m} {c:.3g}" for m, c in summary.crps_by_metric.items())
            if summary.crps_by_metric
            else "no values scored"
        ),
    ]
    if len(summary.worst):
        lines.append("worst misses:")
        for _, row in summary.worst.iterrows():
            observed = (
                f"{row.value:g}"
                if pd.notna(row.value)
                else " and ".join(
                    f"{word} {row[col]:g}"
                    for word, col in (("≥", "lower"), ("≤", "upper"))
                    if pd.notna(row[col])
                )
            )
            score_text = (
                f"PIT {row.pit:.2f}" if pd.notna(row.pit) else f"P(bound) {row.probability:.2f}"
            )
            lines.append(
                f"  line {row.line}: {row.cluster} {row.metric} {row.year}: observed {observed}, "
                f"P10–P90 {row.p10:.3g}–{row.p90:.3g}, {score_text}"
            )
    skipped = table[table.status != "scored"]
    for status, rows in skipped.groupby("status", sort=True):
        lines.append(
            f"{status} ({len(rows)}, not scored): lines "
            + ", ".join(str(line) for line in sorted(rows.line))
        )
    return "\n".join(lines)


# --- writing ---------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestResult:
    """What ``run_backtest`` wrote."""

    table: pd.DataFrame
    csv: Path
    plot: Path | None


def run_backtest(
    folder: Path, observations_path: Path, force: bool, make_plot: bool = True
) -> BacktestResult:
    """Score ``folder`` against ``observations_path``; write backtest.csv and plots/backtest.png.

    Everything is checked before anything is written: the folder, the observations,
    and an existing backtest.csv (replaced only with ``force``).
    """
    run = RunFolder.open(folder, "backtest")
    manifest, config = run.manifest, run.config
    observations = read_observations(observations_path, run.clusters, run.years)
    target = folder / BACKTEST_CSV
    plot_path = folder / PLOTS_DIR / BACKTEST_PNG if make_plot else None
    staged = StagedFiles([target, *([plot_path] if plot_path else [])], force, option="RESULTS")
    ensemble = Ensemble(run.yearly)
    table = backtest_table(ensemble, observations)
    text = frame_csv_text(tidy_frame(table))
    with staged:  # the table and its chart together, or neither
        staged.path(target).write_text(text, encoding="utf-8", newline="")
        if plot_path is not None:
            from scenarios.present.backtest_chart import plot_backtest

            names = {cid: c["name"] for cid, c in config["clusters"].items()}
            plot_backtest(ensemble, table, names, str(manifest["name"]), staged.path(plot_path))
    return BacktestResult(table, target, plot_path)


def read_backtest(folder: Path) -> pd.DataFrame | None:
    """A folder's backtest.csv, or ``None`` when it has none."""
    path = folder / BACKTEST_CSV
    return pd.read_csv(path) if path.is_file() else None
