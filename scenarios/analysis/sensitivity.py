"""Experiment designs and sensitivity analysis, with SALib.

Points are drawn in the unit hypercube (SALib's Saltelli/Sobol', Morris and
Latin-hypercube samplers, or a full-factorial grid) and mapped to each input's
distribution by its inverse CDF (uniform, triangular, or normal truncated to the
range). Sobol' indices are variance shares, which a monotone map of an input does
not change, so they are computed on the model outputs as SALib defines them;
Morris elementary effects are measured in units of the input's quantile range.

Every analysis gets a fixed seed, so the bootstrap confidence intervals are
the same on every machine, and the outputs are analysed in point order.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scenarios.config.designs import (
    ANALYSIS_NAME,
    MINIMUM_SAMPLES,
    RBD_FAST_HARMONICS,
    ranking_column,
    sensitivity_columns,
)
from scenarios.config.experiment import Experiment
from scenarios.config.study_file import Parameter
from simulator.outcomes import STATS

CONF_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 1000


def _unit_problem(names: Sequence[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def unit_sample(
    design: str, names: Sequence[str], samples: int, seed: int, levels: int = 4
) -> np.ndarray:
    """(points, inputs) in [0, 1]: the design's points before mapping to the inputs."""
    problem = _unit_problem(names)
    if design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    if design == "morris":
        from SALib.sample import morris

        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    if design == "lhs":
        from SALib.sample import latin

        return latin.sample(problem, samples, seed=seed)
    if design == "grid":
        axis = np.linspace(0.0, 1.0, samples)
        return np.array(list(itertools.product(axis, repeat=len(names))), dtype=float)
    raise ValueError(f"unknown design {design!r}")


def shaped_distribution(spec: Parameter) -> Any:
    """A triangular or normal input's distribution on its range (scipy, frozen): the
    triangle with its ``mode``, or the normal truncated to the range."""
    from scipy import stats  # (heavy; only triangular and normal inputs need it)

    low, high = spec.bounds
    if spec.distribution == "triangular":
        assert spec.mode is not None
        return stats.triang((spec.mode - low) / (high - low), loc=low, scale=high - low)
    assert spec.mean is not None and spec.sd is not None
    a, b = (low - spec.mean) / spec.sd, (high - spec.mean) / spec.sd
    return stats.truncnorm(a, b, loc=spec.mean, scale=spec.sd)


def to_values(unit: np.ndarray, specs: Sequence[Parameter]) -> np.ndarray:
    """Map unit-cube points to each input's distribution (column by column)."""
    values = np.empty_like(unit)
    for j, spec in enumerate(specs):
        low, high = spec.bounds
        u = unit[:, j]
        if spec.distribution == "uniform":
            values[:, j] = low + u * (high - low)
        else:
            values[:, j] = shaped_distribution(spec).ppf(u)
    return np.clip(values, [s.bounds[0] for s in specs], [s.bounds[1] for s in specs])


@dataclass(frozen=True)
class Sensitivity:
    """One outcome's indices: column name → one value per input (NaN when undefined)."""

    columns: tuple[str, ...]
    values: dict[str, np.ndarray]
    note: str = ""
    """Why the indices are missing, when they are."""


def analyse(
    design: str,
    names: Sequence[str],
    unit: np.ndarray,
    y: np.ndarray,
    seed: int,
    samples: int,
    levels: int = 4,
) -> Sensitivity:
    """Sensitivity indices of one outcome ``y`` (one value per point, in point order).

    Sobol: first-order and total indices (Saltelli/Jansen estimators) with bootstrap
    CIs; Morris: mu*, its bootstrap CI, sigma and mu; LHS: first-order indices by
    RBD-FAST; grid: the exact first-order variance share of each input's main effect.
    """
    columns = sensitivity_columns(design)
    k = len(names)
    least, _ = MINIMUM_SAMPLES[design]
    if samples < least:
        note = f"too few points for {ANALYSIS_NAME[design]} (at least {least})"
        return Sensitivity(columns, {c: np.full(k, np.nan) for c in columns}, note)
    if not np.all(np.isfinite(y)) or float(np.var(y)) == 0.0:
        note = "outcome is the same at every point" if np.all(np.isfinite(y)) else "non-finite"
        return Sensitivity(columns, {c: np.full(k, np.nan) for c in columns}, note)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # SALib warns on small samples; the CIs say it
            result = _salib_analysis(design, names, unit, y, seed, samples, levels)
    except Exception as exc:  # after every run is done, a failed analysis must not lose them
        note = f"SALib could not analyse it: {type(exc).__name__}: {exc}"
        return Sensitivity(columns, {c: np.full(k, np.nan) for c in columns}, note)
    return Sensitivity(columns, {c: np.asarray(result[c], dtype=float) for c in columns})


def _salib_analysis(
    design: str,
    names: Sequence[str],
    unit: np.ndarray,
    y: np.ndarray,
    seed: int,
    samples: int,
    levels: int,
) -> dict:
    problem = _unit_problem(names)
    if design == "sobol":
        from SALib.analyze import sobol

        result = sobol.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=BOOTSTRAP_RESAMPLES,
            conf_level=CONF_LEVEL,
            seed=seed,
        )
    elif design == "morris":
        from SALib.analyze import morris

        result = morris.analyze(
            problem,
            unit,
            y,
            num_resamples=BOOTSTRAP_RESAMPLES,
            conf_level=CONF_LEVEL,
            num_levels=levels,
            seed=seed,
        )
    elif design == "lhs":
        from SALib.analyze import rbd_fast

        result = rbd_fast.analyze(
            problem, unit, y, M=RBD_FAST_HARMONICS, conf_level=CONF_LEVEL, seed=seed
        )
    else:
        result = {"S1": grid_main_effects(unit, y, samples)}
    return result


def grid_main_effects(unit: np.ndarray, y: np.ndarray, levels: int) -> np.ndarray:
    """Var(E[y | x_i]) / Var(y) for each input of a full-factorial grid."""
    total = float(np.var(y))
    shares = []
    for j in range(unit.shape[1]):
        level = np.rint(unit[:, j] * (levels - 1)).astype(int)
        means = np.array([y[level == i].mean() for i in range(levels)])
        shares.append(float(np.var(means)) / total)
    return np.array(shares)


@dataclass(frozen=True)
class DesignPoints:
    """An experiment's points: unit-cube coordinates, the inputs' values and each point's
    config overrides."""

    unit: np.ndarray
    values: np.ndarray
    overrides: list[dict[str, Any]]


def sample_design(experiment: Experiment) -> DesignPoints:
    """Sample the experiment's design and map it to values and config overrides."""
    spec = experiment.spec
    unit = unit_sample(spec.design, experiment.input_names, spec.samples, spec.seed, spec.levels)
    values = to_values(unit, [i.spec for i in experiment.inputs])
    return DesignPoints(unit, values, [experiment.overrides(row) for row in values])


def chosen_stat(experiment: Experiment, stats: np.ndarray, outcome: str) -> np.ndarray:
    """One value per point: the outcome's chosen statistic over replications (``stats``:
    points × outcomes × ``STATS``)."""
    o = experiment.outcome_names.index(outcome)
    return stats[:, o, STATS.index(experiment.spec.outcomes[outcome].stat)]


def sensitivity_table(
    experiment: Experiment, design: DesignPoints, stats: np.ndarray
) -> list[tuple[Any, ...]]:
    """One row per outcome × input: the outcome, its statistic, the input, the design's
    index columns (:func:`scenarios.config.designs.sensitivity_columns`; empty where
    undefined), the input's rank for the outcome (1 = most influential) and a note."""
    spec = experiment.spec
    names = experiment.input_names
    columns = sensitivity_columns(spec.design)
    rows: list[tuple[Any, ...]] = []
    for outcome in experiment.outcome_names:
        y = chosen_stat(experiment, stats, outcome)
        result = analyse(spec.design, names, design.unit, y, spec.seed, spec.samples, spec.levels)
        rank_by = result.values[ranking_column(spec.design)]
        order = np.argsort(-np.nan_to_num(rank_by, nan=-np.inf), kind="stable")
        ranks = np.empty(len(names), dtype=int)
        ranks[order] = np.arange(1, len(names) + 1)
        for j, name in enumerate(names):
            cells = [_cell(result.values[c][j]) for c in columns]
            rows.append(
                (outcome, spec.outcomes[outcome].stat, name, *cells, int(ranks[j]), result.note)
            )
    return rows


def _cell(value: float) -> float | str:
    return "" if not np.isfinite(value) else float(value)
