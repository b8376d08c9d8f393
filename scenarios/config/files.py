"""Every input file the tool reads (config TOML and what it ``extends``, ``projects_file``,
an observations CSV, experiment and policy files, a run's ``manifest.json``) is read here.

A file is checked from its metadata before it is opened, so a named pipe (FIFO), a
device such as ``/dev/zero``, a folder, a symlink loop or an oversized file is one
line and never blocks or fills the memory; then it is read up to its size limit, and
binary data (a NUL byte), text that is not UTF-8, TOML or JSON nested too deeply and
a CSV that is not strictly well formed are one line each. A UTF-8 byte-order mark
(Excel writes one) is accepted and dropped. Every refusal is a ``UserError`` naming
the file (and, where one file names another, the key that named it).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.core.errors import UserError, problem_line

MAX_TOML_BYTES = 4 * 2**20
"""A config, experiment or policy file: the shipped ones are under 40 kB."""
MAX_JSON_BYTES = 16 * 2**20
"""A run's ``manifest.json`` (the resolved config and its provenance, ~40 kB shipped)."""
MAX_CSV_BYTES = 64 * 2**20
"""A projects or observations CSV: hundreds of thousands of rows."""
MAX_NESTING = 64
"""Arrays and tables nested deeper than this are refused (a config nests ~6 deep; deeper
data would only exhaust the parsers' and the loader's recursion)."""
BYTE_ORDER_MARK = "\ufeff"


def _too_big(size: int, what: str, limit: int) -> str:
    return f"is {size:,} bytes; {what} may be at most {limit / 2**20:g} MB"


def file_problem(path: Path, what: str, limit: int) -> str | None:
    """Why ``path`` cannot be read as ``what`` (``None`` when it is a regular file of at
    most ``limit`` bytes), judged from its metadata alone: the file is not opened."""
    try:
        info = os.stat(path)  # follows symlinks; never opens (a FIFO would block on open)
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a part of its path is a file, not a folder)"
    except PermissionError:
        return "cannot be read: permission denied"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"is a symbolic link loop (its links point back at each other), not {what}"
        return f"cannot be read: {exc.strerror or exc}"
    except ValueError:  # os.stat refuses a path holding a NUL character
        return "is not a usable path (it holds a NUL character)"
    return _kind_problem(info, what, limit)


def _kind_problem(info: os.stat_result, what: str, limit: int) -> str | None:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return f"is a folder, not {what}"
    if stat.S_ISFIFO(mode):
        return f"is a named pipe (FIFO), not {what}; give a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"is a device, not {what}; give a regular file"
    if not stat.S_ISREG(mode):
        return f"is not a regular file (a socket?), not {what}"
    if info.st_size > limit:
        return _too_big(info.st_size, what, limit)
    return None


def read_text(path: Path, what: str, limit: int, key: str | None = None) -> str:
    """The UTF-8 text of the input file ``path`` (a byte-order mark dropped), read as
    ``what`` (``"a config file"``) of at most ``limit`` bytes; ``key`` names the key of
    another file that pointed here (``projects_file``, ``extends``), for the message.

    Raises a one-line ``UserError`` for a missing file, a folder, FIFO, device or symlink
    loop, a file over ``limit``, binary data (a NUL byte) and text that is not UTF-8.
    """
    problem = file_problem(path, what, limit)
    if problem is None:
        try:
            data = _read_regular(path, what, limit)
        except _Refused as refused:
            problem = str(refused)
        except OSError as exc:
            problem = f"cannot be read: {exc.strerror or exc}"
        else:
            return _decode(path, data, what, key)
    raise UserError(problem_line(str(path), key, problem))


class _Refused(Exception):
    """The file turned out to be of a kind that is refused once opened."""


def _read_regular(path: Path, what: str, limit: int) -> bytes:
    # O_NONBLOCK: should the path have become a FIFO since it was checked, opening it
    # does not wait for a writer (and the fstat below refuses it)
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        problem = _kind_problem(os.fstat(handle), what, limit)
        if problem is not None:
            raise _Refused(problem)
        chunks, total = [], 0
        while chunk := os.read(handle, min(2**20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise _Refused(_too_big(total, what, limit))
        return b"".join(chunks)
    finally:
        os.close(handle)


def _decode(path: Path, data: bytes, what: str, key: str | None) -> str:
    zero = data.find(b"\0")
    if zero >= 0:
        message = f"holds binary data (a NUL byte at offset {zero}), not {what}"
        raise UserError(problem_line(str(path), key, message))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = (
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            f"save {what} as UTF-8"
        )
        raise UserError(problem_line(str(path), key, message)) from None
    return text.removeprefix(BYTE_ORDER_MARK)


def nesting_depth(data: Any) -> int:
    """How deeply lists and dicts nest in ``data`` (a number or text: 0), without recursion."""
    deepest = 0
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:  # deeper is refused anyway; stop counting there
                stack.extend((child, depth) for child in _children(node))
    return deepest


def _children(node: dict[Any, Any] | list[Any]) -> list[Any]:
    return list(node.values()) if isinstance(node, dict) else node


TOO_DEEP = f"nested more than {MAX_NESTING} levels deep (arrays or tables inside each other)"


def parse_toml(text: str) -> dict[str, Any]:
    """TOML text as data; ``tomllib.TOMLDecodeError`` for bad TOML, ``ValueError`` (with
    ``TOO_DEEP``) for data nested deeper than ``MAX_NESTING``."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    if nesting_depth(data) > MAX_NESTING:
        raise ValueError(TOO_DEEP)
    return data


def read_toml(path: Path, what: str = "a config file", key: str | None = None) -> dict[str, Any]:
    """A TOML input file as data; every kind of bad file is a one-line ``UserError``."""
    text = read_text(path, what, MAX_TOML_BYTES, key)
    try:
        return parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(problem_line(str(path), key, f"not valid TOML: {exc}")) from None
    except ValueError as exc:
        raise UserError(problem_line(str(path), key, str(exc))) from None


def read_json(path: Path, what: str, key: str | None = None) -> Any:
    """A JSON input file (a run's ``manifest.json``) as data; a one-line ``UserError``
    for every kind of bad file."""
    text = read_text(path, what, MAX_JSON_BYTES, key)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(problem_line(str(path), key, f"not valid JSON: {exc}")) from None
    except RecursionError:
        raise UserError(problem_line(str(path), key, TOO_DEEP)) from None
    if nesting_depth(data) > MAX_NESTING:
        raise UserError(problem_line(str(path), key, TOO_DEEP))
    return data


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV file."""

    line: int
    """The file's line the row starts on (the header is line 1, when it is the first line;
    a quoted field spanning lines makes later rows start further down)."""
    cells: dict[str, str]
    """Column name (stripped) → the cell's text as written."""


def read_csv(path: Path, what: str, key: str | None = None) -> tuple[list[str], list[CsvRow]]:
    """The header (names stripped) and the data rows of a CSV input file, parsed strictly.

    A quote that is never closed, text after a closing quote, a row with more or fewer
    cells than the header, or a column named twice is a ``UserError`` naming the line
    (where the row starts); blank lines are skipped.
    """
    text = read_text(path, what, MAX_CSV_BYTES, key)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[CsvRow] = []
    problems: list[str] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(problem_line(str(path), f"line {start}", _csv_error(exc)))
            break  # the rest of the file cannot be told apart from the broken field
        if not cells:
            continue
        if header is None:
            header = [name.strip() for name in cells]
            problems += [
                problem_line(str(path), f"line {start}", f"column '{name}' is named twice")
                for i, name in enumerate(header)
                if name in header[:i]
            ]
        elif len(cells) != len(header):
            problems.append(
                problem_line(
                    str(path),
                    f"line {start}",
                    f"{len(cells)} cell(s) but the header has {len(header)} columns; "
                    + (
                        "quote a cell that holds a comma"
                        if len(cells) > len(header)
                        else "give every column (a cell may be empty)"
                    ),
                )
            )
        else:
            rows.append(CsvRow(start, dict(zip(header, cells, strict=True))))
    if problems:
        raise UserError(problems)
    return header or [], rows


def _csv_error(exc: csv.Error) -> str:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return "a quoted cell of the row starting here is never closed (a '\"' is missing)"
    return f"not valid CSV: {reason} (a cell with '\"' in it must be quoted whole, '\"' doubled)"
