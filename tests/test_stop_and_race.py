"""Runs stopped by a signal, staging folders left by killed runs, and two runs into one folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, invoke

from scenarios.core.errors import UserError
from scenarios.folders.publish import StagedFolder

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


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "res"
    result = invoke(
        "run", str(BASELINE), "--out", str(out), "--runs", "2", "--horizon", "2021", "--no-plots"
    )
    assert result.exit_code == 0, result.output
    return out


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_a_killed_runs_staging_folder_is_never_read_and_is_cleaned_away(
    small_run: Path, tmp_path: Path
) -> None:
    stale = tmp_path / f".res.partial-{_dead_pid()}-abc"  # left by a run killed with SIGKILL
    unknown = tmp_path / ".res.partial-xyz"  # owner unknown: left alone, never read
    for folder in (stale, unknown):
        shutil.copytree(small_run, folder)  # it even holds a manifest and every CSV
        for command in ("compare", "report"):
            result = invoke(command, str(folder), str(small_run), "--out", str(tmp_path / "c.html"))
            assert result.exit_code == 2, result.output
            assert "staging folder of an unfinished run" in result.stderr
    out = tmp_path / "res"
    result = invoke(
        "run", str(BASELINE), "--out", str(out), "--runs", "2", "--horizon", "2021", "--no-plots"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".res.partial-xyz", "res"]


def test_a_run_refuses_a_folder_another_live_run_is_writing(tmp_path: Path) -> None:
    out = tmp_path / "res"
    with StagedFolder(out, force=False):  # this process is alive and writing ``out``
        result = invoke("run", str(BASELINE), "--out", str(out), "--runs", "1", "--force")
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"error: {out}: another clusterfund run (process {os.getpid()}) is writing it; "
            "wait for it to finish or choose another --out"
        ]
        assert len(_partials(tmp_path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_the_loser_of_the_final_rename_refuses_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "res"
    with pytest.raises(UserError, match="already exists"), StagedFolder(out, False) as staging:
        (staging.path / "mine.csv").write_text("mine", encoding="utf-8")
        out.mkdir()  # another writer finished first
        (out / "theirs.csv").write_text("theirs", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    # the same when the other one renames between the check and the rename
    shutil.rmtree(out)
    refused = pytest.raises(UserError, match="wrote this results folder first")
    with refused, StagedFolder(out, False) as staging:
        (staging.path / "mine.csv").write_text("mine", encoding="utf-8")
        out.mkdir()
        (out / "theirs.csv").write_text("theirs", encoding="utf-8")
        monkeypatch.setattr("scenarios.folders.publish.check_folder_free", lambda *_: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    assert [p.name for p in out.iterdir()] == ["theirs.csv"]


def test_two_runs_into_one_folder_at_once_give_one_complete_folder(tmp_path: Path) -> None:
    out = tmp_path / "res"
    common = ("--out", str(out), "--horizon", "2021", "--no-plots", "--jobs", "2")
    jobs = [_start("run", str(BASELINE), "--runs", str(n), *common) for n in (3, 4)]
    finished = [(job.wait(timeout=120), job.communicate()[1]) for job in jobs]
    assert sorted(code for code, _ in finished) == [0, 2], finished
    loser = next(stderr for code, stderr in finished if code == 2)
    lines = [line for line in loser.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}: "), loser
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    yearly = pd.read_csv(out / "yearly.csv")
    scorecard = pd.read_csv(out / "scorecard.csv")
    assert sorted(yearly.run.unique()) == list(range(manifest["runs"]))
    assert len(yearly) == manifest["runs"] * 5 * 10  # runs × years × clusters
    assert (scorecard.runs == manifest["runs"]).all()


def test_a_stop_during_the_final_rename_comes_too_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scenarios.core.stops import STOP_SIGNALS, stop_on_signals

    rename = os.rename

    def rename_while_stopped(source: Path, target: Path) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the rename is under way
        rename(source, target)

    saved = {each: signal.getsignal(each) for each in STOP_SIGNALS}
    out = tmp_path / "res"
    try:
        stop_on_signals()
        with monkeypatch.context() as patch, StagedFolder(out, False) as staging:
            (staging.path / "mine.csv").write_text("mine", encoding="utf-8")
            patch.setattr(os, "rename", rename_while_stopped)
        time.sleep(0.1)  # no Stopped: the folder is complete, the stop came too late
    finally:
        for each, handler in saved.items():
            signal.signal(each, handler)
    assert [p.name for p in out.iterdir()] == ["mine.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
