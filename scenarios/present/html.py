"""The report as one HTML page: the data of each section made here (cells, tables, images
as ``data:`` URLs), the page laid out by a Jinja2 template with autoescape on
(``templates/report.html.j2``), so text from configs and project files (names, titles,
descriptions) is always escaped and never markup."""

from __future__ import annotations

import base64
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scenarios.analysis.backtest import summarise
from scenarios.analysis.comparison import Comparison, ComparisonTables, figure
from scenarios.config.designs import ranking_column
from scenarios.core.labels import column_label, input_label, label, label_or, target_label
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import number, percent, span, written
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.folders.run_folder import BACKTEST_PNG, PLOTS_DIR, read_backtest
from scenarios.present.backtest_text import headline
from scenarios.present.brief_page import brief_chart_src
from scenarios.present.brief_text import BriefPage
from scenarios.present.explore_charts import draw_explore_plots
from scenarios.present.explore_text import TOP_INPUTS, describe_explore, note_text
from scenarios.present.page_templates import render
from scenarios.present.run_charts import MOSTLY_LEFT
from scenarios.present.sheets import GENERATOR, side_by_side

GENERATOR_META = f'<meta name="generator" content="{GENERATOR}">'
"""How a report page marks itself (``--force`` replaces only such pages)."""


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and its CSS class (``up``, ``down`` or ``text``)."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table: headings, rows of cells, and a note on rows left out."""

    head: list[str]
    rows: list[list[Cell]]
    more: str = ""


@dataclass(frozen=True)
class Image:
    """A chart embedded as a ``data:`` URL (the page opens offline)."""

    alt: str
    src: str


@dataclass(frozen=True)
class Answer:
    """The first screen: what each compared scenario changes for each cluster."""

    heading: str
    headline: list[str]
    tables: list[tuple[str, Table]]
    """One table per compared scenario (its heading, the table): every scenario side by side
    is wider than a page."""
    note: str


@dataclass(frozen=True)
class ExploreSection:
    """One experiment in "Which assumptions matter"."""

    name: str
    description: str
    points: int
    replications: int
    design: str
    seed: int
    base_files: str
    ranked_by: str
    ranking: Table
    summary: str
    images: list[Image] = field(default_factory=list)


def image(path: Path) -> Image:
    """A PNG file as an embedded image."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Image(path.stem, f"data:image/png;base64,{data}")


def cell(
    value: object, good_when_up: bool | None = None, digits: int = 2, lang: str = "en"
) -> Cell:
    """A value as a cell: a number to ``digits`` decimals in ``lang``'s style (signed and
    coloured when ``good_when_up`` says which way is better, and it does not show as 0),
    anything else as left-aligned text."""
    if isinstance(value, float):
        signed = good_when_up is not None
        text = number(value, digits, lang, sign=signed)
        if signed and round(value, digits) != 0:
            better = (value > 0) == good_when_up
            return Cell(text, "up" if better else "down")
        return Cell(text)
    if isinstance(value, int):
        return Cell(str(value))
    return Cell(str(value), "text")


def frame_table(frame: pd.DataFrame, lang: str = "en", max_rows: int | None = None) -> Table:
    """A DataFrame as a table in ``lang``: its headings (``col.<name>`` labels), its numbers
    (decimal commas in Swedish), at most ``max_rows`` rows and the rest named in a note."""
    shown = frame if max_rows is None else frame.head(max_rows)
    rows = [[cell(v, lang=lang) for v in row] for row in shown.itertuples(index=False)]
    more = (
        label("more_rows", lang).format(count=len(frame) - max_rows)
        if max_rows is not None and len(frame) > max_rows
        else ""
    )
    heads = [label_or(f"col.{str(c).replace(' ', '_')}", str(c), lang) for c in shown.columns]
    return Table(heads, rows, more)


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


def _answer_cells(
    figures: pd.DataFrame, cluster: str, base: str, others: list[str], lang: str
) -> list[Cell]:
    """One cluster's row of the first screen's table (figures picked by metric name). A
    cluster that has left the programme in most runs has no regional share: it reads
    ``left``, not 0 %."""

    def value(metric: str, scenario: str) -> float:
        return float(figure(figures, metric, scenario)[cluster])

    def share(scenario: str) -> str:
        if value("closed", scenario) >= MOSTLY_LEFT:
            return label("left_short", lang)
        return percent(value("regional_share", scenario), 0, lang)

    def delta(metric: str, scenario: str) -> float:
        return float(figure(figures, metric, scenario, "delta")[cluster])

    name = str(figures.loc[figures.cluster == cluster, "name"].iloc[0])

    def share_of(metric: str, scenario: str) -> str:
        return percent(value(metric, scenario), 0, lang)

    cells = [Cell(name), Cell(number(value("members", base), 0, lang))]
    for other in others:
        cells += [
            Cell(number(value("members", other), 0, lang)),
            cell(delta("members", other), good_when_up=True, digits=0, lang=lang),
            Cell(f"{share(base)} → {share(other)}"),
            cell(delta("reserves", other), good_when_up=True, lang=lang),
            cell(delta("arena_income", other), good_when_up=True, lang=lang),
            Cell(f"{share_of('closed', base)} → {share_of('closed', other)}"),
            Cell(f"{share_of('member_target', base)} → {share_of('member_target', other)}"),
        ]
    if not others:
        cells += [
            Cell(share(base)),
            Cell(number(value("reserves", base), 2, lang)),
            Cell(number(value("arena_income", base), 2, lang)),
            Cell(share_of("closed", base)),
            Cell(share_of("member_target", base)),
        ]
    return cells


def answer_table(
    comparison: Comparison,
    figures: pd.DataFrame,
    lang: str,
    others: Sequence[str] | None = None,
) -> Table:
    """The first screen: each cluster in the year of ``figures`` (``cluster_figures``),
    baseline → other scenario (``others``, by default every compared one), with changes."""
    base = comparison.names[0]
    others = list(comparison.names[1:] if others is None else others)
    clusters = figures.cluster.drop_duplicates()
    rows = [_answer_cells(figures, c, base, others, lang) for c in clusters]
    return Table(_answer_heads(base, others, lang), rows)


def answer_tables(
    comparison: Comparison, figures: pd.DataFrame, lang: str
) -> list[tuple[str, Table]]:
    """The first screen's tables: one per compared scenario against the baseline (headed by
    the pair), or the baseline's own for a lone run."""
    base = comparison.names[0]
    if not comparison.others:
        return [("", answer_table(comparison, figures, lang))]
    return [
        (
            label("answer_against", lang).format(other=other, base=base),
            answer_table(comparison, figures, lang, [other]),
        )
        for other in comparison.names[1:]
    ]


def _headline(comparison: Comparison, year: int, lang: str) -> list[str]:
    base = comparison.baseline.summary

    def total(frame: pd.DataFrame, metric: str, stat: str) -> float:
        rows = frame[(frame.year == year) & (frame.metric == metric)]
        return float(rows[stat].sum())

    items = []
    for name, run in zip(comparison.names[1:], comparison.others, strict=True):
        other = run.summary
        items.append(
            label("answer_headline", lang).format(
                other=name,
                base=comparison.names[0],
                year=year,
                arena=f"{number(total(base, 'arena_income', 'mean'), 1, lang)} → "
                f"{number(total(other, 'arena_income', 'mean'), 1, lang)}",
                members=f"{number(total(base, 'members', 'p50'), 0, lang)} → "
                f"{number(total(other, 'members', 'p50'), 0, lang)}",
                closures=f"{number(total(base, 'closed', 'mean'), 2, lang)} → "
                f"{number(total(other, 'closed', 'mean'), 2, lang)}",
            )
        )
    return items


def _scenarios_table(comparison: Comparison, lang: str) -> Table:
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
    return frame_table(pd.DataFrame(rows), lang)


def _provenance(comparison: Comparison, lang: str) -> tuple[Table, list[tuple[str, Table]]]:
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
    details = [
        (
            name,
            frame_table(
                pd.DataFrame(
                    sorted(run.manifest.get("provenance", {}).items()), columns=["key", "source"]
                ),
                lang,
            ),
        )
        for name, run in zip(comparison.names, comparison.runs, strict=True)
    ]
    return frame_table(pd.DataFrame(rows), lang), details


def _digits(*values: object) -> int:
    """Decimals for backtest figures shown together: none when every one is whole (to two
    decimals) or large, else two."""
    present = [float(v) for v in values if v is not None and not pd.isna(v)]
    whole = all(round(v, 2).is_integer() or abs(v) >= 100 for v in present)
    return 0 if whole else 2


def _figure(value: object, lang: str, digits: int | None = None) -> str:
    """A backtest figure as text (to ``digits``, by default :func:`_digits` of it alone);
    nothing for a missing one."""
    if value is None or pd.isna(value):
        return ""
    return number(float(value), _digits(value) if digits is None else digits, lang)


def _text(value: object) -> str:
    """A text cell: nothing for a missing value."""
    return "" if value is None or pd.isna(value) else str(value)


def _observed(row: Any, lang: str) -> str:
    """What was observed: a value, a bound (``≥ 200``) or a range (``200–300``)."""
    value, lower, upper = (_figure(getattr(row, c), lang) for c in ("value", "lower", "upper"))
    if value:
        return value
    if lower and upper:
        return span(lower, upper)
    return f"≥ {lower}" if lower else f"≤ {upper}" if upper else ""


def backtest_table(table: pd.DataFrame, lang: str) -> Table:
    """A run's scored observations as text a reader takes in: years as years, an empty cell
    for nothing, yes/no for in band, the band as one range, and only the columns that fit a
    page (the full table is in the workbook)."""
    heads = [
        "cluster",
        "year",
        "metric",
        "kind",
        "sample",
        "value",
        "p50",
        "band",
        "in_band",
        "crps",
    ]
    rows = []
    for row in table[table.status == "scored"].itertuples(index=False):
        digits = _digits(row.p10, row.p90)
        band = span(_figure(row.p10, lang, digits), _figure(row.p90, lang, digits))
        in_band = "" if pd.isna(row.in_band) else label("yes" if row.in_band else "no", lang)
        texts = [
            str(row.cluster),
            "" if pd.isna(row.year) else str(int(row.year)),
            str(row.metric),
            _text(getattr(row, "kind", None)),
            _text(getattr(row, "sample", None)),
            _observed(row, lang),
            _figure(row.p50, lang),
            band,
            in_band,
            _figure(getattr(row, "crps", None), lang),
        ]
        rows.append(
            [Cell(text, "text" if k in (0, 2, 3, 4) else "") for k, text in enumerate(texts)]
        )
    return Table([column_label(h, lang) for h in heads], rows)


def _backtests(comparison: Comparison, lang: str) -> list[dict[str, Any]]:
    """Each run's backtest (when its folder has backtest.csv): the summary, the rows, the chart."""
    parts = []
    for name, run in zip(comparison.names, comparison.runs, strict=True):
        table = read_backtest(run.path)
        if table is None:
            continue
        summary = summarise(table)
        chart = run.path / PLOTS_DIR / BACKTEST_PNG
        parts.append(
            {
                "name": name,
                "summary": headline(summary, lang),
                "table": backtest_table(table, lang),
                "image": image(chart) if chart.is_file() else None,
            }
        )
    return parts


def _ranking_table(folder: ExploreFolder, lang: str = "en") -> Table:
    """The top inputs per outcome, with their index and confidence interval."""
    column = ranking_column(folder.design)
    conf = f"{column}_conf"
    rows = []
    for outcome in folder.outcomes["outcome"].drop_duplicates():
        for _, row in folder.ranked(outcome).head(TOP_INPUTS).iterrows():
            value = row[column]
            rows.append(
                {
                    "outcome": f"{outcome} ({row['stat']})",
                    "rank": int(row["rank"]),
                    "input": input_label(str(row["input"]), folder.input_labels),
                    column: "" if pd.isna(value) else written(value, ".3f", lang),
                    "ci95": f"±{written(row[conf], '.3f', lang)}"
                    if conf in row and pd.notna(row[conf])
                    else "",
                    "S1": written(row["S1"], ".3f", lang)
                    if "S1" in row and pd.notna(row.get("S1"))
                    else "",
                    "note": "" if pd.isna(row["note"]) else note_text(row["note"], lang),
                }
            )
    return frame_table(pd.DataFrame(rows), lang)


def explore_sections(folders: Sequence[ExploreFolder], lang: str = "en") -> list[ExploreSection]:
    """Per experiment: what it varied, the ranking, PRIM, and its sensitivity and PRIM charts
    (in ``lang``)."""
    sections = []
    for folder in folders:
        manifest = folder.manifest
        with tempfile.TemporaryDirectory() as scratch:
            images = [
                image(path)
                for path in draw_explore_plots(folder, Path(scratch), lang)
                if path.stem.startswith(("sensitivity_", "prim_"))
            ]
        sections.append(
            ExploreSection(
                name=folder.name,
                description=str(manifest.get("description", "")),
                points=manifest["points"],
                replications=manifest["replications"],
                design=folder.design,
                seed=manifest["seed"],
                base_files=", ".join(manifest.get("base_files", [])),
                ranked_by=ranking_column(folder.design),
                ranking=_ranking_table(folder, lang),
                summary=describe_explore(folder, lang),
                images=images,
            )
        )
    return sections


def explore_tables(folders: Sequence[ExploreFolder]) -> dict[str, pd.DataFrame]:
    """Workbook sheets (names not yet cut to Excel's rules): each experiment's sensitivity
    and discovery tables."""
    tables: dict[str, pd.DataFrame] = {}
    for folder in folders:
        tables[f"sensitivity {folder.name}"] = folder.sensitivity
        if folder.discovery is not None:
            tables[f"discovery {folder.name}"] = folder.discovery
    return tables


def _explore_subtitle(section: ExploreSection, lang: str) -> str:
    """What an experiment ran, in a line."""
    return label("explore_sub", lang).format(
        points=section.points,
        replications=section.replications,
        design=section.design,
        seed=section.seed,
        base=section.base_files,
        ranked_by=section.ranked_by,
    )


def _contents(sections: Sequence[tuple[str, str, bool]]) -> list[tuple[str, str]]:
    """The table of contents: (anchor, heading) of each section present."""
    return [(anchor, heading) for anchor, heading, present in sections if present]


def build_html(
    comparison: Comparison,
    year: int,
    lang: str,
    charts: Iterable[tuple[str, Path]],
    compared: ComparisonTables,
    explorations: Sequence[ExploreFolder] = (),
    brief: BriefPage | None = None,
    no_brief: str = "",
) -> str:
    """The report as one HTML string with every chart embedded: the budget brief
    (``brief``; else ``no_brief`` says why there is none) and a table of contents first."""
    card = compared.scorecard
    card = side_by_side(
        card[card.year == year], ["target", "year"], "probability", comparison.names
    )
    names = comparison.baseline.cluster_names
    card["target"] = [target_label(str(target), names, lang) for target in card["target"]]
    diff = side_by_side(compared.input_diff, ["key"], "value", comparison.names)
    base, others = comparison.names[0], comparison.names[1:]
    note = (
        label("answer_note", lang).format(others=", ".join(others), base=base)
        if others
        else label("answer_note_single", lang)
    )
    provenance, details = _provenance(comparison, lang)
    labels = {
        key: label(key, lang)
        for key in (
            "scenarios",
            "input_diff",
            "no_diff",
            "scorecard",
            "plots",
            "provenance",
            "contents",
            "scorecard_note",
            "backtest_title",
        )
    }
    labels["explore"] = label("explore_title", lang)
    labels["brief"] = label("brief_title", lang)
    backtests = _backtests(comparison, lang)
    answer_heading = label("answer_title", lang).format(year=year)
    sections = [
        ("brief", labels["brief"], True),
        ("answer", answer_heading, True),
        ("scenarios", labels["scenarios"], True),
        ("inputs", labels["input_diff"], True),
        ("scorecard", f"{labels['scorecard']} {year}", True),
        ("explore", labels["explore"], bool(explorations)),
        ("charts", labels["plots"], True),
        ("backtest", labels["backtest_title"], bool(backtests)),
        ("provenance", labels["provenance"], True),
    ]
    return render(
        "report.html.j2",
        lang=lang,
        generator=GENERATOR,
        title=label("report_title", lang),
        names=" vs ".join(comparison.names),
        made=label("report_made", lang).format(
            created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        ),
        year=year,
        labels=labels,
        contents=_contents(sections),
        brief=brief,
        brief_chart=brief_chart_src(brief) if brief is not None else None,
        no_brief=no_brief,
        answer=Answer(
            heading=answer_heading,
            headline=_headline(comparison, year, lang),
            tables=answer_tables(comparison, compared.clusters, lang),
            note=note,
        ),
        scenarios=_scenarios_table(comparison, lang),
        input_diff=frame_table(diff, lang) if not diff.empty else None,
        scorecard=frame_table(card.drop(columns="year"), lang),
        explorations=[
            (section, _explore_subtitle(section, lang))
            for section in explore_sections(explorations, lang)
        ],
        charts=[(title, image(path)) for title, path in charts],
        backtests=backtests,
        provenance=provenance,
        provenance_details=[
            (label("provenance_details", lang).format(name=name), table) for name, table in details
        ],
    )


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
