"""The results folder: its file names, its manifest, and how it is read back.

It is written through :mod:`scenarios.folders.publish` (staged beside it, moved into
place only when complete, replaced only with ``--force``). A staging folder is never
read as results.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.core.errors import UserError
from scenarios.core.text import terminal_safe
from scenarios.engine.summary import SUMMARY_COLUMNS, SUMMARY_METRICS
from scenarios.folders.checks import (
    RUN_KIND,
    WORK_FOLDER,
    check_manifest,
    foreign,
    kind_name,
    no_empty_cells,
    read_table,
)
from scenarios.folders.csv_text import csv_text
from scenarios.folders.publish import MANIFEST_JSON, STAGING_NAME, TOOL, results_folder_of
from scenarios.folders.rounding import tidy_row
from simulator.records import YEARLY_FIELDS

if TYPE_CHECKING:  # pandas only when a table is read back, matplotlib when a chart is drawn
    import pandas as pd

    from scenarios.present import run_charts as plots

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
    :func:`scenarios.folders.rounding.tidy` rounds them (the same file as :func:`write_csv` writes
    from them), quoted as :mod:`scenarios.folders.csv_text` quotes."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(csv_text(itertools.chain([header], rows)))


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


def read_manifest(folder: Path, kind: str = RUN_KIND, command: str | None = None) -> dict[str, Any]:
    """The manifest of a results folder of ``kind``, with every field its readers use
    (:func:`scenarios.folders.checks.check_manifest`); else a ``UserError`` saying what the
    folder is instead (with what ``command`` takes, when given)."""
    takes = f"; {command} takes {kind_name(kind)}" if command else ""
    path = folder / MANIFEST_JSON
    if not folder.is_dir():
        what = "a file" if folder.exists() else "missing"
        raise UserError(f"{folder}: {what}, not a results folder{takes}")
    name = folder.resolve().name
    if STAGING_NAME.fullmatch(name):
        raise UserError(
            f"{folder}: the staging folder of an unfinished run (stopped, or still running), "
            f"not a results folder{takes}"
        )
    if WORK_FOLDER.fullmatch(name) and not path.exists():
        raise UserError(
            f"{folder}: the work folder of an unfinished explore or optimise (finish it with "
            f"--resume), not a results folder{takes}"
        )
    if not path.is_file():
        raise UserError(f"{path}: missing; {folder} is not a clusterfund results folder{takes}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        raise UserError(foreign(folder, f"{MANIFEST_JSON} is not valid JSON ({exc})")) from None
    if isinstance(manifest, dict) and (
        manifest.get("tool") != "clusterfund" or manifest.get("format") != FORMAT_VERSION
    ):
        raise UserError(
            foreign(
                folder,
                f"unknown results format (tool {json.dumps(manifest.get('tool'))}, format "
                f"{json.dumps(manifest.get('format'))}; expected clusterfund format {FORMAT_VERSION})",
            )
        )
    return check_manifest(folder, manifest, kind, command)


@dataclass
class RunFolder:
    """A finished run: its manifest and its tables, each checked when first read (the
    columns its readers use, numbers where numbers belong, every run × year × cluster
    of the manifest there once)."""

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def open(cls, path: Path, command: str | None = None) -> RunFolder:
        """Open a results folder, refusing anything that is not one (naming what it is, and
        what ``command`` takes, when it is a folder of another kind)."""
        manifest = read_manifest(path, RUN_KIND, command)
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

    @property
    def years(self) -> list[int]:
        """The simulated years, from the manifest."""
        return list(range(int(self.manifest["start_year"]), int(self.manifest["horizon"]) + 1))

    @property
    def clusters(self) -> list[str]:
        """The cluster ids, in config order."""
        return list(self.config["clusters"])

    @cached_property
    def summary(self) -> pd.DataFrame:
        """``summary.csv``: every year × cluster × metric once, each statistic a number."""
        numeric = ["year", *SUMMARY_COLUMNS[3:]]
        table = self._table(SUMMARY_CSV, numeric, ["cluster", "metric"], SUMMARY_COLUMNS[:3])
        no_empty_cells(self.path, SUMMARY_CSV, table, numeric)
        self._complete(
            SUMMARY_CSV,
            table,
            {"year": self.years, "cluster": self.clusters, "metric": list(SUMMARY_METRICS)},
        )
        return table

    @cached_property
    def scorecard(self) -> pd.DataFrame:
        """``scorecard.csv``: each target × year once, with a probability and a mean value."""
        numeric = ["year", "probability", "mean_value"]
        table = self._table(SCORECARD_CSV, numeric, ["target"], ["target", "year"])
        no_empty_cells(self.path, SCORECARD_CSV, table, numeric)
        self._outside(SCORECARD_CSV, table, "year", self.years)
        return table

    @cached_property
    def yearly(self) -> pd.DataFrame:
        """``yearly.csv``: every run × year × cluster of the manifest once, each figure a
        number (a file cut short is refused, not read as fewer runs)."""
        numeric = ["run", "year", *(name for name, _ in YEARLY_FIELDS if name != "status")]
        unique = ["run", "year", "cluster"]
        table = self._table(YEARLY_CSV, numeric, ["cluster", "status"], unique)
        no_empty_cells(self.path, YEARLY_CSV, table, [*numeric, "status"])
        runs = list(range(int(self.manifest["runs"])))
        self._complete(
            YEARLY_CSV, table, {"run": runs, "year": self.years, "cluster": self.clusters}
        )
        return table

    @cached_property
    def area_money(self) -> pd.DataFrame:
        """Mean arena money per innovation area (rows) and year (columns), MSEK."""
        allocation = self._table(ALLOCATION_CSV, ["year", "funded"], ["area"], rows_required=False)
        no_empty_cells(self.path, ALLOCATION_CSV, allocation, ["year", "funded"])
        runs = int(self.manifest["runs"])
        table = allocation.groupby(["area", "year"])["funded"].sum().unstack(fill_value=0.0)
        return table / runs

    def _table(
        self,
        name: str,
        numeric: Sequence[str],
        text: Sequence[str],
        unique: Sequence[str] = (),
        rows_required: bool = True,
    ) -> pd.DataFrame:
        """A table of this folder (text columns read as text: a cluster id ``NA`` or ``1``
        stays one)."""
        return read_table(
            self.path,
            name,
            numeric,
            text,
            unique,
            rows_required=rows_required,
            dtype={column: str for column in text},
            keep_default_na=False,
        )

    def _outside(self, name: str, table: pd.DataFrame, column: str, allowed: list[Any]) -> None:
        """Refuse a value of ``column`` that is not one of the run's (``allowed``)."""
        outside = ~table[column].isin(allowed)
        if outside.any():
            row = int(outside.to_numpy().argmax())
            value = table[column].iloc[row]
            value = json.dumps(
                value.item() if hasattr(value, "item") else value, ensure_ascii=False
            )
            raise UserError(
                foreign(
                    self.path, f"{name} row {row + 1}: {column} {value} is not one of the run's"
                )
            )

    def _complete(self, name: str, table: pd.DataFrame, keys: dict[str, list[Any]]) -> None:
        """Refuse a table (its rows unique by ``keys``) that lacks one of the combinations of
        the ``keys``' values, or holds another."""
        for column, allowed in keys.items():
            self._outside(name, table, column, allowed)
        expected = math.prod(len(allowed) for allowed in keys.values())
        if len(table) != expected:
            counts = " × ".join(f"{len(allowed)} {column}s" for column, allowed in keys.items())
            raise UserError(
                f"{self.path}: {name} has {len(table)} rows where the manifest's {counts} make "
                f"{expected}; the file was cut short or edited (run the scenario again)"
            )

    def chart_context(self, lang: str = "en") -> plots.ChartContext:
        """Chart settings of this run."""
        config = self.config
        description = config.get("description", "")
        short = description.split(":")[0] if description else ""
        title = f"'{self.name}'" + (f" ({short})" if short and len(short) < 60 else "")
        from scenarios.present.run_charts import ChartContext

        return ChartContext(  # control characters would be missing glyphs
            title=terminal_safe(title),
            names={cid: terminal_safe(c["name"]) for cid, c in config["clusters"].items()},
            target_year=int(config["programme"]["target_year"]),
            min_members=int(config["scorecard"]["min_members"]),
            max_regional_share=float(config["scorecard"]["max_regional_share"]),
            lang=lang,
        )
