"""The garbage collector's settings while the model works (scenarios/engine/collector.py):
set in the process that runs the work, and put back afterwards in this one."""

from __future__ import annotations

import gc

import pytest

from scenarios.engine.collector import OLDER_THRESHOLDS, YOUNG_THRESHOLD, collecting_less
from scenarios.engine.executor import Backend, Executor


def collector_seen(_shared: object, _item: int) -> tuple[tuple[int, int, int], int]:
    """The thresholds and the number of frozen objects where an item runs."""
    return gc.get_threshold(), gc.get_freeze_count()


def test_the_collector_is_put_back_after_the_block_even_when_it_fails() -> None:
    before = gc.get_threshold()
    assert before[0] != YOUNG_THRESHOLD  # the test would prove nothing otherwise
    with pytest.raises(RuntimeError), collecting_less():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
        assert gc.get_freeze_count() > 0  # the modules alive now are out of its reach
        raise RuntimeError("a failing batch")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_work_runs_with_fewer_collections_in_this_process_or_a_worker(jobs: int) -> None:
    before = gc.get_threshold()
    with Executor(Backend(jobs=jobs)) as executor:
        seen = list(executor.map(collector_seen, None, [0, 1]))
    for thresholds, frozen in seen:
        assert thresholds == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
        assert frozen > 0
    assert gc.get_threshold() == before  # this process's collector as it was
    assert gc.get_freeze_count() == 0
