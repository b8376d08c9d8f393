"""The tables and the ready scenario files of an optimise folder.

``policy_<k>.toml`` extends the policy's base scenario with the chosen lever
values (and the policy file's ``fixed`` keys), labelled ``derived: optimise
<file> ...`` in its provenance, and sets ``seed`` and ``runs`` to the search's,
so ``clusterfund run policy_<k>.toml`` repeats the optimiser's runs exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.config.policy import Policy
from scenarios.config.scenario_file import ScenarioFile, point_scenario
from scenarios.folders.manifest import read_manifest
from scenarios.folders.tables import write_csv
from scenarios.studies.optimise import (
    EVALUATIONS_CSV,
    KIND,
    OUT_OF_SAMPLE_CSV,
    PARETO_CSV,
    Chosen,
    Evaluations,
    OptimiseRequest,
)
from simulator.outcomes import STATS

OUTCOMES_CSV = "outcomes.csv"
"""Every statistic of every outcome per evaluation (the contract's outcomes.csv)."""


def policy_file(
    policy: Policy, k: int, chosen: Chosen, levers: np.ndarray, values: np.ndarray
) -> ScenarioFile:
    """The scenario file of one chosen policy."""
    spec = policy.spec
    measured = ", ".join(f"{name} = {values[i]:.4g}" for i, name in enumerate(policy.outcome_names))
    label = (
        f"derived: optimise {policy.path.name} (policy {k}, {chosen.role}; "
        f"evaluation {chosen.evaluation}, {spec.replications} runs, seed {spec.seed})"
    )
    return point_scenario(
        policy,
        levers,
        name=f"{spec.name}_policy_{k}",
        description=f"{spec.name}, {chosen.role}: {spec.description}",
        label=label,
        comments=[
            f"Written by clusterfund optimise {policy.path.name}: {chosen.role}.",
            f"In sample: {measured}.",
            f"Re-run: clusterfund run <this folder>/policy_{k}.toml",
        ],
        seed=spec.seed,
        runs=spec.replications,
        seed_source=f"derived: the seeds of the search in {policy.path.name}",
    )


OUT_OF_SAMPLE_COLUMNS = (
    "policy",
    "outcome",
    "bound",
    "in_sample",
    "out_of_sample",
    "met_in_sample",
    "met_out_of_sample",
)


def write_optimise_folder(
    folder: Path,
    policy: Policy,
    request: OptimiseRequest,
    evaluations: Evaluations,
    values: np.ndarray,
    feasible: np.ndarray,
    front: np.ndarray,
    chosen: list[Chosen],
    out_of_sample: list[tuple],
) -> None:
    """evaluations.csv, outcomes.csv, pareto.csv, out_of_sample.csv and policy_<k>.toml."""
    header, row = _evaluation_rows(policy, evaluations, values, feasible)
    write_csv(folder / EVALUATIONS_CSV, header, (row(e) for e in range(len(evaluations))))
    _write_outcomes(folder / OUTCOMES_CSV, policy.outcome_names, evaluations)
    policy_of = {c.evaluation: k for k, c in enumerate(chosen, start=1)}
    write_csv(
        folder / PARETO_CSV,
        (*header, "policy"),
        (
            (*row(int(e)), f"policy_{policy_of[int(e)]}" if int(e) in policy_of else "")
            for e in front
        ),
    )
    write_csv(folder / OUT_OF_SAMPLE_CSV, OUT_OF_SAMPLE_COLUMNS, out_of_sample)
    for k, pick in enumerate(chosen, start=1):
        scenario = policy_file(
            policy, k, pick, evaluations.levers[pick.evaluation], values[pick.evaluation]
        )
        (folder / f"policy_{k}.toml").write_text(scenario.text(request.out), encoding="utf-8")


def _evaluation_rows(
    policy: Policy, evaluations: Evaluations, values: np.ndarray, feasible: np.ndarray
) -> tuple[tuple[str, ...], Callable[[int], tuple]]:
    """The header of evaluations.csv (and pareto.csv) and the row of evaluation ``e``:
    its generation, levers, outcomes, each constraint's value and margin, feasibility."""
    spec = policy.spec
    names = policy.outcome_names
    constraint_columns = [
        column for name in spec.constraints for column in (f"{name}:value", f"{name}:margin")
    ]
    header = (
        "evaluation",
        "generation",
        *policy.lever_names,
        *names,
        *constraint_columns,
        "feasible",
    )

    def row(e: int) -> tuple:
        cells: list[Any] = []
        for name, bound in spec.constraints.items():
            value = float(values[e, names.index(name)])
            cells += [value, -float(bound.violation(value))]
        return (
            e,
            evaluations.generation[e],
            *map(float, evaluations.levers[e]),
            *map(float, values[e]),
            *cells,
            int(feasible[e]),
        )

    return header, row


def _write_outcomes(path: Path, names: list[str], evaluations: Evaluations) -> None:
    """outcomes.csv: every statistic of every outcome per evaluation."""
    write_csv(
        path,
        ("evaluation", "outcome", *STATS),
        (
            (e, name, *map(float, evaluations.stats[e][o]))
            for e in range(len(evaluations))
            for o, name in enumerate(names)
        ),
    )


def describe_optimise(folder: Path) -> str:
    """The chosen policies with their levers, and every constraint in and out of sample."""
    import pandas as pd

    manifest = read_manifest(folder, KIND)
    pareto = pd.read_csv(folder / PARETO_CSV, keep_default_na=False)
    checks = pd.read_csv(folder / OUT_OF_SAMPLE_CSV, keep_default_na=False)
    levers = list(manifest["levers"])
    lines = [
        f"{manifest['evaluations']} evaluations × {manifest['replications']} runs "
        f"({manifest['algorithm']}); {len(pareto)} on the feasible front"
    ]
    for _, row in pareto[pareto["policy"] != ""].iterrows():
        policy = row["policy"]
        lines.append(f"{policy} (evaluation {row['evaluation']}): {folder.name}/{policy}.toml")
        lines.append("  levers: " + ", ".join(f"{name} = {row[name]:.4g}" for name in levers))
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
            )
    return "\n".join(lines)
