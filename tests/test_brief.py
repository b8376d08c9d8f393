"""clusterfund brief: paired changes on hand cases, brief.csv, one printed page in both
languages, and the guarded write (nothing replaced without --force, nothing half-written)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CONFIGS, SHIPPED_BASELINE, invoke
from pypdf import PdfReader

from scenarios.analysis.paired import change, paired_band
from scenarios.config.scenario import load_config
from scenarios.folders.brief_files import BRIEF_COLUMNS
from simulator.records import has_left

CLUSTERS = list(load_config(BASELINE).scenario.clusters)
CUT = 0.5
"""MSEK cut from every cluster's base in 2018 in the hand case."""
NO_ARENA_SAFE = [
    *("--set", "arena.budget.values.2019=0"),
    *("--set", "arena.budget.values.2020=0"),
    *("--set", "arena.budget.values.2021=0"),
    *[arg for c in CLUSTERS for arg in ("--set", f"clusters.{c}.opening_reserves=50")],
]
"""No arena money and reserves no cluster runs through by 2021: the region pays exactly the
base schedule, in every run."""


def _run(out: Path, config: Path, *extra: str) -> Path:
    result = invoke(
        "run",
        str(config),
        "--out",
        str(out),
        "--runs",
        "6",
        "--horizon",
        "2021",
        "--no-plots",
        *extra,
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two scenarios that differ only by a base cut of ``CUT`` MSEK per cluster in 2018."""
    root = tmp_path_factory.mktemp("hand")
    same = _run(root / "same", BASELINE, *NO_ARENA_SAFE, "--set", "name=same")
    cut = _run(
        root / "cut",
        BASELINE,
        *NO_ARENA_SAFE,
        *("--set", "name=cut", "--set", f"base_funding.default.values.2018={2.0 - CUT}"),
    )
    return same, cut


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The baseline and faster_taper: clusters close, members differ."""
    root = tmp_path_factory.mktemp("real")
    return _run(root / "baseline", SHIPPED_BASELINE), _run(
        root / "taper", CONFIGS / "faster_taper.toml"
    )


def _brief(folders: tuple[Path, ...], out: Path, *extra: str) -> pd.DataFrame:
    result = invoke("brief", *map(str, folders), "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out.with_name("brief.csv"), keep_default_na=False)


def _pages(pdf: Path) -> int:
    return len(PdfReader(pdf).pages)


def test_a_known_base_cut_is_exactly_that_change_in_every_run(hand, tmp_path: Path) -> None:
    csv = _brief(hand, tmp_path / "brief.pdf")
    assert tuple(csv.columns) == BRIEF_COLUMNS
    money = csv[(csv.scenario == "cut") & (csv.measure == "regional_money")]
    programme = money[money.years == "2017-2021"].set_index("cluster")
    expected = {**dict.fromkeys(CLUSTERS, -CUT), "all": -CUT * len(CLUSTERS)}
    for cluster, delta in expected.items():
        row = programme.loc[cluster]
        # the same cut in every run: the mean change is the cut and the band has no width
        assert float(row.delta) == pytest.approx(delta, abs=1e-6), cluster
        assert float(row.delta_p10) == pytest.approx(delta, abs=1e-6), cluster
        assert float(row.delta_p90) == pytest.approx(delta, abs=1e-6), cluster
    in_2021 = money[money.years == "2021"]
    assert (in_2021.delta.astype(float).abs() < 1e-9).all(), "the cut was in 2018 only"
    left = csv[(csv.scenario == "cut") & (csv.measure == "p_closed")]
    assert (left.delta.astype(float) == 0).all() and (left.value.astype(float) == 0).all()
    # the baseline's own rows have a value and no change
    same = csv[csv.scenario == "same"]
    assert (same.delta == "").all() and (same.value != "").all()
    # the value is the region's money in the yearly tables, base + arena, summed over the years
    yearly = pd.read_csv(hand[1] / "yearly.csv")
    paid = yearly[yearly.year <= 2021].eval("regional_base + arena_income")
    per_run = paid.groupby(yearly.run).sum()
    assert float(programme.loc["all"].value) == pytest.approx(per_run.mean(), abs=1e-5)


def test_the_brief_reads_the_changes_run_by_run(real, tmp_path: Path) -> None:
    """Checked against yearly.csv, computed here in pandas: the region's money paid, whether a
    cluster has left (any way out) and members, each paired run by run."""
    csv = _brief(real, tmp_path / "b" / "brief.pdf")
    base, other = (pd.read_csv(folder / "yearly.csv") for folder in real)

    def money(frame: pd.DataFrame) -> pd.Series:
        rows = frame[frame.year <= 2021]
        return rows.assign(paid=rows.regional_base + rows.arena_income).groupby("run").paid.sum()

    differences = money(other) - money(base)
    row = csv[
        (csv.scenario == "faster_taper")
        & (csv.cluster == "all")
        & (csv.measure == "regional_money")
        & (csv.years == "2017-2021")
    ].iloc[0]
    assert float(row.delta) == pytest.approx(differences.mean(), abs=1e-5)
    low, high = np.quantile(differences, (0.1, 0.9))
    assert float(row.delta_p10) == pytest.approx(low, abs=1e-5)
    assert float(row.delta_p90) == pytest.approx(high, abs=1e-5)

    def left(frame: pd.DataFrame) -> pd.Series:
        rows = frame[frame.year == 2021]
        return rows.set_index(["run", "cluster"]).status.map(has_left)

    gone = left(other).groupby("cluster").mean()
    assert gone.max() > 0, "faster_taper should lose a cluster in some run"
    p_closed = csv[(csv.scenario == "faster_taper") & (csv.measure == "p_closed")].set_index(
        "cluster"
    )
    for cluster, share in gone.items():
        assert float(p_closed.loc[cluster].value) == pytest.approx(share, abs=1e-6)
    any_left = left(other).groupby("run").any().mean() - left(base).groupby("run").any().mean()
    assert float(p_closed.loc["all"].delta) == pytest.approx(any_left, abs=1e-6)
    members = csv[
        (csv.scenario == "faster_taper") & (csv.cluster == "all") & (csv.measure == "members")
    ].iloc[0]
    total = [frame[frame.year == 2021].groupby("run").members.sum() for frame in (base, other)]
    assert float(members.delta) == pytest.approx((total[1] - total[0]).mean(), abs=1e-5)
    assert {"regional_money", "p_closed", "members", "clusters_lost"} <= set(csv.measure)
    per_scenario = len(CLUSTERS) * 8 + 9  # 8 measures per cluster, + clusters_lost for all
    assert len(csv) == 2 * per_scenario


def test_paired_band_on_hand_numbers() -> None:
    differences = np.arange(11.0).reshape(-1, 1)  # 0..10: P10 = 1, P90 = 9
    low, high = paired_band(differences, probability=False)
    assert (low[0], high[0]) == (1.0, 9.0)
    base = np.zeros((4, 2))
    other = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    found = change(base, other, probability=True)
    assert found.delta.tolist() == [0.5, 0.0]
    assert 0.0 <= found.delta_p10[0] < 0.5 < found.delta_p90[0] <= 1.0
    assert found.delta_p10[1] == found.delta_p90[1] == 0.0
    baseline_row = change(base, None, probability=False)
    assert np.isnan(baseline_row.delta).all() and baseline_row.value.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_the_brief_is_one_a4_page_in_either_language(real, tmp_path: Path, lang: str) -> None:
    out = tmp_path / "brief.pdf"
    result = invoke("brief", *map(str, real), "--out", str(out), "--lang", lang)
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape
    text = reader.pages[0].extract_text()
    assert "Media Evolution" in text and "Tourism" in text
    if lang == "sv":
        assert "Budgetunderlag" in text and "sparar" in text
        assert re.search(r"\d,\d\d", text) and not re.search(r"\d\.\d\d", text)
    else:
        assert "Budget brief" in text and "saves" in text
        assert re.search(r"\d\.\d\d", text)


def test_three_scenarios_still_fit_one_page(real, hand, tmp_path: Path) -> None:
    out = tmp_path / "three.pdf"
    csv = _brief((real[0], real[1], *hand), out)
    assert _pages(out) == 1
    assert csv.scenario.nunique() == 4


def test_html_brief_prints_as_one_landscape_page(real, tmp_path: Path) -> None:
    out = tmp_path / "brief.html"
    _brief(real, out, "--lang", "sv")
    page = out.read_text(encoding="utf-8")
    assert "@page { size: A4 landscape" in page
    assert "faster_taper sparar" in page and 'lang="sv"' in page
    assert "<script" not in page


def test_the_brief_is_written_guarded(real, tmp_path: Path) -> None:
    out = tmp_path / "brief.pdf"
    _brief(real, out)
    before = out.read_bytes()
    again = invoke("brief", *map(str, real), "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before
    forced = invoke("brief", *map(str, real), "--out", str(out), "--force", "--lang", "sv")
    assert forced.exit_code == 0, forced.output
    assert out.read_bytes() != before
    foreign = tmp_path / "mine" / "brief.pdf"
    foreign.parent.mkdir()
    foreign.write_bytes(b"%PDF-1.4 the user's own")
    refused = invoke("brief", *map(str, real), "--out", str(foreign), "--force")
    assert refused.exit_code == 2 and "not a file this tool wrote" in refused.stderr
    assert foreign.read_bytes() == b"%PDF-1.4 the user's own"
    assert not (foreign.parent / "brief.csv").exists()
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["brief.pdf"], "no leftovers"


def test_bad_input_is_one_line_and_writes_nothing(real, tmp_path: Path) -> None:
    wrong = invoke("brief", *map(str, real), "--out", str(tmp_path / "x" / "brief.docx"))
    assert wrong.exit_code == 2 and "PDF or an HTML page" in wrong.stderr
    other_seed = _run(tmp_path / "seed5", BASELINE, "--seed", "5")
    unpaired = invoke("brief", str(real[0]), str(other_seed), "--out", str(tmp_path / "y.pdf"))
    assert unpaired.exit_code == 2 and "same seed" in unpaired.stderr
    assert len(unpaired.stderr.strip().splitlines()) == 1
    missing = invoke(
        "brief", str(real[0]), str(tmp_path / "nothing"), "--out", str(tmp_path / "z.pdf")
    )
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    assert not (tmp_path / "x").exists()
    assert not any(p.suffix in (".pdf", ".csv") for p in tmp_path.iterdir())


def _no_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report without its scenario charts (slow to draw, tested in test_compare_report)."""
    for charts in ("draw_run_plots", "draw_comparison_plots"):
        monkeypatch.setattr(f"scenarios.studies.report.{charts}", lambda *_, **__: [])


def test_the_report_opens_with_the_brief_and_contents(
    real, hand, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_charts(monkeypatch)
    out = tmp_path / "report.html"
    result = invoke("report", *map(str, (*real, hand[1])), "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    brief_at = page.index('<section class="brief">')
    contents_at = page.index('<nav class="contents">')
    answer_at = page.index('id="answer"')
    assert brief_at < contents_at < answer_at
    assert "faster_taper saves" in page[brief_at:contents_at]
    assert "cut against baseline" in page[brief_at:contents_at]
    anchors = re.findall(r'<a href="#([a-z]+)">', page[contents_at:answer_at])
    assert anchors[:3] == ["brief", "answer", "scenarios"]
    assert all(f'id="{anchor}"' in page for anchor in anchors)
    assert "@media print" in page and "size: A4 landscape" in page
    # one table per compared scenario, headed by the pair, instead of one table too wide
    first = page[answer_at : page.index('id="scenarios"')]
    assert first.count("<table>") == 2
    assert "faster_taper against baseline" in first and "cut against baseline" in first
    book = pd.read_excel(out.with_suffix(".xlsx"), sheet_name="brief")
    assert list(book.columns) == list(BRIEF_COLUMNS) and len(book) == 3 * (len(CLUSTERS) * 8 + 9)


def test_a_report_of_runs_that_are_not_twins_says_why_there_is_no_brief(
    real, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_charts(monkeypatch)
    other_seed = _run(tmp_path / "seed7", BASELINE, "--seed", "7", "--set", "name=seven")
    out = tmp_path / "report.html"
    result = invoke("report", str(real[0]), str(other_seed), "--out", str(out), "--lang", "sv")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Inget parat underlag" in page and "samma frö" in page and "same seed" not in page
    answer = page[page.index('id="answer"') : page.index('id="scenarios"')]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", answer)
    assert any(re.fullmatch(r"[+−]?\d+,\d\d", c) for c in cells), "decimal commas"
    assert not any(re.search(r"\d\.\d", c) for c in cells), "no decimal points in Swedish"


def test_the_report_backtest_table_reads_as_text(
    real, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_charts(monkeypatch)
    run = tmp_path / "run"
    shutil.copytree(real[0], run)
    assert invoke("backtest", str(run), "--no-plots").exit_code == 0
    out = tmp_path / "report.html"
    result = invoke("report", str(run), "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    section = page[page.index('id="backtest"') : page.index('id="provenance"')]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", section)
    assert len(cells) > 20
    assert "2017" in cells and not any(re.fullmatch(r"20\d\d\.\d+", c) for c in cells)
    assert not {"nan", "NaN", "True", "False", "None"} & set(cells)
    assert {"yes", "no"} & set(cells)
    assert section.count("<th>") == 10


def test_a_folder_of_another_kind_is_named(real, tmp_path: Path) -> None:
    explore = tmp_path / "explore"
    shutil.copytree(real[1], explore)
    manifest = json.loads((explore / "manifest.json").read_text())
    (explore / "manifest.json").write_text(json.dumps({**manifest, "kind": "explore"}))
    result = invoke("brief", str(real[0]), str(explore), "--out", str(tmp_path / "b.pdf"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {explore} is an explore folder")
    assert "brief takes a run folder (from clusterfund run)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_brief_follows_the_umask(real, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "shared" / "brief.pdf"
        _brief(real, out)
    finally:
        os.umask(old)
    for path in (out, out.with_name("brief.csv")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name


def test_a_second_brief_in_one_folder_keeps_the_first_ones_numbers(real, tmp_path: Path) -> None:
    first = invoke("brief", *map(str, real), "--out", str(tmp_path / "one.pdf"))
    assert first.exit_code == 0, first.output
    numbers = (tmp_path / "brief.csv").read_bytes()
    second = invoke("brief", str(real[0]), "--out", str(tmp_path / "two.html"))
    assert second.exit_code == 2 and "--force" in second.output  # brief.csv is the first's
    assert (tmp_path / "brief.csv").read_bytes() == numbers
    assert not (tmp_path / "two.html").exists()
