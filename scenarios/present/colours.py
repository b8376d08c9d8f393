"""The colours every chart shares: one per funding source, and one per scenario by its name
(the baseline, first in a comparison, always dark grey), so a scenario keeps its colour in
every chart of a report, a comparison and a brief, and from one command to the next."""

from __future__ import annotations

import zlib
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
"""The compared scenarios' colours (each picked by the scenario's name)."""


def scenario_colours(names: Sequence[str]) -> dict[str, str]:
    """Each scenario's colour: the first (the baseline) dark grey; every other its own colour
    of ``SCENARIO_PALETTE``, chosen by its name (a stable hash), so a scenario keeps its
    colour from one command to the next, whatever else is compared with it; when two names
    ask for one colour, the later takes the next free one (the palette round again only
    past six scenarios)."""
    colours: dict[str, str] = {}
    for place, name in enumerate(names):
        if place == 0:
            colours[name] = BASELINE_COLOUR
            continue
        taken = set(colours.values())
        start = zlib.crc32(name.encode("utf-8")) % len(SCENARIO_PALETTE)
        ring = [SCENARIO_PALETTE[(start + k) % len(SCENARIO_PALETTE)] for k in range(6)]
        colours[name] = next((c for c in ring if c not in taken), ring[0])
    return colours
