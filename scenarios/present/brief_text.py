"""A budget brief in words and one table, in English or Swedish: the content of the brief's
page (PDF or HTML, :mod:`scenarios.present.brief_page`) and of the top of the report.

Money first (what Region Skåne pays each cluster, base + arena money, over the programme's
years and in the target year), then survival (who leaves the programme, members), each
change with the P10–P90 band of its run-by-run difference; above the table two or three
generated sentences per scenario in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from scenarios.analysis.paired import Brief, Change
from scenarios.core.labels import label
from scenarios.core.numbers import number, span, years
from scenarios.present.difference_charts import draw_brief_bars
from simulator.outcomes import ALL_CLUSTERS

MAX_COMPARED = 3
"""Scenarios a one-page brief compares with the baseline (more do not fit an A4 page)."""
SAME_MONEY = 0.05
"""A change in MSEK below this reads as "the same" in a sentence (it rounds to 0.0)."""
NOTABLE_PROBABILITY = 0.05
"""A change in P(left) from which the most affected cluster is named."""


@dataclass(frozen=True)
class BriefCell:
    """A cell of the brief's table: the number, its band (below it, smaller) and its colour
    (``up``: better for the cluster, ``down``: worse)."""

    text: str
    band: str = ""
    css: str = ""


@dataclass(frozen=True)
class BriefTable:
    """Column groups (heading, how many columns), headings, and one row per cluster, the
    clusters together last."""

    groups: list[tuple[str, int]]
    head: list[str]
    rows: list[list[BriefCell]]


@dataclass(frozen=True)
class BriefPage:
    """Everything the page says, in one language."""

    lang: str
    title: str
    subtitle: str
    sentences: list[str]
    table: BriefTable
    notes: list[str] = field(default_factory=list)
    chart: Callable[[Any], None] | None = None
    """Draws the brief's chart (each cluster's change in money) on the matplotlib axes it is
    given; ``None`` for a lone run."""


def band_text(low: float, high: float, digits: int, lang: str) -> str:
    """A band as a reader writes it: ``10.8–11.5``, or ``−11.5 to −10.8`` when an end is
    negative (a dash between two minus signs reads as a subtraction)."""
    first, last = number(low, digits, lang), number(high, digits, lang)
    if low >= 0 or first == last:
        return span(first, last)
    return f"{first} {label('band_to', lang)} {last}"


def signed_band(found: Change, digits: int, lang: str, scale: float = 1.0) -> tuple[str, str]:
    """A change and its band, signed (``+0.30``, ``0.10–0.50``); nothing when missing."""
    delta = float(found.delta[0]) * scale
    if math.isnan(delta):
        return "", ""
    low, high = float(found.delta_p10[0]) * scale, float(found.delta_p90[0]) * scale
    return number(delta, digits, lang, sign=True), band_text(low, high, digits, lang)


def _money_sentence(brief: Brief, name: str, lang: str) -> str:
    found = brief.get(name, "regional_money", span=True)
    delta = float(found.delta[0])
    programme = years(brief.years.first, brief.years.target)
    if abs(delta) < SAME_MONEY:
        return label("say_same_money", lang).format(name=name, years=programme)
    if delta < 0:  # a saving: its band in saved money, smallest first
        low, high = -float(found.delta_p90[0]), -float(found.delta_p10[0])
        key = "say_saves"
    else:
        low, high = float(found.delta_p10[0]), float(found.delta_p90[0])
        key = "say_costs"
    return label(key, lang).format(
        name=name,
        amount=number(abs(delta), 1, lang),
        band=band_text(low, high, 1, lang),
        years=programme,
    )


def _lost_clause(brief: Brief, name: str, lang: str) -> str:
    before = float(brief.get(brief.names[0], "clusters_lost", span=False).value[0])
    after = float(brief.get(name, "clusters_lost", span=False).value[0])
    before_text, after_text = number(before, 1, lang), number(after, 1, lang)
    if before_text == after_text:
        key = "say_lost_same"
    else:
        key = "say_lost_up" if after > before else "say_lost_down"
    return label(key, lang).format(year=brief.years.target, before=before_text, after=after_text)


def _members_sentence(brief: Brief, name: str, lang: str) -> str:
    base = brief.get(brief.names[0], "members", span=False)
    found = brief.get(name, "members", span=False)
    delta = float(found.delta[0])
    before, after = number(float(base.value[0]), 0, lang), number(float(found.value[0]), 0, lang)
    year = brief.years.target
    if round(delta) == 0:
        return label("say_members_same", lang).format(
            name=name, year=year, base=brief.names[0], after=after
        )
    if delta < 0:
        low, high, key = -float(found.delta_p90[0]), -float(found.delta_p10[0]), "say_members_down"
    else:
        low, high, key = float(found.delta_p10[0]), float(found.delta_p90[0]), "say_members_up"
    return label(key, lang).format(
        name=name,
        year=year,
        amount=number(abs(delta), 0, lang),
        band=band_text(low, high, 0, lang),
        after=after,
        before=before,
    )


def _hardest_hit(brief: Brief, name: str, names: dict[str, str], lang: str) -> str | None:
    """The cluster whose P(left) changes most, when it changes notably."""
    clusters = brief.clusters[:-1]
    changes = [float(brief.get(name, "p_closed", False, c).delta[0]) for c in clusters]
    worst = max(range(len(clusters)), key=lambda i: (abs(changes[i]), -i))
    if abs(changes[worst]) < NOTABLE_PROBABILITY:
        return None
    cluster = clusters[worst]
    before = float(brief.get(brief.names[0], "p_closed", False, cluster).value[0])
    after = float(brief.get(name, "p_closed", False, cluster).value[0])
    return label("say_hardest", lang).format(
        name=name,
        cluster=names.get(cluster, cluster),
        year=brief.years.target,
        before=f"{number(before * 100, 0, lang)} %",
        after=f"{number(after * 100, 0, lang)} %",
    )


def brief_sentences(brief: Brief, names: dict[str, str], lang: str = "en") -> list[str]:
    """Two or three sentences per compared scenario, money first; one for a lone run."""
    if len(brief.names) == 1:
        name = brief.names[0]
        money = brief.get(name, "regional_money", span=True)
        target = brief.get(name, "regional_money", span=False)
        lost = brief.get(name, "clusters_lost", span=False)
        text = label("say_single", lang).format(
            name=name,
            amount=number(float(money.value[0]), 1, lang),
            band="",
            years=years(brief.years.first, brief.years.target),
            target_amount=number(float(target.value[0]), 1, lang),
            year=brief.years.target,
            lost=number(float(lost.value[0]), 1, lang),
        )
        return [text.replace(" ()", "")]
    sentences = []
    for name in brief.names[1:]:
        sentences.append(f"{_money_sentence(brief, name, lang)} {_lost_clause(brief, name, lang)}")
        sentences.append(_members_sentence(brief, name, lang))
        hardest = _hardest_hit(brief, name, names, lang)
        if hardest is not None:
            sentences.append(hardest)
    return sentences


def _heads(brief: Brief, lang: str) -> tuple[list[tuple[str, int]], list[str]]:
    programme = years(brief.years.first, brief.years.target)
    target = brief.years.target
    base_heads = [
        label("brief_money", lang).format(years=programme),
        label("brief_money", lang).format(years=target),
        label("brief_p_left", lang).format(year=target),
        label("brief_members", lang).format(year=target),
    ]
    other_heads = [
        label("brief_delta_money", lang).format(years=programme),
        label("brief_delta_money", lang).format(years=target),
        "Δ " + label("brief_p_left", lang).format(year=target),
        label("brief_delta_members", lang).format(year=target),
    ]
    groups = [("", 1), (brief.names[0], len(base_heads))]
    groups += [(name, len(other_heads)) for name in brief.names[1:]]
    heads = [label("cluster", lang), *base_heads, *other_heads * (len(brief.names) - 1)]
    return groups, heads


def _coloured(found: Change, good_when_up: bool, digits: int, scale: float = 1.0) -> str:
    """``up`` or ``down`` for a change that shows as a number other than 0 (to ``digits``
    decimals, after ``scale``), else nothing."""
    delta = float(found.delta[0]) * scale
    if math.isnan(delta) or round(delta, digits) == 0:
        return ""
    return "up" if (delta > 0) == good_when_up else "down"


def _row(brief: Brief, cluster: str, lang: str) -> list[BriefCell]:
    base = brief.names[0]

    def get(name: str, measure: str, in_span: bool = False) -> Change:
        return brief.get(name, measure, in_span, cluster)

    cells = [
        BriefCell(number(float(get(base, "regional_money", True).value[0]), 2, lang)),
        BriefCell(number(float(get(base, "regional_money").value[0]), 2, lang)),
        BriefCell(f"{number(float(get(base, 'p_closed').value[0]) * 100, 0, lang)} %"),
        BriefCell(number(float(get(base, "members").value[0]), 0, lang)),
    ]
    for name in brief.names[1:]:
        money = get(name, "regional_money", True)
        left, members = get(name, "p_closed"), get(name, "members")
        money_text, money_band = signed_band(money, 2, lang)
        left_text, left_band = signed_band(left, 0, lang, scale=100)
        members_text, members_band = signed_band(members, 0, lang)
        cells += [
            BriefCell(money_text, money_band),
            BriefCell(signed_band(get(name, "regional_money"), 2, lang)[0]),
            BriefCell(
                f"{left_text} {label('points', lang)}", left_band, _coloured(left, False, 0, 100)
            ),
            BriefCell(members_text, members_band, _coloured(members, True, 0)),
        ]
    return cells


def brief_table(brief: Brief, names: dict[str, str], lang: str = "en") -> BriefTable:
    """One row per cluster and one for all clusters: the baseline's money, P(left) and
    members, then each scenario's changes with their bands."""
    groups, heads = _heads(brief, lang)
    rows = []
    for cluster in brief.clusters:
        shown = label("all_clusters", lang) if cluster == ALL_CLUSTERS else names[cluster]
        rows.append([BriefCell(shown), *_row(brief, cluster, lang)])
    return BriefTable(groups, heads, rows)


def brief_page(
    brief: Brief, names: dict[str, str], lang: str, created: str, csv: str, folders: list[str]
) -> BriefPage:
    """The whole page: title, subtitle, sentences, table and notes, in ``lang``."""
    base = brief.names[0]
    if len(brief.names) > 1:
        against = label("brief_against", lang).format(others=", ".join(brief.names[1:]), base=base)
        subtitle = label("brief_subtitle", lang).format(runs=brief.runs)
    else:
        against, subtitle = base, label("brief_single_subtitle", lang).format(runs=brief.runs)
    notes = [label("brief_note_left", lang).format(year=brief.years.target)]
    if len(brief.names) > 1:
        notes.insert(0, label("brief_note_band", lang).format(base=base))
    notes.append(
        label("brief_note_source", lang).format(
            created=created, csv=csv, folders=", ".join(folders)
        )
    )
    return BriefPage(
        lang=lang,
        title=f"{label('brief_title', lang)}: {against}",
        subtitle=subtitle,
        sentences=brief_sentences(brief, names, lang),
        table=brief_table(brief, names, lang),
        notes=notes,
        chart=partial(draw_brief_bars, brief=brief, names=names, lang=lang)
        if len(brief.names) > 1
        else None,
    )
