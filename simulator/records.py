"""What the model writes down, each record's columns defined once.

- The **yearly table**: one value per run × year × cluster for each field of
  ``YEARLY_FIELDS``, held column by column as arrays of shape (runs, years,
  clusters) (:class:`YearlyTable`). ``yearly.csv`` has the columns
  ``YEARLY_COLUMNS``: ``year`` and ``cluster`` (the table's axes), then the fields.
  A cluster's status is stored as a code, an index into ``STATUSES``.
- **Allocation rows**: one :class:`AllocationRow` per run × year × funded project.
- **Events**: one :class:`Event` per thing that happened to a cluster (a fee rise, an
  activity cut, a closure, a liquidation, a transfer, a cut commitment of one of its
  arena projects).

Adding a column to the yearly table means adding it to ``YEARLY_FIELDS`` and
computing it in :mod:`simulator.cluster`; everything that writes, summarises,
scores or plots reads the fields by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pandas is imported only when a frame is asked for
    import pandas as pd

ACTIVE, AT_RISK, DISTRESSED, CLOSED = "active", "at_risk", "distressed", "closed"
ABSORBED, NOT_FORMED, DEFUNDED = "absorbed", "not_formed", "defunded"
STATUSES = (ACTIVE, AT_RISK, DISTRESSED, CLOSED, ABSORBED, NOT_FORMED, DEFUNDED)
"""A cluster's status in a year; the yearly table stores the index (``status`` field).
The last four are the ways out of the programme (see :class:`simulator.cluster.ClusterBatch`):
``closed`` (reserves negative too long), ``absorbed`` (handed to a host organisation),
``not_formed`` (a start-up that did not gather its members in time) and ``defunded`` (base
funding withdrawn at the mid-term review)."""
STATUS_CODES = {status: code for code, status in enumerate(STATUSES)}
"""Each status's code in the yearly table."""
CLOSED_CODE = STATUS_CODES[CLOSED]
LEFT_STATUSES = (CLOSED, ABSORBED, NOT_FORMED, DEFUNDED)
"""The statuses of a cluster no longer in the programme; ``closed`` in the outcomes and the
summary counts every one of them."""
LEFT_CODES = tuple(STATUS_CODES[status] for status in LEFT_STATUSES)


def has_left(status: str) -> bool:
    """Whether a ``yearly.csv`` status means the cluster is no longer in the programme."""
    return status in LEFT_STATUSES


YEARLY_FIELDS: tuple[tuple[str, type], ...] = (
    ("members", int),
    ("fee_income", float),
    ("private_income", float),
    ("regional_base", float),
    ("arena_income", float),
    ("other_public", float),
    ("total_income", float),
    ("costs", float),
    ("reserves", float),
    ("status", str),
    ("joined", int),
    ("left", int),
    ("fee_multiplier", float),
    ("activity_level", float),
    ("regional_share", float),
    ("arena_projects", float),
    ("surplus_spent", float),
    ("settled", float),
)
"""The yearly table's fields, in ``yearly.csv`` order, with the type each is written as
(``status`` is stored as an index into ``STATUSES`` and written as its name)."""
YEARLY_COLUMNS: tuple[str, ...] = ("year", "cluster", *(name for name, _ in YEARLY_FIELDS))
"""The columns of ``yearly.csv`` (and of :attr:`YearlyTable.frame`)."""
INCOME_SOURCES = ("fee_income", "private_income", "regional_base", "arena_income", "other_public")
"""The five sources ``total_income`` adds up."""


@dataclass
class YearlyTable:
    """Every yearly field of a batch of runs, one array of shape (runs, years, clusters) each."""

    years: tuple[int, ...]
    clusters: tuple[str, ...]
    fields: dict[str, np.ndarray]

    @classmethod
    def empty(cls, runs: int, years: Sequence[int], clusters: Sequence[str]) -> YearlyTable:
        """A table of zeros (integer fields as int64, ``status`` as codes)."""
        shape = (runs, len(years), len(clusters))
        fields = {
            name: np.zeros(shape, dtype=np.float64 if kind is float else np.int64)
            for name, kind in YEARLY_FIELDS
        }
        return cls(tuple(years), tuple(clusters), fields)

    @property
    def runs(self) -> int:
        """How many runs the table holds."""
        return int(self.fields["members"].shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.fields[name]

    def closed(self) -> np.ndarray:
        """Whether each cluster has left the programme (closed, or any other way out), as
        runs × years × clusters."""
        return np.isin(self.fields["status"], LEFT_CODES)

    def run(self, index: int) -> YearlyTable:
        """One run's table (views, shape (1, years, clusters))."""
        fields = {name: values[index : index + 1] for name, values in self.fields.items()}
        return YearlyTable(self.years, self.clusters, fields)

    def frame(self) -> pd.DataFrame:
        """The table as ``yearly.csv`` has it (runs one after another), without a run column."""
        import pandas as pd

        runs, n_years, n_clusters = self.fields["members"].shape
        data: dict[str, object] = {
            "year": np.tile(np.repeat(np.asarray(self.years), n_clusters), runs),
            "cluster": np.tile(np.asarray(self.clusters, dtype=object), runs * n_years),
        }
        for name, _kind in YEARLY_FIELDS:
            values = self.fields[name].reshape(-1)
            data[name] = np.asarray(STATUSES, dtype=object)[values] if name == "status" else values
        return pd.DataFrame(data, columns=list(YEARLY_COLUMNS))


class AllocationRow(NamedTuple):
    """One funded project in one year of one run (a row of ``allocation.csv``)."""

    year: int
    project: str
    area: str
    clusters: str
    """The project's clusters joined by ``CLUSTER_SEPARATOR``."""
    funded: float
    """MSEK paid this year (fraction × cost)."""
    cost: float
    """The project's yearly cost (MSEK)."""
    fraction: float


ALLOCATION_COLUMNS: tuple[str, ...] = AllocationRow._fields
"""The columns of ``allocation.csv`` after ``run``."""


class Event(NamedTuple):
    """Something that happened to a cluster in a year (a row of ``events.csv``)."""

    year: int
    cluster: str
    event: str


EVENT_COLUMNS: tuple[str, ...] = Event._fields
"""The columns of ``events.csv`` after ``run``."""


class OutOfRange(Exception):
    """The scenario drove the model beyond what it is built for (a cluster's membership past
    ``MAX_MEMBERS``, money past ``MAX_RESULT_MONEY`` or not finite): its inputs are not
    plausible. Raised where it happens, so a run never eats memory or writes inf or nan.
    It pickles (its ``args`` are what ``__init__`` takes)."""

    def __init__(self, cluster: str, year: int, what: str) -> None:
        super().__init__(cluster, year, what)
        self.cluster, self.year, self.what = cluster, year, what

    def __str__(self) -> str:
        return (
            f"cluster {self.cluster}, {self.year}: {self.what}; the scenario's numbers are "
            "beyond what the model is built for (check the growth, joining and money inputs)"
        )


MAX_RESULT_MONEY = 1e9
"""The largest amount (MSEK) a run's yearly table may hold before it counts as blown up: at
1e9 MSEK the CSVs' six decimals are already at the edge of a float's precision."""


def check_in_range(table: YearlyTable) -> None:
    """Raise :class:`OutOfRange` at the first cluster and year whose money is not finite or
    beyond ``MAX_RESULT_MONEY``."""
    for name, kind in YEARLY_FIELDS:
        if kind is not float:
            continue
        values = table.fields[name]
        bad = ~np.isfinite(values) | (np.abs(values) > MAX_RESULT_MONEY)
        if bad.any():
            _, y, c = (int(i) for i in np.argwhere(bad)[0])
            raise OutOfRange(
                table.clusters[c], table.years[y], f"{name} reached {values[bad].flat[0]:.3g}"
            )
