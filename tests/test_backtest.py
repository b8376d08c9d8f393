"""`clusterfund backtest`: the scores by hand, coverage against the model itself, bad observations."""

from __future__ import annotations

import csv
import json
import re
import shutil
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CONFIGS, invoke

from scenarios.analysis.backtest import bound_probability, crps_ensemble, pit, summarise
from scenarios.config.observations import OBSERVATION_COLUMNS
from scenarios.present.backtest_text import headline

HELD_OUT = 10
"""Runs held out of the ensemble to play the part of the observed world."""


# --- the scores by hand ---------------------------------------------------------


def test_crps_and_pit_by_hand() -> None:
    sample = np.array([4.0, 1.0, 2.0])
    # E|X - 3| = (2 + 1 + 1) / 3; E|X - X'| = 2 (1 + 3 + 2) / 9 = 4/3, half of it 2/3
    assert crps_ensemble(sample, 3.0) == pytest.approx(4 / 3 - 2 / 3)
    assert crps_ensemble(sample, 0.0) == pytest.approx(7 / 3 - 2 / 3)
    assert crps_ensemble(np.array([5.0]), 5.0) == 0.0
    assert pit(sample, 3.0) == pytest.approx(2 / 3)
    assert pit(sample, 2.0) == pytest.approx(0.5)  # one below, one tied (counted half)
    assert pit(sample, 0.0) == 0.0
    assert bound_probability(sample, 2.0, None) == pytest.approx(2 / 3)
    assert bound_probability(sample, None, 1.0) == pytest.approx(1 / 3)
    assert bound_probability(sample, 1.5, 3.0) == pytest.approx(1 / 3)


def test_sorted_crps_equals_the_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    sample = rng.gamma(2.0, size=57)
    for y in (-1.0, 0.7, 2.0, 9.0):
        pairs = np.abs(sample[:, None] - sample[None, :]).mean()
        assert crps_ensemble(sample, y) == pytest.approx(
            np.abs(sample - y).mean() - 0.5 * pairs, rel=1e-12
        )


# --- against a run ----------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bt") / "baseline"
    result = invoke(
        "run", str(BASELINE), "--out", str(out), "--runs", "70", "--horizon", "2026", "--no-plots"
    )
    assert result.exit_code == 0, result.output
    return out


def _copy(folder: Path, target: Path, keep_runs: set[int] | None = None) -> Path:
    """A copy of ``folder``; with ``keep_runs``, a run folder of those runs only (numbered
    from 0 again, and so many in the manifest: a backtest refuses a yearly.csv that lacks
    runs of its manifest)."""
    shutil.copytree(folder, target)
    if keep_runs is not None:
        yearly = pd.read_csv(folder / "yearly.csv")
        kept = yearly[yearly.run.isin(keep_runs)].copy()
        kept["run"] = kept["run"].map({run: i for i, run in enumerate(sorted(keep_runs))})
        kept.to_csv(target / "yearly.csv", index=False)
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        manifest["runs"] = len(keep_runs)
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return target


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=OBSERVATION_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"source": "test", "note": "", **row})
    return path


def _coverage(run_folder: Path, tmp_path: Path, scale: float) -> float:
    """Coverage of observations taken from held-out runs (times ``scale``)."""
    yearly = pd.read_csv(run_folder / "yearly.csv")
    rng = np.random.default_rng(11)
    rows = []
    metrics = ("members", "fee_income", "private_income", "reserves", "total_income")
    for cluster, metric, year in product(
        sorted(yearly.cluster.unique()), metrics, range(2019, 2027)
    ):
        truth = int(rng.integers(HELD_OUT))
        cell = yearly[(yearly.run == truth) & (yearly.cluster == cluster) & (yearly.year == year)]
        rows.append(
            {
                "cluster": cluster,
                "year": year,
                "metric": metric,
                "value": float(cell[metric].iloc[0]) * scale,
            }
        )
    observations = _write(tmp_path / f"own_{scale}.csv", rows)
    ensemble_runs = set(range(HELD_OUT, int(yearly.run.max()) + 1))
    folder = _copy(run_folder, tmp_path / f"rest_{scale}", ensemble_runs)
    result = invoke("backtest", str(folder), "--observations", str(observations), "--no-plots")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(folder / "backtest.csv")
    assert (table.runs == len(ensemble_runs)).all() and len(table) == len(rows)
    return summarise(table).sample("all").coverage


def test_coverage_is_about_080_against_the_model_itself(run_folder: Path, tmp_path: Path) -> None:
    assert _coverage(run_folder, tmp_path, 1.0) == pytest.approx(0.8, abs=0.07)
    # the same observations 30 % higher fall outside the band far more often
    assert _coverage(run_folder, tmp_path, 1.3) < 0.6


def test_backtest_writes_and_refuses_to_overwrite(run_folder: Path, tmp_path: Path) -> None:
    folder = _copy(run_folder, tmp_path / "run")
    result = invoke("backtest", str(folder), "--observations", str(CONFIGS / "observations.csv"))
    assert result.exit_code == 0, result.output
    assert "P10–P90 coverage" in result.output
    assert "skipped: outside the run's years" in result.output
    table = pd.read_csv(folder / "backtest.csv")
    shipped = pd.read_csv(CONFIGS / "observations.csv")
    assert len(table) == len(shipped)
    scored = table[table.status == "scored"]
    assert scored.year.between(2017, 2026).all() and (scored.runs == 70).all()
    assert (table[table.status != "scored"].year.fillna(0) < 2017).all()
    assert (folder / "plots" / "backtest.png").stat().st_size > 0
    before = (folder / "backtest.csv").read_bytes()
    refused = invoke("backtest", str(folder))
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert invoke("backtest", str(folder), "--force").exit_code == 0
    assert (folder / "backtest.csv").read_bytes() == before
    assert not [p for p in folder.rglob(".*") if p.is_file()], "temporary files left behind"
    report = invoke("report", str(folder), "--out", str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output
    assert "Backtest against observed figures" in (tmp_path / "r.html").read_text()


GOOD = {"cluster": "packbridge", "year": 2019, "metric": "members", "value": 210}
BAD = {
    "unknown_cluster": ({**GOOD, "cluster": "atlantis"}, "cluster", "unknown cluster 'atlantis'"),
    "unknown_metric": ({**GOOD, "metric": "happiness"}, "metric", "unknown metric 'happiness'"),
    "programme_metric_for_a_cluster": (
        {**GOOD, "metric": "active_clusters"},
        "metric",
        "only for cluster 'all'",
    ),
    "lower_above_upper": (
        {**GOOD, "value": "", "lower": 300, "upper": 200},
        "lower",
        "above the upper bound",
    ),
    "neither_value_nor_bound": ({**GOOD, "value": ""}, "value", "neither a value"),
    "not_a_number": ({**GOOD, "value": "many"}, "value", "'many' is not a number"),
    "not_a_year": ({**GOOD, "year": "soon"}, "year", "'soon' is not a year"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_observation_is_one_red_line(case: str, run_folder: Path, tmp_path: Path) -> None:
    row, column, message = BAD[case]
    path = _write(tmp_path / "obs.csv", [GOOD, row, GOOD])
    folder = _copy(run_folder, tmp_path / "run")
    result = invoke("backtest", str(folder), "--observations", str(path))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: line 3: {column}: "), lines
    assert message in lines[0]
    assert not (folder / "backtest.csv").exists()
    assert not (folder / "plots" / "backtest.png").exists()


def test_every_bad_row_is_listed_and_none_in_years_is_refused(
    run_folder: Path, tmp_path: Path
) -> None:
    folder = _copy(run_folder, tmp_path / "run")
    rows = [BAD[case][0] for case in ("unknown_cluster", "unknown_metric", "lower_above_upper")]
    result = invoke(
        "backtest", str(folder), "--observations", str(_write(tmp_path / "a.csv", rows))
    )
    assert result.exit_code == 2
    assert [line.split(": ")[2] for line in result.stderr.splitlines()] == [
        "line 2",
        "line 3",
        "line 4",
    ]
    early = [{**GOOD, "year": 2010}, {**GOOD, "year": ""}, {**GOOD, "year": 2040}]
    path = _write(tmp_path / "early.csv", early)
    result = invoke("backtest", str(folder), "--observations", str(path))
    assert result.exit_code == 2
    assert result.stderr.count("error:") == 1
    assert "no observation falls in the run's years 2017–2026" in result.stderr
    assert not (folder / "backtest.csv").exists()


def test_programme_totals(run_folder: Path, tmp_path: Path) -> None:
    yearly = pd.read_csv(run_folder / "yearly.csv")
    rows = [
        {"cluster": "all", "year": 2022, "metric": "members", "value": 1700},
        {"cluster": "all", "year": 2022, "metric": "active_clusters", "value": "", "lower": 10},
        {"cluster": "all", "year": 2022, "metric": "regional_share", "value": 0.1},
    ]
    folder = _copy(run_folder, tmp_path / "run")
    result = invoke(
        "backtest", str(folder), "--observations", str(_write(tmp_path / "t.csv", rows))
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(folder / "backtest.csv").set_index("metric")
    in_year = yearly[yearly.year == 2022]
    members = in_year.groupby("run").members.sum()
    assert table.loc["members", "p50"] == pytest.approx(members.median())
    # backtest.csv holds DECIMALS (6) places, as every CSV of the tool does
    assert table.loc["members", "pit"] == pytest.approx(pit(members.to_numpy(), 1700), abs=5e-7)
    active = in_year.assign(open=in_year.status != "closed").groupby("run").open.sum()
    assert table.loc["active_clusters", "probability"] == pytest.approx(
        (active >= 10).mean(), abs=5e-7
    )
    sums = in_year.groupby("run")[["regional_base", "total_income"]].sum()
    share = (sums.regional_base / sums.total_income).to_numpy()
    assert table.loc["regional_share", "crps"] == pytest.approx(crps_ensemble(share, 0.1), abs=5e-7)


# --- persistence and skill ------------------------------------------------------------


def _obs(cluster: str, year: int, value: float | None, kind: str = "observed", **bounds):
    from scenarios.config.observations import Observation

    return Observation(
        line=0,
        cluster=cluster,
        year=year,
        metric="members",
        value=value,
        lower=bounds.get("lower"),
        upper=bounds.get("upper"),
        source="toy",
        note="",
        kind=kind,
    )


def test_persistence_by_hand() -> None:
    from scenarios.analysis.persistence import PersistenceForecast

    record = [
        _obs("a", 2015, 100.0),
        _obs("a", 2017, 121.0),  # +10 % a year over two years
        _obs("b", 2016, 50.0, kind="start"),
        _obs("b", 2017, 40.0),  # -20 % in one year
        _obs("b", 2018, 99.0, kind="plan"),  # a plan is no record
    ]
    persistence = PersistenceForecast(record)
    changes, relative = persistence.changes("members", 2018)
    assert relative and sorted(changes) == pytest.approx([-0.2, 0.1])
    reference = persistence.reference("a", "members", 2019, known_until=2018)
    assert reference is not None and (reference.last_year, reference.last_value) == (2017, 121.0)
    assert reference.sample == pytest.approx(sorted([121 * 0.8**2, 121 * 1.1**2]))
    # b's last figure is 40 (2017): its 2018 plan is not a figure anyone observed
    b = persistence.reference("b", "members", 2020, known_until=2019)
    assert b is not None and b.last_value == 40.0
    assert b.sample == pytest.approx(sorted([40 * 0.8**3, 40 * 1.1**3]))
    # nothing known before 2015, and nothing after the cut-off is used
    assert persistence.reference("a", "members", 2015, known_until=2020) is None
    assert persistence.reference("a", "members", 2019, known_until=2016).last_value == 100.0
    only_a = PersistenceForecast(record[:2]).reference("a", "members", 2016, known_until=2015)
    assert only_a is not None and list(only_a.sample) == [100.0]  # no change yet on record


def test_absolute_changes_when_a_figure_is_zero() -> None:
    from scenarios.analysis.persistence import PersistenceForecast

    persistence = PersistenceForecast([_obs("a", 2015, 0.0), _obs("a", 2017, 4.0)])
    changes, relative = persistence.changes("members", 2020)
    assert not relative and list(changes) == [2.0]
    assert list(persistence.reference("a", "members", 2019, 2020).sample) == [8.0]


class _ToyEnsemble:
    """Ten runs per observation, given by hand."""

    def __init__(self, samples: dict[tuple[str, int], np.ndarray]) -> None:
        self.samples = samples

    def sample(self, observation) -> np.ndarray:
        return self.samples[(observation.cluster, observation.year)]


def test_skill_in_and_out_of_sample_by_hand() -> None:
    from scenarios.analysis.backtest import backtest_table
    from scenarios.config.observations import ObservationSet

    before = _obs("a", 2016, 100.0)  # before the run: the record only
    scored = [
        _obs("a", 2018, 100.0),
        _obs("a", 2020, 130.0),
        _obs("a", 2019, 500.0, kind="plan"),
        _obs("a", 2017, 100.0, kind="start"),
    ]
    perfect = np.full(10, 130.0)
    ensemble = _ToyEnsemble(
        {
            ("a", 2018): np.full(10, 110.0),  # CRPS 10; persistence of 2017's 100: 0
            ("a", 2020): perfect,  # CRPS 0
            ("a", 2019): np.full(10, 100.0),
            ("a", 2017): np.full(10, 100.0),
        }
    )
    observations = ObservationSet(Path("toy.csv"), scored, [(before, "outside")])
    table = backtest_table(ensemble, observations, split=2018)
    by_year = table.set_index("year")
    assert by_year.loc[2018, "sample"] == "in" and by_year.loc[2020, "sample"] == "out"
    assert by_year.loc[2018, "crps"] == pytest.approx(10.0)
    # 2016 → 2017 and 2017 → 2018: no change; the reference for 2018 is 100 exactly
    assert by_year.loc[2018, "reference_crps"] == pytest.approx(0.0)
    # for 2020 the reference knows up to 2018 (the split): 100, two changes of 0 → 100
    assert by_year.loc[2020, "reference_crps"] == pytest.approx(30.0)
    summary = summarise(table)
    assert np.isnan(summary.sample("in").skill)  # persistence perfect: skill undefined
    assert summary.sample("out").skill == pytest.approx(1.0)  # 1 - 0 / 30
    assert summary.not_observed == {"plan": 1, "start": 1}
    # without the split, 2020's reference knows 2019's... plan? No: plans are no record
    unsplit = backtest_table(ensemble, observations).set_index("year")
    assert unsplit.loc[2020, "reference_crps"] == pytest.approx(30.0)
    assert summarise(unsplit.reset_index()).samples[0].name == "all"


def test_model_worse_than_persistence_has_negative_skill() -> None:
    from scenarios.analysis.backtest import backtest_table
    from scenarios.config.observations import ObservationSet

    scored = [_obs("a", 2017, 100.0, kind="start"), _obs("a", 2020, 110.0)]
    history = [(_obs("a", 2015, 90.0), "outside")]  # +5.41 % a year on record
    ensemble = _ToyEnsemble({("a", 2017): np.full(4, 100.0), ("a", 2020): np.full(4, 150.0)})
    table = backtest_table(ensemble, ObservationSet(Path("t.csv"), scored, history), split=2019)
    rate = (100 / 90) ** 0.5
    reference = 100 * rate**3
    out = summarise(table).sample("out")
    assert out.skill == pytest.approx(1 - 40.0 / abs(110.0 - reference))
    assert out.skill < 0


def test_split_outside_the_run_is_one_line(run_folder: Path, tmp_path: Path) -> None:
    folder = _copy(run_folder, tmp_path / "run")
    for split in ("2016", "2026", "1900"):
        result = invoke("backtest", str(folder), "--split", split, "--no-plots")
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1 and "--split" in result.output, result.output
    assert not (folder / "backtest.csv").exists()


def test_split_reports_in_and_out_of_sample(run_folder: Path, tmp_path: Path) -> None:
    folder = _copy(run_folder, tmp_path / "run")
    result = invoke("backtest", str(folder), "--split", "2019", "--no-plots")
    assert result.exit_code == 0, result.output
    assert "in sample (up to 2019)" in result.output
    assert "out of sample (after 2019)" in result.output
    table = pd.read_csv(folder / "backtest.csv")
    scored = table[table.status == "scored"]
    assert set(scored[scored.year <= 2019]["sample"]) == {"in"}
    assert set(scored[scored.year > 2019]["sample"]) == {"out"}
    # the shipped seed plan of 10 MSEK base in 2021 is shown as a plan, never scored
    plan = scored[(scored.metric == "regional_base") & (scored.year == 2021)]
    assert list(plan.kind) == ["plan"]


def test_backtest_speaks_swedish_with_decimal_commas(run_folder: Path, tmp_path: Path) -> None:
    folder = _copy(run_folder, tmp_path / "run")
    result = invoke("backtest", str(folder), "--split", "2019", "--no-plots", "--lang", "sv")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:-1]  # the first and last name paths
    text = "\n".join(lines)
    assert "inom urvalet (till och med 2019):" in text and "största missar:" in text
    assert re.search(r"täckning av P10–P90 (\d,\d\d|saknas) \(helst 0,80\)", text), text
    assert re.search(r"P\(gräns\) \d,\d\d|PIT \d,\d\d", text), text
    assert not re.search(r"\d\.\d", text), "no decimal points in Swedish"
    assert "coverage" not in text and "worst misses" not in text
    table = pd.read_csv(folder / "backtest.csv")
    assert "skipped: undated" in set(table.status), "the table stays as it is"
    assert "överhoppade observationer" in headline(summarise(table), "sv").lower()
    assert "--lang [en|sv]" in invoke("backtest", "--help").output
