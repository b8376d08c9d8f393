"""matplotlib's pyplot, imported on first use (with the non-interactive Agg backend), so
commands that draw no chart do not pay for it at start-up; how every chart is saved; and
Swedish tick numbers."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import IO, Any

from scenarios.core.lazy import LazyModule, loaded, pandas
from scenarios.core.numbers import decimal_commas

DPI = 110
"""Every chart's resolution (dots per inch). Figures are made at it too, so a layout is
measured with the text sizes the saved chart has (and they are measured once)."""


def _agg_at_dpi() -> None:
    """matplotlib set up before pyplot is imported: the non-interactive Agg backend, figures
    at :data:`DPI`."""
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    matplotlib.rcParams["figure.dpi"] = DPI


plt: Any = LazyModule("matplotlib.pyplot", set_up=_agg_at_dpi)
"""``matplotlib.pyplot``, imported on first use."""


def warm_up() -> None:
    """Import pyplot and pandas (which the charts read their tables with): most of a second,
    paid once per process.

    ``clusterfund run`` calls this in a thread of its own while worker processes run the
    ensemble, so the chart workers it forks afterwards have both and begin drawing at
    once. (Fonts are not worth loading here: matplotlib keeps them per thread and clears
    them in a forked process.)"""
    loaded(pandas)
    loaded(plt)


def save_png(figure: Any, target: Path | IO[bytes]) -> None:
    """Write ``figure`` as a PNG at :data:`DPI` to ``target`` (a path or a binary file) and
    close it.

    ``Figure.tight_layout`` leaves a placeholder layout engine on the figure, and a
    figure with any engine is drawn twice when saved (once only to lay it out). The
    placeholder lays nothing out, so it is taken off first: the same bytes, in about a
    quarter less time."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    if isinstance(figure.get_layout_engine(), PlaceHolderLayoutEngine):
        figure.set_layout_engine(None)
    try:
        figure.savefig(target, format="png", dpi=DPI)
    finally:
        plt.close(figure)


def decimal_comma_ticks(figure: Any, lang: str) -> None:
    """In Swedish (``sv``), the numbers on every numeric axis of ``figure`` with a decimal
    comma (``0,25``); axes whose ticks are names are left alone."""
    if lang != "sv":
        return
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is plt.ScalarFormatter:
                axis.set_major_formatter(_comma_formatter())


def _comma_formatter() -> Any:
    """matplotlib's usual tick numbers, written with a decimal comma."""

    class CommaFormatter(plt.ScalarFormatter):  # type: ignore[misc,name-defined]
        def __call__(self, x: float, pos: int | None = None) -> str:
            return decimal_commas(super().__call__(x, pos))

        def get_offset(self) -> str:
            return decimal_commas(super().get_offset())

    return CommaFormatter()
