"""The one error type the CLI turns into red lines instead of a traceback."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


class UserError(Exception):
    """Bad input from the user: one line per problem, each naming file and key."""

    def __init__(self, lines: list[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


def problem_line(file: str, key: str | None, message: str) -> str:
    """Format one problem as ``file: key: message`` (the key is left out when unknown)."""
    return f"{file}: {key}: {message}" if key else f"{file}: {message}"


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM, SIGHUP or Ctrl-C's SIGINT)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_holding = False
"""Whether the main thread is in a ``stops_held`` block."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    for each in STOP_SIGNALS:  # a second signal must not cut the clean-up short
        signal.signal(each, signal.SIG_IGN)
    if not _holding:
        raise Stopped(signum)


@contextlib.contextmanager
def stops_held() -> Iterator[None]:
    """A block that a stop signal does not cut in half (a results folder's final rename):
    a stop that comes meanwhile comes too late and is dropped, so that a complete
    folder is never reported as "nothing was written"."""
    global _holding
    _holding = True
    try:
        yield
    finally:
        _holding = False


def stop_on_signals() -> None:
    """Let SIGTERM and SIGHUP stop the command the way Ctrl-C does: as a ``Stopped``
    (a ``KeyboardInterrupt``) raised in the main thread, so that every ``finally``
    and ``with`` block cleans up."""
    for each in STOP_SIGNALS:
        signal.signal(each, _stop)


def quiet_worker() -> None:
    """In a pool worker: leave Ctrl-C to the parent (which ends the pool), and let the
    SIGTERM of ``Pool.terminate`` end the worker quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
