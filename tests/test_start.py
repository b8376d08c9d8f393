"""A light start: the command line and the ensemble load neither pandas nor matplotlib
(``scenarios/core/lazy.py``); only the commands' tables and charts do, when they are made."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from scenarios.core.lazy import LazyModule

ROOT = Path(__file__).resolve().parent.parent
HEAVY = "('pandas', 'matplotlib')"


def loaded_after(code: str) -> str:
    """Which of pandas and matplotlib a fresh interpreter has loaded after ``code``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_the_command_line_starts_without_pandas_or_matplotlib() -> None:
    assert loaded_after("import scenarios.cli") == "[]"


def test_an_ensemble_runs_without_pandas_or_matplotlib() -> None:
    """What ``clusterfund run``'s workers do: a batch of the baseline, open calls and all."""
    code = """
from pathlib import Path
from scenarios.config.scenario import load_config
from scenarios.engine.ensemble import run_stream
from scenarios.engine.executor import Backend, Executor
scenario = load_config(Path("configs/baseline.toml")).scenario
with Executor(Backend()) as executor:
    batches = list(run_stream(scenario, 2, 1, executor))
assert sum(b.runs for b in batches) == 2 and ",2030," in batches[-1].yearly_csv
"""
    assert loaded_after(code) == "[]"


def test_a_lazy_module_is_imported_and_set_up_once_on_first_use() -> None:
    calls: list[str] = []
    lazy = LazyModule("json", set_up=lambda: calls.append("set up"))
    assert "not imported yet" in repr(lazy) and calls == []
    assert lazy.dumps([1, 2]) == "[1, 2]"
    assert lazy.loads("[3]") == [3]
    assert calls == ["set up"] and "not imported yet" not in repr(lazy)
    assert lazy.load() is sys.modules["json"]


def test_threads_asking_at_once_set_a_lazy_module_up_once() -> None:
    calls: list[str] = []
    started = threading.Barrier(8)

    def slow_set_up() -> None:
        calls.append("set up")
        time.sleep(0.05)  # the others ask meanwhile

    lazy = LazyModule("json", set_up=slow_set_up)

    def ask() -> None:
        started.wait()
        assert lazy.dumps(1) == "1"

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["set up"]
