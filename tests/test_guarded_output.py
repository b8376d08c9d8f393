"""Nothing lost: every command writes through one guarded path (scenarios.folders.publish).

Each test is a reproducer of ../shared/repro/reliability.sh (named in its docstring) that
failed on the code before the guarded writer.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BASELINE, CONFIGS, invoke

from scenarios.core import errors, stops
from scenarios.folders import publish
from scenarios.folders.publish import StagedFiles, StagedFolder, default_folder

CLI = (sys.executable, "-m", "scenarios.cli")
QUICK = ("--runs", "2", "--horizon", "2021", "--no-plots")

TINY_EXPERIMENT = """
name = "{name}"
base = "{base}"
design = "grid"
samples = 2
replications = 2
seed = 1
horizon = 2021
[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: test"
[outcomes.m]
metric = "members"
year = 2021
"""

TINY_POLICY = """
name = "{name}"
base = "{base}"
replications = 2
seed = 7
budget = {budget}
population = 4
[levers."base_funding.default.values.2019"]
range = [0.0, 3.0]
source = "assumed: test"
[outcomes.money]
metric = "regional_base"
year = 2019
cluster = "all"
[objective]
minimise = ["money"]
"""


def tiny(folder: Path, text: str, name: str, **fields: Any) -> Path:
    path = folder / f"{name.strip('./').replace('/', '_') or 'x'}.toml"
    path.write_text(text.format(name=name, base=BASELINE.as_posix(), **fields), encoding="utf-8")
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def one_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# --- R01, R02: what --force may replace --------------------------------------------------


def test_a_name_that_climbs_out_of_results_is_cleaned(tmp_path: Path, monkeypatch) -> None:
    """R01: an experiment named "../configs" explored with --force must not replace configs/."""
    work = tmp_path / "cwd"
    shutil.copytree(CONFIGS, work / "configs")
    monkeypatch.chdir(work)
    before = names(work / "configs")
    spec = tiny(work, TINY_EXPERIMENT, "../configs")
    for extra in ((), ("--force",)):
        result = invoke("explore", str(spec), "--no-plots", *extra)
        assert result.exit_code == 0, result.output
    assert names(work / "configs") == before
    assert (work / "results" / "_configs" / "outcomes.csv").is_file()
    assert default_folder("../../x y") == Path("results") / "_.._x_y"


def test_force_refuses_a_folder_this_tool_did_not_write(tmp_path: Path) -> None:
    """R02: --force onto a user's own folder (holding the scenario and notes) is refused."""
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(BASELINE, mine / "baseline.toml")
    shutil.copy(CONFIGS / "projects.csv", mine / "projects.csv")
    (mine / "NOTES").write_text("notes", encoding="utf-8")
    result = invoke("run", str(mine / "baseline.toml"), "--out", str(mine), "--force", *QUICK)
    assert "not a folder this tool wrote" in one_error(result)
    assert names(mine) == ["NOTES", "baseline.toml", "projects.csv"]
    assert names(tmp_path) == ["mine"]


def test_force_replaces_a_tool_folder_but_not_one_holding_the_config(tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert invoke("run", str(BASELINE), "--out", str(out), *QUICK).exit_code == 0
    assert invoke("run", str(BASELINE), "--out", str(out), "--force", *QUICK).exit_code == 0
    shutil.copy(BASELINE, out / "mine.toml")
    shutil.copy(CONFIGS / "projects.csv", out / "projects.csv")
    result = invoke("run", str(out / "mine.toml"), "--out", str(out), "--force", *QUICK)
    assert "which this command reads" in one_error(result)
    assert (out / "mine.toml").is_file()


@pytest.mark.parametrize("where", [".", ".."])
def test_force_never_replaces_the_current_folder(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R17: --out . --force and --out .. --force."""
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (inner / "manifest.json").write_text('{"tool": "clusterfund"}', encoding="utf-8")
    (tmp_path / "a" / "manifest.json").write_text('{"tool": "clusterfund"}', encoding="utf-8")
    monkeypatch.chdir(inner)
    result = invoke("run", str(BASELINE), "--out", where, "--force", *QUICK)
    assert "holds the current folder" in one_error(result)
    assert names(inner) == ["manifest.json"]


def test_an_output_under_a_file_or_a_symlink_is_refused(tmp_path: Path) -> None:
    """R17 (--out under a file) and R18 (a dangling symlink as --out)."""
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = invoke("run", str(BASELINE), "--out", str(tmp_path / "afile" / "sub"), *QUICK)
    assert "is a file, not a folder" in one_error(result)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for extra in ((), ("--force",)):
        result = invoke("run", str(BASELINE), "--out", str(tmp_path / "dangling"), *QUICK, *extra)
        assert "is a symbolic link" in one_error(result)
    assert names(tmp_path) == ["afile", "dangling"]


def test_a_stale_staging_folder_whose_pid_was_reused_does_not_block(tmp_path: Path) -> None:
    """R18: a staging folder named for process 1 (alive, but not writing it) is removed."""
    stale = tmp_path / ".r.partial-1-zzzz"
    stale.mkdir()
    result = invoke("run", str(BASELINE), "--out", str(tmp_path / "r"), "--force", *QUICK)
    assert result.exit_code == 0, result.output
    assert names(tmp_path) == ["r"]


def test_compare_and_report_replace_only_what_they_wrote(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert invoke("run", str(BASELINE), "--out", str(run), *QUICK).exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("keep", encoding="utf-8")
    second = tmp_path / "second"
    assert invoke("run", str(BASELINE), "--out", str(second), *QUICK, "--seed", "2").exit_code == 0
    result = invoke("compare", str(run), str(second), "--out", str(other), "--force")
    assert "not a folder this tool wrote" in one_error(result)
    mine = tmp_path / "page.html"
    mine.write_text("<html>mine</html>", encoding="utf-8")
    result = invoke("report", str(run), "--out", str(mine), "--force")
    assert "not a file this tool wrote" in one_error(result)
    assert mine.read_text(encoding="utf-8") == "<html>mine</html>"
    page = tmp_path / "ours.html"
    for extra in ((), ("--force",)):
        assert invoke("report", str(run), "--out", str(page), *extra).exit_code == 0
    assert publish.written_by_tool(run)


def test_export_mps_to_a_folder_or_an_existing_file(tmp_path: Path) -> None:
    """R17: --export-mps to a folder."""
    args = ("allocate", str(BASELINE), "--year", "2018", "--export-mps")
    result = invoke(*args, str(tmp_path))
    assert "is a folder, not a file" in one_error(result)
    target = tmp_path / "a.mps"
    assert invoke(*args, str(target)).exit_code == 0
    first = target.read_bytes()
    assert "already exists" in one_error(invoke(*args, str(target)))
    assert invoke(*args, str(target), "--force").exit_code == 0
    assert target.read_bytes() == first
    assert names(tmp_path) == ["a.mps"]


# --- R03: a failed final step never loses finished work ---------------------------------


def test_an_output_appearing_during_explore_keeps_the_finished_chunks(tmp_path: Path) -> None:
    """R03: the folder appears while explore runs; the chunks survive and --resume finishes."""
    from scenarios.config.experiment import load_experiment
    from scenarios.engine.points import ScenarioModel
    from scenarios.studies.explore import ExploreRequest, execute_explore

    spec = tiny(tmp_path, TINY_EXPERIMENT, "appear")
    experiment = load_experiment(spec)
    out = tmp_path / "res"

    class Intruder(ScenarioModel):
        def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> Any:
            out.mkdir(exist_ok=True)  # somebody makes the folder meanwhile
            return super().evaluate(overrides, replications, seed)

        def evaluate_points(self, points: Any, replications: int, seed: int) -> Any:
            out.mkdir(exist_ok=True)  # (points that share batches come this way)
            return super().evaluate_points(points, replications, seed)

    model = Intruder(experiment.document, tuple(experiment.spec.outcomes.values()))
    request = ExploreRequest(out=out, progress=False, make_plots=False)
    with pytest.raises(errors.UserError) as refused:
        execute_explore(experiment, request, model=model)
    assert "already exists" in refused.value.lines[0]
    assert "the finished work is kept" in refused.value.lines[1]
    chunks = sorted((tmp_path / ".res.work" / "chunks").glob("*.npy"))
    assert chunks, "the finished chunks are kept"
    out.rmdir()
    result = invoke("explore", str(spec), "--out", str(out), "--no-plots", "--resume")
    assert result.exit_code == 0, result.output
    fresh = tmp_path / "fresh"
    assert invoke("explore", str(spec), "--out", str(fresh), "--no-plots").exit_code == 0
    for table in ("experiments.csv", "outcomes.csv", "sensitivity.csv"):
        assert (out / table).read_bytes() == (fresh / table).read_bytes()
    assert ".res.work" not in names(tmp_path)


# --- R04: write errors --------------------------------------------------------------------


def test_a_full_disk_is_one_line_and_leaves_no_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R04 (simulated ENOSPC in the middle of writing yearly.csv)."""
    import scenarios.folders.run_folder as run_folder

    real = run_folder.yearly_header

    def full(*args: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(run_folder, "yearly_header", full)
    result = invoke("run", str(BASELINE), "--out", str(tmp_path / "res"), *QUICK)
    line = one_error(result)
    assert "No space left on device" in line and "nothing was written" in line
    assert names(tmp_path) == []
    monkeypatch.setattr(run_folder, "yearly_header", real)


def test_a_full_tmpfs_is_one_line_and_leaves_no_staging(tmp_path: Path) -> None:
    """R04 on a real 2 MB tmpfs (needs root; the run's files do not fit)."""
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        job = subprocess.run(
            [*CLI, "run", str(BASELINE), "--runs", "60", "--no-plots", "--out", str(small / "res")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(CONFIGS.parent)},
            check=False,
        )
        assert job.returncode == 2, job.stderr
        assert job.stderr.strip().splitlines() == [
            f"error: {small / 'res'}: cannot be written: No space left on device; nothing was written"
        ]
        assert names(small) == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_a_read_only_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """R17: a read-only disk (simulated EROFS when the staging folder is made)."""

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr(publish.tempfile, "mkdtemp", read_only)
    result = invoke("run", str(BASELINE), "--out", str(tmp_path / "res"), *QUICK)
    assert "Read-only file system" in one_error(result)


# --- R13, R14, R15: stops ---------------------------------------------------------------


@pytest.fixture
def signals_installed() -> Any:
    saved = {each: signal.getsignal(each) for each in stops.STOP_SIGNALS}
    hook = sys.unraisablehook
    stops.stop_on_signals()
    yield
    for each, handler in saved.items():
        signal.signal(each, handler)
    sys.unraisablehook = hook


def test_a_stop_just_after_the_final_rename_reports_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signals_installed: None
) -> None:
    """R13: SIGTERM right after the rename (while the summary prints); then while --force
    removes the old folder."""
    import scenarios.cli as describe

    out = tmp_path / "r13"
    summary = describe.describe_run

    def stopped_while_printing(folder: Path) -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        return summary(folder)

    monkeypatch.setattr(describe, "describe_run", stopped_while_printing)
    result = invoke("run", str(BASELINE), "--out", str(out), *QUICK)
    assert result.exit_code == 0, result.output
    assert "nothing was written" not in result.output
    assert (out / "scorecard.csv").is_file()
    monkeypatch.setattr(describe, "describe_run", summary)

    stops.stop_on_signals()
    rmtree = shutil.rmtree

    def rmtree_while_stopped(path: Any, *args: Any, **kwargs: Any) -> None:
        if ".replaced-" in str(path) and Path(path).exists():
            os.kill(os.getpid(), signal.SIGTERM)  # arrives while the old folder goes
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", rmtree_while_stopped)
    result = invoke("run", str(BASELINE), "--out", str(out), "--force", "--seed", "9", *QUICK)
    assert result.exit_code == 0, result.output
    assert names(tmp_path) == ["r13"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["seed"] == 9


def test_a_replaced_folder_left_by_a_killed_run_is_cleaned_away(tmp_path: Path) -> None:
    """R13: a SIGKILL during the removal leaves .X.replaced-PID; the next write removes it."""
    (tmp_path / ".res.replaced-4242").mkdir()
    result = invoke("run", str(BASELINE), "--out", str(tmp_path / "res"), *QUICK)
    assert result.exit_code == 0, result.output
    assert names(tmp_path) == ["res"]


def test_files_published_together_or_not_at_all(tmp_path: Path) -> None:
    """R14, R15: a stop (or error) after the first file leaves neither; success gives both."""
    first, second = tmp_path / "backtest.csv", tmp_path / "plots" / "backtest.png"
    with pytest.raises(KeyboardInterrupt), StagedFiles([first, second], force=False) as staged:
        staged.path(second).write_bytes(b"png")
        raise stops.Stopped(signal.SIGTERM)
    assert names(tmp_path) == []
    with StagedFiles([first, second], force=False) as staged:
        staged.path(second).write_bytes(b"png")
        staged.path(first).write_text("csv", encoding="utf-8")
    assert first.read_text(encoding="utf-8") == "csv" and second.read_bytes() == b"png"
    assert names(tmp_path) == ["backtest.csv", "plots"]


def test_a_stop_lost_in_a_destructor_still_stops_the_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signals_installed: None
) -> None:
    """R15: tqdm's __del__ swallowed the Stopped and the command went on to exit 0."""
    import scenarios.studies.run as run_command

    real = run_command.write_manifest

    def stop_swallowed(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(KeyboardInterrupt):  # dropped, as a __del__ drops it
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_command, "write_manifest", stop_swallowed)
    result = invoke("run", str(BASELINE), "--out", str(tmp_path / "res"), *QUICK)
    assert result.exit_code == 128 + signal.SIGTERM
    assert "interrupted; nothing was written" in result.stderr
    assert names(tmp_path) == []


def test_report_stopped_by_sigterm_after_the_workbook_writes_both_or_neither(
    tmp_path: Path,
) -> None:
    """R15 as a user sees it: SIGTERM as soon as the workbook appears: exit 0 with both files
    (the stop came too late), never the workbook alone, never a traceback."""
    run = tmp_path / "run"
    assert invoke("run", str(BASELINE), "--out", str(run), "--runs", "2").exit_code == 0
    page = tmp_path / "rep" / "r.html"
    job = subprocess.Popen(
        [*CLI, "report", str(run), "--out", str(page)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(CONFIGS.parent)},
    )
    while job.poll() is None and not page.with_suffix(".xlsx").exists():
        pass
    job.send_signal(signal.SIGTERM)
    _, stderr = job.communicate(timeout=120)
    assert "Traceback" not in stderr
    assert job.returncode in (0, 143)
    present = sorted(p.name for p in page.parent.iterdir()) if page.parent.exists() else []
    assert present in ([], ["r.html", "r.xlsx"])
    assert (job.returncode == 0) == (present == ["r.html", "r.xlsx"])


# --- permissions --------------------------------------------------------------------------


def test_results_follow_the_umask(tmp_path: Path) -> None:
    """Folders and reports were 0700/0600 whatever the umask."""
    old = os.umask(0o022)
    try:
        run = tmp_path / "run"
        assert invoke("run", str(BASELINE), "--out", str(run), *QUICK).exit_code == 0
        page = tmp_path / "r.html"
        assert invoke("report", str(run), "--out", str(page)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(run.stat().st_mode) == 0o755
    assert stat.S_IMODE((run / "yearly.csv").stat().st_mode) == 0o644
    for path in (page, page.with_suffix(".xlsx")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


# --- R19: --resume extends a finished search --------------------------------------------


def test_resume_with_a_larger_budget_extends_a_finished_search(tmp_path: Path) -> None:
    """R19: documented in the README, refused before (the folder existed)."""
    short = tiny(tmp_path, TINY_POLICY, "search", budget=8)
    out = tmp_path / "res"
    assert invoke("optimise", str(short), "--out", str(out), "--no-plots").exit_code == 0
    first = np.load(out / "search.npy")
    result = invoke("optimise", str(short), "--out", str(out), "--no-plots", "--resume")
    assert "give a larger --budget" in one_error(result)
    result = invoke(
        "optimise", str(short), "--out", str(out), "--no-plots", "--resume", "--budget", "14"
    )
    assert result.exit_code == 0, result.output
    extended = np.load(out / "search.npy")
    assert len(extended) == 14 and np.array_equal(extended[: len(first)], first)
    fresh = tmp_path / "fresh"
    result = invoke("optimise", str(short), "--out", str(fresh), "--no-plots", "--budget", "14")
    assert result.exit_code == 0, result.output
    for table in ("evaluations.csv", "pareto.csv", "outcomes.csv"):
        assert (out / table).read_bytes() == (fresh / table).read_bytes()
    assert names(tmp_path) == ["fresh", "res", "search.toml"]


def test_the_staged_folder_discards_on_error(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "res"
    with pytest.raises(RuntimeError), StagedFolder(out, force=False) as staging:
        (staging.path / "a.csv").write_text("a", encoding="utf-8")
        raise RuntimeError("boom")
    assert names(tmp_path) == []
