"""The comparison folder (``compare --out``): one CSV per table (``input_diff.csv``,
``clusters_<year>.csv``, ``scorecard.csv``, ``deltas.csv``), ``plots/`` and a
``manifest.json`` of kind ``compare`` (which runs, which year)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from scenarios.core.lazy import pandas as pd
from scenarios.folders.checks import COMPARE_KIND
from scenarios.folders.manifest import write_job_manifest
from scenarios.folders.tables import frame_csv_text, tidy_frame


def write_compare_folder(
    folder: Path,
    sheets: Mapping[str, pd.DataFrame],
    scenarios: Sequence[str],
    runs: Sequence[Path],
    year: int,
) -> None:
    """Each sheet as ``<name>.csv`` (floats rounded as in a run's CSVs) and the manifest."""
    for name, sheet in sheets.items():
        (folder / f"{name}.csv").write_text(
            frame_csv_text(tidy_frame(sheet)), encoding="utf-8", newline=""
        )
    write_job_manifest(
        folder,
        COMPARE_KIND,
        {"scenarios": list(scenarios), "folders": [str(p) for p in runs], "year": year},
    )
