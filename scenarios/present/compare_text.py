"""A comparison in a few lines for the terminal: the inputs that differ, each cluster in
the year, baseline → other, and the scorecards."""

from __future__ import annotations

from scenarios.analysis.comparison import Comparison, ComparisonTables, figure
from scenarios.core.lazy import pandas as pd
from scenarios.core.text import terminal_safe
from scenarios.present.sheets import side_by_side

SHORT_DIFF_ROWS = 15


def _short_cluster_table(figures: pd.DataFrame, base: str, other: str) -> pd.DataFrame:
    """One cluster a row, baseline → ``other``, rounded for a terminal."""

    def value(metric: str, scenario: str) -> pd.Series:
        return figure(figures, metric, scenario)

    def delta(metric: str) -> pd.Series:
        return figure(figures, metric, other, "delta")

    return pd.DataFrame(
        {
            "members": value("members", base).round(0).astype(int),
            "→": value("members", other).round(0).astype(int),
            "Δ members": delta("members").round(0).astype(int),
            "regional %": (value("regional_share", base) * 100).round(1),
            "→ %": (value("regional_share", other) * 100).round(1),
            "Δ reserves": delta("reserves").round(2),
            "Δ arena": delta("arena_income").round(2),
            "P(closed)": value("closed", base).round(2),
            "→ P": value("closed", other).round(2),
        }
    )


def describe_comparison(comparison: Comparison, tables: ComparisonTables) -> str:
    """The short form: the input diff, each cluster in the year, the scorecard in the year."""
    base = comparison.names[0]
    year = tables.year
    diff = side_by_side(tables.input_diff, ["key"], "value", comparison.names)
    lines = [f"baseline: {base}; compared: {', '.join(comparison.names[1:])}", ""]
    lines.append(f"inputs that differ ({len(diff)} keys):")
    if diff.empty:
        lines.append("  (none: the inputs are identical)")
    else:
        lines.append(diff.head(SHORT_DIFF_ROWS).to_string(index=False))
        if len(diff) > SHORT_DIFF_ROWS:
            lines.append(f"  ... {len(diff) - SHORT_DIFF_ROWS} more in input_diff.csv")
    for other in comparison.names[1:]:
        lines += [
            "",
            f"clusters in {year}: {base} → {other} (P50; money in MSEK)",
            _short_cluster_table(tables.clusters, base, other).to_string(),
        ]
    card = tables.scorecard
    in_year = side_by_side(
        card[card.year == year], ["target", "year"], "probability", comparison.names
    )
    lines += [
        "",
        f"scorecard {year} (probability target met):",
        in_year.drop(columns="year").to_string(index=False),
    ]
    return terminal_safe("\n".join(lines))
