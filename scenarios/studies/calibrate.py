"""The calibration tables of an explore folder, and its best point as a scenario file.

- ``calibration.csv``: one row per observation: what was observed, whether it was
  held out, and the mean and implausibility at the best point and at the base.
- ``not_ruled_out.csv``: the points whose largest implausibility over the
  observations used is within the cutoff, with their inputs, best first.
- ``calibrated.toml``: the best point, extending the base scenario, its values
  labelled ``derived: calibrated against <observations>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scenarios.analysis.calibration import BASE_POINT, CalibrationResult, implausibility
from scenarios.config.observations import Target
from scenarios.config.scenario_file import ScenarioFile, point_scenario
from scenarios.folders.tables import write_csv
from simulator.outcomes import STATS

if TYPE_CHECKING:
    from scenarios.config.experiment import Experiment
    from scenarios.studies.explore import Design

CALIBRATION_CSV = "calibration.csv"
NOT_RULED_OUT_CSV = "not_ruled_out.csv"
CALIBRATED_TOML = "calibrated.toml"


def write_calibration(
    folder: Path, final: Path, experiment: Experiment, design: Design, stats: np.ndarray
) -> CalibrationResult:
    """Score every point (and the base, the last row of ``stats``) and write the files into
    ``folder`` (staging for the results folder ``final``, which ``extends`` is relative to)."""
    calibrate = experiment.spec.calibrate
    assert calibrate is not None
    targets = list(experiment.targets)
    result = CalibrationResult(
        targets, implausibility(targets, stats, calibrate.tolerance), calibrate.cutoff
    )
    _write_targets(folder / CALIBRATION_CSV, targets, result, stats, base=len(design.overrides))
    _write_not_ruled_out(folder / NOT_RULED_OUT_CSV, experiment, design, result)
    (folder / CALIBRATED_TOML).write_text(
        calibrated_file(experiment, design, result).text(final),
        encoding="utf-8",
    )
    return result


def _write_targets(
    path: Path,
    targets: list[Target],
    result: CalibrationResult,
    stats: np.ndarray,
    base: int,
) -> None:
    """calibration.csv: per observation, the ensemble mean and implausibility at the best
    point and at the base (row ``base`` of ``stats``)."""
    best = result.best
    mean = stats[:, :, STATS.index("mean")]
    write_csv(
        path,
        (
            "observation",
            "observed",
            "held_out",
            "mean_at_best",
            "implausibility_at_best",
            "mean_at_base",
            "implausibility_at_base",
            "source",
        ),
        (
            (
                t.name,
                t.observed(),
                int(t.held_out),
                float(mean[best, j]),
                float(result.values[best, j]),
                float(mean[base, j]),
                float(result.values[base, j]),
                t.observation.source,
            )
            for j, t in enumerate(targets)
        ),
    )


def _write_not_ruled_out(
    path: Path, experiment: Experiment, design: Design, result: CalibrationResult
) -> None:
    """not_ruled_out.csv: the points not ruled out, the most plausible first (by largest,
    then mean implausibility, then point)."""
    kept = np.flatnonzero(result.not_ruled_out)
    order = kept[np.lexsort((kept, result.mean[kept], result.largest[kept]))]
    held = ~result.used
    write_csv(
        path,
        (
            "point",
            *experiment.input_names,
            "largest_implausibility",
            "mean_implausibility",
            "largest_held_out_implausibility",
        ),
        (
            (
                int(p),
                *map(float, design.values[p]),
                float(result.largest[p]),
                float(result.mean[p]),
                float(result.values[p, held].max()) if held.any() else "",
            )
            for p in order
        ),
    )


def calibrated_file(
    experiment: Experiment, design: Design, result: CalibrationResult
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


def describe_calibration(folder: Path) -> list[str]:
    """Terminal lines: points kept, the best, and the held-out check."""
    import pandas as pd

    table = pd.read_csv(folder / CALIBRATION_CSV, keep_default_na=False)
    kept = pd.read_csv(folder / NOT_RULED_OUT_CSV)
    used = table[table["held_out"] == 0]
    lines = [
        f"calibration: {len(kept)} points not ruled out on {len(used)} observations; "
        f"the best point's largest implausibility {used['implausibility_at_best'].max():.3g} "
        f"(the {BASE_POINT} scenario: {used['implausibility_at_base'].max():.3g}) -> "
        f"{folder.name}/{CALIBRATED_TOML}"
    ]
    for _, row in table[table["held_out"] == 1].iterrows():
        lines.append(
            f"  held out {row['observation']} (observed {row['observed']}): "
            f"{float(row['mean_at_best']):.4g} calibrated (I = {float(row['implausibility_at_best']):.2f}), "
            f"{float(row['mean_at_base']):.4g} uncalibrated (I = {float(row['implausibility_at_base']):.2f})"
        )
    return lines
