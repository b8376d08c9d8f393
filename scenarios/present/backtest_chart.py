"""``plots/backtest.png``: fan charts of the observed metrics with the observations drawn on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scenarios.analysis.backtest import Ensemble
from scenarios.config.observations import ALL, OBSERVED
from scenarios.core.labels import label, label_or
from scenarios.core.lazy import pandas as pd
from scenarios.present.pyplot import decimal_comma_ticks, plt, save_png
from scenarios.present.run_charts import panel_grid
from simulator.outcomes import BAND_QUANTILES

IN_BAND, MISSED = "#1f4e79", "#cc3366"


def plot_backtest(
    ensemble: Ensemble,
    table: pd.DataFrame,
    names: dict[str, str],
    title: str,
    path: Path,
    split: int | None = None,
    lang: str = "en",
) -> Path:
    """:func:`backtest_figure` as a PNG file."""
    fig = backtest_figure(ensemble, table, names, title, split, lang)
    save_png(fig, path)
    return path


def backtest_figure(
    ensemble: Ensemble,
    table: pd.DataFrame,
    names: dict[str, str],
    title: str,
    split: int | None = None,
    lang: str = "en",
) -> plt.Figure:
    """One panel per observed (cluster, metric): the P10–P90 band and P50 over the run's
    years; a value as a dot, a lower bound as ▲ and an upper bound as ▼ (red: outside the
    band; hollow: a plan or a start figure, shown but not scored); a dashed line after the
    split year. Labelled in ``lang``."""
    scored = table[table.status == "scored"]
    panels = list(scored.groupby(["cluster", "metric"], sort=True))
    fig, axes = panel_grid(len(panels))
    for ax, ((cluster, metric), rows) in zip(axes, panels, strict=True):
        runs = ensemble.values(str(cluster), str(metric))
        years = np.asarray(ensemble.years)
        q10, q50, q90 = np.quantile(runs, BAND_QUANTILES, axis=0)
        ax.fill_between(years, q10, q90, color=IN_BAND, alpha=0.2, label="P10–P90")
        ax.plot(years, q50, color=IN_BAND, linewidth=1.5, label="P50")
        if split is not None:
            ax.axvline(split + 0.5, color="grey", linestyle="--", linewidth=0.8)
        for row in rows.itertuples():
            colour = IN_BAND if bool(row.in_band) else MISSED
            scored_kind = pd.isna(row.kind) or row.kind == OBSERVED
            style = {"color": colour, "zorder": 3}
            if not scored_kind:
                style.update(color="grey", markerfacecolor="none")
            for column, marker in (("value", "o"), ("lower", "^"), ("upper", "v")):
                if pd.notna(getattr(row, column)):
                    ax.plot(row.year, getattr(row, column), marker, markersize=6, **style)
        who = (
            label("all_clusters", lang) if cluster == ALL else names.get(str(cluster), str(cluster))
        )
        what = label_or(f"metric.{metric}", str(metric), lang)
        ax.set_title(f"{who}\n{what}", fontsize=8)
        ax.tick_params(labelsize=7)
    if axes:
        axes[0].legend(fontsize=6, loc="best")
    fig.suptitle(
        label("backtest_chart_title", lang).format(
            title=title,
            split="" if split is None else label("backtest_chart_split", lang).format(year=split),
        ),
        fontsize=9,
    )
    decimal_comma_ticks(fig, lang)
    fig.tight_layout()
    return fig
