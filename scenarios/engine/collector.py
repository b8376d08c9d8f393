"""How often Python's garbage collector runs while the model works.

A batch of runs makes and drops many small objects (requests, proposals, programs'
labels), and with CPython's default thresholds the collector runs every 700 new objects
and now and then walks every object alive, the imported modules and the scenario
included. In a 320-run baseline that took about 9 % of the simulation (a 60 ms walk of
the whole heap four times; ``benchmarks/bench_gc.py``). Two standard settings cut it to
under 1 %:

- ``gc.freeze()`` moves every object alive when the work starts (modules, the scenario,
  the job) out of the collector's reach: they live as long as the process anyway;
- the youngest generation is collected every 50,000 new objects instead of 700, so the
  collector walks the young objects a few times a batch, not hundreds.

Objects freed by reference counting (nearly all) are freed at once either way; only
garbage in reference cycles waits longer, a few MB at most. The collector never changes
what is computed, so results do not depend on these settings (the byte-identity tests
run with them).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""New objects between two collections of the youngest generation (CPython: 700)."""
OLDER_THRESHOLDS = (10, 10)
"""Collections of a generation between two of the next (CPython's defaults)."""


def collect_less() -> None:
    """For the rest of this process (a pool worker): freeze what is alive now and collect
    the youngest generation every :data:`YOUNG_THRESHOLD` new objects."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)


@contextmanager
def collecting_less() -> Iterator[None]:
    """:func:`collect_less` while the block runs (this process runs the work itself), then
    the collector as it was: its thresholds back, the frozen objects in its reach again."""
    thresholds = gc.get_threshold()
    collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
