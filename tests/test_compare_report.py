"""compare and report: deltas, input diff, refusals, charts, the HTML file and the workbook."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import CONFIGS, invoke
from conftest import SHIPPED_BASELINE as BASELINE
from openpyxl import load_workbook

from scenarios.analysis.comparison import (
    CLUSTER_FIGURES,
    FIGURE_COLUMNS,
    MEMBER_TARGET,
    SUMMARY_FIGURES,
    comparison_tables,
    open_comparison,
)
from scenarios.config.scenario import load_config
from scenarios.core import labels
from scenarios.core.labels import figure_label, label
from scenarios.present.compare_text import describe_comparison
from scenarios.present.html import answer_table
from scenarios.present.sheets import comparison_sheets

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
        "parameter_sets.fixed",  # the churn set on the command line is kept in every run
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
    assert len(pngs) == 8
    differences = {p.name for p in pngs if p.name.startswith("difference_")}
    assert differences == {"difference_regional_money.png", "difference_members.png"}
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
    start = page.index('id="scorecard"')
    scorecard = page[start : page.index("<h2", start)]
    assert "members ≥ target: Media Evolution" in scorecard and "no cluster lost" in scorecard
    assert "cluster_members_min" not in scorecard and "no_closures" not in scorecard
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
    # the scenarios' and scorecard's tables: Swedish headings, decimal commas
    assert "<th>körningar</th>" in page and "<th>runs</th>" not in page
    assert "<th>mål</th>" in page and "<th>target</th>" not in page
    scorecard = page[page.index('id="scorecard"') :]
    assert re.search(r"<td[^>]*>\d,\d\d</td>", scorecard)
    assert (
        "medlemmar ≥ målet: Media Evolution" in scorecard and "inget kluster förlorat" in scorecard
    )
    assert not re.search(r"<td[^>]*>\d\.\d\d</td>", scorecard)
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


def test_compare_csv_values_are_recomputed_from_the_runs_summaries(runs, compared: Path) -> None:
    clusters = pd.read_csv(compared / "clusters_2021.csv").set_index("cluster")
    summaries = [pd.read_csv(run / "summary.csv") for run in runs]
    cards = [pd.read_csv(run / "scorecard.csv") for run in runs]
    assert clusters.index.tolist() == list(
        load_config(BASELINE).scenario.model_dump(mode="json")["clusters"]
    )

    def from_summary(summary: pd.DataFrame, metric: str, stat: str) -> pd.Series:
        rows = summary[(summary.year == 2021) & (summary.metric == metric)]
        return rows.set_index("cluster")[stat].reindex(clusters.index)

    def from_scorecard(card: pd.DataFrame) -> pd.Series:
        rows = card[(card.year == 2021) & card.target.str.startswith("cluster_members_min:")]
        return rows.set_index(rows.target.str.split(":").str[1])["probability"].reindex(
            clusters.index
        )

    expected = {
        (metric, stat): [from_summary(s, metric, stat) for s in summaries]
        for metric, stat in SUMMARY_FIGURES
    }
    expected[MEMBER_TARGET] = [from_scorecard(card) for card in cards]
    assert set(expected) == set(CLUSTER_FIGURES)
    for (metric, stat), (base, fees) in expected.items():
        heading = figure_label(metric, stat)
        assert not base.isna().any() and not fees.isna().any(), heading
        for column, want in (
            (f"{heading} · baseline", base),
            (f"{heading} · higher_fees", fees),
            (f"{heading} · Δ higher_fees", fees - base),
        ):
            got = clusters[column].to_numpy()
            assert abs(got - want.to_numpy()).max() <= 1e-6, column
    # a figure that moves somewhere, so the check above is not vacuous
    assert (expected[("members", "p50")][0] != expected[("members", "p50")][1]).any()


def test_changing_a_heading_changes_no_number(runs, monkeypatch: pytest.MonkeyPatch) -> None:
    """compare keys its tables by machine names; the presenters label them. Renaming every
    heading (as a translator or a presenter might) leaves compare's frames, the CSV values,
    the terminal table and the report's first screen unchanged but for the headings."""
    comparison = open_comparison(list(runs))
    before = comparison_tables(comparison, 2021)
    sheets_before = comparison_sheets(before, comparison.names)
    terminal_before = describe_comparison(comparison, before)
    answer_before = answer_table(comparison, before.clusters, "en")
    for metric, stat in CLUSTER_FIGURES:
        monkeypatch.setitem(labels._LABELS, f"{metric}.{stat}", (f"renamed {metric}", "x"))
    for key in ("cluster", "name", "key", "answer_members", "answer_delta_members"):
        monkeypatch.setitem(labels._LABELS, key, (f"renamed {key}", "x"))
    assert figure_label("members", "p50") == "renamed members"

    after = comparison_tables(comparison, 2021)
    assert list(after.clusters.columns) == FIGURE_COLUMNS
    assert after.clusters.metric.unique().tolist() == [m for m, _ in CLUSTER_FIGURES]
    for field in ("input_diff", "clusters", "scorecard", "deltas"):
        pd.testing.assert_frame_equal(getattr(after, field), getattr(before, field))
    sheets_after = comparison_sheets(after, comparison.names)
    assert sheets_after.keys() == sheets_before.keys()
    for name, sheet in sheets_after.items():
        old = sheets_before[name]
        assert sheet.shape == old.shape, name
        assert sheet.astype(str).to_numpy().tolist() == old.astype(str).to_numpy().tolist(), name
    renamed = list(sheets_after["clusters_2021"].columns)
    assert renamed[:3] == ["renamed cluster", "renamed name", "renamed members · baseline"]
    assert describe_comparison(comparison, after) == terminal_before
    answer_after = answer_table(comparison, after.clusters, "en")
    assert "renamed answer_delta_members" in answer_after.head
    assert answer_after.rows == answer_before.rows
