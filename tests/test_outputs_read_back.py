"""What the tool writes always reads back, and what it reads is checked (issue 18: R10, R12,
R16's scheduler part, R17's compare and tampered folders, a truncated yearly.csv).

- Every output format (the run CSVs through ``batch_csv`` and ``write_csv``, a DataFrame's
  CSV, the scenario TOML files, the manifest JSON) is written with arbitrary text (CR, LF,
  DEL, NUL, quotes, commas, characters outside the BMP) and read back unchanged.
- A folder whose manifest or tables were tampered with, or a folder of another kind, is
  refused in one line naming what is wrong (exit 2), never an internal error.
- A scheduler address that is malformed, or where no Dask scheduler answers, is refused
  within the promised 5 s, before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CONFIGS, invoke
from conftest import SHIPPED_BASELINE as BASELINE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios.analysis.comparison import unique_names
from scenarios.config.scenario import load_config
from scenarios.config.scenario_file import ScenarioFile
from scenarios.core.errors import UserError
from scenarios.engine.executor import Backend, Executor, check_scheduler_address, scheduler_problem
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.folders.manifest import write_job_manifest
from scenarios.folders.run_folder import RunFolder
from scenarios.folders.run_rows import (
    events_text,
    run_rows_text,
    tidy_table,
    yearly_header,
    yearly_text,
)
from scenarios.folders.tables import csv_text, frame_csv_text, tidy, write_csv
from simulator.records import AllocationRow, Event, YearlyTable

# --- arbitrary text ------------------------------------------------------------------

HARD = "\r\n\x7f\x00\",;' \t\U0001f600é"
"""The characters that broke or could break a writer: CR, LF, DEL, NUL, a quote, the
delimiter, a semicolon (the cluster separator), a tab, a character outside the BMP."""
texts = st.one_of(st.text(max_size=12), st.text(alphabet=HARD + "ab", max_size=8))
"""Any text: hypothesis' own (every code point but surrogates), and one made of the hard
characters."""


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _pandas_rows(text: str) -> list[list[str]]:
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None)
    return frame.to_numpy().tolist()


@settings(max_examples=150, deadline=None)
@given(header=st.lists(texts, min_size=1, max_size=4, unique=True), data=st.data())
def test_write_csv_reads_back_with_csv_and_pandas(
    tmp_path_factory: pytest.TempPathFactory, header: list[str], data: st.DataObject
) -> None:
    cells = st.one_of(texts, st.floats(allow_nan=False), st.integers(-(10**12), 10**12))
    rows = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header))))
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    write_csv(path, header, rows)
    raw = path.read_bytes().decode("utf-8")
    expected = [header, *([str(tidy(v)) if not isinstance(v, str) else v for v in r] for r in rows)]
    assert _csv_rows(raw) == expected
    if len(header) > 1:  # (pandas skips a line holding only blanks: a one-column table's)
        assert _pandas_rows(raw) == expected
    assert raw.endswith("\n") and not raw.endswith("\r\n")


@settings(max_examples=100, deadline=None)
@given(names=st.lists(texts, min_size=1, max_size=4), other=texts)
def test_a_frames_csv_reads_back(names: list[str], other: str) -> None:
    frame = pd.DataFrame({"name": names, other: np.arange(len(names)) + 0.5})
    rows = _csv_rows(frame_csv_text(frame))
    assert rows == [["name", other], *([n, str(i + 0.5)] for i, n in enumerate(names))]


@settings(max_examples=60, deadline=None)
@given(
    clusters=st.lists(texts, min_size=1, max_size=3, unique=True),
    rows=st.lists(st.tuples(texts, texts, texts), min_size=1, max_size=4),
)
def test_the_run_csvs_read_back_with_any_cluster_id_project_or_text(
    clusters: list[str], rows: list[tuple[str, str, str]]
) -> None:
    # yearly.csv: a tiny table with the given cluster ids
    fields = {
        name: np.zeros((2, 1, len(clusters)), dtype=np.int64 if name == "status" else float)
        for name in yearly_header()[3:]
    }
    table = tidy_table(YearlyTable((2017,), tuple(clusters), fields))
    yearly = _csv_rows(",".join(yearly_header()) + "\n" + yearly_text(table, 0))
    assert [row[2] for row in yearly[1:]] == clusters * 2
    assert [row[0] for row in yearly[1:]] == ["0"] * len(clusters) + ["1"] * len(clusters)
    # allocation.csv and events.csv: project ids, areas, cluster lists and texts
    allocations = [[AllocationRow(2019, p, a, c, 0.5, 1.0, 0.5) for p, a, c in rows]]
    read = _csv_rows(run_rows_text(allocations, 3))
    assert [tuple(r[2:5]) for r in read] == rows and all(r[0] == "3" for r in read)
    events = [[Event(2020, c, t) for _, c, t in rows]]
    assert [tuple(r[2:]) for r in _csv_rows(events_text(events, 0))] == [r[1:] for r in rows]


def test_csv_text_quotes_a_carriage_return_and_keeps_plain_rows_as_they_were() -> None:
    assert csv_text([["a", 1.5, "b c"], ["x,y", 'say "hi"', ""]]) == (
        'a,1.5,b c\n"x,y","say ""hi""",\n'
    )
    assert csv_text([["Mobile\rHeights", "x\r\ny"]]) == '"Mobile\rHeights","x\r\ny"\n'
    assert csv_text([["nul\x00", "del\x7f"]]) == "nul\x00,del\x7f\n"  # read back as they are


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=texts,
    description=texts,
    comments=st.lists(texts, max_size=3),
    source=texts,
    key=st.text(min_size=1, max_size=6).filter(lambda k: "." not in k),
    value=st.one_of(texts, st.floats(allow_nan=False), st.integers(-5, 5), st.booleans()),
)
def test_a_scenario_file_loads_with_tomllib_whatever_its_text(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    description: str,
    comments: list[str],
    source: str,
    key: str,
    value: object,
) -> None:
    folder = tmp_path_factory.mktemp("toml")
    scenario = ScenarioFile(
        base=BASELINE,
        name=name,
        description=description,
        values={f"extra.{key}": value, "members.churn": 0.1},
        sources={f"extra.{key}": source},
        comments=comments,
        seed=3,
        runs=2,
        seed_source=source,
    )
    document = tomllib.loads(scenario.text(folder))
    assert document == scenario.document(folder)
    assert document["name"] == name and document["description"] == description
    assert document["extra"][key] == value and document["provenance"][f"extra.{key}"] == source


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=texts, description=texts, comment=texts)
def test_a_scenario_file_loads_as_a_scenario_whatever_its_text(
    tmp_path_factory: pytest.TempPathFactory, name: str, description: str, comment: str
) -> None:
    folder = tmp_path_factory.mktemp("scenario")
    scenario = ScenarioFile(
        base=BASELINE,
        name=name,
        description=description,
        values={"members.churn": 0.1},
        sources={"members.churn": "derived: test"},
        comments=[comment],
    )
    path = folder / "policy_1.toml"
    path.write_text(scenario.text(folder), encoding="utf-8")
    loaded = load_config(path)
    assert loaded.scenario.name == name and loaded.scenario.description == description
    assert loaded.scenario.members.churn == 0.1


@settings(max_examples=60, deadline=None)
@given(fields=st.dictionaries(texts, st.one_of(texts, st.lists(texts, max_size=2)), max_size=4))
def test_a_manifest_reads_back_whatever_its_text(
    tmp_path_factory: pytest.TempPathFactory, fields: dict[str, object]
) -> None:
    folder = tmp_path_factory.mktemp("manifest")
    written = write_job_manifest(folder, "explore", {"fields": fields})
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8")) == written
    assert written["fields"] == fields


# --- R10 and R12 end to end ---------------------------------------------------------


def _run(out: Path, config: Path, *extra: str) -> Path:
    result = invoke(
        "run", str(config), "--out", str(out), "--runs", "2", "--horizon", "2021", *extra
    )
    assert result.exit_code == 0, result.output
    return out


TINY_POLICY = """
name = "tiny_policy"
description = "del \\u007f, cr \\r, nul \\u0000, emoji \\U0001F600"
base = "{base}"
replications = 2
seed = 7
budget = 4
population = 4
horizon = 2021
[levers."base_funding.default.values.2021"]
range = [0.5, 2.0]
source = "assumed: test"
[outcomes.base_2021]
metric = "regional_base"
year = 2021
cluster = "all"
[objective]
minimise = ["base_2021"]
"""

TINY_EXPERIMENT = """
name = "tiny_explore"
base = "{base}"
design = "grid"
samples = 2
replications = 2
seed = 3
horizon = 2021
[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: test"
[outcomes.members_2021]
metric = "members"
year = 2021
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run, an explore and an optimise folder, each tiny."""
    root = tmp_path_factory.mktemp("folders")
    made = {"run": _run(root / "run", BASELINE, "--no-plots")}
    for kind, text in (("explore", TINY_EXPERIMENT), ("optimise", TINY_POLICY)):
        spec = root / f"{kind}.toml"
        spec.write_text(text.format(base=BASELINE.as_posix()), encoding="utf-8")
        result = invoke(kind, str(spec), "--out", str(root / kind), "--no-plots")
        assert result.exit_code == 0, result.output
        made[kind] = root / kind
    return made


def test_a_policy_file_with_del_cr_and_nul_in_its_description_runs(
    folders: dict[str, Path], tmp_path: Path
) -> None:  # R12
    policy = folders["optimise"] / "policy_1.toml"
    document = tomllib.loads(policy.read_text(encoding="utf-8"))
    assert document["description"].endswith("del \x7f, cr \r, nul \x00, emoji \U0001f600")
    result = invoke("run", str(policy), "--out", str(tmp_path / "again"), "--no-plots")
    assert result.exit_code == 0, result.output


# --- R17: comparing runs of the same name, and a folder with itself -----------------


@given(
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from(["a", "b", "a (x)", "a (x) #2", "a (x) #1 #2"]), texts),
            st.sampled_from(["x", "y", "x/y"]),
        ),
        max_size=6,
    )
)
def test_compared_runs_always_get_distinct_names(runs: list[tuple[str, str]]) -> None:
    # even a scenario literally named like another's label, or one folder given twice
    names = unique_names([RunFolder(Path(folder), {"name": name}) for name, folder in runs])
    assert len(set(names)) == len(names)
    assert all(label.startswith(name) for label, (name, _) in zip(names, runs, strict=True))


def test_runs_of_one_name_and_a_cluster_named_with_a_cr_compare(
    folders: dict[str, Path], config_dir: Path, tmp_path: Path
) -> None:  # R10, and R17's two checkouts' results/baseline
    child = config_dir / "cr.toml"
    child.write_text(
        'extends = "baseline.toml"\nname = "cr"\n'
        '[clusters.mobile_heights]\nname = "Mobile\\rHeights"\n',
        encoding="utf-8",
    )
    cr = _run(tmp_path / "cr", child, "--no-plots")
    card = pd.read_csv(cr / "scorecard.csv", keep_default_na=False)
    assert len(card) == len(pd.read_csv(folders["run"] / "scorecard.csv"))
    assert "this cluster has at least min_members members (Mobile\rHeights)" in set(
        card["description"]
    )
    run, other = folders["run"], tmp_path / "b" / "run"
    shutil.copytree(run, other)
    result = invoke("compare", str(run), str(other), str(cr), "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    names = [f"baseline ({run})", f"baseline ({other})", "cr"]
    assert f"baseline: {names[0]}; compared: {names[1]}, cr" in result.stdout
    compared = pd.read_csv(tmp_path / "c" / "scorecard.csv")
    assert list(compared.columns) == ["target", "year", *names]
    assert len(compared) == len(card)


def test_a_folder_compared_with_itself_is_refused_in_one_line(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    run = folders["run"]
    result = invoke("compare", str(run), str(run), "--out", str(tmp_path / "c"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {run}: named twice; compared with itself every change is zero, so name "
        "different results folders\n"
    )
    link = tmp_path / "link"
    link.symlink_to(run)
    result = invoke("report", str(run), str(link), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {link}: named twice (as {run} and as {link}); compared with itself every "
        "change is zero, so name different results folders\n"
    )
    assert list(tmp_path.iterdir()) == [link]


# --- R17: tampered folders ------------------------------------------------------------


def _manifest_edit(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(json.dumps(manifest), encoding="utf-8")

    return edit


def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8", newline="")

    return edit


def _lines(name: str, change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        lines = (folder / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (folder / name).write_text("".join(change(lines)), encoding="utf-8", newline="")

    return edit


def _cell(name: str, column: str, value: str) -> Callable[[Path], None]:
    """Set ``column`` of the first row of ``name`` to ``value``."""

    def change(lines: list[str]) -> list[str]:
        header = lines[0].rstrip("\n").split(",")
        cells = lines[1].rstrip("\n").split(",")
        cells[header.index(column)] = value
        return [lines[0], ",".join(cells) + "\n", *lines[2:]]

    return _lines(name, change)


def _drop_column(name: str, column: str) -> Callable[[Path], None]:
    def change(lines: list[str]) -> list[str]:
        at = lines[0].rstrip("\n").split(",").index(column)
        return [",".join(c for i, c in enumerate(line.split(",")) if i != at) for line in lines]

    return _lines(name, change)


def _del(*keys: str) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        node = manifest
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


def _set(value: object, *keys: str) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        node = manifest
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


SUMMARY_ROWS = 5 * 10 * 13  # 2017–2021 × 10 clusters × 13 metrics
YEARLY_ROWS = 2 * 5 * 10  # 2 runs × 2017–2021 × 10 clusters
NOT_OURS = "not a results folder of this tool"
TAMPERED = {
    "manifest is a list": (
        _write("manifest.json", "[1, 2]"),
        "manifest is a JSON list, not an object",
    ),
    "manifest cut short": (
        _write("manifest.json", '{"tool": "clusterfund", "format": '),
        "manifest.json is not valid JSON (Expecting value: line 1 column 35 (char 34))",
    ),
    "manifest is not UTF-8": (
        _write("manifest.json", b"\xff\xfe{}"),
        "manifest.json is not valid JSON",
    ),
    "no horizon": (_manifest_edit(_del("horizon")), "manifest has no horizon"),
    "horizon as text": (
        _manifest_edit(_set("2019", "horizon")),
        'manifest\'s horizon is "2019", not a whole number',
    ),
    "years reversed": (
        _manifest_edit(_set(2025, "start_year")),
        "manifest: its horizon 2021 is before its start_year",
    ),
    "no runs": (
        _manifest_edit(_set(0, "runs")),
        "manifest's runs: input should be greater than or equal to 1",
    ),
    "no config.clusters": (
        _manifest_edit(_del("config", "clusters")),
        "manifest has no config.clusters",
    ),
    "config is text": (
        _manifest_edit(_set("baseline", "config")),
        'manifest\'s config is "baseline", not a table',
    ),
    "a cluster without a name": (
        _manifest_edit(_del("config", "clusters", "packbridge", "name")),
        "manifest has no config.clusters.packbridge.name",
    ),
    "another tool": (
        _manifest_edit(_set("othertool", "tool")),
        'unknown results format (tool "othertool", format 1; expected clusterfund format 1)',
    ),
    "summary empty": (_write("summary.csv", ""), "summary.csv is empty"),
    "summary without p50": (_drop_column("summary.csv", "p50"), "summary.csv has no column p50"),
    "summary text value": (
        _cell("summary.csv", "p50", "lots"),
        'summary.csv row 1: p50 is "lots", not a number',
    ),
    "summary row missing": (
        _lines("summary.csv", lambda lines: lines[:-1]),
        f"summary.csv has {SUMMARY_ROWS - 1} rows where the manifest's 5 years × 10 clusters × "
        f"13 metrics make {SUMMARY_ROWS}",
    ),
    "summary row twice": (
        _lines("summary.csv", lambda lines: [*lines, lines[1]]),
        f"summary.csv row {SUMMARY_ROWS + 1}: year 2017, cluster media_evolution, metric members again",
    ),
    "summary year outside": (
        _cell("summary.csv", "year", "1999"),
        "summary.csv row 1: year 1999 is not one of the run's",
    ),
    "scorecard header only": (
        _lines("scorecard.csv", lambda lines: lines[:1]),
        "scorecard.csv has no rows",
    ),
    "scorecard not UTF-8": (
        _write("scorecard.csv", b"target,year\n\xff\xfe,1\n"),
        "scorecard.csv is not a table this tool wrote",
    ),
    "scorecard probability text": (
        _cell("scorecard.csv", "probability", "high"),
        'scorecard.csv row 1: probability is "high", not a number',
    ),
    "scorecard bare carriage return": (
        _cell("scorecard.csv", "description", "split\rhere"),
        'scorecard.csv row 2: year is "", not a number',
    ),
}


@pytest.fixture
def tampered(folders: dict[str, Path], tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "tampered"
    shutil.copytree(folders["run"], copy)
    yield copy


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_run_folder_is_named_in_one_line(
    case: str, folders: dict[str, Path], tampered: Path, tmp_path: Path
) -> None:
    edit, why = TAMPERED[case]
    edit(tampered)
    result = invoke("compare", str(folders["run"]), str(tampered), "--out", str(tmp_path / "c"))
    assert result.exit_code == 2, result.output
    line = result.stderr.splitlines()
    expected = f"{tampered}: {NOT_OURS}: {why}" if "rows where" not in why else f"{tampered}: {why}"
    assert len(line) == 1 and line[0].startswith(f"error: {expected}"), line
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("command", ["report", "backtest"])
def test_report_and_backtest_name_a_tampered_folder_too(
    command: str, tampered: Path, tmp_path: Path
) -> None:
    _manifest_edit(_del("horizon"))(tampered)
    extra = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    result = invoke(command, str(tampered), *extra)
    assert result.exit_code == 2
    assert result.stderr == f"error: {tampered}: {NOT_OURS}: manifest has no horizon\n"


OBSERVATIONS = str(CONFIGS / "observations.csv")
YEARLY_TAMPERED = {
    "rows cut": (
        _lines("yearly.csv", lambda lines: lines[: 1 + YEARLY_ROWS // 2]),
        f"yearly.csv has {YEARLY_ROWS // 2} rows where the manifest's 2 runs × 5 years × "
        f"10 clusters make {YEARLY_ROWS}; the file was cut short or edited",
    ),
    "last line cut": (
        _lines("yearly.csv", lambda lines: [*lines[:-1], lines[-1][:20]]),
        f"{NOT_OURS}: yearly.csv row {YEARLY_ROWS}: ",
    ),
    "a run twice": (
        _lines("yearly.csv", lambda lines: [*lines[:-10], *lines[1:11]]),
        f"{NOT_OURS}: yearly.csv row {YEARLY_ROWS - 9}: run 0, year 2017, cluster "
        "media_evolution again",
    ),
    "text in members": (
        _cell("yearly.csv", "members", "many"),
        f'{NOT_OURS}: yearly.csv row 1: members is "many", not a number',
    ),
}


@pytest.mark.parametrize("case", list(YEARLY_TAMPERED))
def test_a_cut_or_edited_yearly_csv_is_not_backtested(case: str, tampered: Path) -> None:
    edit, why = YEARLY_TAMPERED[case]
    edit(tampered)
    result = invoke("backtest", str(tampered), "--observations", OBSERVATIONS, "--no-plots")
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: {tampered}: {why}"), result.stderr
    assert not (tampered / "backtest.csv").exists()


def test_an_untampered_run_is_backtested(tampered: Path) -> None:
    result = invoke("backtest", str(tampered), "--observations", OBSERVATIONS, "--no-plots")
    assert result.exit_code == 0, result.output
    assert (tampered / "backtest.csv").is_file()


# --- the wrong kind of folder ---------------------------------------------------------

RUN_TAKEN = "takes a run folder (from clusterfund run)"


def test_an_explore_folder_given_as_a_run_is_named(folders: dict[str, Path]) -> None:
    explore = folders["explore"]
    result = invoke("backtest", str(explore), "--observations", OBSERVATIONS)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {explore} is an explore folder (from clusterfund explore); backtest {RUN_TAKEN}\n"
    )
    result = invoke("compare", str(folders["run"]), str(explore))
    assert result.stderr == (
        f"error: {explore} is an explore folder (from clusterfund explore); compare {RUN_TAKEN}\n"
    )


def test_an_optimise_folder_given_to_report_is_named(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    optimise = folders["optimise"]
    result = invoke("report", str(folders["run"]), str(optimise), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {optimise} is an optimise folder (from clusterfund optimise); report {RUN_TAKEN}\n"
    )
    assert not (tmp_path / "r.html").exists()


def test_a_run_folder_opened_as_an_explore_folder_is_named(folders: dict[str, Path]) -> None:
    with pytest.raises(UserError) as caught:
        ExploreFolder.open(folders["run"])
    assert caught.value.lines == [
        f"{folders['run']} is a run folder (from clusterfund run); not an explore folder "
        "(from clusterfund explore)"
    ]


def test_a_tampered_explore_folder_given_to_report_is_named(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    explore = tmp_path / "explore"
    shutil.copytree(folders["explore"], explore)
    _manifest_edit(_del("design"))(explore)
    result = invoke("report", str(folders["run"]), str(explore), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {explore}: {NOT_OURS}: manifest has no design\n"


def test_staging_and_work_folders_are_named(folders: dict[str, Path], tmp_path: Path) -> None:
    staging = tmp_path / ".run.partial-123-abcd"
    shutil.copytree(folders["run"], staging)
    result = invoke("backtest", str(staging), "--observations", OBSERVATIONS)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {staging}: the staging folder of an unfinished run (stopped, or still "
        f"running), not a results folder; backtest {RUN_TAKEN}\n"
    )
    work = tmp_path / ".what_matters.work"
    (work / "chunks").mkdir(parents=True)
    result = invoke("compare", str(folders["run"]), str(work))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {work}: the work folder of an unfinished explore or optimise (finish it with "
        f"--resume), not a results folder; compare {RUN_TAKEN}\n"
    )


# --- R16: Dask scheduler addresses ------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["tcp://10.0.0.5:8786", "tls://scheduler.example:8786", "127.0.0.1:8786", "tcp://[::1]:8786"],
)
def test_a_scheduler_address_of_the_documented_form_passes(address: str) -> None:
    check_scheduler_address(address)


@pytest.mark.parametrize(
    "address",
    ["foo", "tcp://127.0.0.1", "tcp://host:0", "tcp://host:99999", "http://host:8786", "tcp://h:x"],
)
def test_a_malformed_scheduler_address_is_refused_in_one_line(address: str, tmp_path: Path) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_EXPERIMENT.format(base=BASELINE.as_posix()), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("explore", str(spec), "--scheduler", address, "--out", str(out), "--no-plots")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --scheduler {address}: not a Dask scheduler address; give tcp://HOST:PORT with a "
        "port from 1 to 65535, such as tcp://10.0.0.5:8786 (what 'dask scheduler' prints)\n"
    )
    assert list(tmp_path.iterdir()) == [spec]


def _server(reply: bytes) -> tuple[str, socket.socket]:
    """A local TCP server that accepts connections, sends ``reply`` (maybe nothing) and then
    stays silent until closed."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed
                return
            accepted.append(connection)
            connection.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}", listener


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"", "no answer to Dask's handshake"),
        (b"\xff" * 64, "what answered does not speak Dask's protocol"),
        (b"HTTP/1.0 400 Bad request\r\n\r\n", "what answered does not speak Dask's protocol"),
    ],
    ids=["silent", "junk", "http"],
)
def test_a_server_that_is_no_dask_scheduler_is_refused_within_the_promised_time(
    reply: bytes, why: str, tmp_path: Path
) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_EXPERIMENT.format(base=BASELINE.as_posix()), encoding="utf-8")
    out = tmp_path / "out"
    address, listener = _server(reply)
    try:
        import distributed  # noqa: F401  (imported before the clock starts, as the CLI has)

        started = time.monotonic()
        result = invoke(
            "explore", str(spec), "--scheduler", address, "--out", str(out), "--no-plots"
        )
        took = time.monotonic() - started
    finally:
        listener.close()
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines(True) if not line.startswith("note: ")]
    assert "".join(errors) == (
        f"error: --scheduler {address}: no Dask scheduler answered within 5 s ({why}); start "
        "one with 'dask scheduler', or leave out --scheduler for a local cluster\n"
    )
    assert took < 6.5
    assert list(tmp_path.iterdir()) == [spec]


def _add(shared: int, item: int) -> int:
    return shared + item


def test_a_real_dask_scheduler_passes_the_check_and_runs_the_work() -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert scheduler_problem(address, 5) is None
        with Executor(Backend("dask", 1, address)) as executor:
            assert sorted(executor.map_unordered(_add, 10, [1, 2, 3])) == [11, 12, 13]
