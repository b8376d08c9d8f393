"""``clusterfund compare``: two or more run folders against a baseline, written as a
comparison folder (tables: :mod:`scenarios.analysis.comparison`; as a reader sees them:
:mod:`scenarios.present.sheets`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenarios.analysis.comparison import (
    Comparison,
    ComparisonTables,
    comparison_tables,
    open_comparison,
    year_in_range,
)
from scenarios.core.errors import UserError
from scenarios.folders.compare_folder import write_compare_folder
from scenarios.folders.publish import MANIFEST_JSON, StagedFolder, default_folder
from scenarios.present.compare_charts import draw_comparison_plots
from scenarios.present.sheets import comparison_sheets


@dataclass(frozen=True)
class CompareRequest:
    """What the user asked ``clusterfund compare`` (or ``report``) to compare."""

    folders: tuple[Path, ...]
    baseline: Path | None = None
    """The folder the others are compared against [default: the first]."""
    year: int | None = None
    """The year of the per-cluster table [default: the target year]."""
    lang: str = "en"
    out: Path | None = None
    """Where to write [default: ``results/compare_<a>_vs_<b>``; ``report``: required]."""
    force: bool = False


@dataclass(frozen=True)
class Compared:
    """The runs compared, in the year asked, and their tables."""

    comparison: Comparison
    tables: ComparisonTables


def open_compared(request: CompareRequest, command: str, least: int) -> Compared:
    """Open and check the folders (at least ``least`` of them; ``command`` is named in the
    message for a folder of another kind) and build the tables."""
    if len(request.folders) < least:
        raise UserError(f"{command} needs at least {least} results folders")
    comparison = open_comparison(request.folders, request.baseline, command)
    year = year_in_range(
        comparison, request.year or int(comparison.baseline.manifest["target_year"])
    )
    return Compared(comparison, comparison_tables(comparison, year))


def compare(request: CompareRequest) -> tuple[Compared, Path]:
    """Compare the folders and write the comparison folder; (what was compared, its path)."""
    compared = open_compared(request, "compare", least=2)
    comparison = compared.comparison
    out = request.out or default_folder("compare_" + "_vs_".join(r.name for r in comparison.runs))
    reads = [run.path / MANIFEST_JSON for run in comparison.runs]  # never replace a run
    with StagedFolder(out, request.force, reads) as staging:
        write_compare_folder(
            staging.path,
            comparison_sheets(compared.tables, comparison.names),
            comparison.names,
            [run.path for run in comparison.runs],
            compared.tables.year,
        )
        draw_comparison_plots(comparison, staging.path / "plots", request.lang)
    return compared, out
