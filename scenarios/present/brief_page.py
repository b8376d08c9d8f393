"""The brief's page: one A4 page in landscape, as a PDF or as an HTML file.

**PDF: matplotlib's ``PdfPages``.** matplotlib is already a dependency (every chart of the
tool is drawn with it), writes PDF itself with its fonts embedded (DejaVu Sans: Swedish
letters, Δ, −, ≥), and a figure of 11.69 × 8.27 inches *is* the A4 page: what is placed on
it is exactly what prints, on one page by construction, whatever the language. A
library made for PDF reports (ReportLab, WeasyPrint) lays text out better but would add a
dependency (WeasyPrint also needs Pango), and flowing layout is what can spill onto a
second page. So the page is laid out here, top to bottom, with the text wrapped to the
page's width and the table's font chosen so its columns fit.

**HTML: a Jinja2 template** (``templates/brief.html.j2``, autoescaped: scenario and cluster
names are data) with print CSS for one A4 landscape page.
"""

from __future__ import annotations

import base64
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from scenarios.folders.brief_files import BRIEF_GENERATOR
from scenarios.present.brief_text import BriefPage, BriefTable
from scenarios.present.page_templates import render
from scenarios.present.pyplot import plt, save_png

PAGE = (11.69, 8.27)
"""A4 landscape, inches."""
MARGIN = 0.45
INK = "#222222"
GREY = "#666666"
UP, DOWN = "#1a7f37", "#b42318"
RULE = "#bbbbbb"
POINTS_PER_INCH = 72.0
CHAR_WIDTH = 0.55
"""The mean width of a DejaVu Sans character, in ems (to wrap text to a width)."""
SCALES = (1.0, 0.92, 0.85, 0.78, 0.7, 0.62, 0.55)
"""Font scales tried, largest first, until the page's content fits the page."""
CHART_LEAST = 1.6
"""Inches of height from which the brief's chart is drawn below the table."""
SPARE_MOST = 0.9
"""Inches of width a column gets beyond what it needs, at most (a short table stays
compact)."""
CHART_SCALE = 0.85
"""The smallest font scale at which the page makes room for the chart (below it, the
table's size matters more than the chart)."""


def _chars(width: float, size: float) -> int:
    """How many characters of ``size`` points fit ``width`` inches."""
    return max(4, int(width * POINTS_PER_INCH / (size * CHAR_WIDTH)))


def _wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` wrapped to ``width`` inches at ``size`` points."""
    return textwrap.wrap(text, _chars(width, size), break_on_hyphens=False) or [""]


def _inches(chars: float, size: float) -> float:
    """The width of ``chars`` characters at ``size`` points, in inches."""
    return chars * size * CHAR_WIDTH / POINTS_PER_INCH


class _Cursor:
    """Where the next line goes, from the top of the page down (inches from the bottom)."""

    def __init__(self, figure: plt.Figure, scale: float) -> None:
        self.figure = figure
        self.scale = scale
        self.y = PAGE[1] - MARGIN

    def line(self, text: str, size: float, x: float = MARGIN, **style: object) -> None:
        self.y -= size * 1.35 / POINTS_PER_INCH
        self.figure.text(x / PAGE[0], self.y / PAGE[1], text, fontsize=size, va="baseline", **style)

    def paragraph(self, text: str, size: float, indent: float = 0.0, **style: object) -> None:
        width = PAGE[0] - 2 * MARGIN - indent
        for line in _wrap(text, size, width):
            self.line(line, size, MARGIN + indent, **style)

    def skip(self, inches: float) -> None:
        self.y -= inches * self.scale


@dataclass(frozen=True)
class _Columns:
    """The table's columns on the page: left edges and widths (inches) and the headings
    wrapped to them, at one font size."""

    size: float
    lefts: list[float]
    widths: list[float]
    heads: list[list[str]]

    @property
    def right(self) -> float:
        """The table's right edge (inches)."""
        return self.lefts[-1] + self.widths[-1]


def _columns(table: BriefTable, size: float) -> _Columns | None:
    """The columns at ``size`` points, or ``None`` when they do not fit the page's width. A
    column is as wide as its longest cell, band (a smaller font) or heading word; spare
    width is shared out; headings wrap to their column."""
    band = size - 1.0
    needed = []
    for c, heading in enumerate(table.head):
        cells = max(
            max(_inches(len(row[c].text) + 1.5, size), _inches(len(row[c].band) + 1.5, band))
            for row in table.rows
        )
        words = max((len(word) for word in heading.split()), default=0)
        needed.append(max(cells, _inches(words + 1.5, size)))
    width = PAGE[0] - 2 * MARGIN
    if sum(needed) > width:
        return None
    spare = min((width - sum(needed)) / len(needed), SPARE_MOST)
    widths = [w + spare for w in needed]
    lefts = [MARGIN + sum(widths[:c]) for c in range(len(widths))]
    heads = [
        _wrap(h, size, w - _inches(1, size)) if h else [""]
        for h, w in zip(table.head, widths, strict=True)
    ]
    return _Columns(size, lefts, widths, heads)


def _draw_table(figure: plt.Figure, cursor: _Cursor, table: BriefTable) -> None:
    """The table at the largest font (at most 8 points × the page's scale) that fits the
    page's width."""
    columns = None
    size = 8.0 * cursor.scale
    while columns is None and size > 4.0:
        columns = _columns(table, size)
        size -= 0.25
    if columns is None:
        columns = _columns(table, 4.0) or _Columns(4.0, [MARGIN], [PAGE[0]], [[]])
    size = columns.size
    line = size * 1.3 / POINTS_PER_INCH
    right_edge = columns.right
    cursor.y -= line
    column = 0
    for heading, count in table.groups:  # the group headings, each over its columns
        if heading:
            left = columns.lefts[column]
            right = left + sum(columns.widths[column : column + count])
            figure.text(
                (left + right) / 2 / PAGE[0],
                cursor.y / PAGE[1],
                heading,
                fontsize=size + 0.5,
                weight="bold",
                ha="center",
                va="baseline",
                color=INK,
            )
            _rule(figure, left + 0.05, right - 0.05, cursor.y - 0.35 * line)
        column += count
    depth = max(len(lines) for lines in columns.heads)
    for c, lines in enumerate(columns.heads):
        top = depth - len(lines)  # headings sit on the rule
        for k, text in enumerate(lines):
            _cell_text(figure, c, columns, cursor.y - (top + k + 1) * line, text, size, GREY)
    cursor.y -= depth * line + 0.4 * line
    _rule(figure, MARGIN, right_edge, cursor.y)
    for r, row in enumerate(table.rows):
        last = r == len(table.rows) - 1
        if last:
            cursor.y -= 0.25 * line
            _rule(figure, MARGIN, right_edge, cursor.y)
        cursor.y -= line
        bands = any(cell.band for cell in row)
        for c, cell in enumerate(row):
            colour = {"up": UP, "down": DOWN}.get(cell.css, INK)
            weight = "bold" if last or cell.css else "normal"
            _cell_text(figure, c, columns, cursor.y, cell.text, size, colour, weight)
            if cell.band:
                y = cursor.y - 0.9 * line
                _cell_text(figure, c, columns, y, cell.band, size - 1.0, GREY)
        cursor.y -= (0.9 if bands else 0.0) * line + 0.35 * line
    _rule(figure, MARGIN, right_edge, cursor.y)


def _cell_text(
    figure: plt.Figure,
    column: int,
    columns: _Columns,
    y: float,
    text: str,
    size: float,
    colour: str,
    weight: str = "normal",
) -> None:
    """A cell's text: the first column left-aligned, the numbers right-aligned."""
    left, width = columns.lefts[column], columns.widths[column]
    x = left + (0.04 if column == 0 else width - 0.06)
    figure.text(
        x / PAGE[0],
        y / PAGE[1],
        text,
        fontsize=size,
        ha="left" if column == 0 else "right",
        va="baseline",
        color=colour,
        weight=weight,
    )


def _rule(figure: plt.Figure, left: float, right: float, y: float) -> None:
    figure.add_artist(
        plt.Line2D(
            [left / PAGE[0], right / PAGE[0]],
            [y / PAGE[1], y / PAGE[1]],
            transform=figure.transFigure,
            color=RULE,
            linewidth=0.6,
        )
    )


def _notes_height(notes: list[str], size: float) -> float:
    """Inches the notes take at the foot of the page."""
    lines = sum(len(_wrap(note, size, PAGE[0] - 2 * MARGIN)) for note in notes)
    return lines * size * 1.35 / POINTS_PER_INCH


def _lay_out(figure: plt.Figure, page: BriefPage, scale: float, chart: bool) -> bool:
    """Everything on the page at ``scale`` (with the chart, if ``chart``); whether it fits."""
    cursor = _Cursor(figure, scale)
    cursor.paragraph(page.title, 15 * scale, weight="bold", color=INK)
    cursor.skip(0.04)
    cursor.paragraph(page.subtitle, 9 * scale, color=GREY)
    cursor.skip(0.12)
    sentence = 10.5 * scale
    for text in page.sentences:
        for k, line in enumerate(_wrap(text, sentence, PAGE[0] - 2 * MARGIN - 0.25)):
            cursor.line(("•  " if k == 0 else "    ") + line, sentence, color=INK)
        cursor.skip(0.03)
    cursor.skip(0.1)
    _draw_table(figure, cursor, page.table)
    note = 7 * scale
    foot = MARGIN + _notes_height(page.notes, note)
    room = cursor.y - 0.15 - foot
    if room < (CHART_LEAST if chart else 0.0):
        return False
    if chart and page.chart is not None:
        axes = figure.add_axes(
            (
                (MARGIN + 0.55) / PAGE[0],
                (foot + 0.55) / PAGE[1],
                (PAGE[0] - 2 * MARGIN - 0.6) / PAGE[0],
                (room - 0.85) / PAGE[1],
            )
        )
        page.chart(axes)
    cursor.y = foot
    for text in page.notes:
        cursor.paragraph(text, note, color=GREY)
    return True


def brief_figure(page: BriefPage) -> plt.Figure:
    """The page as a matplotlib figure of A4 landscape: with the chart when it fits at a
    font scale of at least ``CHART_SCALE``, else without; its fonts as large as fit."""
    tries = [(scale, True) for scale in SCALES if scale >= CHART_SCALE and page.chart]
    tries += [(scale, False) for scale in SCALES]
    for scale, chart in tries:
        figure = plt.figure(figsize=PAGE)
        if _lay_out(figure, page, scale, chart) or (scale, chart) == tries[-1]:
            return figure
        plt.close(figure)
    raise AssertionError("unreachable")


def write_brief_pdf(page: BriefPage, path: Path) -> None:
    """The page as a one-page PDF (A4 landscape) at ``path``."""
    from matplotlib.backends.backend_pdf import PdfPages

    figure = brief_figure(page)
    try:
        metadata = {"Creator": BRIEF_GENERATOR, "Title": page.title}
        with PdfPages(path, metadata=metadata) as pdf:
            pdf.savefig(figure)
    finally:
        plt.close(figure)


CHART_SIZE = (11.0, 2.6)
"""The brief's chart on the HTML page, inches (it prints about 60 mm high)."""


def brief_chart_src(page: BriefPage) -> str | None:
    """The brief's chart as a PNG ``data:`` URL (the page opens offline), or ``None``."""
    if page.chart is None:
        return None
    figure = plt.figure(figsize=CHART_SIZE)
    buffer = io.BytesIO()
    try:
        page.chart(figure.add_axes((0.05, 0.26, 0.93, 0.62)))
        save_png(figure, buffer)
    finally:
        plt.close(figure)  # also when the chart fails (save_png closes it otherwise)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def brief_html(page: BriefPage) -> str:
    """The page as one HTML file (print CSS: one A4 page in landscape)."""
    return render(
        "brief.html.j2", page=page, chart=brief_chart_src(page), generator=BRIEF_GENERATOR
    )
