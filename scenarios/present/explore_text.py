"""An explore folder in a few lines for the terminal: the inputs that drive each outcome,
PRIM's box, and the calibration's verdict."""

from __future__ import annotations

from scenarios.analysis.calibration import BASE_POINT
from scenarios.analysis.discovery import real_restrictions
from scenarios.analysis.sample_size import suggested_samples
from scenarios.config.designs import ranking_column
from scenarios.core.labels import input_label, label, label_or
from scenarios.core.lazy import pandas as pd
from scenarios.core.numbers import interval, written
from scenarios.folders.explore_folder import (
    CALIBRATED_TOML,
    PARAMETER_SETS_CSV,
    ExploreFolder,
)

TOP_INPUTS = 5
"""How many inputs are shown per outcome (terminal and report)."""


def describe_explore(folder: ExploreFolder, lang: str = "en") -> str:
    """The top inputs per outcome and the chosen PRIM box (and the calibration, when there
    is one), as terminal text in ``lang``."""
    column = ranking_column(folder.design)
    conf = {"ST": "ST_conf", "mu_star": "mu_star_conf", "S1": "S1_conf"}.get(column)
    lines = [
        label("explore_head", lang).format(
            points=folder.manifest["points"],
            replications=folder.manifest["replications"],
            design=folder.design,
            column=column,
        )
    ]
    for outcome in folder.outcomes["outcome"].drop_duplicates():
        ranked = folder.ranked(outcome).head(TOP_INPUTS)
        note = ranked["note"].dropna()
        if not note.empty and str(note.iloc[0]):
            lines.append(f"  {outcome}: {note_text(note.iloc[0], lang)}")
            continue
        parts = []
        for _, row in ranked.iterrows():
            ci = (
                f" ±{written(row[conf], '.2f', lang)}"
                if conf and conf in row and pd.notna(row[conf])
                else ""
            )
            name = input_label(str(row["input"]), folder.input_labels)
            parts.append(f"{name} {written(row[column], '.2f', lang)}{ci}")
        more = samples_wanted(folder, outcome, column, conf)
        if more is not None:  # the words above the numbers
            lines.append(f"  {outcome}: {label('too_few_samples', lang).format(samples=more)}")
        lines.append(f"  {outcome}: " + ", ".join(parts))
    box = folder.chosen_box()
    if box is not None:
        step, every = box
        restricted = real_restrictions(every)
        condition = folder.manifest["experiment"]["discover"]
        lines.append(
            label("prim_box", lang).format(
                condition=condition_text(condition, lang),
                coverage=written(step["coverage"], ".2f", lang),
                density=written(step["density"], ".2f", lang),
            )
            + (":" if restricted else f" {label('nothing', lang)}")
        )
        for name, low, high, full_low, full_high in restricted:
            lines.append(
                "  "
                + label("input_in_of", lang).format(
                    name=input_label(name, folder.input_labels),
                    box=bounds_text(low, high, lang),
                    full=bounds_text(full_low, full_high, lang),
                )
            )
    lines += describe_calibration(folder, lang)
    return "\n".join(lines)


def condition_text(condition: dict, lang: str = "en") -> str:
    """PRIM's condition of interest: ``members_2021 < 1650``."""
    if condition.get("above") is not None:
        return f"{condition['outcome']} > {written(condition['above'], '', lang)}"
    return f"{condition['outcome']} < {written(condition['below'], '', lang)}"


def bounds_text(low: float, high: float, lang: str = "en", digits: str = ".4g") -> str:
    """An input's range: ``[0.08, 0.16]`` (``[0,08; 0,16]`` in Swedish)."""
    return interval(written(low, digits, lang), written(high, digits, lang), lang)


def note_text(note: object, lang: str = "en") -> str:
    """A note of ``sensitivity.csv`` in ``lang`` (one with numbers in it as written)."""
    return label_or(f"note.{note}", str(note), lang)


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


def describe_calibration(folder: ExploreFolder, lang: str = "en") -> list[str]:
    """Terminal lines of a calibration: each wave (points, points not ruled out, its box),
    the final parameter sets, the best point, and the held-out check (none when the
    experiment did not calibrate)."""
    table, kept = folder.calibration, folder.not_ruled_out
    if table is None or kept is None:
        return []
    used = table[table["held_out"] == 0]
    final = int(table["wave"].iloc[0]) if "wave" in table and len(table) else 1
    lines = describe_waves(folder, lang)
    sets = folder.parameter_sets
    if sets is not None:
        count = len(sets)
    else:  # a folder written before waves
        count = len(kept[kept["wave"] == final]) if "wave" in kept else len(kept)
    lines.append(
        label("calibration_line", lang).format(
            count=count,
            wave=final,
            observations=len(used),
            best=written(used["implausibility_at_best"].max(), ".3g", lang),
            base=BASE_POINT,
            at_base=written(used["implausibility_at_base"].max(), ".3g", lang),
            path=f"{folder.path.name}/{CALIBRATED_TOML}",
        )
    )
    if sets is not None:
        lines.append(
            label("parameter_sets_line", lang).format(
                count=len(sets), wave=final, path=folder.path / PARAMETER_SETS_CSV
            )
        )
    for _, row in table[table["held_out"] == 1].iterrows():
        lines.append(
            "  "
            + label("held_out_line", lang).format(
                observation=row["observation"],
                observed=written(row["observed"], "", lang),
                best=written(float(row["mean_at_best"]), ".4g", lang),
                at_best=written(float(row["implausibility_at_best"]), ".2f", lang),
                base=written(float(row["mean_at_base"]), ".4g", lang),
                at_base=written(float(row["implausibility_at_base"]), ".2f", lang),
            )
        )
    return lines


def describe_waves(folder: ExploreFolder, lang: str = "en") -> list[str]:
    """One line per wave of a calibration (points, points not ruled out) and its box, one
    line per input; the reason the waves stopped early, if they did."""
    waves = folder.waves
    if waves is None:
        return []
    names = [c[: -len(":low")] for c in waves.columns if c.endswith(":low")]
    lines = []
    for _, row in waves.iterrows():
        lines.append(
            label("wave_line", lang).format(
                wave=row["wave"], points=row["points"], kept=row["not_ruled_out"]
            )
        )
        for name in names:
            box = bounds_text(row[name + ":low"], row[name + ":high"], lang)
            lines.append("  " + label("input_in", lang).format(name=name, box=box))
        if row["note"]:
            lines.append(f"  {row['note']}")
    return lines
