"""The results folder: its file names, its manifest, and how it is read back.

It is written through :mod:`scenarios.folders.publish` (staged beside it, moved into
place only when complete, replaced only with ``--force``). A staging folder is never
read as results.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.errors import UserError
from scenarios.folders.publish import MANIFEST_JSON, STAGING_NAME, TOOL, results_folder_of
from scenarios.rounding import tidy_row
from scenarios.safe_text import terminal_safe

if TYPE_CHECKING:  # pandas only when a table is read back, matplotlib when a chart is drawn
    import pandas as pd

    from scenarios import plots

YEARLY_CSV = "yearly.csv"
ALLOCATION_CSV = "allocation.csv"
SUMMARY_CSV = "summary.csv"
SCORECARD_CSV = "scorecard.csv"
EVENTS_CSV = "events.csv"
PLOTS_DIR = "plots"
FORMAT_VERSION = 1


def relative_to_folder(file: str | Path, folder: Path) -> str:
    """``file`` as a path relative to ``folder`` (``/`` separators), for the manifest."""
    return Path(os.path.relpath(Path(file).resolve(), folder.resolve())).as_posix()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header (floats rounded to ``DECIMALS`` places, as their shortest text)."""
    write_tidy_csv(path, header, (tidy_row(row) for row in rows))


def write_tidy_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header, rows whose floats are already rounded as
    :func:`scenarios.rounding.tidy` rounds them (the same file as :func:`write_csv` writes
    from them)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def config_sha256(resolved: dict[str, Any]) -> str:
    """SHA-256 of the resolved config as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def versions(solver: str, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of the tool, Python and the libraries that shape the numbers (and ``extra``)."""
    found = {"python": platform.python_version(), "solver": solver}
    for package in ("clusterfund", "numpy", "pandas", "pulp", "simpy", "highspy", *extra):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def job_source_fields(
    key: str, spec: Any, path: Path, base_files: Sequence[str], document: dict[str, Any]
) -> dict[str, Any]:
    """What an explore or optimise manifest says of the file it ran (``key``: ``experiment``
    or ``policy``): its name and description, file, resolved spec, and base config's files
    and sha256."""
    return {
        "name": spec.name,
        "description": spec.description,
        f"{key}_file": path.name,
        key: spec.model_dump(mode="json"),
        "base_files": [Path(f).name for f in base_files],
        "base_config_sha256": config_sha256(document),
    }


def write_job_manifest(
    folder: Path, kind: str, fields: dict[str, Any], packages: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``manifest.json`` of an explore or optimise folder: the common header, then ``fields``."""
    manifest = {
        "format": FORMAT_VERSION,
        "tool": TOOL,
        "kind": kind,
        "versions": versions("highs", packages),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
    }
    (folder / MANIFEST_JSON).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def write_manifest(
    folder: Path,
    *,
    resolved: dict[str, Any],
    provenance: dict[str, str],
    files: list[str],
    seed: int,
    runs: int,
    jobs: int,
    solver: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Write ``manifest.json``: everything needed to reproduce and to compare the run.

    ``folder`` may be the staging folder; the manifest names the results folder it
    becomes, and records the config files relative to that folder.
    """
    out = results_folder_of(folder)
    manifest = {
        "format": FORMAT_VERSION,
        "tool": TOOL,
        "name": resolved["name"],
        "description": resolved.get("description", ""),
        "config_sha256": config_sha256(resolved),
        "config_files": [relative_to_folder(file, out) for file in files],
        "seed": seed,
        "runs": runs,
        "jobs": jobs,
        "start_year": resolved["programme"]["start_year"],
        "horizon": resolved["programme"]["horizon"],
        "target_year": resolved["programme"]["target_year"],
        "versions": versions(solver),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "reproduce": f"clusterfund run {out.name}/{MANIFEST_JSON} --out <new folder>",
        **extra,
        "config": resolved,
        "provenance": provenance,
    }
    (folder / MANIFEST_JSON).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a results folder, or a ``UserError`` saying why it is not one."""
    path = folder / MANIFEST_JSON
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    if STAGING_NAME.fullmatch(folder.resolve().name):
        raise UserError(
            f"{folder}: the staging folder of an unfinished run (stopped, or still running), "
            "not a results folder"
        )
    if not path.exists():
        raise UserError(f"{path}: missing; {folder} is not a clusterfund results folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from exc
    if manifest.get("tool") != "clusterfund" or manifest.get("format") != FORMAT_VERSION:
        raise UserError(
            f"{path}: unknown results format (expected clusterfund format {FORMAT_VERSION})"
        )
    return manifest


@dataclass
class RunFolder:
    """A finished run: its manifest and its tables."""

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def open(cls, path: Path) -> RunFolder:
        """Open a results folder, refusing anything that is not one."""
        manifest = read_manifest(path)
        for name in (SUMMARY_CSV, SCORECARD_CSV, ALLOCATION_CSV):
            if not (path / name).is_file():
                raise UserError(f"{path / name}: missing; the results folder is incomplete")
        return cls(path, manifest)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    @cached_property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_csv(self.path / SUMMARY_CSV)

    @cached_property
    def scorecard(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_csv(self.path / SCORECARD_CSV)

    @cached_property
    def area_money(self) -> pd.DataFrame:
        """Mean arena money per innovation area (rows) and year (columns), MSEK."""
        import pandas as pd

        allocation = pd.read_csv(self.path / ALLOCATION_CSV, usecols=["year", "area", "funded"])
        runs = int(self.manifest["runs"])
        table = allocation.groupby(["area", "year"])["funded"].sum().unstack(fill_value=0.0)
        return table / runs

    def chart_context(self, lang: str = "en") -> plots.ChartContext:
        """Chart settings of this run."""
        config = self.config
        description = config.get("description", "")
        short = description.split(":")[0] if description else ""
        title = f"'{self.name}'" + (f" ({short})" if short and len(short) < 60 else "")
        from scenarios.plots import ChartContext

        return ChartContext(  # control characters would be missing glyphs
            title=terminal_safe(title),
            names={cid: terminal_safe(c["name"]) for cid, c in config["clusters"].items()},
            target_year=int(config["programme"]["target_year"]),
            min_members=int(config["scorecard"]["min_members"]),
            max_regional_share=float(config["scorecard"]["max_regional_share"]),
            lang=lang,
        )
