"""A backtest in a few lines for the terminal: the scored rows, the skipped ones, and per
sample (all years, or in and out of sample) the coverage, the mean CRPS per metric and the
skill against persistence; then the worst misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.analysis.backtest import BacktestSummary, SampleSummary, summarise

SAMPLE_TITLES = {"all": "all years", "in": "in sample", "out": "out of sample"}
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


def _number(value: float, digits: str = ".2f") -> str:
    return "n/a" if not np.isfinite(value) else format(value, digits)


def _skill_words(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    verdict = "beats persistence" if value > 0 else "no better than persistence"
    return f"{value:+.2f} ({verdict})"


def describe_sample(sample: SampleSummary, split: int | None) -> list[str]:
    """The lines of one sample: coverage, bounds, mean CRPS and skill."""
    title = SAMPLE_TITLES[sample.name]
    if split is not None:
        title += f" ({'up to' if sample.name == 'in' else 'after'} {split})"
    crps = (
        ", ".join(f"{m} {c:.3g}" for m, c in sample.crps_by_metric.items())
        if sample.crps_by_metric
        else "no values"
    )
    skills = ", ".join(f"{m} {_number(v, '+.2f')}" for m, v in sample.skill_by_metric.items())
    return [
        f"{title}:",
        f"  P10–P90 coverage {_number(sample.coverage)} over {sample.values_with_spread} "
        f"observed value(s) with spread (ideally 0.80)"
        + (f"; {sample.no_spread} without spread left out" if sample.no_spread else ""),
        f"  bounds: {sample.bounds_in_band} of {sample.bounds} overlap the band"
        + (
            f"; Brier skill against persistence {_skill_words(sample.brier_skill)} "
            f"over {sample.brier_rows}"
            if sample.brier_rows
            else ""
        ),
        f"  mean CRPS: {crps}",
        f"  CRPS skill against persistence: {_skill_words(sample.skill)} over "
        f"{sample.skill_rows} value(s) with an earlier figure" + (f" [{skills}]" if skills else ""),
    ]


def headline(summary: BacktestSummary) -> str:
    """One sentence per sample for a report: coverage, bounds and skill."""
    parts = []
    for sample in summary.samples:
        parts.append(
            f"{SAMPLE_TITLES[sample.name]}: P10–P90 coverage {_number(sample.coverage)} over "
            f"{sample.values_with_spread} observed value(s) with spread (ideally 0.80), "
            f"{sample.bounds_in_band} of {sample.bounds} bound(s) overlap the band, "
            f"CRPS skill against persistence {_skill_words(sample.skill)}."
        )
    parts.append(f"{summary.skipped} observation(s) skipped (outside the run's years or undated).")
    return " ".join(parts)


def describe_backtest(
    table: pd.DataFrame, folder: Path, observations: Path, split: int | None = None
) -> str:
    """The terminal view: the scored rows, the skipped ones, and the summary per sample."""
    summary = summarise(table)
    scored = table[table.status == "scored"]
    shown = scored[[c for c in SHOWN_COLUMNS if c != "sample" or split is not None]]
    lines = [
        f"backtest of {folder} against {observations}: {summary.scored} scored, "
        f"{summary.skipped} skipped",
        shown.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep=""),
        "",
        "Scores count observed rows only; skill compares the CRPS with that of persistence "
        "(the last earlier figure, spread by the observed yearly changes).",
    ]
    for sample in summary.samples:
        lines += describe_sample(sample, split)
    left_out = []
    if summary.not_observed.get("plan"):
        left_out.append(
            f"{summary.not_observed['plan']} plan row(s) ({summary.plans_in_band} inside the band)"
        )
    if summary.not_observed.get("start"):
        left_out.append(f"{summary.not_observed['start']} start row(s) (the model's inputs)")
    if left_out:
        lines.append("shown, not scored: " + "; ".join(left_out))
    if len(summary.worst):
        lines.append("worst misses:")
        for _, row in summary.worst.iterrows():
            observed = (
                f"{row.value:g}"
                if pd.notna(row.value)
                else " and ".join(
                    f"{word} {row[col]:g}"
                    for word, col in (("≥", "lower"), ("≤", "upper"))
                    if pd.notna(row[col])
                )
            )
            score_text = (
                f"PIT {row.pit:.2f}" if pd.notna(row.pit) else f"P(bound) {row.probability:.2f}"
            )
            lines.append(
                f"  line {row.line}: {row.cluster} {row.metric} {row.year}: observed {observed}, "
                f"P10–P90 {row.p10:.3g}–{row.p90:.3g}, {score_text}"
            )
    skipped = table[table.status != "scored"]
    for status, rows in skipped.groupby("status", sort=True):
        lines.append(
            f"{status} ({len(rows)}, not scored): lines "
            + ", ".join(str(line) for line in sorted(rows.line))
        )
    return "\n".join(lines)
