"""Open calls: proposals every year after the shipped pool keep the arena money spent."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, baseline_document, invoke, scenario_with
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.config.scenario import load_config
from scenarios.core.errors import UserError
from simulator.allocation import AllocationRequest, MemoisedAllocator, eligible_new_projects
from simulator.calls import CallTables, draw_call, pair_weights
from simulator.model import default_allocator, simulate
from simulator.scenario import AREAS, CLUSTER_SEPARATOR, OpenCalls, Project, Proposal
from simulator.schedules import schedule_value

AREA_RATES = [
    f"open_calls.areas.{a}.proposals_per_year"
    for a in ("smart_materials", "smart_sustainable_cities", "personal_health")
]


def _spending(out: Path, runs: int, *sets: str) -> pd.DataFrame:
    """Per run × year: arena money paid, the budget, and the clusters open (baseline to 2040)."""
    args = ["run", str(BASELINE), "--out", str(out), "--runs", str(runs), "--horizon", "2040"]
    args += ["--jobs", "2", "--no-plots", *[f"--set={s}" for s in sets]]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    scenario = load_config(BASELINE).scenario
    yearly = pd.read_csv(out / "yearly.csv")
    table = pd.DataFrame(
        {
            "paid": yearly.groupby(["run", "year"]).arena_income.sum(),
            "open": (yearly.status != "closed").groupby([yearly.run, yearly.year]).sum(),
        }
    ).reset_index()
    table["budget"] = [schedule_value(scenario.arena.budget, y, 2017) for y in table.year]
    return table


def _share_fully_spent(table: pd.DataFrame, min_open: int) -> float:
    """Share of runs in which every year with ``min_open`` or more clusters open pays its budget."""
    counted = table[table.open >= min_open]
    spent = (counted.paid - counted.budget).abs() < 1e-4  # CSVs may round to 6 decimals
    return float(spent.groupby(counted.run).all().mean())


def test_default_calls_spend_the_budget_every_year_to_2040(tmp_path: Path) -> None:
    # the cluster cap (35 % of the budget per cluster) cannot be met by fewer than 3 clusters
    cap = load_config(BASELINE).scenario.allocator.cluster_cap_share
    min_open = int(np.ceil(1 / cap))
    table = _spending(tmp_path / "calls", 60)
    assert table.year.max() == 2040 and (table.open >= min_open).mean() > 0.9
    assert _share_fully_spent(table, min_open) >= 0.99
    # and the check bites: with one proposal a year per area the money is not spent
    thin = _spending(tmp_path / "thin", 10, *[f"{key}=1" for key in AREA_RATES])
    assert _share_fully_spent(thin, min_open) < 0.5


def test_calls_come_from_open_clusters_by_affinity() -> None:
    calls = load_config(
        BASELINE,
        ['open_calls.affinity={"packbridge;iuc_syd" = 5.0}', "open_calls.default_affinity=0.0"],
    ).scenario.open_calls
    rng = np.random.default_rng(1)
    assert draw_call(calls, calls.from_year - 1, ["packbridge", "iuc_syd"], rng) == []
    proposals = [
        p
        for _ in range(50)
        for p in draw_call(calls, 2025, ["packbridge", "iuc_syd", "tourism"], rng)
    ]
    assert {tuple(p.clusters) for p in proposals} == {("iuc_syd", "packbridge")}
    assert all(p.earliest_start == p.latest_start == 2025 for p in proposals)
    spec = calls.areas["smart_materials"]
    in_area = [p for p in proposals if p.area == "smart_materials"]
    assert len(in_area) / 50 == pytest.approx(spec.proposals_per_year, rel=0.2)
    assert all(spec.cost_min <= p.cost_per_year <= spec.cost_max for p in in_area)
    assert draw_call(calls, 2025, ["tourism", "packbridge"], rng) == []  # affinity 0


def test_a_proposal_lapses_after_its_call_year() -> None:
    calls = load_config(BASELINE).scenario.open_calls
    (proposal, *_) = [
        p for p in draw_call(calls, 2024, ["packbridge", "iuc_syd"], np.random.default_rng(2))
    ]
    everyone = frozenset({"packbridge", "iuc_syd"})
    for year, eligible in ((2023, False), (2024, True), (2025, False)):
        request = AllocationRequest(year, 7.0, everyone)
        assert (proposal in eligible_new_projects([proposal], request)) is eligible


def test_calls_leave_the_other_draws_alone() -> None:
    """A run with calls that never open equals a run without calls, draw for draw."""
    doc = baseline_document()
    with_calls = scenario_with({"programme.horizon": 2024, "open_calls.from_year": 2100}, doc)
    doc.pop("open_calls")
    without = scenario_with({"programme.horizon": 2024}, doc)
    a = simulate(with_calls, np.random.default_rng(5)).yearly
    b = simulate(without, np.random.default_rng(5)).yearly
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("sets", "needle"),
    [
        (['open_calls.affinity={"packbridge;atlantis" = 1.0}'], "unknown cluster 'atlantis'"),
        (['open_calls.affinity={"packbridge" = 1.0}'], "name two different clusters"),
        (["open_calls.areas.personal_health.cost_min=2.0"], "above cost_max"),
        (["open_calls.default_affinity=0.0"], "every pair has affinity 0"),
    ],
)
def test_bad_calls_are_refused(sets: list[str], needle: str) -> None:
    with pytest.raises(UserError, match=needle):
        load_config(BASELINE, sets)


def test_a_memo_solves_requests_with_proposals_without_keeping_them() -> None:
    """Proposals are each run's own, so a request with any is solved, not looked up, and
    the memo keeps only problems of the shipped pool (which other runs ask again)."""
    scenario = scenario_with({"programme.horizon": 2025})
    memo = MemoisedAllocator(default_allocator(scenario))
    simulate(scenario, np.random.default_rng(1), memo)
    assert memo.own_runs >= 4  # a request a year from the first open call (2022) on
    kept = [entry[0] for _year, _budget, entries, _none in memo.cache for entry in entries]
    assert kept and not [pid for pid in kept if pid.startswith("call")]


def test_a_shared_allocator_cannot_mix_runs() -> None:
    """Runs given one memoised allocator (as an ensemble does) equal runs on their own."""
    scenario = scenario_with({"programme.horizon": 2025})
    shared = MemoisedAllocator(default_allocator(scenario))
    for seed in (1, 2):
        alone = simulate(scenario, np.random.default_rng(seed))
        together = simulate(scenario, np.random.default_rng(seed), shared)
        pd.testing.assert_frame_equal(alone.allocation, together.allocation)
        pd.testing.assert_frame_equal(alone.yearly, together.yearly)
    assert alone.allocation.project.str.startswith("call").any()


@settings(max_examples=50, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=45).filter(lambda w: sum(w) > 0),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_pair_is_drawn_as_generator_choice_draws_it(weights: list[float], seed: int) -> None:
    # draw_call picks a pair by searching one uniform in a cdf kept per set of open clusters;
    # that is Generator.choice(n, p=p)'s pick, so pairs follow the affinities as before
    p = np.asarray(weights) / sum(weights)
    cumulative = p.cumsum()
    cumulative /= cumulative[-1]
    ours, numpy_s = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(5):
        picked = int(cumulative.searchsorted(ours.random(), side="right"))
        assert picked == int(numpy_s.choice(len(p), p=p))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    year=st.integers(2022, 2035),
    open_count=st.integers(0, 10),
    cost_min=st.sampled_from([0.001, 0.0012, 0.05, 0.4]),
)
def test_drawn_proposals_are_valid_projects(
    seed: int, year: int, open_count: int, cost_min: float
) -> None:
    # every drawn proposal is a valid project, even at the smallest cost a config may set
    # (a cost rounding to 0 would stop the run with a validation error)
    scenario = scenario_with({"open_calls.from_year": 2022})
    calls = scenario.open_calls
    areas = {
        area: spec.model_copy(update={"cost_min": cost_min, "cost_max": max(cost_min, 0.002)})
        for area, spec in calls.areas.items()
    }
    calls = calls.model_copy(update={"areas": areas})
    open_clusters = sorted(scenario.clusters)[:open_count]
    proposals = draw_call(calls, year, open_clusters, np.random.default_rng(seed))
    assert len(proposals) > 0 or open_count < 2
    assert all(proposal.cost_per_year >= 0.001 for proposal in proposals)
    for proposal in proposals:  # a light proposal is a valid project, field for field
        checked = Project.model_validate({**proposal._asdict(), "title": proposal.title})
        for name in Project.model_fields:
            value = getattr(proposal, name)
            value = list(value) if name == "clusters" else value
            assert getattr(checked, name) == value and type(getattr(checked, name)) is type(value)


def test_a_proposal_cost_below_a_thousandth_is_refused() -> None:
    with pytest.raises(UserError, match="cost_min"):
        load_config(BASELINE, ["open_calls.areas.personal_health.cost_min=0.0004"])


CALLS_SCENARIO = scenario_with({"open_calls.from_year": 2022})


def reference_draw(calls: OpenCalls, year: int, open_clusters: list[str], rng) -> list[tuple]:
    """draw_call as its docstring states it, written plainly: per area (in AREAS order) a
    Poisson count; then a 5 × n block of uniforms, whose rows give each proposal's pair
    (``Generator.choice``'s pick with the affinity weights, by inverting its cdf), cost,
    co-funding ratio, duration and impact, one proposal at a time in Python floats."""
    if year < calls.from_year:
        return []
    pairs, probability = pair_weights(calls, sorted(open_clusters))
    if not pairs or probability.sum() == 0:
        return []
    specs = [(area, calls.areas[area]) for area in AREAS if area in calls.areas]
    counts = [rng.poisson(spec.proposals_per_year) for _, spec in specs]
    if sum(counts) == 0:
        return []
    block = rng.random((5, sum(counts))).T.tolist()
    cumulative = probability.cumsum()  # as Generator.choice makes its cdf
    cumulative /= cumulative[-1]
    drawn = []
    for (area, spec), count in zip(specs, counts, strict=True):
        for number in range(1, count + 1):
            pair_u, cost_u, ratio_u, duration_u, impact_u = block.pop(0)
            pair = pairs[int(np.flatnonzero(cumulative > pair_u)[0])]
            cost = round(spec.cost_min + (spec.cost_max - spec.cost_min) * cost_u, 3)
            low, high = spec.cofunding_ratio_min, spec.cofunding_ratio_max
            ratio = low + (high - low) * ratio_u
            years = spec.duration_max - spec.duration_min + 1
            duration = spec.duration_min + int(years * duration_u)
            impact = spec.impact_min + (spec.impact_max - spec.impact_min) * impact_u
            proposal = Proposal(
                id=f"call{year}_{area}_{number}",
                area=area,
                clusters=pair,
                cost_per_year=cost,
                duration=duration,
                earliest_start=year,
                latest_start=year,
                cofunding_per_year=round(cost * ratio, 3),
                impact=round(impact, 3),
            )
            drawn.append(tuple(proposal))
    return drawn


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    year=st.integers(2021, 2030),
    open_count=st.integers(0, 10),
    ranges=st.lists(
        st.tuples(st.floats(0.001, 5.0), st.floats(0.0, 5.0), st.integers(1, 5), st.integers(0, 3)),
        min_size=3,
        max_size=3,
    ),
    ratio=st.tuples(st.floats(0.0, 2.0), st.floats(0.0, 2.0)),
    affinities=st.lists(st.floats(0.0, 10.0), min_size=45, max_size=45),
    default_affinity=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_drawn_proposals_are_the_documented_draws(
    seed: int,
    year: int,
    open_count: int,
    ranges: list[tuple[float, float, int, int]],
    ratio: tuple[float, float],
    affinities: list[float],
    default_affinity: float,
) -> None:
    # draw_call's array draws, its pair pick by a search in a cdf made once and its
    # Proposal tuples give what the plain draw gives, field for field, in the same order,
    # with unequal pair weights (some pairs unlisted, some 0)
    calls = CALLS_SCENARIO.open_calls
    areas = {
        area: spec.model_copy(
            update={
                "cost_min": low,
                "cost_max": low + width,
                "impact_max": spec.impact_min + width,
                "duration_min": shortest,
                "duration_max": shortest + longer,
                "proposals_per_year": 1.0 + width,
                "cofunding_ratio_min": min(ratio),
                "cofunding_ratio_max": max(ratio),
            }
        )
        for (area, spec), (low, width, shortest, longer) in zip(
            sorted(calls.areas.items()), ranges, strict=True
        )
    }
    clusters = sorted(CALLS_SCENARIO.clusters)
    listed = {  # every third pair keeps the default
        CLUSTER_SEPARATOR.join(pair): weight
        for n, (pair, weight) in enumerate(zip(combinations(clusters, 2), affinities, strict=True))
        if n % 3
    }
    update = {"areas": areas, "affinity": listed, "default_affinity": default_affinity}
    calls = calls.model_copy(update=update)
    open_clusters = clusters[:open_count]
    table = CallTables(calls)
    ours, numpy_s = np.random.default_rng(seed), np.random.default_rng(seed)
    for call_year in (year, year + 1):  # from_year 2022: one year or two share the table
        drawn = draw_call(calls, call_year, open_clusters, ours, table)
        expected = reference_draw(calls, call_year, open_clusters, numpy_s)
        assert [tuple(proposal) for proposal in drawn] == expected
        # plain Python values (a numpy scalar would print otherwise in the tables)
        assert {type(value) for proposal in drawn for value in proposal[3:]} <= {float, int, bool}
    assert ours.random() == numpy_s.random()  # both streams used the same draws


def per_proposal_draw(calls: OpenCalls, year: int, open_clusters: list[str], rng) -> list[tuple]:
    """The draw before proposals were drawn as arrays, with numpy's own calls: per area a
    Poisson count, then per proposal a pair by ``Generator.choice`` with the affinity
    weights, cost, co-funding ratio, duration (``integers``) and impact."""
    pairs, probability = pair_weights(calls, sorted(open_clusters))
    drawn = []
    for area in AREAS:
        spec = calls.areas[area]
        for _ in range(rng.poisson(spec.proposals_per_year)):
            pair = pairs[rng.choice(len(pairs), p=probability)]
            cost = round(rng.uniform(spec.cost_min, spec.cost_max), 3)
            ratio = rng.uniform(spec.cofunding_ratio_min, spec.cofunding_ratio_max)
            duration = int(rng.integers(spec.duration_min, spec.duration_max + 1))
            impact = round(rng.uniform(spec.impact_min, spec.impact_max), 3)
            drawn.append((year, area, pair, cost, round(cost * ratio, 3), duration, impact))
    return drawn


def test_the_array_draw_keeps_the_per_proposal_draws_distribution() -> None:
    """Drawing a year's proposals as arrays changed the draws, not their distribution: over
    3,000 call years each, with areas that differ in rate and every range, the proposals
    per area and year, the (area, pair) counts with unequal affinities and the durations
    per area agree with the per-proposal draw (chi-square), and so do costs, co-funding
    and impacts per area (Kolmogorov–Smirnov); a fixed ratio gives the co-funding Python's
    ``round`` gives, as before."""
    from scipy import stats

    clusters = sorted(CALLS_SCENARIO.clusters)[:5]
    affinity = {
        CLUSTER_SEPARATOR.join(p): float(n) for n, p in enumerate(combinations(clusters, 2))
    }
    calls = CALLS_SCENARIO.open_calls
    ranges = {  # rate, cost, co-funding ratio, duration, impact
        "smart_materials": (2.0, (0.1, 0.5), (0.5, 0.5), (1, 3), (0.2, 0.6)),
        "smart_sustainable_cities": (5.0, (0.3, 1.2), (0.2, 1.0), (1, 4), (0.5, 1.5)),
        "personal_health": (9.0, (1.0, 3.0), (1.0, 2.0), (2, 2), (1.0, 4.0)),
    }
    areas = {
        area: calls.areas[area].model_copy(
            update={
                "proposals_per_year": rate,
                "cost_min": cost[0],
                "cost_max": cost[1],
                "cofunding_ratio_min": ratio[0],
                "cofunding_ratio_max": ratio[1],
                "duration_min": duration[0],
                "duration_max": duration[1],
                "impact_min": impact[0],
                "impact_max": impact[1],
            }
        )
        for area, (rate, cost, ratio, duration, impact) in ranges.items()
    }
    assert sorted(areas) == sorted(AREAS)
    calls = calls.model_copy(update={"affinity": affinity, "areas": areas})
    years = range(3000)
    new_rng, old_rng = np.random.default_rng(11), np.random.default_rng(12)
    columns = ["year", "area", "pair", "cost", "cofunding", "duration", "impact"]
    new = pd.DataFrame(
        [
            (y, p.area, p.clusters, p.cost_per_year, p.cofunding_per_year, p.duration, p.impact)
            for y in years
            for p in draw_call(calls, 2030, clusters, new_rng)
        ],
        columns=columns,
    )
    old = pd.DataFrame(
        [row for y in years for row in per_proposal_draw(calls, y, clusters, old_rng)],
        columns=columns,
    )
    both = pd.concat([new.assign(draw="new"), old.assign(draw="old")])
    every = pd.MultiIndex.from_product(
        [["new", "old"], AREAS, years], names=["draw", "area", "year"]
    )
    per_year = both.groupby(["draw", "area", "year"]).size().reindex(every, fill_value=0)
    per_year = per_year.rename("n").reset_index()  # years without a proposal count as 0

    def same(column: str | list[str], data: pd.DataFrame = both) -> float:
        return stats.chi2_contingency(pd.crosstab(data["draw"], [data[c] for c in column])).pvalue

    assert same(["area", "pair"]) > 1e-3
    assert same(["area", "duration"]) > 1e-3
    assert same(["area", "n"], per_year.assign(n=per_year.n.clip(upper=16))) > 1e-3
    for column in ("cost", "cofunding", "impact"):
        for area in AREAS:
            a, b = new[new.area == area][column], old[old.area == area][column]
            assert stats.ks_2samp(a, b).pvalue > 1e-3, (column, area)
    # the pairs follow the affinities (pair n has weight n: pair 0 never forms), and a fixed
    # ratio of 0.5 gives what Python's round gives (numpy's rounding differs on a quarter of
    # the costs, where cost × 0.5 ends in a half thousandth)
    assert not (new.pair == tuple(clusters[:2])).any() and len(new) > 40_000
    fixed = new[new.area == "smart_materials"]
    assert fixed.cofunding.tolist() == [round(c * 0.5, 3) for c in fixed.cost]
