"""Names, descriptions and titles from config and project files are data: escaped in the
HTML report, text (never formulas) in the workbook, harmless in a terminal."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CONFIGS
from openpyxl import load_workbook

from scenarios.cli import cli

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
ANSI = "\x1b[31mred"
HOSTILE = f"{FORMULA} {ANSI} {SCRIPT}"


def terminal(*args: str):  # type: ignore[no-untyped-def]
    """Run the CLI as on a terminal (click keeps ANSI sequences there)."""
    result = CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False, color=True)
    return result


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scenario whose name, description, a cluster name and every project title are hostile."""
    config_dir = tmp_path_factory.mktemp("hostile") / "configs"
    shutil.copytree(CONFIGS, config_dir)
    pool = config_dir / "projects.csv"
    with pool.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["title"] = HOSTILE
    with pool.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = config_dir / "hostile.toml"
    path.write_text(
        'extends = "baseline.toml"\n'
        'name = "<script>alert(1)</script>"\n'
        'description = "=HYPERLINK(\\"http://x\\",\\"y\\") \\u001b[31mred"\n'
        "[clusters.packbridge]\n"
        'name = "=HYPERLINK(\\"http://x\\",\\"y\\") \\u001b[31mred <script>alert(1)</script>"\n'
        "[provenance]\n"
        '"members.churn" = "assumed: \\u001b[31mred"\n',
        encoding="utf-8",
    )
    return path


def _safe_in_terminal(output: str) -> None:
    assert "\x1b" not in output
    assert "\\x1b[31mred" in output


@pytest.fixture(scope="module")
def hostile_runs(hostile: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A baseline run and a hostile one."""
    root = tmp_path_factory.mktemp("runs")
    runs = []
    for name, config in (("base", hostile.parent / "baseline.toml"), ("hostile", hostile)):
        out = root / name
        result = terminal(
            "run", str(config), "--out", str(out), "--runs", "2", "--horizon", "2021", "--no-plots"
        )
        assert result.exit_code == 0, result.output
        runs.append(str(out))
    return runs


def test_hostile_text_is_harmless_in_a_terminal(
    hostile: Path, hostile_runs: list[str], tmp_path: Path
) -> None:
    _safe_in_terminal(terminal("show", str(hostile)).output)
    _safe_in_terminal(terminal("show", str(hostile), "--provenance").output)
    _safe_in_terminal(terminal("allocate", str(hostile), "--year", "2021").output)
    compared = terminal("compare", *hostile_runs, "--out", str(tmp_path / "cmp"))
    assert compared.exit_code == 0, compared.output
    _safe_in_terminal(compared.output)


def test_hostile_text_is_escaped_in_html_and_text_in_the_workbook(
    hostile_runs: list[str], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    result = terminal("report", *hostile_runs, "--out", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert SCRIPT not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    book = load_workbook(tmp_path / "report.xlsx")
    cells = [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    formulas = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert formulas and all(c.data_type == "s" and c.quotePrefix for c in formulas)
    assert any("\\x1b[31mred" in str(c.value) for c in cells)


def test_the_default_folder_of_a_hostile_name_is_one_harmless_folder(
    hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = terminal("run", str(hostile), "--runs", "1", "--horizon", "2021", "--no-plots")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["_script_alert_1_script_"]
