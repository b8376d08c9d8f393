"""Speed of the arena LP: PuLP build + HiGHS solve against a direct sparse build in highspy.

For N projects over 5 years (every project eligible every year; 10 clusters; area
shares, cluster caps, cover and co-funding as in the baseline; at most `duration`
funded years per project) it times

- the formulation (`simulator.formulation.formulate`) made a PuLP model
  (`simulator.lp.build_program`) and solved by HiGHS,
- the formulation's arrays handed to highspy directly (the fast path,
  `simulator.lp_highs.pass_program`),
- the same LP built independently as a sparse matrix with numpy and solved by
  highspy (the reference and lower bound), checking all reach the same objective,
- the MILP (binary) at the smaller sizes,
- and what memoisation saves in a baseline ensemble.

    python benchmarks/bench_lp.py                      # N = 100 ... 100,000, memo over 1,000 runs
    python benchmarks/bench_lp.py --sizes 100 1000 --memo-runs 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import pulp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenarios.config.scenario import load_config  # noqa: E402
from simulator.allocation import MemoisedAllocator  # noqa: E402
from simulator.formulation import YearInputs, formulate  # noqa: E402
from simulator.lp import build_program, solve, solver_for  # noqa: E402
from simulator.lp_highs import pass_program  # noqa: E402
from simulator.model import default_allocator, simulate  # noqa: E402
from simulator.scenario import AREAS, Allocator, Project  # noqa: E402

YEARS = (2019, 2020, 2021, 2022, 2023)
CLUSTERS = tuple(f"c{i}" for i in range(10))
OPTIONS = Allocator(
    area_min_share=dict.fromkeys(AREAS, 0.2),
    cluster_cap_share=0.35,
    cofunding_min_ratio=0.3,
    cover_every_cluster=True,
    soft_targets=True,
    growth_seed_weight=1.5,
    at_risk_weight=1.0,
)


def random_pool(n: int, rng: np.random.Generator) -> list[Project]:
    projects = []
    for i in range(n):
        size = int(rng.integers(2, 5))
        clusters = list(rng.choice(CLUSTERS, size=size, replace=False))
        cost = float(rng.uniform(0.2, 1.5))
        projects.append(
            Project(
                id=f"P{i}",
                title="p",
                area=AREAS[int(rng.integers(0, 3))],
                clusters=clusters,
                cost_per_year=cost,
                duration=int(rng.integers(1, 4)),
                earliest_start=2019,
                cofunding_per_year=float(rng.uniform(0.0, 0.6)) * cost,
                impact=float(rng.uniform(1, 10)),
                growth_seed=bool(rng.random() < 0.1),
            )
        )
    return projects


def budget_for(projects: list[Project]) -> float:
    return 0.1 * sum(p.cost_per_year for p in projects)


def program_years(projects: list[Project]) -> list[YearInputs]:
    """Every project eligible in every year, every cluster open."""
    budget = budget_for(projects)
    return [
        YearInputs(y, budget, tuple(projects), open_clusters=frozenset(CLUSTERS)) for y in YEARS
    ]


MILP_GAP = 0.01
MILP_TIME_LIMIT = 120.0


def solve_pulp(projects: list[Project], binary: bool) -> tuple[float, float, float]:
    years = program_years(projects)
    started = time.perf_counter()
    built = build_program(years, OPTIONS, binary=binary)
    built_at = time.perf_counter()
    if binary:
        solver = pulp.HiGHS(msg=False, timeLimit=MILP_TIME_LIMIT, gapRel=MILP_GAP)
    else:
        solver = solver_for("highs")
    status = solve(built, solver)
    done = time.perf_counter()
    assert status in ("Optimal", "Not proven optimal (time limit)"), status
    impact = sum(built.impact.get(v, 0) * (v.value() or 0.0) for v in built.impact)  # type: ignore[union-attr]
    return built_at - started, done - built_at, float(impact)


def solve_fast(projects: list[Project]) -> tuple[float, float, float]:
    """The formulation's arrays passed to highspy (the ensemble's fast path)."""
    years = program_years(projects)
    started = time.perf_counter()
    program = formulate(years, OPTIONS, binary=False)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    pass_program(highs, program)
    built_at = time.perf_counter()
    highs.run()
    done = time.perf_counter()
    x = np.asarray(highs.getSolution().col_value)
    return built_at - started, done - built_at, float(program.impact @ x)


def solve_direct(projects: list[Project]) -> tuple[float, float, float]:
    """The same LP as a column-wise sparse matrix, passed to highspy."""
    started = time.perf_counter()
    n, years = len(projects), len(YEARS)
    budget = budget_for(projects)
    cost = np.array([p.cost_per_year for p in projects])
    cofund = np.array([p.cofunding_per_year for p in projects])
    impact = np.array(
        [p.impact * (OPTIONS.growth_seed_weight if p.growth_seed else 1.0) for p in projects]
    )
    area = np.array([AREAS.index(p.area) for p in projects])
    duration = np.array([p.duration for p in projects], dtype=float)
    member = np.zeros((n, len(CLUSTERS)))
    for i, p in enumerate(projects):
        member[i, [CLUSTERS.index(c) for c in p.clusters]] = 1.0
    share_cost = cost / member.sum(axis=1)
    rows, cols, vals, lower, upper = [], [], [], [], []
    row = 0
    soft_rows = []
    for y in range(years):
        col = y * n + np.arange(n)
        rows.append(np.full(n, row))
        cols.append(col)
        vals.append(cost)
        lower.append(-np.inf)
        upper.append(budget)
        row += 1
        for a in range(3):
            mask = area == a
            need = min(0.2 * budget, cost[mask].sum())
            rows.append(np.full(mask.sum(), row))
            cols.append(col[mask])
            vals.append(cost[mask])
            lower.append(need)
            upper.append(np.inf)
            soft_rows.append(row)
            row += 1
        for c in range(len(CLUSTERS)):
            mask = member[:, c] > 0
            rows.append(np.full(mask.sum(), row))
            cols.append(col[mask])
            vals.append(share_cost[mask])
            lower.append(-np.inf)
            upper.append(0.35 * budget)
            row += 1
            rows.append(np.full(mask.sum(), row))
            cols.append(col[mask])
            vals.append(np.ones(mask.sum()))
            lower.append(0.25)
            upper.append(np.inf)
            soft_rows.append(row)
            row += 1
        rows.append(np.full(n, row))
        cols.append(col)
        vals.append(cofund - 0.3 * cost)
        lower.append(0.0)
        upper.append(np.inf)
        row += 1
    for y in range(years):
        rows.append(row + np.arange(n))
        cols.append(y * n + np.arange(n))
        vals.append(np.ones(n))
    lower += [-np.inf] * n
    upper += list(duration)
    row += n
    penalty = 1.0 + impact.sum() * years
    shortfall_cols = years * n + np.arange(len(soft_rows))
    rows.append(np.array(soft_rows))
    cols.append(shortfall_cols)
    vals.append(np.ones(len(soft_rows)))
    num_col = years * n + len(soft_rows)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    order = np.lexsort((r, c))
    r, c, v = r[order], c[order], v[order]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = num_col, row
    lp.col_cost_ = np.concatenate((np.tile(impact, years), np.full(len(soft_rows), -penalty)))
    lp.col_lower_ = np.zeros(num_col)
    lp.col_upper_ = np.concatenate((np.ones(years * n), np.full(len(soft_rows), np.inf)))
    lp.row_lower_, lp.row_upper_ = np.array(lower, dtype=float), np.array(upper, dtype=float)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(c, np.arange(num_col + 1))
    lp.a_matrix_.index_ = r
    lp.a_matrix_.value_ = v
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    built_at = time.perf_counter()
    highs.run()
    done = time.perf_counter()
    x = np.asarray(highs.getSolution().col_value)[: years * n]
    return built_at - started, done - built_at, float(np.tile(impact, years) @ x)


def memo_savings(runs: int) -> None:
    scenario = load_config(ROOT / "configs" / "baseline.toml").scenario
    memo = MemoisedAllocator(default_allocator(scenario))
    started = time.perf_counter()
    for run in range(runs):
        simulate(scenario, np.random.default_rng(run), memo)
    with_memo = time.perf_counter() - started
    plain = default_allocator(scenario)
    sample = max(1, runs // 10)
    started = time.perf_counter()
    for run in range(sample):
        simulate(scenario, np.random.default_rng(run), plain)
    without_memo = (time.perf_counter() - started) * runs / sample
    total = memo.hits + memo.misses
    print(
        f"\nmemoisation, baseline ensemble of {runs} runs: {total} yearly LPs asked, "
        f"{memo.misses} solved, {memo.hits} reused ({memo.hits / total:.0%})"
    )
    print(
        f"  with memo {with_memo:.1f} s; without (measured on {sample} runs, scaled) "
        f"{without_memo:.1f} s; saves {without_memo - with_memo:.1f} s ({without_memo / with_memo:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--milp-sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--memo-runs", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"{'N':>8} {'pulp build':>11} {'pulp solve':>11} {'fast build':>11} {'fast solve':>11} "
        f"{'direct build':>13} {'direct solve':>13} {'ratio':>6}  objective check"
    )
    previous = None
    for n in args.sizes:
        pool = random_pool(n, rng)
        pb, ps, p_obj = solve_pulp(pool, binary=False)
        fb, fs, f_obj = solve_fast(pool)
        db, ds, d_obj = solve_direct(pool)
        ratio = (pb + ps) / (db + ds)
        growth = "" if previous is None else f"  time ×{(pb + ps) / previous:.1f} for N ×10"
        previous = pb + ps
        check = (
            "same"
            if max(abs(p_obj - d_obj), abs(f_obj - d_obj)) <= 1e-6 * max(1.0, abs(d_obj))
            else f"DIFFER {p_obj} {f_obj} {d_obj}"
        )
        print(
            f"{n:>8} {pb:>10.3f}s {ps:>10.3f}s {fb:>10.3f}s {fs:>10.3f}s "
            f"{db:>12.3f}s {ds:>12.3f}s {ratio:>5.2f}x  {check}{growth}"
        )
    for n in args.milp_sizes:
        pool = random_pool(n, rng)
        lb, ls, lp_obj = solve_pulp(pool, binary=False)
        pb, ps, milp_obj = solve_pulp(pool, binary=True)
        print(
            f"MILP N={n}: build {pb:.3f}s, solve {ps:.3f}s (relative gap {MILP_GAP:.0%}, "
            f"limit {MILP_TIME_LIMIT:.0f}s); objective {milp_obj:.1f} vs LP bound {lp_obj:.1f}; "
            f"the LP took {lb + ls:.3f}s"
        )
    if args.memo_runs:
        memo_savings(args.memo_runs)


if __name__ == "__main__":
    main()
