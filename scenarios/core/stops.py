"""Stop signals (Ctrl-C's SIGINT, SIGTERM, SIGHUP) as a clean stop of a command.

A stop is raised as :class:`Stopped` (a ``KeyboardInterrupt``) in the main thread, so every
``finally`` and ``with`` block cleans up; it is held while an output is being published,
and for good once it is (the command then finishes and reports success).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM, SIGHUP or Ctrl-C's SIGINT)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_holding = False
"""Whether stops are held: in a ``stops_held`` block, or for good once a command's output
is published (:func:`hold_stops_for_good`)."""
_for_good = False
"""Whether the command's output is published (stops are then held until it ends)."""
_requested: int | None = None
"""The stop signal received, if any (kept even when the ``Stopped`` it raised was lost)."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    global _requested
    for each in STOP_SIGNALS:  # a second signal must not cut the clean-up short
        signal.signal(each, signal.SIG_IGN)
    if not _holding:
        _requested = signum
        raise Stopped(signum)


@contextlib.contextmanager
def stops_held() -> Iterator[None]:
    """A block that a stop signal does not cut in half (a results folder's final rename):
    a stop that comes meanwhile comes too late and is dropped, so that a complete
    folder is never reported as "nothing was written"."""
    global _holding
    held_before = _holding
    _holding = True
    try:
        yield
    finally:
        _holding = held_before or _for_good


def hold_stops_for_good() -> None:
    """From now on a stop comes too late: the command's output is published, so it runs
    to its end and reports success (what is left is removing a replaced folder and printing)."""
    global _holding, _for_good
    _holding = _for_good = True
    for each in STOP_SIGNALS:  # ignored by the process itself too: Python's shutdown puts
        if signal.getsignal(each) is _stop:  # back the default handlers, which would kill it
            signal.signal(each, signal.SIG_IGN)


def raise_if_stopped() -> None:
    """Raise ``Stopped`` if a stop signal came earlier but its exception was lost (raised
    inside a ``__del__`` during garbage collection, which Python reports and drops).
    Called before anything is published, so a stopped command never publishes."""
    if _requested is not None and not _holding:
        raise Stopped(_requested)


def forget_stops() -> None:
    """A new command starts: no stop received, none held (commands run one after another
    in one process in the tests)."""
    global _holding, _for_good, _requested
    _holding = _for_good = False
    _requested = None


def stop_on_signals() -> None:
    """Let SIGTERM and SIGHUP stop the command the way Ctrl-C does: as a ``Stopped``
    (a ``KeyboardInterrupt``) raised in the main thread, so that every ``finally``
    and ``with`` block cleans up. A stop raised where Python can only drop it (in a
    ``__del__``) is not printed as a traceback; :func:`raise_if_stopped` raises it again."""
    forget_stops()
    sys.unraisablehook = _unraisable
    for each in STOP_SIGNALS:
        signal.signal(each, _stop)


def _unraisable(unraisable: Any) -> None:
    if isinstance(unraisable.exc_value, Stopped):
        return  # remembered in _requested
    sys.__unraisablehook__(unraisable)


def quiet_worker() -> None:
    """In a pool worker: leave Ctrl-C to the parent (which ends the pool), and let the
    SIGTERM of ``Pool.terminate`` end the worker quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
