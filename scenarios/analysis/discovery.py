"""Scenario discovery: under which input conditions does an outcome cross a threshold?

This wraps the PRIM implementation of the EMA Workbench (BSD-3,
``ema_workbench.analysis.prim``): it peels the input box towards the points of
interest, step by step trading coverage (the share of all points of interest
inside the box) for density (the share of points inside the box that are of
interest). The chosen box is the step with the largest coverage among those at
least ``min_density`` dense (the densest step if none is).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.config.experiment import Discover
from scenarios.core.lazy import pandas as pd


@dataclass(frozen=True)
class PeelingStep:
    """One box of the peeling trajectory."""

    index: int
    coverage: float
    density: float
    mass: float
    """The share of all points inside the box."""
    restricted: int
    """How many inputs the box restricts."""
    limits: dict[str, tuple[float, float]]
    """Input → (low, high) of the box."""


@dataclass(frozen=True)
class Discovery:
    """The peeling trajectory, the chosen step, and how many points were of interest."""

    steps: tuple[PeelingStep, ...]
    chosen: int
    of_interest: int
    points: int
    note: str = ""

    @property
    def box(self) -> PeelingStep | None:
        """The chosen box (``None`` when PRIM had nothing to find)."""
        return self.steps[self.chosen] if self.steps else None


NEGLIGIBLE_CUT = 0.02
"""A box that keeps all but less than this share of an input's sampled range does not
restrict it (trimming the gap between the outermost sample and the range's edge restricts
nothing a reader can act on)."""
Restriction = tuple[str, float, float, float, float]
"""(input, box low, box high, sampled low, sampled high)."""


def cut_share(low: float, high: float, full_low: float, full_high: float) -> float:
    """The share of the sampled range ``[full_low, full_high]`` that ``[low, high]`` leaves
    out."""
    width = full_high - full_low
    if not width > 0:
        return 0.0
    kept = max(0.0, min(high, full_high) - max(low, full_low))
    return 1.0 - kept / width


def real_restrictions(restricted: Sequence[Restriction]) -> list[Restriction]:
    """The restrictions that leave out at least ``NEGLIGIBLE_CUT`` of an input's range."""
    return [r for r in restricted if cut_share(*r[1:]) >= NEGLIGIBLE_CUT]


def of_interest(y: np.ndarray, condition: Discover) -> np.ndarray:
    """Which points meet the ``[discover]`` condition."""
    if condition.above is not None:
        return y > condition.above
    assert condition.below is not None
    return y < condition.below


def _prim_module():  # type: ignore[no-untyped-def]
    """``ema_workbench.analysis.prim``, imported quietly (it warns about optional extras)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.ERROR)
        from ema_workbench.analysis import prim

    return prim


def _whole_box(values: np.ndarray, names: Sequence[str], hits: np.ndarray, note: str) -> Discovery:
    """The one step of a box holding every point, with why nothing was peeled."""
    count = int(hits.sum())
    whole = {n: (float(values[:, j].min()), float(values[:, j].max())) for j, n in enumerate(names)}
    share = count / len(hits) if len(hits) else 0.0
    step = PeelingStep(0, 1.0 if count else 0.0, share, 1.0, 0, whole)
    return Discovery((step,), 0, count, len(hits), note)


def discover(
    values: np.ndarray, names: Sequence[str], y: np.ndarray, condition: Discover
) -> Discovery:
    """Run PRIM on the points (``values``: one row per point) for the ``condition``."""
    hits = of_interest(y, condition)
    count = int(hits.sum())
    if count == 0 or count == len(hits):
        what = "no point is" if count == 0 else "every point is"
        return _whole_box(values, names, hits, f"{what} of interest; nothing to peel")
    prim = _prim_module()
    frame = pd.DataFrame(np.asarray(values, dtype=float), columns=list(names))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            algorithm = prim.Prim(frame, hits, threshold=condition.min_density)
            box = algorithm.find_box()
    except Exception as exc:  # after every run is done, a failed peel must not lose them
        return _whole_box(values, names, hits, f"PRIM failed: {type(exc).__name__}: {exc}")
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    steps = []
    for i in range(len(trajectory)):
        lims = box.box_lims[i]
        steps.append(
            PeelingStep(
                i,
                float(trajectory["coverage"][i]),
                float(trajectory["density"][i]),
                float(trajectory["mass"][i]),
                int(trajectory["res_dim"][i]),
                {n: (float(lims[n].iloc[0]), float(lims[n].iloc[1])) for n in names},
            )
        )
    dense = [s for s in steps if s.density >= condition.min_density]
    chosen = (
        max(dense, key=lambda s: (s.coverage, -s.index))
        if dense
        else max(steps, key=lambda s: (s.density, s.coverage))
    )
    note = "" if dense else f"no box reaches density {condition.min_density}; the densest is chosen"
    return Discovery(tuple(steps), chosen.index, count, len(hits), note)
