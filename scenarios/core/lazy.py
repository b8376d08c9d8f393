"""Heavy third-party modules imported on first use, so a command pays only for what it uses.

``import pandas`` takes 0.15–0.3 s. Every command module uses pandas somewhere, so with a
plain import every command, ``clusterfund --help`` included, paid for it at start-up, and
``clusterfund run`` paid for it before its worker processes started, though the ensemble
does not use it (only the tables and charts made afterwards do). A module that needs it
writes::

    from scenarios.core.lazy import pandas as pd

and uses ``pd`` as usual: pandas is imported the first time an attribute of ``pd`` is asked
for, in whichever thread asks first. Type checkers see the real module. (``simulator/``,
below this package, imports pandas inside the few functions that need it.)
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

_OWN = frozenset({"_name", "_set_up", "_module", "_loading"})
"""A :class:`LazyModule`'s own attributes: never looked up in the module."""


class LazyModule:
    """Stands for the module ``name``: when an attribute is first asked for, ``set_up`` (if
    given) is called, once, and then the module is imported.

    Every attribute but its own four (``_name``, ``_set_up``, ``_module``, ``_loading``) is
    the module's, ``__version__`` included; :func:`loaded` imports it without asking for
    an attribute (a method of its own would hide the module's attribute of that name,
    ``numpy.load`` say)."""

    def __init__(self, name: str, set_up: Callable[[], None] | None = None) -> None:
        self._name = name
        self._set_up = set_up
        self._module: ModuleType | None = None
        self._fresh_lock()
        if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
            # a process forked while another thread held the lock starts with a free one
            os.register_at_fork(after_in_child=self._fresh_lock)

    def _fresh_lock(self) -> None:
        self._loading = threading.Lock()

    def _load(self) -> ModuleType:
        if self._module is None:
            with self._loading:  # two threads asking first: one sets up and imports
                if self._module is None:
                    if self._set_up is not None:
                        self._set_up()
                    self._module = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attribute: str) -> Any:
        if attribute in _OWN:  # not made yet (on a copy, say): never the module's
            raise AttributeError(attribute)
        return getattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


def loaded(module: Any) -> ModuleType:
    """The module a :class:`LazyModule` stands for, imported now if it was not yet (a plain
    module is returned as it is)."""
    return module._load() if isinstance(module, LazyModule) else module


if TYPE_CHECKING:
    import pandas as pandas
else:
    pandas = LazyModule("pandas")
    """``pandas``, imported on first use."""
