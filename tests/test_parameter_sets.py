"""Parameter sets: run r uses set r mod K, whatever the batch, the process or the backend,
and a bad set file is one line per problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, invoke

from scenarios.config.scenario import load_config
from scenarios.engine.points import ScenarioModel
from simulator.outcomes import Outcome

CSVS = ("yearly.csv", "allocation.csv", "events.csv", "summary.csv", "scorecard.csv")
SETS = (
    "set,members.churn,clusters.packbridge.private_income,clusters.iuc_syd.other_public\n"
    "0,0.08,1.0,0.5\n"
    "1,0.16,4.0,2.0\n"
    "2,0.12,2.5,1.0\n"
)


def _scenario(folder: Path, sets: str = SETS, name: str = "with_sets") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sets.csv").write_text(sets)
    path = folder / f"{name}.toml"
    path.write_text(
        f'extends = "{BASELINE}"\nname = "{name}"\n'
        'parameter_sets = "sets.csv"\n[provenance]\nparameter_sets = "assumed: a test"\n'
    )
    return path


def _run(config: Path, out: Path, *options: str):
    result = invoke(
        "run", str(config), "--out", str(out), "--runs", "7", "--horizon", "2022",
        "--seed", "5", "--no-plots", *options,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def test_run_r_uses_set_r_mod_k_and_says_so(tmp_path: Path) -> None:
    config = _scenario(tmp_path / "cfg")
    _run(config, tmp_path / "sets")
    manifest = json.loads((tmp_path / "sets" / "manifest.json").read_text())
    assert manifest["parameter_sets"]["set_of_run"] == [0, 1, 2, 0, 1, 2, 0]
    assert manifest["config"]["parameter_sets"]["values"][1] == [0.16, 4.0, 2.0]
    yearly = pd.read_csv(tmp_path / "sets" / "yearly.csv")
    # run 4 uses set 1: the same numbers as run 4 of the scenario with set 1's values set
    _run(
        BASELINE,
        tmp_path / "set1",
        "--set", "members.churn=0.16",
        "--set", "clusters.packbridge.private_income=4.0",
        "--set", "clusters.iuc_syd.other_public=2.0",
    )  # fmt: skip
    alone = pd.read_csv(tmp_path / "set1" / "yearly.csv")
    pd.testing.assert_frame_equal(
        yearly[yearly.run == 4].reset_index(drop=True), alone[alone.run == 4].reset_index(drop=True)
    )
    # and set 0's runs differ from it
    assert (
        not yearly[yearly.run == 3]
        .members.reset_index(drop=True)
        .equals(alone[alone.run == 3].members.reset_index(drop=True))
    )


def test_sets_give_byte_identical_files_for_any_batch_jobs_and_backend(tmp_path: Path) -> None:
    config = _scenario(tmp_path / "cfg")
    files = {}
    for options in (
        ("--batch-size", "1", "--jobs", "1"),
        ("--batch-size", "7", "--jobs", "1"),
        ("--batch-size", "2", "--jobs", "2"),
        ("--batch-size", "3", "--jobs", "2", "--backend", "dask"),
    ):
        out = tmp_path / "_".join(options).replace("--", "")
        _run(config, out, *options)
        files[options] = {name: (out / name).read_bytes() for name in CSVS}
    first = next(iter(files.values()))
    for options, found in files.items():
        for name in CSVS:
            assert found[name] == first[name], (options, name)


def test_explore_replications_walk_through_the_sets_and_a_point_value_wins(tmp_path: Path) -> None:
    loaded = load_config(
        _scenario(tmp_path / "cfg"), options={"--horizon": ("programme.horizon", 2021)}
    )
    outcome = Outcome(metric="members", year=2021)
    model = ScenarioModel(loaded.document, (outcome,))
    plain = ScenarioModel(
        load_config(BASELINE, options={"--horizon": ("programme.horizon", 2021)}).document,
        (outcome,),
    )
    with_sets = model.evaluate({}, 6, 9)[:, 0]
    for r in range(6):  # replication r is the base with set r mod 3
        churn, income, other = [(0.08, 1.0, 0.5), (0.16, 4.0, 2.0), (0.12, 2.5, 1.0)][r % 3]
        overrides = {"members.churn": churn, "clusters.packbridge.private_income": income}
        overrides["clusters.iuc_syd.other_public"] = other
        alone = plain.evaluate(overrides, r + 1, 9)[r, 0]
        assert with_sets[r] == alone
    # a point that sets members.churn keeps its value in every replication
    fixed = model.evaluate({"members.churn": 0.3}, 3, 9)[:, 0]
    other = {"clusters.packbridge.private_income": 1.0, "clusters.iuc_syd.other_public": 0.5}
    assert fixed[0] == plain.evaluate({"members.churn": 0.3, **other}, 1, 9)[0, 0]
    assert np.all(fixed != with_sets[:3])


@pytest.mark.parametrize(
    "sets, where, what",
    [
        ("set,members.churn\n", "rows", "no parameter sets"),
        ("set,members.churn\n0,nan\n", "line 2: members.churn", "not a finite number"),
        ("set,members.churn\n0,\n", "line 2: members.churn", "is not a number"),
        ("set,members.churn\n0,1.5\n", "set 0", "members.churn: 1.5"),
        ("set,members.fee_tolerance\n0,0.1\n", "header", "cannot vary by run"),
        ("set,clusters.nowhere.churn\n0,0.1\n", "header", "unknown cluster 'nowhere'"),
        ("set,clusters.*.churn\n0,0.1\n", "header", "give each cluster's key"),
        ("set,members.churn\n1,0.1\n", "line 2", "number the sets 0, 1, 2"),
        ("members.churn\n0.1\n", "line 1", "first column must be 'set'"),
    ],
)
def test_a_bad_set_file_is_one_line_and_writes_nothing(
    tmp_path: Path, sets: str, where: str, what: str
) -> None:
    config = _scenario(tmp_path / "cfg", sets)
    out = tmp_path / "out"
    result = invoke("run", str(config), "--out", str(out), "--runs", "2", "--no-plots")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert f"sets.csv: {where}" in lines[0] and what in lines[0], lines[0]
    assert not out.exists()


def test_a_value_set_after_the_sets_is_kept_in_every_run(tmp_path: Path) -> None:
    config = _scenario(tmp_path / "cfg")
    child = tmp_path / "cfg" / "child.toml"
    child.write_text(
        f'extends = "{config}"\nname = "child"\n[members]\nchurn = 0.3\n'
        '[provenance.members]\nchurn = "assumed: a what-if"\n'
    )
    by_set = _run(config, tmp_path / "by_set", "--set", "members.churn=0.3")
    assert "use the first 1 of the 3 parameter sets once more" in by_set.output
    _run(child, tmp_path / "by_file")
    # run 4 uses set 1 for the other keys, and churn 0.3 as the user said
    _run(
        BASELINE,
        tmp_path / "alone",
        "--set", "members.churn=0.3",
        "--set", "clusters.packbridge.private_income=4.0",
        "--set", "clusters.iuc_syd.other_public=2.0",
    )  # fmt: skip
    alone = pd.read_csv(tmp_path / "alone" / "yearly.csv")
    for folder in ("by_set", "by_file"):
        yearly = pd.read_csv(tmp_path / folder / "yearly.csv")
        pd.testing.assert_frame_equal(
            yearly[yearly.run == 4].reset_index(drop=True),
            alone[alone.run == 4].reset_index(drop=True),
        )
        manifest = json.loads((tmp_path / folder / "manifest.json").read_text())
        assert manifest["config"]["parameter_sets"]["fixed"] == ["members.churn"]


def test_fewer_runs_than_sets_say_so(tmp_path: Path) -> None:
    config = _scenario(tmp_path / "cfg")
    result = invoke(
        "run", str(config), "--out", str(tmp_path / "o"), "--runs", "2", "--no-plots",
        "--horizon", "2021",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 runs use 2 of the 3 parameter sets" in result.output
