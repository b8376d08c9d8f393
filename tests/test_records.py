"""The model's records are read by name, and the office and the plan take one allocation step."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import scenario_with

from scenarios.engine.ensemble import run_rng
from simulator import records
from simulator.model import default_allocator, simulate_batch
from simulator.outcomes import Outcome, OutcomeMeter
from simulator.planning import planned_request
from simulator.scorecard import score_runs


def _measure():
    scenario = scenario_with({"programme.horizon": 2023, "members.churn": 0.25})
    batch = simulate_batch(scenario, [run_rng(4, r) for r in range(5)])
    outcomes = (
        Outcome(metric="members", year=2023),
        Outcome(metric="reserves", years=(2019, 2023), cluster="packbridge"),
        Outcome(metric="regional_share", year=2022),
        Outcome(metric="activity_level", year=2023),
        Outcome(metric="closed", year=2023),
        Outcome(metric="scorecard:members_min", year=2022),
    )
    met, value = score_runs(scenario, batch.yearly, batch.allocations)
    frame = batch.run(2).yearly
    measured = OutcomeMeter(scenario, outcomes).measure(batch.yearly, batch.allocations)
    return measured, met, value, frame


def test_every_reader_finds_fields_by_name_whatever_their_order(monkeypatch) -> None:
    measured, met, value, frame = _measure()
    assert frame.columns.tolist() == list(records.YEARLY_COLUMNS)
    reordered = tuple(reversed(records.YEARLY_FIELDS))
    monkeypatch.setattr(records, "YEARLY_FIELDS", reordered)
    monkeypatch.setattr(
        records, "YEARLY_COLUMNS", ("year", "cluster", *(name for name, _ in reordered))
    )
    measured2, met2, value2, frame2 = _measure()
    np.testing.assert_array_equal(measured2, measured)
    np.testing.assert_array_equal(met2, met)
    np.testing.assert_array_equal(value2, value)
    assert frame2.columns.tolist()[2] == reordered[0][0]  # the order did change
    assert frame2[frame.columns].equals(frame)


def test_the_office_and_the_plan_take_the_same_allocation_step() -> None:
    # nobody closes or is at risk: huge reserves, no at-risk weighting, no open calls
    changes = {
        "programme.horizon": 2021,
        "allocator.at_risk_weight": 1.0,
        "management.closure_years": 1000,
        "open_calls": None,
    }
    scenario = scenario_with(changes)
    batch = simulate_batch(scenario, [run_rng(1, 0)])
    rows = batch.allocations[0]
    assert rows, "the programme funds projects"
    for year in scenario.years:
        request = planned_request(scenario, year, default_allocator(scenario))
        planned = default_allocator(scenario).allocate(request) if request.budget > 0 else None
        simulated = {row.project: row.fraction for row in rows if row.year == year}
        expected = {p: f for p, f in (planned.fractions.items() if planned else ()) if f > 0}
        assert simulated == pytest.approx(expected, abs=0), year
