"""An experiment's calibration (its ``[calibrate]`` table): which points the observations
rule out, wave by wave (:mod:`scenarios.studies.history_match`), the final not-ruled-out
parameter sets, and the best one as a scenario file.

Written into the explore folder (:mod:`scenarios.folders.explore_folder`):
``calibration.csv``, ``not_ruled_out.csv``, ``waves.csv``, ``parameter_sets.csv`` (the last
wave's not-ruled-out points, the best first) and ``calibrated.toml`` (the best point of the
last wave, extending the base scenario, its values labelled ``derived: calibrated against
<observations>``).
"""

from __future__ import annotations

from pathlib import Path

from scenarios.config.experiment import Experiment
from scenarios.config.scenario_file import ScenarioFile, point_scenario
from scenarios.folders import explore_folder
from scenarios.folders.explore_folder import PARAMETER_SETS_CSV, WaveRow
from scenarios.studies.history_match import HistoryMatch, Wave

PARAMETER_SETS_KEY = "parameter_sets"
"""The top-level key by which ``calibrated.toml`` names its parameter sets."""


def calibrate(folder: Path, final: Path, experiment: Experiment, match: HistoryMatch) -> None:
    """Write the calibration files of ``match`` (its waves) into ``folder`` (staging for the
    results folder ``final``, which ``calibrated.toml`` extends from)."""
    last = match.final
    explore_folder.write_calibration_tables(
        folder,
        list(experiment.targets),
        last.result,
        last.stats,
        last.number,
        experiment.input_names,
        [WaveRow(w.number, w.result, w.design.values) for w in match.waves],
    )
    explore_folder.write_waves(
        folder,
        experiment.input_names,
        [
            (w.number, w.seed, len(w.design.values), w.kept, w.box.low, w.box.high)
            for w in match.waves
        ],
        match.stopped,
    )
    explore_folder.write_parameter_sets(folder, parameter_sets(experiment, last))
    scenario = calibrated_file(experiment, match)
    explore_folder.write_calibrated_scenario(folder, scenario, final)


def parameter_sets(experiment: Experiment, wave: Wave) -> list[dict[str, object]]:
    """The concrete config overrides of ``wave``'s points not ruled out, the most plausible
    first (set 0 is the best point)."""
    return [wave.design.overrides[p] for p in explore_folder.plausible_order(wave.result)]


def calibrated_file(experiment: Experiment, match: HistoryMatch) -> ScenarioFile:
    """The best point of the final wave as a scenario that extends the experiment's base
    (naming the final wave's parameter sets, when any were kept)."""
    spec = experiment.spec
    assert spec.calibrate is not None
    wave = match.final
    result, design = wave.result, wave.design
    best = result.best
    observations = Path(spec.calibrate.observations).name
    used = int(result.used.sum())
    where = f"point {best} of {len(design.overrides)}"
    if spec.calibrate.waves > 1:
        where += f" in wave {wave.number}"
    label = (
        f"derived: calibrated against {observations} with {experiment.path.name} ({where}: "
        f"largest implausibility {result.largest[best]:.3f} over "
        f"{used} observations; {spec.replications} runs a point)"
    )
    held = [t.name for t in result.targets if t.held_out]
    scenario = point_scenario(
        experiment,
        design.values[best],
        name=f"{spec.name}_calibrated",
        description=f"The base scenario calibrated against {observations} ({spec.name}).",
        label=label,
        comments=[
            f"Written by clusterfund explore {experiment.path.name}: the best of "
            f"{len(design.overrides)} points"
            + (f" of wave {wave.number}" if spec.calibrate.waves > 1 else "")
            + f" against {observations}.",
            f"Largest implausibility {result.largest[best]:.3f} (the base: "
            f"{result.largest[-1]:.3f}); held out: {', '.join(held) or 'none'}.",
        ],
    )
    if not wave.kept:
        return scenario
    return ScenarioFile(
        base=scenario.base,
        name=scenario.name,
        description=scenario.description,
        values={**scenario.values, PARAMETER_SETS_KEY: PARAMETER_SETS_CSV},
        sources={
            **scenario.sources,
            PARAMETER_SETS_KEY: f"derived: not ruled out in wave {wave.number} of "
            f"{experiment.path.name} against {observations} "
            f"(fit_until {spec.calibrate.fit_until})",
        },
        comments=scenario.comments,
    )
