"""Scoring an ensemble against observed figures.

For each observation inside the run's years the ensemble gives one number per run
(see :mod:`scenarios.config.observations` for the metrics). Per observation:

- ``p10, p50, p90``: the ensemble's quantiles (``numpy.quantile``, linear, as in summary.csv);
- ``in_band``: a value lies in [P10, P90]; bounds overlap [P10, P90];
- ``spread``: P90 > P10. Rows without spread (the model's inputs, such as the
  starting members) are shown but left out of the coverage;
- ``pit`` (a value ``y``): the share of runs below ``y``, ties counted half;
- ``probability`` (bounds): the share of runs within the bounds (inclusive);
- ``crps`` (a value): the ensemble CRPS, ``E|X - y| - E|X - X'| / 2``, in the metric's unit;
- ``brier`` (bounds): ``(1 - probability)²``, the Brier score of "the figure lies within
  its bounds", which it did;
- ``kind`` (``observed``, ``plan``, ``start``) and, with a temporal split at year S,
  ``sample``: ``in`` for years up to S (the years a calibration with ``fit_until = S`` may
  have seen), ``out`` after;
- ``reference``, ``reference_crps``, ``reference_brier``: the same scores for the naive
  persistence forecast (:mod:`scenarios.analysis.persistence`), made from the record up to
  the year before (and at most S).

The summary, per sample (all; or in and out of sample), counts observed rows only: a plan
says what someone meant to pay, a start figure is the model's own input. It gives the
coverage of the P10–P90 band over values with spread (ideally 0.8), the mean CRPS per
metric, and the skill against persistence ``1 - mean score / mean reference score``: above
0 the model beats persistence, 1 is perfect. Skill is computed per metric (units differ)
and the headline is the average over metrics weighted by their number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.analysis.persistence import PersistenceForecast
from scenarios.config.observations import (
    METRIC_OF_OBSERVATION,
    OBSERVED,
    Observation,
    ObservationSet,
)
from scenarios.core.lazy import pandas as pd
from scenarios.folders.run_folder import BACKTEST_COLUMNS
from simulator.outcomes import BAND_QUANTILES, Outcome, yearly_values
from simulator.records import YearlyTable

WORST = 5
SPREAD_TOLERANCE = 1e-9
"""A band narrower than this (relative to the median, at least 1) counts as no spread."""


def crps_ensemble(sample: np.ndarray, y: float) -> float:
    """CRPS of the empirical distribution of ``sample`` at ``y``: ``E|X-y| - E|X-X'|/2``.

    ``E|X-X'| = 2/n² · Σ_i (2i - n - 1) x_(i)`` over the sorted sample (i = 1..n), so
    the whole costs one sort, O(n log n).
    """
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = len(x)
    ranks = np.arange(1, n + 1)
    mean_pair_distance = 2.0 * float(np.sum((2 * ranks - n - 1) * x)) / n**2
    return float(np.mean(np.abs(x - y))) - 0.5 * mean_pair_distance


def pit(sample: np.ndarray, y: float) -> float:
    """Share of the ensemble below ``y``, runs equal to ``y`` counted half."""
    x = np.asarray(sample)
    return float((np.sum(x < y) + 0.5 * np.sum(x == y)) / len(x))


def bound_probability(sample: np.ndarray, lower: float | None, upper: float | None) -> float:
    """Share of the ensemble within ``[lower, upper]`` (a missing bound is open)."""
    x = np.asarray(sample)
    inside = np.ones(len(x), dtype=bool)
    if lower is not None:
        inside &= x >= lower
    if upper is not None:
        inside &= x <= upper
    return float(inside.mean())


class Ensemble:
    """Per-run values of an observed metric for a cluster (or ``all``), by year, from a run
    folder's yearly table: the numbers calibration measures too, by the same code
    (:func:`simulator.outcomes.yearly_values`)."""

    def __init__(self, table: YearlyTable) -> None:
        self.table = table
        self._values: dict[tuple[str, str], np.ndarray] = {}

    @property
    def years(self) -> list[int]:
        """The run's years, in order."""
        return list(self.table.years)

    def values(self, cluster: str, metric: str) -> np.ndarray:
        """(runs, years) values of an observation metric (``observations.csv``'s names)."""
        key = (cluster, metric)
        if key not in self._values:
            outcome = Outcome(
                metric=METRIC_OF_OBSERVATION.get(metric, metric),
                year=self.table.years[0],
                cluster=cluster,
            )
            self._values[key] = yearly_values(self.table, outcome, range(len(self.years)))
        return self._values[key]

    def sample(self, observation: Observation) -> np.ndarray:
        """One value per run for the observation's cluster, metric and year."""
        values = self.values(observation.cluster, observation.metric)
        return values[:, self.years.index(observation.year)]


def score(observation: Observation, sample: np.ndarray) -> dict[str, object]:
    """The backtest row of one observation inside the run's years."""
    p10, p50, p90 = (float(q) for q in np.quantile(sample, BAND_QUANTILES))
    row: dict[str, object] = {
        "status": "scored",
        "runs": len(sample),
        "p10": p10,
        "p50": p50,
        "p90": p90,
        "spread": p90 - p10 > SPREAD_TOLERANCE * max(1.0, abs(p50)),
    }
    if observation.value is not None:
        y = observation.value
        row.update(in_band=p10 <= y <= p90, pit=pit(sample, y), crps=crps_ensemble(sample, y))
    else:
        low = -np.inf if observation.lower is None else observation.lower
        high = np.inf if observation.upper is None else observation.upper
        probability = bound_probability(sample, observation.lower, observation.upper)
        row.update(
            in_band=low <= p90 and p10 <= high,
            probability=probability,
            brier=(1.0 - probability) ** 2,
        )
    return row


def reference_scores(
    observation: Observation, persistence: PersistenceForecast, known_until: int
) -> dict[str, object]:
    """The persistence reference's scores for one observation (empty with no earlier value)."""
    assert observation.year is not None
    reference = persistence.reference(
        observation.cluster, observation.metric, observation.year, known_until
    )
    if reference is None:
        return {"reference": "no earlier value"}
    row: dict[str, object] = {"reference": reference.describe()}
    if observation.value is not None:
        row["reference_crps"] = crps_ensemble(reference.sample, observation.value)
    else:
        probability = bound_probability(reference.sample, observation.lower, observation.upper)
        row["reference_brier"] = (1.0 - probability) ** 2
    return row


def _observed(observation: Observation) -> dict[str, object]:
    return {
        "line": observation.line,
        "cluster": observation.cluster,
        "year": observation.year,
        "metric": observation.metric,
        "value": observation.value,
        "lower": observation.lower,
        "upper": observation.upper,
        "source": observation.source,
        "note": observation.note,
        "kind": observation.kind,
    }


def backtest_table(
    ensemble: Ensemble, observations: ObservationSet, split: int | None = None
) -> pd.DataFrame:
    """One row per observation: scored ones with their scores and the persistence
    reference's, skipped ones with the reason. With ``split``, each scored row is ``in``
    (up to ``split``) or ``out`` of sample, and the reference knows nothing after ``split``."""
    persistence = PersistenceForecast([*observations.scored, *(o for o, _ in observations.skipped)])
    rows = []
    for o in observations.scored:
        assert o.year is not None
        known_until = o.year - 1 if split is None else min(o.year - 1, split)
        part = {} if split is None else {"sample": "in" if o.year <= split else "out"}
        rows.append(
            {
                **_observed(o),
                **score(o, ensemble.sample(o)),
                **part,
                **reference_scores(o, persistence, known_until),
            }
        )
    rows += [{**_observed(o), "status": f"skipped: {why}"} for o, why in observations.skipped]
    table = pd.DataFrame(rows).reindex(columns=list(BACKTEST_COLUMNS))
    table["year"] = table["year"].astype("Int64")
    table["runs"] = table["runs"].astype("Int64")
    for column in ("value", "lower", "upper"):
        table[column] = pd.to_numeric(table[column])
    return table.sort_values(["status", "line"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class SampleSummary:
    """The scores of the observed rows of one sample (all, in or out)."""

    name: str
    values_with_spread: int
    no_spread: int
    coverage: float
    """Share of values with spread inside the P10–P90 band (NaN when there are none)."""
    bounds: int
    bounds_in_band: int
    crps_by_metric: dict[str, float]
    skill_by_metric: dict[str, float]
    """CRPS skill against persistence per metric, over the values with a reference."""
    skill: float
    """The per-metric skills averaged, weighted by their rows (NaN when none)."""
    skill_rows: int
    brier_skill: float
    """Brier skill of the bounds against persistence (NaN when none has a reference)."""
    brier_rows: int


@dataclass(frozen=True)
class BacktestSummary:
    """The headline numbers of a backtest."""

    scored: int
    skipped: int
    samples: list[SampleSummary]
    """``all`` alone, or ``in`` and ``out`` with a temporal split."""
    not_observed: dict[str, int]
    """Scored rows left out of every score, by kind (``plan``, ``start``)."""
    plans_in_band: int
    worst: pd.DataFrame

    def sample(self, name: str) -> SampleSummary:
        """The summary of one sample by name."""
        return next(s for s in self.samples if s.name == name)


def _tail(row: pd.Series) -> float:
    if pd.notna(row["pit"]):
        return float(min(row["pit"], 1.0 - row["pit"]))
    return float(row["probability"])


def skill_score(scores: pd.Series, reference: pd.Series) -> float:
    """``1 - mean(scores) / mean(reference)``: NaN when empty or when the reference is
    perfect (a mean of 0)."""
    if len(scores) == 0 or float(reference.mean()) == 0.0:
        return float("nan")
    return 1.0 - float(scores.mean()) / float(reference.mean())


def summarise_sample(name: str, rows: pd.DataFrame) -> SampleSummary:
    """Coverage, mean CRPS and skill of one sample's observed rows."""
    values = rows[rows.value.notna()]
    spread = values[values.spread.astype(bool)]
    bounds = rows[rows.value.isna()]
    referenced = values[values.reference_crps.notna()]
    skill_by_metric = {
        str(m): skill_score(group.crps, group.reference_crps)
        for m, group in referenced.groupby("metric", sort=True)
    }
    weights = {
        m: int((referenced.metric == m).sum()) for m, v in skill_by_metric.items() if np.isfinite(v)
    }
    skill = (
        sum(skill_by_metric[m] * w for m, w in weights.items()) / sum(weights.values())
        if weights
        else float("nan")
    )
    bounds_referenced = bounds[bounds.reference_brier.notna()]
    return SampleSummary(
        name=name,
        values_with_spread=len(spread),
        no_spread=len(values) - len(spread),
        coverage=float(spread.in_band.astype(bool).mean()) if len(spread) else float("nan"),
        bounds=len(bounds),
        bounds_in_band=int(bounds.in_band.astype(bool).sum()),
        crps_by_metric={
            str(m): float(c) for m, c in values.groupby("metric").crps.mean().sort_index().items()
        },
        skill_by_metric=skill_by_metric,
        skill=skill,
        skill_rows=sum(weights.values()),
        brier_skill=skill_score(bounds_referenced.brier, bounds_referenced.reference_brier),
        brier_rows=len(bounds_referenced),
    )


def summarise(table: pd.DataFrame) -> BacktestSummary:
    """Per sample: coverage, mean CRPS per metric and skill against persistence, over the
    observed rows; the plans met; and the worst misses (the furthest in the tails)."""
    scored = table[table.status == "scored"]
    kinds = scored.kind.fillna(OBSERVED)
    observed = scored[kinds == OBSERVED]
    if scored["sample"].notna().any():
        samples = [
            summarise_sample(name, observed[observed["sample"] == name]) for name in ("in", "out")
        ]
    else:
        samples = [summarise_sample("all", observed)]
    misses = observed[~observed.in_band.astype(bool)].copy()
    misses["tail"] = misses.apply(_tail, axis=1)
    plans = scored[kinds == "plan"]
    return BacktestSummary(
        scored=len(scored),
        skipped=len(table) - len(scored),
        samples=samples,
        not_observed={str(k): int(n) for k, n in kinds[kinds != OBSERVED].value_counts().items()},
        plans_in_band=int(plans.in_band.astype(bool).sum()),
        worst=misses.sort_values(["tail", "line"]).head(WORST),
    )
