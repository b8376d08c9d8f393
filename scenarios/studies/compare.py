"""``clusterfund compare``: the short form for the terminal and the full form as files.

``scenarios.analysis.comparison`` gives long tables with machine names; this module pivots them
into the sheets a reader sees (one column per scenario) and labels the headings
from ``scenarios.core.labels``. It only ever selects by machine names (metric, scenario).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm import tqdm

from scenarios.analysis.comparison import (
    CLUSTER_FIGURES,
    Comparison,
    ComparisonTables,
    comparison_tables,
    figure,
)
from scenarios.core.labels import figure_label, label
from scenarios.core.text import terminal_safe
from scenarios.folders.checks import COMPARE_KIND
from scenarios.folders.manifest import write_job_manifest
from scenarios.folders.publish import StagedFolder
from scenarios.folders.run_folder import MONEY_METRICS
from scenarios.folders.tables import frame_csv_text, tidy_frame
from scenarios.present import run_charts as plots
from scenarios.present.run_charts import chart_context

OVERLAY_METRICS = ("members", "total_income", "regional_share", "reserves", "arena_income")
SHORT_DIFF_ROWS = 15
CSV_LANG = "en"
"""The compare CSVs keep English headings whatever ``--lang`` is, so scripts can read them."""


def clusters_sheet_name(year: int) -> str:
    """The name of the per-cluster table (CSV file stem and workbook sheet) for ``year``."""
    return f"clusters_{year}"


def comparison_context(comparison: Comparison, lang: str) -> plots.ChartContext:
    """Chart settings for a comparison (the baseline's clusters and targets)."""
    ctx = chart_context(comparison.baseline, lang)
    title = terminal_safe(" vs ".join(f"'{name}'" for name in comparison.names))
    return plots.ChartContext(
        title, ctx.names, ctx.target_year, ctx.min_members, ctx.max_regional_share, lang
    )


def draw_comparison_plots(
    comparison: Comparison, out: Path, lang: str, progress: bool = True
) -> list[Path]:
    """Overlay charts per metric and the scorecards side by side, as PNG files in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ctx = comparison_context(comparison, lang)
    summaries = {
        name: run.summary for name, run in zip(comparison.names, comparison.runs, strict=True)
    }
    cards = {
        name: run.scorecard for name, run in zip(comparison.names, comparison.runs, strict=True)
    }
    written = []
    steps = tqdm(OVERLAY_METRICS, desc="charts", unit="chart", disable=None if progress else True)
    for metric in steps:
        written.append(plots.plot_overlay(summaries, metric, ctx, out / f"overlay_{metric}.png"))
    written.append(plots.plot_scorecard(cards, ctx, out / "scorecard.png"))
    return written


def side_by_side(
    long: pd.DataFrame, index: list[str], values: str, names: list[str]
) -> pd.DataFrame:
    """``long`` pivoted to one row per ``index`` (in order of first appearance) and one
    column of ``values`` per scenario, in ``names`` order."""
    if long.empty:
        return pd.DataFrame(columns=[*index, *names])
    wide = long.pivot(index=index, columns="scenario", values=values)
    order = pd.MultiIndex.from_frame(long[index].drop_duplicates())
    wide.index = pd.MultiIndex.from_frame(wide.index.to_frame(index=False))
    return wide.reindex(index=order, columns=names).reset_index().rename_axis(columns=None)


def _figure_headings(metric: str, stat: str, names: list[str], lang: str) -> list[str]:
    """The headings of one figure: the baseline's value, then each other's value and change."""
    heading = figure_label(metric, stat, lang)
    headings = [f"{heading} · {names[0]}"]
    for other in names[1:]:
        headings += [f"{heading} · {other}", f"{heading} · Δ {other}"]
    return headings


def cluster_sheet(figures: pd.DataFrame, names: list[str], lang: str = CSV_LANG) -> pd.DataFrame:
    """The per-cluster figures as one row per cluster: its id and name, then per figure
    the baseline's value and each other scenario's value and change against it."""
    first = figures[(figures.scenario == names[0]) & (figures.metric == CLUSTER_FIGURES[0][0])]
    columns: dict[str, object] = {
        label("cluster", lang): first.cluster.to_numpy(),
        label("name", lang): first["name"].to_numpy(),
    }
    for metric, stat in CLUSTER_FIGURES:
        series = [figure(figures, metric, names[0])]
        for other in names[1:]:
            series += [figure(figures, metric, other), figure(figures, metric, other, "delta")]
        headings = _figure_headings(metric, stat, names, lang)
        columns.update({heading: s.to_numpy() for heading, s in zip(headings, series, strict=True)})
    return pd.DataFrame(columns)


def cluster_sheet_money(names: list[str], lang: str = CSV_LANG) -> list[str]:
    """The headings of ``cluster_sheet`` whose figures are money (MSEK)."""
    return [
        heading
        for metric, stat in CLUSTER_FIGURES
        if metric in MONEY_METRICS
        for heading in _figure_headings(metric, stat, names, lang)
    ]


def comparison_sheets(
    tables: ComparisonTables, names: list[str], lang: str = CSV_LANG
) -> dict[str, pd.DataFrame]:
    """The comparison as the reader sees it, by file or sheet name: the input diff and the
    scorecards with a column per scenario, the cluster sheet, the (already long) deltas."""
    diff = side_by_side(tables.input_diff, ["key"], "value", names)
    return {
        "input_diff": diff.rename(columns={"key": label("key", lang)}),
        clusters_sheet_name(tables.year): cluster_sheet(tables.clusters, names, lang),
        "scorecard": side_by_side(tables.scorecard, ["target", "year"], "probability", names),
        "deltas": tables.deltas,
    }


def write_comparison(
    comparison: Comparison, out: Path, year: int, lang: str, force: bool
) -> ComparisonTables:
    """Write the full comparison under ``out`` (atomically) and return its (long) tables."""
    tables = comparison_tables(comparison, year)
    with StagedFolder(out, force) as staging:
        for name, sheet in comparison_sheets(tables, comparison.names).items():
            (staging.path / f"{name}.csv").write_text(
                frame_csv_text(tidy_frame(sheet)), encoding="utf-8", newline=""
            )
        draw_comparison_plots(comparison, staging.path / "plots", lang)
        write_job_manifest(
            staging.path,
            COMPARE_KIND,
            {
                "scenarios": comparison.names,
                "folders": [str(run.path) for run in comparison.runs],
                "year": year,
            },
        )
    return tables


def _short_cluster_table(figures: pd.DataFrame, base: str, other: str) -> pd.DataFrame:
    """One cluster a row, baseline → ``other``, rounded for a terminal."""

    def value(metric: str, scenario: str) -> pd.Series:
        return figure(figures, metric, scenario)

    def delta(metric: str) -> pd.Series:
        return figure(figures, metric, other, "delta")

    return pd.DataFrame(
        {
            "members": value("members", base).round(0).astype(int),
            "→": value("members", other).round(0).astype(int),
            "Δ members": delta("members").round(0).astype(int),
            "regional %": (value("regional_share", base) * 100).round(1),
            "→ %": (value("regional_share", other) * 100).round(1),
            "Δ reserves": delta("reserves").round(2),
            "Δ arena": delta("arena_income").round(2),
            "P(closed)": value("closed", base).round(2),
            "→ P": value("closed", other).round(2),
        }
    )


def describe_comparison(comparison: Comparison, tables: ComparisonTables) -> str:
    """The short form: the input diff, each cluster in the year, the scorecard in the year."""
    base = comparison.names[0]
    year = tables.year
    diff = side_by_side(tables.input_diff, ["key"], "value", comparison.names)
    lines = [f"baseline: {base}; compared: {', '.join(comparison.names[1:])}", ""]
    lines.append(f"inputs that differ ({len(diff)} keys):")
    if diff.empty:
        lines.append("  (none: the inputs are identical)")
    else:
        lines.append(diff.head(SHORT_DIFF_ROWS).to_string(index=False))
        if len(diff) > SHORT_DIFF_ROWS:
            lines.append(f"  ... {len(diff) - SHORT_DIFF_ROWS} more in input_diff.csv")
    for other in comparison.names[1:]:
        lines += [
            "",
            f"clusters in {year}: {base} → {other} (P50; money in MSEK)",
            _short_cluster_table(tables.clusters, base, other).to_string(),
        ]
    card = tables.scorecard
    in_year = side_by_side(
        card[card.year == year], ["target", "year"], "probability", comparison.names
    )
    lines += [
        "",
        f"scorecard {year} (probability target met):",
        in_year.drop(columns="year").to_string(index=False),
    ]
    return terminal_safe("\n".join(lines))
