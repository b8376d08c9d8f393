"""The explore folder: its file names, its writers, and its reader.

- ``experiments.csv``: one row per point, the number each input's runs used;
- ``outcomes.csv``: mean, P10, P50, P90 and sd over the replications per point × outcome;
- ``sensitivity.csv``: per outcome × input the design's indices and a rank;
- ``discovery.csv`` (with ``[discover]``): PRIM's peeling trajectory, the chosen box marked;
- with ``[calibrate]``: ``calibration.csv`` (each observation at the best point and the
  base), ``not_ruled_out.csv`` (each wave's points within the cutoff, best first),
  ``waves.csv`` (per wave its box, points and points not ruled out), ``parameter_sets.csv``
  (the last wave's points not ruled out as config overrides, exact) and ``calibrated.toml``
  (the best point as a scenario);
- ``manifest.json`` (kind ``explore``) and ``plots/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scenarios.config.experiment import Experiment
from scenarios.config.observations import Target
from scenarios.config.parameter_sets_file import SET_COLUMN
from scenarios.config.scenario_file import ScenarioFile
from scenarios.core.errors import UserError
from scenarios.core.lazy import pandas as pd
from scenarios.folders.checks import EXPLORE_KIND, read_table
from scenarios.folders.manifest import job_source_fields, read_manifest, write_job_manifest
from scenarios.folders.publish import MANIFEST_JSON
from scenarios.folders.tables import write_csv, write_tidy_csv
from simulator.outcomes import STATS

EXPERIMENTS_CSV = "experiments.csv"
OUTCOMES_CSV = "outcomes.csv"
SENSITIVITY_CSV = "sensitivity.csv"
DISCOVERY_CSV = "discovery.csv"
CALIBRATION_CSV = "calibration.csv"
NOT_RULED_OUT_CSV = "not_ruled_out.csv"
CALIBRATED_TOML = "calibrated.toml"
WAVES_CSV = "waves.csv"
PARAMETER_SETS_CSV = "parameter_sets.csv"
PARAMETER_SET_COLUMN = SET_COLUMN
"""The first column of ``parameter_sets.csv`` (0 .. K-1), as a scenario's set file has it
(:mod:`scenarios.config.parameter_sets_file`); the concrete config keys follow."""
KIND = EXPLORE_KIND
SENSITIVITY_HEAD = ("outcome", "stat", "input")
"""The first columns of ``sensitivity.csv``; the design's index columns, ``rank`` and ``note``
follow."""


class PeelingStepRow(Protocol):
    """One step of PRIM's peeling trajectory, as ``discovery.csv`` records it."""

    index: int
    coverage: float
    density: float
    mass: float
    restricted: int
    limits: dict[str, tuple[float, float]]


class ImplausibilityTable(Protocol):
    """Implausibility of every point (the base scenario last), as the calibration files
    record it (:class:`scenarios.analysis.calibration.CalibrationResult`)."""

    values: np.ndarray
    largest: np.ndarray
    mean: np.ndarray
    used: np.ndarray
    not_ruled_out: np.ndarray
    best: int


def write_experiments(folder: Path, names: Sequence[str], rows: Sequence[Sequence[float]]) -> None:
    """``experiments.csv``: per point the number each input's runs used."""
    write_csv(
        folder / EXPERIMENTS_CSV, ("point", *names), ((p, *row) for p, row in enumerate(rows))
    )


def write_outcomes(folder: Path, outcome_names: Sequence[str], stats: np.ndarray) -> None:
    """``outcomes.csv``: every statistic of every outcome per point (``stats``: points ×
    outcomes × ``STATS``)."""
    write_csv(
        folder / OUTCOMES_CSV,
        ("point", "outcome", *STATS),
        (
            (p, outcome, *map(float, stats[p, o]))
            for p in range(len(stats))
            for o, outcome in enumerate(outcome_names)
        ),
    )


def write_sensitivity(folder: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``sensitivity.csv``: per outcome × input its indices (``columns``), rank and note."""
    write_csv(folder / SENSITIVITY_CSV, (*SENSITIVITY_HEAD, *columns, "rank", "note"), rows)


def write_discovery(
    folder: Path, names: Sequence[str], steps: Sequence[PeelingStepRow], chosen: int
) -> None:
    """``discovery.csv``: the PRIM peeling trajectory, one row per step, the chosen box marked."""
    header = (
        "step",
        "coverage",
        "density",
        "mass",
        "restricted",
        "chosen",
        *[f"{n}:{end}" for n in names for end in ("low", "high")],
    )
    write_csv(
        folder / DISCOVERY_CSV,
        header,
        (
            (
                step.index,
                step.coverage,
                step.density,
                step.mass,
                step.restricted,
                int(step.index == chosen),
                *[v for n in names for v in step.limits[n]],
            )
            for step in steps
        ),
    )


@dataclass(frozen=True)
class WaveRow:
    """One wave of a calibration as the tables record it: its number, its points'
    implausibility and their inputs' values (points × inputs)."""

    number: int
    table: ImplausibilityTable
    values: np.ndarray


def plausible_order(table: ImplausibilityTable) -> np.ndarray:
    """The points not ruled out, the most plausible first: by largest, then mean
    implausibility, then point."""
    kept = np.flatnonzero(table.not_ruled_out)
    return kept[np.lexsort((kept, table.mean[kept], table.largest[kept]))]


def write_calibration_tables(
    folder: Path,
    targets: Sequence[Target],
    table: ImplausibilityTable,
    stats: np.ndarray,
    wave: int,
    input_names: Sequence[str],
    waves: Sequence[WaveRow],
) -> None:
    """``calibration.csv`` (per observation: the mean and implausibility at the best point of
    ``table``, from wave ``wave``, and at the base, the last row of ``stats``) and
    ``not_ruled_out.csv`` (wave by wave, the points within the cutoff, the most plausible
    first: :func:`plausible_order`; ``point`` numbers a point in its wave's design)."""
    best, base = table.best, len(stats) - 1
    mean = stats[:, :, STATS.index("mean")]
    write_csv(
        folder / CALIBRATION_CSV,
        (
            "observation",
            "observed",
            "held_out",
            "mean_at_best",
            "implausibility_at_best",
            "mean_at_base",
            "implausibility_at_base",
            "source",
            "wave",
        ),
        (
            (
                t.name,
                t.observed(),
                int(t.held_out),
                float(mean[best, j]),
                float(table.values[best, j]),
                float(mean[base, j]),
                float(table.values[base, j]),
                t.observation.source,
                wave,
            )
            for j, t in enumerate(targets)
        ),
    )
    write_csv(
        folder / NOT_RULED_OUT_CSV,
        (
            "point",
            *input_names,
            "largest_implausibility",
            "mean_implausibility",
            "largest_held_out_implausibility",
            "wave",
        ),
        (
            (
                int(p),
                *map(float, row.values[p]),
                float(row.table.largest[p]),
                float(row.table.mean[p]),
                float(row.table.values[p, ~row.table.used].max())
                if (~row.table.used).any()
                else "",
                row.number,
            )
            for row in waves
            for p in plausible_order(row.table)
        ),
    )


def write_waves(
    folder: Path,
    input_names: Sequence[str],
    waves: Sequence[tuple[int, int, int, int, np.ndarray, np.ndarray]],
    stopped: str,
) -> None:
    """``waves.csv``: per wave (number, design seed, points, points not ruled out, box low
    and high per input) its row; ``note`` on the last says why the waves stopped early."""
    header = (
        "wave",
        "seed",
        "points",
        "not_ruled_out",
        *[f"{n}:{end}" for n in input_names for end in ("low", "high")],
        "note",
    )
    write_csv(
        folder / WAVES_CSV,
        header,
        (
            (
                number,
                seed,
                points,
                kept,
                *[float(v) for j in range(len(input_names)) for v in (low[j], high[j])],
                stopped if i == len(waves) - 1 else "",
            )
            for i, (number, seed, points, kept, low, high) in enumerate(waves)
        ),
    )


def write_parameter_sets(folder: Path, sets: Sequence[dict[str, Any]]) -> None:
    """``parameter_sets.csv``: one row per set (``set`` 0 .. K-1), then each concrete config
    key's value, floats as their shortest exact text (``repr``: they read back to the same
    number, never rounded). With no set left the file holds the header ``set`` only."""
    keys = list(sets[0]) if sets else []
    write_tidy_csv(
        folder / PARAMETER_SETS_CSV,
        (PARAMETER_SET_COLUMN, *keys),
        ((k, *(values[key] for key in keys)) for k, values in enumerate(sets)),
    )


def write_calibrated_scenario(folder: Path, scenario: ScenarioFile, final: Path) -> None:
    """``calibrated.toml`` in ``folder`` (staging for ``final``, which ``extends`` is
    relative to)."""
    (folder / CALIBRATED_TOML).write_text(scenario.text(final), encoding="utf-8")


def write_explore_manifest(
    folder: Path,
    experiment: Experiment,
    points: int,
    backend: str,
    wave_points: Sequence[int] = (),
) -> dict[str, Any]:
    """``manifest.json`` of an explore folder (``backend``: where the points ran;
    ``wave_points``: with ``[calibrate]``, the points of each wave run, wave 1's the
    design's, recorded with the runs of the whole calibration, the base's included)."""
    spec = experiment.spec
    fields = {
        **job_source_fields(
            "experiment",
            spec,
            experiment.path,
            experiment.base.files if experiment.base else [],
            experiment.document,
        ),
        "design": spec.design,
        "points": points,
        "replications": spec.replications,
        "runs": points * spec.replications,
        "seed": spec.seed,
        "horizon": experiment.document.get("programme", {}).get("horizon"),
        "inputs": {
            i.name: {"keys": list(i.keys), **i.spec.model_dump(mode="json")}
            for i in experiment.inputs
        },
        "backend": backend,
        "base_config": experiment.document,
    }
    if wave_points:
        fields["calibration_waves"] = {
            "points": list(wave_points),
            "runs": (sum(wave_points) + 1) * spec.replications,
        }
    return write_job_manifest(
        folder, KIND, fields, ("SALib", "ema_workbench", "dask", "distributed")
    )


def is_explore_folder(path: Path) -> bool:
    """Whether ``path``'s manifest says it is an explore folder (anything unreadable is
    left to the reader of the kind it is taken for, which names what is wrong)."""
    try:
        manifest = json.loads((path / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == KIND


@dataclass
class ExploreFolder:
    """A finished explore folder: its manifest and tables."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: Path, command: str | None = None) -> ExploreFolder:
        """Open an explore folder, refusing anything that is not a complete one (naming
        what it is, and what ``command`` takes, when it is a folder of another kind)."""
        manifest = read_manifest(path, KIND, command)
        for name in (EXPERIMENTS_CSV, OUTCOMES_CSV, SENSITIVITY_CSV):
            if not (path / name).is_file():
                raise UserError(f"{path / name}: missing; the explore folder is incomplete")
        return cls(path, manifest)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def design(self) -> str:
        return str(self.manifest["design"])

    @property
    def input_labels(self) -> dict[str, str]:
        """Uncertain input key → the ``label`` the experiment file gives it (where it does)."""
        uncertain = self.manifest.get("experiment", {}).get("uncertain", {})
        return {key: str(p["label"]) for key, p in uncertain.items() if p.get("label")}

    @cached_property
    def experiments(self) -> pd.DataFrame:
        """``experiments.csv``: one row per point, a number per input of the manifest."""
        numeric = ["point", *self.manifest["inputs"]]
        return read_table(self.path, EXPERIMENTS_CSV, numeric, unique=["point"])

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """``outcomes.csv``: each statistic per point × outcome."""
        return read_table(
            self.path,
            OUTCOMES_CSV,
            ["point", *STATS],
            ["outcome"],
            ["point", "outcome"],
            dtype={"outcome": str},
        )

    @cached_property
    def sensitivity(self) -> pd.DataFrame:
        """``sensitivity.csv``: each input's indices and rank per outcome."""
        text = ["outcome", "stat", "input"]
        return read_table(
            self.path,
            SENSITIVITY_CSV,
            ["rank"],
            [*text, "note"],
            ["outcome", "input"],
            dtype=dict.fromkeys(text, str),
        )

    @cached_property
    def discovery(self) -> pd.DataFrame | None:
        path = self.path / DISCOVERY_CSV
        return pd.read_csv(path) if path.is_file() else None

    @cached_property
    def calibration(self) -> pd.DataFrame | None:
        """``calibration.csv``, when the experiment calibrated."""
        path = self.path / CALIBRATION_CSV
        return pd.read_csv(path, keep_default_na=False) if path.is_file() else None

    @cached_property
    def not_ruled_out(self) -> pd.DataFrame | None:
        """``not_ruled_out.csv``, when the experiment calibrated."""
        path = self.path / NOT_RULED_OUT_CSV
        return pd.read_csv(path) if path.is_file() else None

    @cached_property
    def waves(self) -> pd.DataFrame | None:
        """``waves.csv``, when the experiment calibrated."""
        path = self.path / WAVES_CSV
        return pd.read_csv(path, keep_default_na=False) if path.is_file() else None

    @cached_property
    def parameter_sets(self) -> pd.DataFrame | None:
        """``parameter_sets.csv``, when the experiment calibrated."""
        path = self.path / PARAMETER_SETS_CSV
        return pd.read_csv(path) if path.is_file() else None

    def ranked(self, outcome: str) -> pd.DataFrame:
        """The sensitivity rows of one outcome, most influential input first."""
        rows = self.sensitivity[self.sensitivity["outcome"] == outcome]
        return rows.sort_values("rank")

    def input_bounds(self, name: str) -> tuple[float, float]:
        """The sampled range of an input (of its factor, for a ``scale`` input)."""
        spec = self.manifest["inputs"][name]
        low, high = spec["range"] if spec.get("range") is not None else spec["scale"]
        return float(low), float(high)

    def chosen_box(self) -> tuple[pd.Series, list[tuple[str, float, float, float, float]]] | None:
        """The chosen PRIM step and the inputs it restricts: (input, low, high, range
        low, range high), where the range is the one the experiment sampled."""
        table = self.discovery
        if table is None or table.empty:
            return None
        step = table[table["chosen"] == 1].iloc[0]
        first = table.iloc[0]
        restricted = []
        for name in self.experiments.columns[1:]:
            low, high = float(step[f"{name}:low"]), float(step[f"{name}:high"])
            if low > first[f"{name}:low"] + 1e-12 or high < first[f"{name}:high"] - 1e-12:
                restricted.append((name, low, high, *self.input_bounds(name)))
        return step, restricted
