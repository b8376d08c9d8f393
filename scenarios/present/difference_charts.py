"""Charts of what a scenario changes against the baseline, run by run: the mean of the
run-by-run difference with its P10–P90 band (:mod:`scenarios.analysis.paired`), each scenario
in its colour. Two scenarios' own bands drawn over each other hide the change; the band of the
difference shows it, and how sure it is."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from scenarios.analysis.paired import Brief, YearlyChange
from scenarios.core.labels import label
from scenarios.present.colours import scenario_colours
from scenarios.present.pyplot import decimal_comma_ticks, plt
from scenarios.present.run_charts import ChartContext, mark_target, panel_grid, save_figure

DIFFERENCE_MEASURES = ("regional_money", "members")
"""What the difference charts draw (``difference_<measure>.png``)."""
TICK_CHARS = 13
"""A cluster's name on the brief chart's axis wraps at this many characters."""


def difference_figure(
    changes: dict[str, YearlyChange], measure: str, base: str, ctx: ChartContext
) -> plt.Figure:
    """One panel per cluster and one for all clusters together: each scenario's mean change
    against ``base`` by year, with the P10–P90 band of the run-by-run difference."""
    panels = [*ctx.names.values(), label("all_programme", ctx.lang)]
    fig, axes = panel_grid(len(panels))
    colours = scenario_colours([base, *changes])
    for column, (ax, title) in enumerate(zip(axes, panels, strict=True)):
        for scenario, found in changes.items():
            colour = colours[scenario]
            ax.fill_between(
                found.years,
                found.low[:, column],
                found.high[:, column],
                color=colour,
                alpha=0.18,
                linewidth=0,
            )
            ax.plot(found.years, found.delta[:, column], color=colour, label=scenario)
        ax.axhline(0, color="black", linewidth=0.7)
        mark_target(ax, ctx.target_year)
        ax.set_title(title, fontsize=9, weight="bold" if column == len(panels) - 1 else "normal")
        ax.tick_params(labelsize=7)
    unit = (
        label("msek_year", ctx.lang) if measure == "regional_money" else label("members", ctx.lang)
    )
    for ax in axes[:: min(5, len(axes))]:
        ax.set_ylabel(f"Δ {unit}", fontsize=8)
    axes[-1].legend(fontsize=8, loc="best", title=f"− {base}", title_fontsize=8)
    what = label(f"difference_{measure}", ctx.lang)
    fig.suptitle(label("difference_title", ctx.lang).format(what=what, base=base), fontsize=11)
    fig.tight_layout()
    return fig


def plot_differences(
    changes: dict[str, YearlyChange], measure: str, base: str, ctx: ChartContext, path: Path
) -> Path:
    """:func:`difference_figure` as a PNG file."""
    return save_figure(difference_figure(changes, measure, base, ctx), path, ctx.lang)


def draw_brief_bars(ax: plt.Axes, brief: Brief, names: dict[str, str], lang: str) -> None:
    """The brief's chart: each cluster's change in money over the programme's years against
    the baseline, one bar per scenario, with the P10–P90 of the run-by-run difference."""
    clusters = brief.clusters[:-1]
    others = brief.names[1:]
    colours = scenario_colours(brief.names)
    width = 0.8 / max(1, len(others))
    x = np.arange(len(clusters))
    for k, name in enumerate(others):
        found = [brief.get(name, "regional_money", True, c) for c in clusters]
        delta = np.array([float(f.delta[0]) for f in found])
        low = np.array([float(f.delta_p10[0]) for f in found])
        high = np.array([float(f.delta_p90[0]) for f in found])
        at = x + (k - (len(others) - 1) / 2) * width
        ax.bar(at, delta, width * 0.9, color=colours[name], label=name)
        # the band as a line from P10 to P90 (the mean of a skewed change can lie outside it)
        ax.vlines(at, low, high, color="#333333", linewidth=0.8)
        ax.scatter(
            np.concatenate([at, at]), np.concatenate([low, high]), marker="_", s=12, c="#333333"
        )
    ax.axhline(0, color="black", linewidth=0.7)
    ax.set_xticks(x, [_short(names.get(c, c)) for c in clusters], fontsize=6.5)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("MSEK", fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, ncol=len(others), loc="lower right", bbox_to_anchor=(1, 1))
    programme = f"{brief.years.first}–{brief.years.target}"
    ax.set_title(
        label("brief_chart_title", lang).format(years=programme, base=brief.names[0]),
        fontsize=8,
        loc="left",
    )
    decimal_comma_ticks(ax.figure, lang)


def _short(name: str) -> str:
    """A cluster name wrapped for an axis tick (lines of at most ``TICK_CHARS``)."""
    return (
        "\n".join(textwrap.wrap(name, TICK_CHARS, break_long_words=False, break_on_hyphens=False))
        or name
    )
