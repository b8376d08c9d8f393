"""Reading a parameter-set file (``parameter_sets = "baseline_sets.csv"`` in a scenario).

The file is a CSV: a column ``set`` numbering the rows 0, 1, ... in order, then one column
per dotted key (keys of :data:`simulator.parameter_sets.PER_RUN_KEYS`, e.g.
``members.churn`` or ``clusters.packbridge.private_income``), one row per set. The
calibration writes one (``parameter_sets.csv`` in an explore folder). Problems of shape
(a missing cell, a value that is not a number, a NaN, no rows) are one line each naming
the file and the line; problems that need the scenario (an unknown key or cluster, a
value outside its range) are found when it is validated (:func:`simulator.parameter_sets.set_problems`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from scenarios.config.files import read_csv
from scenarios.core.errors import UserError, problem_line

SET_COLUMN = "set"
"""The column that numbers the sets."""
MAX_SETS = 10_000
"""The most sets a file may hold (each is a scenario variant kept in memory; a calibration
keeps far fewer)."""


def read_parameter_sets(path: Path) -> dict[str, Any]:
    """The sets of ``path`` as a scenario's ``parameter_sets`` table (file, keys, values)."""
    header, rows = read_csv(path, "a parameter-set CSV", "parameter_sets")
    file = str(path)
    if not header or header[0] != SET_COLUMN:
        raise UserError(
            problem_line(
                file, "line 1", f"the first column must be '{SET_COLUMN}' (the set's number)"
            )
        )
    keys = header[1:]
    if not keys:
        raise UserError(problem_line(file, "line 1", "no keys: give a column per dotted key"))
    if not rows:
        raise UserError(problem_line(file, "rows", "no parameter sets; give at least one row"))
    if len(rows) > MAX_SETS:
        raise UserError(
            problem_line(file, "rows", f"{len(rows):,} sets; at most {MAX_SETS:,} are allowed")
        )
    problems: list[str] = []
    values: list[list[float]] = []
    for number, row in enumerate(rows):
        where = f"line {row.line}"
        if row.cells[SET_COLUMN].strip() != str(number):
            problems.append(
                problem_line(
                    file,
                    where,
                    f"set '{row.cells[SET_COLUMN].strip()}': number the sets 0, 1, 2, ... in "
                    f"order (expected {number})",
                )
            )
        numbers = []
        for key in keys:
            text = row.cells[key].strip()
            try:
                value = float(text)
            except ValueError:
                problems.append(problem_line(file, f"{where}: {key}", f"'{text}' is not a number"))
                continue
            if not math.isfinite(value):
                problems.append(
                    problem_line(file, f"{where}: {key}", f"{text} is not a finite number")
                )
            numbers.append(value)
        values.append(numbers)
    if problems:
        raise UserError(problems)
    return {"file": file, "keys": keys, "values": values}
