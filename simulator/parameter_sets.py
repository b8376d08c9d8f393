"""Parameter sets: one scenario variant per set, and which set each run uses.

A calibration that history-matches the model leaves a set of parameter values not ruled
out, not one best point. A scenario that names them (``parameter_sets``) runs set
``r mod K`` in run ``r``, so every ensemble's spread carries parameter uncertainty as well
as chance, and a run's set follows from its number alone: results do not depend on the
batch, the process or the backend that ran it. Only values a run of a batch can hold for
itself may vary (:data:`PER_RUN_KEYS`, read per run by :class:`simulator.cluster.ClusterBatch`).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from typing import overload

from pydantic import BaseModel, ValidationError

from simulator.scenario import Scenario

PER_RUN_KEYS = (
    "absorption.probability",
    "members.churn",
    "members.first_year_churn",
    "members.join_rate",
    "members.fee_sensitivity",
    "members.value_sensitivity",
    "members.arena_retention",
    "management.private_lag_years",
    "management.max_effort",
    "clusters.*.churn",
    "clusters.*.join_rate",
    "clusters.*.private_income",
    "clusters.*.other_public",
)
"""The keys a run of a batch can hold a value of its own for: a parameter set may give them
a value, and study points that vary only these share batches."""


def is_per_run_key(key: str) -> bool:
    """Whether ``key`` is one a parameter set may set (a cluster id has no dots)."""
    parts = key.split(".")
    patterns = [pattern.split(".") for pattern in PER_RUN_KEYS]
    return any(
        len(parts) == len(pattern)
        and all(fnmatch.fnmatchcase(part, want) for part, want in zip(parts, pattern, strict=True))
        for pattern in patterns
    )


def per_run_value(scenario: Scenario, key: str) -> float:
    """The value of a :data:`PER_RUN_KEYS` key (a concrete one) in ``scenario``."""
    parts = key.split(".")
    if parts[0] == "clusters":
        return getattr(scenario.clusters[parts[1]], parts[2])
    return getattr(getattr(scenario, parts[0]), parts[1])


def with_values(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """``scenario`` with the per-run ``values`` (keys of :data:`PER_RUN_KEYS`) put in, without
    re-validating the rest (each value is checked by :func:`set_problems`)."""
    tables: dict[str, dict[str, float]] = {}
    clusters: dict[str, dict[str, float]] = {}
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] == "clusters":
            clusters.setdefault(parts[1], {})[parts[2]] = value
        else:
            tables.setdefault(parts[0], {})[parts[1]] = value
    update: dict[str, object] = {
        table: getattr(scenario, table).model_copy(update=changes)
        for table, changes in tables.items()
    }
    if clusters:
        update["clusters"] = {
            cid: cluster.model_copy(update=clusters[cid]) if cid in clusters else cluster
            for cid, cluster in scenario.clusters.items()
        }
    return scenario.model_copy(update=update)


class SetVariants(Sequence[Scenario]):
    """One variant of a scenario per parameter set, each made when a run first asks for it
    (a study's point of ten replications needs ten of a calibration's hundreds of sets)."""

    def __init__(self, scenario: Scenario, keep: set[str]) -> None:
        self.scenario = scenario
        self.keep = keep
        self.made: dict[int, Scenario] = {}

    def __len__(self) -> int:
        sets = self.scenario.parameter_sets
        return 0 if sets is None else len(sets.values)

    @overload
    def __getitem__(self, number: int) -> Scenario: ...
    @overload
    def __getitem__(self, number: slice) -> Sequence[Scenario]: ...
    def __getitem__(self, number: int | slice) -> Scenario | Sequence[Scenario]:
        if isinstance(number, slice):
            return [self[i] for i in range(len(self))[number]]
        if number not in self.made:
            sets = self.scenario.parameter_sets
            assert sets is not None
            row = sets.values[number]
            values = {k: v for k, v in zip(sets.keys, row, strict=True) if k not in self.keep}
            self.made[number] = with_values(self.scenario, values)
        return self.made[number]


def set_variants(scenario: Scenario, fixed: Sequence[str] = ()) -> Sequence[Scenario]:
    """One variant of ``scenario`` per parameter set (none when it has no sets), each made
    when first used; keys in ``fixed`` (a study's point) and in the sets' own ``fixed``
    (values the user set after naming the sets) keep the scenario's value."""
    sets = scenario.parameter_sets
    if sets is None:
        return []
    return SetVariants(scenario, set(fixed) | set(sets.fixed))


def run_variants(variants: Sequence[Scenario], runs: Sequence[int]) -> list[Scenario] | None:
    """The variant each of ``runs`` uses (run r: set ``r mod K``); none without sets."""
    if not variants:
        return None
    return [variants[run % len(variants)] for run in runs]


def set_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(where, what) for each parameter-set problem: a key that cannot vary by run or names
    an unknown cluster, a row of the wrong length, a value that is not finite or is outside
    the key's range; ``where`` is ``set N`` or ``header``."""
    sets = scenario.parameter_sets
    if sets is None:
        return []
    problems: list[tuple[str, str]] = []
    if not sets.values:
        problems.append(("rows", "no parameter sets; give at least one row"))
    for key in sets.keys:
        if not is_per_run_key(key):
            problems.append(
                ("header", f"{key} cannot vary by run; a set may give {', '.join(PER_RUN_KEYS)}")
            )
        elif any(char in key for char in "*?["):
            problems.append(("header", f"{key}: a set names one value; give each cluster's key"))
        elif key.startswith("clusters.") and key.split(".")[1] not in scenario.clusters:
            problems.append(("header", f"{key}: unknown cluster '{key.split('.')[1]}'"))
    if problems:
        return problems
    for number, row in enumerate(sets.values):
        if len(row) != len(sets.keys):
            problems.append((f"set {number}", f"{len(row)} values for {len(sets.keys)} keys"))
            continue
        for key, value in zip(sets.keys, row, strict=True):
            problem = _value_problem(scenario, key, value)
            if problem is not None:
                problems.append((f"set {number}", f"{key}: {problem}"))
    return problems


def _value_problem(scenario: Scenario, key: str, value: float) -> str | None:
    """What is wrong with one value of a set (its field's declared range), or None."""
    if not math.isfinite(value):
        return f"{value} is not a finite number"
    parts = key.split(".")
    current: BaseModel
    if parts[0] == "clusters":
        current, field = scenario.clusters[parts[1]], parts[2]
    else:
        current, field = getattr(scenario, parts[0]), parts[1]
    model = type(current)
    try:
        model.model_validate({**current.model_dump(), field: value})
    except ValidationError as exc:
        return f"{value:g}: {exc.errors()[0]['msg'].lower()}"
    return None
