"""One guarded way to write any output: a results folder, or files written together.

Every command that writes (``run``, ``compare``, ``report``, ``explore``, ``optimise``,
``backtest``, ``allocate --export-mps``) goes through here, so the same promises hold
everywhere:

- **Nothing half-written.** An output is written in a staging place on the target's own
  file system (a folder ``.<name>.partial-<pid>-<random>`` beside a results folder;
  temporary files beside files) and moved into place only when complete. A write error
  (disk full, read-only file system, no permission) is one line naming the output, and
  the staging place is removed.
- **Nothing lost.** An existing output is replaced only with ``force``, and then only one
  this tool wrote: a folder whose ``manifest.json`` says ``"tool": "clusterfund"``, a file
  that ``owned`` recognises. Never a symbolic link, never the current folder or a folder
  holding it, never a folder holding a file the command reads.
- **Clean stops.** The final renames happen with stop signals held; once published, a
  stop comes too late and the command runs to its end and reports success. A stop before
  that leaves nothing.
- **Two writers.** The renames happen under an ``flock`` of the parent folder: one writer
  wins, the other refuses in one line. A staging folder is locked by the process writing
  it, so one left by a killed process (even one whose process id was reused) is removed.
- **Permissions** follow the user's umask (temporary folders and files are created
  0700 and 0600, and are opened up to what the umask allows before they are published).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from scenarios.core.errors import UserError
from scenarios.core.stops import hold_stops_for_good, raise_if_stopped, stops_held

RESULTS_ROOT = Path("results")
"""Where a command's default output folder goes (relative to the current folder)."""
MANIFEST_JSON = "manifest.json"
TOOL = "clusterfund"
STAGING_NAME = re.compile(r"\.(?P<name>.+)\.partial-(?:(?P<pid>\d+)-)?.*")
"""A staging folder's name: ``.<results folder>.partial-<pid>-<random>``."""
REPLACED_NAME = ".{name}.replaced-"
"""The prefix of a replaced folder on its way out (``.<name>.replaced-<pid>``)."""
WRITE_ERRORS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EIO,
        errno.EFBIG,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.EISDIR,
        errno.ENOENT,
    }
)
"""Operating-system errors that mean "this output cannot be written here" (bad input, one
line), not a fault of the tool."""


def folder_name(text: str) -> str:
    """``text`` (a scenario name, say) as one harmless folder name: characters other than
    letters, digits, ``.``, ``-`` and ``_`` become ``_``, and it does not start with a dot."""
    return re.sub(r"[^\w.-]+", "_", text).lstrip(".") or "_"


MAX_DEFAULT_NAME = 100
"""A default folder's name is cut to this many characters (a file system allows 255 bytes)."""


def default_folder(name: str) -> Path:
    """The default output folder of a command: ``results/<name, cleaned>`` (at most
    ``MAX_DEFAULT_NAME`` characters); it always stays under ``results/``."""
    return RESULTS_ROOT / folder_name(name)[:MAX_DEFAULT_NAME]


def results_folder_of(folder: Path) -> Path:
    """The folder that ``folder`` becomes: itself, or for a staging folder its target."""
    staging = STAGING_NAME.fullmatch(folder.name)
    return folder.with_name(staging["name"]) if staging else folder


def written_by_tool(folder: Path) -> bool:
    """Whether ``folder`` holds a ``manifest.json`` that says this tool wrote it."""
    try:
        manifest = json.loads((folder / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("tool") == TOOL


def write_error(target: Path, exc: OSError) -> UserError:
    """The one line for an output that cannot be written (disk full, read-only, ...)."""
    reason = exc.strerror or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and Path(exc.filename) != target else ""
    return UserError(f"{target}: cannot be written: {reason}{where}; nothing was written")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _open_up(path: Path, directory: bool) -> None:
    """Give ``path`` (made 0700/0600 by ``tempfile``) the permissions the umask allows."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_place(target: Path, what: str) -> None:
    """Refuse a target that is a symbolic link, or whose parent path runs through a file."""
    if target.is_symlink():
        raise UserError(
            f"{target}: is a symbolic link; give the real {what} path, or choose another --out"
        )
    for parent in target.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise UserError(f"{target}: {parent} is a file, not a folder; choose another --out")
            break


def check_folder_free(out: Path, force: bool, reads: Sequence[str | Path] = ()) -> None:
    """Refuse to write the results folder ``out`` where that would lose something.

    Without ``force`` an existing ``out`` is refused. With it, ``out`` must be a folder
    this tool wrote, must not be the current folder or hold it, and must not hold a file
    the command reads (``reads``).
    """
    try:
        _check_place(out, "results folder")
        if not out.exists():
            return
        ours = written_by_tool(out)
    except OSError as exc:  # a name too long for the file system, a folder we may not read
        raise write_error(out, exc) from None
    if not out.is_dir():
        raise UserError(f"{out}: is a file, not a results folder; choose another --out")
    if not force and not ours:
        raise UserError(
            f"{out}: already exists and is not a results folder this tool wrote; choose "
            "another --out"
        )
    if not force:
        raise UserError(
            f"{out}: results folder already exists; use --force to replace it or --out to write elsewhere"
        )
    resolved = out.resolve()
    if _inside(Path.cwd().resolve(), resolved):
        raise UserError(f"{out}: holds the current folder; --force will not replace it")
    if not ours:
        raise UserError(
            f"{out}: not a folder this tool wrote (no clusterfund {MANIFEST_JSON}); --force "
            "replaces only those; choose another --out"
        )
    held = [str(f) for f in reads if _inside(Path(f).resolve(), resolved)]
    if held:
        raise UserError(
            f"{out}: holds {held[0]}, which this command reads; --force will not replace it; "
            "choose another --out"
        )


@contextlib.contextmanager
def _parent_locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (other clusterfund processes wait for it)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _try_lock(folder: Path) -> int | None:
    """An open descriptor holding an exclusive ``flock`` on ``folder``, or ``None`` when
    another process holds it."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    return handle


def _made_parents(out: Path) -> list[Path]:
    """Make ``out``'s missing parent folders; return them, deepest first (to remove again)."""
    made = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    return made


def _remove_made(made: Sequence[Path]) -> None:
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            break


def _clear_leftovers(out: Path) -> None:
    """Under the parent's lock: remove staging folders of ``out`` whose writer has gone and
    replaced folders left by a stopped removal; refuse if a live process is writing ``out``."""
    pattern = glob.escape(out.name)
    for leftover in out.parent.glob(f".{pattern}.replaced-*"):
        shutil.rmtree(leftover, ignore_errors=True)  # outside the lock it is always garbage
    for other in out.parent.glob(f".{pattern}.partial-*"):
        staging = STAGING_NAME.fullmatch(other.name)
        if not (staging and staging["pid"] and other.is_dir() and not other.is_symlink()):
            continue  # not ours to judge; never read as results anyway
        handle = _try_lock(other)
        if handle is None:
            raise UserError(
                f"{out}: another clusterfund run (process {staging['pid']}) is writing it; "
                "wait for it to finish or choose another --out"
            )
        shutil.rmtree(other, ignore_errors=True)  # its writer was killed
        os.close(handle)


class StagedFolder:
    """A results folder written in a staging folder beside ``out`` and published whole.

    Use as a context manager: write into :attr:`path`; when the block ends without an
    error, the folder is renamed to ``out`` (replacing an old one of this tool's only with
    ``force``); on an error or a stop the staging folder is removed. A write error becomes
    one line. ``reads`` are the files the command reads (never replaced).
    """

    def __init__(self, out: Path, force: bool, reads: Sequence[str | Path] = ()) -> None:
        check_folder_free(out, force, reads)
        self.out = out
        self.force = force
        self.reads = tuple(reads)
        self._lock: int | None = None
        try:
            self.made = _made_parents(out)
            with _parent_locked(out.parent):
                try:
                    _clear_leftovers(out)
                except UserError:
                    _remove_made(self.made)
                    raise
                self.path = Path(
                    tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent)
                )
                self._lock = _try_lock(self.path)
        except OSError as exc:
            raise write_error(out, exc) from None

    def __enter__(self) -> StagedFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()
            if isinstance(exc, OSError) and exc.errno in WRITE_ERRORS:
                raise write_error(self.out, exc) from None
            return
        try:
            self.publish()
        except OSError as exc:
            self.discard()
            raise write_error(self.out, exc) from None

    def publish(self) -> None:
        """Rename the staging folder to ``out`` (stops held); then stops are held for good."""
        try:
            raise_if_stopped()
            _open_up(self.path, directory=True)
        except BaseException:
            self.discard()
            raise
        old = None
        with stops_held():
            try:
                with _parent_locked(self.out.parent):
                    check_folder_free(self.out, self.force, self.reads)
                    if self.force and self.out.exists():
                        old = self.out.with_name(
                            REPLACED_NAME.format(name=self.out.name) + str(os.getpid())
                        )
                        shutil.rmtree(old, ignore_errors=True)
                        os.rename(self.out, old)
                    try:
                        os.rename(self.path, self.out)  # fails if a folder with files is there
                    except OSError as exc:
                        if old is not None:
                            os.rename(old, self.out)
                        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR):
                            raise UserError(
                                f"{self.out}: another run wrote this results folder first; "
                                "use --force to replace it or --out to write elsewhere"
                            ) from exc
                        raise
            except BaseException:  # refused or failed: nothing of this run is left
                self.discard()
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                raise
            hold_stops_for_good()
        self._unlock()
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)  # stops are held: it goes whole

    def discard(self) -> None:
        """Remove the staging folder and any parent folder made for it (if still empty)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._unlock()
        _remove_made(self.made)

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


class StagedFiles:
    """Files published together (a report page and its workbook; a backtest table and its
    chart): each written to a temporary file beside it, all renamed into place at the end
    with stops held, so a stop or an error leaves the old files (or none), never a mix.

    An existing file is replaced only with ``force``, and only when ``owned`` (if given)
    says this tool wrote it.
    """

    def __init__(
        self,
        targets: Sequence[Path],
        force: bool,
        owned: Callable[[Path], bool] | None = None,
        option: str = "--out",
        reads: Sequence[str | Path] = (),
        within: Path | None = None,
    ) -> None:
        inputs = {Path(f).resolve() for f in reads}
        self.within = within
        """A results folder the files go into; if it is replaced meanwhile (a ``run --force``
        into it), nothing is published."""
        self._within_inode = within.stat().st_ino if within is not None else None
        for target in targets:
            try:
                self._check_target(target, force, owned, option, inputs)
            except OSError as exc:  # a name too long for the file system, say
                raise write_error(target, exc) from None
        self.targets = list(targets)
        self.made: list[Path] = []
        self._temporary: dict[Path, Path] = {}

    @staticmethod
    def _check_target(
        target: Path,
        force: bool,
        owned: Callable[[Path], bool] | None,
        option: str,
        inputs: set[Path],
    ) -> None:
        _check_place(target, "file")
        if target.resolve() in inputs:
            raise UserError(f"{target}: is a file this command reads; choose another {option}")
        if not target.exists():
            return
        if target.is_dir():
            raise UserError(f"{target}: is a folder, not a file; choose another {option}")
        if not target.is_file():
            raise UserError(
                f"{target}: is not a regular file (a device or a pipe); choose another {option}"
            )
        if owned is not None and not owned(target):
            raise UserError(
                f"{target}: already exists and is not a file this tool wrote; choose another "
                f"{option}"
            )
        if not force:
            raise UserError(f"{target}: already exists; use --force to overwrite it")

    def __enter__(self) -> StagedFiles:
        try:
            for target in self.targets:
                self.made += _made_parents(target)
        except OSError as exc:
            raise write_error(self.targets[0], exc) from None
        return self

    def path(self, target: Path) -> Path:
        """Where to write ``target`` until it is published (a temporary file beside it)."""
        if target not in self._temporary:
            try:
                handle, name = tempfile.mkstemp(
                    prefix=f".{target.name}.partial-{os.getpid()}-",
                    suffix=target.suffix,
                    dir=target.parent,
                )
            except OSError as exc:
                raise write_error(target, exc) from None
            os.close(handle)
            self._temporary[target] = Path(name)
        return self._temporary[target]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()
            if isinstance(exc, OSError) and exc.errno in WRITE_ERRORS:
                raise write_error(self.targets[0], exc) from None
            return
        try:
            raise_if_stopped()
            with stops_held(), self._within_locked():
                for target, temporary in self._temporary.items():
                    _open_up(temporary, directory=False)
                    os.replace(temporary, target)
                hold_stops_for_good()
        except OSError as exc:
            self.discard()
            raise write_error(self.targets[0], exc) from None
        except BaseException:
            self.discard()
            raise

    @contextlib.contextmanager
    def _within_locked(self) -> Iterator[None]:
        """Hold the lock a results folder is published under, and refuse if the folder the
        files go into was replaced since the command read it."""
        if self.within is None:
            yield
            return
        with _parent_locked(self.within.parent):
            if not self.within.is_dir() or self.within.stat().st_ino != self._within_inode:
                raise UserError(
                    f"{self.within}: was replaced while this command ran (another run wrote "
                    "it); nothing was written, run the command again"
                )
            yield

    def discard(self) -> None:
        """Remove the temporary files (and any folder made for them, if still empty)."""
        for temporary in self._temporary.values():
            temporary.unlink(missing_ok=True)
        _remove_made(sorted(set(self.made), key=lambda p: len(p.parts), reverse=True))
