"""An optimise folder in a few lines for the terminal: the chosen policies, their levers,
and every outcome in and out of sample and against the base scenario's plan."""

from __future__ import annotations

from scenarios.core.labels import input_label, label, label_or
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import decimal_commas, written
from scenarios.folders.optimise_folder import OptimiseFolder


def describe_optimise(folder: OptimiseFolder, lang: str = "en") -> str:
    """The chosen policies with their levers, and every constraint in and out of sample, in
    ``lang``."""
    manifest, pareto, checks = folder.manifest, folder.pareto, folder.out_of_sample
    levers = list(manifest["levers"])
    lines = [
        label("optimise_head", lang).format(
            evaluations=manifest["evaluations"],
            replications=manifest["replications"],
            algorithm=manifest["algorithm"],
            front=len(pareto),
        )
    ]
    for _, row in pareto[pareto["policy"] != ""].iterrows():
        policy = row["policy"]
        lines.append(
            label("policy_line", lang).format(
                policy=policy, evaluation=row["evaluation"], path=folder.path / policy
            )
        )
        lines.append(
            f"  {label('levers', lang)}: "
            + ", ".join(
                f"{input_label(name, folder.lever_labels)} = {written(row[name], '.4g', lang)}"
                for name in levers
            )
        )
        for _, check in checks[checks["policy"] == policy].iterrows():
            bound = (
                f" ({label('must_be', lang).format(bound=bound_text(check['bound'], lang))})"
                if check["bound"]
                else ""
            )
            verdict = ""
            if check["bound"]:
                verdict = "  " + label(
                    "met" if str(check["met_out_of_sample"]) == "1" else "missed_out_of_sample",
                    lang,
                )
            line = label("check_line", lang).format(
                outcome=check["outcome"],
                in_sample=written(float(check["in_sample"]), ".4g", lang),
                out_of_sample=written(float(check["out_of_sample"]), ".4g", lang),
            )
            lines.append(f"  {line}{bound}{verdict}{against_plan(check, lang)}")
    if still_improving(folder):
        lines.append(label("still_improving", lang))
    return "\n".join(lines)


def against_plan(check: pd.Series, lang: str = "en") -> str:
    """``; under the plan 5 (+1.1 with this policy)``: the base scenario as planned on the
    same fresh seeds, and the policy's difference from it (nothing for a folder written
    before plans were run, or whose plan could not run)."""
    if "plan" not in check or check["plan"] == "":
        return ""
    return label("against_plan", lang).format(
        plan=written(float(check["plan"]), ".4g", lang),
        against=written(float(check["against_plan"]), "+.4g", lang),
    )


def bound_text(bound: str, lang: str = "en") -> str:
    """A constraint's bound as ``out_of_sample.csv`` writes it (``at least 0.9``) in ``lang``
    (``minst 0,9``)."""
    if lang == "en":
        return bound
    words, _, value = bound.rpartition(" ")
    return f"{label_or(f'bound.{words}', words, lang)} {decimal_commas(value)}"


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
