"""Runs stopped by a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BASELINE

ROOT = Path(__file__).resolve().parent.parent


def _start(*args: str) -> subprocess.Popen[str]:
    """``clusterfund ARGS`` as its own process (and process group, like a shell job)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "scenarios.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


@pytest.mark.parametrize(
    ("signum", "to_group", "status"),
    [(signal.SIGTERM, False, 143), (signal.SIGHUP, False, 129), (signal.SIGINT, True, 130)],
    ids=["sigterm", "sighup", "ctrl-c"],
)
def test_a_stopped_run_ends_quietly_and_leaves_nothing(
    signum: int, to_group: bool, status: int, tmp_path: Path
) -> None:
    out = tmp_path / "big"
    job = _start("run", str(BASELINE), "--out", str(out), "--runs", "2000", "--jobs", "2")
    deadline = time.monotonic() + 60
    while not _partials(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _partials(tmp_path), "the run never started writing"
    time.sleep(2)  # the worker processes are busy now
    if to_group:
        os.killpg(job.pid, signum)
    else:
        job.send_signal(signum)
    _, stderr = job.communicate(timeout=60)
    assert job.returncode == status, stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert "interrupted; nothing was written" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing left behind"
