"""``clusterfund compare``: the short form for the terminal and the full form as files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm import tqdm

from scenarios import plots
from scenarios.compare import (
    Comparison,
    cluster_table,
    input_diff,
    output_deltas,
    scorecard_side_by_side,
)
from scenarios.results_folder import DECIMALS, StagingFolder
from scenarios.safe_text import terminal_safe

OVERLAY_METRICS = ("members", "total_income", "regional_share", "reserves", "arena_income")
SHORT_DIFF_ROWS = 15


def comparison_context(comparison: Comparison, lang: str) -> plots.ChartContext:
    """Chart settings for a comparison (the baseline's clusters and targets)."""
    ctx = comparison.baseline.chart_context(lang)
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


def tidy_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its float columns rounded as in a run's CSVs (no float noise, no -0.0)."""
    return table.apply(
        lambda column: (
            column.round(DECIMALS) + 0.0 if pd.api.types.is_float_dtype(column) else column
        )
    )


def write_comparison(
    comparison: Comparison, out: Path, year: int, lang: str, force: bool
) -> dict[str, pd.DataFrame]:
    """Write the full comparison under ``out`` (atomically) and return its tables."""
    tables = {
        "input_diff": input_diff(comparison),
        f"clusters_{year}": cluster_table(comparison, year).reset_index(),
        "scorecard": scorecard_side_by_side(comparison),
        "deltas": output_deltas(comparison),
    }
    with StagingFolder(out, force) as staging:
        for name, table in tables.items():
            tidy_frame(table).to_csv(staging.path / f"{name}.csv", index=False)
        draw_comparison_plots(comparison, staging.path / "plots", lang)
    return tables


def describe_comparison(comparison: Comparison, tables: dict[str, pd.DataFrame], year: int) -> str:
    """The short form: the input diff, each cluster in ``year``, the scorecard in ``year``."""
    base = comparison.names[0]
    diff = tables["input_diff"]
    lines = [f"baseline: {base}; compared: {', '.join(comparison.names[1:])}", ""]
    lines.append(f"inputs that differ ({len(diff)} keys):")
    if diff.empty:
        lines.append("  (none: the inputs are identical)")
    else:
        lines.append(diff.head(SHORT_DIFF_ROWS).to_string(index=False))
        if len(diff) > SHORT_DIFF_ROWS:
            lines.append(f"  ... {len(diff) - SHORT_DIFF_ROWS} more in input_diff.csv")
    clusters = tables[f"clusters_{year}"].set_index("cluster")
    for other in comparison.names[1:]:
        short = pd.DataFrame(
            {
                "members": clusters[f"members P50 · {base}"].round(0).astype(int),
                "→": clusters[f"members P50 · {other}"].round(0).astype(int),
                "Δ members": clusters[f"members P50 · Δ {other}"].round(0).astype(int),
                "regional %": (clusters[f"regional share P50 · {base}"] * 100).round(1),
                "→ %": (clusters[f"regional share P50 · {other}"] * 100).round(1),
                "Δ reserves": clusters[f"reserves P50 (MSEK) · Δ {other}"].round(2),
                "Δ arena": clusters[f"arena money mean (MSEK) · Δ {other}"].round(2),
                "P(closed)": clusters[f"P(closed) · {base}"].round(2),
                "→ P": clusters[f"P(closed) · {other}"].round(2),
            }
        )
        lines += [
            "",
            f"clusters in {year}: {base} → {other} (P50; money in MSEK)",
            short.to_string(),
        ]
    card = tables["scorecard"]
    lines += [
        "",
        f"scorecard {year} (probability target met):",
        card[card.year == year].drop(columns="year").to_string(index=False),
    ]
    return terminal_safe("\n".join(lines))
