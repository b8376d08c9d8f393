"""Charts of a comparison: overlays of each metric per cluster, and the scorecards side by
side (drawn with the run charts' style)."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from scenarios.analysis.comparison import Comparison
from scenarios.analysis.paired import paired_problem, yearly_changes
from scenarios.core.text import terminal_safe
from scenarios.present import run_charts as plots
from scenarios.present.difference_charts import DIFFERENCE_MEASURES, plot_differences
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
    """Overlay charts per metric, the scorecards side by side and (when the runs are twins:
    the same seed and runs) the run-by-run differences against the baseline, as PNG files
    in ``out``."""
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
    if paired_problem(comparison.runs, comparison.names) is None:
        written += draw_difference_plots(comparison, out, ctx)
    return written


def draw_difference_plots(comparison: Comparison, out: Path, ctx: plots.ChartContext) -> list[Path]:
    """``difference_<measure>.png``: each scenario against the baseline, run by run."""
    base = comparison.baseline.yearly_table
    written = []
    for measure in DIFFERENCE_MEASURES:
        changes = {
            name: yearly_changes(base, run.yearly_table, measure)
            for name, run in zip(comparison.names[1:], comparison.others, strict=True)
        }
        written.append(
            plot_differences(
                changes, measure, comparison.names[0], ctx, out / f"difference_{measure}.png"
            )
        )
    return written
