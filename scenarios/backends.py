"""Where chunks of work run: this process, a local process pool, or a Dask cluster.

A backend only decides where :func:`scenarios.points.evaluate_chunk` runs; results
come back in completion order and callers sort them by point, so nothing written
depends on the backend, the number of workers or the order in which chunks finish.

For more than one machine, start ``dask scheduler`` on one and ``dask worker
tcp://HOST:8786`` on the others (each with clusterfund installed), and pass
``--backend dask --scheduler tcp://HOST:8786``. We do not build our own.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scenarios.errors import UserError, quiet_worker

CONNECT_TIMEOUT_SECONDS = 5
BACKENDS = ("local", "dask")


@dataclass(frozen=True)
class Backend:
    """Which backend, with how many local workers, or which Dask scheduler."""

    name: str = "local"
    jobs: int = 1
    scheduler: str | None = None

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

    def __enter__(self) -> Executor:
        if self.backend.name == "dask":
            self._connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def _connect(self) -> None:
        from dask.distributed import Client, LocalCluster

        scheduler = self.backend.scheduler
        try:
            if scheduler:
                self._client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_SECONDS}s")
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
            raise UserError(
                f"--scheduler {scheduler}: no Dask scheduler answered within "
                f"{CONNECT_TIMEOUT_SECONDS} s ({type(exc).__name__}); start one with "
                f"'dask scheduler', or leave out --scheduler for a local cluster"
            ) from None

    def map_unordered(
        self, func: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]
    ) -> Iterator[Any]:
        """Yield ``func(shared, item)`` for every item, in the order they finish.

        ``shared`` is sent to each Dask worker once (scattered); a local pool gets
        it with each task, which is cheap for the small plain-data jobs we send.
        """
        if not items:
            return
        if self._client is not None:
            yield from self._dask_map(func, shared, items)
        elif self.backend.jobs <= 1 or len(items) == 1:
            for item in items:
                yield func(shared, item)
        else:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            with context.Pool(min(self.backend.jobs, len(items)), initializer=quiet_worker) as pool:
                yield from pool.imap_unordered(functools.partial(func, shared), items)

    def _dask_map(
        self, func: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]
    ) -> Iterator[Any]:
        from dask.distributed import as_completed

        client = self._client
        # hash=False: a fresh key per call, so releasing an earlier call's copy of the same
        # object (optimise maps once per generation) cannot drop this one
        shared_future = client.scatter(shared, broadcast=True, hash=False)
        futures = [client.submit(func, shared_future, item, pure=False) for item in items]
        try:
            for future in as_completed(futures):
                yield future.result()
                future.release()
        finally:
            client.cancel(futures)
