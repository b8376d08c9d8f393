"""Batched ensembles: a run's numbers never depend on its batch, its process or the writer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import CONFIGS, invoke, scenario_with
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_writers import write_allocations, write_yearly, write_yearly_rows

from scenarios.engine.ensemble import default_batch_size, default_batches, run_rng
from scenarios.engine.points import make_chunks
from scenarios.folders.run_rows import column_texts, events_text, tidy_table
from scenarios.folders.tables import round_half_even
from simulator.allocation import MemoisedAllocator
from simulator.members import COLUMNS, MemberMix, Members, draw_members, segment_sums, split_blocks
from simulator.model import default_allocator, simulate, simulate_batch
from simulator.records import CLOSED_CODE, Event, YearlyTable

CSVS = ("yearly.csv", "allocation.csv", "events.csv", "summary.csv", "scorecard.csv")


@pytest.mark.parametrize("config", ["baseline.toml", "downturn_2020.toml"])
def test_batch_size_and_jobs_give_byte_identical_files(tmp_path: Path, config: str) -> None:
    folders = {}
    # None: the default batches, smaller towards the end (9, 9, 9, 9, 9, 7, 5, 4, 3, 2, 2, 2)
    for batch, jobs in ((1, 1), (7, 1), (64, 1), (7, 2), (None, 2)):
        out = tmp_path / f"b{batch}j{jobs}"
        size = [] if batch is None else ["--batch-size", str(batch)]
        result = invoke(
            "run", str(CONFIGS / config), "--out", str(out), "--runs", "70",
            "--horizon", "2023", "--seed", "3", "--no-plots", "--jobs", str(jobs), *size,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        folders[(batch, jobs)] = {name: (out / name).read_bytes() for name in CSVS}
    reference = folders[(1, 1)]
    for key, files in folders.items():
        for name in CSVS:
            assert files[name] == reference[name], f"{config} {name} differs for batch/jobs {key}"
    if config == "downturn_2020.toml":  # the what-if covers closures and transfers
        events = reference["events.csv"].decode()
        assert ",closed\n" in events and "transfer_in" in events


def test_the_batched_lp_path_allocates_as_one_run_at_a_time() -> None:
    # downturn_2020 closes clusters from 2020
    document = _document("downturn_2020.toml")
    document["open_calls"] = None  # one pool, so the batch's memo serves every run
    scenario = scenario_with({"programme.horizon": 2022}, document)
    runs = 200
    memo = MemoisedAllocator(default_allocator(scenario))
    batch = simulate_batch(scenario, [run_rng(9, r) for r in range(runs)], memo)
    closed_runs = 0
    for r in range(runs):
        alone = simulate(scenario, run_rng(9, r), default_allocator(scenario))
        assert batch.allocations[r] == alone.allocation_rows, f"run {r}"
        assert batch.events[r] == alone.events, f"run {r}"
        closed_runs += bool((batch.yearly.closed()[r]).any())
    assert closed_runs >= 20, "the ensemble must exercise closures"
    assert memo.hits > 0 and memo.misses > 0


def _document(name: str) -> dict:
    from scenarios.config.scenario import load_config

    return load_config(CONFIGS / name).scenario.model_dump(mode="json")


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), max_size=8)
)
def test_split_blocks_cuts_each_runs_block_into_its_parts(
    sizes: list[tuple[int, int, int]],
) -> None:
    parts = [np.array([s[j] for s in sizes], dtype=np.int64) for j in range(3)]
    draws = np.arange(sum(map(sum, sizes)), dtype=float)
    blocks, start = [[], [], []], 0
    for run_sizes in sizes:  # the layout written out run by run
        for j, size in enumerate(run_sizes):
            blocks[j] += list(range(start, start + size))
            start += size
    split = split_blocks(draws, parts)
    assert [part.tolist() for part in split] == [[float(i) for i in b] for b in blocks]


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(0, 30), min_size=1, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_starting_members_are_drawn_as_random_2_by_n_per_run(counts: list[int], seed: int) -> None:
    # draw_members (the starting members) takes one random(2 n) per run: the draws of
    # random((2, n)), rows as size, type
    cluster = scenario_with({}).clusters["packbridge"]
    mix = MemberMix.of(cluster)
    ours = [np.random.default_rng([seed, r]) for r in range(len(counts))]
    theirs = [np.random.default_rng([seed, r]) for r in range(len(counts))]
    members = draw_members(np.array(counts), mix, 2020, ours)
    expected = np.concatenate([theirs[r].random((2, n)) for r, n in enumerate(counts)], axis=1)
    tiers = np.searchsorted(mix.size_cumulative, expected[0], side="right")
    kinds = np.searchsorted(mix.type_cumulative, expected[1], side="right")
    assert members.data[:, COLUMNS.index("tier")].tolist() == tiers.tolist()
    assert members.data[:, COLUMNS.index("kind")].tolist() == kinds.tolist()
    assert members.count.tolist() == counts


@settings(max_examples=15, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 2**31), min_size=1, max_size=6, unique=True),
    position=st.integers(0, 5),
)
def test_a_run_is_the_same_alone_and_in_any_batch(seeds: list[int], position: int) -> None:
    scenario = scenario_with(
        {"programme.horizon": 2022, "members.churn": 0.2, "allocator.method": "proportional"}
    )
    position = min(position, len(seeds) - 1)
    batch = simulate_batch(scenario, [np.random.default_rng(s) for s in seeds])
    alone = simulate(scenario, np.random.default_rng(seeds[position]))
    together = batch.run(position)
    for name, values in alone.table.fields.items():
        np.testing.assert_array_equal(together.table.fields[name], values, err_msg=name)
    assert together.events == alone.events
    assert together.allocation_rows == alone.allocation_rows


def _members(counts: list[int], runs: int, offset: float) -> Members:
    run = np.repeat(np.arange(runs), counts)
    data = offset + np.arange(len(run) * len(COLUMNS), dtype=float).reshape(-1, len(COLUMNS))
    return Members(data, run, runs)


@given(
    own=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    new=st.lists(st.integers(0, 4), min_size=6, max_size=6),
)
def test_merge_puts_each_runs_newcomers_after_its_own_members(own: list[int], new: list[int]):
    runs = len(own)
    a, b = _members(own, runs, 0.0), _members(new[:runs], runs, 10_000.0)
    merged = a.merge(b)
    expected = np.concatenate(
        [np.concatenate((a.data[a.run == r], b.data[b.run == r])) for r in range(runs)]
    )
    np.testing.assert_array_equal(merged.data, expected)
    assert merged.count.tolist() == [o + n for o, n in zip(own, new[:runs], strict=False)]
    assert (np.diff(merged.run) >= 0).all()


@given(st.lists(st.integers(0, 300), min_size=1, max_size=8))
def test_segment_sums_equal_each_segments_own_sum(counts: list[int]) -> None:
    values = np.random.default_rng(len(counts)).random(sum(counts)) * 7.3
    starts = np.cumsum(counts) - counts
    expected = [values[s : s + n].sum() for s, n in zip(starts, counts, strict=True)]
    assert segment_sums(values, np.array(counts)).tolist() == expected  # bit for bit


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_vectorised_rounding_is_pythons(values: list[float]) -> None:
    near_halves = [round(v, 3) + 5e-7 for v in values]  # ties in decimal, not in binary
    for sample in (values, near_halves):
        got = round_half_even(np.array(sample)).tolist()
        assert got == [round(v, 6) + 0.0 for v in sample]


@given(
    st.lists(
        st.one_of(st.sampled_from([0.0, -0.0, 1.5, 2.98, 1e-7, 1e20]), st.floats()),
        max_size=60,
    ),
    st.integers(1, 4),
)
def test_column_texts_are_repr_of_each_float(values: list[float], repeat: int) -> None:
    column = np.array(values * repeat, dtype=np.float64)  # repeats take the distinct-value path
    assert column_texts(column) == [repr(v) for v in column.tolist()]


@given(st.lists(st.integers(-(2**62), 2**62), max_size=60), st.integers(1, 4))
def test_column_texts_are_the_digits_of_each_integer(values: list[int], repeat: int) -> None:
    column = np.array(values * repeat, dtype=np.int64)
    assert column_texts(column) == [str(v) for v in values * repeat]


@given(
    st.lists(
        st.lists(st.builds(Event, st.integers(1900, 2200), st.text(), st.text()), max_size=5),
        max_size=6,
    ),
    st.integers(0, 10_000),
)
def test_events_are_written_as_csv_writer_writes_them(
    events: list[list[Event]], first_run: int
) -> None:
    assert events_text(events, first_run) == _csv_writer_text(events, first_run)


def test_both_yearly_writers_give_the_same_bytes() -> None:
    scenario = scenario_with({"programme.horizon": 2023}, _document("downturn_2020.toml"))
    batch = simulate_batch(scenario, [run_rng(1, r) for r in range(12)])
    assert (batch.yearly["status"] == CLOSED_CODE).any()
    tidy = tidy_table(batch.yearly)
    vectorised, rows = io.StringIO(), io.StringIO()
    write_yearly(vectorised, tidy, 5)
    write_yearly_rows(rows, tidy, 5)
    assert vectorised.getvalue() == rows.getvalue()
    assert vectorised.getvalue().startswith("5,2017,")
    # ids that csv must quote (a config may name a cluster "a,b" or 'say "hi"')
    odd = ["a,b", 'say "hi"', "", "x\ny", *tidy.clusters[4:]]
    renamed = YearlyTable(tidy.years, tuple(odd), tidy.fields)
    vectorised, rows = io.StringIO(), io.StringIO()
    write_yearly(vectorised, renamed, 0)
    write_yearly_rows(rows, renamed, 0)
    assert vectorised.getvalue() == rows.getvalue()
    assert ',"a,b",' in vectorised.getvalue() and ',"say ""hi""",' in vectorised.getvalue()


def test_default_batches_spread_over_the_processes() -> None:
    assert default_batch_size(10_000, 2) == 64
    assert default_batch_size(100, 2) == 13  # eight batches of up to 13 runs
    assert default_batch_size(1, 4) == 1
    # two processes: 64 a batch while at least 4 x 64 runs are left, then a quarter of
    # what is left (ceil), down to 16
    sizes = [len(batch) for batch in default_batches(1000, 2)]
    assert sizes == [64] * 12 + [58, 44, 33, 25, 18, 16, 16, 16, 6]
    assert [len(batch) for batch in default_batches(1000, 1)] == [64] * 15 + [40]


@settings(max_examples=200, deadline=None)
@given(
    todo=st.sets(st.integers(0, 400), min_size=1).map(sorted),
    usual=st.integers(1, 30),
    jobs=st.integers(1, 8),
)
def test_chunks_of_points_keep_runs_of_consecutive_points_and_shrink(
    todo: list[int], usual: int, jobs: int
) -> None:
    points = [{"point": i} for i in range(401)]
    chunks = make_chunks(points, todo, usual, jobs)
    assert [p["point"] for chunk in chunks for p in chunk.overrides] == todo
    for chunk in chunks:
        assert [p["point"] for p in chunk.overrides] == list(
            range(chunk.first, chunk.first + len(chunk.overrides))
        )
    sizes = [len(chunk.overrides) for chunk in chunks]
    assert max(sizes) <= usual
    if jobs == 1 and todo == list(range(todo[0], todo[-1] + 1)):
        assert sizes[:-1] == [usual] * (len(sizes) - 1)
    left = len(todo)
    for size in sizes:  # a chunk ends at a gap, or at the size for what was left
        assert size <= max(-(-left // (2 * jobs)), usual // 4, 1) or jobs == 1
        left -= size


@settings(max_examples=200, deadline=None)
@given(runs=st.integers(1, 20_000), jobs=st.integers(1, 16))
def test_default_batches_cover_every_run_once_in_order_and_shrink(runs: int, jobs: int) -> None:
    batches = default_batches(runs, jobs)
    assert [run for batch in batches for run in batch] == list(range(runs))
    sizes = [len(batch) for batch in batches]
    usual = default_batch_size(runs, jobs)
    assert max(sizes) == usual and sizes == sorted(sizes, reverse=True)
    assert min(sizes[:-1], default=usual) >= max(1, usual // 4)  # only the last may be smaller
    if jobs > 1:  # at most ceil(left / (2 jobs)) unless that is below a quarter of the usual
        for batch in batches:
            left = runs - batch.start
            assert len(batch) <= max(-(-left // (2 * jobs)), usual // 4, 1)


def test_a_bounded_memo_forgets_without_changing_an_answer() -> None:
    scenario = scenario_with({"programme.horizon": 2024, "members.churn": 0.2})
    unbounded = MemoisedAllocator(default_allocator(scenario))
    small = MemoisedAllocator(default_allocator(scenario), max_entries=5)
    for _ in range(2):  # the second time, the unbounded memo knows every problem
        expected = simulate_batch(scenario, [run_rng(2, r) for r in range(6)], unbounded)
        got = simulate_batch(scenario, [run_rng(2, r) for r in range(6)], small)
        assert got.allocations == expected.allocations
    assert len(small.cache) == 5 < len(unbounded.cache)
    assert small.misses > unbounded.misses  # it did forget, and solved again


def _csv_writer_text(rows: Sequence[Sequence[tuple]], first_run: int) -> str:
    """What ``csv.writer`` writes for each run's rows, row by row, led by the run number
    (floats tidied), rows ended as the tool ends them (a CR in a field quoted): the
    reference the column-wise writers are held to."""
    import csv

    from scenarios.folders.tables import WRITER_TERMINATOR, rows_ended_by_newline, tidy_row

    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator=WRITER_TERMINATOR)
    for run, run_rows in enumerate(rows, first_run):
        writer.writerows((run, *tidy_row(row)) for row in run_rows)
    return rows_ended_by_newline(expected.getvalue())


def test_allocation_rows_are_written_as_csv_writer_writes_them() -> None:
    from simulator.records import AllocationRow

    scenario = scenario_with({"programme.horizon": 2023}, _document("downturn_2020.toml"))
    allocations = simulate_batch(scenario, [run_rng(1, r) for r in range(6)]).allocations
    allocations[1] = [
        *allocations[1],
        AllocationRow(2023, 'P,"1"', "a\nb", "x;y", 0.1 + 0.2, 1 / 3, 2.0000005),
        AllocationRow(2023, "", "=cmd", "", -0.0, 1e-9, 0.5),
    ]
    fast = io.StringIO()
    write_allocations(fast, allocations, 7)
    assert sum(map(len, allocations)) > 20
    assert fast.getvalue() == _csv_writer_text(allocations, 7)


@given(
    st.lists(
        st.lists(
            st.tuples(st.one_of(st.integers(-5, 5), st.floats(-1e3, 1e3), st.text(max_size=4))),
            max_size=4,
        ),
        max_size=5,
    ),
    st.integers(0, 100),
)
def test_a_column_of_mixed_types_is_written_as_csv_writer_writes_it(
    rows: list[list[tuple]], first_run: int
) -> None:
    from scenarios.folders.run_rows import run_rows_text

    assert run_rows_text(rows, first_run) == _csv_writer_text(rows, first_run)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), max_size=4))
def test_stacked_puts_each_runs_parts_in_turn(parts: list[list[int]]) -> None:
    # part k holds, for run r, parts[k][r] members whose data say (k, r, i)
    made = [
        Members(
            np.array(
                [[k, r, i, 0, 0, 0] for r, n in enumerate(sizes) for i in range(n)], float
            ).reshape(-1, len(COLUMNS)),
            np.repeat(np.arange(3), sizes),
            3,
        )
        for k, sizes in enumerate(parts)
    ]
    stacked = Members.stacked(made, 3)
    expected = [
        (k, r, i) for r in range(3) for k, sizes in enumerate(parts) for i in range(sizes[r])
    ]
    assert [tuple(row[:3]) for row in stacked.data.tolist()] == expected
    assert stacked.run.tolist() == [r for _, r, _ in expected]
    assert stacked.count.tolist() == [sum(sizes[r] for sizes in parts) for r in range(3)]


def test_a_batch_count_cannot_be_changed_in_place() -> None:
    members = Members(np.zeros((3, len(COLUMNS))), np.array([0, 0, 1]), 2)
    with pytest.raises(ValueError, match="read-only"):
        members.count[0] += 1
    merged = members.merge(Members(np.zeros((1, len(COLUMNS))), np.array([1]), 2))
    assert merged.count.tolist() == [2, 2]
    with pytest.raises(ValueError, match="read-only"):
        merged.count[1] = 0


def test_runs_sharing_an_answer_are_paid_by_their_own_projects() -> None:
    # one memoised answer, two runs whose pools hold different projects under the same id
    from simulator.allocation import Allocation
    from simulator.office import Payouts

    scenario = scenario_with({})
    ids = list(scenario.clusters)
    project = scenario.projects[0]
    dearer = project.model_copy(update={"cost_per_year": project.cost_per_year * 2})
    answer = Allocation(2020, {project.id: 0.5})
    payouts = Payouts(2020, ids)
    money_a, _, rows_a = payouts.of(answer, {project.id: project})
    money_b, _, rows_b = payouts.of(answer, {project.id: dearer})
    money_again, _, _ = payouts.of(answer, {project.id: project})
    assert money_b.sum() == pytest.approx(2 * money_a.sum()) and money_a.sum() > 0
    assert rows_a[0].funded * 2 == pytest.approx(rows_b[0].funded)
    assert money_again is money_a  # the same projects share the worked-out pay-out


def test_the_call_tables_do_not_depend_on_the_order_of_the_open_clusters() -> None:
    from simulator.calls import CallTables, draw_call

    scenario = scenario_with({"open_calls.from_year": 2022})
    table = CallTables(scenario.open_calls)
    ids = sorted(scenario.clusters)[:5]
    assert table.pairs_of(ids) is table.pairs_of(list(reversed(ids)))
    assert table.pairs_of(ids[:1])[1] is None  # one cluster: no pair can form
    a = draw_call(scenario.open_calls, 2023, ids, np.random.default_rng(4), table)
    b = draw_call(scenario.open_calls, 2023, ids[::-1], np.random.default_rng(4))
    assert a == b and a
    other = scenario.open_calls.model_copy(update={"default_affinity": 2.0})
    with pytest.raises(ValueError, match="made for other open calls"):
        draw_call(other, 2023, ids, np.random.default_rng(4), table)
