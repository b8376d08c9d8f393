"""The batch build of one-year programs (:mod:`simulator.formulation_batch`) gives, program
for program, what :func:`simulator.formulation.formulate` gives: on generated batches and
on every program of an ensemble. And the allocators answer a batch of requests as they
answer each alone."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from unittest import mock

import numpy as np
from conftest import SHIPPED_BASELINE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_formulation import ARRAYS, generated_case
from test_lp import allocator_options, options, pools, project

import simulator.formulation_batch as formulation_batch
import simulator.lp_highs as lp_highs
from scenarios.config.scenario import load_config
from scenarios.engine.ensemble import run_rng
from simulator.allocation import (
    Allocation,
    AllocationRequest,
    ArenaAllocator,
    MemoisedAllocator,
    ProportionalAllocator,
)
from simulator.formulation import Program, YearInputs, formulate
from simulator.formulation_batch import formulate_each
from simulator.lp_highs import HighsAllocator
from simulator.model import simulate_batch


def baseline_scenario():
    """The shipped baseline (open calls from 2022)."""
    return load_config(SHIPPED_BASELINE).scenario


programs_asked = st.lists(
    st.tuples(
        st.integers(2019, 2023),  # year
        st.sampled_from([0.0, 2.0]) | st.floats(0.0, 8.0),  # budget (none: no cover rows)
        st.sets(st.sampled_from("abcde")),  # open clusters
        st.sets(st.sampled_from("abcde"), max_size=3),  # at risk
        st.lists(st.integers(0, 24), max_size=14),  # which projects take part
        st.dictionaries(st.integers(0, 24), st.floats(0.0, 1.0), max_size=4),  # commitments
        st.sets(st.integers(0, 24), max_size=2),  # commitments cut this year
    ),
    min_size=1,
    max_size=6,
)


def assert_same_program(got: Program, expected: Program) -> None:
    """Every array (dtype, shape and bytes), name, label and map of the two programs."""
    for name in ARRAYS:
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name
    assert got.column_names == expected.column_names
    assert got.row_labels == expected.row_labels
    assert got.row_names == expected.row_names
    assert got.columns == expected.columns
    assert got.shortfall == expected.shortfall
    assert got.budget_rows == expected.budget_rows
    assert got.fractional == expected.fractional
    assert got.integer == expected.integer


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=pools,
    opts=allocator_options,
    soft=st.booleans(),
    cover=st.booleans(),
    seeds=st.sets(st.integers(0, 9)),
    asked=programs_asked,
    each_id_once=st.booleans(),
)
def test_a_batch_gives_the_programs_formulate_gives(
    raw, opts, soft, cover, seeds, asked, each_id_once
) -> None:
    """Years, budgets, open clusters, clusters at risk, growth seeds, commitments and cuts
    all differ from program to program; with ``each_id_once`` every program lists a project
    id once (the batch build), else ids may repeat (left to ``formulate``)."""
    opts, pool = generated_case(raw, opts, soft, cover, seeds)
    years = []
    for year, budget, open_clusters, at_risk, chosen, committed, cut in asked:
        chosen = [i for i in chosen if i < len(pool)]
        if each_id_once:
            seen: set[str] = set()
            chosen = [i for i in chosen if not (pool[i].id in seen or seen.add(pool[i].id))]
        taking_part = tuple(pool[i] for i in chosen)
        commitments = {pool[i].id: f for i, f in committed.items() if i in chosen}
        cuts = frozenset(pool[i].id for i in cut if i < len(pool) and pool[i].id in commitments)
        years.append(
            YearInputs(
                year,
                budget,
                taking_part,
                commitments,
                frozenset(open_clusters),
                frozenset(at_risk),
                cuts,
            )
        )
    if each_id_once:  # the batch build itself, not formulate, answers every program
        with mock.patch.object(formulation_batch, "formulate", side_effect=AssertionError):
            built = formulate_each(years, opts)
    else:
        built = formulate_each(years, opts)
    assert len(built) == len(years)
    for inputs, program in zip(years, built, strict=True):
        assert_same_program(program, formulate([inputs], opts, binary=False))


def test_an_areas_need_is_summed_as_formulate_sums_it() -> None:
    """Twelve projects in one area, whose costs Python's sum (one by one, in project order)
    and numpy's (pairwise) round differently: the batch's need is Python's."""
    costs = [1.31, 0.613, 0.178, 0.131, 1.645, 1.834, 1.253, 1.486, 1.133, 1.877, 1.65, 0.105]
    assert sum(costs) != float(np.sum(costs))  # the case this test is about
    pool = tuple(project(f"P{i:02d}", cost, 1.0) for i, cost in enumerate(costs))
    opts = options(area_min_share={"smart_materials": 0.3})
    inputs = YearInputs(2021, 100.0, pool, open_clusters=frozenset("ab"))
    (built,) = formulate_each([inputs], opts)
    assert built.row_lower[
        built.row_labels.index(("area_min_share", ("smart_materials", 2021)))
    ] == sum(costs)
    assert_same_program(built, formulate([inputs], opts, binary=False))


def test_every_program_of_an_ensemble_is_the_one_formulate_gives() -> None:
    """64 runs of the baseline with its open calls, as the office asks for them: a year's
    programs from every run built together, each one bit for bit formulate's."""
    scenario = baseline_scenario()
    asked: list[tuple[list[YearInputs], list[Program]]] = []

    def recording(years, options, **kw):
        programs = formulate_each(years, options, **kw)
        asked.append((list(years), programs))
        return programs

    with mock.patch.object(lp_highs, "formulate_each", recording):
        simulate_batch(scenario, [run_rng(3, r) for r in range(64)])
    assert sum(len(years) for years, _ in asked) > 500
    assert max(len(years) for years, _ in asked) > 40  # built together, not one by one
    for years, programs in asked:
        for inputs, program in zip(years, programs, strict=True):
            assert_same_program(program, formulate([inputs], scenario.allocator, binary=False))


def test_programs_built_together_share_no_array_they_could_change() -> None:
    """Each program's arrays are its own part of the batch's: changing one program's
    objective or bounds (as the tie-break's set of optima does by copying) leaves every
    other program as it was."""
    scenario = baseline_scenario()
    years = [
        YearInputs(
            2021, 3.0 + k, tuple(scenario.projects[k : k + 6]), {}, frozenset(scenario.clusters)
        )
        for k in range(3)
    ]
    built = formulate_each(years, scenario.allocator)
    expected = [formulate([inputs], scenario.allocator, binary=False) for inputs in years]
    for name in ARRAYS:
        getattr(built[1], name)[:] = 7
    for k in (0, 2):
        assert_same_program(built[k], expected[k])
    assert np.all(built[1].cost == 7.0)


def test_edge_programs_in_one_batch() -> None:
    """A zero coefficient (co-funding exactly the ratio of the cost: no term), a program with
    no project (a budget row and nothing else), one with commitments only (no co-funding
    row), and growth seeds beside clusters at risk, built together."""
    pool = (
        project("A", 1.0, 3.0, cofunding=0.5),
        project("B", 0.5, 2.0, "personal_health", cofunding=0.1, growth_seed=True),
        project("C", 0.4, 1.0, "personal_health", clusters=("b", "c"), cofunding=0.3),
    )
    opts = options(
        cofunding_min_ratio=0.5,
        cover_every_cluster=True,
        soft_targets=True,
        area_min_share={"personal_health": 0.2},
        cluster_cap_share=0.6,
        growth_seed_weight=2.0,
        at_risk_weight=1.5,
    )
    everyone = frozenset("abc")
    years = [
        YearInputs(2019, 1.0, pool, open_clusters=everyone),
        YearInputs(2020, 1.0, (), open_clusters=everyone),
        YearInputs(2020, 2.0, pool[:2], {"A": 0.5, "B": 1.0}, everyone, frozenset("a")),
        YearInputs(2021, 0.5, pool, {"C": 0.25}, everyone, frozenset("bc"), frozenset("C")),
    ]
    with mock.patch.object(formulation_batch, "formulate", side_effect=AssertionError):
        built = formulate_each(years, opts)
    assert built[1].num_col == 0 and built[1].row_labels == (("arena_budget", (2020,)),)
    assert 0.0 not in built[0].value.tolist()
    assert "cofunding_ratio" not in {kind for kind, _ in built[2].row_labels}
    for inputs, program in zip(years, built, strict=True):
        assert_same_program(program, formulate([inputs], opts, binary=False))


def test_highs_answers_a_batch_as_it_answers_each_request_alone() -> None:
    """Requests with nothing to allocate, with commitments, with proposals and plain ones,
    asked together, get exactly the answers each gets alone (fractions, objective, shadow
    price, status), in their order."""
    scenario = baseline_scenario()
    everyone = frozenset(scenario.clusters)
    first, second = scenario.projects[0], scenario.projects[1]
    proposal = first.model_copy(update={"id": "call2021_x", "impact": 9.0})
    requests = [
        AllocationRequest(2021, 4.0, everyone),
        AllocationRequest(2021, 4.0, frozenset()),  # no cluster open: nothing to allocate
        AllocationRequest(2021, 3.0, everyone, commitments=((first.id, 0.5),)),
        AllocationRequest(2021, 5.0, everyone, frozenset({second.clusters[0]})),
        AllocationRequest(2021, 4.0, everyone, proposals=(proposal,)),
    ]
    together = HighsAllocator(scenario.projects, scenario.allocator).allocate_all(requests)
    alone = HighsAllocator(scenario.projects, scenario.allocator)
    assert together[1].status == "No eligible projects"
    assert "call2021_x" in together[4].fractions
    assert len({tuple(a.fractions.items()) for a in together}) == len(requests)  # all differ
    for got, request in zip(together, requests, strict=True):
        expected = alone.allocate(request)
        assert (got.year, got.status) == (expected.year, expected.status)
        assert got.fractions == expected.fractions
        assert (got.objective, got.shadow_price) == (expected.objective, expected.shadow_price)


class Counting:
    """An allocator that counts what its inner allocator is asked, request by request."""

    def __init__(self, inner: ArenaAllocator) -> None:
        self.inner = inner
        self.asked: list[AllocationRequest] = []
        self.calls = 0

    @property
    def cluster_cap_share(self) -> float:
        return self.inner.cluster_cap_share

    def problem_key(self, request: AllocationRequest) -> Hashable:
        return self.inner.problem_key(request)

    def allocate(self, request: AllocationRequest) -> Allocation:
        return self.allocate_all([request])[0]

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        self.calls += 1
        self.asked.extend(requests)
        return self.inner.allocate_all(requests)


def test_a_memo_answers_a_batch_as_it_answers_each_request_alone() -> None:
    """Requests repeated within a batch are solved once, in one call to the inner allocator;
    the answers, hits and misses are those of asking one request at a time (the cache has
    room); a request with proposals is solved, never looked up."""
    scenario = baseline_scenario()
    clusters = frozenset(scenario.clusters)
    budgets = [3.0, 4.0, 3.0, 5.0, 4.0, 3.0]
    requests = [AllocationRequest(2019, b, clusters) for b in budgets]
    proposal = scenario.projects[0].model_copy(update={"id": "call2019_x"})
    with_call = AllocationRequest(2019, 3.0, clusters, proposals=(proposal,))
    requests = [*requests[:3], with_call, *requests[3:], with_call]
    inner = Counting(ProportionalAllocator(scenario.projects))
    memo = MemoisedAllocator(inner)
    together = memo.allocate_all(requests)
    assert inner.calls == 1
    # each problem once, in order; each request with proposals solved
    assert [r.budget for r in inner.asked] == [3.0, 4.0, 3.0, 5.0, 3.0]
    assert [bool(r.proposals) for r in inner.asked] == [False, False, True, False, True]
    assert (memo.hits, memo.misses, memo.own_runs) == (3, 3, 2)
    assert "call2019_x" in together[3].fractions
    alone_memo = MemoisedAllocator(ProportionalAllocator(scenario.projects))
    alone = [alone_memo.allocate(r) for r in requests]
    assert [a.fractions for a in together] == [a.fractions for a in alone]
    assert (alone_memo.hits, alone_memo.misses) == (memo.hits, memo.misses)
    assert together[0] is together[2] is together[6]  # one answer, shared
    again = memo.allocate_all(requests[:2])
    assert len(inner.asked) == 5  # all from the cache: nothing asked
    assert again == together[:2]
