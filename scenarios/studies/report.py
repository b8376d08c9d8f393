"""``clusterfund report``: one self-contained HTML file (charts embedded) and an Excel
workbook beside it, of one or more runs and any explore folders.

The page (:mod:`scenarios.present.html`) opens with the budget brief (:mod:`scenarios.studies.brief`;
when the runs are twins) and a table of contents, then what each compared scenario changes for
each cluster in the target year; then the scenarios, the input diff, the scorecard, which
assumptions matter (explore folders), the charts, each run's backtest and provenance. The
workbook (:mod:`scenarios.present.sheets`) has one sheet per table.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from scenarios.analysis.paired import paired_problem
from scenarios.core.errors import UserError
from scenarios.core.labels import chart_label, label
from scenarios.folders.brief_files import brief_frame
from scenarios.folders.explore_folder import ExploreFolder, is_explore_folder
from scenarios.folders.publish import StagedFiles
from scenarios.present.compare_charts import draw_comparison_plots
from scenarios.present.html import build_html, explore_tables, written_by_report
from scenarios.present.run_charts import draw_run_plots
from scenarios.present.sheets import (
    build_tables,
    cluster_sheet_money,
    cluster_sheet_percent,
    clusters_sheet_name,
    sheet_label,
    sheet_title,
    write_workbook,
)
from scenarios.studies.brief import brief_of
from scenarios.studies.compare import CompareRequest, open_compared

BRIEF_SHEET = "brief"
"""The workbook's sheet of the brief's numbers (``brief.csv``'s rows)."""


@dataclass(frozen=True)
class Report:
    """What ``report`` wrote."""

    page: Path
    workbook: Path


def report(request: CompareRequest, progress: bool = True) -> Report:
    """Write the page ``request.out`` (HTML) and the workbook beside it (``.xlsx``); refuse to
    overwrite without ``force``. Explore folders among the folders add a section "Which
    assumptions matter"; the run folders are compared."""
    out = request.out
    if out is None or out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {out}: the report is an HTML file; name it e.g. report.html")
    explorations = [
        ExploreFolder.open(f, "report") for f in request.folders if is_explore_folder(f)
    ]
    runs = tuple(f for f in request.folders if not is_explore_folder(f))
    if not runs:
        raise UserError(
            "report needs at least one run folder (from clusterfund run); explore folders "
            "are added to it as a section 'Which assumptions matter'"
        )
    workbook = out.with_suffix(".xlsx")
    staged = StagedFiles([out, workbook], request.force, owned=written_by_report)
    compared = open_compared(
        CompareRequest(runs, request.baseline, request.year, request.lang), "report", least=1
    )
    comparison, tables, lang = compared.comparison, compared.tables, request.lang
    explored = {sheet_title(k): v for k, v in explore_tables(explorations).items()}
    sheets = {**build_tables(comparison, tables, lang), **explored}
    brief, no_brief = None, ""
    problem = paired_problem(comparison.runs, comparison.names, lang)
    if problem is None:
        brief_sheet = sheet_label(BRIEF_SHEET, lang)
        numbers, brief = brief_of(comparison, lang, f"{workbook.name}, {brief_sheet}")
        sheets = {BRIEF_SHEET: brief_frame(numbers.rows()), **sheets}
    else:
        no_brief = label("brief_not_paired", lang).format(why=problem)
    clusters = clusters_sheet_name(tables.year)
    money = {clusters: cluster_sheet_money(comparison.names, lang)}
    percent = {
        clusters: cluster_sheet_percent(comparison.names, lang),
        "scorecard": comparison.names,
    }
    with tempfile.TemporaryDirectory() as scratch:
        charts: list[tuple[str, Path]] = []
        if comparison.others:
            for path in draw_comparison_plots(
                comparison, Path(scratch) / "compare", lang, progress
            ):
                charts.append((chart_label(path.stem, lang), path))
        each = tqdm(
            list(zip(comparison.names, comparison.runs, strict=True)),
            desc="scenario charts",
            unit="scenario",
            disable=None if progress else True,
        )
        for index, (name, run) in enumerate(each):
            for path in draw_run_plots(run, Path(scratch) / f"run{index}", lang):
                charts.append((f"{name}: {chart_label(path.stem, lang)}", path))
        page = build_html(
            comparison, tables.year, lang, charts, tables, explorations, brief, no_brief
        )
        with staged:  # both files, or neither
            write_workbook(sheets, staged.path(workbook), money, percent, lang)
            staged.path(out).write_text(page, encoding="utf-8")
    return Report(out, workbook)
