"""optimise: a deterministic toy with a hand-computed optimum, the chosen policy file
reproducing the optimiser's numbers through `clusterfund run`, a binding constraint,
a Pareto front, resume, and bad or infeasible policy files."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke

from scenarios.config.policy import LEVER_RESOLUTION, load_policy
from scenarios.config.scenario import load_config
from scenarios.engine.points import ScenarioModel
from scenarios.engine.search import on_grid
from scenarios.present.optimise_text import still_improving
from scenarios.studies.optimise import OptimiseRequest, execute_optimise

# One cluster whose income and costs never change: 10 small members paying 50 kSEK
# (0.5 MSEK fees), 0.3 private, 0.2 other public; costs 1.5 + 0.5 + 0.3 = 2.3.
# With base b every year, reserves in 2021 = 0.4 + 5 (b + 1.0 - 2.3), so the least
# base keeping them >= 0 is b* = 1.3 - 0.4 / 5 = 1.22, and the money is 5 b* = 6.1.
FEES, PRIVATE, OTHER, COSTS, OPENING, YEARS = 0.5, 0.3, 0.2, 2.3, 0.4, 5
LEAST_BASE = COSTS - FEES - PRIVATE - OTHER - OPENING / YEARS

TOY = """
name = "toy"
seed = 1
runs = 1

[programme]
start_year = 2017
horizon = 2021
target_year = 2021

[base_funding.default]
kind = "hold"
value = 1.0

[arena]
overhead_share = 0.3
[arena.budget]
kind = "hold"
value = 0.0

[members]
churn = 0.0
first_year_churn = 0.0
fee_tolerance = 0.1
fee_sensitivity = 0.0
value_sensitivity = 0.0
arena_retention = 0.0
join_rate = 0.0
network_elasticity = 0.0
arena_attraction = 0.0
arena_participation = 0.0
satisfaction_weight = 0.5
feedback = false
joining = false

[management]
fee_policy = false
max_fee_rise = 0.0
private_effort = false
effort_step = 0.0
max_effort = 1.0
private_lag_years = 1.0
private_per_member = 0.0
activity_cuts = false
cut_step = 0.0
restore_step = 0.0
min_activity = 1.0
reserve_threshold = 0.0
closure_years = 100  # never closes: a closed cluster is liquidated, its reserves would read 0

[allocator]
method = "proportional"

[scorecard]
min_members = 5
max_regional_share = 0.9
min_growth_areas = 0
min_collaboration_links = 0
gold_min_members = 5
gold_max_regional_share = 0.9
gold_min_reserve_years = 0.0
min_gold = 0

[clusters.solo]
name = "Solo"
members = 10
theme = "test"
fee_ksek = { small = 50, medium = 50, large = 50 }
size_mix = { small = 1.0, medium = 0.0, large = 0.0 }
type_mix = { company = 1.0, academia = 0.0, public = 0.0 }
staff_cost = 1.5
activity_cost = 0.5
fixed_cost = 0.3
opening_reserves = 0.4
other_public = 0.2
private_income = 0.3

"""

TOY_POLICY = """
name = "toy_least_base"
base = "toy.toml"
replications = 1
seed = 5
budget = 200
population = 16

[levers."base_funding.default.value"]
range = [0.0, 3.0]
source = "assumed: test"

[outcomes.regional_money]
metric = "regional_base"
years = [2017, 2021]

[outcomes.reserves_2021]
metric = "reserves"
year = 2021

[objective]
minimise = ["regional_money"]

[constraints]
reserves_2021 = {{ at_least = 0.0 }}
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    (tmp_path / "toy.toml").write_text(TOY, encoding="utf-8")
    path = tmp_path / "toy_policy.toml"
    path.write_text(TOY_POLICY.format(), encoding="utf-8")
    return path


def quiet(out: Path, **kwargs: Any) -> OptimiseRequest:
    return OptimiseRequest(out=out, progress=False, make_plots=False, **kwargs)


def test_the_toy_model_is_what_the_hand_computation_says(toy: Path) -> None:
    policy = load_policy(toy)
    model = ScenarioModel(policy.document, tuple(policy.spec.outcomes.values()))
    b = 1.5
    values = model.evaluate(policy.overrides([b]), 1, 0)[0]
    assert values[0] == pytest.approx(YEARS * b)
    assert values[1] == pytest.approx(OPENING + YEARS * (b + FEES + PRIVATE + OTHER - COSTS))


def test_the_optimiser_finds_the_least_base_within_two_percent(toy: Path, tmp_path: Path) -> None:
    result = execute_optimise(load_policy(toy), quiet(tmp_path / "out"))
    evaluations = pd.read_csv(result.folder / "evaluations.csv")
    best = evaluations.loc[result.chosen[0].evaluation]
    lever = best["base_funding.default.value"]
    assert LEAST_BASE <= lever <= LEAST_BASE * 1.02, lever
    assert best["regional_money"] == pytest.approx(YEARS * lever)
    assert best["reserves_2021:margin"] >= 0 and best["feasible"] == 1
    # the constraint's margin is the value minus the bound; infeasible candidates are marked
    assert (evaluations["feasible"] == (evaluations["reserves_2021:value"] >= 0)).all()
    assert len(evaluations) == 200
    pareto = pd.read_csv(result.folder / "pareto.csv")
    assert list(pareto["evaluation"]) == [result.chosen[0].evaluation]
    outcomes = pd.read_csv(result.folder / "outcomes.csv")  # every statistic, every evaluation
    assert len(outcomes) == 2 * len(evaluations)
    means = outcomes[outcomes["outcome"] == "regional_money"].set_index("evaluation")["mean"]
    assert np.allclose(means.to_numpy(), evaluations["regional_money"].to_numpy(), atol=1e-6)


def test_lowering_the_winning_lever_by_ten_percent_breaks_the_constraint(
    toy: Path, tmp_path: Path
) -> None:
    policy = load_policy(toy)
    result = execute_optimise(policy, quiet(tmp_path / "out", budget=120))
    evaluations = pd.read_csv(result.folder / "evaluations.csv")
    lever = evaluations.loc[result.chosen[0].evaluation, "base_funding.default.value"]
    model = ScenarioModel(policy.document, tuple(policy.spec.outcomes.values()))
    lowered = model.evaluate(policy.overrides([0.9 * lever]), 1, policy.spec.seed)
    assert lowered[0, 1] < 0  # reserves_2021 falls below its bound


def test_the_chosen_policy_file_reproduces_the_optimisers_numbers(
    toy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = execute_optimise(load_policy(toy), quiet(out, budget=60))
    evaluations = pd.read_csv(out / "evaluations.csv")
    best = evaluations.loc[result.chosen[0].evaluation]
    policy_file = out / "policy_1.toml"
    text = policy_file.read_text(encoding="utf-8")
    assert 'extends = "../toy.toml"' in text and "derived: optimise toy_policy.toml" in text
    ran = invoke("run", str(policy_file), "--out", str(tmp_path / "run"), "--no-plots")
    assert ran.exit_code == 0, ran.output
    yearly = pd.read_csv(tmp_path / "run" / "yearly.csv")
    assert yearly["regional_base"].sum() == pytest.approx(best["regional_money"], abs=1e-5)
    last = yearly[yearly["year"] == 2021]["reserves"].iloc[0]
    assert last == pytest.approx(best["reserves_2021"], abs=1e-5)
    # through the API, with no CSV rounding in between, the file's scenario gives exactly
    # the numbers the optimiser measured for the lever value the file holds
    loaded = load_config(policy_file)
    policy = load_policy(toy)
    model = ScenarioModel(loaded.document, tuple(policy.spec.outcomes.values()))
    from_file = model.evaluate({}, loaded.scenario.runs, loaded.scenario.seed)
    lever = loaded.document["base_funding"]["default"]["value"]
    assert lever == pytest.approx(best["base_funding.default.value"], abs=1e-6)
    searched = ScenarioModel(policy.document, tuple(policy.spec.outcomes.values()))
    in_search = searched.evaluate(policy.overrides([lever]), 1, policy.spec.seed)
    assert np.array_equal(from_file, in_search)


FRONT_POLICY = """
name = "toy_front"
base = "toy.toml"
replications = 1
seed = 2
budget = 120
population = 12

[levers."base_funding.default.value"]
range = [0.0, 3.0]
source = "assumed: test"

[levers."clusters.solo.activity_cost"]
range = [0.2, 0.8]
source = "assumed: test"

[outcomes.regional_money]
metric = "regional_base"
years = [2017, 2021]

[outcomes.activities]
metric = "costs"
year = 2021

[outcomes.reserves_2021]
metric = "reserves"
year = 2021

[objective]
minimise = ["regional_money"]
maximise = ["activities"]

[constraints]
reserves_2021 = {{ at_least = 0.0 }}
"""


def test_two_objectives_give_a_front_of_non_dominated_feasible_policies(
    toy: Path, tmp_path: Path
) -> None:
    path = tmp_path / "front.toml"
    path.write_text(FRONT_POLICY.format(), encoding="utf-8")
    result = execute_optimise(load_policy(path), quiet(tmp_path / "out"))
    pareto = pd.read_csv(result.folder / "pareto.csv", keep_default_na=False)
    assert len(pareto) >= 3 and (pareto["feasible"] == 1).all()
    money, activity = pareto["regional_money"].to_numpy(), pareto["activities"].to_numpy()
    for i in range(len(pareto)):  # nobody on the front is beaten in both objectives
        dominated = (
            (money <= money[i])
            & (activity >= activity[i])
            & ((money < money[i]) | (activity > activity[i]))
        )
        assert not dominated.any()
    # more activity costs more money, one for one per year on this toy, along the front
    order = np.argsort(money)
    assert np.all(np.diff(activity[order]) >= -1e-9)
    roles = {c.role for c in result.chosen}
    assert {"best regional_money", "best activities"} <= roles
    files = sorted(p.name for p in result.folder.glob("policy_*.toml"))
    assert files == [f"policy_{k}.toml" for k in range(1, len(result.chosen) + 1)]


def test_a_stopped_search_resumes_to_identical_files(toy: Path, tmp_path: Path) -> None:
    whole = execute_optimise(load_policy(toy), quiet(tmp_path / "whole", budget=80))
    policy = load_policy(toy)
    model = ScenarioModel(policy.document, tuple(policy.spec.outcomes.values()))

    class StopsAfter:
        left = 30

        def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
            return model.evaluate(overrides, replications, seed)

    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        execute_optimise(policy, quiet(out, budget=80), model=StopsAfter())
    resumed = invoke(
        "optimise", str(toy), "--out", str(out), "--budget", "80", "--resume", "--no-plots"
    )
    assert resumed.exit_code == 0, resumed.output
    for name in ("evaluations.csv", "pareto.csv", "out_of_sample.csv"):
        assert (whole.folder / name).read_bytes() == (out / name).read_bytes(), name

    def settings(path: Path) -> list[str]:  # all but the comment naming the folder
        return [x for x in path.read_text().splitlines() if not x.startswith("# Re-run")]

    assert settings(whole.folder / "policy_1.toml") == settings(out / "policy_1.toml")


def test_out_of_sample_is_reported_for_every_constraint(toy: Path, tmp_path: Path) -> None:
    result = invoke("optimise", str(toy), "--out", str(tmp_path / "out"), "--budget", "40")
    assert result.exit_code == 0, result.output
    checks = pd.read_csv(tmp_path / "out" / "out_of_sample.csv", keep_default_na=False)
    row = checks[checks["outcome"] == "reserves_2021"].iloc[0]
    assert row["bound"] == "at least 0.0"
    # the toy has no randomness, so fresh seeds give the same numbers
    assert row["in_sample"] == row["out_of_sample"] and str(row["met_out_of_sample"]) == "1"
    assert "on fresh seeds" in result.output and "policy_1" in result.output
    assert (tmp_path / "out" / "plots" / "convergence.png").stat().st_size > 10_000


def test_an_infeasible_policy_names_the_constraint_and_writes_nothing(
    toy: Path, tmp_path: Path
) -> None:
    toy.write_text(toy.read_text().replace("range = [0.0, 3.0]", "range = [0.0, 1.0]"))
    result = invoke("optimise", str(toy), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert (
        f"{toy}: constraints.reserves_2021: no policy meets it even at the levers' bounds"
        in lines[0]
    )
    # at b = 1.0 the reserves fall 0.3 a year (the toy cluster never closes): 0.4 - 1.5
    expected_best = OPENING + YEARS * (1.0 + FEES + PRIVATE + OTHER - COSTS)
    assert f"{expected_best:.4g}" in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.work").exists()


def test_bad_policy_files_list_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        f"""
name = "bad"
base = "{BASELINE.as_posix()}"
budgett = 10

[levers."base_funding.default.values.2022"]
range = [2.0, 1.0]

[levers."members.churm"]
range = [0.1, 0.2]

[outcomes.money]
metric = "regional_base"
years = [2022, 2025]

[objective]
minimise = ["mony"]

[constraints]
no_closures = {{ at_least = 0.9 }}
""",
        encoding="utf-8",
    )
    result = invoke("optimise", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    expected = [
        ("budgett", "did you mean 'budget'"),
        ("levers.base_funding.default.values.2022", "empty or inverted"),
    ]
    for key, message in expected:
        assert any(f"{path}: {key}: " in line and message in line for line in lines), (key, lines)
    fixed = path.read_text().replace("budgett", "budget").replace("[2.0, 1.0]", "[0.0, 2.0]")
    path.write_text(fixed)
    result = invoke("optimise", str(path), "--out", str(tmp_path / "out"))
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    expected = [
        ("levers.members.churm", "did you mean 'members.churn'"),
        ("objective.minimise", "'mony' is not an outcome"),
        ("constraints.no_closures", "'no_closures' is not an outcome"),
    ]
    for key, message in expected:
        assert any(f"{path}: {key}: " in line and message in line for line in lines), (key, lines)
    assert len(lines) == len(expected)
    path.write_text(
        fixed.replace('[levers."members.churm"]\nrange = [0.1, 0.2]\n', "").replace(
            '[levers."base_funding.default.values.2022"]\nrange = [0.0, 2.0]\n', ""
        )
    )
    result = invoke("optimise", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "levers" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "name", ["least_base_after_2021", "least_base_from_2019", "base_per_cluster_front"]
)
def test_the_shipped_policies_load_with_labelled_levers(name: str) -> None:
    """Levers that add 2022, 2023 ... to a year table only make sense together: the
    ranges are checked at their ends all at once, and every range says where it comes from."""
    policy = load_policy(BASELINE.parent / "policies" / f"{name}.toml")
    assert policy.levers
    for lever in policy.levers:
        assert lever.spec.source.split(":")[0] in ("seed", "sourced", "derived", "assumed")
    corner = policy.overrides([lever.spec.bounds[1] for lever in policy.levers])
    assert all(value == 3.0 for value in corner.values())


def test_a_lever_that_breaks_the_scenario_alone_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    text = (BASELINE.parent / "policies" / "least_base_after_2021.toml").read_text()
    path.write_text(
        text.replace('base = "../baseline.toml"', f'base = "{BASELINE.as_posix()}"')
        + '\n[levers."members.churn"]\nrange = [0.1, 1.5]\nsource = "assumed: test"\n'
    )
    result = invoke("optimise", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "levers.members.churn: at 1.5 the scenario is invalid" in lines[0]


def test_dask_gives_the_same_search_as_the_local_pool(toy: Path, tmp_path: Path) -> None:
    from scenarios.engine.executor import Backend

    local = execute_optimise(load_policy(toy), quiet(tmp_path / "local", budget=40))
    dask = execute_optimise(
        load_policy(toy), quiet(tmp_path / "dask", budget=40, backend=Backend("dask", 2))
    )
    for name in ("evaluations.csv", "pareto.csv", "out_of_sample.csv"):
        assert (local.folder / name).read_bytes() == (dask.folder / name).read_bytes(), name


def test_rounded_levers_land_on_the_grid(toy: Path, tmp_path: Path) -> None:
    result = execute_optimise(load_policy(toy), quiet(tmp_path / "out", budget=40))
    evaluations = pd.read_csv(result.folder / "evaluations.csv")
    levers = evaluations["base_funding.default.value"].to_numpy()
    assert len(set(levers)) > 5
    hundredths = levers / LEVER_RESOLUTION
    assert np.allclose(hundredths, np.round(hundredths), atol=1e-9), levers
    assert all(len(f"{v}".split(".")[-1]) <= 2 for v in levers), "no 16-digit values"
    assert (levers >= 0.0).all() and (levers <= 3.0).all()
    grid = on_grid(np.array([[0.123456, 2.999], [-0.004, 3.02]]), np.zeros(2), np.full(2, 3.0))
    assert grid.tolist() == [[0.12, 3.0], [0.0, 3.0]]


def test_the_printed_policy_path_works_from_here(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    result = invoke("optimise", str(toy), "--out", str(out), "--budget", "40", "--no-plots")
    assert result.exit_code == 0, result.output
    named = re.findall(r"\): (\S+\.toml)", result.output)
    assert named and all(Path(path).is_file() for path in named), result.output


def test_a_lever_label_names_the_lever(toy: Path, tmp_path: Path) -> None:
    toy.write_text(
        toy.read_text(encoding="utf-8").replace(
            'source = "assumed: test"', 'source = "assumed: test"\nlabel = "Base per cluster"', 1
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = invoke("optimise", str(toy), "--out", str(out), "--budget", "40", "--no-plots")
    assert result.exit_code == 0, result.output
    assert "levers: Base per cluster = " in result.output


def test_optimise_speaks_swedish_with_decimal_commas(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "optimise", str(toy), "--out", str(out), "--budget", "40", "--no-plots", "--lang", "sv"
    )
    assert result.exit_code == 0, result.output
    assert "40 utvärderingar × 1 körningar (GA); 1 på den tillåtna fronten" in result.output
    assert re.search(r"styrmedel: base funding value = 1,2\d", result.output), result.output
    assert re.search(r"reserves_2021: \d,\d+ i urvalet, \d,\d+ med nya frön", result.output)
    assert "(måste vara minst 0,0)  uppfyllt" in result.output
    assert "levers" not in result.output and "in sample" not in result.output
    checks = pd.read_csv(out / "out_of_sample.csv", keep_default_na=False)
    assert "at least 0.0" in set(checks["bound"]), "the table stays as it is"
    assert "--lang [en|sv]" in invoke("optimise", "--help").output


def _search(generations: list[int], costs: list[float], feasible: list[int]) -> SimpleNamespace:
    evaluations = pd.DataFrame(
        {
            "evaluation": range(len(costs)),
            "generation": generations,
            "cost": costs,
            "feasible": feasible,
        }
    )
    return SimpleNamespace(
        evaluations=evaluations,
        pareto=evaluations.iloc[[int(np.argmin(costs))]],
        manifest={"policy": {"objective": {"minimise": ["cost"], "maximise": []}}},
    )


def test_still_improving_at_the_last_generation() -> None:
    improving = _search([0, 1, 1, 2, 2], [9.0, 5.0, 6.0, 4.0, 7.0], [1, 1, 1, 1, 1])
    assert still_improving(improving)
    settled = _search([0, 1, 1, 2, 2], [9.0, 4.0, 6.0, 4.0, 7.0], [1, 1, 1, 1, 1])
    assert not still_improving(settled)
    infeasible_gain = _search([0, 1, 2], [9.0, 5.0, 1.0], [1, 1, 0])
    assert not still_improving(infeasible_gain), "an infeasible candidate is no policy"
