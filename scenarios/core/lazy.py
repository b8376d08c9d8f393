"""Heavy third-party modules imported on first use, so a command pays only for what it uses.

``import pandas`` takes 0.15–0.3 s. Every command module uses pandas somewhere, so with a
plain import every command, ``clusterfund --help`` included, paid for it at start-up, and
``clusterfund run`` paid for it before its worker processes started, though the ensemble
does not use it (only the tables and charts made afterwards do). A module that needs it
writes::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        from scenarios.core.lazy import pandas as pd

and uses ``pd`` as usual: pandas is imported the first time an attribute of ``pd`` is asked
for, in whichever thread asks first.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name``: when an attribute is first asked for, ``set_up`` (if
    given) is called, once, and then the module is imported."""

    def __init__(self, name: str, set_up: Callable[[], None] | None = None) -> None:
        self._name = name
        self._set_up = set_up
        self._module: ModuleType | None = None
        self._loading = threading.Lock()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.load(), attribute)

    def load(self) -> ModuleType:
        """The module, imported now if it was not yet."""
        if self._module is None:
            with self._loading:  # two threads asking first: one sets up and imports
                if self._module is None:
                    if self._set_up is not None:
                        self._set_up()
                    self._module = importlib.import_module(self._name)
        return self._module

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


pandas: Any = LazyModule("pandas")
"""``pandas``, imported on first use."""
