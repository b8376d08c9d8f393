"""The value of a funding schedule in a given year."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.scenario import (
    FundingRule,
    HoldSchedule,
    RampSchedule,
    RuleSchedule,
    Scenario,
    Schedule,
    TableSchedule,
    TaperSchedule,
)

if TYPE_CHECKING:  # pandas is imported only when a frame is asked for
    import pandas as pd


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
      gives 0, ``grow`` gives ``last * (1 + growth) ** (year - last_year)``;
    - rule (and a table's years past it with ``after = "rule"``): NaN, as the amount
      depends on the cluster's books (see :func:`base_value`); a rule's first year is ``start``.
    """
    if rule_in_year(schedule, year, start_year) is not None:
        return math.nan
    if isinstance(schedule, RuleSchedule):
        return schedule.start
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


@dataclass(frozen=True)
class Books:
    """What a funding rule reads of a cluster's previous year."""

    members: int
    fee_income: float
    private_income: float
    total_income: float
    """Turnover: all five income sources."""


@dataclass(frozen=True)
class BooksBatch:
    """The books of one cluster in a batch of runs, one value per run."""

    members: np.ndarray
    fee_income: np.ndarray
    private_income: np.ndarray
    total_income: np.ndarray

    def of_run(self, run: int) -> Books:
        """One run's books."""
        return Books(
            int(self.members[run]),
            float(self.fee_income[run]),
            float(self.private_income[run]),
            float(self.total_income[run]),
        )


def rule_in_year(schedule: Schedule, year: int, start_year: int) -> FundingRule | None:
    """The funding rule that sets ``year``'s amount, or ``None`` when the schedule does."""
    if isinstance(schedule, RuleSchedule) and year > start_year:
        return schedule
    if (
        isinstance(schedule, TableSchedule)
        and schedule.after == "rule"
        and year > max(schedule.values)
    ):
        return schedule.rule
    return None


def rule_amount(rule: FundingRule, books: Books) -> float:
    """The rule's amount from last year's books (precedence in ``FundingRule``)."""
    matched = (
        rule.matching_rate_fees * books.fee_income
        + rule.matching_rate_private * books.private_income
    )
    amount = max(matched, rule.floor)
    if books.members >= rule.bonus_min_members:
        amount += rule.bonus
    if rule.ceiling is not None:
        amount = min(amount, rule.ceiling)
    return max(0.0, min(amount, rule.max_turnover_share * books.total_income))


def base_value(schedule: Schedule, year: int, start_year: int, books: Books | None) -> float:
    """A cluster's base money in ``year``: its schedule's value, or its rule's amount from
    ``books`` (last year's); a rule year without books is a programming error."""
    rule = rule_in_year(schedule, year, start_year)
    if rule is None:
        return schedule_value(schedule, year, start_year)
    if books is None:
        raise ValueError(f"the funding rule for {year} needs the cluster's books of {year - 1}")
    return rule_amount(rule, books)


def funding_schedule(scenario: Scenario) -> pd.DataFrame:
    """Planned regional money by year (MSEK): base per cluster, base total, arena budget, total.

    Years a funding rule decides are NaN (they depend on each cluster's books)."""
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
    import pandas as pd

    return pd.DataFrame(rows).set_index("year")
