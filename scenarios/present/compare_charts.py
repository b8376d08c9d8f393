"""Charts of a comparison: overlays of each metric per cluster, and the scorecards side by
side (drawn with the run charts' style)."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from scenarios.analysis.comparison import Comparison
from scenarios.core.text import terminal_safe
from scenarios.present import run_charts as plots
from scenarios.present.run_charts import chart_context

OVERLAY_METRICS = ("members", "total_income", "regional_share", "reserves", "arena_income")


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
