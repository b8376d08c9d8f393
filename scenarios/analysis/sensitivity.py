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

import numpy as np
from scipy import stats

from scenarios.config.designs import ANALYSIS_NAME, MINIMUM_SAMPLES, RBD_FAST_HARMONICS
from scenarios.config.study_file import Parameter

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "sigma", "mu")
GRID_COLUMNS = ("S1",)
LHS_COLUMNS = ("S1", "S1_conf")
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


def to_values(unit: np.ndarray, specs: Sequence[Parameter]) -> np.ndarray:
    """Map unit-cube points to each input's distribution (column by column)."""
    values = np.empty_like(unit)
    for j, spec in enumerate(specs):
        low, high = spec.bounds
        u = unit[:, j]
        if spec.distribution == "uniform":
            values[:, j] = low + u * (high - low)
        elif spec.distribution == "triangular":
            assert spec.mode is not None
            c = (spec.mode - low) / (high - low)
            values[:, j] = stats.triang.ppf(u, c, loc=low, scale=high - low)
        else:
            assert spec.mean is not None and spec.sd is not None
            a, b = (low - spec.mean) / spec.sd, (high - spec.mean) / spec.sd
            values[:, j] = stats.truncnorm.ppf(u, a, b, loc=spec.mean, scale=spec.sd)
    return np.clip(values, [s.bounds[0] for s in specs], [s.bounds[1] for s in specs])


@dataclass(frozen=True)
class Sensitivity:
    """One outcome's indices: column name → one value per input (NaN when undefined)."""

    columns: tuple[str, ...]
    values: dict[str, np.ndarray]
    note: str = ""
    """Why the indices are missing, when they are."""


def sensitivity_columns(design: str) -> tuple[str, ...]:
    """The index columns a design gives."""
    return {
        "sobol": SOBOL_COLUMNS,
        "morris": MORRIS_COLUMNS,
        "lhs": LHS_COLUMNS,
        "grid": GRID_COLUMNS,
    }[design]


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


def ranking_column(design: str) -> str:
    """The index that ranks inputs (largest first) for a design."""
    return {"sobol": "ST", "morris": "mu_star", "lhs": "S1", "grid": "S1"}[design]
