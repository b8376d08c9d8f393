"""The manifest every results folder of this tool holds (``manifest.json``), and the
fingerprint of a job's work: one writer, one reader, one hash.

A run folder's manifest records everything that reproduces the run (the resolved config,
its sha256, seed, runs, versions); an explore, optimise or comparison folder's records its
``kind`` and what it ran. :func:`read_manifest` refuses anything that is not a complete
manifest of the expected kind, in one line naming what the folder is instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from scenarios.core.errors import UserError
from scenarios.folders.checks import RUN_KIND, WORK_FOLDER, check_manifest, foreign, kind_name
from scenarios.folders.publish import MANIFEST_JSON, STAGING_NAME, TOOL, results_folder_of

FORMAT_VERSION = 1


def _written(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    (folder / MANIFEST_JSON).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def fingerprint(spec: dict[str, Any], document: dict[str, Any], extra: bytes = b"") -> str:
    """What a job's saved work depends on: the study file as resolved (``spec``), the base
    document, ``extra`` (an explore's points) and the tool's version. A ``--resume`` with
    another fingerprint is refused, so work of different jobs never mixes."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    digest.update(config_sha256(document).encode())
    digest.update(extra)
    digest.update(metadata.version("clusterfund").encode())
    return digest.hexdigest()


def relative_to_folder(file: str | Path, folder: Path) -> str:
    """``file`` as a path relative to ``folder`` (``/`` separators), for the manifest."""
    return Path(os.path.relpath(Path(file).resolve(), folder.resolve())).as_posix()


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
    return _written(folder, manifest)


def parameter_sets_record(resolved: dict[str, Any], runs: int) -> dict[str, Any]:
    """What the manifest says of the parameter sets the runs used (nothing without sets):
    the file, K, and each run's set (run r uses set r mod K; the sets' values are in
    ``config.parameter_sets``)."""
    sets = resolved.get("parameter_sets")
    if not sets:
        return {}
    count = len(sets["values"])
    return {
        "parameter_sets": {
            "file": Path(sets["file"]).name,
            "sets": count,
            "keys": sets["keys"],
            "rule": "run r uses set r mod sets",
            "set_of_run": [run % count for run in range(runs)],
        }
    }


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
        **parameter_sets_record(resolved, runs),
        **extra,
        "config": resolved,
        "provenance": provenance,
    }
    return _written(folder, manifest)


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
        manifest.get("tool") != TOOL or manifest.get("format") != FORMAT_VERSION
    ):
        raise UserError(
            foreign(
                folder,
                f"unknown results format (tool {json.dumps(manifest.get('tool'))}, format "
                f"{json.dumps(manifest.get('format'))}; expected clusterfund format {FORMAT_VERSION})",
            )
        )
    return check_manifest(folder, manifest, kind, command)
