"""`clusterfund run` end to end: the results-folder contract, determinism, reproduction."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CONFIGS, invoke

import scenarios.studies.run as run_module
from scenarios.config.scenario import load_config
from scenarios.engine.executor import Backend, Executor
from scenarios.folders.run_folder import RunFolder
from scenarios.present.pyplot import DPI, plt, save_png
from scenarios.present.run_charts import LONGEST_TO_DRAW_FIRST, RUN_PLOTS, draw_run_plots
from scenarios.studies.run import draw_plots
from simulator.records import LEFT_STATUSES

CSVS = ("yearly.csv", "allocation.csv", "summary.csv", "scorecard.csv", "events.csv")
YEARLY_CONTRACT = [
    "run",
    "year",
    "cluster",
    "members",
    "fee_income",
    "private_income",
    "regional_base",
    "arena_income",
    "other_public",
    "total_income",
    "costs",
    "reserves",
    "status",
]
FIVE = ["fee_income", "private_income", "regional_base", "arena_income", "other_public"]


def _run(out: Path, *extra: str, config: Path = BASELINE) -> Path:
    result = invoke(
        "run", str(config), "--out", str(out), "--runs", "6", "--horizon", "2023", *extra
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("runs") / "baseline")


def test_results_folder_holds_the_contract(baseline_run: Path) -> None:
    for name in (*CSVS, "manifest.json"):
        assert (baseline_run / name).is_file(), name
    yearly = pd.read_csv(baseline_run / "yearly.csv")
    assert list(yearly.columns[: len(YEARLY_CONTRACT)]) == YEARLY_CONTRACT
    assert len(yearly) == 6 * 7 * 10  # runs × years × clusters
    exact = pd.read_csv(baseline_run / "yearly.csv", dtype=str)  # the text, as decimals
    total = exact.total_income.map(Decimal)
    assert (total == sum(exact[c].map(Decimal) for c in FIVE)).all()
    allocation = pd.read_csv(baseline_run / "allocation.csv")
    assert list(allocation.columns[:7]) == [
        "run",
        "year",
        "project",
        "area",
        "clusters",
        "funded",
        "cost",
    ]
    scorecard = pd.read_csv(baseline_run / "scorecard.csv")
    assert {"target", "year", "probability"} <= set(scorecard.columns)
    assert scorecard.probability.between(0, 1).all()
    assert set(scorecard.year) == set(range(2021, 2024))
    plots = sorted(p.name for p in (baseline_run / "plots").glob("*.png"))
    assert plots == sorted(f"{name}.png" for name in RUN_PLOTS)
    for png in (baseline_run / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_manifest_records_what_reproduces_the_run(baseline_run: Path, tmp_path: Path) -> None:
    manifest = json.loads((baseline_run / "manifest.json").read_text())
    assert manifest["seed"] == 20170101 and manifest["runs"] == 6 and manifest["horizon"] == 2023
    assert len(manifest["config_sha256"]) == 64
    for package in ("clusterfund", "python", "numpy", "pandas", "pulp", "simpy", "solver"):
        assert package in manifest["versions"]
    assert manifest["config"]["programme"]["horizon"] == 2023
    again = tmp_path / "again"
    result = invoke("run", str(baseline_run / "manifest.json"), "--out", str(again), "--runs", "6")
    assert result.exit_code == 0, result.output
    for name in CSVS:
        assert (again / name).read_bytes() == (baseline_run / name).read_bytes(), name
    assert (
        json.loads((again / "manifest.json").read_text())["config_sha256"]
        == manifest["config_sha256"]
    )


def test_same_output_whatever_the_number_of_jobs(baseline_run: Path, tmp_path: Path) -> None:
    parallel = _run(tmp_path / "parallel", "--jobs", "2", "--no-plots")
    for name in CSVS:
        assert (parallel / name).read_bytes() == (baseline_run / name).read_bytes(), name


def test_charts_drawn_side_by_side_are_the_bytes_drawn_one_by_one(
    baseline_run: Path, tmp_path: Path
) -> None:
    run = RunFolder.open(baseline_run)
    with Executor(Backend(jobs=2)) as executor:  # two worker processes, five charts
        draw_plots(executor, run, tmp_path / "side_by_side", "en")
    one_by_one = draw_run_plots(run, tmp_path / "one_by_one")
    assert [path.name for path in one_by_one] == [f"{name}.png" for name in RUN_PLOTS]
    assert sorted(LONGEST_TO_DRAW_FIRST) == sorted(RUN_PLOTS)
    for path in one_by_one:
        assert (tmp_path / "side_by_side" / path.name).read_bytes() == path.read_bytes(), path.name


def test_save_png_writes_the_bytes_of_a_plain_savefig() -> None:
    """Taking off the placeholder layout engine ``tight_layout`` leaves (which made savefig
    draw the figure twice) changes no byte of the PNG."""

    def laid_out_figure() -> plt.Figure:
        figure, axes = plt.subplots(figsize=(3, 2))
        axes.plot([2017, 2021], [1.0, 0.5])
        axes.set_title("members")
        figure.tight_layout()
        return figure

    plain, ours = io.BytesIO(), io.BytesIO()
    figure = laid_out_figure()
    figure.savefig(plain, format="png", dpi=DPI)
    plt.close(figure)
    save_png(laid_out_figure(), ours)
    assert ours.getvalue() == plain.getvalue()


def test_a_run_on_two_workers_draws_the_charts_of_one_and_forks_no_busy_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers, pyplot is imported in a thread while they run the ensemble (made
    slow here, so it is busy for a while): no process is forked while that thread is busy
    (the workers are forked before it starts, the chart workers after it ends), and the
    charts are the bytes drawn with one worker."""
    busy_at_fork: list[str] = []
    watching = True

    def note_a_busy_thread() -> None:
        if watching and any(t.name == "charts-warm-up" for t in threading.enumerate()):
            busy_at_fork.append("busy")

    os.register_at_fork(before=note_a_busy_thread)
    monkeypatch.setattr(run_module, "warm_up", lambda: time.sleep(1.5))
    try:
        two = _run(tmp_path / "two", "--jobs", "2")
    finally:
        watching = False
    one = _run(tmp_path / "one", "--jobs", "1")
    assert not busy_at_fork
    for name in RUN_PLOTS:
        assert (two / "plots" / f"{name}.png").read_bytes() == (
            one / "plots" / f"{name}.png"
        ).read_bytes(), name


def test_other_seed_other_members(baseline_run: Path, tmp_path: Path) -> None:
    other = _run(tmp_path / "other", "--seed", "99", "--no-plots")
    a = pd.read_csv(baseline_run / "yearly.csv")
    b = pd.read_csv(other / "yearly.csv")
    assert not a.members.equals(b.members)
    assert json.loads((other / "manifest.json").read_text())["seed"] == 99


def test_summary_is_the_quantiles_of_the_runs(baseline_run: Path) -> None:
    yearly = pd.read_csv(baseline_run / "yearly.csv")
    summary = pd.read_csv(baseline_run / "summary.csv")
    for (year, cluster, metric), row in (
        summary.set_index(["year", "cluster", "metric"]).sample(40, random_state=1).iterrows()
    ):
        one = yearly[(yearly.year == year) & (yearly.cluster == cluster)]
        values = (one.status == "closed").astype(float) if metric == "closed" else one[metric]
        # the summary is rounded to 6 decimals, like every float in the CSVs
        assert row.p10 == pytest.approx(np.quantile(values, 0.1), abs=1e-6)
        assert row.p50 == pytest.approx(np.quantile(values, 0.5), abs=1e-6)
        assert row.p90 == pytest.approx(np.quantile(values, 0.9), abs=1e-6)
        assert row["mean"] == pytest.approx(values.mean(), abs=1e-6)


def test_force_replaces_and_only_then(baseline_run: Path, tmp_path: Path) -> None:
    out = _run(tmp_path / "twice", "--no-plots")
    (out / "marker").write_text("old", encoding="utf-8")
    refused = invoke("run", str(BASELINE), "--out", str(out), "--runs", "2")
    assert refused.exit_code != 0 and (out / "marker").exists()
    replaced = invoke(
        "run", str(BASELINE), "--out", str(out), "--runs", "2", "--no-plots", "--force"
    )
    assert replaced.exit_code == 0
    assert not (out / "marker").exists()
    assert json.loads((out / "manifest.json").read_text())["runs"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice"]


def test_what_ifs_differ_as_designed(baseline_run: Path, tmp_path: Path) -> None:
    base = pd.read_csv(baseline_run / "yearly.csv")
    no_arena = pd.read_csv(
        _run(tmp_path / "na", "--no-plots", config=CONFIGS / "no_arena.toml") / "yearly.csv"
    )
    faster = pd.read_csv(
        _run(tmp_path / "ft", "--no-plots", config=CONFIGS / "faster_taper.toml") / "yearly.csv"
    )
    assert no_arena.arena_income.sum() == 0 and base.arena_income.sum() > 0
    scenario = load_config(CONFIGS / "faster_taper.toml").scenario
    on_default = ~faster.cluster.isin(list(scenario.base_funding.overrides))
    open_2019 = faster[(faster.year == 2019) & ~faster.status.isin(LEFT_STATUSES) & on_default]
    assert len(open_2019) and (open_2019.regional_base == 1.0).all()
    taper = load_config(CONFIGS / "faster_taper.toml").scenario.base_funding.default
    halfway = (taper.start + taper.floor) / 2
    assert faster[faster.year == 2018].regional_base.max() == pytest.approx(halfway)
    base_income = base[base.year == 2021].groupby("run").total_income.sum().mean()
    no_arena_income = no_arena[no_arena.year == 2021].groupby("run").total_income.sum().mean()
    assert no_arena_income < base_income


def test_show_prints_the_schedule_and_provenance() -> None:
    result = invoke("show", str(BASELINE))
    assert result.exit_code == 0
    assert "arena_budget" in result.output and "2021" in result.output
    result = invoke("show", str(BASELINE), "--provenance")
    assert result.exit_code == 0
    line = next(
        x for x in result.output.splitlines() if x.startswith("base_funding.default.values.2021")
    )
    assert "seed" in line and "1.0" in line
    line = next(
        x for x in result.output.splitlines() if x.startswith("base_funding.default.values.2017")
    )
    assert "sourced" in line and "Rapidus" in line
    assert "UNLABELLED" not in result.output


def test_a_moved_folder_still_reproduces(baseline_run: Path, tmp_path: Path) -> None:
    import shutil

    manifest = json.loads((baseline_run / "manifest.json").read_text())
    assert manifest["reproduce"].startswith("clusterfund run baseline/manifest.json ")
    assert ".partial-" not in json.dumps(manifest)
    files = manifest["config_files"]
    assert files and not any(Path(f).is_absolute() for f in files)
    assert (baseline_run / files[0]).resolve() == BASELINE.resolve()
    moved = Path(shutil.copytree(baseline_run, tmp_path / "copy" / "baseline"))
    moved = Path(shutil.move(moved, tmp_path / "elsewhere" / "renamed"))
    again = tmp_path / "again"
    result = invoke("run", str(moved / "manifest.json"), "--out", str(again), "--no-plots")
    assert result.exit_code == 0, result.output
    assert (again / "yearly.csv").read_bytes() == (baseline_run / "yearly.csv").read_bytes()
    assert json.loads((again / "manifest.json").read_text())["config_files"] == [
        "../elsewhere/renamed/manifest.json"
    ]


def test_no_float_noise_in_the_csvs(baseline_run: Path) -> None:
    for name in CSVS:
        with (baseline_run / name).open(encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for text in row:
                    if "." not in text and "e-" not in text:
                        continue
                    try:
                        decimals = -Decimal(text).as_tuple().exponent
                    except ArithmeticError:
                        continue  # not a number
                    assert decimals <= 6, (name, text)


def test_dask_gives_the_same_folder_as_the_local_pool(baseline_run: Path, tmp_path: Path) -> None:
    """One executor for run, explore and optimise: a 2-worker LocalCluster writes the same
    bytes as one process (batches of 2, so the work really spreads)."""
    out = tmp_path / "dask"
    _run(out, "--backend", "dask", "--jobs", "2", "--batch-size", "2")
    for name in CSVS:
        assert (out / name).read_bytes() == (baseline_run / name).read_bytes(), name


def _slower_first(delays: list[float], item: int) -> int:
    time.sleep(delays[item])
    return item


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_the_executor_gives_results_in_item_order(backend: str) -> None:
    """``map`` keeps the items' order even when later items finish first (run's batches are
    written in run order); ``map_unordered`` gives them as they finish."""
    delays = [0.9, 0.6, 0.3, 0.0]
    with Executor(Backend(backend, jobs=2)) as executor:
        assert list(executor.map(_slower_first, delays, range(4))) == [0, 1, 2, 3]
        assert sorted(executor.map_unordered(_slower_first, delays, range(4))) == [0, 1, 2, 3]
