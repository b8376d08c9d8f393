"""History matching in waves (``[calibrate] waves``): score each wave's design against the
observations, refocus the next design on the region not ruled out, and stop early when a
wave rules out every point (:mod:`scenarios.analysis.waves` says how a wave refocuses).

Wave 1 is the experiment's own design; the base scenario is scored once, with it, as the
uncalibrated reference. The final not-ruled-out set is the last wave's not-ruled-out points;
when a wave rules out every point, the waves stop there and the set of the wave before it is
kept (with wave 1 ruling out everything, no set is left).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scenarios.analysis.calibration import CalibrationResult, implausibility
from scenarios.analysis.sensitivity import DesignPoints
from scenarios.analysis.waves import Box, refocused_box, sample_wave_design, wave_seed
from scenarios.config.experiment import Experiment

WaveRunner = Callable[[int, DesignPoints], np.ndarray]
"""(wave number, its design) → the design's (points, targets, STATS) statistics."""


@dataclass(frozen=True)
class Wave:
    """One wave: the box its design was drawn in, the design, and its points' scores."""

    number: int
    seed: int
    """The seed its design was drawn with."""
    box: Box
    design: DesignPoints
    stats: np.ndarray
    """(points + 1, targets, STATS): the design's points, then the base scenario (scored
    with wave 1)."""
    result: CalibrationResult

    @property
    def kept(self) -> int:
        """How many of its points are not ruled out."""
        return int(self.result.not_ruled_out.sum())


@dataclass(frozen=True)
class HistoryMatch:
    """Every wave run, and why the waves stopped before the number asked for (if they did)."""

    waves: list[Wave]
    stopped: str = ""

    @property
    def final(self) -> Wave:
        """The wave whose not-ruled-out points are the final set: the last one run with any
        (wave 1 when none has)."""
        kept = [w for w in self.waves if w.kept]
        return kept[-1] if kept else self.waves[0]


def score_wave(
    experiment: Experiment, number: int, box: Box, design: DesignPoints, stats: np.ndarray
) -> Wave:
    """A wave's points scored against the experiment's targets (``stats``: the points'
    and then the base's statistics)."""
    calibrate = experiment.spec.calibrate
    assert calibrate is not None
    targets = list(experiment.targets)
    result = CalibrationResult(
        targets, implausibility(targets, stats, calibrate.tolerance), calibrate.cutoff
    )
    return Wave(number, wave_seed(experiment.spec.seed, number), box, design, stats, result)


def history_match(
    experiment: Experiment, first: DesignPoints, first_stats: np.ndarray, run_wave: WaveRunner
) -> HistoryMatch:
    """Wave 1 from the experiment's design ``first`` and its statistics ``first_stats``
    (points, then the base: points + 1 × targets × STATS), then up to ``[calibrate] waves``
    in all, each run by ``run_wave``."""
    calibrate = experiment.spec.calibrate
    assert calibrate is not None
    base = first_stats[-1:]
    box = Box.declared([i.spec for i in experiment.inputs])
    waves = [score_wave(experiment, 1, box, first, first_stats)]
    for number in range(2, calibrate.waves + 1):
        previous = waves[-1]
        if not previous.kept:
            break
        box = refocused_box(previous.design.values, previous.result.not_ruled_out, previous.box)
        design = sample_wave_design(experiment, number, box)
        stats = np.concatenate([run_wave(number, design), base])
        waves.append(score_wave(experiment, number, box, design, stats))
    return HistoryMatch(waves, stop_note(waves, calibrate.waves))


def stop_note(waves: list[Wave], asked: int) -> str:
    """Why the waves ended with a wave that rules out every point ("" when it did not)."""
    last = waves[-1]
    if last.kept:
        return ""
    if last.number == 1:
        more = f"; the {asked - 1} later wave(s) were not run" if asked > 1 else ""
        return f"wave 1 rules out every point: no parameter set is left{more}"
    more = f"; the {asked - last.number} later wave(s) were not run" if asked > last.number else ""
    return (
        f"wave {last.number} rules out every point: the {waves[-2].kept} point(s) not ruled "
        f"out in wave {last.number - 1} are kept{more}"
    )
