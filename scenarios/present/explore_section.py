"""The report's "Which assumptions matter" section, from one or more explore folders."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from scenarios.analysis.sensitivity import ranking_column
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.present.explore_charts import draw_explore_plots
from scenarios.present.explore_text import TOP_INPUTS, describe_explore

SECTION_TITLE = {"en": "Which assumptions matter", "sv": "Vilka antaganden spelar roll"}


def _ranking_table(folder: ExploreFolder) -> pd.DataFrame:
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
                    "input": row["input"],
                    column: "" if pd.isna(value) else f"{value:.3f}",
                    "95 % CI": f"±{row[conf]:.3f}" if conf in row and pd.notna(row[conf]) else "",
                    "S1": f"{row['S1']:.3f}" if "S1" in row and pd.notna(row.get("S1")) else "",
                    "note": "" if pd.isna(row["note"]) else str(row["note"]),
                }
            )
    return pd.DataFrame(rows)


def explore_tables(folders: Sequence[ExploreFolder]) -> dict[str, pd.DataFrame]:
    """Workbook sheets (names not yet cut to Excel's rules): each experiment's sensitivity and discovery tables."""
    tables: dict[str, pd.DataFrame] = {}
    for folder in folders:
        tables[f"sensitivity {folder.name}"] = folder.sensitivity
        if folder.discovery is not None:
            tables[f"discovery {folder.name}"] = folder.discovery
    return tables


def explore_section(
    folders: Sequence[ExploreFolder],
    lang: str,
    table_html: Callable[[pd.DataFrame], str],
    image_html: Callable[[Path], str],
) -> str:
    """HTML of the section: per experiment, what it varied, the ranking, PRIM, charts."""
    if not folders:
        return ""
    parts = [f"<h2>{html.escape(SECTION_TITLE.get(lang, SECTION_TITLE['en']))}</h2>"]
    for folder in folders:
        manifest = folder.manifest
        parts.append(f"<h3>{html.escape(folder.name)}</h3>")
        parts.append(
            f'<p class="sub">{html.escape(str(manifest.get("description", "")))}<br>'
            f"{manifest['points']} points × {manifest['replications']} replications "
            f"({html.escape(folder.design)} design, seed {manifest['seed']}, base "
            f"{html.escape(', '.join(manifest.get('base_files', [])))}); inputs ranked by "
            f"{ranking_column(folder.design)} with bootstrap 95 % CIs.</p>"
        )
        parts.append(table_html(_ranking_table(folder)))
        parts.append(f"<pre>{html.escape(describe_explore(folder))}</pre>")
        with tempfile.TemporaryDirectory() as scratch:
            for path in draw_explore_plots(folder, Path(scratch)):
                if path.stem.startswith(("sensitivity_", "prim_")):
                    parts.append(image_html(path))
    return "\n".join(parts)
