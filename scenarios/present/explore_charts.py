"""Charts of an explore folder, drawn from its tables: sensitivity bars, the PRIM
trade-off and box, and scatters of the top inputs against each outcome."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from scenarios.analysis.discovery import real_restrictions
from scenarios.analysis.sensitivity import ranking_column
from scenarios.core.labels import input_label, label
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import interval, written
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.present.explore_text import condition_text, note_text
from scenarios.present.pyplot import decimal_comma_ticks, plt, save_png

MAIN = "#1f4e79"
SECOND = "#e69f00"
INTEREST = "#cc3366"
SCATTER_INPUTS = 3


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    save_png(fig, path)
    return path


def _finished(fig: plt.Figure, lang: str) -> plt.Figure:
    decimal_comma_ticks(fig, lang)
    return fig


def sensitivity_chart(folder: ExploreFolder, outcome: str, path: Path, lang: str = "en") -> Path:
    """:func:`sensitivity_figure` as a PNG file."""
    return _save(sensitivity_figure(folder, outcome, lang), path)


def sensitivity_figure(folder: ExploreFolder, outcome: str, lang: str = "en") -> plt.Figure:
    """Horizontal bars of each input's index for one outcome, largest on top, with CIs."""
    rows = folder.ranked(outcome).iloc[::-1]
    design = folder.design
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.8))
    y = np.arange(len(rows))
    title = label("what_drives", lang).format(
        name=folder.name, outcome=outcome, stat=rows["stat"].iloc[0]
    )
    if rows[ranking_column(design)].isna().all():
        note = note_text(rows["note"].iloc[0], lang)
        ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    elif design == "sobol":
        ax.barh(
            y + 0.2,
            rows["ST"],
            0.4,
            xerr=rows["ST_conf"],
            color=MAIN,
            label=label("total_st", lang),
            capsize=3,
        )
        ax.barh(
            y - 0.2,
            rows["S1"],
            0.4,
            xerr=rows["S1_conf"],
            color=SECOND,
            label=label("first_order_s1", lang),
            capsize=3,
        )
        ax.set_xlabel(label("sobol_axis", lang))
        ax.set_xlim(min(-0.05, float(rows["S1"].min()) - 0.05), 1.05)
        ax.legend(loc="lower right")
    elif design == "morris":
        ax.barh(
            y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], color=MAIN, capsize=3, label="μ*"
        )
        ax.plot(rows["sigma"], y, "o", color=SECOND, label=label("morris_sigma", lang))
        ax.set_xlabel(label("morris_axis", lang).format(outcome=outcome))
        ax.legend(loc="lower right")
    else:
        err = rows.get("S1_conf", None)
        ax.barh(y, rows["S1"], 0.6, xerr=err, color=MAIN, capsize=3)
        ax.set_xlabel(label("first_order_axis", lang))
    labels = folder.input_labels
    ax.set_yticks(y, [input_label(str(name), labels) for name in rows["input"]])
    ax.axvline(0, color="black", lw=0.6)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _finished(fig, lang)


def tradeoff_chart(folder: ExploreFolder, path: Path, lang: str = "en") -> Path:
    """:func:`tradeoff_figure` as a PNG file."""
    return _save(tradeoff_figure(folder, lang), path)


def tradeoff_figure(folder: ExploreFolder, lang: str = "en") -> plt.Figure:
    """PRIM's peeling trajectory: coverage against density, the chosen box marked."""
    table = folder.discovery
    assert table is not None
    fig, ax = plt.subplots(figsize=(7, 5))
    points = ax.scatter(
        table["coverage"], table["density"], c=table["restricted"], cmap="viridis", s=28
    )
    fig.colorbar(points, ax=ax, label=label("inputs_restricted", lang))
    chosen = table[table["chosen"] == 1].iloc[0]
    ax.plot(
        chosen["coverage"],
        chosen["density"],
        "*",
        ms=18,
        color=INTEREST,
        label=label("chosen_box", lang),
    )
    ax.annotate(
        label("prim_step", lang).format(
            step=int(chosen["step"]),
            coverage=written(chosen["coverage"], ".2f", lang),
            density=written(chosen["density"], ".2f", lang),
        ),
        (chosen["coverage"], chosen["density"]),
        textcoords="offset points",
        xytext=(-10, -18),
        ha="right",
        fontsize=9,
    )
    condition = folder.manifest["experiment"]["discover"]
    ax.axhline(
        condition["min_density"],
        color="grey",
        ls="--",
        lw=0.8,
        label=label("minimum_density", lang),
    )
    ax.set_xlabel(label("coverage_axis", lang))
    ax.set_ylabel(label("density_axis", lang))
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(
        label("prim_tradeoff_title", lang).format(
            name=folder.name, condition=condition_text(condition, lang)
        ),
        fontsize=10,
    )
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    return _finished(fig, lang)


def box_chart(folder: ExploreFolder, path: Path, lang: str = "en") -> Path:
    """:func:`box_figure` as a PNG file."""
    return _save(box_figure(folder, lang), path)


def box_figure(folder: ExploreFolder, lang: str = "en") -> plt.Figure:
    """The chosen box: each restricted input's limits within its sampled range."""
    chosen = folder.chosen_box()
    assert chosen is not None
    step, every = chosen
    restricted = real_restrictions(every)
    fig, ax = plt.subplots(figsize=(8, 0.6 * max(1, len(restricted)) + 1.8))
    if not restricted:
        ax.text(
            0.5,
            0.5,
            label("box_restricts_nothing", lang),
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_yticks([])
    for i, (_name, low, high, full_low, full_high) in enumerate(restricted):
        width = full_high - full_low
        ax.barh(i, 1.0, 0.5, color="#dddddd")
        ax.barh(i, (high - low) / width, 0.5, left=(low - full_low) / width, color=INTEREST)
        ax.text(-0.02, i, written(full_low, ".3g", lang), ha="right", va="center", fontsize=8)
        ax.text(1.02, i, written(full_high, ".3g", lang), ha="left", va="center", fontsize=8)
        ax.text(
            (low + high - 2 * full_low) / (2 * width),
            i + 0.36,
            interval(written(low, ".3g", lang), written(high, ".3g", lang), lang),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_yticks(range(len(restricted)), [r[0] for r in restricted])
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.6, max(1, len(restricted)) - 0.2)
    ax.set_xticks([])
    condition = folder.manifest["experiment"]["discover"]
    ax.set_title(
        label("prim_box_title", lang).format(
            name=folder.name,
            condition=condition_text(condition, lang),
            coverage=written(step["coverage"], ".2f", lang),
            density=written(step["density"], ".2f", lang),
        ),
        fontsize=10,
    )
    return _finished(fig, lang)


def scatter_chart(folder: ExploreFolder, outcome: str, path: Path, lang: str = "en") -> Path:
    """:func:`scatter_figure` as a PNG file."""
    return _save(scatter_figure(folder, outcome, lang), path)


def scatter_figure(folder: ExploreFolder, outcome: str, lang: str = "en") -> plt.Figure:
    """The outcome's statistic at every point against its most influential inputs."""
    ranked = folder.ranked(outcome)
    inputs = list(ranked["input"].head(SCATTER_INPUTS))
    stat = str(ranked["stat"].iloc[0])
    outcomes = folder.outcomes
    y = outcomes.loc[outcomes["outcome"] == outcome].set_index("point")[stat]
    x = folder.experiments.set_index("point")
    interest = _interest(folder, outcomes)
    fig, axes = plt.subplots(
        1, len(inputs), figsize=(4.2 * len(inputs), 3.8), sharey=True, squeeze=False
    )
    for ax, name in zip(axes[0], inputs, strict=True):
        colours = (
            np.where(interest.reindex(x.index, fill_value=False), INTEREST, MAIN)
            if interest is not None
            else MAIN
        )
        ax.scatter(x[name], y.reindex(x.index), s=6, alpha=0.5, c=colours)
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(label("over_replications", lang).format(outcome=outcome, stat=stat))
    title = label("scatter_title", lang).format(name=folder.name, outcome=outcome)
    if interest is not None:
        title += label("scatter_interest", lang)
    fig.suptitle(title, fontsize=10)
    return _finished(fig, lang)


def _interest(folder: ExploreFolder, outcomes: pd.DataFrame) -> pd.Series | None:
    condition = folder.manifest["experiment"].get("discover")
    if not condition:
        return None
    stat = folder.manifest["experiment"]["outcomes"][condition["outcome"]]["stat"]
    values = outcomes.loc[outcomes["outcome"] == condition["outcome"]].set_index("point")[stat]
    if condition.get("above") is not None:
        return values > condition["above"]
    return values < condition["below"]


def draw_explore_plots(folder: ExploreFolder, plots_dir: Path, lang: str = "en") -> list[Path]:
    """Every chart of an explore folder, under ``plots_dir``, labelled in ``lang``."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    drawn = []
    for outcome in folder.outcomes["outcome"].drop_duplicates():
        name = _file_name(outcome)
        drawn.append(
            sensitivity_chart(folder, outcome, plots_dir / f"sensitivity_{name}.png", lang)
        )
        drawn.append(scatter_chart(folder, outcome, plots_dir / f"scatter_{name}.png", lang))
    if folder.discovery is not None:
        drawn.append(tradeoff_chart(folder, plots_dir / "prim_tradeoff.png", lang))
        drawn.append(box_chart(folder, plots_dir / "prim_box.png", lang))
    return drawn
