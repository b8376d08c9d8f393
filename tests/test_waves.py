"""History matching in waves: a planted truth recovered, each wave drawn inside what the
wave before it left, plans and figures after fit_until never read, byte-identical across
--jobs and resume, early stops, and bad ``waves`` values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke
from test_explore import StopsAfter

from scenarios.analysis.sensitivity import sample_design
from scenarios.config.experiment import Calibrate, Experiment, ExperimentSpec, load_experiment
from scenarios.config.observations import Observation, Target
from scenarios.config.scenario import load_config
from scenarios.config.study_file import Parameter, ResolvedParameter
from scenarios.engine.points import PointFailed, ScenarioModel
from scenarios.studies.explore import ExploreRequest, execute_explore
from scenarios.studies.history_match import history_match
from simulator.outcomes import Outcome, summarise_replications

# --- the waves' logic on an analytic model: y_i = x_i, observed at TRUTH -----------------

TRUTH = {"x1": 0.3, "x2": 0.6}
TOLERANCE = 0.05  # with scale 1 and no noise: not ruled out within 3 · 0.05 of the truth


def analytic(tmp_path: Path, waves: int, observed: dict[str, float] = TRUTH) -> Experiment:
    """An experiment over x1, x2 in [0, 1] whose targets observe y1 = x1 and y2 = x2."""
    uncertain = {n: Parameter(range=(0.0, 1.0), source="assumed: test") for n in TRUTH}
    spec = ExperimentSpec(
        name="waves",
        base="-",
        design="lhs",
        samples=30,
        replications=1,
        seed=5,
        uncertain=uncertain,
        outcomes={"y1": Outcome(metric="y1", year=2017)},
        calibrate=Calibrate(observations="obs.csv", tolerance=TOLERANCE, waves=waves),
    )
    inputs = tuple(ResolvedParameter(n, u, (n,), (None,), (False,)) for n, u in uncertain.items())
    targets = tuple(
        Target(
            f"all:2017:{name}",
            Observation(2, "all", 2017, name, value, None, None, "test", ""),
            Outcome(metric=name, year=2017),
            False,
        )
        for name, value in observed.items()
    )
    return Experiment(tmp_path / "waves.toml", spec, None, {}, inputs, targets)


class Identity:
    """Outcome y1 = x1, then the targets y1 = x1 and y2 = x2 (the base: 0.5, 0.5)."""

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        x1, x2 = overrides.get("x1", 0.5), overrides.get("x2", 0.5)
        return np.tile([x1, x1, x2], (replications, 1))


def stats_of(overrides: list[dict[str, Any]]) -> np.ndarray:
    """(points, targets, STATS) of the identity model's targets."""
    return np.stack([summarise_replications(Identity().evaluate(o, 1, 0))[1:] for o in overrides])


def test_each_wave_draws_inside_what_the_wave_before_it_left(tmp_path: Path) -> None:
    experiment = analytic(tmp_path, waves=3)
    first = sample_design(experiment)
    seen = {}

    def run_wave(number: int, design: Any) -> np.ndarray:
        seen[number] = design
        return stats_of(design.overrides)

    match = history_match(
        experiment, first, stats_of([*first.overrides, {}]), run_wave
    )  # the base last
    assert [w.number for w in match.waves] == [1, 2, 3] and sorted(seen) == [2, 3]
    truth = np.array(list(TRUTH.values()))
    for previous, wave in zip(match.waves, match.waves[1:], strict=False):
        kept = previous.design.values[previous.result.not_ruled_out]
        assert len(kept) > 0
        # one LHS stratum of the previous box at most beyond its surviving points
        stratum = (previous.box.high - previous.box.low) / (len(previous.design.values) - 1)
        values = seen[wave.number].values
        assert np.all(values >= kept.min(axis=0) - stratum - 1e-12)
        assert np.all(values <= kept.max(axis=0) + stratum + 1e-12)
        assert np.all(values >= previous.box.low) and np.all(values <= previous.box.high)
        assert np.all((wave.box.low <= truth) & (truth <= wave.box.high))
        assert len(values) == len(first.values)
    # the boxes close in on the region not ruled out (0.3 wide around the truth): wave 3's
    # is less than half the declared range
    assert np.all(match.waves[2].box.high - match.waves[2].box.low < 0.45)
    assert match.final.number == 3 and match.stopped == ""
    # every point of the final set is truly not ruled out: within 3 · tolerance of the truth
    final = match.final.design.values[match.final.result.not_ruled_out]
    assert len(final) >= 3
    assert np.all(np.abs(final - truth) <= 3 * TOLERANCE + 1e-12)
    # later waves keep a larger share than wave 1: they look where the answer is
    assert match.waves[2].kept > match.waves[0].kept


def test_a_wave_that_rules_out_everything_stops_and_keeps_the_wave_before(
    tmp_path: Path,
) -> None:
    experiment = analytic(tmp_path, waves=3)
    first = sample_design(experiment)
    calls = []

    def nowhere(number: int, design: Any) -> np.ndarray:  # every point far from the truth
        calls.append(number)
        return stats_of([{"x1": 5.0, "x2": 5.0}] * len(design.overrides))

    match = history_match(experiment, first, stats_of([*first.overrides, {}]), nowhere)
    assert calls == [2]  # wave 3 is never run
    assert [w.kept for w in match.waves][1] == 0 and match.final.number == 1
    assert match.stopped == (
        f"wave 2 rules out every point: the {match.waves[0].kept} point(s) not ruled out in "
        "wave 1 are kept; the 1 later wave(s) were not run"
    )


def test_a_first_wave_that_rules_out_everything_writes_an_empty_set(tmp_path: Path) -> None:
    experiment = analytic(tmp_path, waves=3, observed={"x1": 5.0, "x2": 5.0})
    out = execute_explore(
        experiment,
        ExploreRequest(out=tmp_path / "out", progress=False, make_plots=False),
        Identity(),
    )
    assert (out / "parameter_sets.csv").read_text() == "set\n"
    waves = pd.read_csv(out / "waves.csv", keep_default_na=False)
    assert list(waves["wave"]) == [1] and waves["not_ruled_out"].iloc[0] == 0
    assert waves["note"].iloc[0].startswith("wave 1 rules out every point")
    assert (out / "calibrated.toml").is_file()  # the best of a bad lot, as before waves


class FailsInWave2(Identity):
    """The identity model, but a point cannot run once wave 1 (30 points, the base) is done."""

    def __init__(self) -> None:
        self.calls = 0

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        self.calls += 1
        if self.calls > 31 + 3:
            raise PointFailed("waves.toml", overrides, "its allocation cannot be met")
        return super().evaluate(overrides, replications, seed)


def test_a_point_that_fails_in_a_later_wave_is_named_with_its_wave(tmp_path: Path) -> None:
    request = ExploreRequest(out=tmp_path / "out", progress=False, make_plots=False)
    with pytest.raises(PointFailed) as failed:
        execute_explore(analytic(tmp_path, waves=2), request, FailsInWave2())
    (line,) = failed.value.lines
    assert line.startswith("waves.toml: point 3 of wave 2 (x1 = ")
    assert line.endswith("): its allocation cannot be met")
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.work").exists()


def test_parameter_sets_are_exact_and_the_best_first(tmp_path: Path) -> None:
    experiment = analytic(tmp_path, waves=2)
    out = execute_explore(
        experiment,
        ExploreRequest(out=tmp_path / "out", progress=False, make_plots=False),
        Identity(),
    )
    sets = pd.read_csv(out / "parameter_sets.csv")
    kept = pd.read_csv(out / "not_ruled_out.csv")
    last = kept[kept["wave"] == 2]
    assert list(sets.columns) == ["set", "x1", "x2"]
    assert list(sets["set"]) == list(range(len(last))) and len(sets) > 0
    # the same points as the last wave's not-ruled-out rows (rounded there), best first
    assert np.allclose(sets[["x1", "x2"]].to_numpy(), last[["x1", "x2"]].to_numpy(), atol=1e-6)
    # exact: each value is the shortest text that reads back as the same float, not rounded
    cells = [
        line.split(",")[1:] for line in (out / "parameter_sets.csv").read_text().splitlines()[1:]
    ]
    assert all(repr(float(cell)) == cell for row in cells for cell in row)
    assert any(len(cell.split(".")[1]) > 6 for row in cells for cell in row)
    for row in cells:
        assert max(abs(float(row[0]) - 0.3), abs(float(row[1]) - 0.6)) <= 3 * TOLERANCE + 1e-12


# --- the real model: a planted truth, plans and late figures ignored, resume, --jobs -------

CHURN, JOIN = 0.15, 0.12
"""The planted truth."""
MEASURED = [
    (cluster, year, metric)
    for cluster in ("all", "mobile_heights", "packbridge", "media_evolution")
    for year in (2018, 2019)
    for metric in ("members", "joined")
]
EXPERIMENT = """
name = "planted_waves"
base = "{base}"
design = "lhs"
samples = 12
replications = 2
seed = 3
horizon = 2021

[uncertain."members.churn"]
range = [0.04, 0.24]
source = "assumed: test"

[uncertain."members.join_rate"]
range = [0.08, 0.20]
source = "assumed: test"

[outcomes.members_2019]
metric = "members"
year = 2019

[calibrate]
observations = "observations.csv"
fit_until = 2019
tolerance = 0.04
waves = 3
"""
CALIBRATION_FILES = (
    "calibration.csv",
    "not_ruled_out.csv",
    "waves.csv",
    "parameter_sets.csv",
    "calibrated.toml",
)


def planted_rows(
    base: Path, cells: list[tuple[str, int, str]], truth: dict[str, float], runs: int
) -> list[str]:
    """Observation rows (kind ``observed``, header first) of ``cells`` (cluster, year,
    metric) as the mean of ``runs`` runs (seed 3) of ``base`` at the values ``truth``."""
    document = load_config(base).document
    document["programme"]["horizon"] = 2021
    metric = {"closed_clusters": "closed"}  # the outcome a programme metric is measured by
    model = ScenarioModel(
        document, tuple(Outcome(metric=metric.get(m, m), year=y, cluster=c) for c, y, m in cells)
    )
    made = model.evaluate(truth, runs, 3).mean(axis=0)
    return ["cluster,year,metric,value,lower,upper,kind,source,note"] + [
        f"{c},{y},{m},{float(v)!r},,,observed,test,planted"
        for (c, y, m), v in zip(cells, made, strict=True)
    ]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An experiment file beside observations made by the model at (CHURN, JOIN), with a
    plan row and an observed row after fit_until that must never be read."""
    folder = tmp_path_factory.mktemp("planted")
    rows = planted_rows(BASELINE, MEASURED, {"members.churn": CHURN, "members.join_rate": JOIN}, 2)
    rows += [
        "all,2021,regional_base,10,,,plan,test,a plan",
        "all,2021,members,900,,,observed,test,after fit_until",
    ]
    (folder / "observations.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "planted.toml").write_text(EXPERIMENT.format(base=BASELINE.as_posix()))
    return folder / "planted.toml"


@pytest.fixture(scope="module")
def whole(planted: Path) -> Path:
    """The planted experiment explored in one go, one job."""
    out = planted.parent / "whole"
    result = invoke("explore", str(planted), "--out", str(out), "--no-plots")
    assert result.exit_code == 0, result.output
    return out


def read(folder: Path, names: tuple[str, ...] = CALIBRATION_FILES) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def test_the_planted_truth_is_inside_the_final_set_and_a_wrong_value_is_ruled_out(
    whole: Path,
) -> None:
    waves = pd.read_csv(whole / "waves.csv", keep_default_na=False)
    assert list(waves["wave"]) == [1, 2, 3] and (waves["not_ruled_out"] > 0).all()
    sets = pd.read_csv(whole / "parameter_sets.csv")
    assert list(sets.columns) == ["set", "members.churn", "members.join_rate"]
    assert len(sets) == waves["not_ruled_out"].iloc[-1] >= 2
    assert sets["members.churn"].min() <= CHURN <= sets["members.churn"].max()
    assert sets["members.join_rate"].min() <= JOIN <= sets["members.join_rate"].max()
    # wave 1 tried churn far above the truth; no wave kept any such point
    tried = pd.read_csv(whole / "experiments.csv")
    assert (tried["members.churn"] > 0.21).any()
    kept = pd.read_csv(whole / "not_ruled_out.csv")
    assert kept["members.churn"].max() < 0.2
    last = waves.iloc[-1]
    assert last["members.churn:high"] < 0.2 and last["members.churn:low"] > 0.05
    # each wave's survivors were drawn inside its box
    for _, wave in waves.iterrows():
        rows = kept[kept["wave"] == wave["wave"]]
        for name in ("members.churn", "members.join_rate"):
            assert rows[name].between(wave[f"{name}:low"], wave[f"{name}:high"]).all()
    # the calibrated point is set 0
    calibrated = load_config(whole / "calibrated.toml").scenario.members
    assert calibrated.churn == sets["members.churn"].iloc[0]
    assert calibrated.join_rate == sets["members.join_rate"].iloc[0]
    table = pd.read_csv(whole / "calibration.csv")
    assert set(table["wave"]) == {3}
    manifest = json.loads((whole / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["calibration_waves"] == {"points": [12, 12, 12], "runs": (36 + 1) * 2}
    assert len(table) == len(MEASURED)  # neither the plan nor the late figure is a target


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("all,2021,regional_base,10,,,plan", "all,2021,regional_base,3,,,plan"),  # a plan
        ("all,2021,members,900,,,observed", "all,2021,members,1,,,observed"),  # after fit_until
    ],
    ids=["a plan is never a target", "fit_until holds"],
)
def test_rows_that_are_not_targets_change_nothing(
    planted: Path, whole: Path, tmp_path: Path, old: str, new: str
) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    text = (planted.parent / "observations.csv").read_text(encoding="utf-8")
    assert old in text
    (folder / "observations.csv").write_text(text.replace(old, new), encoding="utf-8")
    experiment = folder / "planted.toml"
    experiment.write_text(planted.read_text())
    out = planted.parent / f"changed_{len(list(planted.parent.glob('changed_*')))}"
    result = invoke("explore", str(experiment), "--out", str(out), "--no-plots")
    assert result.exit_code == 0, result.output
    assert read(out) == read(whole)


def test_two_jobs_and_small_chunks_write_the_same_files(planted: Path, whole: Path) -> None:
    out = planted.parent / "two_jobs"
    args = ("--out", str(out), "--no-plots", "--jobs", "2", "--chunk-points", "5")
    result = invoke("explore", str(planted), *args)
    assert result.exit_code == 0, result.output
    names = (*CALIBRATION_FILES, "experiments.csv", "outcomes.csv")
    assert read(out, names) == read(whole, names)


def test_a_calibration_stopped_in_wave_2_resumes_to_identical_files(
    planted: Path, whole: Path
) -> None:
    experiment = load_experiment(planted)
    spec = experiment.spec
    model = ScenarioModel(
        experiment.document,
        (*spec.outcomes.values(), *(t.outcome for t in experiment.targets)),
        str(planted),
    )
    out = planted.parent / "stopped"
    request = ExploreRequest(out=out, progress=False, make_plots=False, chunk_points=2)
    with pytest.raises(KeyboardInterrupt):  # wave 1 (12 points and the base), then 5 more
        execute_explore(experiment, request, model=StopsAfter(model, 13 + 5))
    work = planted.parent / ".stopped.work"
    assert len(list((work / "wave_2" / "chunks").glob("*.npy"))) == 2  # points 0-3 of wave 2
    assert not (work / "wave_3").exists()
    resumed = invoke("explore", str(planted), "--out", str(out), "--resume", "--no-plots")
    assert resumed.exit_code == 0, resumed.output
    names = (*CALIBRATION_FILES, "experiments.csv", "outcomes.csv")
    assert read(out, names) == read(whole, names)
    assert not work.exists()


def test_the_explore_text_reports_every_wave_and_the_sets(planted: Path, whole: Path) -> None:
    out = planted.parent / "text"
    result = invoke("explore", str(planted), "--out", str(out), "--no-plots")
    assert result.exit_code == 0, result.output
    waves = pd.read_csv(whole / "waves.csv")
    for _, row in waves.iterrows():
        assert (
            f"wave {int(row['wave'])}: {int(row['points'])} points, "
            f"{int(row['not_ruled_out'])} not ruled out" in result.output
        )
        low, high = row["members.churn:low"], row["members.churn:high"]
        assert f"members.churn in [{low:.4g}, {high:.4g}]" in result.output
    k = waves["not_ruled_out"].iloc[-1]
    assert f"parameter sets: K = {k} " in result.output
    assert str(out / "parameter_sets.csv") in result.output


def test_calibrated_toml_names_the_sets(planted: Path) -> None:
    out = planted.parent / "with_key"
    request = ExploreRequest(out=out, progress=False, make_plots=False)
    execute_explore(load_experiment(planted), request)
    text = (out / "calibrated.toml").read_text(encoding="utf-8")
    assert '\nparameter_sets = "parameter_sets.csv"\n' in text
    assert (
        'parameter_sets = "derived: not ruled out in wave 3 of planted.toml against '
        'observations.csv (fit_until 2019)"' in text
    )
    # the scenario it writes loads, with the final wave's sets as its parameter sets
    loaded = load_config(out / "calibrated.toml")
    sets = pd.read_csv(out / "parameter_sets.csv")
    assert loaded.scenario.parameter_sets is not None
    assert loaded.scenario.parameter_sets.keys == list(sets.columns[1:])
    assert loaded.scenario.parameter_sets.values == sets.iloc[:, 1:].values.tolist()


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", '"x"', "11", "2.5", "true"])
def test_a_bad_waves_value_is_one_line_and_writes_nothing(
    planted: Path, tmp_path: Path, value: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        planted.read_text()
        .replace("waves = 3", f"waves = {value}")
        .replace(
            'observations = "observations.csv"',
            f'observations = "{(planted.parent / "observations.csv").as_posix()}"',
        )
    )
    out = tmp_path / "out"
    result = invoke("explore", str(path), "--out", str(out))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: calibrate.waves: "), (
        result.output
    )
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".*.work"))


def test_waves_1_is_the_single_wave_calibration(tmp_path: Path) -> None:
    """``waves = 1`` (and no ``waves``) writes the files the calibration wrote before waves:
    the old columns byte for byte (hashes of the files written before ``wave`` was added,
    by tests/test_calibration.py's planted experiment), with a ``wave`` column of 1s."""
    import hashlib

    import test_calibration

    test_calibration.write_planted_observations(tmp_path / "observations.csv")
    text = test_calibration.EXPERIMENT.format(base=BASELINE.as_posix())
    outputs = []
    for name, experiment in (("unset", text), ("one", text + "waves = 1\n")):
        path = tmp_path / "planted.toml"
        path.write_text(experiment, encoding="utf-8")
        result = invoke("explore", str(path), "--out", str(tmp_path / name), "--no-plots")
        assert result.exit_code == 0, result.output
        outputs.append(read(tmp_path / name, (*CALIBRATION_FILES, "experiments.csv")))
    assert outputs[0] == outputs[1]

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def without_wave(data: bytes) -> str:
        lines = data.decode("utf-8").splitlines(keepends=True)
        assert all(line.rstrip("\n").split(",")[-1] in ("wave", "1") for line in lines)
        return "".join(line.rstrip("\n").rsplit(",", 1)[0] + "\n" for line in lines)

    files = outputs[0]
    assert sha(without_wave(files["calibration.csv"])) == OLD_CALIBRATION_CSV
    assert sha(without_wave(files["not_ruled_out.csv"])) == OLD_NOT_RULED_OUT_CSV
    toml = files["calibrated.toml"].decode("utf-8").splitlines(keepends=True)
    # the pre-wave calibrated.toml, but for the lines naming the parameter sets
    kept = [line for line in toml if not line.startswith(("extends = ", "parameter_sets = "))]
    assert sha("".join(kept)) == (OLD_CALIBRATED_TOML)
    assert math.isclose(pd.read_csv(tmp_path / "one" / "parameter_sets.csv").iloc[0, 1], 0.10)


OLD_CALIBRATION_CSV = "5a03ef028f54cea390e9b43915e5fbff58cf2fad39241c18e4c0d26559824387"
OLD_NOT_RULED_OUT_CSV = "7e1156109e0098576299905cae164660f35727c63e3c5583fef2e5e255e32d11"
OLD_CALIBRATED_TOML = "bbf3794712f938eb49bdf0ba562afd41bd21a0b08bae7772e4171cc4e1fb9f9a"
"""SHA-256 of the files branch ``trust`` (before waves) wrote for that experiment
(``calibrated.toml`` without its ``extends`` line, which depends on the folder).
All three were rewritten once, when the LP's tie-break changed the model's results (the
files' columns did not change)."""


EXITS_EXPERIMENT = (
    EXPERIMENT.replace('name = "planted_waves"', 'name = "planted_exits"')
    .replace("replications = 2", "replications = 4")
    .replace(
        '"members.join_rate"]\nrange = [0.08, 0.20]',
        '"absorption.probability"]\nrange = [0.0, 1.0]',
    )
    .replace("range = [0.04, 0.24]", "range = [0.06, 0.18]")
    .replace("tolerance = 0.04", "tolerance = 0.05")
)
"""The planted experiment on churn and the absorption probability."""


def test_a_planted_absorption_rate_is_recovered_and_rare_absorption_ruled_out(
    tmp_path: Path,
) -> None:
    """Observations made by configs/with_exits.toml at churn 0.12 and absorption probability
    0.8 (clusters leaving by 2017–2019, members in 2018–2019): the final sets span the truth,
    and no wave keeps a point where absorption is rare (probability below 0.25)."""
    base = BASELINE.parent / "with_exits.toml"
    cells = [("all", y, "closed_clusters") for y in (2017, 2018, 2019)] + [
        (c, y, "members")
        for c in ("all", "mobile_heights", "packbridge", "media_evolution")
        for y in (2018, 2019)
    ]
    truth = {"members.churn": 0.12, "absorption.probability": 0.8}
    rows = planted_rows(base, cells, truth, 4)
    (tmp_path / "observations.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = tmp_path / "exits.toml"
    path.write_text(EXITS_EXPERIMENT.format(base=base.as_posix()), encoding="utf-8")
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"), "--no-plots")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    sets = pd.read_csv(out / "parameter_sets.csv")
    assert len(sets) >= 3
    for key, value in truth.items():
        assert sets[key].min() <= value <= sets[key].max(), key
    tried = pd.read_csv(out / "experiments.csv")
    assert (tried["absorption.probability"] < 0.25).sum() >= 2  # wave 1 tried rare absorption
    kept = pd.read_csv(out / "not_ruled_out.csv")
    assert kept["absorption.probability"].min() > 0.25  # and no wave kept it
