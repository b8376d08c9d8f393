"""The summary and the scorecard tally give their rows already tidy: the same numbers as
taking each statistic one at a time and rounding it with ``tidy``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import scenario_with
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.engine.summary import EnsembleSummary, ScorecardTally
from scenarios.folders.run_folder import SUMMARY_METRICS
from scenarios.folders.tables import tidy_row
from simulator.scorecard import scorecard_targets


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_summary_rows_are_each_statistic_tidied(tmp_path_factory, runs: int, seed: int) -> None:
    folder = tmp_path_factory.mktemp("summary")
    years, clusters = [2020, 2021], ["a", "b,c"]
    summary = EnsembleSummary(folder, runs, years, clusters)
    rng = np.random.default_rng(seed)
    summary.values[:] = rng.random(summary.values.shape) * rng.choice([1e-7, 1.0, 3e5])
    expected = []  # each statistic taken and tidied one at a time, as before the arrays
    for y, year in enumerate(years):
        slab = np.asarray(summary.values[:, y])
        q10, q50, q90 = np.quantile(slab, (0.1, 0.5, 0.9), axis=0)
        mean = slab.mean(axis=0)  # summed along the runs axis, as the whole array is
        for c, cluster in enumerate(clusters):
            for m, metric in enumerate(SUMMARY_METRICS):
                stats = (q10[c, m], q50[c, m], q90[c, m], mean[c, m])
                expected.append(tidy_row((year, cluster, metric, *map(float, stats))))
    assert [tuple(row) for row in summary.rows()] == expected
    summary.close()
    assert not list(Path(folder).iterdir())


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_scorecard_rows_are_each_mean_tidied(runs: int, seed: int) -> None:
    scenario = scenario_with({})
    years = [2025, 2026, 2027]
    tally = ScorecardTally(scenario, years)
    targets = scorecard_targets(scenario)
    rng = np.random.default_rng(seed)
    met = rng.random((runs, len(years), len(targets))) < 0.3
    value = rng.random((runs, len(years), len(targets))) * 17.3
    tally.add(met[: runs // 2], value[: runs // 2])
    tally.add(met[runs // 2 :], value[runs // 2 :])
    expected = [
        tidy_row(
            (
                name,
                year,
                float(met[:, y, t].astype(float).sum() / runs),
                float(sum(value[r, y, t] for r in range(runs)) / runs),
                runs,
                description,
            )
        )
        for t, (name, description) in enumerate(targets)
        for y, year in enumerate(years)
    ]
    assert list(tally.rows()) == expected
