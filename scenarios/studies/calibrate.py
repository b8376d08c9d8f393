"""An experiment's calibration (its ``[calibrate]`` table): which points the observations
rule out (:mod:`scenarios.analysis.calibration`), and the best one as a scenario file.

Written into the explore folder (:mod:`scenarios.folders.explore_folder`):
``calibration.csv``, ``not_ruled_out.csv`` and ``calibrated.toml`` (the best point,
extending the base scenario, its values labelled ``derived: calibrated against
<observations>``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scenarios.analysis.calibration import CalibrationResult, implausibility
from scenarios.analysis.sensitivity import DesignPoints
from scenarios.config.experiment import Experiment
from scenarios.config.scenario_file import ScenarioFile, point_scenario
from scenarios.folders import explore_folder


def calibrate(
    folder: Path, final: Path, experiment: Experiment, design: DesignPoints, stats: np.ndarray
) -> CalibrationResult:
    """Score every point (and the base, the last row of ``stats``: points × targets ×
    ``STATS``) and write the calibration files into ``folder`` (staging for the results
    folder ``final``, which ``calibrated.toml`` extends from)."""
    calibrate = experiment.spec.calibrate
    assert calibrate is not None
    targets = list(experiment.targets)
    result = CalibrationResult(
        targets, implausibility(targets, stats, calibrate.tolerance), calibrate.cutoff
    )
    explore_folder.write_calibration_tables(
        folder, targets, result, stats, experiment.input_names, design.values
    )
    scenario = calibrated_file(experiment, design, result)
    explore_folder.write_calibrated_scenario(folder, scenario, final)
    return result


def calibrated_file(
    experiment: Experiment, design: DesignPoints, result: CalibrationResult
) -> ScenarioFile:
    """The best point as a scenario that extends the experiment's base."""
    spec = experiment.spec
    assert spec.calibrate is not None
    best = result.best
    observations = Path(spec.calibrate.observations).name
    used = int(result.used.sum())
    label = (
        f"derived: calibrated against {observations} with {experiment.path.name} (point {best} "
        f"of {len(design.overrides)}: largest implausibility {result.largest[best]:.3f} over "
        f"{used} observations; {spec.replications} runs a point)"
    )
    held = [t.name for t in result.targets if t.held_out]
    return point_scenario(
        experiment,
        design.values[best],
        name=f"{spec.name}_calibrated",
        description=f"The base scenario calibrated against {observations} ({spec.name}).",
        label=label,
        comments=[
            f"Written by clusterfund explore {experiment.path.name}: the best of "
            f"{len(design.overrides)} points against {observations}.",
            f"Largest implausibility {result.largest[best]:.3f} (the base: "
            f"{result.largest[-1]:.3f}); held out: {', '.join(held) or 'none'}.",
        ],
    )
