"""Reading a results folder back, and drawing its standard charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios import plots
from scenarios.errors import UserError
from scenarios.safe_text import terminal_safe
from scenarios.store import ALLOCATION_CSV, SCORECARD_CSV, SUMMARY_CSV, read_manifest


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
        return pd.read_csv(self.path / SUMMARY_CSV)

    @cached_property
    def scorecard(self) -> pd.DataFrame:
        return pd.read_csv(self.path / SCORECARD_CSV)

    @cached_property
    def area_money(self) -> pd.DataFrame:
        """Mean arena money per innovation area (rows) and year (columns), MSEK."""
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
        return plots.ChartContext(  # control characters would be missing glyphs
            title=terminal_safe(title),
            names={cid: terminal_safe(c["name"]) for cid, c in config["clusters"].items()},
            target_year=int(config["programme"]["target_year"]),
            min_members=int(config["scorecard"]["min_members"]),
            max_regional_share=float(config["scorecard"]["max_regional_share"]),
            lang=lang,
        )


RUN_PLOTS = ("funding_mix", "members", "regional_share", "arena", "scorecard")


def draw_run_plots(run: RunFolder, out: Path, lang: str = "en") -> list[Path]:
    """The standard charts of one run, written as PNG files in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ctx = run.chart_context(lang)
    return [
        plots.plot_funding_mix(run.summary, ctx, out / "funding_mix.png"),
        plots.plot_members_fan(run.summary, ctx, out / "members.png"),
        plots.plot_regional_share(run.summary, ctx, out / "regional_share.png"),
        plots.plot_arena_heatmaps(run.summary, run.area_money, ctx, out / "arena.png"),
        plots.plot_scorecard({run.name: run.scorecard}, ctx, out / "scorecard.png"),
    ]
