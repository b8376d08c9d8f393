"""explore: SALib designs on analytic functions through the same pipeline, PRIM on a
planted box, outcomes that agree with `clusterfund run`, determinism across jobs,
backends and resume, and every bad experiment file."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke

from scenarios.analysis.discovery import discover
from scenarios.config.experiment import (
    Discover,
    Experiment,
    ExperimentSpec,
    load_experiment,
)
from scenarios.config.study_file import Parameter, ResolvedParameter
from scenarios.engine.executor import Backend
from scenarios.engine.points import ScenarioModel
from scenarios.studies.explore import ExploreRequest, execute_explore
from simulator.outcomes import Outcome

# --- analytic models wired into the explore pipeline ----------------------------


class Ishigami:
    """y = sin x1 + a sin² x2 + b x3⁴ sin x1 (one replication is enough: no noise)."""

    a, b = 7.0, 0.1

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        x1, x2, x3 = overrides["x1"], overrides["x2"], overrides["x3"]
        y = math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3**4 * math.sin(x1)
        return np.full((replications, 1), y)


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Analytic first-order and total Sobol' indices of the Ishigami function."""
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * 8 / 225
    total = v1 + v2 + v13
    return [v1 / total, v2 / total, 0.0], [(v1 + v13) / total, v2 / total, v13 / total]


class Linear:
    """y = Σ c_i x_i."""

    def __init__(self, coefficients: dict[str, float]) -> None:
        self.coefficients = coefficients

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        y = sum(c * overrides[name] for name, c in self.coefficients.items())
        return np.full((replications, 1), y)


def analytic_experiment(
    tmp_path: Path, design: str, samples: int, ranges: dict[str, tuple[float, float]]
) -> Experiment:
    """An experiment over plain inputs x1, x2 ... for a test model (no base scenario)."""
    uncertain = {n: Parameter(range=r, source="assumed: test") for n, r in ranges.items()}
    spec = ExperimentSpec(
        name=design,
        base="-",
        design=design,
        samples=samples,
        replications=1,
        seed=11,
        uncertain=uncertain,
        outcomes={"y": Outcome(metric="y", year=2017)},
    )
    inputs = tuple(ResolvedParameter(n, u, (n,), (None,), (False,)) for n, u in uncertain.items())
    return Experiment(tmp_path / f"{design}.toml", spec, None, {}, inputs)


def quiet(out: Path, **kwargs: Any) -> ExploreRequest:
    return ExploreRequest(out=out, progress=False, make_plots=False, **kwargs)


def test_sobol_on_ishigami_matches_the_analytic_indices(tmp_path: Path) -> None:
    experiment = analytic_experiment(
        tmp_path, "sobol", 2048, {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)}
    )
    folder = execute_explore(experiment, quiet(tmp_path / "out"), model=Ishigami())
    table = pd.read_csv(folder / "sensitivity.csv").set_index("input")
    first, total = ishigami_indices()
    for i, name in enumerate(("x1", "x2", "x3")):
        row = table.loc[name]
        assert abs(row["S1"] - first[i]) <= row["S1_conf"], (name, row["S1"], first[i])
        assert abs(row["ST"] - total[i]) <= row["ST_conf"], (name, row["ST"], total[i])
        assert row["S1_conf"] < 0.1 and row["ST_conf"] < 0.1
    assert list(table.sort_values("rank").index) == ["x1", "x2", "x3"]


def test_morris_ranks_a_linear_function_by_its_coefficients(tmp_path: Path) -> None:
    coefficients = {"a": 0.5, "b": -4.0, "c": 2.0, "d": 0.0}
    experiment = analytic_experiment(tmp_path, "morris", 20, {n: (0.0, 1.0) for n in coefficients})
    folder = execute_explore(experiment, quiet(tmp_path / "out"), model=Linear(coefficients))
    table = pd.read_csv(folder / "sensitivity.csv").sort_values("rank")
    assert list(table["input"]) == ["b", "c", "a", "d"]
    # on a linear function every elementary effect is the coefficient itself
    for _, row in table.iterrows():
        assert row["mu_star"] == pytest.approx(abs(coefficients[row["input"]]), abs=1e-9)
        assert row["sigma"] == pytest.approx(0.0, abs=1e-9)


def test_prim_finds_a_planted_box() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(2000, 4))
    y = ((x[:, 0] > 0.7) & (x[:, 1] < 0.3)).astype(float)
    condition = Discover(outcome="y", above=0.5, min_density=0.9)
    found = discover(x, ["x1", "x2", "x3", "x4"], y, condition)
    box = found.box
    assert box is not None
    assert box.density >= 0.9 and box.coverage >= 0.8
    assert box.limits["x1"][0] == pytest.approx(0.7, abs=0.03)
    assert box.limits["x2"][1] == pytest.approx(0.3, abs=0.03)
    for free in ("x3", "x4"):  # the irrelevant inputs stay (almost) unrestricted
        low, high = box.limits[free]
        assert low < 0.05 and high > 0.95


# --- the simulator through explore ------------------------------------------------

SMALL = """
name = "small"
base = "{base}"
design = "sobol"
samples = 4
replications = 3
seed = 3
horizon = 2021

[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: test"

[uncertain."clusters.*.private_income"]
scale = [0.7, 1.3]
source = "assumed: test"

[outcomes.closures_2021]
metric = "closed"
year = 2021

[outcomes.members_2021]
metric = "members"
year = 2021
stat = "p50"

[outcomes.p_no_closures_2021]
metric = "scorecard:no_closures"
year = 2021

[outcomes.share_mobile]
metric = "regional_share"
year = 2020
cluster = "mobile_heights"

[discover]
outcome = "members_2021"
below = 1650
"""


@pytest.fixture
def small_experiment(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(base=BASELINE.as_posix()), encoding="utf-8")
    return path


TABLES = ("experiments.csv", "outcomes.csv", "sensitivity.csv", "discovery.csv")


def tables(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


def test_outcomes_equal_those_of_clusterfund_run_on_the_same_seeds(tmp_path: Path) -> None:
    """Replication r of a point is run r of `clusterfund run` with the point's values."""
    outcomes = (
        Outcome(metric="closed", year=2021),
        Outcome(metric="members", years=(2019, 2021), cluster="packbridge"),
        Outcome(metric="regional_share", year=2021),
        Outcome(metric="activity_level", year=2020),
        Outcome(metric="scorecard:cluster_members_min:mobile_heights", year=2021),
    )
    document = load_experiment_document()
    model = ScenarioModel(document, outcomes)
    values = model.evaluate({"members.churn": 0.15}, 4, 99)
    result = invoke(
        "run",
        str(BASELINE),
        "--runs",
        "4",
        "--seed",
        "99",
        "--horizon",
        "2021",
        "--set",
        "members.churn=0.15",
        "--out",
        str(tmp_path / "run"),
        "--no-plots",
    )
    assert result.exit_code == 0, result.output
    yearly = pd.read_csv(tmp_path / "run" / "yearly.csv")
    card = pd.read_csv(tmp_path / "run" / "scorecard.csv")
    for run in range(4):
        rows = yearly[yearly["run"] == run]
        y2021, y2020 = rows[rows["year"] == 2021], rows[rows["year"] == 2020]
        pack = rows[(rows["cluster"] == "packbridge") & rows["year"].between(2019, 2021)]
        open2020 = y2020[y2020["status"] != "closed"]
        expected = [
            (y2021["status"] == "closed").sum(),
            pack["members"].sum(),
            y2021["regional_base"].sum() / y2021["total_income"].sum(),
            open2020["activity_level"].mean(),
            float(
                (mobile := y2021[y2021["cluster"] == "mobile_heights"].iloc[0])["members"] >= 50
                and mobile["status"] != "closed"  # a cluster closing this year meets no target
            ),
        ]
        assert values[run] == pytest.approx(expected, rel=1e-6, abs=1e-5)  # CSVs keep 6 decimals
    # the scorecard's probability is the mean of the per-run 0/1
    target = card[(card["target"] == "cluster_members_min:mobile_heights") & (card["year"] == 2021)]
    assert values[:, 4].mean() == pytest.approx(target["probability"].iloc[0])


def load_experiment_document() -> dict[str, Any]:
    from scenarios.config.scenario import load_config

    document = load_config(BASELINE).document
    document["programme"]["horizon"] = 2021
    return document


def test_explore_cli_writes_the_folder_and_is_the_same_for_any_jobs(
    small_experiment: Path, tmp_path: Path
) -> None:
    one = invoke(
        "explore", str(small_experiment), "--out", str(tmp_path / "one"), "--no-plots",
        "--jobs", "1",
    )  # fmt: skip
    assert one.exit_code == 0, one.output
    # two workers, chunks of the default size, smaller towards the end
    shrinking = invoke(
        "explore", str(small_experiment), "--out", str(tmp_path / "shrinking"), "--no-plots",
        "--jobs", "2",
    )  # fmt: skip
    assert shrinking.exit_code == 0, shrinking.output
    assert tables(tmp_path / "one") == tables(tmp_path / "shrinking")
    two = invoke(
        "explore",
        str(small_experiment),
        "--out",
        str(tmp_path / "two"),
        "--jobs",
        "2",
        "--chunk-points",
        "3",
        "--no-plots",
    )
    assert two.exit_code == 0, two.output
    assert tables(tmp_path / "one") == tables(tmp_path / "two")
    experiments = pd.read_csv(tmp_path / "one" / "experiments.csv")
    assert len(experiments) == 4 * (2 + 2)
    outcomes = pd.read_csv(tmp_path / "one" / "outcomes.csv")
    assert len(outcomes) == len(experiments) * 4
    assert (outcomes["p10"] <= outcomes["p50"]).all() and (outcomes["p50"] <= outcomes["p90"]).all()
    scorecard = outcomes[outcomes["outcome"] == "p_no_closures_2021"]
    assert scorecard["mean"].between(0, 1).all()
    assert "PRIM" in one.output
    assert not list(tmp_path.glob(".*.work"))


def test_dask_local_cluster_gives_the_same_tables(small_experiment: Path, tmp_path: Path) -> None:
    experiment = load_experiment(small_experiment)
    local = execute_explore(experiment, quiet(tmp_path / "local"))
    dask = execute_explore(
        experiment, quiet(tmp_path / "dask", backend=Backend("dask", 2), chunk_points=5)
    )
    assert tables(local) == tables(dask)


class StopsAfter:
    """A model that raises KeyboardInterrupt after ``n`` points, as Ctrl-C would."""

    def __init__(self, model: ScenarioModel, n: int) -> None:
        self.model, self.left = model, n

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.model.evaluate(overrides, replications, seed)


def test_an_interrupted_experiment_resumes_to_identical_tables(
    small_experiment: Path, tmp_path: Path
) -> None:
    experiment = load_experiment(small_experiment)
    whole = execute_explore(experiment, quiet(tmp_path / "whole"))
    model = ScenarioModel(experiment.document, tuple(experiment.spec.outcomes.values()), "small")
    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        execute_explore(experiment, quiet(out, chunk_points=2), model=StopsAfter(model, 7))
    saved = sorted((tmp_path / ".stopped.work" / "chunks").glob("*.npy"))
    assert len(saved) == 3  # points 0-5 in three chunks; the fourth chunk never finished
    assert not out.exists()
    refused = invoke("explore", str(small_experiment), "--out", str(out), "--no-plots")
    assert refused.exit_code == 2 and "--resume" in refused.output
    resumed = invoke(
        "explore",
        str(small_experiment),
        "--out",
        str(out),
        "--resume",
        "--no-plots",
    )
    assert resumed.exit_code == 0, resumed.output
    assert tables(whole) == tables(out)


def test_resume_refuses_chunks_of_a_changed_experiment(
    small_experiment: Path, tmp_path: Path
) -> None:
    experiment = load_experiment(small_experiment)
    model = ScenarioModel(experiment.document, tuple(experiment.spec.outcomes.values()))
    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        execute_explore(experiment, quiet(out, chunk_points=2), model=StopsAfter(model, 2))
    small_experiment.write_text(
        small_experiment.read_text().replace("seed = 3", "seed = 4"), encoding="utf-8"
    )
    result = invoke("explore", str(small_experiment), "--out", str(out), "--resume")
    assert result.exit_code == 2
    assert "different job" in result.output


def test_an_existing_folder_is_kept_without_force(small_experiment: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = invoke("explore", str(small_experiment), "--out", str(out))
    # a folder the tool did not write is never replaced, so --force is not offered
    assert result.exit_code == 2 and "choose another --out" in result.output
    assert "--force" not in result.output
    assert (out / "mine.txt").read_text() == "keep me"


def test_an_unreachable_scheduler_fails_fast_and_writes_nothing(
    small_experiment: Path, tmp_path: Path
) -> None:
    start = time.monotonic()
    result = invoke(
        "explore",
        str(small_experiment),
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert time.monotonic() - start < 20
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "no Dask scheduler answered" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / ".out.work").exists()


# --- bad experiment files -----------------------------------------------------

BAD = """
name = "bad"
base = "{base}"
design = "sobol"
samples = 100
replications = 2
colour = "blue"

[uncertain."members.churn"]
range = [0.16, 0.08]
source = "assumed: test"

[uncertain."members.churm"]
range = [0.1, 0.2]
source = "assumed: test"

[uncertain."members.join_rate"]
range = [0.1, 0.1]
source = "assumed: test"

[uncertain."members.fee_sensitivity"]
range = [1.0, 2.0]
sorce = "assumed: typo"

[outcomes.a]
metric = "membrs"
year = 2021

[outcomes.b]
metric = "members"
year = 2021
cluster = "nowhere"

[discover]
outcome = "closures"
above = 0.5
"""


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.format(base=BASELINE.as_posix()), encoding="utf-8")
    return path


def errors(result: Any) -> list[str]:
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def test_schema_problems_are_all_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = errors(result)
    expected = [
        ("colour", "unknown key 'colour'"),
        ("uncertain.members.churn", "empty or inverted"),
        ("uncertain.members.join_rate", "empty or inverted"),
        ("uncertain.members.fee_sensitivity.sorce", "did you mean 'source'"),
    ]
    for key, message in expected:
        assert any(f"{path}: {key}: " in line and message in line for line in lines), (key, lines)
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.work").exists()


def test_cross_checks_are_all_reported_at_once(tmp_path: Path) -> None:
    text = (
        BAD.replace('colour = "blue"\n', "")
        .replace("range = [0.16, 0.08]", "range = [0.08, 0.16]")
        .replace("range = [0.1, 0.1]", "range = [0.1, 0.2]")
        .replace('sorce = "assumed: typo"', 'source = "guessed"')
    )
    path = write(tmp_path, text)
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = errors(result)
    expected = [
        ("samples", "not a power of two"),
        ("uncertain.members.churm", "did you mean 'members.churn'"),
        ("outcomes.a", "unknown metric 'membrs'"),
        ("outcomes.b", "unknown cluster 'nowhere'"),
        ("discover.outcome", "'closures' is not an outcome"),
        ("uncertain.members.fee_sensitivity.source", "must start with one of"),
    ]
    for key, message in expected:
        assert any(f"{path}: {key}: " in line and message in line for line in lines), (key, lines)
    assert len(lines) == len(expected), lines


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (('design = "sobol"', 'design = "fast"'), "design", "'sobol', 'morris', 'lhs' or 'grid'"),
        (("samples = 4", "samples = 0"), "samples", "at least 1"),
        (("samples = 4", "samples = -8"), "samples", "at least 1"),
        (
            ("range = [0.08, 0.16]", "range = [0.08, 1.5]"),
            "uncertain.members.churn",
            "at 1.5 the scenario is invalid",
        ),
        (("below = 1650", "beneath = 1650"), "discover.beneath", "unknown key"),
        (
            ('metric = "members"', 'metric = "scorecard:everything"'),
            "outcomes.members_2021",
            "unknown scorecard target",
        ),
    ],
)
def test_each_bad_value_names_its_key(
    tmp_path: Path, change: tuple[str, str], key: str, message: str
) -> None:
    path = write(tmp_path, SMALL.replace(*change))
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = errors(result)
    assert any(f"{path}: {key}: " in line and message in line for line in lines), lines
    assert not (tmp_path / "out").exists()


def test_a_missing_base_names_the_base_key(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL.replace('base = "{base}"', 'base = "nowhere.toml"'))
    result = invoke("explore", str(path))
    assert result.exit_code == 2
    assert f"{path}: base: {tmp_path / 'nowhere.toml'}: no such file" in errors(result)[0]


def test_the_shipped_experiment_loads_and_labels_every_range() -> None:
    experiment = load_experiment(BASELINE.parent / "experiments" / "what_matters.toml")
    assert 8 <= len(experiment.inputs) <= 12
    for item in experiment.inputs:
        assert item.spec.source.split(":")[0] in ("seed", "sourced", "derived", "assumed")
        assert all(v is not None for v in item.base_values)
        low, high = item.spec.bounds
        if item.spec.range is not None:  # the baseline's value lies inside its range
            assert all(low <= v <= high for v in item.base_values), item.name
        else:
            assert low <= 1.0 <= high
    wildcard = next(i for i in experiment.inputs if i.name == "clusters.*.private_income")
    assert len(wildcard.keys) == 10
    doubled = wildcard.overrides(2.0)
    assert all(
        doubled[k] == 2.0 * b for k, b in zip(wildcard.keys, wildcard.base_values, strict=True)
    )


def test_report_adds_which_assumptions_matter(small_experiment: Path, tmp_path: Path) -> None:
    explored = invoke("explore", str(small_experiment), "--out", str(tmp_path / "ex"))
    assert explored.exit_code == 0, explored.output
    assert (tmp_path / "ex" / "plots" / "prim_box.png").stat().st_size > 10_000
    ran = invoke(
        "run",
        str(BASELINE),
        "--runs",
        "3",
        "--horizon",
        "2021",
        "--out",
        str(tmp_path / "run"),
    )
    assert ran.exit_code == 0, ran.output
    page = tmp_path / "report.html"
    result = invoke("report", str(tmp_path / "run"), str(tmp_path / "ex"), "--out", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    section = text[text.index("Which assumptions matter") :]
    top = pd.read_csv(tmp_path / "ex" / "sensitivity.csv").sort_values("rank")
    first = top[top["outcome"] == "members_2021"].iloc[0]["input"]
    assert first in section and "PRIM" in section
    assert section.count("data:image/png;base64,") >= 5
    sheets = pd.ExcelFile(tmp_path / "report.xlsx").sheet_names
    assert "sensitivity small" in sheets and "discovery small" in sheets
    alone = invoke("report", str(tmp_path / "ex"), "--out", str(tmp_path / "alone.html"))
    assert alone.exit_code == 2 and "at least one run folder" in alone.output


def test_sigterm_stops_explore_quietly_and_keeps_the_chunks_for_resume(
    small_experiment: Path, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys

    small_experiment.write_text(small_experiment.read_text().replace("samples = 4", "samples = 64"))
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "scenarios.cli",
        "explore",
        str(small_experiment),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--chunk-points",
        "2",
        "--no-plots",
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    chunks = tmp_path / ".out.work" / "chunks"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(chunks.glob("*.npy"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr and "--resume" in stderr
    assert not out.exists() and len(list(chunks.glob("*.npy"))) >= 3
    resumed = invoke("explore", str(small_experiment), "--out", str(out), "--resume", "--no-plots")
    assert resumed.exit_code == 0, resumed.output
    assert len(pd.read_csv(out / "experiments.csv")) == 64 * 4


def test_an_input_label_names_the_input_in_text_and_report(tmp_path: Path) -> None:
    text = SMALL.format(base=BASELINE.as_posix()).replace(
        '[uncertain."members.churn"]\n', '[uncertain."members.churn"]\nlabel = "Yearly churn"\n'
    )
    path = tmp_path / "labelled.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("explore", str(path), "--out", str(out), "--no-plots")
    assert result.exit_code == 0, result.output
    assert "Yearly churn" in result.output and "members.churn" not in result.output
    # the unlabelled input keeps the name made from its key
    assert "private income (every cluster)" in result.output
    run = tmp_path / "run"
    ran = invoke("run", str(BASELINE), "--out", str(run), "--runs", "2", "--horizon", "2021",
                 "--no-plots")  # fmt: skip
    assert ran.exit_code == 0, ran.output
    report = invoke("report", str(run), str(out), "--out", str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output
    assert "Yearly churn" in (tmp_path / "r.html").read_text(encoding="utf-8")
    empty = tmp_path / "empty.toml"
    empty.write_text(text.replace('label = "Yearly churn"', 'label = ""'), encoding="utf-8")
    refused = invoke("explore", str(empty), "--out", str(tmp_path / "e"))
    assert refused.exit_code == 2 and "uncertain.members.churn.label" in refused.output
