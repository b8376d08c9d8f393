"""What a second hostile review of the tool found (after issue 18's reproducers were fixed):
each test failed on the code it reviewed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CONFIGS, invoke

from scenarios.core.stops import Stopped
from scenarios.folders.publish import StagedFiles, default_folder
from scenarios.folders.work_folder import WorkFolder
from scenarios.present.sheets import write_workbook

QUICK = ("--runs", "2", "--horizon", "2021", "--no-plots")


def one_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    first, second = root / "a", root / "b"
    assert invoke("run", str(BASELINE), "--out", str(first), *QUICK).exit_code == 0
    assert invoke("run", str(BASELINE), "--out", str(second), *QUICK, "--seed", "2").exit_code == 0
    return first, second


# --- what --force may replace ---------------------------------------------------------------


def test_compare_never_replaces_a_run_it_compares(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    before = names(second)
    result = invoke("compare", str(first), str(second), "--out", str(second), "--force")
    assert "which this command reads" in one_error(result)
    assert names(second) == before


def test_export_mps_replaces_only_an_mps_file_and_never_an_input(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("notes", encoding="utf-8")
    args = ("allocate", str(BASELINE), "--year", "2018", "--force", "--export-mps")
    assert "not a file this tool wrote" in one_error(invoke(*args, str(notes)))
    assert notes.read_text(encoding="utf-8") == "notes"
    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS, configs)
    projects = configs / "projects.csv"
    before = projects.read_bytes()
    result = invoke(
        "allocate", str(configs / "baseline.toml"), "--year", "2018", "--force",
        "--export-mps", str(projects),
    )  # fmt: skip
    assert "is a file this command reads" in one_error(result)
    assert projects.read_bytes() == before
    mps = tmp_path / "a.mps"
    assert invoke(*args[:-2], "--export-mps", str(mps)).exit_code == 0
    assert invoke(*args, str(mps)).exit_code == 0


def test_run_never_replaces_a_folder_holding_its_projects_file(tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert invoke("run", str(BASELINE), "--out", str(out), *QUICK).exit_code == 0
    shutil.copy(CONFIGS / "projects.csv", out / "projects.csv")
    config = tmp_path / "c.toml"
    config.write_text(
        f'extends = "{BASELINE.as_posix()}"\nprojects_file = "res/projects.csv"\n',
        encoding="utf-8",
    )
    result = invoke("run", str(config), "--out", str(out), "--force", *QUICK)
    assert "which this command reads" in one_error(result)
    assert (out / "projects.csv").is_file()


def test_backtest_replaces_only_its_own_table_and_never_its_observations(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(two_runs[0], run)
    (run / "backtest.csv").write_text("my,own,notes\n", encoding="utf-8")
    observations = CONFIGS / "observations.csv"
    args = ("backtest", str(run), "--observations", str(observations), "--no-plots")
    assert "not a file this tool wrote" in one_error(invoke(*args, "--force"))
    assert (run / "backtest.csv").read_text(encoding="utf-8") == "my,own,notes\n"
    (run / "backtest.csv").unlink()
    assert invoke(*args).exit_code == 0
    assert invoke(*args, "--force").exit_code == 0  # its own table: replaced
    shutil.copy(observations, run / "mine.csv")
    result = invoke("backtest", str(run), "--observations", str(run / "backtest.csv"), "--force")
    assert result.exit_code == 2  # backtest.csv is no observations file, and is read here


def test_files_for_a_folder_replaced_meanwhile_are_not_published(tmp_path: Path) -> None:
    """A run --force replaced the folder while backtest was scoring it: backtest's files
    would land in the new run's folder, or vanish with the old one."""
    folder = tmp_path / "run"
    folder.mkdir()
    staged = StagedFiles([folder / "backtest.csv"], force=False, within=folder)
    with pytest.raises(Exception, match="was replaced while this command ran"), staged:
        staged.path(folder / "backtest.csv").write_text("x", encoding="utf-8")
        folder.rename(tmp_path / ".run.replaced-1")
        folder.mkdir()  # the new run's folder
    assert names(folder) == []


# --- the model's range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("clusters.tourism.staff_cost=1e308", "less than or equal to 1000000"),
        ("clusters.tourism.members=1000000000", "less than or equal to 100000"),
        ("programme.horizon=2200", "less than or equal to 2100"),
        ("members.join_rate=1", "would take its membership past 100,000"),
    ],
)
def test_numbers_beyond_the_models_range_are_one_line(
    setting: str, message: str, tmp_path: Path
) -> None:
    out = tmp_path / "res"
    line = one_error(invoke("run", str(BASELINE), "--out", str(out), "--set", setting, *QUICK[:2]))
    assert message in line
    assert not out.exists() and names(tmp_path) == []


def test_money_that_blows_up_is_one_line_not_inf(tmp_path: Path) -> None:
    """A base that doubles every year to 2100 reaches 1e22 MSEK: refused, not written as
    inf, nan or float noise."""
    grow = 'base_funding.default={kind="table",values={2017=2.0},after="grow",growth=1.0}'
    out = tmp_path / "res"
    result = invoke(
        "run", str(BASELINE), "--out", str(out), "--set", grow, "--horizon", "2100", "--runs", "1"
    )
    assert "regional_base reached" in one_error(result)
    assert not out.exists()


# --- checks ------------------------------------------------------------------------------------


def test_lhs_with_no_samples_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "e.toml"
    spec.write_text(
        f'name = "e"\nbase = "{BASELINE.as_posix()}"\ndesign = "lhs"\nsamples = 0\n'
        '[uncertain."members.churn"]\nrange = [0.1, 0.2]\n'
        '[outcomes.m]\nmetric = "members"\nyear = 2021\n',
        encoding="utf-8",
    )
    assert "samples: must be at least 1" in one_error(invoke("explore", str(spec)))


def test_an_output_name_too_long_for_the_file_system_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / ("x" * 300)
    assert "File name too long" in one_error(invoke("run", str(BASELINE), "--out", str(out)))
    assert len(default_folder("y" * 300).name) == 100


def test_an_empty_scheduler_address_is_refused() -> None:
    spec = CONFIGS / "experiments" / "what_matters.toml"
    assert "not a Dask scheduler address" in one_error(
        invoke("explore", str(spec), "--scheduler", "")
    )


def test_a_projects_file_without_the_columns_says_so(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text('{"a": 1}\n{"b": 2}\n', encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(f'extends = "{BASELINE.as_posix()}"\nprojects_file = "p.csv"\n', "utf-8")
    line = one_error(invoke("validate", str(config)))
    assert "header: missing column(s) id, title, area" in line


def test_a_foreign_folder_in_the_way_is_not_offered_force(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    line = one_error(invoke("run", str(BASELINE), "--out", str(tmp_path / "mine"), *QUICK))
    assert "not a results folder this tool wrote" in line and "--force" not in line


# --- stops --------------------------------------------------------------------------------------


def test_a_stop_while_the_workbook_is_made_stays_a_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas' writer raised IndexError ("at least one sheet must be visible") on the way
    out, which hid the stop (an internal error instead of 'interrupted')."""
    import scenarios.present.sheets as sheets

    def stopped(table: pd.DataFrame) -> pd.DataFrame:
        raise Stopped(15)

    monkeypatch.setattr(sheets, "_printable", stopped)
    with pytest.raises(Stopped):
        write_workbook({"a": pd.DataFrame({"x": [1.0]})}, tmp_path / "w.xlsx")


def test_a_job_stopped_before_any_work_leaves_no_folder_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "res"
    with pytest.raises(Stopped) as stopped, WorkFolder(out, "f", {}, False, False):
        raise Stopped(15)
    assert getattr(stopped.value, "kept_work", None) is None and names(tmp_path) == []
    with pytest.raises(Stopped) as stopped, WorkFolder(out, "f", {}, False, False) as work:
        work.save_chunk(0, np.zeros((1, 2)))
        raise Stopped(15)
    assert stopped.value.kept_work == work.path and os.path.isdir(work.path)


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("parameter_sets=x.csv", "named in a scenario file"),
        ("clusters.media_evolutio.churn=0.1", "did you mean 'media_evolution'?"),
        ("clusters.nope.churn=0.1", "has no cluster 'nope'; its clusters: media_evolution"),
    ],
)
def test_a_set_that_could_only_be_a_mistake_is_one_line(
    tmp_path: Path, setting: str, words: str
) -> None:
    out = tmp_path / "out"
    result = invoke("run", str(BASELINE), "--runs", "2", "--out", str(out), "--set", setting)
    assert result.exit_code == 2 and words in one_error(result), result.stderr
    assert not out.exists()


def test_an_empty_parameter_sets_name_says_what_it_wants(tmp_path: Path) -> None:
    scenario = tmp_path / "empty_sets.toml"
    scenario.write_text(f'extends = "{BASELINE}"\nparameter_sets = ""\n', encoding="utf-8")
    result = invoke("run", str(scenario), "--runs", "2", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.stderr
    assert "parameter_sets: must name a CSV file" in one_error(result)
