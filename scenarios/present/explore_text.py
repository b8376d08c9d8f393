"""An explore folder in a few lines for the terminal: the inputs that drive each outcome,
PRIM's box, and the calibration's verdict."""

from __future__ import annotations

import pandas as pd

from scenarios.analysis.calibration import BASE_POINT
from scenarios.analysis.discovery import real_restrictions
from scenarios.analysis.sample_size import suggested_samples
from scenarios.config.designs import ranking_column
from scenarios.core.labels import input_label
from scenarios.folders.explore_folder import (
    CALIBRATED_TOML,
    PARAMETER_SETS_CSV,
    ExploreFolder,
)

TOP_INPUTS = 5
"""How many inputs are shown per outcome (terminal and report)."""


def describe_explore(folder: ExploreFolder) -> str:
    """The top inputs per outcome and the chosen PRIM box (and the calibration, when there
    is one), as terminal text."""
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
            label = input_label(str(row["input"]), folder.input_labels)
            parts.append(f"{label} {row[column]:.2f}{ci}")
        more = samples_wanted(folder, outcome, column, conf)
        if more is not None:  # the words above the numbers
            lines.append(
                f"  {outcome}: too few samples to rank these inputs (the 95 % intervals are "
                f"as wide as the indices); try samples = {more}"
            )
        lines.append(f"  {outcome}: " + ", ".join(parts))
    box = folder.chosen_box()
    if box is not None:
        step, every = box
        restricted = real_restrictions(every)
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
            label = input_label(name, folder.input_labels)
            lines.append(
                f"  {label} in [{low:.4g}, {high:.4g}] (of [{full_low:.4g}, {full_high:.4g}])"
            )
    lines += describe_calibration(folder)
    return "\n".join(lines)


def samples_wanted(
    folder: ExploreFolder, outcome: str, column: str, conf: str | None
) -> int | None:
    """The samples to suggest when this outcome's indices are too uncertain to rank the
    inputs (:func:`scenarios.analysis.sample_size.suggested_samples`), else ``None``."""
    table = folder.ranked(outcome)
    samples = folder.manifest.get("experiment", {}).get("samples")
    if conf is None or conf not in table or not samples:
        return None
    values = pd.to_numeric(table[column], errors="coerce").to_numpy()
    widths = pd.to_numeric(table[conf], errors="coerce").to_numpy()
    first = pd.to_numeric(table["S1"], errors="coerce").to_numpy() if column == "ST" else None
    return suggested_samples(values, widths, int(samples), first)


def describe_calibration(folder: ExploreFolder) -> list[str]:
    """Terminal lines of a calibration: each wave (points, points not ruled out, its box),
    the final parameter sets, the best point, and the held-out check (none when the
    experiment did not calibrate)."""
    table, kept = folder.calibration, folder.not_ruled_out
    if table is None or kept is None:
        return []
    used = table[table["held_out"] == 0]
    final = int(table["wave"].iloc[0]) if "wave" in table and len(table) else 1
    lines = describe_waves(folder)
    sets = folder.parameter_sets
    if sets is not None:
        count = len(sets)
    else:  # a folder written before waves
        count = len(kept[kept["wave"] == final]) if "wave" in kept else len(kept)
    lines.append(
        f"calibration: {count} points not ruled out (wave {final}) on {len(used)} observations; "
        f"the best point's largest implausibility {used['implausibility_at_best'].max():.3g} "
        f"(the {BASE_POINT} scenario: {used['implausibility_at_base'].max():.3g}) -> "
        f"{folder.path.name}/{CALIBRATED_TOML}"
    )
    if sets is not None:
        lines.append(
            f"parameter sets: K = {len(sets)} (the points not ruled out in wave {final}, best "
            f"first) -> {folder.path / PARAMETER_SETS_CSV}"
        )
    for _, row in table[table["held_out"] == 1].iterrows():
        lines.append(
            f"  held out {row['observation']} (observed {row['observed']}): "
            f"{float(row['mean_at_best']):.4g} calibrated "
            f"(I = {float(row['implausibility_at_best']):.2f}), "
            f"{float(row['mean_at_base']):.4g} uncalibrated "
            f"(I = {float(row['implausibility_at_base']):.2f})"
        )
    return lines


def describe_waves(folder: ExploreFolder) -> list[str]:
    """One line per wave of a calibration (points, points not ruled out) and its box, one
    line per input; the reason the waves stopped early, if they did."""
    waves = folder.waves
    if waves is None:
        return []
    names = [c[: -len(":low")] for c in waves.columns if c.endswith(":low")]
    lines = []
    for _, row in waves.iterrows():
        lines.append(
            f"wave {row['wave']}: {row['points']} points, {row['not_ruled_out']} not ruled out; "
            "drawn in"
        )
        for name in names:
            lines.append(f"  {name} in [{row[name + ':low']:.4g}, {row[name + ':high']:.4g}]")
        if row["note"]:
            lines.append(f"  {row['note']}")
    return lines
