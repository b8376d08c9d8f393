"""An optimise folder in a few lines for the terminal: the chosen policies, their levers,
and every outcome in and out of sample and against the base scenario's plan."""

from __future__ import annotations

import pandas as pd

from scenarios.core.labels import input_label
from scenarios.folders.optimise_folder import OptimiseFolder


def describe_optimise(folder: OptimiseFolder) -> str:
    """The chosen policies with their levers, and every constraint in and out of sample."""
    manifest, pareto, checks = folder.manifest, folder.pareto, folder.out_of_sample
    levers = list(manifest["levers"])
    lines = [
        f"{manifest['evaluations']} evaluations × {manifest['replications']} runs "
        f"({manifest['algorithm']}); {len(pareto)} on the feasible front"
    ]
    for _, row in pareto[pareto["policy"] != ""].iterrows():
        policy = row["policy"]
        lines.append(f"{policy} (evaluation {row['evaluation']}): {folder.path / policy}.toml")
        lines.append(
            "  levers: "
            + ", ".join(
                f"{input_label(name, folder.lever_labels)} = {row[name]:.4g}" for name in levers
            )
        )
        for _, check in checks[checks["policy"] == policy].iterrows():
            bound = f" (must be {check['bound']})" if check["bound"] else ""
            verdict = ""
            if check["bound"]:
                verdict = (
                    "  met"
                    if str(check["met_out_of_sample"]) == "1"
                    else ("  MISSED out of sample")
                )
            lines.append(
                f"  {check['outcome']}: {float(check['in_sample']):.4g} in sample, "
                f"{float(check['out_of_sample']):.4g} on fresh seeds{bound}{verdict}"
                f"{against_plan(check)}"
            )
    if still_improving(folder):
        lines.append(
            "still improving at the last generation: raise --budget (and --resume) for a "
            "better policy"
        )
    return "\n".join(lines)


def against_plan(check: pd.Series) -> str:
    """``; under the plan 5 (+1.1 with this policy)``: the base scenario as planned on the
    same fresh seeds, and the policy's difference from it (nothing for a folder written
    before plans were run)."""
    if "plan" not in check or check["plan"] == "":
        return ""
    plan, against = float(check["plan"]), float(check["against_plan"])
    return f"; under the plan {plan:.4g} ({against:+.4g} with this policy)"


IMPROVING = 1e-3
"""A relative gain in the best feasible objective from which a generation still improves."""


def still_improving(folder: OptimiseFolder) -> bool:
    """Whether the last generation found a better feasible policy than all before it (one
    objective), or put a new policy on the front (several)."""
    evaluations = folder.evaluations
    if evaluations.empty or evaluations["generation"].max() < 1:
        return False
    last = evaluations["generation"] == evaluations["generation"].max()
    objective = folder.manifest["policy"]["objective"]
    names = [*objective["minimise"], *objective["maximise"]]
    if len(names) > 1:
        front = set(folder.pareto["evaluation"])
        return bool(evaluations.loc[last, "evaluation"].isin(front).any())
    feasible = evaluations[evaluations["feasible"] == 1]
    sign = -1.0 if objective["maximise"] else 1.0
    values = sign * feasible[names[0]].astype(float)
    before, now = values[~last[feasible.index]], values[last[feasible.index]]
    if before.empty or now.empty:
        return not now.empty
    gain = float(before.min() - now.min())
    return gain > IMPROVING * max(abs(float(before.min())), 1e-9)
