"""The colours every chart shares: one per funding source, and one per scenario by its place
in a comparison (the baseline always dark grey), so a scenario keeps its colour in every
chart of a report, a comparison and a brief."""

from __future__ import annotations

from collections.abc import Sequence

SOURCE_COLOURS = {
    "regional_base": "#1f4e79",
    "fee_income": "#2e8b57",
    "private_income": "#e69f00",
    "other_public": "#8c8c8c",
    "arena_income": "#cc3366",
}
BASELINE_COLOUR = "#3d3d3d"
SCENARIO_PALETTE = ("#cc3366", "#1f77b4", "#e69f00", "#2e8b57", "#7b3294", "#8c564b")
"""The compared scenarios' colours, in comparison order (then round again)."""


def scenario_colours(names: Sequence[str]) -> dict[str, str]:
    """Each scenario's colour: the first (the baseline) dark grey, the others from
    ``SCENARIO_PALETTE`` in order."""
    colours = {}
    for place, name in enumerate(names):
        colours[name] = (
            BASELINE_COLOUR if place == 0 else SCENARIO_PALETTE[(place - 1) % len(SCENARIO_PALETTE)]
        )
    return colours
