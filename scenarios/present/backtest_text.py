"""A backtest in a few lines for the terminal: the scored rows, the skipped ones, and per
sample (all years, or in and out of sample) the coverage, the mean CRPS per metric and the
skill against persistence; then the worst misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scenarios.analysis.backtest import BacktestSummary, SampleSummary, summarise
from scenarios.core.labels import column_label, label, label_or
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import written

SHOWN_COLUMNS = (
    "line",
    "cluster",
    "year",
    "metric",
    "value",
    "lower",
    "upper",
    "kind",
    "sample",
    "p10",
    "p50",
    "p90",
    "in_band",
    "pit",
    "probability",
    "crps",
    "reference_crps",
)


def _number(value: float, digits: str = ".2f", lang: str = "en") -> str:
    return label("n/a", lang) if not np.isfinite(value) else written(value, digits, lang)


def _skill_words(value: float, lang: str = "en") -> str:
    if not np.isfinite(value):
        return label("n/a", lang)
    verdict = label("beats_persistence" if value > 0 else "no_better_than_persistence", lang)
    return f"{written(value, '+.2f', lang)} ({verdict})"


def sample_title(sample: SampleSummary, split: int | None = None, lang: str = "en") -> str:
    """``in sample``, and with a split ``in sample (up to 2019)``."""
    title = label(f"sample.{sample.name}", lang)
    if split is not None:
        title += f" ({label('up_to' if sample.name == 'in' else 'after', lang).format(year=split)})"
    return title


def describe_sample(sample: SampleSummary, split: int | None, lang: str = "en") -> list[str]:
    """The lines of one sample: coverage, bounds, mean CRPS and skill."""
    crps = (
        ", ".join(f"{m} {written(c, '.3g', lang)}" for m, c in sample.crps_by_metric.items())
        if sample.crps_by_metric
        else label("no_values", lang)
    )
    skills = ", ".join(f"{m} {_number(v, '+.2f', lang)}" for m, v in sample.skill_by_metric.items())
    coverage = label("coverage_line", lang).format(
        coverage=_number(sample.coverage, lang=lang), values=sample.values_with_spread
    )
    spread = label("without_spread", lang).format(count=sample.no_spread)
    bounds = label("bounds_line", lang).format(inside=sample.bounds_in_band, bounds=sample.bounds)
    brier = label("brier_skill", lang).format(
        skill=_skill_words(sample.brier_skill, lang), rows=sample.brier_rows
    )
    skill = label("crps_skill_line", lang).format(
        skill=_skill_words(sample.skill, lang), rows=sample.skill_rows
    )
    return [
        f"{sample_title(sample, split, lang)}:",
        f"  {coverage}" + (f"; {spread}" if sample.no_spread else ""),
        f"  {bounds}" + (f"; {brier}" if sample.brier_rows else ""),
        f"  {label('mean_crps', lang).format(crps=crps)}",
        f"  {skill}" + (f" [{skills}]" if skills else ""),
    ]


def headline(summary: BacktestSummary, lang: str = "en") -> str:
    """One sentence per sample for a report: coverage, bounds and skill."""
    parts = []
    for sample in summary.samples:
        parts.append(
            label("backtest_headline", lang).format(
                sample=sample_title(sample, lang=lang),
                coverage=_number(sample.coverage, lang=lang),
                values=sample.values_with_spread,
                inside=sample.bounds_in_band,
                bounds=sample.bounds,
                skill=_skill_words(sample.skill, lang),
            )
        )
    parts.append(label("backtest_skipped", lang).format(skipped=summary.skipped))
    return " ".join(parts)


def status_text(status: str, lang: str = "en") -> str:
    """A skipped row's status (``skipped: undated``) in ``lang``."""
    kind, _, years = status.partition(": outside the run's years ")
    if years and kind == "skipped":
        return label("status.outside", lang).format(years=years)
    return label_or(f"status.{status.removeprefix('skipped: ')}", status, lang)


def _shown_table(scored: pd.DataFrame, split: int | None, lang: str) -> str:
    """The scored rows as a table (headings and yes/no in Swedish with ``sv``)."""
    shown = scored[[c for c in SHOWN_COLUMNS if c != "sample" or split is not None]]
    if lang != "en":
        shown = shown.assign(
            in_band=shown["in_band"].map(
                lambda v: v if pd.isna(v) else label("yes" if bool(v) else "no", lang)
            )
        ).rename(columns=lambda c: column_label(c, lang))
    return shown.to_string(index=False, float_format=lambda v: written(v, ".4g", lang), na_rep="")


def _observed(row: pd.Series, lang: str) -> str:
    """What was observed: a value, or its bounds (``≥ 300``)."""
    if pd.notna(row.value):
        return written(row.value, "g", lang)
    return f" {label('and', lang)} ".join(
        f"{word} {written(row[col], 'g', lang)}"
        for word, col in (("≥", "lower"), ("≤", "upper"))
        if pd.notna(row[col])
    )


def describe_backtest(
    table: pd.DataFrame,
    folder: Path,
    observations: Path,
    split: int | None = None,
    lang: str = "en",
) -> str:
    """The terminal view in ``lang``: the scored rows, the skipped ones, and the summary per
    sample."""
    summary = summarise(table)
    scored = table[table.status == "scored"]
    lines = [
        label("backtest_head", lang).format(
            folder=folder,
            observations=observations,
            scored=summary.scored,
            skipped=summary.skipped,
        ),
        _shown_table(scored, split, lang),
        "",
        label("backtest_scores_note", lang),
    ]
    for sample in summary.samples:
        lines += describe_sample(sample, split, lang)
    left_out = []
    if summary.not_observed.get("plan"):
        left_out.append(
            label("plan_rows", lang).format(
                count=summary.not_observed["plan"], inside=summary.plans_in_band
            )
        )
    if summary.not_observed.get("start"):
        left_out.append(label("start_rows", lang).format(count=summary.not_observed["start"]))
    if left_out:
        lines.append(label("shown_not_scored", lang) + "; ".join(left_out))
    if len(summary.worst):
        lines.append(label("worst_misses", lang))
        for _, row in summary.worst.iterrows():
            score_text = (
                f"PIT {written(row.pit, '.2f', lang)}"
                if pd.notna(row.pit)
                else f"{label('p_bound', lang)} {written(row.probability, '.2f', lang)}"
            )
            band = f"{written(row.p10, '.3g', lang)}–{written(row.p90, '.3g', lang)}"
            line = label("miss_line", lang).format(
                line=row.line,
                cluster=row.cluster,
                metric=row.metric,
                year=row.year,
                observed=_observed(row, lang),
                band=band,
                score=score_text,
            )
            lines.append(f"  {line}")
    skipped = table[table.status != "scored"]
    for status, rows in skipped.groupby("status", sort=True):
        lines.append(
            label("not_scored_lines", lang).format(
                status=status_text(str(status), lang), count=len(rows)
            )
            + ", ".join(str(line) for line in sorted(rows.line))
        )
    return "\n".join(lines)
