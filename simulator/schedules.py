"""The value of a funding schedule in a given year."""

from __future__ import annotations

import pandas as pd

from simulator.scenario import (
    HoldSchedule,
    RampSchedule,
    Scenario,
    Schedule,
    TableSchedule,
    TaperSchedule,
)


def _linear(x0: int, y0: float, x1: int, y1: float, x: int) -> float:
    if x <= x0:
        return y0
    if x >= x1:
        return y1
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def schedule_value(schedule: Schedule, year: int, start_year: int) -> float:
    """Value (MSEK) of ``schedule`` in ``year``; ``start_year`` is the programme's first year.

    - taper: ``start + (floor - start) * (year - start_year) / (floor_year - start_year)``,
      held at ``floor`` from ``floor_year`` on;
    - ramp: linear between (from_year, from_value) and (to_year, to_value), flat outside;
    - hold: ``value``;
    - table: the table's value; past the last year ``hold_last`` repeats it, ``zero``
      gives 0, ``grow`` gives ``last * (1 + growth) ** (year - last_year)``.
    """
    if isinstance(schedule, TaperSchedule):
        return _linear(start_year, schedule.start, schedule.floor_year, schedule.floor, year)
    if isinstance(schedule, RampSchedule):
        return _linear(
            schedule.from_year, schedule.from_value, schedule.to_year, schedule.to_value, year
        )
    if isinstance(schedule, HoldSchedule):
        return schedule.value
    if isinstance(schedule, TableSchedule):
        if year in schedule.values:
            return schedule.values[year]
        first, last = min(schedule.values), max(schedule.values)
        if year < first:
            return 0.0
        last_value = schedule.values[last]
        if schedule.after == "hold_last":
            return last_value
        if schedule.after == "zero":
            return 0.0
        return last_value * (1.0 + schedule.growth) ** (year - last)
    raise TypeError(f"unknown schedule {schedule!r}")


def funding_schedule(scenario: Scenario) -> pd.DataFrame:
    """Planned regional money by year (MSEK): base per cluster, base total, arena budget, total."""
    start = scenario.programme.start_year
    rows = []
    for year in scenario.years:
        base = {
            cid: schedule_value(scenario.base_schedule(cid), year, start)
            for cid in scenario.clusters
        }
        arena = schedule_value(scenario.arena.budget, year, start)
        rows.append(
            {
                "year": year,
                **base,
                "base_total": sum(base.values()),
                "arena_budget": arena,
                "regional_total": sum(base.values()) + arena,
            }
        )
    return pd.DataFrame(rows).set_index("year")
