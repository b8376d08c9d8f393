"""Charts of an optimise folder: the Pareto front (two or more objectives) or the
convergence curve (one objective), drawn from evaluations.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.folders.optimise_folder import OptimiseFolder
from scenarios.present.pyplot import plt

DPI = 110
FEASIBLE = "#1f4e79"
INFEASIBLE = "#bbbbbb"
FRONT = "#cc3366"


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def convergence_chart(
    evaluations: pd.DataFrame, pareto: pd.DataFrame, manifest: dict, path: Path
) -> Path:
    """Every candidate's objective by evaluation, and the best feasible one so far."""
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
        label="infeasible",
    )
    ax.scatter(
        evaluations.loc[ok, "evaluation"],
        evaluations.loc[ok, name],
        s=10,
        color=FEASIBLE,
        label="feasible",
    )
    best = evaluations[name].where(ok)
    best = (best.cummax() if maximise else best.cummin()).ffill()
    ax.step(
        evaluations["evaluation"],
        best,
        where="post",
        color=FRONT,
        lw=2,
        label="best feasible so far",
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
    ax.set_xlabel("evaluation (candidate × its replications)")
    ax.set_ylabel(f"{name} ({'maximised' if maximise else 'minimised'})")
    constraints = ", ".join(
        f"{k} {'≥' if v.get('at_least') is not None else '≤'} {v.get('at_least', v.get('at_most'))}"
        for k, v in manifest["policy"]["constraints"].items()
    )
    ax.set_title(
        f"{manifest['name']}: convergence" + (f" subject to {constraints}" if constraints else ""),
        fontsize=10,
    )
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def pareto_chart(
    evaluations: pd.DataFrame, pareto: pd.DataFrame, manifest: dict, path: Path
) -> Path:
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
        label="infeasible",
    )
    ax.scatter(
        evaluations.loc[ok, x_name],
        evaluations.loc[ok, y_name],
        s=10,
        color=FEASIBLE,
        alpha=0.5,
        label="feasible",
    )
    front = pareto.sort_values(x_name)
    ax.plot(front[x_name], front[y_name], "o-", color=FRONT, ms=5, label="Pareto front")
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
    ax.set_title(f"{manifest['name']}: trade-off between {x_name} and {y_name}", fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def draw_optimise_plots(folder: OptimiseFolder, plots_dir: Path) -> list[Path]:
    """``pareto.png`` for two or more objectives, else ``convergence.png``."""
    manifest = folder.manifest
    evaluations = folder.evaluations
    pareto = folder.pareto.replace("", np.nan)
    plots_dir.mkdir(parents=True, exist_ok=True)
    objective = manifest["policy"]["objective"]
    if len(objective["minimise"]) + len(objective["maximise"]) >= 2:
        return [pareto_chart(evaluations, pareto, manifest, plots_dir / "pareto.png")]
    return [convergence_chart(evaluations, pareto, manifest, plots_dir / "convergence.png")]
