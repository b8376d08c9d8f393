"""The results folder: its file names, how it is written, and how it is read back.

It is written in a staging folder beside it, moved into place only when complete.

A folder in the way is refused unless ``force`` is given; with ``force`` the old
folder is replaced only after the new one is complete, so an interrupted or
failed run never leaves a half-written folder and never loses earlier results.
A staging folder is never read as results, and one left by a killed run is
removed by the next run into the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import itertools
import json
import math
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from scenarios.csv_format import csv_text
from scenarios.errors import UserError, stops_held
from scenarios.folder_check import (
    RUN_KIND,
    WORK_FOLDER,
    check_manifest,
    foreign,
    kind_name,
    no_empty_cells,
    read_table,
)
from scenarios.rounding import tidy_row
from scenarios.safe_text import terminal_safe
from scenarios.summary import SUMMARY_COLUMNS, SUMMARY_METRICS
from simulator.records import YEARLY_FIELDS

if TYPE_CHECKING:  # pandas only when a table is read back, matplotlib when a chart is drawn
    import pandas as pd

    from scenarios import plots

YEARLY_CSV = "yearly.csv"
ALLOCATION_CSV = "allocation.csv"
SUMMARY_CSV = "summary.csv"
SCORECARD_CSV = "scorecard.csv"
EVENTS_CSV = "events.csv"
MANIFEST_JSON = "manifest.json"
PLOTS_DIR = "plots"
FORMAT_VERSION = 1


def folder_name(text: str) -> str:
    """``text`` (a scenario name, say) as one harmless folder name: characters other than
    letters, digits, ``.``, ``-`` and ``_`` become ``_``, and it does not start with a dot."""
    return re.sub(r"[^\w.-]+", "_", text).lstrip(".") or "_"


def check_output_free(out: Path, force: bool) -> None:
    """Refuse an existing output folder unless ``force``; refuse a file in the way always."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file, not a results folder; choose another --out")
    if out.exists() and not force:
        raise UserError(
            f"{out}: results folder already exists; use --force to replace it or --out to write elsewhere"
        )


STAGING_NAME = re.compile(r"\.(?P<name>.+)\.partial-(?:(?P<pid>\d+)-)?.*")
"""A staging folder's name: ``.<results folder>.partial-<pid>-<random>`` (older ones lack the pid)."""


def results_folder_of(folder: Path) -> Path:
    """The results folder that ``folder`` becomes: itself, or for a staging folder its target."""
    staging = STAGING_NAME.fullmatch(folder.name)
    return folder.with_name(staging["name"]) if staging else folder


def relative_to_folder(file: str | Path, folder: Path) -> str:
    """``file`` as a path relative to ``folder`` (``/`` separators), for the manifest."""
    return Path(os.path.relpath(Path(file).resolve(), folder.resolve())).as_posix()


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (other clusterfund processes wait for it)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


class StagingFolder:
    """A temporary folder beside ``out`` that becomes ``out`` when the block succeeds.

    Its name, ``.<out name>.partial-<pid>-<random>``, says which process owns it: a
    run refuses an ``out`` that a live process is writing, and removes staging folders
    whose process has gone (killed with SIGKILL, say). The final rename happens under
    an ``flock`` of the parent folder, so of two runs into the same ``out`` one wins
    and the other refuses; a ``UserError`` then, and nothing of it is left.
    """

    def __init__(self, out: Path, force: bool) -> None:
        check_output_free(out, force)
        self.out = out
        self.force = force
        self.made = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
        """Parent folders this run creates (removed again if it fails)."""
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out.parent):
            for other in out.parent.glob(f".{glob.escape(out.name)}.partial-*"):
                staging = STAGING_NAME.fullmatch(other.name)
                if not (staging and staging["pid"] and other.is_dir()):
                    continue  # not ours to judge; never read as results anyway
                if _alive(int(staging["pid"])):
                    self._remove_made()
                    raise UserError(
                        f"{out}: another clusterfund run (process {staging['pid']}) is writing "
                        "it; wait for it to finish or choose another --out"
                    )
                shutil.rmtree(other, ignore_errors=True)  # left by a killed run
            self.path = Path(
                tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent)
            )

    def __enter__(self) -> StagingFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()
            return
        old = None
        with stops_held(), _locked(self.out.parent):
            try:
                check_output_free(self.out, self.force)
                if self.force and self.out.exists():
                    old = self.out.with_name(f".{self.out.name}.replaced-{os.getpid()}")
                    self.out.rename(old)
                try:
                    os.rename(self.path, self.out)  # fails if a folder with files is there
                except OSError as exc:
                    if old is not None:
                        old.rename(self.out)
                    raise UserError(
                        f"{self.out}: another run wrote this results folder first; "
                        "use --force to replace it or --out to write elsewhere"
                    ) from exc
            except BaseException:  # refused or failed: nothing of this run is left
                self.discard()
                raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the staging folder and any parent folder made for it (if still empty)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._remove_made()

    def _remove_made(self) -> None:
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:
                break


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header (floats rounded to ``DECIMALS`` places, as their shortest text)."""
    write_tidy_csv(path, header, (tidy_row(row) for row in rows))


def write_tidy_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header, rows whose floats are already rounded as
    :func:`scenarios.rounding.tidy` rounds them (the same file as :func:`write_csv` writes
    from them), quoted as :mod:`scenarios.csv_format` quotes."""
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
        "tool": "clusterfund",
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
        "tool": "clusterfund",
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
    (:func:`scenarios.folder_check.check_manifest`); else a ``UserError`` saying what the
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


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename it over ``path``,
    so a reader never sees half a file and a failure leaves the old one."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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
        from scenarios.plots import ChartContext

        return ChartContext(  # control characters would be missing glyphs
            title=terminal_safe(title),
            names={cid: terminal_safe(c["name"]) for cid, c in config["clusters"].items()},
            target_year=int(config["programme"]["target_year"]),
            min_members=int(config["scorecard"]["min_members"]),
            max_regional_share=float(config["scorecard"]["max_regional_share"]),
            lang=lang,
        )
