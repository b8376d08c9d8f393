"""How often a command's calls go back into a module they already left.

Traces every call between the project's own modules (``scenarios`` and ``simulator``)
while one command runs in this process, and counts, per module, the calls into it from
another module after the first: a layered design enters each module once, on the way down.

    .venv/bin/python benchmarks/trace_calls.py explore configs/experiments/what_matters.toml \
        --set samples=2 --until sensitivity.csv

``--until NAME`` stops counting when a file of that name is opened (the trip "from the CLI
to sensitivity.csv"). The experiment is shrunk to a few points (``--points``) so the trace
takes seconds.
"""

from __future__ import annotations

import argparse
import builtins
import collections
import io
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PACKAGES = ("scenarios", "simulator")
FIRST_ONLY = True


def module_of(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    name = frame.f_globals.get("__name__", "")
    return name if name.split(".")[0] in PACKAGES else None


def trace(argv: list[str], until: str | None) -> collections.Counter[str]:
    """Run ``clusterfund ARGV``; per module of ``scenarios``, the distinct calls (caller
    function → callee function) that go back into it from a module it called, directly
    or further down (the module is still on the call stack below the caller)."""
    from click.testing import CliRunner

    from scenarios.cli import cli

    stack: list[str | None] = []
    back: set[tuple[str, str]] = set()
    sequence: list[str] = []
    stopped = False
    real_open = builtins.open
    io_open = io.open

    def watch_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal stopped
        if until and Path(str(file)).name == until:
            stopped = True
        return real_open(file, *args, **kwargs)

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "return":
            if stack:
                stack.pop()
            return
        if event != "call":
            return
        callee = module_of(frame)
        caller = module_of(frame.f_back)
        if not stopped and callee is not None and callee.startswith("scenarios"):
            sequence.append(callee)
        below = [m for m in stack[:-1] if m is not None]
        if (
            not stopped
            and callee is not None
            and callee.startswith("scenarios")
            and caller is not None
            and callee != caller
            and (callee in below or not FIRST_ONLY)
        ):
            back.add(
                (f"{caller}.{frame.f_back.f_code.co_name}", f"{callee}.{frame.f_code.co_name}")
            )
        stack.append(callee)

    builtins.open = watch_open
    io.open = watch_open
    sys.setprofile(profile)
    try:
        result = CliRunner().invoke(cli, argv, obj={}, catch_exceptions=False)
    finally:
        sys.setprofile(None)
        builtins.open = real_open
        io.open = io_open
    if result.exit_code != 0:
        raise SystemExit(result.output)
    counts: collections.Counter[str] = collections.Counter(
        callee.rpartition(".")[0] for _, callee in back
    )
    for caller, callee in sorted(back):
        print(f"    {caller} -> {callee}")
    runs = [m for i, m in enumerate(sequence) if i == 0 or sequence[i - 1] != m]
    print("returns to a module along the trip (call events; runs of one module after the first):")
    for module, count in collections.Counter(runs).most_common():
        print(f"  {module:<40} {count - 1}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--points", type=int, default=2, help="Sobol' base N of the shrunk run")
    parser.add_argument("--until", default="sensitivity.csv")
    parser.add_argument(
        "--entries",
        action="store_true",
        help="count every distinct call into a module from another one (not only calls back)",
    )
    args = parser.parse_args()
    global FIRST_ONLY
    FIRST_ONLY = not args.entries
    text = args.experiment.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        shrunk = args.experiment.parent / f".trace_{args.experiment.name}"
        lines, top = [], True
        for line in text.splitlines():
            top = top and not line.startswith("[")
            if top and line.startswith("samples"):
                line = f"samples = {args.points}"
            elif top and line.startswith("replications"):
                line = "replications = 1"
            lines.append(line)
        shrunk.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            counts = trace(
                ["explore", str(shrunk), "--out", f"{scratch}/out", "--no-plots"], args.until
            )
        finally:
            shrunk.unlink()
    total = sum(counts.values())
    print(f"distinct calls back into a module still on the stack, CLI to {args.until}: {total}")
    for module, count in counts.most_common():
        print(f"  {module:<40} {count}")


if __name__ == "__main__":
    main()
