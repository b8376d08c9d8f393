"""How figures are rounded in the results' CSVs: one rule, for one value and for an array.

Every float written is rounded to ``DECIMALS`` places exactly as Python's ``round``
does (correctly, from the exact binary value), without -0.0: :func:`tidy` for one
value, :func:`round_half_even` for a whole numpy array (the same numbers; checked
against each other in ``tests/test_batches.py``), :func:`tidy_frame` for every float
column of a DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence
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
