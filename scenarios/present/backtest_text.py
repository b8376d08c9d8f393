"""A backtest in a few lines for the terminal: the scored rows, the skipped ones, coverage,
the mean CRPS per metric and the worst misses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scenarios.analysis.backtest import summarise
from scenarios.folders.run_folder import BACKTEST_COLUMNS


def describe_backtest(table: pd.DataFrame, folder: Path, observations: Path) -> str:
    """The terminal view: the scored rows, the skipped ones, and the summary."""
    summary = summarise(table)
    scored = table[table.status == "scored"]
    shown = scored[[c for c in BACKTEST_COLUMNS if c not in ("status", "runs", "source", "note")]]
    lines = [
        f"backtest of {folder} against {observations}: {summary.scored} scored, "
        f"{summary.skipped} skipped",
        shown.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep=""),
        "",
        f"coverage of the P10–P90 band: {summary.coverage:.2f} "
        f"over {summary.values_with_spread} value(s) with spread (ideally 0.80); "
        f"{summary.no_spread} value(s) without spread (the same in every run, e.g. inputs) left out",
        f"bounds: {summary.bounds_in_band} of {summary.bounds} overlap the band",
        "mean CRPS: "
        + (
            ", ".join(f"{m} {c:.3g}" for m, c in summary.crps_by_metric.items())
            if summary.crps_by_metric
            else "no values scored"
        ),
    ]
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
