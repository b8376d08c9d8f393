"""``clusterfund brief``: a one-page budget brief of one or more runs against a baseline (a
PDF or an HTML page) and ``brief.csv`` beside it with its numbers, published together.

The runs are paired run by run (:mod:`scenarios.analysis.paired`: the same seed and runs,
checked), the page says it in words and one table (:mod:`scenarios.present.brief_text`) and
is laid out on one A4 page (:mod:`scenarios.present.brief_page`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scenarios.analysis.comparison import Comparison, open_comparison
from scenarios.analysis.paired import Brief, paired_brief
from scenarios.core.errors import UserError
from scenarios.folders.brief_files import (
    PAGE_SUFFIXES,
    brief_csv_beside,
    write_brief_csv,
    written_by_brief,
)
from scenarios.folders.publish import MANIFEST_JSON, StagedFiles, default_folder
from scenarios.folders.run_folder import YEARLY_CSV
from scenarios.present.brief_page import brief_html, write_brief_pdf
from scenarios.present.brief_text import MAX_COMPARED, BriefPage, brief_page

DEFAULT_PAGE = "brief.pdf"


@dataclass(frozen=True)
class BriefRequest:
    """What the user asked ``clusterfund brief`` for."""

    folders: tuple[Path, ...]
    baseline: Path | None = None
    """The run the others are compared against [default: the first]."""
    out: Path | None = None
    """The page (``.pdf`` or ``.html``) [default: ``results/brief_<a>_vs_<b>/brief.pdf``]."""
    lang: str = "en"
    force: bool = False


@dataclass(frozen=True)
class BriefResult:
    """What ``brief`` wrote, and what the page says."""

    page: Path
    csv: Path
    content: BriefPage


def default_page(names: list[str]) -> Path:
    """``results/brief_<a>_vs_<b>/brief.pdf``."""
    return default_folder("brief_" + "_vs_".join(names)) / DEFAULT_PAGE


def brief_of(comparison: Comparison, lang: str, numbers: str) -> tuple[Brief, BriefPage]:
    """The runs of ``comparison`` paired against its baseline (refused in one line when they
    are not twins), and the page that says it in ``lang``; ``numbers`` says where its
    numbers are written."""
    brief = paired_brief(comparison.runs, comparison.names)
    names = comparison.baseline.cluster_names
    content = brief_page(
        brief,
        names,
        lang,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        csv=numbers,
        folders=[str(run.path) for run in comparison.runs],
    )
    return brief, content


def make_brief(request: BriefRequest) -> BriefResult:
    """Open and pair the runs, and write the page and ``brief.csv`` beside it (both, or
    neither; an existing one only with ``force``, and only one this tool wrote)."""
    if request.out is not None and request.out.suffix.lower() not in PAGE_SUFFIXES:
        raise UserError(
            f"--out {request.out}: the brief is a PDF or an HTML page; name it e.g. brief.pdf "
            "or brief.html"
        )
    comparison = open_comparison(request.folders, request.baseline, "brief")
    if len(comparison.others) > MAX_COMPARED:
        raise UserError(
            f"brief: {len(comparison.others)} scenarios against {comparison.names[0]}, but one "
            f"page holds at most {MAX_COMPARED}; make two briefs"
        )
    out = request.out or default_page([run.name for run in comparison.runs])
    csv = brief_csv_beside(out)
    reads = [run.path / name for run in comparison.runs for name in (MANIFEST_JSON, YEARLY_CSV)]
    staged = StagedFiles([out, csv], request.force, owned=written_by_brief, reads=reads)
    brief, content = brief_of(comparison, request.lang, numbers=str(csv))
    with staged:  # the page and its numbers together, or neither
        write_brief_csv(staged.path(csv), brief.rows())
        if out.suffix.lower() == ".pdf":
            write_brief_pdf(content, staged.path(out))
        else:
            staged.path(out).write_text(brief_html(content), encoding="utf-8")
    return BriefResult(out, csv, content)
