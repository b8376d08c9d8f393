"""The workbook people use, read back with openpyxl: rounded values, % and MSEK formats,
widths from the content, a filter on every table, landscape A4 one page wide, Swedish names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import CONFIGS, invoke
from conftest import SHIPPED_BASELINE as BASELINE
from openpyxl import load_workbook

from scenarios.present.sheets import MSEK_FORMAT, PERCENT_FORMAT, write_workbook

NOISY = 0.7143129999999998


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2021, 2021, 2021],
            "cluster": ["sustainable_business_hub", "media_evolution", "tourism"],
            "metric": ["regional_share", "reserves", "members"],
            "p50": [NOISY, 2.5, 431.325],
            "mean": [0.1, 2.25, 430.0],
        }
    )


def test_formats_widths_filters_and_printing(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    scorecard = pd.DataFrame({"target": ["no_closures"], "year": [2021], "baseline": [0.45]})
    write_workbook(
        {"summary baseline": _summary(), "scorecard": scorecard},
        path,
        percent={"scorecard": ["baseline"]},
    )
    book = load_workbook(path)
    ws = book["summary baseline"]
    assert [c.value for c in ws[1]] == ["year", "cluster", "metric", "p50", "mean"]
    share, money, members = (ws.cell(row, 4) for row in (2, 3, 4))
    assert share.value == 0.714313, "rounded as in the CSVs"
    assert share.number_format == PERCENT_FORMAT and ws.cell(2, 5).number_format == PERCENT_FORMAT
    assert money.number_format == MSEK_FORMAT
    assert members.number_format == "General"
    # widths from the content: the longest cluster id fits, the year column stays narrow
    assert ws.column_dimensions["B"].width >= len("sustainable_business_hub") + 1
    assert ws.column_dimensions["A"].width <= 10
    assert ws.column_dimensions["D"].width >= len("431.325")
    for sheet in book.worksheets:
        assert sheet.auto_filter.ref == sheet.dimensions
        assert sheet.freeze_panes == "A2"
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and str(setup.paperSize) == "9"  # A4
        assert setup.fitToWidth == 1 and setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert book["scorecard"]["C2"].number_format == PERCENT_FORMAT


def test_swedish_sheet_names_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "bok.xlsx"
    write_workbook({"summary baseline": _summary(), "clusters_2021": _summary()}, path, lang="sv")
    book = load_workbook(path)
    assert book.sheetnames == ["sammanfattning baseline", "kluster_2021"]
    assert [c.value for c in book["kluster_2021"][1]][:3] == ["år", "kluster", "mått"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("book")
    folders = []
    for config in (BASELINE, CONFIGS / "faster_taper.toml"):
        out = root / config.stem
        result = invoke(
            "run", str(config), "--out", str(out), "--runs", "4", "--horizon", "2021", "--no-plots"
        )
        assert result.exit_code == 0, result.output
        folders.append(out)
    return folders[0], folders[1]


def test_the_report_workbook_reads_back(
    runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for charts in ("draw_run_plots", "draw_comparison_plots"):  # charts: test_compare_report
        monkeypatch.setattr(f"scenarios.studies.report.{charts}", lambda *_, **__: [])
    out = tmp_path / "rapport.html"
    result = invoke("report", *map(str, runs), "--out", str(out), "--lang", "sv")
    assert result.exit_code == 0, result.output
    book = load_workbook(out.with_suffix(".xlsx"))
    assert book.sheetnames[:4] == ["underlag", "kluster_2021", "måluppfyllelse", "indataskillnad"]
    brief = book["underlag"]
    heads = [c.value for c in brief[1]]
    assert heads[:5] == ["scenario", "kluster", "mått", "år", "värde"]
    rows = list(brief.iter_rows(min_row=2, values_only=False))
    by_measure = {row[2].value: row[4].number_format for row in rows}
    assert by_measure["regional_money"] == MSEK_FORMAT and by_measure["p_closed"] == PERCENT_FORMAT
    card = book["måluppfyllelse"]
    assert card.cell(2, 3).number_format == PERCENT_FORMAT
    clusters = book["kluster_2021"]
    heads = [c.value for c in clusters[1]]
    share = heads.index("regional andel P50 · baseline") + 1
    assert clusters.cell(2, share).number_format == PERCENT_FORMAT
    names = [c.value for c in next(clusters.iter_cols(min_col=2, max_col=2, min_row=2))]
    assert clusters.column_dimensions["B"].width >= max(len(n) for n in names) + 1
    for sheet in book.worksheets:
        assert sheet.auto_filter.ref == sheet.dimensions
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):
                    assert round(cell.value, 6) == cell.value, (sheet.title, cell.coordinate)
