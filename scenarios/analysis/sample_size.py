"""Whether an explore had samples enough to rank its inputs, and how many would do.

A sensitivity index comes with a bootstrap confidence interval (its half-width, ``_conf``).
When the widest interval is as large as a good part of the largest index, the ranking is
noise: at N = 16 on the Ishigami function, ST = 1.13 ± 0.84 and S1 > ST. The half-width
falls about as 1/√N, so the samples that would bring the widest interval down to
``TARGET`` of the largest index are N × (widest / (TARGET × largest))², rounded up to a
power of two (Sobol' sequences want one) and at least twice N.
"""

from __future__ import annotations

import math

import numpy as np

WIDE = 0.5
"""An interval half-width from this share of the largest index makes the ranking noise."""
TARGET = 0.1
"""The share of the largest index that the widest interval should come down to."""


def suggested_samples(
    index: np.ndarray, conf: np.ndarray, samples: int, first_order: np.ndarray | None = None
) -> int | None:
    """The samples to ask for when ``samples`` were too few to rank the inputs (``index``
    and its ``conf`` half-widths per input; ``first_order`` S1 where the index is ST, as
    S1 above ST is noise too), else ``None``."""
    index, conf = np.asarray(index, float), np.asarray(conf, float)
    largest = np.nanmax(np.abs(index), initial=0.0)
    widest = np.nanmax(conf, initial=0.0)
    if not largest > 0:
        return None
    noisy_first = first_order is not None and bool(
        np.any(np.nan_to_num(np.asarray(first_order, float) - index - conf, nan=-1.0) > 0)
    )
    if widest < WIDE * largest and not noisy_first:
        return None
    factor = max((widest / (TARGET * largest)) ** 2, 2.0)
    return 2 ** math.ceil(math.log2(samples * factor))
