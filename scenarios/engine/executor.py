"""Where work runs: this process, a local process pool, or a Dask cluster. The one executor
of ``run`` (batches of runs), ``explore`` (chunks of points) and ``optimise`` (candidates).

A backend only decides where ``func(shared, item)`` runs: ``run``, explore and optimise take
the results in item order (:meth:`Executor.map`; the items still run side by side), so
nothing written depends on the backend, the number of workers or the order in which work
finishes, and when several points fail, the first of them in point order is the one
named. (:meth:`Executor.map_unordered` gives results as they finish.) ``shared`` (the job:
a scenario, a seed, a model) goes to each worker process once and stays there, so what a
worker learns along the way (a memoised allocator's answers) serves all its items.

For more than one machine, start ``dask scheduler`` on one and ``dask worker
tcp://HOST:8786`` on the others (each with clusterfund installed), and pass
``--backend dask --scheduler tcp://HOST:8786``. We do not build our own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scenarios.core.errors import UserError
from scenarios.core.stops import quiet_worker
from scenarios.engine.collector import collect_less, collecting_less

CONNECT_TIMEOUT_SECONDS = 5
"""How long a Dask scheduler has to accept a connection and answer Dask's handshake."""
BACKENDS = ("local", "dask")
MAX_DEFAULT_JOBS = 8
"""The most worker processes the default ``--jobs`` starts (more cores need ``--jobs``)."""
SCHEDULER_ADDRESS = re.compile(
    r"(?:(?:tcp|tls)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})"
)
"""A Dask scheduler's address: ``tcp://HOST:PORT`` (``tls://`` too; the scheme may be left out)."""


def default_jobs() -> int:
    """The worker processes a command starts unless told: the cores this process may use,
    at most ``MAX_DEFAULT_JOBS`` (results are the same for any number)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cores = len(usable) if usable else (os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_JOBS, cores))


def check_scheduler_address(address: str) -> None:
    """Refuse, in one line, an address that is not ``[tcp://]HOST:PORT``."""
    match = SCHEDULER_ADDRESS.fullmatch(address)
    if match is None or not 0 < int(match["port"]) < 2**16:
        raise UserError(
            f"--scheduler {address}: not a Dask scheduler address; give tcp://HOST:PORT "
            "with a port from 1 to 65535, such as tcp://10.0.0.5:8786 (what 'dask scheduler' "
            "prints)"
        )


def no_scheduler(address: str | None, why: str) -> UserError:
    """The line for a scheduler that could not be reached."""
    return UserError(
        f"--scheduler {address}: no Dask scheduler answered within {CONNECT_TIMEOUT_SECONDS} s "
        f"({why}); start one with 'dask scheduler', or leave out --scheduler for a local cluster"
    )


def scheduler_problem(address: str, seconds: float) -> str | None:
    """``None`` when a Dask scheduler at ``address`` accepts a connection and answers Dask's
    handshake within ``seconds``; else why not, in a few words.

    ``distributed`` waits for the handshake's answer without a time limit (a web server
    there never answers), and reads junk as the length of a message (gigabytes), so the
    attempt runs in a thread of its own, with its own event loop and a deadline; a thread
    still stuck then (a name lookup, say) is left to end by itself.
    """
    from distributed.comm import CommClosedError, connect

    async def handshake() -> None:
        comm = await connect(address, timeout=0.9 * seconds)  # refused: said before the deadline
        await comm.close()

    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            asyncio.run(asyncio.wait_for(handshake(), seconds))
            outcome.append(None)
        except BaseException as exc:  # whatever it was, it is the answer
            outcome.append(exc)

    thread = threading.Thread(target=attempt, name="clusterfund-scheduler-check", daemon=True)
    thread.start()
    thread.join(seconds + 0.5)
    if not outcome:
        return "no answer"
    error = outcome[0]
    if error is None:
        return None
    if isinstance(error, TimeoutError):
        return "no answer to Dask's handshake"
    if isinstance(error, OSError) and not isinstance(error, CommClosedError):
        return "could not connect"
    return "what answered does not speak Dask's protocol"


@dataclass(frozen=True)
class Backend:
    """Which backend, with how many local workers, or which Dask scheduler."""

    name: str = "local"
    jobs: int = 1
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.scheduler is not None:  # a typo is told at once, before any work
            check_scheduler_address(self.scheduler)

    def describe(self) -> str:
        """One line for the manifest and the terminal."""
        if self.name == "dask":
            where = self.scheduler or f"a LocalCluster of {self.jobs} workers"
            return f"dask ({where})"
        return f"local ({self.jobs} process{'es' if self.jobs > 1 else ''})"


class Executor:
    """Runs ``func(shared, item)`` for many items on a backend; a context manager that
    connects (or starts a local cluster) on entry and lets go on exit.

    Connecting happens on entry, so an unreachable scheduler is reported before
    anything is written.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._client: Any = None
        self._cluster: Any = None

    @property
    def runs_elsewhere(self) -> bool:
        """Whether work runs in other processes (Dask, or a pool of more than one), so this
        process mostly waits while it runs (a single item still runs here)."""
        return self.backend.name == "dask" or self.backend.jobs > 1

    def __enter__(self) -> Executor:
        if self.backend.name == "dask":
            self._connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info and exc_info[0] is not None and self._client is not None:
            # stopped or failed: the cluster's own complaints while it shuts down are noise
            for name in ("distributed", "tornado", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def _connect(self) -> None:
        scheduler = self.backend.scheduler
        if scheduler is not None:
            check_scheduler_address(scheduler)  # before dask's import: a typo is told at once
        from dask.distributed import Client, LocalCluster

        if scheduler:
            why = scheduler_problem(scheduler, CONNECT_TIMEOUT_SECONDS)
            if why is not None:
                raise no_scheduler(scheduler, why)
        try:
            if scheduler:
                self._client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_SECONDS}s")
                try:
                    self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_SECONDS)
                except TimeoutError:
                    self.__exit__()
                    raise UserError(
                        f"--scheduler {scheduler}: the scheduler has no workers (none came "
                        f"within {CONNECT_TIMEOUT_SECONDS} s); start some with 'dask worker "
                        f"{scheduler}'"
                    ) from None
            else:
                self._cluster = LocalCluster(
                    n_workers=self.backend.jobs,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            self.__exit__()
            raise no_scheduler(scheduler, type(exc).__name__) from None

    def map(
        self, func: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]
    ) -> Iterator[Any]:
        """Yield ``func(shared, item)`` for every item, in the items' order."""
        return self._map(func, shared, items, ordered=True)

    def map_unordered(
        self, func: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]
    ) -> Iterator[Any]:
        """Yield ``func(shared, item)`` for every item, in the order they finish."""
        return self._map(func, shared, items, ordered=False)

    def _map(
        self, func: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any], ordered: bool
    ) -> Iterator[Any]:
        if not items:
            return
        if self._client is not None:
            yield from self._dask_map(func, shared, items, ordered)
        elif self.backend.jobs <= 1 or len(items) == 1:
            with collecting_less():
                for item in items:
                    yield func(shared, item)
        else:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            workers = min(self.backend.jobs, len(items))
            with context.Pool(workers, initializer=_install, initargs=(shared,)) as pool:
                task = functools.partial(_call_installed, func)
                if ordered:
                    yield from pool.imap(task, items, chunksize=1)
                else:
                    yield from pool.imap_unordered(task, items)

    def _dask_map(
        self, func: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any], ordered: bool
    ) -> Iterator[Any]:
        from dask.distributed import as_completed

        client = self._client
        # hash=False: a fresh key per call, so releasing an earlier call's copy of the same
        # object (optimise maps once per generation) cannot drop this one
        shared_future = client.scatter(shared, broadcast=True, hash=False)
        futures = [client.submit(func, shared_future, item, pure=False) for item in items]
        try:
            for future in futures if ordered else as_completed(futures):
                yield future.result()
                future.release()
        finally:
            client.cancel(futures)


_installed: Any = None
"""A pool worker's ``shared`` (set once by :func:`_install`; unused in the parent)."""


def _install(shared: Any) -> None:
    global _installed
    quiet_worker()
    _installed = shared
    collect_less()


def _call_installed(func: Callable[[Any, Any], Any], item: Any) -> Any:
    return func(_installed, item)
