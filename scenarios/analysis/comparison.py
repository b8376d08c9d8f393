"""Comparing runs: what differs in the inputs, and what it does to each cluster.

The first folder is the baseline unless another is named. Every table here is a
long (tidy) DataFrame with machine names: one row per scenario × key, figure or
target, and columns such as ``scenario``, ``cluster``, ``metric``, ``stat``,
``value`` and ``delta``. The presenters (``compare_view`` for the terminal and
the CSV files, ``report`` for the HTML page and the workbook) pivot and label
them, so the same numbers show everywhere and no code here knows a heading.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scenarios.config.keys import flatten
from scenarios.core.errors import UserError
from scenarios.core.lazy import pandas as pd
from scenarios.folders.run_folder import RunFolder
from simulator.scorecard import is_member_target, target_cluster

SUMMARY_FIGURES = (
    ("members", "p50"),
    ("regional_share", "p50"),
    ("reserves", "p50"),
    ("arena_income", "mean"),
    ("closed", "mean"),
)
"""The per-cluster figures taken from each run's summary.csv: (metric, statistic)."""
MEMBER_TARGET = ("member_target", "probability")
"""The per-cluster figure taken from each run's scorecard.csv: P(members ≥ target)."""
CLUSTER_FIGURES = (*SUMMARY_FIGURES, MEMBER_TARGET)

"""Every figure of the per-cluster table, in the order the presenters show them."""
FIGURE_COLUMNS = ["scenario", "cluster", "name", "metric", "stat", "value", "delta"]
DELTA_COLUMNS = [
    "year",
    "cluster",
    "metric",
    "scenario",
    "baseline_p50",
    "p10",
    "p50",
    "p90",
    "delta_p50",
    "delta_mean",
]
COMPARED_FIELDS = ("start_year", "horizon", "target_year")


@dataclass
class Comparison:
    """Runs to compare, the first being the baseline."""

    runs: list[RunFolder]

    @property
    def baseline(self) -> RunFolder:
        return self.runs[0]

    @property
    def others(self) -> list[RunFolder]:
        return self.runs[1:]

    @property
    def names(self) -> list[str]:
        return unique_names(self.runs)


def unique_names(runs: Sequence[RunFolder]) -> list[str]:
    """Scenario names, always distinct: a name two runs share gets the folder as given
    (``baseline (a/results/baseline)``); should labels still clash (a scenario literally
    named like another's label), each run's label gets its place in the list (`` #2``)."""
    names = [run.name for run in runs]
    labels = [
        f"{name} ({run.path})" if names.count(name) > 1 else name
        for name, run in zip(names, runs, strict=True)
    ]
    if len(set(labels)) < len(labels):
        labels = [f"{label} #{place}" for place, label in enumerate(labels, start=1)]
    return labels


def refuse_repeated_folders(folders: Sequence[Path]) -> None:
    """Refuse a folder named twice (also through another path or a link): compared with
    itself every change is zero by construction, which says nothing and is most likely
    a slip of the keyboard."""
    first_given: dict[Path, Path] = {}
    for folder in folders:
        resolved = folder.resolve()
        if resolved in first_given:
            same = first_given[resolved]
            also = "" if str(same) == str(folder) else f" (as {same} and as {folder})"
            raise UserError(
                f"{folder}: named twice{also}; compared with itself every change is zero, "
                "so name different results folders"
            )
        first_given[resolved] = folder


def open_comparison(
    folders: Sequence[Path], baseline: Path | None = None, command: str = "compare"
) -> Comparison:
    """Open the folders (for ``command``, which messages name) and check they can be
    compared; the baseline goes first."""
    refuse_repeated_folders(folders)
    runs = [RunFolder.open(folder, command) for folder in folders]
    if baseline is not None:
        wanted = baseline.resolve()
        matches = [run for run in runs if run.path.resolve() == wanted]
        if not matches:
            raise UserError(f"--baseline {baseline}: not one of the folders being compared")
        runs = matches + [run for run in runs if run not in matches]
    first = runs[0]
    for run in runs[1:]:
        for key in COMPARED_FIELDS:
            if run.manifest[key] != first.manifest[key]:
                raise UserError(
                    f"{run.path}: {key} is {run.manifest[key]} but {first.path} has "
                    f"{first.manifest[key]}; runs with different {key} cannot be compared "
                    f"(rerun one with --horizon)"
                    if key == "horizon"
                    else f"{run.path}: {key} is {run.manifest[key]} but {first.path} has "
                    f"{first.manifest[key]}; these runs cannot be compared"
                )
        if list(run.config["clusters"]) != list(first.config["clusters"]):
            raise UserError(
                f"{run.path}: its clusters differ from {first.path}'s; "
                "runs of different cluster sets cannot be compared cluster by cluster"
            )
    return Comparison(runs)


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def input_diff(comparison: Comparison) -> pd.DataFrame:
    """Every resolved-config key whose value differs from the baseline's, long: ``key,
    scenario, value`` (the value as text, ``—`` where a run lacks the key), keys sorted."""
    ignore = {"name", "description"}
    flat = [flatten(run.config) for run in comparison.runs]
    keys = sorted(set().union(*flat) - ignore)
    rows = []
    for key in keys:
        values = [f.get(key, "—") for f in flat]
        if any(v != values[0] for v in values[1:]):
            rows += [
                (key, name, _text(v)) for name, v in zip(comparison.names, values, strict=True)
            ]
    return pd.DataFrame(rows, columns=["key", "scenario", "value"])


def output_deltas(comparison: Comparison) -> pd.DataFrame:
    """Per year × cluster × metric and scenario: its P10/P50/P90/mean and the change in
    P50 and in the mean against the baseline (scenario minus baseline)."""
    base = comparison.baseline.summary.set_index(["year", "cluster", "metric"])
    frames = []
    for name, run in zip(comparison.names[1:], comparison.others, strict=True):
        other = run.summary.set_index(["year", "cluster", "metric"])
        frame = pd.DataFrame(
            {
                "scenario": name,
                "baseline_p50": base["p50"],
                "p10": other["p10"],
                "p50": other["p50"],
                "p90": other["p90"],
                "delta_p50": other["p50"] - base["p50"],
                "delta_mean": other["mean"] - base["mean"],
            }
        )
        frames.append(frame.reset_index())
    if not frames:
        return pd.DataFrame(columns=DELTA_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _cluster_values(
    run: RunFolder, year: int, clusters: list[str]
) -> dict[tuple[str, str], pd.Series]:
    """Each figure of ``CLUSTER_FIGURES`` for one run in ``year``, per cluster (in ``clusters``
    order; NaN where the run has no value)."""
    summary = run.summary[run.summary.year == year]
    values = {
        (metric, stat): summary[summary.metric == metric].set_index("cluster")[stat]
        for metric, stat in SUMMARY_FIGURES
    }
    card = run.scorecard
    rows = card[(card.year == year) & card.target.map(is_member_target)]
    values[MEMBER_TARGET] = rows.set_index(rows.target.map(target_cluster))["probability"]
    return {key: series.reindex(clusters) for key, series in values.items()}


def cluster_figures(comparison: Comparison, year: int) -> pd.DataFrame:
    """Winners and losers in ``year``, long: one row per figure × scenario × cluster with
    ``scenario, cluster, name, metric, stat, value, delta``; ``delta`` is the scenario's
    value minus the baseline's (NaN on the baseline's rows). Figures in
    ``CLUSTER_FIGURES`` order, scenarios in comparison order, clusters in config order."""
    cluster_names = comparison.baseline.cluster_names
    clusters, names = list(cluster_names), list(cluster_names.values())
    per_run = [_cluster_values(run, year, clusters) for run in comparison.runs]
    frames = []
    for metric, stat in CLUSTER_FIGURES:
        base = per_run[0][(metric, stat)]
        for index, (scenario, values) in enumerate(zip(comparison.names, per_run, strict=True)):
            value = values[(metric, stat)]
            delta = value - base if index > 0 else pd.Series(float("nan"), index=value.index)
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": scenario,
                        "cluster": clusters,
                        "name": names,
                        "metric": metric,
                        "stat": stat,
                        "value": value.to_numpy(dtype=float),
                        "delta": delta.to_numpy(dtype=float),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)[FIGURE_COLUMNS]


def figure(figures: pd.DataFrame, metric: str, scenario: str, column: str = "value") -> pd.Series:
    """One figure of ``cluster_figures`` (by its metric) for one scenario: ``column``
    (``value`` or ``delta``) per cluster, indexed by cluster id in the table's order."""
    rows = figures[(figures.metric == metric) & (figures.scenario == scenario)]
    return rows.set_index("cluster")[column]


def scorecard_long(comparison: Comparison) -> pd.DataFrame:
    """Every run's scorecard, long: ``scenario, target, year, probability``."""
    frames = [
        run.scorecard[["target", "year", "probability"]].assign(scenario=name)
        for name, run in zip(comparison.names, comparison.runs, strict=True)
    ]
    return pd.concat(frames, ignore_index=True)[["scenario", "target", "year", "probability"]]


@dataclass(frozen=True)
class ComparisonTables:
    """Every table of a comparison, long and with machine names (see the module's docstring)."""

    year: int
    input_diff: pd.DataFrame
    clusters: pd.DataFrame
    scorecard: pd.DataFrame
    deltas: pd.DataFrame


def comparison_tables(comparison: Comparison, year: int) -> ComparisonTables:
    """The input diff, the per-cluster figures in ``year``, the scorecards and the deltas."""
    return ComparisonTables(
        year=year,
        input_diff=input_diff(comparison),
        clusters=cluster_figures(comparison, year),
        scorecard=scorecard_long(comparison),
        deltas=output_deltas(comparison),
    )


def year_in_range(comparison: Comparison, year: int) -> int:
    """``year`` if the runs cover it, else a ``UserError``."""
    manifest = comparison.baseline.manifest
    if not manifest["start_year"] <= year <= manifest["horizon"]:
        raise UserError(
            f"--year {year}: outside the runs' years ({manifest['start_year']}–{manifest['horizon']})"
        )
    return year
