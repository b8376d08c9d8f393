"""Tables as the tool writes them: the one rounding rule and the one CSV form.

**Rounding.** Every float written is rounded to ``DECIMALS`` places exactly as Python's
``round`` does (correctly, from the exact binary value), without -0.0: :func:`tidy` for one
value, :func:`round_half_even` for a whole numpy array (the same numbers; checked against
each other in ``tests/test_batches.py``), :func:`tidy_frame` for every float column of a
DataFrame.

**CSV.** The csv module's minimal quoting, rows ended by ``"\n"``, and a field quoted
whenever it holds a line break, CR included. Python's ``csv.writer`` quotes a field for the
delimiter, the quote character and the characters of *its own* line terminator only; with
``lineterminator="\n"`` a carriage return went out bare, and every reader took it for the
end of a row (a cluster named ``"Mobile\rHeights"`` split the rows of ``scorecard.csv``).
So rows are written with ``"\r\n"`` (which quotes a field holding either character) and
each row's ``"\r\n"`` becomes ``"\n"`` afterwards (:func:`rows_ended_by_newline`): the
bytes are those of ``"\n"`` rows except that a field holding a CR is now quoted. Every other
character (NUL, DEL, quotes, characters outside the BMP) is written as it is, as UTF-8; the
csv module and pandas read each one back as it was (``tests/test_outputs_read_back.py``).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

DECIMALS = 6
"""Floats in the CSVs are rounded to this many decimals (money in MSEK: to 1 SEK)."""

_SCALE = 10.0**DECIMALS


def tidy(value: Any) -> Any:
    """A float rounded to ``DECIMALS`` places (no float noise such as 2.9800000000000004,
    no -0.0); anything else unchanged."""
    if isinstance(value, float):
        return round(float(value), DECIMALS) + 0.0
    return value


def tidy_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row with every float rounded by :func:`tidy`."""
    return tuple(tidy(value) for value in row)


def round_half_even(values: np.ndarray) -> np.ndarray:
    """:func:`tidy` of every element: ``round(v, DECIMALS) + 0.0`` as Python rounds.

    ``np.round`` scales by 10**DECIMALS first, which can land on the wrong side of a
    half when the scaled value is within rounding error of one; those few elements are
    rounded by Python.
    """
    values = np.asarray(values, dtype=np.float64)
    rounded = np.round(values, DECIMALS)
    scaled = values * _SCALE
    distance = np.abs(scaled - np.floor(scaled) - 0.5)
    doubtful = np.flatnonzero(distance <= np.abs(scaled) * 2.0**-50 + 1e-300)
    for i in doubtful:
        rounded.flat[i] = round(float(values.flat[i]), DECIMALS)
    return rounded + 0.0


def tidy_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every float column rounded by :func:`round_half_even` (NaN kept)."""
    rounded = table.copy()
    for position in range(rounded.shape[1]):
        column = rounded.iloc[:, position]
        if column.dtype.kind == "f":
            rounded.isetitem(position, round_half_even(column.to_numpy(dtype=np.float64)))
    return rounded


WRITER_TERMINATOR = "\r\n"
"""The line terminator given to the writer: it makes the writer quote CR and LF alike."""
ROW_END = "\n"
"""How each row of a written file ends."""


def rows_ended_by_newline(text: str) -> str:
    """CSV text whose rows end with ``"\\r\\n"``, with each row ending in ``"\\n"`` instead;
    a ``"\\r\\n"`` inside a quoted field is kept.

    A writer with minimal quoting puts a quote character only in quoted fields, each
    opening and closing quote once and an inner quote doubled, so the text between the
    odd-numbered quotes is inside a field and the rest is outside.
    """
    parts = text.split('"')
    parts[::2] = [part.replace(WRITER_TERMINATOR, ROW_END) for part in parts[::2]]
    return '"'.join(parts)


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """``rows`` as CSV lines, each ended by ``"\\n"`` (values written as ``csv.writer``
    writes them: ``repr`` of a float, the text of a string, quoted when it must be)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=WRITER_TERMINATOR).writerows(rows)
    return rows_ended_by_newline(buffer.getvalue())


def csv_cell(value: object) -> str:
    """Any ``value`` as one field of a row (quoted when it must be)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=WRITER_TERMINATOR).writerow(["", value])  # among others
    return buffer.getvalue()[1 : -len(WRITER_TERMINATOR)]


def frame_csv_text(frame: pd.DataFrame) -> str:
    """A DataFrame as CSV text (header, no index) as ``DataFrame.to_csv`` writes it, each
    row ended by ``"\\n"`` and a field holding a CR quoted."""
    return rows_ended_by_newline(frame.to_csv(index=False, lineterminator=WRITER_TERMINATOR))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header (floats rounded to ``DECIMALS`` places, as their shortest text)."""
    write_tidy_csv(path, header, (tidy_row(row) for row in rows))


def write_tidy_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header, rows whose floats are already rounded as
    :func:`tidy` rounds them (the same file as :func:`write_csv` writes
    from them), quoted as :func:`csv_text` quotes."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(csv_text(itertools.chain([header], rows)))
