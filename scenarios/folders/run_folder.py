"""The results folder: its file names, its manifest, and how it is read back.

It is written through :mod:`scenarios.folders.publish` (staged beside it, moved into
place only when complete, replaced only with ``--force``). A staging folder is never
read as results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.core.errors import UserError
from scenarios.core.lazy import pandas as pd
from scenarios.folders.checks import (
    RUN_KIND,
    foreign,
    no_empty_cells,
    read_table,
)
from scenarios.folders.manifest import read_manifest
from scenarios.folders.run_rows import yearly_header
from scenarios.folders.tables import csv_text, write_tidy_csv
from simulator.records import (
    ALLOCATION_COLUMNS,
    EVENT_COLUMNS,
    STATUS_CODES,
    YEARLY_FIELDS,
    YearlyTable,
)

YEARLY_CSV = "yearly.csv"
ALLOCATION_CSV = "allocation.csv"
SUMMARY_CSV = "summary.csv"
SCORECARD_CSV = "scorecard.csv"
EVENTS_CSV = "events.csv"
PLOTS_DIR = "plots"
BACKTEST_CSV = "backtest.csv"
BACKTEST_PNG = "backtest.png"
"""``backtest`` writes these into a run folder (the chart under ``plots/``)."""
BACKTEST_COLUMNS = (
    "line",
    "cluster",
    "year",
    "metric",
    "value",
    "lower",
    "upper",
    "status",
    "runs",
    "p10",
    "p50",
    "p90",
    "spread",
    "in_band",
    "pit",
    "probability",
    "crps",
    "kind",
    "sample",
    "brier",
    "reference",
    "reference_crps",
    "reference_brier",
    "source",
    "note",
)
"""The columns of ``backtest.csv``."""
EARLIER_BACKTEST_COLUMNS = (
    (*BACKTEST_COLUMNS[: BACKTEST_COLUMNS.index("crps") + 1], "source", "note"),
)
"""The columns of backtest.csv files written before kinds and the temporal split (such a
file is still the tool's own: ``--force`` may replace it)."""
SUMMARY_METRICS = (
    "members",
    "fee_income",
    "private_income",
    "regional_base",
    "arena_income",
    "other_public",
    "total_income",
    "costs",
    "reserves",
    "regional_share",
    "fee_multiplier",
    "activity_level",
    "closed",
)
MONEY_METRICS = frozenset(SUMMARY_METRICS) - {
    "members",
    "regional_share",
    "fee_multiplier",
    "activity_level",
    "closed",
}
"""Summary metrics measured in MSEK."""
SUMMARY_COLUMNS = ("year", "cluster", "metric", "p10", "p50", "p90", "mean")
SCORECARD_COLUMNS = ("target", "year", "probability", "mean_value", "runs", "description")


class RunTables:
    """A run folder's tables written as the batches come (``yearly.csv``, ``allocation.csv``
    and ``events.csv``: each batch's rows as text, made where the batch ran), then
    ``summary.csv`` and ``scorecard.csv``; a context manager that closes the files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._yearly = (folder / YEARLY_CSV).open("w", newline="", encoding="utf-8")
        self._allocation = (folder / ALLOCATION_CSV).open("w", newline="", encoding="utf-8")
        self._events = (folder / EVENTS_CSV).open("w", newline="", encoding="utf-8")
        self._yearly.write(csv_text([yearly_header()]))
        self._allocation.write(csv_text([("run", *ALLOCATION_COLUMNS)]))
        self._events.write(csv_text([("run", *EVENT_COLUMNS)]))

    def __enter__(self) -> RunTables:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in (self._yearly, self._allocation, self._events):
            handle.close()

    def add(self, yearly: str, allocation: str, events: str) -> None:
        """Append one batch's rows (CSV text, runs numbered as in the ensemble)."""
        self._yearly.write(yearly)
        self._allocation.write(allocation)
        self._events.write(events)

    def write_summary(self, rows: Iterable[Sequence[Any]]) -> None:
        """``summary.csv`` from rows already rounded (:func:`scenarios.folders.tables.tidy`)."""
        write_tidy_csv(self.folder / SUMMARY_CSV, SUMMARY_COLUMNS, rows)

    def write_scorecard(self, rows: Iterable[Sequence[Any]]) -> None:
        """``scorecard.csv`` from rows already rounded."""
        write_tidy_csv(self.folder / SCORECARD_CSV, SCORECARD_COLUMNS, rows)


@dataclass
class RunFolder:
    """A finished run: its manifest and its tables, each checked when first read (the
    columns its readers use, numbers where numbers belong, every run × year × cluster
    of the manifest there once)."""

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def open(cls, path: Path, command: str | None = None) -> RunFolder:
        """Open a results folder, refusing anything that is not one (naming what it is, and
        what ``command`` takes, when it is a folder of another kind)."""
        manifest = read_manifest(path, RUN_KIND, command)
        for name in (SUMMARY_CSV, SCORECARD_CSV, ALLOCATION_CSV):
            if not (path / name).is_file():
                raise UserError(f"{path / name}: missing; the results folder is incomplete")
        return cls(path, manifest)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    @property
    def years(self) -> list[int]:
        """The simulated years, from the manifest."""
        return list(range(int(self.manifest["start_year"]), int(self.manifest["horizon"]) + 1))

    @property
    def clusters(self) -> list[str]:
        """The cluster ids, in config order."""
        return list(self.config["clusters"])

    @property
    def cluster_names(self) -> dict[str, str]:
        """Cluster id → its name as the config gives it, in config order."""
        return {cid: str(cluster["name"]) for cid, cluster in self.config["clusters"].items()}

    @cached_property
    def summary(self) -> pd.DataFrame:
        """``summary.csv``: every year × cluster × metric once, each statistic a number."""
        numeric = ["year", *SUMMARY_COLUMNS[3:]]
        table = self._table(SUMMARY_CSV, numeric, ["cluster", "metric"], SUMMARY_COLUMNS[:3])
        no_empty_cells(self.path, SUMMARY_CSV, table, numeric)
        self._complete(
            SUMMARY_CSV,
            table,
            {"year": self.years, "cluster": self.clusters, "metric": list(SUMMARY_METRICS)},
        )
        return table

    @cached_property
    def scorecard(self) -> pd.DataFrame:
        """``scorecard.csv``: each target × year once, with a probability and a mean value."""
        numeric = ["year", "probability", "mean_value"]
        table = self._table(SCORECARD_CSV, numeric, ["target"], ["target", "year"])
        no_empty_cells(self.path, SCORECARD_CSV, table, numeric)
        self._outside(SCORECARD_CSV, table, "year", self.years)
        return table

    @cached_property
    def yearly(self) -> pd.DataFrame:
        """``yearly.csv``: every run × year × cluster of the manifest once, each figure a
        number (a file cut short is refused, not read as fewer runs)."""
        numeric = ["run", "year", *(name for name, _ in YEARLY_FIELDS if name != "status")]
        unique = ["run", "year", "cluster"]
        table = self._table(YEARLY_CSV, numeric, ["cluster", "status"], unique)
        no_empty_cells(self.path, YEARLY_CSV, table, [*numeric, "status"])
        runs = list(range(int(self.manifest["runs"])))
        self._complete(
            YEARLY_CSV, table, {"run": runs, "year": self.years, "cluster": self.clusters}
        )
        return table

    @cached_property
    def yearly_table(self) -> YearlyTable:
        """``yearly.csv`` as the model's yearly table (arrays of runs × years × clusters), so
        the simulator's own measures read it (:mod:`simulator.outcomes`)."""
        frame = self.yearly
        statuses = frame["status"].map(STATUS_CODES)
        if statuses.isna().any():
            bad = frame["status"][statuses.isna()].iloc[0]
            raise UserError(
                foreign(
                    self.path,
                    f"{YEARLY_CSV} has status {bad!r}, not one of {', '.join(STATUS_CODES)}",
                )
            )
        year_at = {year: y for y, year in enumerate(self.years)}
        cluster_at = {cluster: c for c, cluster in enumerate(self.clusters)}
        order = np.lexsort(
            (frame["cluster"].map(cluster_at), frame["year"].map(year_at), frame["run"])
        )
        shape = (int(self.manifest["runs"]), len(self.years), len(self.clusters))
        fields = {}
        for name, kind in YEARLY_FIELDS:
            column = statuses if name == "status" else frame[name]
            dtype = np.float64 if kind is float else np.int64
            fields[name] = column.to_numpy(dtype=dtype)[order].reshape(shape)
        return YearlyTable(tuple(self.years), tuple(self.clusters), fields)

    @cached_property
    def area_money(self) -> pd.DataFrame:
        """Mean arena money per innovation area (rows) and year (columns), MSEK."""
        allocation = self._table(ALLOCATION_CSV, ["year", "funded"], ["area"], rows_required=False)
        no_empty_cells(self.path, ALLOCATION_CSV, allocation, ["year", "funded"])
        runs = int(self.manifest["runs"])
        table = allocation.groupby(["area", "year"])["funded"].sum().unstack(fill_value=0.0)
        return table / runs

    def _table(
        self,
        name: str,
        numeric: Sequence[str],
        text: Sequence[str],
        unique: Sequence[str] = (),
        rows_required: bool = True,
    ) -> pd.DataFrame:
        """A table of this folder (text columns read as text: a cluster id ``NA`` or ``1``
        stays one)."""
        return read_table(
            self.path,
            name,
            numeric,
            text,
            unique,
            rows_required=rows_required,
            dtype={column: str for column in text},
            keep_default_na=False,
        )

    def _outside(self, name: str, table: pd.DataFrame, column: str, allowed: list[Any]) -> None:
        """Refuse a value of ``column`` that is not one of the run's (``allowed``)."""
        outside = ~table[column].isin(allowed)
        if outside.any():
            row = int(outside.to_numpy().argmax())
            value = table[column].iloc[row]
            value = json.dumps(
                value.item() if hasattr(value, "item") else value, ensure_ascii=False
            )
            raise UserError(
                foreign(
                    self.path, f"{name} row {row + 1}: {column} {value} is not one of the run's"
                )
            )

    def _complete(self, name: str, table: pd.DataFrame, keys: dict[str, list[Any]]) -> None:
        """Refuse a table (its rows unique by ``keys``) that lacks one of the combinations of
        the ``keys``' values, or holds another."""
        for column, allowed in keys.items():
            self._outside(name, table, column, allowed)
        expected = math.prod(len(allowed) for allowed in keys.values())
        if len(table) != expected:
            counts = " × ".join(f"{len(allowed)} {column}s" for column, allowed in keys.items())
            raise UserError(
                f"{self.path}: {name} has {len(table)} rows where the manifest's {counts} make "
                f"{expected}; the file was cut short or edited (run the scenario again)"
            )


def read_backtest(folder: Path) -> pd.DataFrame | None:
    """A folder's backtest.csv, or ``None`` when it has none."""
    path = folder / BACKTEST_CSV
    if not path.is_file():
        return None
    # a file written before kinds and the split lacks their columns: empty, as if observed
    return pd.read_csv(path).reindex(columns=list(BACKTEST_COLUMNS))
