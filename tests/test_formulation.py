"""One formulation: the HiGHS fast path equals the PuLP model; canonical memo keys;
requests that carry their open-call proposals."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import reference_formulation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lp import OPEN, TINY, _pool, allocator_options, options, pools, project, request_fields

import simulator.formulation as formulation
from simulator.allocation import (
    Allocation,
    AllocationRequest,
    CommitmentBook,
    MemoisedAllocator,
    ProportionalAllocator,
)
from simulator.formulation import YearInputs, formulate
from simulator.lp import InfeasibleAllocation, LinearProgramAllocator, build_program
from simulator.lp_highs import HighsAllocator, pass_program
from simulator.scenario import Allocator, Project

CLUSTERS = frozenset("abcde")

asks = st.lists(
    # and how many further projects started earlier (not committed)
    st.tuples(*request_fields, st.integers(0, 3)),
    min_size=1,
    max_size=4,
)


def _split(pool: list[Project], n_proposals: int) -> tuple[list[Project], tuple[Project, ...]]:
    """The last ``n_proposals`` projects become this year's open-call proposals."""
    n = min(n_proposals, len(pool) - 1)
    shipped = pool[: len(pool) - n]
    proposals = tuple(
        p.model_copy(update={"id": f"call_{p.id}", "latest_start": 2019})
        for p in pool[len(pool) - n :]
    )
    return shipped, proposals


def _requests(shipped, proposals, raw_asks) -> list[AllocationRequest]:
    requests = []
    everything = [*shipped, *proposals]
    for budget, closed, at_risk, n_committed, fraction, n_started in raw_asks:
        open_clusters = CLUSTERS - closed
        eligible = [p for p in everything if set(p.clusters) <= open_clusters]
        committed = tuple((p.id, fraction) for p in eligible[:n_committed])
        started = {pid for pid, _ in committed}
        started |= {p.id for p in eligible[n_committed : n_committed + n_started]}
        requests.append(
            AllocationRequest(
                2019,
                budget,
                open_clusters,
                frozenset(at_risk) & open_clusters,
                committed,
                frozenset(started),
                proposals,
            )
        )
    return requests


def _weighted(opts: Allocator, soft: bool) -> Allocator:
    return opts.model_copy(
        update={
            "soft_targets": soft,
            "cover_every_cluster": True,
            "at_risk_weight": 1.5,
            "growth_seed_weight": 2.0,
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=pools,
    opts=allocator_options,
    soft=st.booleans(),
    n_proposals=st.integers(0, 4),
    raw_asks=asks,
)
def test_fast_path_gives_the_pulp_fractions(raw, opts, soft, n_proposals, raw_asks) -> None:
    opts = _weighted(opts, soft)
    shipped, proposals = _split(_pool(raw), n_proposals)
    fast = HighsAllocator(shipped, opts)  # reused across requests: nothing may carry over
    for request in _requests(shipped, proposals, raw_asks):
        try:
            expected = LinearProgramAllocator(shipped, opts).allocate(request)
        except InfeasibleAllocation as exc:
            with pytest.raises(InfeasibleAllocation) as caught:
                fast.allocate(request)
            assert caught.value.conflict == exc.conflict
            continue
        got = fast.allocate(request)
        assert got.status == expected.status
        assert set(got.fractions) == set(expected.fractions)
        for pid, fraction in expected.fractions.items():
            assert got.fractions[pid] == pytest.approx(fraction, abs=1e-9)
        assert got.objective == pytest.approx(expected.objective, rel=1e-9, abs=1e-9)
        if expected.shadow_price is not None:
            assert got.shadow_price == pytest.approx(expected.shadow_price, rel=1e-9, abs=1e-9)


def test_fast_path_finds_rows_and_columns_without_their_names(monkeypatch) -> None:
    """Renamed constraints and columns (as a formulation change might) change no answer."""
    pool = [
        project("A", 1.0, 3.0, "smart_materials", clusters=("a", "b"), duration=2),
        project("B", 0.5, 2.0, "personal_health", clusters=("b", "c"), cofunding=0.4),
        project("C", 0.5, 2.0, "personal_health", clusters=("c", "d"), cofunding=0.1),
    ]
    opts = options(
        area_min_share={"smart_materials": 0.3},
        cluster_cap_share=0.6,
        cofunding_min_ratio=0.3,
        cover_every_cluster=True,
        min_cover_fraction=0.25,
        soft_targets=True,
    )
    request = AllocationRequest(2019, 1.2, CLUSTERS, frozenset(), (("A", 0.3),), frozenset({"A"}))
    before = HighsAllocator(pool, opts).allocate(request)
    monkeypatch.setattr(formulation, "row_name", lambda kind, *parts: f"r{hash((kind, parts))}")
    monkeypatch.setattr(
        formulation, "column_name", lambda kind, *parts: f"c{kind[0]}_{'_'.join(map(str, parts))}"
    )
    names = list(build_program([YearInputs(2019, 1.2, tuple(pool))], opts).rows)
    assert not any(name.startswith(("arena_budget", "cover", "cluster_cap")) for name in names)
    after = HighsAllocator(pool, opts).allocate(request)
    assert after.fractions == pytest.approx(before.fractions, abs=1e-12)
    assert after.shadow_price == pytest.approx(before.shadow_price)
    # by hand: the area share forces A to 0.36 of 1.2 (above its commitment of 0.3); B and C
    # bring the same impact per MSEK (4), so the remaining 0.84 may go to either: the
    # tie-break gives it to B first (the lower id), fully, and C the rest, 0.68 (co-funding
    # 0.25·1 >= 0.05·0.68)
    assert before.fractions == pytest.approx({"A": 0.36, "B": 1.0, "C": 0.68})
    assert before.objective == pytest.approx(0.36 * 3 + 0.68 * 2 + 2)
    assert before.shadow_price == pytest.approx(4.0)


def test_fast_path_solves_whatever_threads_highs_was_set_up_with(monkeypatch) -> None:
    """HiGHS's thread scheduler is global, set up by a process's first solve. The fast path
    runs on one thread; when another solve set HiGHS up with more, it solves on those (the
    same answer), not through the PuLP fallback."""
    import highspy

    request = AllocationRequest(2019, 1.2, OPEN, frozenset(), (("A", 0.3),), frozenset({"A"}))
    opts = options(area_min_share={"smart_materials": 0.3}, soft_targets=True)

    def fresh() -> HighsAllocator:
        allocator = HighsAllocator(TINY, opts)
        monkeypatch.setattr(allocator.fallback, "allocate", pytest.fail)
        return allocator

    answers, threads = [], []
    try:
        for other_threads in (None, 2):
            highspy.Highs.resetGlobalScheduler(True)
            if other_threads is not None:  # another solve comes first, on two threads
                other = highspy.Highs()
                other.setOptionValue("output_flag", False)
                other.setOptionValue("threads", other_threads)
                pass_program(other, formulate([YearInputs(2019, 1.0, tuple(TINY))], opts))
                assert other.run() == highspy.HighsStatus.kOk
            allocator = fresh()
            answers += [allocator.allocate(request), allocator.allocate(request)]
            threads.append(allocator.threads)
    finally:
        highspy.Highs.resetGlobalScheduler(True)
    assert threads == [1, 0]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0].objective == pytest.approx(0.36 * 3 + 1.68 * 2)  # B and C tie: 1.68 of them


def test_program_index_maps() -> None:
    """The maps point at the rows and columns the formulation wrote."""
    years = [
        YearInputs(y, 1.0 + y - 2019, tuple(TINY), open_clusters=CLUSTERS) for y in (2019, 2020)
    ]
    program = formulate(years, options(area_min_share={"personal_health": 0.9}, soft_targets=True))
    for y, r in program.budget_rows.items():
        assert program.row_upper[r] == 1.0 + y - 2019
        assert program.row_names[r] == f"arena_budget_{y}"
    for (pid, y), j in program.columns.items():
        assert program.column_names[j] == f"x_{pid}_{y}"
    assert len(program.columns) == 6
    for r, j in program.shortfall.items():
        assert program.row_names[r].startswith("area_min_share_personal_health")
        assert program.cost[j] == -(1.0 + 2 * (3.0 + 2.0 + 2.0))  # more than all impact
    assert program.column_names == tuple(sorted(program.column_names))  # PuLP's order


ARRAYS = (
    "cost",
    "col_lower",
    "col_upper",
    "row_lower",
    "row_upper",
    "start",
    "index",
    "value",
    "impact",
)
IDS = ("P0", "P-1", "P_1", "Q+2", "a b", "P[3]", "P>4", "R/5", "S6", "T7")
"""Project ids, some of which PuLP spells alike (``P-1`` and ``P_1`` both become ``P_1``);
in pools of more than ten, two projects share an id."""


def generated_case(
    raw, opts: Allocator, soft: bool, cover: bool, seeds: set[int]
) -> tuple[Allocator, list[Project]]:
    """Generated options (weighted, with or without soft targets and cover rows) and pool
    (ids from :data:`IDS`, the projects in ``seeds`` growth seeds)."""
    opts = opts.model_copy(
        update={
            "soft_targets": soft,
            "cover_every_cluster": cover,
            "at_risk_weight": 1.5,
            "growth_seed_weight": 2.0,
        }
    )
    pool = [
        p.model_copy(update={"id": IDS[i % len(IDS)], "growth_seed": i in seeds})
        for i, p in enumerate(_pool(raw))
    ]
    return opts, pool


year_asks = st.lists(
    st.tuples(
        st.floats(0.0, 8.0),  # budget
        st.sets(st.sampled_from("abcde")),  # open clusters
        st.sets(st.sampled_from("abcde"), max_size=3),  # at risk
        st.lists(st.integers(0, 24), max_size=12),  # which projects take part (repeats allowed)
        st.dictionaries(st.integers(0, 24), st.floats(0.0, 1.0), max_size=4),  # commitments
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=pools,
    opts=allocator_options,
    soft=st.booleans(),
    cover=st.booleans(),
    seeds=st.sets(st.integers(0, 9)),
    raw_years=year_asks,
    binary=st.booleans(),
)
def test_formulate_gives_the_reference_program(
    raw, opts, soft, cover, seeds, raw_years, binary
) -> None:
    """The fast build gives exactly the arrays, orders, maps and names of the program as it
    was written before (tests/reference_formulation.py), over one or more years."""
    opts, pool = generated_case(raw, opts, soft, cover, seeds)
    years = []
    for offset, (budget, open_clusters, at_risk, chosen, committed) in enumerate(raw_years):
        chosen = [i for i in chosen if i < len(pool)]
        taking_part = [pool[i] for i in chosen]
        commitments = {pool[i].id: f for i, f in committed.items() if i in chosen}
        years.append(
            YearInputs(
                2019 + offset,
                budget,
                tuple(taking_part),
                commitments,
                frozenset(open_clusters),
                frozenset(at_risk),
            )
        )
    _assert_reference_program(years, opts, binary)


def _assert_reference_program(years: list[YearInputs], opts: Allocator, binary: bool) -> None:
    got = formulate(years, opts, binary=binary)
    assert "row_names" not in vars(got)  # names are made only when asked
    expected = reference_formulation.formulate(years, opts, binary=binary)
    for name in ARRAYS:
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name
    assert got.column_names == expected.column_names
    assert got.row_names == expected.row_names
    assert got.columns == expected.columns
    assert got.shortfall == expected.shortfall
    assert got.budget_rows == expected.budget_rows
    assert got.integer == expected.integer
    assert (got.num_col, got.num_row) == (expected.num_col, expected.num_row)
    assert got.row_entries() == expected.row_entries()


def test_zero_coefficients_are_left_out_as_before() -> None:
    """A project whose co-funding is exactly the ratio of its cost has no term in the
    co-funding row."""
    pool = (
        project("A", 1.0, 3.0, cofunding=0.5),
        project("B", 0.5, 2.0, "personal_health", cofunding=0.1),
    )
    opts = options(cofunding_min_ratio=0.5, cover_every_cluster=True, soft_targets=True)
    years = [YearInputs(y, 1.0, pool, open_clusters=OPEN) for y in (2019, 2020)]
    assert len(formulate(years, opts).value) == len(formulate(years, opts).index)
    assert 0.0 not in formulate(years, opts).value.tolist()
    _assert_reference_program(years, opts, binary=False)


def test_names_are_remembered_apart_by_type() -> None:
    """Column names are remembered, but a part that spells differently by type (1 and True,
    2021 and 2021.0) keeps its own spelling, as when made afresh; row names spell alike."""
    for _ in range(2):  # made, then remembered
        assert formulation.row_name("cover", "a", 1) == "cover_a_1"
        assert formulation.row_name("cover", "a", True) == "cover_a_True"
        assert formulation.row_name("cover", "a", 2021.0) == "cover_a_2021.0"
        assert formulation.column_name("x", "P-1", 1) == "x_P_1_1"
        assert formulation.column_name("x", "P-1", True) == "x_P_1_True"


def test_project_weight_by_hand() -> None:
    """A growth seed with two of its three clusters at risk weighs the seed weight times the
    at-risk weight squared; a project's objective is its weight times its impact."""
    opts = options(growth_seed_weight=2.0, at_risk_weight=1.5)
    seed = project("A", 1.0, 3.0, clusters=("a", "b", "c"), growth_seed=True)
    plain = project("B", 1.0, 2.0, clusters=("b", "d"))
    at_risk = frozenset({"a", "c"})
    assert formulation.project_weight(seed, at_risk, opts) == 2.0 * 1.5**2
    assert formulation.project_weight(plain, at_risk, opts) == 1.0
    assert formulation.project_weight(seed, frozenset(), opts) == 2.0
    program = formulate([YearInputs(2019, 1.0, (seed, plain), at_risk=at_risk)], opts)
    assert program.impact[program.columns[("A", 2019)]] == 2.0 * 1.5**2 * 3.0
    assert program.impact[program.columns[("B", 2019)]] == 2.0
    quiet = formulate([YearInputs(2019, 1.0, (seed, plain))], opts)
    assert quiet.impact.tolist() == [2.0 * 3.0, 2.0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=pools,
    opts=allocator_options,
    soft=st.booleans(),
    n_proposals=st.integers(0, 3),
    raw_asks=st.lists(asks, min_size=1, max_size=3),
    proportional=st.booleans(),
)
def test_memoised_answers_equal_direct_answers(
    raw, opts, soft, n_proposals, raw_asks, proportional
) -> None:
    """One memo across many random requests (as across an ensemble's runs) answers each
    as the allocator would."""
    opts = _weighted(opts, soft)
    shipped, proposals = _split(_pool(raw), n_proposals)

    def make():
        return ProportionalAllocator(shipped) if proportional else HighsAllocator(shipped, opts)

    memo = MemoisedAllocator(make())
    for group in raw_asks:
        for request in _requests(shipped, proposals, group):
            try:
                direct = make().allocate(request)
            except InfeasibleAllocation:
                continue
            assert memo.allocate(request) == direct


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=pools,
    opts=allocator_options,
    n_proposals=st.integers(0, 3),
    raw_asks=asks,
    extra_risk=st.sets(st.sampled_from("abcde")),
)
def test_irrelevant_changes_keep_the_key_and_the_answer(
    raw, opts, n_proposals, raw_asks, extra_risk
) -> None:
    """At-risk clusters outside every project taking part, and earlier starts of projects
    that could not start anyway, change neither the key nor the answer."""
    opts = _weighted(opts, soft=True)
    shipped, proposals = _split(_pool(raw), n_proposals)
    allocator = HighsAllocator(shipped, opts)
    for request in _requests(shipped, proposals, raw_asks):
        by_id = {p.id: p for p in [*shipped, *proposals]}
        taking_part = {pid for pid, _ in request.commitments} | {
            p.id
            for p in by_id.values()
            if p.id not in request.started and set(p.clusters) <= request.eligible_clusters
        }
        involved = {c for pid in taking_part for c in by_id[pid].clusters}
        blocked = {p.id for p in by_id.values() if not set(p.clusters) <= request.eligible_clusters}
        changed = replace(
            request,
            at_risk=request.at_risk | (frozenset(extra_risk) - involved),
            started=request.started | blocked,
        )
        assert allocator.problem_key(changed) == allocator.problem_key(request)
        try:
            expected = allocator.allocate(request)
        except InfeasibleAllocation:
            continue
        assert allocator.allocate(changed) == expected


def test_requests_differing_in_what_the_lp_ignores_share_a_key() -> None:
    pool = [
        project("A", 1.0, 3.0, clusters=("a", "b")),
        project("B", 0.5, 2.0, clusters=("b", "c"), duration=3),
        project("D", 0.5, 2.0, clusters=("d", "e")),
    ]
    allocator = HighsAllocator(pool, options(at_risk_weight=2.0))
    base = AllocationRequest(2019, 1.0, frozenset("abc"), frozenset({"a"}), (("B", 0.5),))
    same = [
        # d at risk, but no project taking part has d
        AllocationRequest(2019, 1.0, frozenset("abc"), frozenset({"a", "d"}), (("B", 0.5),)),
        # D started earlier: not eligible anyway (d, e closed)
        AllocationRequest(
            2019, 1.0, frozenset("abc"), frozenset({"a"}), (("B", 0.5),), frozenset({"D"})
        ),
    ]
    for request in same:
        assert allocator.problem_key(request) == allocator.problem_key(base)
    different = [
        AllocationRequest(2019, 1.0, frozenset("abc"), frozenset({"b"}), (("B", 0.5),)),
        AllocationRequest(2019, 1.0, frozenset("abcde"), frozenset({"a"}), (("B", 0.5),)),
        AllocationRequest(2019, 1.0, frozenset("abc"), frozenset({"a"}), (("B", 0.6),)),
        AllocationRequest(2019, 1.0, frozenset("abc"), frozenset({"a"}), (), frozenset({"A"})),
        AllocationRequest(2019, 1.1, frozenset("abc"), frozenset({"a"}), (("B", 0.5),)),
    ]
    for request in different:
        assert allocator.problem_key(request) != allocator.problem_key(base)
    # a proposal with the same id but other data is another problem
    call = project("call1", 0.5, 2.0, clusters=("a", "c")).model_copy(update={"latest_start": 2019})
    other = call.model_copy(update={"impact": 2.5})
    with_call = AllocationRequest(2019, 1.0, frozenset("abc"), frozenset(), proposals=(call,))
    with_other = AllocationRequest(2019, 1.0, frozenset("abc"), frozenset(), proposals=(other,))
    assert allocator.problem_key(with_call) != allocator.problem_key(with_other)
    assert allocator.allocate(with_call) != allocator.allocate(with_other)
    # the proportional split ignores clusters at risk
    plain = ProportionalAllocator(pool)
    assert plain.problem_key(base) == plain.problem_key(different[0])


def test_proposals_in_the_request_are_allocated_as_if_in_the_pool() -> None:
    call = project("call1", 0.5, 5.0, clusters=("a", "c")).model_copy(update={"latest_start": 2019})
    request = AllocationRequest(2019, 1.2, CLUSTERS, frozenset())
    with_call = AllocationRequest(2019, 1.2, CLUSTERS, frozenset(), proposals=(call,))
    assert "call1" not in HighsAllocator(TINY, options()).allocate(request).fractions
    got = HighsAllocator(TINY, options()).allocate(with_call)
    assert got.fractions == HighsAllocator([*TINY, call], options()).allocate(request).fractions
    assert got.fractions["call1"] == pytest.approx(1.0)  # 10 per MSEK, the best by far
    assert LinearProgramAllocator(TINY, options()).allocate(with_call).fractions == pytest.approx(
        got.fractions
    )
    assert not hasattr(HighsAllocator(TINY, options()), "add_projects")


def test_commitment_book_carries_the_proposals_a_request_refers_to() -> None:
    early = project("call2019", 0.5, 1.0, duration=2).model_copy(
        update={"earliest_start": 2019, "latest_start": 2019}
    )
    lapsed = project("call2019b", 0.5, 1.0).model_copy(
        update={"earliest_start": 2019, "latest_start": 2019}
    )
    late = project("call2020", 0.5, 1.0).model_copy(
        update={"earliest_start": 2020, "latest_start": 2020}
    )
    book = CommitmentBook(TINY)
    book.add([early, lapsed])
    first = book.request(2019, 1.0, CLUSTERS, frozenset())
    assert [p.id for p in first.proposals] == ["call2019", "call2019b"]
    book.record(Allocation(2019, {"call2019": 0.5}))
    book.add([late])
    second = book.request(2020, 1.0, CLUSTERS, frozenset())
    assert second.commitments == (("call2019", 0.5),)
    assert [p.id for p in second.proposals] == ["call2019", "call2020"]  # lapsed one gone
    third = book.request(2021, 1.0, CLUSTERS, frozenset())
    assert third.proposals == ()
    assert book.proposals == {}  # none can come back in a later year: the book forgot them
    assert book.request(2022, 1.0, CLUSTERS, frozenset()).proposals == ()
    assert book.request(2022, 1.0, CLUSTERS, frozenset()).proposals == ()  # the same year again
    with pytest.raises(ValueError, match="asked for 2020 after 2022"):
        book.request(2020, 1.0, CLUSTERS, frozenset())


def test_one_memo_serves_runs_with_open_calls() -> None:
    """An ensemble's shared memo gives each run with open calls what a run alone gets, and
    reuses answers across runs."""
    from conftest import BASELINE

    from scenarios.config.scenario import load_config
    from simulator.model import default_allocator, simulate

    scenario = load_config(BASELINE, ["programme.horizon=2024"]).scenario
    assert scenario.open_calls is not None
    shared = MemoisedAllocator(default_allocator(scenario))
    for seed in (3, 4, 5):
        alone = simulate(scenario, np.random.default_rng(seed))
        together = simulate(scenario, np.random.default_rng(seed), shared)
        pd.testing.assert_frame_equal(alone.allocation, together.allocation)
    assert alone.allocation.project.str.startswith("call").any()
    assert shared.hits > 0
