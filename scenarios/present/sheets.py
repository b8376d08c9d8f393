"""Tables as a reader sees them: a comparison pivoted to one column per scenario and
labelled in the reader's language, and the Excel workbook (one sheet per table, money as
MSEK, text kept as text, never a formula).

:mod:`scenarios.analysis.comparison` gives long tables with machine names; this module
pivots and labels them. It only ever selects by machine names (metric, scenario).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from scenarios.analysis.comparison import CLUSTER_FIGURES, Comparison, ComparisonTables, figure
from scenarios.core.labels import column_label, figure_label, label
from scenarios.core.lazy import pandas as pd
from scenarios.core.text import terminal_safe
from scenarios.folders.run_folder import MONEY_METRICS, read_backtest
from scenarios.folders.tables import tidy_frame

if TYPE_CHECKING:  # openpyxl is imported by pandas when a workbook is written
    from openpyxl.worksheet.worksheet import Worksheet

CSV_LANG = "en"
"""The compare CSVs keep English headings whatever ``--lang`` is, so scripts can read them."""
MSEK_FORMAT = '#,##0.00" MSEK"'
GENERATOR = "clusterfund report"
"""Marks a report's page and workbook as written by this tool (``--force`` replaces only
those)."""


def clusters_sheet_name(year: int) -> str:
    """The name of the per-cluster table (CSV file stem and workbook sheet) for ``year``."""
    return f"clusters_{year}"


def side_by_side(
    long: pd.DataFrame, index: list[str], values: str, names: list[str]
) -> pd.DataFrame:
    """``long`` pivoted to one row per ``index`` (in order of first appearance) and one
    column of ``values`` per scenario, in ``names`` order."""
    if long.empty:
        return pd.DataFrame(columns=[*index, *names])
    wide = long.pivot(index=index, columns="scenario", values=values)
    order = pd.MultiIndex.from_frame(long[index].drop_duplicates())
    wide.index = pd.MultiIndex.from_frame(wide.index.to_frame(index=False))
    return wide.reindex(index=order, columns=names).reset_index().rename_axis(columns=None)


def _figure_headings(metric: str, stat: str, names: list[str], lang: str) -> list[str]:
    """The headings of one figure: the baseline's value, then each other's value and change."""
    heading = figure_label(metric, stat, lang)
    headings = [f"{heading} · {names[0]}"]
    for other in names[1:]:
        headings += [f"{heading} · {other}", f"{heading} · Δ {other}"]
    return headings


def cluster_sheet(figures: pd.DataFrame, names: list[str], lang: str = CSV_LANG) -> pd.DataFrame:
    """The per-cluster figures as one row per cluster: its id and name, then per figure
    the baseline's value and each other scenario's value and change against it."""
    first = figures[(figures.scenario == names[0]) & (figures.metric == CLUSTER_FIGURES[0][0])]
    columns: dict[str, object] = {
        label("cluster", lang): first.cluster.to_numpy(),
        label("name", lang): first["name"].to_numpy(),
    }
    for metric, stat in CLUSTER_FIGURES:
        series = [figure(figures, metric, names[0])]
        for other in names[1:]:
            series += [figure(figures, metric, other), figure(figures, metric, other, "delta")]
        headings = _figure_headings(metric, stat, names, lang)
        columns.update({heading: s.to_numpy() for heading, s in zip(headings, series, strict=True)})
    return pd.DataFrame(columns)


def cluster_sheet_money(names: list[str], lang: str = CSV_LANG) -> list[str]:
    """The headings of ``cluster_sheet`` whose figures are money (MSEK)."""
    return [
        heading
        for metric, stat in CLUSTER_FIGURES
        if metric in MONEY_METRICS
        for heading in _figure_headings(metric, stat, names, lang)
    ]


def comparison_sheets(
    tables: ComparisonTables, names: list[str], lang: str = CSV_LANG
) -> dict[str, pd.DataFrame]:
    """The comparison as the reader sees it, by file or sheet name: the input diff and the
    scorecards with a column per scenario, the cluster sheet, the (already long) deltas."""
    diff = side_by_side(tables.input_diff, ["key"], "value", names)
    return {
        "input_diff": diff.rename(columns={"key": label("key", lang)}),
        clusters_sheet_name(tables.year): cluster_sheet(tables.clusters, names, lang),
        "scorecard": side_by_side(tables.scorecard, ["target", "year"], "probability", names),
        "deltas": tables.deltas,
    }


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


PERCENT_FORMAT = "0.0%"
PERCENT_ROWS = frozenset({"regional_share", "closed", "p_closed"})
"""Rows (by their ``metric`` or ``measure``) whose numbers are shares or probabilities."""
MONEY_ROWS = MONEY_METRICS | {"regional_money", "regional_base", "arena_money"}
"""Rows (by their ``metric`` or ``measure``) whose numbers are money (MSEK)."""
PERCENT_COLUMNS = frozenset({"probability"})
"""Columns that hold probabilities in any sheet."""
KIND_COLUMNS = ("metric", "measure")
"""The column that says what a row measures, where a table has one."""
WIDEST, NARROWEST, HEADING_WIDTH = 60, 8, 22
"""Column widths (characters): at most, at least, and how wide a heading may make a column
before it wraps."""


def sheet_label(sheet: str, lang: str = "en") -> str:
    """A sheet's name in ``lang``: ``clusters_2021`` → ``kluster_2021``, ``summary
    baseline`` → ``sammanfattning baseline`` (names the tool does not know stay)."""
    if lang == "en":
        return sheet
    match = re.fullmatch(r"clusters_(\d+)", sheet)
    if match:
        return label("sheet.clusters", lang).format(year=match[1])
    kind, _, name = sheet.partition(" ")
    key = f"sheet.{kind}"
    if label(key, lang) == key:
        return sheet
    return sheet_title(label(key, lang).format(name=name))


def cluster_sheet_percent(names: list[str], lang: str = CSV_LANG) -> list[str]:
    """The headings of ``cluster_sheet`` whose figures are shares or probabilities."""
    return [
        heading
        for metric, stat in CLUSTER_FIGURES
        if metric in PERCENT_ROWS or stat == "probability"
        for heading in _figure_headings(metric, stat, names, lang)
    ]


def write_workbook(
    tables: dict[str, pd.DataFrame],
    path: Path,
    money: Mapping[str, Collection[str]] | None = None,
    percent: Mapping[str, Collection[str]] | None = None,
    lang: str = "en",
) -> None:
    """One sheet per table, ready to read and print: numbers rounded as in the CSVs, money
    as MSEK and shares and probabilities as %, columns as wide as their content (headings
    wrap), the header row frozen and filtered, printed landscape on A4 one page wide.
    Money is a row whose ``metric`` (or ``measure``) is money, or a column that ``money``
    names for its sheet; a percentage likewise (``percent``, ``PERCENT_ROWS``,
    ``PERCENT_COLUMNS``). With a ``lang`` other than English the sheet names and the known
    headings are translated."""
    writer = pd.ExcelWriter(path, engine="openpyxl")
    try:
        _write_sheets(writer, tables, money or {}, percent or {}, lang)
    except BaseException:  # stopped or failed: the half-made workbook's own errors are noise
        with contextlib.suppress(Exception):
            writer.close()
        raise
    writer.close()


def _row_formats(table: pd.DataFrame) -> list[str | None]:
    """Each row's number format from what it measures (its ``metric`` or ``measure``)."""
    kind = next((c for c in KIND_COLUMNS if c in table.columns), None)
    if kind is None:
        return [None] * len(table)
    return [
        PERCENT_FORMAT if value in PERCENT_ROWS else MSEK_FORMAT if value in MONEY_ROWS else None
        for value in table[kind]
    ]


def _shown_width(value: object, number_format: str | None) -> int:
    """About how many characters a cell shows."""
    if value is None or (isinstance(value, float) and value != value):
        return 0
    if isinstance(value, float):
        if number_format == PERCENT_FORMAT:
            return len(f"{value * 100:.1f}%")
        if number_format == MSEK_FORMAT:
            return len(f"{value:,.2f} MSEK")
        return len(f"{value:.6g}")
    return max(len(line) for line in str(value).splitlines() or [""])


def _lay_out_sheet(ws: Worksheet, formats: list[list[str | None]], headers: list[str]) -> None:
    """Widths from content, wrapped headings, a filter, and landscape A4 one page wide."""
    from openpyxl.styles import Alignment

    for col, header in enumerate(headers, start=1):
        letter = ws.cell(1, col).column_letter
        shown = [
            _shown_width(cell.value, formats[r][col - 1])
            for r, cell in enumerate(
                next(ws.iter_cols(min_col=col, max_col=col, min_row=2)), start=0
            )
        ] if ws.max_row > 1 else []  # fmt: skip
        words = max((len(word) for word in header.split()), default=0)
        width = max([*shown, words, min(len(header), HEADING_WIDTH), NARROWEST - 2]) + 2
        ws.column_dimensions[letter].width = min(WIDEST, width)
        ws.cell(1, col).alignment = Alignment(wrap_text=True, vertical="top")
    ws.auto_filter.ref = ws.dimensions
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _write_sheets(
    writer: pd.ExcelWriter,
    tables: dict[str, pd.DataFrame],
    money: Mapping[str, Collection[str]],
    percent: Mapping[str, Collection[str]],
    lang: str,
) -> None:
    """Every sheet of :func:`write_workbook`."""
    writer.book.properties.creator = GENERATOR
    for sheet, raw in tables.items():
        money_headings = set(money.get(sheet, ()))
        percent_headings = set(percent.get(sheet, ())) | PERCENT_COLUMNS
        rows = _row_formats(raw)
        columns = [
            MSEK_FORMAT
            if heading in money_headings
            else PERCENT_FORMAT
            if heading in percent_headings
            else None
            for heading in raw.columns
        ]
        formats = [[column or row for column in columns] for row in rows]
        table = _printable(tidy_frame(raw))
        if lang != CSV_LANG:  # in English the headings stay those of the CSVs
            table = table.rename(columns=lambda heading: column_label(str(heading), lang))
        name = sheet_label(sheet, lang)
        table.to_excel(writer, sheet_name=name, index=False)
        ws = writer.sheets[name]
        _as_text(ws)
        ws.freeze_panes = "A2"
        for r, row in enumerate(ws.iter_rows(min_row=2)):
            for cell, number_format in zip(row, formats[r], strict=True):
                if isinstance(cell.value, float) and number_format is not None:
                    cell.number_format = number_format
        _lay_out_sheet(ws, formats, [str(c) for c in table.columns])
