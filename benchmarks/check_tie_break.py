"""The tie-break on every program of an ensemble: the fast path (HiGHS without presolve),
HiGHS with presolve, PuLP with HiGHS and PuLP with CBC give the same allocation, at the
optimum of the program without the tie-break, and the fast path's count of zero duals
tells a possible tie as its basis does (``tests/test_tie_break.py::check_ensemble``; it
asserts).

    python benchmarks/check_tie_break.py            # 200 runs (~3 min)
    python benchmarks/check_tie_break.py --runs 50
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_tie_break import check_ensemble  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    started = time.perf_counter()
    found = check_ensemble(runs)
    print(
        f"{runs} baseline runs: {found.programs} distinct programs, one allocation from all four "
        f"methods on every one; without the tie-break, a plain solve (PuLP with HiGHS) returned "
        f"another optimal allocation on {found.plain_differs}; the fast path solved "
        f"{found.second_solves} again over their optima and left {found.ties_left} ties "
        f"unsettled ({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
