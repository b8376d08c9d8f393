"""The files of a budget brief: the page (PDF or HTML) and ``brief.csv`` beside it, its
numbers, published together (:class:`scenarios.folders.publish.StagedFiles`).

``brief.csv`` has one row per scenario × cluster (and ``all``) × measure with the columns
``BRIEF_COLUMNS``: ``scenario, cluster, measure, years, value, delta, delta_p10,
delta_p90`` (floats rounded as in every CSV of the tool; the baseline's own rows have empty
changes). What the measures are: :mod:`scenarios.analysis.paired`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from scenarios.core.lazy import pandas as pd
from scenarios.folders.tables import tidy_frame, write_csv

BRIEF_GENERATOR = "clusterfund brief"
"""Marks a brief's page as written by this tool (``--force`` replaces only such pages)."""
PDF_CREATOR = f"/Creator ({BRIEF_GENERATOR})".encode()
"""How the PDF's document information names its creator."""
PAGE_SUFFIXES = (".pdf", ".html", ".htm")


class BriefRow(NamedTuple):
    """One row of ``brief.csv``."""

    scenario: str
    cluster: str
    """A cluster id, or ``all``."""
    measure: str
    years: str
    """``2017-2021`` (summed over the years) or ``2021`` (in that year)."""
    value: float
    """The scenario's mean over its runs."""
    delta: float
    """The mean run-by-run change against the baseline (empty on the baseline's rows)."""
    delta_p10: float
    delta_p90: float


BRIEF_COLUMNS: tuple[str, ...] = BriefRow._fields
"""The columns of ``brief.csv``."""


BRIEF_CSV = "brief.csv"
"""The brief's numbers, beside the page (a name of the results contract, ../shared/DESIGN.md)."""


def brief_csv_beside(page: Path) -> Path:
    """Where ``brief.csv`` goes: beside the page (a second brief in the folder is refused
    without ``--force``, so no brief's numbers are replaced unasked)."""
    return page.with_name(BRIEF_CSV)


def write_brief_csv(path: Path, rows: Iterable[BriefRow]) -> None:
    """``brief.csv`` (a missing change as an empty cell)."""
    write_csv(
        path,
        BRIEF_COLUMNS,
        (tuple("" if _missing(value) else value for value in row) for row in rows),
    )


def brief_frame(rows: Iterable[BriefRow]) -> pd.DataFrame:
    """The rows of ``brief.csv`` as a table (a workbook's sheet), rounded as the CSV is."""
    return tidy_frame(pd.DataFrame(list(rows), columns=list(BRIEF_COLUMNS)))


def _missing(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def written_by_brief(path: Path) -> bool:
    """Whether ``path`` is a brief's page or ``brief.csv`` that this tool wrote (the page's
    generator mark; the table's header)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    if path.name == BRIEF_CSV:
        return head.split(b"\n", 1)[0].decode("utf-8", "replace") == ",".join(BRIEF_COLUMNS)
    if path.suffix.lower() == ".pdf":
        return _pdf_marked(path)
    return BRIEF_GENERATOR.encode() in head


def _pdf_marked(path: Path) -> bool:
    """Whether a PDF's document information names this tool as its creator (a brief is one
    page of some hundred kilobytes; the information dictionary is at its end)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return data.startswith(b"%PDF") and PDF_CREATOR in data
