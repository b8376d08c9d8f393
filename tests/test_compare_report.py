"""compare and report: deltas, input diff, refusals, charts, the HTML file and the workbook."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, CONFIGS, invoke
from openpyxl import load_workbook

from scenarios.labels import label

PNG = b"\x89PNG\r\n\x1a\n"


def _run(out: Path, config: Path, *extra: str) -> Path:
    result = invoke(
        "run", str(config), "--out", str(out), "--runs", "4", "--horizon", "2022", *extra
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cmp")
    return _run(root / "base", BASELINE, "--no-plots"), _run(
        root / "fees", CONFIGS / "higher_fees.toml", "--no-plots"
    )


@pytest.fixture(scope="module")
def compared(runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "cmp"
    result = invoke("compare", str(runs[0]), str(runs[1]), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "inputs that differ (1 keys)" in result.output
    assert "clusters in 2021: baseline → higher_fees" in result.output
    return out


def test_deltas_are_the_difference_of_the_summaries(runs, compared: Path) -> None:
    keys = ["year", "cluster", "metric"]
    a = pd.read_csv(runs[0] / "summary.csv").set_index(keys)
    b = pd.read_csv(runs[1] / "summary.csv").set_index(keys)
    deltas = pd.read_csv(compared / "deltas.csv").set_index(keys)
    assert len(deltas) == len(a)
    pd.testing.assert_series_equal(
        deltas["delta_p50"],
        (b["p50"] - a["p50"]).rename("delta_p50"),
        check_exact=False,
        rtol=1e-12,
    )
    pd.testing.assert_series_equal(
        deltas["delta_mean"],
        (b["mean"] - a["mean"]).rename("delta_mean"),
        check_exact=False,
        rtol=1e-12,
    )
    pd.testing.assert_series_equal(deltas["p90"], b["p90"], check_exact=False, rtol=1e-12)
    assert not re.search(r"\.\d{7,}", (compared / "deltas.csv").read_text()), "float noise"


def test_input_diff_lists_exactly_the_keys_that_differ(
    compared: Path, runs, tmp_path: Path
) -> None:
    diff = pd.read_csv(compared / "input_diff.csv")
    assert diff.key.tolist() == ["management.max_fee_rise"]
    assert diff.iloc[0].tolist() == ["management.max_fee_rise", 0.1, 0.2]
    other = _run(
        tmp_path / "set",
        BASELINE,
        "--no-plots",
        "--set",
        "members.churn=0.2",
        "--set",
        "projects.0.impact=1.0",
        "--seed",
        "5",
    )
    out = tmp_path / "cmp2"
    assert invoke("compare", str(runs[0]), str(other), "--out", str(out)).exit_code == 0
    assert pd.read_csv(out / "input_diff.csv").key.tolist() == [
        "members.churn",
        "projects.0.impact",
        "seed",
    ]


def test_cluster_table_and_scorecard(compared: Path) -> None:
    clusters = pd.read_csv(compared / "clusters_2021.csv")
    assert len(clusters) == 10
    delta = clusters["members P50 · Δ higher_fees"]
    expected = clusters["members P50 · higher_fees"] - clusters["members P50 · baseline"]
    assert (delta == expected).all()
    card = pd.read_csv(compared / "scorecard.csv")
    assert list(card.columns) == ["target", "year", "baseline", "higher_fees"]


def test_compare_plots_are_valid_pngs(compared: Path) -> None:
    pngs = list((compared / "plots").glob("*.png"))
    assert len(pngs) == 6
    for png in pngs:
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 20_000, png.name


def test_incomparable_folders_are_refused(runs, tmp_path: Path) -> None:
    short = _run(tmp_path / "short", BASELINE, "--no-plots", "--horizon", "2021")
    result = invoke("compare", str(runs[0]), str(short), "--out", str(tmp_path / "x"))
    assert (
        result.exit_code != 0
        and "horizon" in result.stderr
        and "cannot be compared" in result.stderr
    )
    result = invoke("compare", str(runs[0]), str(tmp_path), "--out", str(tmp_path / "y"))
    assert result.exit_code != 0 and "not a clusterfund results folder" in result.stderr
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "manifest.json").write_text('{"tool": "other"}')
    result = invoke("compare", str(runs[0]), str(tmp_path / "fake"))
    assert result.exit_code != 0 and "unknown results format" in result.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert "Traceback" not in result.output


def test_report_is_one_offline_file_with_a_workbook(runs, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("report", str(runs[0]), str(runs[1]), "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) >= 10 and all(s.startswith("data:image/png;base64,") for s in sources)
    first_screen = page[: page.index(label("scenarios"))]
    assert label("answer_title").format(year=2021) in first_screen
    assert "Media Evolution" in first_screen and "Δ members" in first_screen
    assert "config sha256" in page and "20170101" in page
    book = load_workbook(out.with_suffix(".xlsx"))
    assert {"clusters_2021", "scorecard", "input_diff", "deltas"} <= set(book.sheetnames)
    sheet = book["clusters_2021"]
    assert sheet.freeze_panes == "A2"
    headers = [c.value for c in sheet[1]]
    money = headers.index("reserves P50 (MSEK) · baseline") + 1
    assert "MSEK" in sheet.cell(2, money).number_format
    again = invoke("report", str(runs[0]), "--out", str(out))
    assert again.exit_code != 0 and "--force" in again.stderr


def test_swedish_labels(runs, tmp_path: Path) -> None:
    out = tmp_path / "rapport.html"
    assert invoke("report", str(runs[0]), "--out", str(out), "--lang", "sv").exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert label("answer_title", "sv").format(year=2021) in page
    assert label("answer_title", "en").format(year=2021) not in page
    assert label("fee_income", "sv") == "Medlemsavgifter" != label("fee_income", "en")
    english = tmp_path / "en"
    swedish = tmp_path / "sv"
    assert invoke("compare", str(runs[0]), str(runs[1]), "--out", str(english)).exit_code == 0
    assert (
        invoke(
            "compare", str(runs[0]), str(runs[1]), "--out", str(swedish), "--lang", "sv"
        ).exit_code
        == 0
    )
    assert (english / "plots" / "scorecard.png").read_bytes() != (
        swedish / "plots" / "scorecard.png"
    ).read_bytes()
