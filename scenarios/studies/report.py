"""``clusterfund report``: one self-contained HTML file (charts embedded) and an Excel workbook.

The first screen answers "what does the compared scenario change for each
cluster in the target year?"; then come the scenarios, the input diff, the
scorecard, the charts and each run's provenance (config hash, seed, versions).
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet
from tqdm import tqdm

from scenarios.analysis.backtest import summarise
from scenarios.analysis.comparison import Comparison, ComparisonTables, comparison_tables, figure
from scenarios.core.errors import UserError
from scenarios.core.labels import label
from scenarios.core.text import terminal_safe
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.folders.publish import StagedFiles
from scenarios.folders.run_folder import BACKTEST_PNG, MONEY_METRICS, read_backtest
from scenarios.present.explore_section import explore_section, explore_tables
from scenarios.present.run_charts import draw_run_plots
from scenarios.studies.compare import (
    cluster_sheet_money,
    clusters_sheet_name,
    comparison_sheets,
    draw_comparison_plots,
    side_by_side,
)

MSEK_FORMAT = '#,##0.00" MSEK"'
GENERATOR = "clusterfund report"
"""Marks a page and a workbook as written by ``report`` (``--force`` replaces only those)."""
GENERATOR_META = f'<meta name="generator" content="{GENERATOR}">'
STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 1.2rem 2rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.sub { color: #555; margin-top: 0; } table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .2rem .5rem; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; } .up { color: #1a7f37; font-weight: 600; }
.down { color: #b42318; font-weight: 600; } img { max-width: 100%; border: 1px solid #eee; margin: .5rem 0; }
.note { color: #555; font-size: .85rem; } details { margin: .5rem 0; } td.text { text-align: left; }
"""


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _cell(value: object, good_when_up: bool | None = None, digits: int = 2) -> str:
    if isinstance(value, float):
        text = f"{value:+.{digits}f}" if good_when_up is not None else f"{value:.{digits}f}"
        if good_when_up is not None and abs(value) >= 0.005:
            better = (value > 0) == good_when_up
            return f'<td class="{"up" if better else "down"}">{text}</td>'
        return f"<td>{text}</td>"
    if isinstance(value, int):
        return f"<td>{value}</td>"
    return f'<td class="text">{html.escape(str(value))}</td>'


def _table(frame: pd.DataFrame, max_rows: int | None = None) -> str:
    shown = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in shown.itertuples(index=False)
    )
    more = (
        f'<p class="note">{len(frame) - max_rows} more rows in the Excel workbook.</p>'
        if max_rows is not None and len(frame) > max_rows
        else ""
    )
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _answer_heads(base: str, others: list[str], lang: str) -> list[str]:
    """The headings of the first screen's table."""
    heads = [label("cluster", lang), f"{label('answer_members', lang)} · {base}"]
    for other in others:
        heads += [
            f"{label('answer_members', lang)} · {other}",
            label("answer_delta_members", lang),
            f"{label('answer_share', lang)} · {base} → {other}",
            label("answer_delta_reserves", lang),
            label("answer_delta_arena", lang),
            f"{label('answer_closed', lang)} · {base} → {other}",
            f"{label('answer_target', lang)} · {base} → {other}",
        ]
    if not others:
        heads += [
            label(key, lang)
            for key in (
                "answer_share",
                "answer_reserves",
                "answer_arena",
                "answer_closed",
                "answer_target",
            )
        ]
    return heads


def _answer_cells(figures: pd.DataFrame, cluster: str, base: str, others: list[str]) -> list[str]:
    """One cluster's row of the first screen's table (figures picked by metric name)."""

    def value(metric: str, scenario: str) -> float:
        return float(figure(figures, metric, scenario)[cluster])

    def delta(metric: str, scenario: str) -> float:
        return float(figure(figures, metric, scenario, "delta")[cluster])

    name = str(figures.loc[figures.cluster == cluster, "name"].iloc[0])
    cells = [f"<td>{html.escape(name)}</td>", f"<td>{value('members', base):.0f}</td>"]
    for other in others:
        cells += [
            f"<td>{value('members', other):.0f}</td>",
            _cell(delta("members", other), good_when_up=True, digits=0),
            f"<td>{value('regional_share', base):.0%} → {value('regional_share', other):.0%}</td>",
            _cell(delta("reserves", other), good_when_up=True),
            _cell(delta("arena_income", other), good_when_up=True),
            f"<td>{value('closed', base):.0%} → {value('closed', other):.0%}</td>",
            f"<td>{value('member_target', base):.0%} → {value('member_target', other):.0%}</td>",
        ]
    if not others:
        cells += [
            f"<td>{value('regional_share', base):.0%}</td>",
            f"<td>{value('reserves', base):.2f}</td>",
            f"<td>{value('arena_income', base):.2f}</td>",
            f"<td>{value('closed', base):.0%}</td>",
            f"<td>{value('member_target', base):.0%}</td>",
        ]
    return cells


def answer_table(comparison: Comparison, figures: pd.DataFrame, lang: str) -> str:
    """The first screen: each cluster in the year of ``figures`` (``cluster_figures``),
    baseline → other scenario, with changes."""
    base, others = comparison.names[0], comparison.names[1:]
    clusters = figures.cluster.drop_duplicates()
    rows = "".join(
        "<tr>" + "".join(_answer_cells(figures, c, base, others)) + "</tr>" for c in clusters
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _answer_heads(base, others, lang))
    return f"<table><tr>{head}</tr>{rows}</table>"


def _headline(comparison: Comparison, year: int) -> str:
    lines = []
    base = comparison.baseline.summary
    for name, run in zip(comparison.names[1:], comparison.others, strict=True):
        other = run.summary

        def total(frame: pd.DataFrame, metric: str, stat: str) -> float:
            rows = frame[(frame.year == year) & (frame.metric == metric)]
            return float(rows[stat].sum())

        lines.append(
            f"<li><b>{html.escape(name)}</b> against <b>{html.escape(comparison.names[0])}</b> in {year}: "
            f"arena money {total(base, 'arena_income', 'mean'):.1f} → {total(other, 'arena_income', 'mean'):.1f} MSEK; "
            f"members (sum of P50) {total(base, 'members', 'p50'):.0f} → {total(other, 'members', 'p50'):.0f}; "
            f"expected closures {total(base, 'closed', 'mean'):.2f} → {total(other, 'closed', 'mean'):.2f}.</li>"
        )
    return f"<ul>{''.join(lines)}</ul>" if lines else ""


def _scenarios_section(comparison: Comparison) -> str:
    rows = []
    for name, run in zip(comparison.names, comparison.runs, strict=True):
        m = run.manifest
        rows.append(
            {
                "scenario": name,
                "description": m.get("description", ""),
                "runs": m["runs"],
                "seed": m["seed"],
                "years": f"{m['start_year']}–{m['horizon']}",
                "folder": str(run.path),
            }
        )
    return _table(pd.DataFrame(rows))


def _provenance_section(comparison: Comparison) -> str:
    rows = []
    for name, run in zip(comparison.names, comparison.runs, strict=True):
        m = run.manifest
        versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        kinds = pd.Series([str(t).split(":")[0] for t in m.get("provenance", {}).values()])
        rows.append(
            {
                "scenario": name,
                "config sha256": m["config_sha256"][:16] + "…",
                "seed": m["seed"],
                "created": m["created"],
                "versions": versions,
                "provenance entries": ", ".join(
                    f"{k}: {n}" for k, n in kinds.value_counts().items()
                ),
            }
        )
    details = "".join(
        f"<details><summary>{html.escape(name)}: provenance of every labelled key</summary>"
        + _table(
            pd.DataFrame(
                sorted(run.manifest.get("provenance", {}).items()), columns=["key", "source"]
            )
        )
        + "</details>"
        for name, run in zip(comparison.names, comparison.runs, strict=True)
    )
    return _table(pd.DataFrame(rows)) + details


def _backtest_section(comparison: Comparison) -> str:
    """Each run's backtest (when its folder has backtest.csv): the summary, the rows, the chart."""
    parts = []
    for name, run in zip(comparison.names, comparison.runs, strict=True):
        table = read_backtest(run.path)
        if table is None:
            continue
        summary = summarise(table)
        chart = run.path / "plots" / BACKTEST_PNG
        parts.append(
            f"<h3>{html.escape(name)}</h3><p>coverage of the P10–P90 band {summary.coverage:.2f} "
            f"over {summary.values_with_spread} observed values with spread (ideally 0.80); "
            f"{summary.bounds_in_band} of {summary.bounds} bounds overlap the band; "
            f"{summary.skipped} observations skipped (outside the run's years or undated).</p>"
            + _table(table[table.status == "scored"].drop(columns=["status", "runs"]))
            + (_img(chart) if chart.is_file() else "")
        )
    if not parts:
        return ""
    return "<h2>Backtest against observed figures</h2>" + "".join(parts)


def build_tables(
    comparison: Comparison, compared: ComparisonTables, lang: str = "en"
) -> dict[str, pd.DataFrame]:
    """Every table of the report, by sheet name, as the reader sees it (labelled in ``lang``)."""
    sheets = comparison_sheets(compared, comparison.names, lang)
    shown = [clusters_sheet_name(compared.year), "scorecard", "input_diff"]
    tables = {name: sheets[name] for name in shown}
    if comparison.others:
        tables["deltas"] = sheets["deltas"]
    for name, run in zip(comparison.names, comparison.runs, strict=True):
        tables[sheet_title(f"summary {name}")] = run.summary
        backtest = read_backtest(run.path)
        if backtest is not None:
            tables[sheet_title(f"backtest {name}")] = backtest
    return tables


def build_html(
    comparison: Comparison,
    year: int,
    lang: str,
    charts: Iterable[tuple[str, Path]],
    compared: ComparisonTables,
    explorations: Sequence[ExploreFolder] = (),
) -> str:
    """The report as one HTML string with every chart embedded."""
    names = " vs ".join(comparison.names)
    card = compared.scorecard
    card = side_by_side(
        card[card.year == year], ["target", "year"], "probability", comparison.names
    )
    diff = side_by_side(compared.input_diff, ["key"], "value", comparison.names)
    chart_html = "".join(f"<h3>{html.escape(title)}</h3>{_img(path)}" for title, path in charts)
    answer_heading = label("answer_title", lang).format(year=year)
    delta_note = (
        f"Δ = {html.escape(', '.join(comparison.names[1:]))} minus {html.escape(comparison.names[0])}; "
        "members, regional share and reserves are medians (P50) over the runs, arena money the mean, "
        "P(closed) the share of runs in which the cluster has closed. Green: better for the cluster."
        if comparison.others
        else "Medians (P50) over the runs; arena money is the mean; P(closed) the share of runs closed."
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">{GENERATOR_META}<title>{html.escape(label("report_title", lang))}: {html.escape(names)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(label("report_title", lang))}: {html.escape(names)}</h1>
<p class="sub">clusterfund report, {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}</p>
<h2>{html.escape(answer_heading)}</h2>
{_headline(comparison, year)}
{answer_table(comparison, compared.clusters, lang)}
<p class="note">{delta_note}</p>
<h2>{html.escape(label("scenarios", lang))}</h2>
{_scenarios_section(comparison)}
<h2>{html.escape(label("input_diff", lang))}</h2>
{_table(diff) if not diff.empty else "<p>" + html.escape(label("no_diff", lang)) + "</p>"}
<h2>{html.escape(label("scorecard", lang))} {year}</h2>
{_table(card.drop(columns="year"))}
<p class="note">Gold/Silver are proxies from configurable thresholds, not the official ECEI audit.</p>
{explore_section(explorations, lang, _table, _img)}
<h2>{html.escape(label("plots", lang))}</h2>
{chart_html}
{_backtest_section(comparison)}
<h2>{html.escape(label("provenance", lang))}</h2>
{_provenance_section(comparison)}
</body></html>
"""


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Text that a spreadsheet could take as a formula (OWASP, CSV injection)."""


def sheet_title(text: str) -> str:
    """``text`` as an Excel sheet name: without ``[]:*?/\\``, at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", "_", terminal_safe(text))[:31].strip("'") or "sheet"


def _printable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with control characters in its text shown as escapes (a worksheet cannot hold them)."""

    def safe(value: object) -> object:
        return terminal_safe(value) if isinstance(value, str) else value

    return table.rename(columns=safe).map(safe)


def _as_text(ws: Worksheet) -> None:
    """Keep every cell that holds text as text: one that looks like a formula is stored
    as a string (openpyxl would store it as a formula) and quote-prefixed, so Excel
    shows it and does not run it, not even after an edit."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"
                cell.quotePrefix = True


def write_workbook(
    tables: dict[str, pd.DataFrame],
    path: Path,
    money: Mapping[str, Collection[str]] | None = None,
) -> None:
    """One sheet per table, money formatted as MSEK, header rows frozen. Money is a row
    whose ``metric`` is one of ``MONEY_METRICS``, or a column that ``money`` names for its
    sheet."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        writer.book.properties.creator = GENERATOR
        for sheet, raw in tables.items():
            money_headings = set((money or {}).get(sheet, ()))
            money_columns = {i for i, h in enumerate(raw.columns) if h in money_headings}
            table = _printable(raw)
            table.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            _as_text(ws)
            ws.freeze_panes = "A2"
            headers = [str(c) for c in table.columns]
            metric_col = headers.index("metric") if "metric" in headers else None
            for row_index, row in enumerate(ws.iter_rows(min_row=2), start=0):
                money_row = (
                    metric_col is not None and table.iloc[row_index, metric_col] in MONEY_METRICS
                )
                for col, cell in enumerate(row):
                    if isinstance(cell.value, float) and (col in money_columns or money_row):
                        cell.number_format = MSEK_FORMAT
            for col, header in enumerate(headers, start=1):
                ws.column_dimensions[ws.cell(1, col).column_letter].width = min(
                    40, max(10, len(header) + 2)
                )


def write_report(
    comparison: Comparison,
    out: Path,
    year: int,
    lang: str,
    force: bool,
    progress: bool = True,
    explorations: Sequence[ExploreFolder] = (),
) -> tuple[Path, Path]:
    """Write ``out`` (HTML) and the workbook beside it (``.xlsx``); refuse to overwrite without
    ``force``. Explore folders add a section "Which assumptions matter"."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {out}: the report is an HTML file; name it e.g. report.html")
    workbook = out.with_suffix(".xlsx")
    staged = StagedFiles([out, workbook], force, owned=written_by_report)
    explored = {sheet_title(k): v for k, v in explore_tables(explorations).items()}
    compared = comparison_tables(comparison, year)
    tables = {**build_tables(comparison, compared, lang), **explored}
    money = {clusters_sheet_name(year): cluster_sheet_money(comparison.names, lang)}
    with tempfile.TemporaryDirectory() as scratch:
        charts: list[tuple[str, Path]] = []
        if comparison.others:
            for path in draw_comparison_plots(
                comparison, Path(scratch) / "compare", lang, progress
            ):
                charts.append((path.stem.replace("_", " "), path))
        runs = tqdm(
            list(zip(comparison.names, comparison.runs, strict=True)),
            desc="scenario charts",
            unit="scenario",
            disable=None if progress else True,
        )
        for index, (name, run) in enumerate(runs):
            for path in draw_run_plots(run, Path(scratch) / f"run{index}", lang):
                charts.append((f"{name}: {path.stem.replace('_', ' ')}", path))
        page = build_html(comparison, year, lang, charts, compared, explorations)
        with staged:  # both files, or neither
            write_workbook(tables, staged.path(workbook), money)
            staged.path(out).write_text(page, encoding="utf-8")
    return out, workbook


def written_by_report(path: Path) -> bool:
    """Whether ``path`` is a page or workbook ``report`` wrote (its generator mark)."""
    try:
        if path.suffix.lower() == ".xlsx":
            with zipfile.ZipFile(path) as book:
                return GENERATOR in book.read("docProps/core.xml").decode("utf-8", "replace")
        with path.open("rb") as page:
            return GENERATOR_META.encode() in page.read(4096)
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
