"""matplotlib's pyplot, imported on first use (with the non-interactive Agg backend), so
commands that draw no chart do not pay for it at start-up."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyPyplot:
    """Stands for ``matplotlib.pyplot``: the module is imported when an attribute is first
    asked for."""

    _module: ModuleType | None = None

    def __getattr__(self, name: str) -> Any:
        if _LazyPyplot._module is None:
            matplotlib = importlib.import_module("matplotlib")
            matplotlib.use("Agg")
            _LazyPyplot._module = importlib.import_module("matplotlib.pyplot")
        return getattr(_LazyPyplot._module, name)


plt: Any = _LazyPyplot()
"""``matplotlib.pyplot``, imported on first use."""
