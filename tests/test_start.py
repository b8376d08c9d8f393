"""A light start: the command line and the ensemble load neither pandas nor matplotlib
(``scenarios/core/lazy.py``); only the commands' tables and charts do, when they are made."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from scenarios.core.lazy import LazyModule, loaded

ROOT = Path(__file__).resolve().parent.parent
HEAVY = "('pandas', 'matplotlib')"


def loaded_after(code: str, *args: str) -> str:
    """Which of pandas and matplotlib a fresh interpreter of this checkout has loaded after
    ``code`` (run with ``args`` as ``sys.argv[1:]``)."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_command_line_starts_without_pandas_or_matplotlib() -> None:
    assert loaded_after("import scenarios.cli") == "[]"


def test_run_reaches_its_batches_without_pandas_or_matplotlib(tmp_path: Path) -> None:
    """``clusterfund run`` up to the moment it hands out its batches (when its worker
    processes fork): stopped there, it has loaded neither."""
    code = """
import sys
import scenarios.studies.run as run
from scenarios.cli import main
def reached(*args, **kwargs):
    raise SystemExit(0)
run.run_stream = reached
sys.argv = ["clusterfund", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    assert stop.code == 0, stop.code
"""
    out = tmp_path / "run"
    args = ("run", "configs/baseline.toml", "--jobs", "2", "--out", str(out))
    assert loaded_after(code, *args) == "[]"
    assert not out.exists()


def test_an_ensemble_runs_without_pandas_or_matplotlib() -> None:
    """What ``clusterfund run``'s workers do: batches of the baseline, open calls and all."""
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
    assert loaded(lazy) is json and loaded(json) is json


def test_a_lazy_module_hides_none_of_the_modules_names() -> None:
    lazy = LazyModule("json")
    assert lazy.load is json.load  # no method of its own stands in front of the module's
    assert lazy.__version__ == json.__version__ and lazy._default_decoder is json._default_decoder
    assert "JSONDecoder" in dir(lazy)
    assert copy.copy(LazyModule("json")).dumps(None) == "null"  # no endless lookup


def test_threads_asking_at_once_set_a_lazy_module_up_once() -> None:
    calls: list[str] = []
    answers: list[str] = []
    started = threading.Barrier(8)

    def slow_set_up() -> None:
        calls.append("set up")
        time.sleep(0.05)  # the others ask meanwhile

    lazy = LazyModule("json", set_up=slow_set_up)

    def ask() -> None:
        started.wait()
        answers.append(lazy.dumps(1))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["set up"] and answers == ["1"] * 8
