"""A resumable work folder: finished chunks are saved as they come, and a stopped
job picks up where it stopped.

The folder sits beside the results folder as ``.<name>.work/`` while the job runs.
``plan.json`` records what is being computed (its fingerprint); a resumed job
must have the same fingerprint, so chunks of different experiments never mix.
Each chunk is one ``.npy`` file, written to a temporary name and renamed, so a
kill leaves either a whole chunk or none. A lock file keeps two jobs out of one
folder. When every chunk is in, the caller writes the tables through
:class:`scenarios.folders.publish.StagedFolder`, and only once they are published is
the work folder removed (:meth:`WorkFolder.remove`): a failed final step never loses
finished work.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.core.errors import UserError
from scenarios.folders.publish import check_folder_free

PLAN_JSON = "plan.json"
CHUNKS_DIR = "chunks"
WAVE_DIR = "wave_{number}"
"""The sub-store of a calibration's wave ``number`` (2, 3 ...; wave 1 is the folder's own)."""
DESIGN_FILE = "design.txt"
"""A wave's design fingerprint, checked when the wave resumes."""
LOCK_FILE = ".lock"
_CHUNK_NAME = re.compile(r"^points_(\d+)_(\d+)\.npy$")


def work_path(out: Path) -> Path:
    """Where the work folder of results folder ``out`` lives."""
    return out.with_name(f".{out.name}.work")


class WorkFolder:
    """The chunks of one job, saved as they finish; a context manager holding the lock."""

    def __init__(
        self,
        out: Path,
        fingerprint: str,
        plan: dict[str, Any],
        resume: bool,
        force: bool,
        reads: Sequence[str | Path] = (),
    ):
        check_folder_free(out, force, reads)  # before any work: the final step checks again
        self.out = out
        self.force = force
        self.path = work_path(out)
        self.fingerprint = fingerprint
        self.resumed = False
        self._lock_handle: Any = None
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"{self.path}: is a file; remove it or choose another --out")
        if self.path.exists():
            self._take_lock()
            if resume:
                self._check_same_plan()
                self.resumed = True
            elif force:
                self._release_lock()
                shutil.rmtree(self.path)
            else:
                self._release_lock()
                raise UserError(
                    f"{self.path}: a stopped run of this job is there; add --resume to "
                    f"finish it, or --force to start over"
                )
        if not self.resumed:
            (self.path / CHUNKS_DIR).mkdir(parents=True)
            self._take_lock()
            plan = {"fingerprint": fingerprint, **plan}
            (self.path / PLAN_JSON).write_text(
                json.dumps(plan, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )

    def _take_lock(self) -> None:
        handle = (self.path / LOCK_FILE).open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise UserError(
                f"{self.path}: another clusterfund process is working in this folder"
            ) from None
        self._lock_handle = handle

    def _release_lock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    def _check_same_plan(self) -> None:
        try:
            plan = json.loads((self.path / PLAN_JSON).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            plan = {}
        if plan.get("fingerprint") != self.fingerprint:
            self._release_lock()
            raise UserError(
                f"{self.path}: the stopped run was of a different job (the file, its base "
                f"scenario or the code changed); use --force to start over"
            )

    def __enter__(self) -> WorkFolder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: object, traceback: object
    ) -> None:
        """Let go of the lock. A job that failed or was stopped before it saved anything
        leaves no folder behind; a stopped one that saved work keeps it for ``--resume``, and
        the stop (a ``KeyboardInterrupt``) says where (``kept_work``)."""
        self._release_lock()
        if exc_type is None or not self.path.exists():
            return
        if any((self.path / CHUNKS_DIR).glob("*.npy")):
            if isinstance(exc, KeyboardInterrupt):
                exc.kept_work = self.path  # type: ignore[attr-defined]
            return
        shutil.rmtree(self.path, ignore_errors=True)

    def save_chunk(self, first: int, values: np.ndarray) -> None:
        """Store the values of points ``first ..`` (one row per point), atomically."""
        last = first + len(values) - 1
        final = self.path / CHUNKS_DIR / f"points_{first:07d}_{last:07d}.npy"
        temporary = final.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            np.save(handle, values)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(final)

    def load_chunks(
        self, points: int | None, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(values (points, *shape), done mask) from every saved chunk; ``points=None``
        sizes the arrays to the last point saved."""
        found = []
        for file in sorted((self.path / CHUNKS_DIR).iterdir()):
            match = _CHUNK_NAME.match(file.name)
            if match:
                found.append((int(match.group(1)), int(match.group(2)), file))
        if points is None:
            points = max((last + 1 for _, last, _ in found), default=0)
        values = np.full((points, *shape), np.nan)
        done = np.zeros(points, dtype=bool)
        for first, last, file in found:
            chunk = np.load(file)
            if last >= points or chunk.shape != (last - first + 1, *shape):
                raise UserError(f"{file}: does not belong to this job; use --force to start over")
            values[first : last + 1] = chunk
            done[first : last + 1] = True
        return values, done

    def wave(self, number: int, fingerprint: str) -> WorkFolder:
        """The chunk store of wave ``number`` of a calibration in waves: wave 1's is this
        folder's own, a later wave's is ``wave_<number>/`` inside it, sharing this folder's
        lock. Its design is the same on every resume (it follows from the saved chunks of the
        waves before it); ``fingerprint`` (of the design) is recorded, and a stopped wave
        whose recorded design differs is refused."""
        if number == 1:
            return self
        view = copy.copy(self)
        view.path = self.path / WAVE_DIR.format(number=number)
        (view.path / CHUNKS_DIR).mkdir(parents=True, exist_ok=True)
        recorded = view.path / DESIGN_FILE
        if recorded.is_file() and recorded.read_text(encoding="utf-8") != fingerprint:
            raise UserError(
                f"{view.path}: the stopped run of wave {number} had another design; use "
                "--force to start over"
            )
        recorded.write_text(fingerprint, encoding="utf-8")
        return view

    def discard(self) -> None:
        """Remove the folder and everything saved in it (a job that cannot succeed)."""
        self._release_lock()
        shutil.rmtree(self.path, ignore_errors=True)

    @contextlib.contextmanager
    def kept_if_refused(self) -> Iterator[None]:
        """A block publishing this job's results: if the results folder cannot be written
        (it appeared meanwhile, the disk is full ...), the error says that the finished work
        is kept here and how to finish it."""
        try:
            yield
        except UserError as exc:
            raise UserError(
                [
                    *exc.lines,
                    f"{self.path}: the finished work is kept; once {self.out} is free (moved "
                    f"away, or with --force if this tool wrote it) run the same command with "
                    f"--resume to write the results",
                ]
            ) from None

    def remove(self) -> None:
        """Remove the folder once its results are published (nothing in it is needed then)."""
        self.discard()
