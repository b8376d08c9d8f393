"""Comparing runs: what differs in the inputs, and what it does to each cluster.

The first folder is the baseline unless another is named. All tables are plain
DataFrames so that the terminal view, the CSV files, the HTML report and the
Excel workbook show the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scenarios.config import flatten
from scenarios.errors import UserError
from scenarios.results_folder import RunFolder

CLUSTER_METRICS = (
    ("members", "p50", "members P50"),
    ("regional_share", "p50", "regional share P50"),
    ("reserves", "p50", "reserves P50 (MSEK)"),
    ("arena_income", "mean", "arena money mean (MSEK)"),
    ("closed", "mean", "P(closed)"),
)
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
    """Scenario names, made unique with the folder name where two runs share one."""
    names = [run.name for run in runs]
    return [
        f"{name} ({run.path.name})" if names.count(name) > 1 else name
        for name, run in zip(names, runs, strict=True)
    ]


def open_comparison(folders: Sequence[Path], baseline: Path | None = None) -> Comparison:
    """Open the folders and check they can be compared; the baseline goes first."""
    runs = [RunFolder.open(folder) for folder in folders]
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
    """Every resolved-config key whose value differs from the baseline's: key, baseline, each other."""
    ignore = {"name", "description"}
    flat = [flatten(run.config) for run in comparison.runs]
    keys = sorted(set().union(*flat) - ignore)
    rows = []
    for key in keys:
        values = [f.get(key, "—") for f in flat]
        if any(v != values[0] for v in values[1:]):
            rows.append([key, *(_text(v) for v in values)])
    return pd.DataFrame(rows, columns=["key", *comparison.names])


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
        return pd.DataFrame(
            columns=[
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
        )
    return pd.concat(frames, ignore_index=True)


def cluster_table(comparison: Comparison, year: int) -> pd.DataFrame:
    """Winners and losers in ``year``: per cluster, each scenario's key figures and,
    for the others, the change against the baseline."""
    base = comparison.baseline
    names = {cid: c["name"] for cid, c in base.config["clusters"].items()}
    table = pd.DataFrame(index=pd.Index(list(names), name="cluster"))
    table.insert(0, "name", [names[c] for c in table.index])
    for metric, stat, heading in CLUSTER_METRICS:
        values = {}
        for name, run in zip(comparison.names, comparison.runs, strict=True):
            one = run.summary[(run.summary.year == year) & (run.summary.metric == metric)]
            values[name] = one.set_index("cluster")[stat].reindex(table.index)
        _add_columns(table, heading, values, comparison.names)
    heading = "P(members ≥ target)"
    values = {}
    for name, run in zip(comparison.names, comparison.runs, strict=True):
        card = run.scorecard
        rows = card[(card.year == year) & card.target.str.startswith("cluster_members_min:")]
        values[name] = rows.set_index(rows.target.str.split(":").str[1])["probability"].reindex(
            table.index
        )
    _add_columns(table, heading, values, comparison.names)
    return table


def _add_columns(
    table: pd.DataFrame, heading: str, values: dict[str, pd.Series], names: list[str]
) -> None:
    """The baseline's column, then each other scenario's value and its change."""
    table[f"{heading} · {names[0]}"] = values[names[0]]
    for name in names[1:]:
        table[f"{heading} · {name}"] = values[name]
        table[f"{heading} · Δ {name}"] = values[name] - values[names[0]]


def scorecard_side_by_side(comparison: Comparison) -> pd.DataFrame:
    """Probability of each target per year, one column per scenario."""
    frames = [
        run.scorecard.set_index(["target", "year"])["probability"].rename(name)
        for name, run in zip(comparison.names, comparison.runs, strict=True)
    ]
    return pd.concat(frames, axis=1).reset_index()


def year_in_range(comparison: Comparison, year: int) -> int:
    """``year`` if the runs cover it, else a ``UserError``."""
    manifest = comparison.baseline.manifest
    if not manifest["start_year"] <= year <= manifest["horizon"]:
        raise UserError(
            f"--year {year}: outside the runs' years ({manifest['start_year']}–{manifest['horizon']})"
        )
    return year
