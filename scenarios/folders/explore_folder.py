"""Reading an explore folder back, and saying in a few lines what it found."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios.analysis.sensitivity import ranking_column
from scenarios.core.errors import UserError
from scenarios.folders.checks import read_table
from scenarios.folders.manifest import read_manifest
from scenarios.folders.publish import MANIFEST_JSON
from scenarios.studies.explore import (
    DISCOVERY_CSV,
    EXPERIMENTS_CSV,
    KIND,
    OUTCOMES_CSV,
    SENSITIVITY_CSV,
)
from simulator.outcomes import STATS

TOP_INPUTS = 5


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


def describe_explore(path: Path) -> str:
    """The top inputs per outcome and the chosen PRIM box, as terminal text."""
    folder = ExploreFolder.open(path)
    column = ranking_column(folder.design)
    conf = {"ST": "ST_conf", "mu_star": "mu_star_conf", "S1": "S1_conf"}.get(column)
    lines = [
        f"{folder.manifest['points']} points × {folder.manifest['replications']} replications "
        f"({folder.design}); inputs ranked by {column}:"
    ]
    for outcome in folder.outcomes["outcome"].drop_duplicates():
        ranked = folder.ranked(outcome).head(TOP_INPUTS)
        note = ranked["note"].dropna()
        if not note.empty and str(note.iloc[0]):
            lines.append(f"  {outcome}: {note.iloc[0]}")
            continue
        parts = []
        for _, row in ranked.iterrows():
            ci = f" ±{row[conf]:.2f}" if conf and conf in row and pd.notna(row[conf]) else ""
            parts.append(f"{row['input']} {row[column]:.2f}{ci}")
        lines.append(f"  {outcome}: " + ", ".join(parts))
    box = folder.chosen_box()
    if box is not None:
        step, restricted = box
        condition = folder.manifest["experiment"]["discover"]
        sense = (
            f"> {condition['above']}"
            if condition.get("above") is not None
            else (f"< {condition['below']}")
        )
        lines.append(
            f"PRIM, {condition['outcome']} {sense}: box with coverage {step['coverage']:.2f}, "
            f"density {step['density']:.2f}, restricting" + (":" if restricted else " nothing")
        )
        for name, low, high, full_low, full_high in restricted:
            lines.append(
                f"  {name} in [{low:.4g}, {high:.4g}] (of [{full_low:.4g}, {full_high:.4g}])"
            )
    if (path / "calibration.csv").is_file():
        from scenarios.studies.calibrate import describe_calibration

        lines += describe_calibration(path)
    return "\n".join(lines)
