"""How every CSV of the tool is written: the csv module's minimal quoting, rows ended by
``"\\n"``, and a field quoted whenever it holds a line break, CR included.

Python's ``csv.writer`` quotes a field for the delimiter, the quote character and the
characters of *its own* line terminator only; with ``lineterminator="\\n"`` a carriage
return went out bare, and every reader took it for the end of a row (a cluster named
``"Mobile\\rHeights"`` split the rows of ``scorecard.csv``). So rows are written with
``"\\r\\n"`` (which quotes a field holding either character) and each row's ``"\\r\\n"``
becomes ``"\\n"`` afterwards (:func:`rows_ended_by_newline`): the bytes are those of
``"\\n"`` rows except that a field holding a CR is now quoted. Every other character
(NUL, DEL, quotes, characters outside the BMP) is written as it is, as UTF-8; the csv
module and pandas read each one back as it was (``tests/test_outputs_read_back.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

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
