"""Experiment designs as an experiment file names them: how many points each makes, and the
least size at which its sensitivity analysis (SALib's, in :mod:`scenarios.analysis.sensitivity`)
is defined, with the reason."""

from __future__ import annotations

from typing import Literal

Design = Literal["sobol", "morris", "lhs", "grid"]
"""``sobol`` (Saltelli, first and total order), ``morris`` (elementary effects), ``lhs``
(Latin hypercube, analysed by RBD-FAST) or ``grid`` (full factorial)."""
RBD_FAST_HARMONICS = 10
"""M, the harmonics of the periodogram that SALib's RBD-FAST sums (SALib's default)."""
MINIMUM_SAMPLES = {
    "sobol": (
        2,
        "with N = 1 SALib's bootstrap can only resample the one base point, so every "
        "confidence interval would be 0",
    ),
    "morris": (
        2,
        "sigma is the spread of each input's elementary effects over the trajectories "
        "(one effect per trajectory), undefined for one",
    ),
    "lhs": (
        4 * RBD_FAST_HARMONICS + 4,
        f"RBD-FAST (SALib) sums the first M = {RBD_FAST_HARMONICS} harmonics of a "
        "periodogram that has samples/2 of them, and bootstraps on half the points; "
        f"with fewer than {4 * RBD_FAST_HARMONICS + 4} points it sums every harmonic "
        "(S1 = 1 for every input, CI 0) or divides by zero",
    ),
    "grid": (2, "a grid needs 2 levels per input to vary it at all"),
}
ANALYSIS_ONLY_MINIMUM = frozenset({"lhs"})
"""Designs whose minimum is the sensitivity analysis's alone: a smaller design is still run
(its outcomes and a discovery are useful), with a warning, and its indices are left out."""
ANALYSIS_NAME = {
    "sobol": "Sobol' indices",
    "morris": "Morris screening",
    "lhs": "RBD-FAST",
    "grid": "main effects",
}
"""Design → the smallest ``samples`` whose analysis SALib (or the grid) defines, and why."""


def point_count(design: str, samples: int, inputs: int) -> int:
    """How many points a design has."""
    return {
        "sobol": samples * (inputs + 2),
        "morris": samples * (inputs + 1),
        "lhs": samples,
        "grid": samples**inputs,
    }[design]


SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "sigma", "mu")
GRID_COLUMNS = ("S1",)
LHS_COLUMNS = ("S1", "S1_conf")


def sensitivity_columns(design: str) -> tuple[str, ...]:
    """The index columns a design gives."""
    return {
        "sobol": SOBOL_COLUMNS,
        "morris": MORRIS_COLUMNS,
        "lhs": LHS_COLUMNS,
        "grid": GRID_COLUMNS,
    }[design]


def ranking_column(design: str) -> str:
    """The index that ranks inputs (largest first) for a design."""
    return {"sobol": "ST", "morris": "mu_star", "lhs": "S1", "grid": "S1"}[design]
