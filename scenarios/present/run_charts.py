"""Charts a budget officer looks at first, drawn from results tables (never from model objects).

Every chart uses the same colour for a funding source, money in MSEK on labelled
axes, years on the x-axis with the target year marked, and a title naming the scenario.
Labels come in English or Swedish (``lang``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.core.labels import label, target_label
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import percent
from scenarios.core.text import terminal_safe
from scenarios.folders.run_folder import RunFolder
from scenarios.present.colours import SOURCE_COLOURS, scenario_colours
from scenarios.present.pyplot import decimal_comma_ticks, plt, save_png
from simulator.scenario import AREAS
from simulator.scorecard import is_cluster_target

SOURCES = tuple(SOURCE_COLOURS)
MOSTLY_LEFT = 0.5
"""From this share of runs in which a cluster has left the programme, its P50 is a cluster
that has left: a median share or income of it is not drawn (it is not 0 %, it is gone)."""


@dataclass(frozen=True)
class ChartContext:
    """What every chart of one scenario needs to know."""

    title: str
    """Scenario name and description, for the chart titles."""
    names: dict[str, str]
    """Cluster id → display name, in display order."""
    target_year: int
    min_members: int
    max_regional_share: float
    lang: str = "en"

    def heading(self, key: str) -> str:
        """A chart title: the scenario, then what the chart shows."""
        return f"{self.title} — {label(key, self.lang)}"


def panel_grid(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``n`` small panels, five to a row, sharing the x-axis (years)."""
    cols = 5 if n > 4 else n
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.4 * cols, 2.9 * rows + 1.0), sharex=True, squeeze=False
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def mark_target(ax: plt.Axes, target_year: int) -> None:
    """A dotted line at the target year, labelled with it."""
    ax.axvline(target_year, color="black", linestyle=":", linewidth=1)
    ax.annotate(
        str(target_year),
        (target_year, 1.0),
        xycoords=("data", "axes fraction"),
        fontsize=7,
        ha="left",
        va="top",
        xytext=(2, -2),
        textcoords="offset points",
    )


def _metric(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    return summary[summary["metric"] == metric]


def save_figure(fig: plt.Figure, path: Path, lang: str) -> Path:
    """Write ``fig`` as a PNG file at ``path`` (numbers with decimal commas in Swedish) and
    close it."""
    decimal_comma_ticks(fig, lang)
    save_png(fig, path)
    return path


def plot_members_fan(summary: pd.DataFrame, ctx: ChartContext, path: Path) -> Path:
    """Members per cluster: P10–P90 band, P50 line, and the member target."""
    data = _metric(summary, "members")
    fig, axes = panel_grid(len(ctx.names))
    for ax, (cid, name) in zip(axes, ctx.names.items(), strict=True):
        one = data[data["cluster"] == cid]
        ax.fill_between(
            one["year"],
            one["p10"],
            one["p90"],
            color="#2e8b57",
            alpha=0.25,
            label=label("band", ctx.lang),
        )
        ax.plot(one["year"], one["p50"], color="#2e8b57", label="P50")
        ax.axhline(
            ctx.min_members,
            color="#b22222",
            linestyle="--",
            linewidth=1,
            label=f"{label('target', ctx.lang)} {ctx.min_members}",
        )
        mark_target(ax, ctx.target_year)
        ax.set_title(name, fontsize=9)
        top = max(float(one["p90"].max()), ctx.min_members) * 1.12
        ax.set_ylim(0, top)
        ax.set_ylabel(label("members", ctx.lang), fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(ctx.heading("members_title"), fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path, ctx.lang)


def left_share(summary: pd.DataFrame, cluster: str) -> pd.Series:
    """The share of runs in which ``cluster`` has left the programme, by year (``closed`` of
    summary.csv counts every way out)."""
    rows = _metric(summary, "closed")
    return rows[rows["cluster"] == cluster].set_index("year")["mean"]


def open_median(summary: pd.DataFrame, metric: str, cluster: str) -> pd.Series:
    """``metric``'s P50 by year, NaN where the cluster has left the programme in most runs
    (its P50 there is a cluster that is gone, not one at 0)."""
    rows = _metric(summary, metric)
    p50 = rows[rows["cluster"] == cluster].set_index("year")["p50"]
    gone = left_share(summary, cluster).reindex(p50.index) >= MOSTLY_LEFT
    return p50.where(~gone)


def _title_left(ax: plt.Axes, name: str, summary: pd.DataFrame, cluster: str, lang: str) -> None:
    """A panel's title: the cluster, and below it in how many runs it has left the
    programme by the last year (if in any)."""
    share = left_share(summary, cluster)
    if share.empty or float(share.iloc[-1]) <= 0:
        ax.set_title(name, fontsize=9)
        return
    text = label("left_in_runs", lang).format(
        share=percent(float(share.iloc[-1]), 0, lang), year=int(share.index[-1])
    )
    ax.set_title(f"{name}\n({text})", fontsize=8.5)


def plot_funding_mix(summary: pd.DataFrame, ctx: ChartContext, path: Path) -> Path:
    """:func:`funding_mix_figure` as a PNG file."""
    return save_figure(funding_mix_figure(summary, ctx), path, ctx.lang)


def funding_mix_figure(summary: pd.DataFrame, ctx: ChartContext) -> plt.Figure:
    """Mean income per source per cluster as stacked areas (MSEK), over all runs (a cluster
    that has left counts as 0: the title says so, and each panel in how many runs it has
    left)."""
    fig, axes = panel_grid(len(ctx.names))
    for ax, (cid, name) in zip(axes, ctx.names.items(), strict=True):
        one = summary[summary["cluster"] == cid]
        years = sorted(one["year"].unique())
        stacks = [
            _metric(one, source).set_index("year").reindex(years)["mean"].to_numpy()
            for source in SOURCES
        ]
        ax.stackplot(
            years,
            stacks,
            colors=[SOURCE_COLOURS[s] for s in SOURCES],
            labels=[label(s, ctx.lang) for s in SOURCES],
        )
        mark_target(ax, ctx.target_year)
        _title_left(ax, name, summary, cid, ctx.lang)
        ax.set_ylabel(label("msek_year", ctx.lang), fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(ctx.heading("mix_title"), fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def regional_share_figure(summary: pd.DataFrame, ctx: ChartContext) -> plt.Figure:
    """Region Skåne's share of each cluster's income (P50), with the bound and the base taper.
    A cluster that has left the programme in most runs is not drawn from then on (it is not
    at 0 %); an ``x`` marks its last year drawn."""
    fig, (ax, ax_base) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2, 1]})
    cmap = plt.get_cmap("tab10")
    marked = False
    for i, (cid, name) in enumerate(ctx.names.items()):
        share = open_median(summary, "regional_share", cid) * 100
        ax.plot(share.index, share.to_numpy(), color=cmap(i % 10), label=name)
        drawn = share.dropna()
        if len(drawn) < len(share) and len(drawn):
            ax.plot(
                drawn.index[-1],
                drawn.iloc[-1],
                "x",
                color=cmap(i % 10),
                markersize=8,
                markeredgewidth=2,
                label=None if marked else label("left_marker", ctx.lang),
            )
            marked = True
    ax.axhline(
        ctx.max_regional_share * 100,
        color="#b22222",
        linestyle="--",
        linewidth=1,
        label=f"{label('bound', ctx.lang)} {ctx.max_regional_share:.0%}",
    )
    mark_target(ax, ctx.target_year)
    ax.set_ylabel(label("share_axis", ctx.lang))
    ax.set_xlabel(label("year", ctx.lang))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2)
    base = _metric(summary, "regional_base").groupby("year")["mean"].sum()
    arena = _metric(summary, "arena_income").groupby("year")["mean"].sum()
    ax_base.plot(
        base.index,
        base.to_numpy(),
        color=SOURCE_COLOURS["regional_base"],
        marker="o",
        label=label("base_all", ctx.lang),
    )
    ax_base.plot(
        arena.index,
        arena.to_numpy(),
        color=SOURCE_COLOURS["arena_income"],
        marker="o",
        label=label("arena_paid", ctx.lang),
    )
    mark_target(ax_base, ctx.target_year)
    ax_base.set_ylabel(label("mean_msek_year", ctx.lang))
    ax_base.set_xlabel(label("year", ctx.lang))
    ax_base.set_ylim(bottom=0)
    ax_base.legend(fontsize=8)
    ax_base.set_title(label("taper_title", ctx.lang), fontsize=10)
    fig.suptitle(ctx.heading("share_title"), fontsize=11)
    fig.tight_layout()
    return fig


def plot_regional_share(summary: pd.DataFrame, ctx: ChartContext, path: Path) -> Path:
    """:func:`regional_share_figure` as a PNG file."""
    return save_figure(regional_share_figure(summary, ctx), path, ctx.lang)


def plot_scorecard(scorecards: dict[str, pd.DataFrame], ctx: ChartContext, path: Path) -> Path:
    """Probability of meeting each target by year; one panel per scenario."""
    fig, axes = plt.subplots(
        1, len(scorecards), figsize=(6.5 * len(scorecards) + 2.5, 4.6), squeeze=False, sharey=True
    )
    colours = scenario_colours(list(scorecards))
    for ax, (name, card) in zip(axes[0], scorecards.items(), strict=True):
        programme_wide = card[~card["target"].map(is_cluster_target)]
        groups = programme_wide.groupby("target", sort=False)
        for (target, one), marker, style in zip(
            groups, "osD^vx", ("-", "--", "-.", ":") * 2, strict=False
        ):
            # markers and dashes keep targets with equal values apart
            ax.plot(
                one["year"],
                one["probability"] * 100,
                marker=marker,
                linestyle=style,
                markersize=5,
                markerfacecolor="none",
                label=target_label(str(target), ctx.names, ctx.lang),
            )
        mark_target(ax, ctx.target_year)
        ax.set_ylim(-3, 103)
        ax.set_xlabel(label("year", ctx.lang))
        ax.set_title(name, fontsize=10, color=colours[name] if len(scorecards) > 1 else "black")
    axes[0][0].set_ylabel(label("probability_met", ctx.lang))
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(ctx.heading("scorecard_title"), fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path, ctx.lang)


def money_colours() -> Any:
    """The heatmaps' colour map: white at 0 MSEK (no money is no colour), then RdPu."""
    from matplotlib.colors import LinearSegmentedColormap

    shades = plt.get_cmap("RdPu")(np.linspace(0.15, 1.0, 8))
    return LinearSegmentedColormap.from_list("money", ["#ffffff", *shades])


def _heat(ax: plt.Axes, table: pd.DataFrame, row_labels: Sequence[str], lang: str) -> None:
    """A heatmap from 0 MSEK (white) up; all zero is white on a 0–1 scale, and says so."""
    values = table.to_numpy(dtype=float)
    highest = float(np.nanmax(values)) if values.size else 0.0
    image = ax.imshow(
        values, aspect="auto", cmap=money_colours(), vmin=0, vmax=highest if highest > 0 else 1.0
    )
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    years = list(table.columns)
    step = max(1, len(years) // 14)
    ax.set_xticks(range(0, len(years), step), [str(y) for y in years[::step]], fontsize=8)
    ax.set_xlabel(label("year", lang))
    if highest <= 0:
        ax.text(
            0.5,
            0.5,
            label("no_arena_money", lang),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=11,
            color="#555555",
        )
    for (i, j), value in np.ndenumerate(values):
        if value >= 0.005:
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if value > highest * 0.6 else "black",
            )
    plt.colorbar(image, ax=ax, label=label("msek_year", lang))


def plot_arena_heatmaps(
    summary: pd.DataFrame, area_money: pd.DataFrame, ctx: ChartContext, path: Path
) -> Path:
    """:func:`arena_heatmap_figure` as a PNG file."""
    return save_figure(arena_heatmap_figure(summary, area_money, ctx), path, ctx.lang)


def arena_heatmap_figure(
    summary: pd.DataFrame, area_money: pd.DataFrame, ctx: ChartContext
) -> plt.Figure:
    """Arena money as heatmaps: cluster × year (from the summary) and area × year."""
    by_cluster = (
        _metric(summary, "arena_income")
        .pivot(index="cluster", columns="year", values="mean")
        .reindex(list(ctx.names))
    )
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(12, 8.5), gridspec_kw={"height_ratios": [3, 1.2]}
    )
    _heat(top, by_cluster, list(ctx.names.values()), ctx.lang)
    top.set_title(label("heatmap_cluster_title", ctx.lang), fontsize=10)
    years = list(by_cluster.columns)
    by_area = area_money.reindex(index=list(AREAS), columns=years, fill_value=0.0).fillna(0.0)
    _heat(bottom, by_area, [label(a, ctx.lang) for a in AREAS], ctx.lang)
    bottom.set_title(label("heatmap_area_title", ctx.lang), fontsize=10)
    for ax in (top, bottom):
        if ctx.target_year in years:
            column = years.index(ctx.target_year)
            for edge in (column - 0.5, column + 0.5):
                ax.axvline(edge, color="black", linestyle=":", linewidth=1)
    fig.suptitle(ctx.title, fontsize=11)
    fig.tight_layout()
    return fig


def overlay_figure(
    summaries: dict[str, pd.DataFrame], metric: str, ctx: ChartContext
) -> plt.Figure:
    """One metric per cluster for two or more scenarios: P50 lines and P10–P90 bands, each
    scenario in its colour; a share is not drawn where the cluster has left in most runs;
    money and members from 0."""
    fig, axes = panel_grid(len(ctx.names))
    scale = 100.0 if metric == "regional_share" else 1.0
    colours = scenario_colours(list(summaries))
    for ax, (cid, name) in zip(axes, ctx.names.items(), strict=True):
        lowest = 0.0
        for scenario, summary in summaries.items():
            colour = colours[scenario]
            one = summary[(summary["metric"] == metric) & (summary["cluster"] == cid)]
            if metric == "regional_share":
                gone = left_share(summary, cid).reindex(one["year"]).to_numpy() >= MOSTLY_LEFT
                one = one.assign(
                    p10=one["p10"].where(~gone),
                    p50=one["p50"].where(~gone),
                    p90=one["p90"].where(~gone),
                )
            ax.fill_between(
                one["year"], one["p10"] * scale, one["p90"] * scale, color=colour, alpha=0.15
            )
            ax.plot(one["year"], one["p50"] * scale, color=colour, label=scenario)
            lowest = min(lowest, float(np.nanmin(one["p10"].to_numpy(dtype=float), initial=0.0)))
        if metric == "members":
            ax.axhline(ctx.min_members, color="#b22222", linestyle="--", linewidth=1)
        ax.set_ylim(bottom=lowest * scale * 1.05 if lowest < 0 else 0)
        mark_target(ax, ctx.target_year)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        unit = (
            "%"
            if metric == "regional_share"
            else (label("members", ctx.lang) if metric == "members" else label("msek", ctx.lang))
        )
        ax.set_ylabel(unit, fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(summaries), fontsize=9, frameon=False)
    fig.suptitle(f"{ctx.title} — {label(metric, ctx.lang)} (P50, P10–P90)", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_overlay(
    summaries: dict[str, pd.DataFrame], metric: str, ctx: ChartContext, path: Path
) -> Path:
    """:func:`overlay_figure` as a PNG file."""
    return save_figure(overlay_figure(summaries, metric, ctx), path, ctx.lang)


RUN_PLOTS = ("funding_mix", "members", "regional_share", "arena", "scorecard")
"""The charts of a run, in the order a reader meets them."""
LONGEST_TO_DRAW_FIRST = ("funding_mix", "members", "arena", "regional_share", "scorecard")
""":data:`RUN_PLOTS` in the order they are handed to workers (so two finish together)."""


@dataclass(frozen=True)
class RunCharts:
    """What a run's charts are drawn from: its tables and chart settings (no files, so a
    worker on another machine can draw them too)."""

    name: str
    summary: pd.DataFrame
    area_money: pd.DataFrame
    scorecard: pd.DataFrame
    ctx: ChartContext

    @classmethod
    def of(cls, run: RunFolder, lang: str = "en") -> RunCharts:
        """The charts' data of a results folder."""
        return cls(run.name, run.summary, run.area_money, run.scorecard, chart_context(run, lang))


def draw_run_chart(charts: RunCharts, name: str, path: Path) -> Path:
    """Draw the run chart ``name`` (one of :data:`RUN_PLOTS`) as a PNG file at ``path``."""
    summary, ctx = charts.summary, charts.ctx
    if name == "funding_mix":
        return plot_funding_mix(summary, ctx, path)
    if name == "members":
        return plot_members_fan(summary, ctx, path)
    if name == "regional_share":
        return plot_regional_share(summary, ctx, path)
    if name == "arena":
        return plot_arena_heatmaps(summary, charts.area_money, ctx, path)
    if name == "scorecard":
        return plot_scorecard({charts.name: charts.scorecard}, ctx, path)
    raise ValueError(f"no run chart {name!r}; the charts are {', '.join(RUN_PLOTS)}")


def run_chart_png(charts: RunCharts, name: str) -> bytes:
    """The run chart ``name`` as PNG bytes (drawn where an executor sends it)."""
    with tempfile.TemporaryDirectory(prefix="clusterfund-chart-") as scratch:
        return draw_run_chart(charts, name, Path(scratch) / f"{name}.png").read_bytes()


def draw_run_plots(run: RunFolder, out: Path, lang: str = "en") -> list[Path]:
    """The standard charts of one run, written as PNG files in ``out`` (one after another;
    ``clusterfund run`` draws them side by side with :func:`run_chart_png`)."""
    out.mkdir(parents=True, exist_ok=True)
    charts = RunCharts.of(run, lang)
    return [draw_run_chart(charts, name, out / f"{name}.png") for name in RUN_PLOTS]


def chart_context(run: RunFolder, lang: str = "en") -> ChartContext:
    """Chart settings of a run."""
    config = run.config
    description = config.get("description", "")
    short = description.split(":")[0] if description else ""
    title = f"'{run.name}'" + (f" ({short})" if short and len(short) < 60 else "")
    return ChartContext(  # control characters would be missing glyphs
        title=terminal_safe(title),
        names={cid: terminal_safe(name) for cid, name in run.cluster_names.items()},
        target_year=int(config["programme"]["target_year"]),
        min_members=int(config["scorecard"]["min_members"]),
        max_regional_share=float(config["scorecard"]["max_regional_share"]),
        lang=lang,
    )
