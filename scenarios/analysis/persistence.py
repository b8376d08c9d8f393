"""The naive forecast a backtest measures the model against: persistence.

Why persistence. A planner without the model would say "it stays as it was": the last
figure anyone observed for that cluster and metric. It needs nothing but the record, it
is hard to beat over a few years for slowly moving counts such as members, and it is the
standard reference in forecast verification (the CRPS skill score against persistence or
climatology, Gneiting & Raftery 2007; Hersbach 2000). Climatology (the long-run mean) is no
option here: the record has a handful of figures per cluster, years apart.

A point forecast has no spread, and the CRPS of a point is its absolute error, which
would flatter the model's band. So the reference is an ensemble: the last observed value
``y_L`` (year ``t_L``) moved over the ``h = t - t_L`` years to the target year by each
observed year-on-year change of the same metric (pooled over the clusters, each between
two consecutive dated values of one cluster):

- relative changes, ``y_L · (1 + r)^h`` with ``r = (y2 / y1)^(1 / (t2 - t1)) - 1``, when every
  value of that metric in the record is positive (members, incomes);
- absolute changes, ``y_L + d · h`` with ``d = (y2 - y1) / (t2 - t1)``, otherwise (counts
  that can be zero).

With no change on record the reference is the last value alone. Only what was known when
the forecast is made is used: figures of kind ``observed`` or ``start`` (a plan is no
record) dated up to ``known_until`` (the year before the target, and at most the split
year of a temporal split), including figures from before the run's first year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from scenarios.config.observations import PLAN, Observation


@dataclass(frozen=True)
class Reference:
    """The persistence ensemble for one target, and how it was made."""

    sample: np.ndarray
    last_year: int
    last_value: float
    changes: int
    """How many observed year-on-year changes spread it (0: the last value alone)."""
    relative: bool

    def describe(self) -> str:
        """A few words for backtest.csv, e.g. ``400 in 2017, 6 relative changes``."""
        spread = (
            f"{self.changes} {'relative' if self.relative else 'absolute'} change(s)"
            if self.changes
            else "no change on record"
        )
        return f"{self.last_value:g} in {self.last_year}, {spread}"


class PersistenceForecast:
    """Persistence references from a record of dated values (see the module docstring)."""

    def __init__(self, record: Iterable[Observation]) -> None:
        self._series: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        for o in record:
            if o.kind != PLAN and o.value is not None and o.year is not None:
                self._series[(o.cluster, o.metric)].append((o.year, o.value))
        for points in self._series.values():
            points.sort()

    def _known(self, cluster: str, metric: str, known_until: int) -> list[tuple[int, float]]:
        return [(t, y) for t, y in self._series.get((cluster, metric), []) if t <= known_until]

    def changes(self, metric: str, known_until: int) -> tuple[np.ndarray, bool]:
        """The metric's observed yearly changes up to ``known_until``, and whether they are
        relative (every known value positive) or absolute."""
        series = [
            self._known(cluster, m, known_until) for cluster, m in self._series if m == metric
        ]
        relative = all(y > 0 for points in series for _, y in points)
        changes = []
        for points in series:
            for (t1, y1), (t2, y2) in pairwise(points):
                if t2 == t1:
                    continue
                if relative:
                    changes.append((y2 / y1) ** (1.0 / (t2 - t1)) - 1.0)
                else:
                    changes.append((y2 - y1) / (t2 - t1))
        return np.asarray(changes, dtype=np.float64), relative

    def reference(self, cluster: str, metric: str, year: int, known_until: int) -> Reference | None:
        """The persistence ensemble for ``cluster``'s ``metric`` in ``year`` from the record
        up to ``known_until`` (at most the year before); ``None`` with no earlier value."""
        known = self._known(cluster, metric, min(known_until, year - 1))
        if not known:
            return None
        last_year, last_value = known[-1]
        changes, relative = self.changes(metric, min(known_until, year - 1))
        horizon = year - last_year
        if len(changes) == 0:
            sample = np.array([last_value])
        elif relative:
            sample = last_value * (1.0 + changes) ** horizon
        else:
            sample = last_value + changes * horizon
        return Reference(np.sort(sample), last_year, last_value, len(changes), relative)
