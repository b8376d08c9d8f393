"""Charts a budget officer looks at first, drawn from a run's summary table.

Every chart uses the same colour for a funding source, money in MSEK on labelled
axes, years on the x-axis with the target year marked, and a title naming the scenario.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

SOURCE_COLOURS = {
    "regional_base": "#1f4e79",
    "fee_income": "#2e8b57",
    "private_income": "#e69f00",
    "other_public": "#8c8c8c",
    "arena_income": "#cc3366",
}
SOURCE_LABELS = {
    "regional_base": "Regional base (Region Skåne)",
    "fee_income": "Membership fees",
    "private_income": "Private funding",
    "other_public": "Other public funding",
    "arena_income": "Arena money",
}
SOURCES = tuple(SOURCE_COLOURS)
DPI = 110


def _grid(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = 5 if n > 4 else n
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.4 * cols, 2.9 * rows + 0.8), sharex=True, squeeze=False
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _mark_target(ax: plt.Axes, target_year: int) -> None:
    ax.axvline(target_year, color="black", linestyle=":", linewidth=1)


def _metric(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    return summary[summary["metric"] == metric]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def plot_members_fan(
    summary: pd.DataFrame,
    names: dict[str, str],
    title: str,
    target_year: int,
    min_members: int,
    path: Path,
) -> Path:
    """Members per cluster: P10–P90 band, P50 line, and the member target."""
    data = _metric(summary, "members")
    fig, axes = _grid(len(names))
    for ax, (cid, name) in zip(axes, names.items(), strict=True):
        one = data[data["cluster"] == cid]
        ax.fill_between(
            one["year"], one["p10"], one["p90"], color="#2e8b57", alpha=0.25, label="P10–P90"
        )
        ax.plot(one["year"], one["p50"], color="#2e8b57", label="P50")
        ax.axhline(
            min_members, color="#b22222", linestyle="--", linewidth=1, label=f"target {min_members}"
        )
        _mark_target(ax, target_year)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("members", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{title} — members per cluster (dotted line: {target_year})", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def plot_funding_mix(
    summary: pd.DataFrame, names: dict[str, str], title: str, target_year: int, path: Path
) -> Path:
    """Mean income per source per cluster as stacked areas (MSEK)."""
    fig, axes = _grid(len(names))
    for ax, (cid, name) in zip(axes, names.items(), strict=True):
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
            labels=[SOURCE_LABELS[s] for s in SOURCES],
        )
        _mark_target(ax, target_year)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("MSEK / year", fontsize=8)
        ax.tick_params(labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(f"{title} — income by source per cluster (ensemble mean, MSEK)", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _save(fig, path)


def plot_regional_share(
    summary: pd.DataFrame,
    names: dict[str, str],
    title: str,
    target_year: int,
    max_share: float,
    path: Path,
) -> Path:
    """Region Skåne's share of each cluster's income (P50), with the bound and the base taper."""
    fig, (ax, ax_base) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2, 1]})
    share = _metric(summary, "regional_share")
    cmap = plt.get_cmap("tab10")
    for i, (cid, name) in enumerate(names.items()):
        one = share[share["cluster"] == cid]
        ax.plot(one["year"], one["p50"] * 100, color=cmap(i % 10), label=name)
    ax.axhline(
        max_share * 100,
        color="#b22222",
        linestyle="--",
        linewidth=1,
        label=f"business-financed bound {max_share:.0%}",
    )
    _mark_target(ax, target_year)
    ax.set_ylabel("regional share of income (%), P50")
    ax.set_xlabel("year")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2)
    base = _metric(summary, "regional_base").groupby("year")["mean"].sum()
    arena = _metric(summary, "arena_income").groupby("year")["mean"].sum()
    ax_base.plot(
        base.index,
        base.to_numpy(),
        color=SOURCE_COLOURS["regional_base"],
        marker="o",
        label="regional base, all clusters",
    )
    ax_base.plot(
        arena.index,
        arena.to_numpy(),
        color=SOURCE_COLOURS["arena_income"],
        marker="o",
        label="arena money paid out",
    )
    _mark_target(ax_base, target_year)
    ax_base.set_ylabel("MSEK / year (ensemble mean)")
    ax_base.set_xlabel("year")
    ax_base.set_ylim(bottom=0)
    ax_base.legend(fontsize=8)
    ax_base.set_title("the taper and the arena money", fontsize=10)
    fig.suptitle(
        f"{title} — how much of each cluster's income comes from Region Skåne", fontsize=11
    )
    fig.tight_layout()
    return _save(fig, path)


def plot_scorecard(scorecard: pd.DataFrame, title: str, target_year: int, path: Path) -> Path:
    """Probability of meeting each target, by year."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for target, one in scorecard.groupby("target", sort=False):
        ax.plot(one["year"], one["probability"] * 100, marker="o", label=target)
    _mark_target(ax, target_year)
    ax.set_ylim(-3, 103)
    ax.set_ylabel("probability target met (%)")
    ax.set_xlabel("year")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(f"{title} — scorecard (label = proxy, not the ECEI audit)", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
