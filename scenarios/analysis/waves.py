"""History matching in waves (Vernon et al. 2010; Andrianakis et al. 2015): each wave draws
a new design inside the region the previous wave did not rule out.

Vernon and Andrianakis refocus with emulators: each wave's not-ruled-out region is the set
of inputs whose *emulated* implausibility is within the cutoff, and the next design is
drawn from it by rejection. Without an emulator the simplest sound stand-in is a box, one
interval per input in the input's own units (a ``scale`` input: its factor):

- it spans the previous wave's not-ruled-out points (their smallest and largest value of
  each input),
- widened on each side by the previous design's spacing along that input (its box width
  over the gaps between its distinct values: one Latin-hypercube stratum, one grid step),
  because the region not ruled out reaches past its outermost sampled points by up to one
  spacing, and a box of the points alone would shrink it wave after wave (one point left
  would collapse the next design onto it),
- clipped to the previous wave's box (wave 1's is each input's declared range), so the
  boxes are nested as the not-ruled-out regions are in Vernon et al.

The new design is the experiment's own design kind, of the same size, with its own seed
(:func:`wave_seed`), drawn in the unit cube and mapped into the box through each input's
distribution truncated to the box: a uniform input stays uniform on the box, a triangular
or normal one keeps its shape there.

A point is ruled out when it is ruled out in its own wave (its implausibility over the
observations used exceeds the cutoff); the final not-ruled-out set is the last wave's
not-ruled-out points. Earlier waves only choose where the later ones look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.analysis.sensitivity import (
    DesignPoints,
    shaped_distribution,
    to_values,
    unit_sample,
)
from scenarios.config.experiment import Experiment
from scenarios.config.study_file import Parameter


@dataclass(frozen=True)
class Box:
    """One interval per input: ``low[j] <= x[j] <= high[j]``, in the inputs' own units."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def declared(cls, specs: Sequence[Parameter]) -> Box:
        """Every input's declared range (wave 1's box)."""
        return cls(
            np.array([s.bounds[0] for s in specs], dtype=float),
            np.array([s.bounds[1] for s in specs], dtype=float),
        )


def wave_seed(seed: int, wave: int) -> int:
    """The design seed of ``wave``: the experiment's ``seed`` for wave 1 (its own design),
    else a number derived from the seed and the wave (numpy's ``SeedSequence``), so every
    wave draws afresh and the same file always draws the same waves."""
    if wave == 1:
        return seed
    return int(np.random.SeedSequence([seed, wave]).generate_state(1)[0])


def spacing(values: np.ndarray, box: Box) -> np.ndarray:
    """Per input, the design's spacing: the box's width over the gaps between the distinct
    values the design's points take along that input (the width itself for one value)."""
    gaps = np.array(
        [max(1, len(np.unique(values[:, j])) - 1) for j in range(values.shape[1])], dtype=float
    )
    return (box.high - box.low) / gaps


def refocused_box(values: np.ndarray, kept: np.ndarray, box: Box) -> Box:
    """The next wave's box from this wave's design ``values`` (points × inputs), the mask of
    its points not ruled out ``kept`` (at least one) and its ``box`` (see the module)."""
    if not kept.any():
        raise ValueError("no point is left to refocus on")
    margin = spacing(values, box)
    low = np.maximum(values[kept].min(axis=0) - margin, box.low)
    high = np.minimum(values[kept].max(axis=0) + margin, box.high)
    return Box(low, high)


def cdf(values: np.ndarray, specs: Sequence[Parameter]) -> np.ndarray:
    """Each input's distribution function on its declared range at ``values`` (rows ×
    inputs): the inverse of :func:`scenarios.analysis.sensitivity.to_values`."""
    unit = np.empty_like(values, dtype=float)
    for j, spec in enumerate(specs):
        low, high = spec.bounds
        x = values[:, j]
        if spec.distribution == "uniform":
            unit[:, j] = (x - low) / (high - low)
        else:
            unit[:, j] = shaped_distribution(spec).cdf(x)
    return np.clip(unit, 0.0, 1.0)


def unit_in_box(unit: np.ndarray, box: Box, specs: Sequence[Parameter]) -> np.ndarray:
    """A design's unit-cube points squeezed into the part of the cube that the inputs'
    distributions map onto ``box``; mapped by ``to_values`` they fall inside the box."""
    low = cdf(box.low[np.newaxis, :], specs)[0]
    high = cdf(box.high[np.newaxis, :], specs)[0]
    return low + unit * (high - low)


def sample_wave_design(experiment: Experiment, wave: int, box: Box) -> DesignPoints:
    """Wave ``wave``'s design: the experiment's design kind and size, drawn with
    :func:`wave_seed` and mapped into ``box`` (see the module). Its ``unit`` is the design
    in the unit cube before it is squeezed into the box."""
    spec = experiment.spec
    specs = [i.spec for i in experiment.inputs]
    unit = unit_sample(
        spec.design, experiment.input_names, spec.samples, wave_seed(spec.seed, wave), spec.levels
    )
    values = np.clip(to_values(unit_in_box(unit, box, specs), specs), box.low, box.high)
    return DesignPoints(unit, values, [experiment.overrides(row) for row in values])
