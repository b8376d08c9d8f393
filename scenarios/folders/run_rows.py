"""A batch's rows as CSV text: its yearly table (``yearly.csv``), its allocation rows
(``allocation.csv``) and its events (``events.csv``), floats rounded, money adding up.

What is written is the *tidy* table (:func:`tidy_table`): every float rounded to
``DECIMALS`` places exactly as Python's ``round`` does (:mod:`scenarios.folders.tables`),
and ``total_income`` the sum of the five rounded sources, so the written columns add
up. The summary is taken
from the same tidy table, so ``summary.csv`` agrees with ``yearly.csv``.

The text is made column by column (each distinct value of a column that repeats
rendered once, :func:`column_texts`), giving the bytes ``csv.writer`` gives row by
row: :func:`yearly_text` (the one ``clusterfund run`` uses) is checked and timed
against :func:`write_yearly_rows`, and :func:`run_rows_text` against ``csv.writer``
(see ``tests/test_batches.py`` and ``benchmarks/bench_ensemble.py``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

import numpy as np

from scenarios.folders.tables import csv_cell, round_half_even, tidy
from simulator.records import (
    INCOME_SOURCES,
    STATUSES,
    YEARLY_COLUMNS,
    YEARLY_FIELDS,
    AllocationRow,
    Event,
    YearlyTable,
)


def tidy_table(table: YearlyTable) -> YearlyTable:
    """The table as written: floats rounded, ``total_income`` the sum of the rounded sources."""
    fields = {
        name: round_half_even(values) if values.dtype.kind == "f" else values
        for name, values in table.fields.items()
    }
    total = fields[INCOME_SOURCES[0]].copy()
    for source in INCOME_SOURCES[1:]:
        total += fields[source]
    fields["total_income"] = round_half_even(total)
    return YearlyTable(table.years, table.clusters, fields)


def yearly_header() -> tuple[str, ...]:
    """The header of ``yearly.csv``."""
    return ("run", *YEARLY_COLUMNS)


def yearly_text(tidy: YearlyTable, first_run: int) -> str:
    """A tidy table's rows of ``yearly.csv`` (runs numbered from ``first_run``), made
    column by column.

    Each column's text is made at once (``repr`` of every float, as ``csv.writer``
    writes it; each cluster id and status rendered once by ``csv.writer``), then the
    rows are joined.
    """
    runs, n_years, n_clusters = tidy.fields["members"].shape
    per_run = n_years * n_clusters
    run = np.repeat(np.arange(first_run, first_run + runs), per_run)
    year = np.tile(np.repeat(np.asarray(tidy.years), n_clusters), runs)
    cluster = np.tile(
        np.asarray([csv_field(c) for c in tidy.clusters], dtype=object), runs * n_years
    )
    columns = [column_texts(run), column_texts(year), cluster.tolist()]
    statuses = np.asarray([csv_field(status) for status in STATUSES], dtype=object)
    for name, _kind in YEARLY_FIELDS:
        values = tidy.fields[name].reshape(-1)
        if name == "status":
            columns.append(statuses[values].tolist())
        else:
            columns.append(column_texts(values))
    return "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"


def column_texts(values: np.ndarray) -> list[str]:
    """Each element of a 1-d numeric array as ``csv.writer`` writes it (``repr``; for an
    integer, its digits), each distinct value rendered once when most values repeat.

    A zero's sign survives ``repr`` (``-0.0``) but not ``np.unique``; an array holding
    ``-0.0`` is rendered element by element.
    """
    distinct, inverse = np.unique(values, return_inverse=True)
    if 2 * distinct.size > values.size or np.any(np.signbit(values) & (values == 0)):
        return list(map(repr, values.tolist()))
    return np.array(list(map(repr, distinct.tolist())), dtype=object)[inverse].tolist()


@functools.lru_cache(maxsize=65536)
def csv_field(text: str) -> str:
    """``text`` as one field (quoted when it must be, as :func:`scenarios.folders.tables.csv_cell`
    quotes it); each distinct text rendered once."""
    return csv_cell(text)


def allocation_text(allocations: Sequence[Sequence[AllocationRow]], first_run: int) -> str:
    """A batch's rows of ``allocation.csv`` (runs numbered from ``first_run``):
    :func:`run_rows_text`."""
    return run_rows_text(allocations, first_run)


def events_text(events: Sequence[Sequence[Event]], first_run: int) -> str:
    """A batch's rows of ``events.csv`` (runs numbered from ``first_run``): :func:`run_rows_text`."""
    return run_rows_text(events, first_run)


def run_rows_text(rows: Sequence[Sequence[tuple]], first_run: int) -> str:
    """Each run's rows (tuples whose columns each hold ints, floats or strings), as CSV lines
    led by the run number (runs numbered from ``first_run``), made column by column: the
    same text as ``csv.writer`` writing ``(run, *tidy_row(row))`` row by row (floats
    rounded as :func:`round_half_even` rounds them)."""
    counts = [len(run_rows) for run_rows in rows]
    if not sum(counts):
        return ""
    run = np.repeat(np.arange(first_run, first_run + len(rows)), counts)
    texts = [column_texts(run)]
    for values in zip(*itertools.chain.from_iterable(rows), strict=True):
        if len({type(value) for value in values}) > 1:  # mixed types: cell by cell
            texts.append([csv_cell(tidy(value)) for value in values])
        elif isinstance(values[0], float):
            texts.append(column_texts(round_half_even(np.array(values))))
        elif isinstance(values[0], str):
            texts.append(list(map(csv_field, values)))
        else:
            texts.append(column_texts(np.array(values)))
    return "\n".join(map(",".join, zip(*texts, strict=True))) + "\n"
