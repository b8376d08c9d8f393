"""Calibration with explore: implausibility by hand, a planted truth found, the
calibrated scenario file, and bad [calibrate] tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke

from scenarios.analysis.calibration import implausibility
from scenarios.config.observations import Observation, Target
from scenarios.config.scenario import load_config
from scenarios.engine.points import ScenarioModel
from simulator.outcomes import STATS, Outcome


def target(value: float | None, lower: float | None = None, upper: float | None = None) -> Target:
    observation = Observation(2, "all", 2021, "members", value, lower, upper, "test", "")
    return Target("all:2021:members", observation, Outcome(metric="members", year=2021), False)


def stats(mean: float, sd: float) -> np.ndarray:
    row = np.zeros(len(STATS))
    row[STATS.index("mean")], row[STATS.index("sd")] = mean, sd
    return row.reshape(1, 1, -1)


def test_implausibility_of_a_value_and_of_bounds_by_hand() -> None:
    # |260 - 250| / sqrt(6² + (0.1 · 250)²) = 10 / sqrt(36 + 625)
    assert implausibility([target(250.0)], stats(260.0, 6.0), 0.1)[0, 0] == pytest.approx(
        10 / math.sqrt(661)
    )
    # inside a bound: 0; below a lower bound of 300 by 60, scale 300: 60 / sqrt(16 + 900)
    assert implausibility([target(None, 300.0)], stats(310.0, 4.0), 0.1)[0, 0] == 0.0
    assert implausibility([target(None, 300.0)], stats(240.0, 4.0), 0.1)[0, 0] == pytest.approx(
        60 / math.sqrt(916)
    )
    assert implausibility([target(None, None, 5.0)], stats(7.0, 0.0), 0.1)[0, 0] == pytest.approx(
        2 / 0.5
    )


EXPERIMENT = """
name = "planted"
base = "{base}"
design = "grid"
samples = 5
replications = 4
seed = 3
horizon = 2021

[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: test"

[outcomes.members_2021]
metric = "members"
year = 2021

[calibrate]
observations = "observations.csv"
hold_out = ["packbridge:2021:members"]
fit_until = 2021
tolerance = 0.01
"""


def write_planted_observations(path: Path) -> None:
    """Observations made by the model itself at churn = 0.10: 2021 members of the programme,
    Mobile Heights and Packbridge (4 runs, seed 3)."""
    document = load_config(BASELINE).document
    document["programme"]["horizon"] = 2021
    measured = ("all", "mobile_heights", "packbridge")
    model = ScenarioModel(
        document, tuple(Outcome(metric="members", year=2021, cluster=c) for c in measured)
    )
    truth = model.evaluate({"members.churn": 0.10}, 4, 3).mean(axis=0)
    rows = ["cluster,year,metric,value,lower,upper,source,note"]
    rows += [
        f"{c},2021,members,{float(v)!r},,,test,made by the model"
        for c, v in zip(measured, truth, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_calibration_finds_the_point_the_observations_came_from(tmp_path: Path) -> None:
    """Observations made by the model itself at churn = 0.10 (a grid point) pick it out."""
    write_planted_observations(tmp_path / "observations.csv")
    path = tmp_path / "planted.toml"
    path.write_text(EXPERIMENT.format(base=BASELINE.as_posix()), encoding="utf-8")
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"), "--no-plots")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    kept = pd.read_csv(out / "not_ruled_out.csv")
    assert kept.iloc[0]["members.churn"] == pytest.approx(0.10)
    assert kept.iloc[0]["largest_implausibility"] == pytest.approx(0.0, abs=1e-6)
    assert 0.16 not in set(kept["members.churn"].round(6))  # far from the truth: ruled out
    table = pd.read_csv(out / "calibration.csv").set_index("observation")
    assert table.loc["packbridge:2021:members", "held_out"] == 1
    assert table.loc["packbridge:2021:members", "implausibility_at_best"] == pytest.approx(
        0.0, abs=1e-6
    )
    # the base scenario (churn 0.12) is scored as the uncalibrated reference
    assert table.loc["all:2021:members", "implausibility_at_base"] > 0
    calibrated = load_config(out / "calibrated.toml")
    assert calibrated.scenario.members.churn == pytest.approx(0.10)
    assert calibrated.provenance["members.churn"].startswith(
        "derived: calibrated against observations.csv"
    )
    assert "held out packbridge:2021:members" in result.output


def test_bad_calibrate_tables_name_the_key(tmp_path: Path) -> None:
    (tmp_path / "observations.csv").write_text(
        "cluster,year,metric,value,lower,upper,source,note\npackbridge,2021,members,200,,,t,\n"
    )
    path = tmp_path / "bad.toml"
    text = EXPERIMENT.format(base=BASELINE.as_posix())
    path.write_text(
        text.replace('hold_out = ["packbridge:2021:members"]', 'hold_out = ["x:2021:members"]')
    )
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"{path}: calibrate.hold_out: 'x:2021:members' is no observation" in result.output
    path.write_text(text)  # the only observation held out: nothing to calibrate on
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "none is left to calibrate on" in result.output
    path.write_text(text.replace('observations = "observations.csv"', 'observations = "nope.csv"'))
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "nope.csv: no such file" in result.output
    assert not (tmp_path / "out").exists()
