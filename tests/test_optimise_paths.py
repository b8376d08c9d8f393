"""optimise's year-path rule and its cost against the plan: mended paths by hand, the rule's
invariants (hypothesis), a search whose every candidate keeps the rule, the plan's numbers
on the toy model by hand, and a rule that cannot apply refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import invoke
from hypothesis import given, settings
from hypothesis import strategies as st
from test_optimise import COSTS, FEES, OPENING, OTHER, PRIVATE, TOY, TOY_POLICY, YEARS, quiet

from scenarios.config.policy import LEVER_RESOLUTION, YearPaths, load_policy, year_paths
from scenarios.engine.points import PointFailed, ScenarioModel
from scenarios.engine.search import keep_year_paths
from scenarios.folders.optimise_folder import OptimiseFolder
from scenarios.present.optimise_charts import convergence_figure, plan_value
from scenarios.studies.optimise import execute_optimise

YEARS_OF_TOY = range(2017, 2022)
TABLE_BASE = 'kind = "table"\nvalues = { 2017 = 1.0, 2018 = 1.0, 2019 = 1.0, 2020 = 1.0, 2021 = 1.0 }\nafter = "hold_last"'
YEAR_LEVERS = "".join(
    f'[levers."base_funding.default.values.{year}"]\nrange = [0.0, 3.0]\nsource = "assumed: test"\n'
    for year in YEARS_OF_TOY
)


def mend(rows: list[list[float]], **rule: object) -> list[list[float]]:
    paths = [list(range(len(rows[0])))]
    return keep_year_paths(np.array(rows), paths, YearPaths(**rule)).tolist()


def test_mended_paths_by_hand() -> None:
    assert mend([[2.0, 2.5, 1.0, 1.2]], direction="non_increasing") == [[2.0, 2.0, 1.0, 1.0]]
    assert mend([[0.5, 0.4, 2.0]], direction="non_decreasing") == [[0.5, 0.5, 2.0]]
    assert mend([[2.0, 0.5, 1.5, 3.0]], max_step=0.5) == [[2.0, 1.5, 1.5, 2.0]]
    both = mend([[2.0, 2.5, 1.0]], direction="non_increasing", max_step=0.3)
    assert both == [[2.0, 2.0, 1.7]]


def test_year_paths_group_keys_that_differ_only_in_their_year() -> None:
    names = [
        "base_funding.default.values.2020",
        "arena.budget.value",
        "base_funding.default.values.2019",
        "clusters.a.churn",
        "base_funding.x.values.2022",  # a path of one year is no path
    ]
    assert year_paths(names) == [[2, 0]]


GRID = st.integers(0, 300).map(lambda k: round(k * LEVER_RESOLUTION, 10))  # as on_grid


@settings(max_examples=200, deadline=None)
@given(
    path=st.lists(GRID, min_size=2, max_size=8),
    direction=st.sampled_from(["any", "non_increasing", "non_decreasing"]),
    steps=st.integers(1, 100),
)
def test_a_mended_path_keeps_the_rule_its_range_and_the_grid(
    path: list[float], direction: str, steps: int
) -> None:
    rule = YearPaths(direction=direction, max_step=steps * LEVER_RESOLUTION)
    mended = keep_year_paths(np.array([path]), [list(range(len(path)))], rule)[0]
    change = np.diff(mended)
    assert (np.abs(change) <= rule.max_step + 1e-9).all()
    if direction == "non_increasing":
        assert (change <= 1e-12).all()
    if direction == "non_decreasing":
        assert (change >= -1e-12).all()
    assert mended[0] == path[0] and (mended >= 0).all() and (mended <= 3.0).all()
    assert np.allclose(mended / LEVER_RESOLUTION, np.round(mended / LEVER_RESOLUTION))
    again = keep_year_paths(mended[None, :], [list(range(len(path)))], rule)[0]
    assert np.array_equal(again, mended)  # a path that keeps the rule is left as it is


def year_policy(tmp_path: Path, rule: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "toy.toml").write_text(
        TOY.replace('kind = "hold"\nvalue = 1.0', TABLE_BASE, 1), encoding="utf-8"
    )
    text = TOY_POLICY.format().replace(
        '[levers."base_funding.default.value"]\nrange = [0.0, 3.0]\nsource = "assumed: test"\n',
        YEAR_LEVERS,
    )
    path = tmp_path / "policy.toml"
    path.write_text(text + rule, encoding="utf-8")
    return path


def test_every_candidate_of_a_ruled_search_keeps_the_rule(tmp_path: Path) -> None:
    levers = [f"base_funding.default.values.{year}" for year in YEARS_OF_TOY]
    rule = '\n[year_paths]\ndirection = "non_increasing"\nmax_step = 0.5\n'
    ruled = execute_optimise(
        load_policy(year_policy(tmp_path, rule)), quiet(tmp_path / "ruled", budget=60)
    )
    change = np.diff(pd.read_csv(ruled.folder / "evaluations.csv")[levers].to_numpy(), axis=1)
    assert (change <= 1e-9).all() and (change >= -0.5 - 1e-9).all()
    free = execute_optimise(
        load_policy(year_policy(tmp_path / "free", "")), quiet(tmp_path / "free_out", budget=60)
    )
    change = np.diff(pd.read_csv(free.folder / "evaluations.csv")[levers].to_numpy(), axis=1)
    assert (change > 0).any(), "without the rule the search tries rising paths"


@pytest.mark.parametrize(
    ("rule", "key", "words"),
    [
        ("[year_paths]\nmax_step = 0.255\n", "year_paths.max_step", "not a multiple"),
        ("[year_paths]\n", "year_paths", "give 'direction'"),
    ],
)
def test_a_rule_that_cannot_apply_is_one_line(
    tmp_path: Path, rule: str, key: str, words: str
) -> None:
    path = year_policy(tmp_path, "\n" + rule)
    result = invoke("optimise", str(path), "--out", str(tmp_path / "out"))
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert result.exit_code == 2 and len(errors) == 1, result.stderr
    assert key in errors[0] and words in errors[0], errors
    assert not (tmp_path / "out").exists()


def test_a_rule_without_a_year_path_or_with_mixed_ranges_is_refused(tmp_path: Path) -> None:
    (tmp_path / "toy.toml").write_text(TOY, encoding="utf-8")
    lone = tmp_path / "lone.toml"
    lone.write_text(
        TOY_POLICY.format() + '\n[year_paths]\ndirection = "non_increasing"\n', encoding="utf-8"
    )
    result = invoke("optimise", str(lone), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no two levers form a year path" in result.stderr
    mixed = year_policy(tmp_path, '\n[year_paths]\ndirection = "non_increasing"\n')
    mixed.write_text(mixed.read_text().replace("range = [0.0, 3.0]", "range = [0.0, 2.0]", 1))
    result = invoke("optimise", str(mixed), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "must share one range" in result.stderr, result.stderr


def test_the_plan_is_the_base_scenario_on_the_same_fresh_seeds(tmp_path: Path) -> None:
    (tmp_path / "toy.toml").write_text(TOY, encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(TOY_POLICY.format(), encoding="utf-8")
    result = invoke("optimise", str(path), "--out", str(tmp_path / "out"), "--budget", "40")
    assert result.exit_code == 0, result.stderr
    checks = pd.read_csv(tmp_path / "out" / "out_of_sample.csv").set_index("outcome")
    # the toy's plan: a base of 1.0 in each of the five years
    assert checks.loc["regional_money", "plan"] == pytest.approx(YEARS * 1.0)
    planned_reserves = OPENING + YEARS * (1.0 + FEES + PRIVATE + OTHER - COSTS)
    assert checks.loc["reserves_2021", "plan"] == pytest.approx(planned_reserves)
    against = checks["out_of_sample"] - checks["plan"]
    assert np.allclose(checks["against_plan"], against)
    money = checks.loc["regional_money"]
    assert (
        f"under the plan {money['plan']:.4g} ({money['against_plan']:+.4g} with this policy)"
        in result.stdout
    )
    folder = OptimiseFolder.open(tmp_path / "out")
    plan = plan_value(folder, "regional_money")
    assert plan == pytest.approx(YEARS * 1.0)
    figure = convergence_figure(folder.evaluations, folder.pareto, folder.manifest, "en", plan)
    dashed = [line for line in figure.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and set(dashed[0].get_ydata()) == {plan}
    assert "the plan (base scenario, fresh seeds): 5" in dashed[0].get_label()


def test_a_plan_the_model_cannot_run_leaves_its_cells_empty(tmp_path: Path) -> None:
    (tmp_path / "toy.toml").write_text(TOY, encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(TOY_POLICY.format(), encoding="utf-8")
    policy = load_policy(path)
    model = ScenarioModel(policy.document, tuple(policy.spec.outcomes.values()))

    class PlanFails:
        def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
            if not overrides:
                raise PointFailed("toy.toml", overrides, "the arena allocation is infeasible")
            return model.evaluate(overrides, replications, seed)

    result = execute_optimise(policy, quiet(tmp_path / "out", budget=30), model=PlanFails())
    checks = pd.read_csv(result.folder / "out_of_sample.csv", keep_default_na=False)
    assert (checks["plan"] == "").all() and (checks["against_plan"] == "").all()
    assert (checks["out_of_sample"] != "").all()
