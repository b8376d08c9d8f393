"""Every input is checked before any work starts (issue 18, "What to build" 2): one line
per problem naming the file and the key (or line), exit status 2, nothing written.

Each test names the reproducer of ``../shared/repro/reliability.sh`` it guards.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CONFIGS, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.analysis import discovery
from scenarios.analysis import sensitivity as designs
from scenarios.config import designs as design_sizes
from scenarios.config.experiment import Discover, load_experiment
from scenarios.config.files import MAX_TOML_BYTES, read_csv
from scenarios.config.job_size import MAX_POINTS, MAX_RUNS, time_estimate
from scenarios.config.observations import read_observations
from scenarios.config.policy import load_policy
from scenarios.config.scenario import load_config, read_projects_csv
from scenarios.core.errors import UserError

REPO = Path(__file__).resolve().parent.parent

EXPERIMENT = """
name = "checked"
base = "{base}"
design = "lhs"
samples = 44
replications = 1
seed = 1
{extra}
[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: test"

[outcomes.m]
metric = "members"
year = 2021
"""

POLICY = """
name = "checked_policy"
base = "{base}"
replications = 2
seed = 7
budget = 8
population = 4
{extra}
[levers."base_funding.default.values.2021"]
range = [0.0, 3.0]
source = "assumed: test"

[outcomes.money]
metric = "regional_base"
year = 2021
cluster = "all"

[objective]
minimise = ["money"]
"""


def errors(result: Any) -> list[str]:
    """The error lines of a refused command (exit status 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), lines
    return lines


def one_line(result: Any, *needles: str) -> str:
    """The single error line of a refused command, holding every needle."""
    lines = errors(result)
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def experiment_file(folder: Path, extra: str = "", **changes: str) -> Path:
    text = EXPERIMENT.format(base=BASELINE.as_posix(), extra=extra)
    for old, new in changes.items():
        text = text.replace(old, new)
    return write(folder, "experiment.toml", text)


def policy_file(folder: Path, extra: str = "", **changes: str) -> Path:
    text = POLICY.format(base=BASELINE.as_posix(), extra=extra)
    for old, new in changes.items():
        text = text.replace(old, new)
    return write(folder, "policy.toml", text)


def child_with_projects(config_dir: Path, projects_file: str) -> Path:
    return write(
        config_dir,
        "child.toml",
        f'extends = "baseline.toml"\nname = "child"\nprojects_file = "{projects_file}"\n',
    )


# --- R16/R17: the wrong kind of file -------------------------------------------------


def _limit_memory() -> None:  # (in the child: reading /dev/zero without limit must fail)
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def _cli_in_a_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``clusterfund ARGS`` in a child process that cannot hang or starve the tests (before
    the fix a FIFO blocks for good and /dev/zero is read without limit)."""
    return subprocess.run(
        [sys.executable, "-m", "scenarios.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO opened for reading blocks for good: TimeoutExpired fails the test
        cwd=REPO,
        preexec_fn=_limit_memory,
        check=False,
    )


def _validate_in_a_process(config: Path) -> subprocess.CompletedProcess[str]:
    return _cli_in_a_process("validate", str(config))


def test_a_fifo_as_projects_file_is_refused_at_once(config_dir: Path) -> None:  # R16
    os.mkfifo(config_dir / "fifo.csv")
    result = _validate_in_a_process(child_with_projects(config_dir, "fifo.csv"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {config_dir / 'fifo.csv'}: projects_file: is a named pipe (FIFO), not a "
        "projects CSV; give a regular file"
    ]


def test_dev_zero_as_projects_file_is_refused_without_reading(config_dir: Path) -> None:  # R16
    result = _validate_in_a_process(child_with_projects(config_dir, "/dev/zero"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: /dev/zero: projects_file: is a device, not a projects CSV; give a regular file"
    ]


def _binary(folder: Path) -> str:
    (folder / "binary.csv").write_bytes(b"id,title\x00\x01\x02\nP1,x\n")
    return "binary.csv"


def _loop(folder: Path) -> str:
    (folder / "l1.csv").symlink_to("l2.csv")
    (folder / "l2.csv").symlink_to("l1.csv")
    return "l1.csv"


def _latin1(folder: Path) -> str:
    (folder / "latin1.csv").write_bytes("id,title\nP1,Malmö\n".encode("latin-1"))
    return "latin1.csv"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: ".", "is a folder, not a projects CSV"),  # R17
        (_binary, "holds binary data (a NUL byte at offset 8), not a projects CSV"),  # R17
        (_loop, "is a symbolic link loop"),  # R17
        (_latin1, "is not UTF-8 text (byte 0xf6 at offset 16)"),
        (lambda folder: "missing.csv", "no such file"),
    ],
    ids=["folder", "binary", "symlink_loop", "not_utf8", "missing"],
)
def test_a_projects_file_of_the_wrong_kind_is_one_line(
    make: Any, message: str, config_dir: Path, tmp_path: Path
) -> None:
    name = make(config_dir)
    child = child_with_projects(config_dir, name)
    line = one_line(invoke("validate", str(child)), f"{config_dir / name}: projects_file: ")
    assert message in line
    out = tmp_path / "out"
    one_line(invoke("run", str(child), "--runs", "2", "--no-plots", "--out", str(out)), message)
    assert not out.exists()


def test_a_symlink_loop_as_the_config_is_one_line(tmp_path: Path) -> None:  # R17
    (tmp_path / "l1").symlink_to("l2")
    (tmp_path / "l2").symlink_to("l1")
    one_line(
        invoke("validate", str(tmp_path / "l1")), f"{tmp_path / 'l1'}: is a symbolic link loop"
    )


def test_an_extends_of_the_wrong_kind_names_the_key(config_dir: Path) -> None:  # R16
    os.mkfifo(config_dir / "pipe.toml")
    result = _validate_in_a_process(write(config_dir, "child.toml", 'extends = "pipe.toml"\n'))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {config_dir / 'pipe.toml'}: extends: is a named pipe (FIFO), not a config "
        "file; give a regular file"
    ]


def test_an_oversized_config_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as handle:  # sparse: no disk used, and never read
        handle.truncate(MAX_TOML_BYTES + 1)
    one_line(
        invoke("validate", str(big)),
        f"{big}: is {MAX_TOML_BYTES + 1:,} bytes; a config file may be at most 4 MB",
    )


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:  # R17
    deep = write(
        tmp_path,
        "deep.toml",
        f'extends = "{BASELINE.as_posix()}"\nx = ' + "[" * 5000 + "]" * 5000 + "\n",
    )
    one_line(invoke("validate", str(deep)), f"{deep}: nested more than 64 levels deep")
    result = invoke("validate", str(BASELINE), "--set", "members.churn=" + "[" * 5000 + "]" * 5000)
    one_line(result, "--set", "nested more than 64 levels deep")


def test_a_fifo_as_a_manifest_given_to_run_is_one_line(tmp_path: Path) -> None:  # R16
    os.mkfifo(tmp_path / "manifest.json")
    out = tmp_path / "out"
    result = _cli_in_a_process("run", str(tmp_path / "manifest.json"), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'manifest.json'}: is a named pipe (FIFO), not a run's "
        "manifest.json; give a regular file"
    ]
    assert not out.exists()


def test_an_observations_file_of_the_wrong_kind_is_one_line(tmp_path: Path) -> None:  # R16
    with pytest.raises(UserError) as refused:
        read_observations(Path("/dev/zero"), ["packbridge"], [2017])
    assert refused.value.lines == [
        "/dev/zero: is a device, not an observations CSV; give a regular file"
    ]


# --- R08: strict CSV, true line numbers, a BOM accepted --------------------------------


def test_a_projects_csv_with_a_bom_loads_as_without(config_dir: Path) -> None:
    text = (CONFIGS / "projects.csv").read_text(encoding="utf-8")
    (config_dir / "bom.csv").write_text("\ufeff" + text, encoding="utf-8")
    child = child_with_projects(config_dir, "bom.csv")
    assert invoke("validate", str(child)).exit_code == 0
    assert read_projects_csv(config_dir / "bom.csv") == read_projects_csv(CONFIGS / "projects.csv")


OBSERVATIONS_HEADER = "cluster,year,metric,value,lower,upper,source,note\n"


def test_an_unterminated_quote_names_the_line_it_starts_on(tmp_path: Path) -> None:  # R08
    path = write(
        tmp_path,
        "obs.csv",
        OBSERVATIONS_HEADER
        + 'packbridge,2019,members,5,,,"a source\nover two lines",n\n'  # lines 2-3
        + 'media_evolution,2019,members,5,,,"oops,n\n'  # line 4: never closed
        + "mobile_heights,2019,members,50,,,plain,n\n"
        + "packbridge,2019,members,50,,,plain,n\n",
    )
    with pytest.raises(UserError) as refused:
        read_observations(path, ["packbridge", "media_evolution", "mobile_heights"], [2019])
    assert refused.value.lines == [
        f"{path}: line 4: a quoted cell of the row starting here is never closed "
        "(a '\"' is missing)"
    ]


def test_row_problems_name_the_files_true_lines(tmp_path: Path) -> None:  # R08
    path = write(
        tmp_path,
        "obs.csv",
        "\ufeff"
        + OBSERVATIONS_HEADER
        + 'packbridge,2019,members,5,,,"a source\nover\nthree lines",n\n'  # lines 2-4
        + "atlantis,2019,members,5,,,s,n\n"  # line 5
        + "packbridge,2019,members,5,,,s\n",  # line 6: a cell short
    )
    with pytest.raises(UserError) as refused:
        read_observations(path, ["packbridge"], [2019])
    assert refused.value.lines == [
        f"{path}: line 6: 7 cell(s) but the header has 8 columns; give every column "
        "(a cell may be empty)"
    ]
    path.write_text(path.read_text(encoding="utf-8").replace(",s\n", ",s,\n"), encoding="utf-8")
    with pytest.raises(UserError) as refused:
        read_observations(path, ["packbridge"], [2019])
    assert len(refused.value.lines) == 1
    assert refused.value.lines[0].startswith(f"{path}: line 5: cluster: unknown cluster 'atlantis'")


cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(cell_text, min_size=3, max_size=3), max_size=8))
def test_csv_rows_keep_their_text_and_their_first_line(rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # (lines end in \r\n, so a lone \r in a cell is quoted)
    writer.writerow(["a", "b", "c"])
    starts = []  # lines as Python's universal newlines count them (\n, \r\n or \r)
    for row in rows:
        starts.append(len(io.StringIO(buffer.getvalue(), newline="").readlines()) + 1)
        writer.writerow(row)
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    path = folder / f"roundtrip-{os.getpid()}.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    try:
        header, read = read_csv(path, "a test CSV")
    finally:
        path.unlink()
    assert header == ["a", "b", "c"]
    assert [(r.line, list(r.cells.values())) for r in read] == list(zip(starts, rows, strict=True))


# --- R07: finite numbers everywhere -------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        "members.join_rate=inf",
        "members.churn=nan",
        'base_funding.default={kind="hold",value=inf}',
        "clusters.packbridge.staff_cost=-inf",
    ],
)
def test_infinity_is_refused_by_validate_and_run(item: str, tmp_path: Path) -> None:  # R07
    key = item.split("=", 1)[0]
    out = tmp_path / "out"
    for command in (("validate",), ("run", "--runs", "2", "--no-plots", "--out", str(out))):
        line = one_line(invoke(*command, str(BASELINE), "--set", item), f"--set: {key}")
        assert "Input should be a finite number" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "changes", "key"),
    [
        ("", {"range = [0.08, 0.16]": "range = [0.08, inf]"}, "uncertain.members.churn.range.1"),
        ("[discover]\noutcome = 'm'\nbelow = nan\n", {}, "discover.below"),
        (
            "[calibrate]\nobservations = '{obs}'\ntolerance = inf\n",
            {},
            "calibrate.tolerance",
        ),
        ("[calibrate]\nobservations = '{obs}'\ncutoff = inf\n", {}, "calibrate.cutoff"),
    ],
    ids=["range", "discover", "tolerance", "cutoff"],
)
def test_infinity_is_refused_in_an_experiment(
    extra: str, changes: dict[str, str], key: str, tmp_path: Path
) -> None:  # R07
    extra = extra.replace("{obs}", (CONFIGS / "observations.csv").as_posix())
    path = experiment_file(tmp_path, extra, **changes)
    out = tmp_path / "out"
    line = one_line(invoke("explore", str(path), "--out", str(out)), f"{path}: {key}: ")
    assert "Input should be a finite number" in line
    assert not out.exists() and not (tmp_path / ".out.work").exists()


def test_infinity_is_refused_in_a_policy_bound(tmp_path: Path) -> None:  # R07
    path = policy_file(tmp_path, "[constraints.money]\nat_most = inf\n")
    line = one_line(invoke("optimise", str(path), "--out", str(tmp_path / "out")))
    assert f"{path}: constraints.money.at_most: Input should be a finite number" in line
    assert not (tmp_path / "out").exists()


# --- R05: objectives that contradict each other ---------------------------------------------


def test_an_outcome_both_minimised_and_maximised_is_refused(tmp_path: Path) -> None:  # R05
    path = policy_file(
        tmp_path, **{'minimise = ["money"]': 'minimise = ["money"]\nmaximise = ["money"]'}
    )
    out = tmp_path / "out"
    one_line(
        invoke("optimise", str(path), "--out", str(out)),
        f"{path}: objective: 'money' is under both minimise and maximise",
    )
    assert not out.exists()


def test_an_outcome_listed_twice_is_refused(tmp_path: Path) -> None:  # R05
    path = policy_file(tmp_path, **{'minimise = ["money"]': 'minimise = ["money", "money"]'})
    with pytest.raises(UserError) as refused:
        load_policy(path)
    assert refused.value.lines == [f"{path}: objective.minimise: 'money' is listed twice"]


# --- R06: outcome years inside the horizon --------------------------------------------------


def test_an_outcome_after_the_horizon_is_refused(tmp_path: Path) -> None:  # R06
    path = experiment_file(tmp_path, "horizon = 2021", **{"year = 2021": "year = 2025"})
    out = tmp_path / "out"
    one_line(
        invoke("explore", str(path), "--out", str(out)),
        f"{path}: horizon: 2021 is before 2025, the last year outcome 'm' needs",
    )
    assert not out.exists()


HORIZON_INPUT = '[uncertain."programme.horizon"]\nrange = [{low}, 2030]\nsource = "assumed: t"\n'


def test_a_horizon_input_below_an_outcome_year_is_refused(tmp_path: Path) -> None:  # R06
    horizon_input = HORIZON_INPUT.format(low=2021)
    path = experiment_file(
        tmp_path, **{"year = 2021": "year = 2025", "[outcomes.m]": horizon_input + "[outcomes.m]"}
    )
    with pytest.raises(UserError) as refused:
        load_experiment(path)
    assert refused.value.lines == [
        f"{path}: uncertain.programme.horizon: reaches horizon 2021, before 2025, the last "
        "year outcome 'm' needs; start the range at 2025 or later"
    ]


def test_a_horizon_lever_below_an_outcome_year_is_refused(tmp_path: Path) -> None:  # R06
    lever = '[levers."programme.horizon"]\nrange = [2021, 2030]\nsource = "assumed: t"\n'
    changes = {"[outcomes.money]": lever + "[outcomes.money]", "year = 2021": "year = 2023"}
    path = policy_file(tmp_path, **changes)
    out = tmp_path / "out"
    one_line(
        invoke("optimise", str(path), "--out", str(out)),
        f"{path}: levers.programme.horizon: reaches horizon 2021, before 2023, the last year "
        "outcome 'money' needs",
    )
    assert not out.exists()


# --- R09: each design's least sample size, and no crash after the runs ----------------------


@pytest.mark.parametrize(
    ("design", "samples", "least", "reason"),
    [
        ("sobol", 1, 2, "bootstrap can only resample the one base point"),
        ("morris", 1, 2, "sigma is the spread of each input's elementary effects"),
        ("grid", 1, 2, "a grid needs 2 levels"),
    ],
)
def test_a_design_below_its_least_size_is_refused_with_the_reason(
    design: str, samples: int, least: int, reason: str, tmp_path: Path
) -> None:  # R09
    path = experiment_file(
        tmp_path,
        **{'design = "lhs"': f'design = "{design}"', "samples = 44": f"samples = {samples}"},
    )
    out = tmp_path / "out"
    line = one_line(
        invoke("explore", str(path), "--out", str(out)),
        f"{path}: samples: must be at least {least} for design = '{design}' (got {samples}): ",
    )
    assert reason in line
    assert not out.exists()


def test_each_design_at_its_least_size_loads(tmp_path: Path) -> None:  # R09
    for design, (least, _) in design_sizes.MINIMUM_SAMPLES.items():
        path = experiment_file(
            tmp_path,
            **{'design = "lhs"': f'design = "{design}"', "samples = 44": f"samples = {least}"},
        )
        assert load_experiment(path).spec.samples == least


def test_the_least_lhs_size_is_where_rbd_fast_starts_to_work() -> None:  # R09
    """SALib's RBD-FAST below 44 points: S1 = 1 with CI 0 for every input, or a division by
    zero (20, 40, 41 points); from 44 on, a real CI. ``analyse`` leaves the indices out below
    44, saying why, and never raises after the runs."""
    import SALib.analyze.rbd_fast as rbd_fast

    rng = np.random.default_rng(0)
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0]] * 2}
    for samples in (20, 40, 43, 44):
        unit = designs.unit_sample("lhs", ["a", "b"], samples, seed=1)
        y = 3 * unit[:, 0] + 0.1 * unit[:, 1] + rng.normal(0, 0.1, samples)
        try:
            conf = np.asarray(rbd_fast.analyze(problem, unit, y, seed=1)["S1_conf"])
        except ZeroDivisionError:
            conf = np.full(2, np.nan)
        result = designs.analyse("lhs", ["a", "b"], unit, y, seed=1, samples=samples)
        if samples < 44:  # degenerate or failed in SALib; left out here, with the reason
            assert np.all(np.isnan(conf)) or np.all(conf == 0.0), (samples, conf)
            assert np.all(np.isnan(result.values["S1"]))
            assert result.note == "too few points for RBD-FAST (at least 44)"
        else:
            assert np.all(conf > 0.0) and result.note == ""
            assert np.all(result.values["S1_conf"] > 0.0)


def test_an_lhs_design_below_its_least_size_runs_with_a_warning(tmp_path: Path) -> None:  # R09
    """Too few points to rank inputs, but outcomes (and PRIM) are useful: a warning before
    the runs, no indices in sensitivity.csv (with the reason), never S1 = 1 ± 0."""
    path = experiment_file(tmp_path, **{"samples = 44": "samples = 16"})
    out = tmp_path / "out"
    result = invoke("explore", str(path), "--out", str(out), "--no-plots")
    assert result.exit_code == 0, result.output
    assert (
        f"warning: {path}: samples: 16 points are too few to rank the inputs by RBD-FAST "
        "(at least 44: " in result.stderr
    )
    sensitivity = pd.read_csv(out / "sensitivity.csv")
    assert sensitivity["S1"].isna().all() and sensitivity["S1_conf"].isna().all()
    assert (sensitivity["note"] == "too few points for RBD-FAST (at least 44)").all()
    assert len(pd.read_csv(out / "outcomes.csv")) == 16 * len(sensitivity["outcome"].unique())


def test_a_failed_analysis_after_the_runs_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(designs, "_salib_analysis", broken)
    unit = designs.unit_sample("lhs", ["a", "b"], 44, seed=1)
    failed = designs.analyse("lhs", ["a", "b"], unit, unit[:, 0], seed=1, samples=44)
    assert failed.note.startswith("SALib could not analyse it: ZeroDivisionError")
    assert np.all(np.isnan(failed.values["S1"]))


def test_odd_morris_levels_are_refused(tmp_path: Path) -> None:  # R09
    path = experiment_file(
        tmp_path,
        "levels = 3",
        **{'design = "lhs"': 'design = "morris"', "samples = 44": "samples = 4"},
    )
    with pytest.raises(UserError) as refused:
        load_experiment(path)
    assert len(refused.value.lines) == 1
    assert refused.value.lines[0].startswith(f"{path}: levels: 3 is odd; SALib's Morris sampler")


# --- R11: cluster ids that cannot live in a key path -------------------------------------


def _with_a_dotted_cluster(config_dir: Path) -> Path:
    """The hand-set scenario plus a copy of its tourism cluster under the id ``a.b``."""
    lines = (config_dir / "uncalibrated.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("[clusters.tourism]")
    end = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].startswith("[") and not lines[i].startswith("[clusters.tourism")
    )
    tables = "\n".join(lines[start:end]).replace("[clusters.tourism", '[clusters."a.b"')
    return write(
        config_dir, "dotted.toml", f'extends = "uncalibrated.toml"\nname = "dot"\n{tables}\n'
    )


def test_a_cluster_id_with_a_dot_is_refused(config_dir: Path, tmp_path: Path) -> None:  # R11
    dotted = _with_a_dotted_cluster(config_dir)
    out = tmp_path / "out"
    for command in (("validate",), ("run", "--runs", "2", "--no-plots", "--out", str(out))):
        one_line(
            invoke(*command, str(dotted)),
            f"{dotted}: clusters.a.b: cluster id 'a.b' cannot be used in key paths",
            "use only letters, digits, '_' and '-'",
        )
    assert not out.exists()


# --- R20: experiments.csv records the value the runs used -----------------------------------


def test_experiments_csv_records_the_rounded_value_of_a_whole_number_key(tmp_path: Path) -> None:
    path = experiment_file(  # R20: a grid of 4 levels on [1, 3]: 1, 1.67, 2.33, 3
        tmp_path,
        "horizon = 2021",
        **{
            'design = "lhs"': 'design = "grid"',
            "samples = 44": "samples = 4",
            "members.churn": "management.closure_years",
            "[0.08, 0.16]": "[1, 3]",
        },
    )
    result = invoke("explore", str(path), "--out", str(tmp_path / "out"), "--no-plots")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "experiments.csv")
    assert list(table["management.closure_years"]) == [1.0, 2.0, 2.0, 3.0]


def test_a_range_that_rounds_to_one_number_is_refused(tmp_path: Path) -> None:  # R20
    path = experiment_file(
        tmp_path, **{"members.churn": "management.closure_years", "[0.08, 0.16]": "[2.6, 3.4]"}
    )
    with pytest.raises(UserError) as refused:
        load_experiment(path)
    assert len(refused.value.lines) == 1
    assert refused.value.lines[0].startswith(
        f"{path}: uncertain.management.closure_years: sets the same values at both ends of "
        "[2.6, 3.4]"
    )


# --- R17/R16: --runs and samples bounded, a time estimate ------------------------------------


def test_runs_over_the_bound_are_refused_with_the_reason(tmp_path: Path) -> None:  # R17
    out = tmp_path / "out"
    result = invoke("run", str(BASELINE), "--runs", "1000000000000", "--out", str(out))
    one_line(
        result,
        f"--runs: runs: 1,000,000,000,000 runs is over the limit of {MAX_RUNS:,}: "
        "a run writes ~35 kB",
    )
    assert not out.exists()


def test_a_design_of_two_to_the_thirty_points_is_refused(tmp_path: Path) -> None:  # R16
    path = experiment_file(tmp_path, **{"samples = 44": f"samples = {2**30}"})
    with pytest.raises(UserError) as refused:  # (the loader: before the fix, explore takes 16 GiB)
        load_experiment(path)
    assert refused.value.lines == [
        f"{path}: samples: design = 'lhs' with samples = {2**30} and 1 input(s): "
        f"{2**30:,} points is over the limit of {MAX_POINTS:,}: every point's settings are "
        "held in memory and its runs take ~0.1 s each"
    ]


def test_a_budget_over_the_bound_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = ("optimise", str(policy_file(tmp_path)), "--budget", str(10**9), "--out", str(out))
    result = _cli_in_a_process(*command)  # (before the fix: a search of 10^9 candidates)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: --budget: {10**9:,} candidates is over the limit of {MAX_POINTS:,}: every "
        "point's settings are held in memory and its runs take ~0.1 s each"
    ]
    assert not out.exists() and not (tmp_path / ".out.work").exists()


def test_a_long_job_gets_an_estimate_and_a_short_one_none() -> None:
    assert time_estimate(100, 14, 10, 2) is None
    note = time_estimate(100_000, 14, 10, 2)  # 100,000 × 14 × 10 × 0.25 ms / 2 = 29 min
    assert note is not None and "about 29 min" in note and "an estimate" in note


# --- one problem does not hide the others --------------------------------------------------


def test_provenance_and_validation_problems_are_reported_together(config_dir: Path) -> None:
    path = write(
        config_dir,
        "broken.toml",
        'extends = "baseline.toml"\n[members]\nchurn = -1.0\n'
        '[provenance]\n"members.churn" = "guess: from nowhere"\n',
    )
    lines = errors(invoke("validate", str(path), "--set", "members.x.y=1", "--set", "a..b=1"))
    assert any("provenance.members.churn" in line for line in lines), lines
    assert any(
        "members.churn: Input should be greater than or equal to 0" in line for line in lines
    )
    assert any("--set 'a..b=1'" in line for line in lines), lines
    assert len(lines) == 4, lines  # and members.x (unknown key)


def test_a_broken_base_does_not_hide_the_experiments_own_problems(tmp_path: Path) -> None:
    path = experiment_file(
        tmp_path,
        **{
            BASELINE.as_posix(): "nowhere.toml",
            'design = "lhs"': 'design = "grid"',
            "samples = 44": "samples = 1",
        },
    )
    with pytest.raises(UserError) as refused:
        load_experiment(path)
    assert [line.split(": ")[1] for line in refused.value.lines] == ["samples", "base"]


def test_many_problems_of_an_experiment_at_once(tmp_path: Path) -> None:
    path = experiment_file(
        tmp_path,
        "horizon = 2021",
        **{
            'design = "lhs"': 'design = "grid"',
            "samples = 44": "samples = 1",
            "year = 2021": "year = 2025",
            "[outcomes.m]": HORIZON_INPUT.format(low=2022) + "[outcomes.m]",
        },
    )
    with pytest.raises(UserError) as refused:
        load_experiment(path)
    keys = [line.split(": ")[1] for line in refused.value.lines]
    assert keys == ["samples", "horizon", "uncertain.programme.horizon"]


def test_the_shipped_files_still_load() -> None:
    for path in sorted((CONFIGS / "experiments").glob("*.toml")):
        load_experiment(path)
    for path in sorted((CONFIGS / "policies").glob("*.toml")):
        load_policy(path)
    for path in sorted(CONFIGS.glob("*.toml")):
        load_config(path)


def test_an_observation_after_the_horizon_is_refused(tmp_path: Path) -> None:  # R06
    observations = write(
        tmp_path,
        "obs.csv",
        OBSERVATIONS_HEADER
        + "packbridge,2019,members,200,,,s,n\npackbridge,2023,members,150,,,s,n\n",
    )
    calibrate = (
        f"horizon = 2021\n[calibrate]\nobservations = '{observations.as_posix()}'\n"
        "fit_until = 2023\n"
    )
    path = experiment_file(tmp_path, calibrate)
    with pytest.raises(UserError) as refused:
        load_experiment(path)
    assert refused.value.lines == [
        f"{path}: horizon: 2021 is before 2023, the last year observation "
        "'packbridge:2023:members' needs; set horizon to 2023 or later, or leave it out"
    ]


@pytest.mark.parametrize("command", ["explore", "optimise"])
def test_an_experiment_or_policy_of_the_wrong_kind_is_one_line(
    command: str, tmp_path: Path
) -> None:  # R16/R17
    what = "an experiment file" if command == "explore" else "a policy file"
    out = tmp_path / "out"
    result = _cli_in_a_process(command, "/dev/zero", "--out", str(out))  # (memory-limited)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: /dev/zero: is a device, not {what}; give a regular file"
    ]
    one_line(invoke(command, str(tmp_path), "--out", str(out)), f"is a folder, not {what}")
    assert not out.exists()


def test_a_failed_prim_peel_keeps_the_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def Prim(self, *args: Any, **kwargs: Any) -> None:  # (PRIM's own name)
            raise ValueError("no box")

    monkeypatch.setattr(discovery, "_prim_module", Broken)
    values = np.linspace(0.0, 1.0, 20).reshape(10, 2)
    found = discovery.discover(
        values, ["a", "b"], values[:, 0], Discover(outcome="y", above=0.5, min_density=0.8)
    )
    assert found.note == "PRIM failed: ValueError: no box"
    assert found.box is not None and found.box.limits == {
        "a": (0.0, 0.9473684210526315),
        "b": (0.05263157894736842, 1.0),
    }
