"""The optimise folder: its file names, its records, its writers and its reader.

- ``evaluations.csv``: every candidate (generation, levers, each outcome's chosen
  statistic, each constraint's value and margin, feasible);
- ``outcomes.csv``: every statistic of every outcome per evaluation;
- ``pareto.csv``: the feasible non-dominated candidates, the chosen ones named;
- ``out_of_sample.csv``: each chosen policy re-run on fresh seeds, beside the base scenario
  as planned (no lever moved) on the same seeds (``plan``) and the difference
  (``against_plan``): what the policy costs or saves against the plan;
- ``policy_<k>.toml``: each chosen policy as a scenario that extends the policy's base
  scenario with the chosen lever values (and the policy file's ``fixed`` keys), labelled
  ``derived: optimise <file> ...``, with the search's ``seed`` and ``runs``, so ``clusterfund
  run policy_<k>.toml`` repeats the optimiser's runs exactly;
- ``search.npy``: every evaluation's levers and statistics, exactly (``--resume`` with a
  larger ``--budget`` extends a finished search from it);
- ``manifest.json`` (kind ``optimise``) and ``plots/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.config.policy import Policy
from scenarios.config.scenario_file import ScenarioFile, point_scenario
from scenarios.core.lazy import pandas as pd
from scenarios.folders.checks import OPTIMISE_KIND
from scenarios.folders.manifest import job_source_fields, read_manifest, write_job_manifest
from scenarios.folders.tables import write_csv
from simulator.outcomes import STATS

EVALUATIONS_CSV = "evaluations.csv"
OUTCOMES_CSV = "outcomes.csv"
"""Every statistic of every outcome per evaluation (the contract's outcomes.csv)."""
PARETO_CSV = "pareto.csv"
OUT_OF_SAMPLE_CSV = "out_of_sample.csv"
SEARCH_NPY = "search.npy"
KIND = OPTIMISE_KIND


@dataclass
class Evaluations:
    """Every candidate evaluated so far, in evaluation order."""

    levers: list[np.ndarray] = field(default_factory=list)
    stats: list[np.ndarray] = field(default_factory=list)
    """(outcomes, 5) per candidate: mean, P10, P50, P90, sd over replications."""
    generation: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.levers)


@dataclass(frozen=True)
class Chosen:
    """A policy picked from the evaluations, with why."""

    evaluation: int
    role: str
    """``cheapest feasible``, ``knee``, or ``best <objective>``."""


def search_rows(evaluations: Evaluations) -> np.ndarray:
    """Every evaluation as the work folder saves it: its levers, then its statistics."""
    return np.array(
        [
            np.concatenate([levers, stats.reshape(-1)])
            for levers, stats in zip(evaluations.levers, evaluations.stats, strict=True)
        ]
    )


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
    "plan",
    "against_plan",
)


def write_optimise_folder(
    folder: Path,
    final: Path,
    policy: Policy,
    evaluations: Evaluations,
    values: np.ndarray,
    feasible: np.ndarray,
    front: np.ndarray,
    chosen: list[Chosen],
    out_of_sample: list[tuple],
) -> None:
    """evaluations.csv, outcomes.csv, pareto.csv, out_of_sample.csv, policy_<k>.toml (for
    the results folder ``final``, which they extend from) and search.npy, into ``folder``."""
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
        (folder / f"policy_{k}.toml").write_text(scenario.text(final), encoding="utf-8")
    np.save(folder / SEARCH_NPY, search_rows(evaluations))


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


def write_optimise_manifest(
    folder: Path,
    policy: Policy,
    evaluations: int,
    budget: int,
    *,
    fingerprint: str,
    out_of_sample_seed: int,
    backend: str,
) -> dict[str, Any]:
    """``manifest.json`` of an optimise folder (``fingerprint``: what ``--resume`` must
    match; ``backend``: where the candidates ran)."""
    spec = policy.spec
    fields = {
        **job_source_fields(
            "policy",
            spec,
            policy.path,
            policy.base.files if policy.base else [],
            policy.document,
        ),
        "evaluations": evaluations,
        "budget": budget,
        "replications": spec.replications,
        "seed": spec.seed,
        "out_of_sample_seed": out_of_sample_seed,
        "horizon": policy.document.get("programme", {}).get("horizon"),
        "levers": {
            lever.name: {"keys": list(lever.keys), "range": list(lever.spec.bounds)}
            for lever in policy.levers
        },
        "algorithm": "GA" if len(spec.objective.names) == 1 else "NSGA-II",
        "fingerprint": fingerprint,
        "backend": backend,
        "base_config": policy.document,
    }
    return write_job_manifest(folder, KIND, fields, ("pymoo", "dask", "distributed"))


@dataclass
class OptimiseFolder:
    """A finished optimise folder: its manifest and tables."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: Path, command: str | None = None) -> OptimiseFolder:
        """Open an optimise folder, refusing anything that is not one (naming what it is,
        and what ``command`` takes, when it is a folder of another kind)."""
        return cls(path, read_manifest(path, KIND, command))

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def lever_labels(self) -> dict[str, str]:
        """Lever key → the ``label`` the policy file gives it (where it does)."""
        levers = self.manifest.get("policy", {}).get("levers", {})
        return {key: str(p["label"]) for key, p in levers.items() if p.get("label")}

    @cached_property
    def evaluations(self) -> pd.DataFrame:
        """``evaluations.csv``: every candidate."""
        return pd.read_csv(self.path / EVALUATIONS_CSV)

    @cached_property
    def pareto(self) -> pd.DataFrame:
        """``pareto.csv``: the feasible front, the chosen policies named (else empty text)."""
        return pd.read_csv(self.path / PARETO_CSV, keep_default_na=False)

    @cached_property
    def out_of_sample(self) -> pd.DataFrame:
        """``out_of_sample.csv``: each chosen policy's outcomes on fresh seeds."""
        return pd.read_csv(self.path / OUT_OF_SAMPLE_CSV, keep_default_na=False)


def read_search(folder: Path) -> np.ndarray:
    """A finished search's evaluations as saved (``search.npy``: levers, then statistics);
    ``OSError`` or ``ValueError`` when the folder holds none."""
    return np.load(folder / SEARCH_NPY, allow_pickle=False)
