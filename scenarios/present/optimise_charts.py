"""Charts of an optimise folder: the Pareto front (two or more objectives) or the
convergence curve (one objective), drawn from evaluations.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scenarios.core.labels import label
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import written
from scenarios.folders.optimise_folder import OptimiseFolder
from scenarios.present.pyplot import decimal_comma_ticks, plt, save_png

FEASIBLE = "#1f4e79"
INFEASIBLE = "#bbbbbb"
FRONT = "#cc3366"


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    save_png(fig, path)
    return path


def convergence_chart(
    evaluations: pd.DataFrame,
    pareto: pd.DataFrame,
    manifest: dict,
    path: Path,
    lang: str = "en",
    plan: float | None = None,
) -> Path:
    """:func:`convergence_figure` as a PNG file."""
    return _save(convergence_figure(evaluations, pareto, manifest, lang, plan), path)


def convergence_figure(
    evaluations: pd.DataFrame,
    pareto: pd.DataFrame,
    manifest: dict,
    lang: str = "en",
    plan: float | None = None,
) -> plt.Figure:
    """Every candidate's objective by evaluation, the best feasible one so far, and (given)
    the objective under the base scenario's plan as a dashed line."""
    objective = manifest["policy"]["objective"]
    name = (objective["minimise"] or objective["maximise"])[0]
    maximise = bool(objective["maximise"])
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ok = evaluations["feasible"] == 1
    ax.scatter(
        evaluations.loc[~ok, "evaluation"],
        evaluations.loc[~ok, name],
        s=10,
        color=INFEASIBLE,
        label=label("infeasible", lang),
    )
    ax.scatter(
        evaluations.loc[ok, "evaluation"],
        evaluations.loc[ok, name],
        s=10,
        color=FEASIBLE,
        label=label("feasible", lang),
    )
    best = evaluations[name].where(ok)
    best = (best.cummax() if maximise else best.cummin()).ffill()
    ax.step(
        evaluations["evaluation"],
        best,
        where="post",
        color=FRONT,
        lw=2,
        label=label("best_so_far", lang),
    )
    if plan is not None:
        ax.axhline(
            plan,
            color="#555555",
            linestyle="--",
            lw=1.2,
            label=label("plan_line", lang).format(value=written(plan, ".4g", lang)),
        )
    chosen = pareto[pareto["policy"].fillna("") != ""]
    for _, row in chosen.iterrows():
        ax.annotate(
            row["policy"],
            (row["evaluation"], row[name]),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=9,
        )
    ax.set_xlabel(label("evaluation_axis", lang))
    ax.set_ylabel(label("maximised" if maximise else "minimised", lang).format(name=name))
    constraints = ", ".join(
        f"{k} {'≥' if v.get('at_least') is not None else '≤'} "
        f"{written(v.get('at_least', v.get('at_most')), '', lang)}"
        for k, v in manifest["policy"]["constraints"].items()
    )
    ax.set_title(
        label("convergence_title", lang).format(name=manifest["name"])
        + (label("subject_to", lang).format(constraints=constraints) if constraints else ""),
        fontsize=10,
    )
    ax.legend()
    ax.grid(alpha=0.3)
    decimal_comma_ticks(fig, lang)
    return fig


def pareto_chart(
    evaluations: pd.DataFrame, pareto: pd.DataFrame, manifest: dict, path: Path, lang: str = "en"
) -> Path:
    """:func:`pareto_figure` as a PNG file."""
    return _save(pareto_figure(evaluations, pareto, manifest, lang), path)


def pareto_figure(
    evaluations: pd.DataFrame, pareto: pd.DataFrame, manifest: dict, lang: str = "en"
) -> plt.Figure:
    """The first two objectives of every candidate, the feasible front and the chosen policies."""
    objective = manifest["policy"]["objective"]
    x_name, y_name = [*objective["minimise"], *objective["maximise"]][:2]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ok = evaluations["feasible"] == 1
    ax.scatter(
        evaluations.loc[~ok, x_name],
        evaluations.loc[~ok, y_name],
        s=10,
        color=INFEASIBLE,
        label=label("infeasible", lang),
    )
    ax.scatter(
        evaluations.loc[ok, x_name],
        evaluations.loc[ok, y_name],
        s=10,
        color=FEASIBLE,
        alpha=0.5,
        label=label("feasible", lang),
    )
    front = pareto.sort_values(x_name)
    ax.plot(
        front[x_name], front[y_name], "o-", color=FRONT, ms=5, label=label("pareto_front", lang)
    )
    for _, row in front[front["policy"].fillna("") != ""].iterrows():
        ax.annotate(
            row["policy"],
            (row[x_name], row[y_name]),
            textcoords="offset points",
            xytext=(8, 4),
            fontsize=9,
        )
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    ax.set_title(
        label("tradeoff_title", lang).format(name=manifest["name"], x=x_name, y=y_name),
        fontsize=10,
    )
    ax.legend()
    ax.grid(alpha=0.3)
    decimal_comma_ticks(fig, lang)
    return fig


def draw_optimise_plots(folder: OptimiseFolder, plots_dir: Path, lang: str = "en") -> list[Path]:
    """``pareto.png`` for two or more objectives, else ``convergence.png`` (labelled in
    ``lang``)."""
    manifest = folder.manifest
    evaluations = folder.evaluations
    pareto = folder.pareto.replace("", np.nan)
    plots_dir.mkdir(parents=True, exist_ok=True)
    objective = manifest["policy"]["objective"]
    if len(objective["minimise"]) + len(objective["maximise"]) >= 2:
        return [pareto_chart(evaluations, pareto, manifest, plots_dir / "pareto.png", lang)]
    name = (objective["minimise"] or objective["maximise"])[0]
    path = plots_dir / "convergence.png"
    return [convergence_chart(evaluations, pareto, manifest, path, lang, plan_value(folder, name))]


def plan_value(folder: OptimiseFolder, outcome: str) -> float | None:
    """``outcome`` under the base scenario's plan (``out_of_sample.csv``), if it was run."""
    checks = folder.out_of_sample
    if "plan" not in checks:
        return None
    planned = checks.loc[(checks["outcome"] == outcome) & (checks["plan"] != ""), "plan"]
    return float(planned.iloc[0]) if len(planned) else None
