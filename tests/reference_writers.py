"""Reference writers for the tests and benchmarks: a run's CSV rows written the plain way
(one ``csv.writer`` row at a time), against which the column-wise renderers of
:mod:`scenarios.folders.run_rows` are checked and timed. Not used by the tool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from scenarios.folders.run_rows import allocation_text, yearly_text
from scenarios.folders.tables import csv_text, tidy
from simulator.records import STATUSES, YEARLY_FIELDS, AllocationRow, YearlyTable


def write_yearly(handle: TextIO, tidy: YearlyTable, first_run: int) -> None:
    """Append a tidy table's rows (runs numbered from ``first_run``): :func:`yearly_text`
    written to a handle (the form the writer tests and benchmarks compare)."""
    handle.write(yearly_text(tidy, first_run))


def write_yearly_rows(handle: TextIO, table: YearlyTable, first_run: int) -> None:
    """Append a tidy table's rows as :func:`write_yearly` does, one ``csv.writer`` row at a
    time."""
    names = [name for name, _ in YEARLY_FIELDS]
    columns = [table.fields[name].tolist() for name in names]
    status = names.index("status")
    rows = []
    for r in range(table.runs):
        for y, year in enumerate(table.years):
            for c, cluster in enumerate(table.clusters):
                values = [column[r][y][c] for column in columns]
                values[status] = STATUSES[values[status]]
                rows.append((first_run + r, year, cluster, *map(tidy, values)))
    handle.write(csv_text(rows))


def write_allocations(
    handle: TextIO, allocations: Sequence[Sequence[AllocationRow]], first_run: int
) -> None:
    """Append a batch's allocation rows (runs numbered from ``first_run``):
    :func:`allocation_text` written to a handle (the form the writer tests compare)."""
    handle.write(allocation_text(allocations, first_run))
