"""Every kind of bad input: one line per problem naming file and key, non-zero exit,
no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke

CHILD = 'extends = "baseline.toml"\nname = "broken"\n'
PROJECT = """
[[projects]]
id = "X1"
title = "test"
area = "smart_materials"
clusters = {clusters}
cost_per_year = 0.5
duration = 2
earliest_start = 2019
cofunding_per_year = 0.2
impact = 3.0
"""

CASES = {
    "unknown_key": ("[members]\nchurm = 0.1\n", "members.churm", "did you mean 'churn'"),
    "wrong_type": ('[members]\nchurn = "high"\n', "members.churn", "valid number"),
    "negative_amount": (
        "[clusters.packbridge]\nstaff_cost = -1.0\n",
        "clusters.packbridge.staff_cost",
        "greater than or equal to 0",
    ),
    "floor_above_start": (
        '[base_funding.default]\nkind = "taper"\nstart = 1.0\nfloor = 2.0\nfloor_year = 2021\n',
        "base_funding.default.floor",
        "above the starting level",
    ),
    "years_out_of_order": (
        '[arena.budget]\nkind = "table"\nvalues = { 2018 = 1.0, 2017 = 0.0 }\n',
        "arena.budget.values",
        "out of order",
    ),
    "years_outside_horizon": (
        '[arena.budget]\nkind = "table"\n'
        "values = { " + ", ".join(f"{y} = 1.0" for y in range(2017, 2036)) + " }\n",
        "arena.budget.values",
        "outside the programme",
    ),
    "unknown_cluster_in_project": (
        PROJECT.format(clusters='["packbridge", "atlantis"]'),
        "projects.0.clusters",
        "unknown cluster 'atlantis'",
    ),
    "project_with_one_cluster": (
        PROJECT.format(clusters='["packbridge"]'),
        "projects.0.clusters",
        "at least 2",
    ),
    "unknown_schedule_kind": (
        '[arena.budget]\nkind = "wave"\n',
        "arena.budget",
        "kind",
    ),
    "bad_provenance_label": (
        '[provenance]\n"members.churn" = "guess: from nowhere"\n',
        "provenance.members.churn",
        "seed, sourced, derived, assumed",
    ),
}


def _assert_clean_failure(result, *needles: str) -> list[str]:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    # notes before the work (a time estimate, parameter sets left unused) are not errors
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("note: ")
    ]
    assert lines, "expected at least one error line on stderr"
    assert all(line.startswith("error: ") for line in lines), lines
    for needle in needles:
        assert any(needle in line for line in lines), (needle, lines)
    return lines


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_clear_line(case: str, config_dir: Path, tmp_path: Path) -> None:
    body, key, message = CASES[case]
    path = config_dir / "broken.toml"
    path.write_text(CHILD + body, encoding="utf-8")
    _assert_clean_failure(invoke("validate", str(path)), "broken.toml", key, message)
    out = tmp_path / "out"
    _assert_clean_failure(invoke("run", str(path), "--out", str(out), "--runs", "1"), key)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["configs"], "nothing half-written"


def test_missing_file(tmp_path: Path) -> None:
    _assert_clean_failure(
        invoke("validate", str(tmp_path / "nope.toml")), "nope.toml", "no such file"
    )


def test_unparsable_toml_names_the_line(config_dir: Path) -> None:
    path = config_dir / "broken.toml"
    path.write_text(CHILD + "[members\nchurn = 0.1\n", encoding="utf-8")
    _assert_clean_failure(invoke("validate", str(path)), "broken.toml", "line 3")


def test_error_names_the_file_that_set_the_key(config_dir: Path) -> None:
    (config_dir / "middle.toml").write_text(
        'extends = "baseline.toml"\n[members]\nchurn = -0.5\n', encoding="utf-8"
    )
    path = config_dir / "top.toml"
    path.write_text('extends = "middle.toml"\nname = "top"\n', encoding="utf-8")
    lines = _assert_clean_failure(invoke("validate", str(path)), "members.churn")
    assert any("middle.toml: members.churn" in line for line in lines), lines


def test_all_problems_reported_at_once(config_dir: Path) -> None:
    path = config_dir / "broken.toml"
    path.write_text(
        CHILD + "[members]\nchurm = 0.1\nfirst_year_churn = 2.0\n[management]\nmax_effort = -1\n",
        encoding="utf-8",
    )
    lines = _assert_clean_failure(
        invoke("validate", str(path)),
        "members.churm",
        "members.first_year_churn",
        "management.max_effort",
    )
    assert len(lines) == 3


def test_all_cross_field_problems_at_once(config_dir: Path) -> None:
    path = config_dir / "broken.toml"
    path.write_text(
        CHILD
        + PROJECT.format(clusters='["atlantis"]')
        + '[base_funding.default]\nkind = "taper"\nstart = 1.0\nfloor = 2.0\nfloor_year = 2050\n',
        encoding="utf-8",
    )
    lines = _assert_clean_failure(invoke("validate", str(path)))
    assert len(lines) == 4, lines  # unknown cluster, < 2 clusters, floor above start, floor_year


def test_extends_cycle(config_dir: Path) -> None:
    (config_dir / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (config_dir / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    _assert_clean_failure(invoke("validate", str(config_dir / "a.toml")), "extends", "cycle")


@pytest.mark.parametrize("item", ["members.churn", "=0.1", "members..churn=1", "members.churn="])
def test_malformed_set(item: str, config_dir: Path) -> None:
    _assert_clean_failure(
        invoke("validate", str(config_dir / "baseline.toml"), "--set", item), "--set"
    )


def test_set_of_unknown_key_suggests(config_dir: Path) -> None:
    result = invoke("validate", str(config_dir / "baseline.toml"), "--set", "members.chrun=0.1")
    _assert_clean_failure(result, "members.chrun", "did you mean 'churn'")


def test_results_folder_in_the_way(config_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious", encoding="utf-8")
    result = invoke("run", str(config_dir / "baseline.toml"), "--out", str(out), "--runs", "1")
    lines = _assert_clean_failure(result, str(out), "choose another --out")
    assert not any("--force" in line for line in lines), "--force cannot replace a foreign folder"
    assert (out / "keep.txt").read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["configs", "out"]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scenarios.cli import cli
    from scenarios.core.errors import UserError

    result = CliRunner().invoke(cli, ["--debug", "validate", str(tmp_path / "nope.toml")], obj={})
    assert isinstance(result.exception, UserError)
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.toml"), "--debug"], obj={})
    assert isinstance(result.exception, UserError)


HARD_AND_INFEASIBLE = ("allocator.soft_targets=false", "allocator.cofunding_min_ratio=0.9")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_infeasible_allocation_in_a_run_is_one_line(
    jobs: str, config_dir: Path, tmp_path: Path
) -> None:
    # the hand-set scenario: every cluster is still open in 2019 in every run, as in allocate
    config = str(config_dir / "uncalibrated.toml")
    sets = [arg for item in HARD_AND_INFEASIBLE for arg in ("--set", item)]
    out = tmp_path / "results" / "hard"
    result = invoke(
        "run", config, "--out", str(out), "--runs", "4", "--jobs", jobs, "--horizon", "2023", *sets
    )
    assert result.exit_code == 2
    lines = _assert_clean_failure(result, "allocator: the arena allocation for 2019 is infeasible")
    assert len(lines) == 1 and "internal error" not in lines[0]
    allocate = invoke("allocate", config, "--year", "2019", *sets)
    assert allocate.exit_code == 2 and allocate.stderr.splitlines() == lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["configs"], "nothing written"


def test_infeasible_allocation_survives_pickling() -> None:
    import pickle

    from simulator.lp import InfeasibleAllocation

    exc = InfeasibleAllocation(2019, ["cover_x_2019"], {"cofunding_ratio_2019": 0.5})
    again = pickle.loads(pickle.dumps(exc))
    assert str(again) == str(exc) and again.relaxation == exc.relaxation
