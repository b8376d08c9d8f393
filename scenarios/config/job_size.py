"""How big a job may be, and how long a big one will take.

The limits keep a typo (``--runs 1000000000000``, ``samples = 2**30``) from becoming a
disk-filling run or a memory error after minutes; each refusal says the limit and why.
A job that is allowed but long gets an estimate of its time on the terminal first.
"""

from __future__ import annotations

from typing import Any

from simulator.scenario import Programme

MAX_RUNS = 100_000
"""Runs of one ensemble (``runs``, ``--runs``) and replications of one point or
candidate. A run writes ~35 kB (yearly, allocation and events rows of 14 years × 10
clusters), so 100,000 runs are ~3.5 GB and about 2 hours on one process."""
RUNS_REASON = (
    "a run writes ~35 kB and takes ~0.1 s, so 100,000 runs are ~3.5 GB and hours of "
    "work; for more, run several ensembles with different --seed"
)
MAX_POINTS = 200_000
"""Points of an explore design and candidates of an optimise search: every point's
settings are held in memory (~1 kB each) and its statistics saved in chunks."""
POINTS_REASON = "every point's settings are held in memory and its runs take ~0.1 s each"
MAX_MODEL_RUNS = 10_000_000
"""Model runs of one explore or optimise (points × replications): ~10 days on one process."""
SECONDS_PER_CLUSTER_YEAR = 0.00025
"""Measured: the baseline (10 clusters, 2017–2030, open calls from 2022), 1,000 runs on one
process in 35.5 s after start-up (``benchmarks/bench_rows.py --jobs-speedup``), on a 2-core
development machine. Years with open calls cost most (their LPs are rarely the same
twice), so short horizons run faster (the full what_matters.toml: 0.16 ms)."""
LONG_JOB_SECONDS = 300.0
"""A job estimated to take longer than this gets the estimate printed before it starts."""


def runs_problem(runs: int) -> str | None:
    """Why an ensemble of ``runs`` is refused (``None`` when it is allowed)."""
    if runs > MAX_RUNS:
        return f"{runs:,} runs is over the limit of {MAX_RUNS:,}: {RUNS_REASON}"
    return None


def points_problem(points: int, what: str = "points") -> str | None:
    """Why a design of ``points`` points (or a search of as many candidates) is refused."""
    if points > MAX_POINTS:
        return f"{points:,} {what} is over the limit of {MAX_POINTS:,}: {POINTS_REASON}"
    return None


def model_runs_problem(points: int, replications: int, what: str = "points") -> str | None:
    """Why ``points`` × ``replications`` model runs are refused (``None`` when allowed)."""
    total = points * replications
    if total > MAX_MODEL_RUNS:
        return (
            f"{points:,} {what} × {replications:,} replications = {total:,} runs is over the "
            f"limit of {MAX_MODEL_RUNS:,} (~10 days on one process); use fewer {what} or "
            "replications"
        )
    return None


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def time_estimate(runs: int, years: int, clusters: int, jobs: int) -> str | None:
    """A one-line estimate of a long job's time (``None`` for a short one): the measured
    cost of a cluster-year × runs × years × clusters ÷ processes."""
    seconds = runs * years * clusters * SECONDS_PER_CLUSTER_YEAR / max(jobs, 1)
    if seconds < LONG_JOB_SECONDS:
        return None
    return (
        f"note: {runs:,} runs of {years} years × {clusters} clusters on {jobs} process(es) "
        f"will take about {_duration(seconds)} (an estimate: "
        f"{SECONDS_PER_CLUSTER_YEAR * 1000:g} ms per cluster-year as measured on a 2-core "
        "machine; yours may differ)"
    )


def document_estimate(runs: int, document: dict[str, Any], jobs: int) -> str | None:
    """:func:`time_estimate` for ``runs`` runs of a resolved config ``document``."""
    programme = Programme.model_validate(document.get("programme", {}))
    years = programme.horizon - programme.start_year + 1
    return time_estimate(runs, years, len(document.get("clusters", {})), jobs)


def search_problem(candidates: int, replications: int) -> str | None:
    """Why a search of ``candidates`` candidates of ``replications`` runs is refused."""
    return points_problem(candidates, "candidates") or model_runs_problem(
        candidates, replications, "candidates"
    )
