"""A batch of one-year allocation programs built at once, in arrays.

:func:`formulate_each` makes, for each of many :class:`YearInputs` (a year's requests
from every run of a batch), the continuous one-year program that
:func:`simulator.formulation.formulate` makes for it, array for array and name for
name. ``formulate`` stays the formulation as written for a reader (and the only one
for programs over several years or with binary columns); this module writes the same
rows for a whole batch with a few numpy steps instead of a few hundred Python steps
per program. ``tests/test_formulation_batch.py`` checks that both give the same
programs, bit for bit, on generated inputs and on every program of an ensemble.

How the rows are found at once: each program has the same row *slots*, in the order
``formulate`` writes rows: its budget, one per area (in :data:`AREAS` order), a cap and
a cover row per cluster (sorted by id), the co-funding ratio, then one per commitment
(by project id). A slot holds a row only where ``formulate`` writes one (an area with a
share and a project in it, a cluster a project belongs to, ...), so a program's rows are
its filled slots, numbered in order. Every term then knows its row from its slot, and
one sort orders the terms of all programs column-wise.

Sums stay Python sums, in ``formulate``'s order (an area's eligible cost, the shortfall
penalty): numpy sums in another order and may round differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter

import numpy as np

from simulator.formulation import INF, Program, YearInputs, column_name, formulate, row_name
from simulator.scenario import AREAS, Allocator


def formulate_each(years: Sequence[YearInputs], options: Allocator) -> list[Program]:
    """For each of ``years``, its own program: the one ``formulate([inputs], options,
    binary=False)`` makes.

    A year that lists a project id twice (which no allocator asks, but ``formulate``
    accepts: the id gets one column and both terms) is left to ``formulate``."""
    programs: list[Program | None] = [None] * len(years)
    batch = []
    for k, inputs in enumerate(years):
        if len({p.id for p in inputs.projects}) == len(inputs.projects):
            batch.append(k)
        else:
            programs[k] = formulate([inputs], options, binary=False)
    if batch:
        built = _formulate_batch([years[k] for k in batch], options)
        for k, program in zip(batch, built, strict=True):
            programs[k] = program
    return programs  # type: ignore[return-value]  # every year built above


def _formulate_batch(years: Sequence[YearInputs], options: Allocator) -> list[Program]:
    """:func:`formulate_each` for years that list each project once."""
    pairs = _Pairs(years, options)
    slots = _Slots(years, pairs, options)
    columns = [
        _columns(inputs, slots, k, options.soft_targets, *pairs.of_program(k))
        for k, inputs in enumerate(years)
    ]
    return _split(years, _batch_arrays(years, pairs, slots, columns, options), columns)


class _Pairs:
    """Every (program, project) of the batch, flat, in program then project order."""

    def __init__(self, years: Sequence[YearInputs], options: Allocator) -> None:
        flat = [p for inputs in years for p in inputs.projects]
        self.count = np.array([len(inputs.projects) for inputs in years], dtype=np.int64)
        self.first = np.cumsum(self.count) - self.count
        self.program = np.repeat(np.arange(len(years)), self.count)
        fields = list(zip(*map(_FIELDS, flat), strict=True)) or [()] * len(_FIELDS_READ)
        ids, cost, cofunding, areas, clusters, impact, seeds = fields
        self.ids: list[str] = list(ids)
        self.x_named = _x_named(years, self.ids, self.first.tolist())
        """Each pair's column name and key ``(pid, year)``."""
        self.cost = np.array(cost, dtype=float)
        self.cofunding = np.array(cofunding, dtype=float)
        area_index = {area: a for a, area in enumerate(AREAS)}
        self.area = np.array([area_index.get(a, -1) for a in areas], dtype=np.int64)
        cluster_count = list(map(len, clusters))
        self.cluster_ids = sorted(set(chain.from_iterable(clusters)))
        self.cluster_index = {c: i for i, c in enumerate(self.cluster_ids)}
        self.member_pair = np.repeat(np.arange(len(flat)), cluster_count)
        self.member_cluster = np.array(
            list(map(self.cluster_index.__getitem__, chain.from_iterable(clusters))),
            dtype=np.int64,
        )
        self.cluster_count = np.array(cluster_count, dtype=float)
        self.committed = np.array(_committed(years, self.ids, self.first.tolist()), dtype=bool)
        """Whether each pair is a commitment of its year (else a new start)."""
        share = [options.area_min_share.get(area, 0.0) for area in AREAS]
        self.in_area = np.array([a >= 0 and share[a] > 0 for a in self.area.tolist()], dtype=bool)
        """Whether each pair's area has a least share (and so an area row)."""
        self.impact_list = self._impacts(years, list(impact), list(seeds), options)

    def _impacts(
        self,
        years: Sequence[YearInputs],
        impact: list[float],
        seeds: list[bool],
        options: Allocator,
    ) -> list[float]:
        """Each pair's objective weight times its impact, as ``formulate`` computes it: the
        raw impact unless the project is a growth seed or its year has clusters at risk."""
        seed = np.array(seeds, dtype=bool)
        weighted = seed | np.array([bool(inputs.at_risk) for inputs in years])[self.program]
        if not weighted.any():
            return impact
        at_risk = self.cluster_mask([inputs.at_risk for inputs in years])
        risky = np.bincount(
            self.member_pair[at_risk[self.program[self.member_pair], self.member_cluster]],
            minlength=len(impact),
        )
        powers = np.array([options.at_risk_weight**r for r in range(int(risky.max(initial=0)) + 1)])
        weight = np.where(seed, options.growth_seed_weight, 1.0) * powers[risky]
        values = np.array(impact, dtype=float)
        return np.where(weighted, weight * values, values).tolist()

    def cluster_mask(self, sets: list[frozenset[str]]) -> np.ndarray:
        """Per program, which of the batch's clusters are in its set of ``sets``."""
        mask = np.zeros((len(sets), len(self.cluster_ids)), dtype=bool)
        index = self.cluster_index
        for k, chosen in enumerate(sets):
            mask[k, [index[c] for c in chosen if c in index]] = True
        return mask

    def of_program(self, k: int) -> tuple[list[tuple[str, tuple[str, int]]], list[float]]:
        """Program ``k``'s column names and keys, and its weighted impacts, in project order."""
        first = int(self.first[k])
        end = first + int(self.count[k])
        return self.x_named[first:end], self.impact_list[first:end]


_FIELDS_READ = (
    "id",
    "cost_per_year",
    "cofunding_per_year",
    "area",
    "clusters",
    "impact",
    "growth_seed",
)
"""What the programs use of a project."""
_FIELDS = attrgetter(*_FIELDS_READ)


def _x_named(
    years: Sequence[YearInputs], ids: list[str], first: list[int]
) -> list[tuple[str, tuple[str, int]]]:
    """Each pair's column name and key ``(pid, year)``, each made once a batch."""
    named: dict[int, dict[str, tuple[str, tuple[str, int]]]] = {}
    for k, inputs in enumerate(years):
        y = inputs.year
        of_year = named.setdefault(y, {})
        for pid in ids[first[k] : first[k] + len(inputs.projects)]:
            if pid not in of_year:
                of_year[pid] = (column_name("x", pid, y), (pid, y))
    return [
        named[inputs.year][pid]
        for k, inputs in enumerate(years)
        for pid in ids[first[k] : first[k] + len(inputs.projects)]
    ]


def _committed(years: Sequence[YearInputs], ids: list[str], first: list[int]) -> list[bool]:
    """Whether each pair is a commitment of its year."""
    committed: list[bool] = []
    for k, inputs in enumerate(years):
        chosen = ids[first[k] : first[k] + len(inputs.projects)]
        if inputs.commitments:
            committed += map(inputs.commitments.__contains__, chosen)
        else:
            committed += [False] * len(chosen)
    return committed


class _Slots:
    """The row slots of every program: which hold a row, each row's number and bounds."""

    def __init__(self, years: Sequence[YearInputs], pairs: _Pairs, options: Allocator) -> None:
        programs, num_areas = len(years), len(AREAS)
        num_clusters = len(pairs.cluster_ids)
        self.area_slot = 1
        self.cap_slot = 1 + num_areas  # a cap and a cover row per cluster, in turn
        self.cover_slot = self.cap_slot + 1
        self.cofunding_slot = self.cap_slot + 2 * num_clusters
        num_slots = self.cofunding_slot + 1
        budget = np.array([inputs.budget for inputs in years], dtype=float)
        share = np.array([options.area_min_share.get(area, 0.0) for area in AREAS])
        filled = np.zeros((programs, num_slots), dtype=bool)
        lower = np.full((programs, num_slots), -INF)
        upper = np.full((programs, num_slots), INF)
        filled[:, 0] = True
        upper[:, 0] = budget
        in_area = pairs.in_area
        filled[pairs.program[in_area], self.area_slot + pairs.area[in_area]] = True
        lower[:, self.area_slot : self.cap_slot] = _area_needs(years, pairs, share)
        present = np.zeros((programs, num_clusters), dtype=bool)
        present[pairs.program[pairs.member_pair], pairs.member_cluster] = True
        if options.cluster_cap_share < 1.0:
            filled[:, self.cap_slot : self.cofunding_slot : 2] = present
            upper[:, self.cap_slot : self.cofunding_slot : 2] = (
                options.cluster_cap_share * budget
            )[:, None]
        if options.cover_every_cluster:
            open_cluster = pairs.cluster_mask([inputs.open_clusters for inputs in years])
            filled[:, self.cover_slot : self.cofunding_slot : 2] = (
                present & open_cluster & (budget > 0)[:, None]
            )
            lower[:, self.cover_slot : self.cofunding_slot : 2] = options.min_cover_fraction
        if options.cofunding_min_ratio > 0:
            filled[pairs.program[~pairs.committed], self.cofunding_slot] = True
            lower[:, self.cofunding_slot] = 0.0
        self.filled = filled
        self.fixed_rows = filled.sum(axis=1)
        self.row_of_slot = np.cumsum(filled, axis=1) - 1
        self.lower, self.upper = lower, upper
        _, slot_of = np.nonzero(filled)
        slot_list = slot_of.tolist()
        ends = np.cumsum(self.fixed_rows).tolist()
        self.filled_slots = [
            slot_list[end - n : end] for end, n in zip(ends, self.fixed_rows.tolist(), strict=True)
        ]
        """Each program's filled slots, in order (its fixed rows)."""
        self.slot_about = [
            ("arena_budget", ()),
            *(("area_min_share", (area,)) for area in AREAS),
            *((kind, (c,)) for c in pairs.cluster_ids for kind in ("cluster_cap", "cover")),
            ("cofunding_ratio", ()),
        ]
        """Each slot's row kind and what it is about, the year left out."""
        self.soft_slot = [kind in ("area_min_share", "cover") for kind, _ in self.slot_about]
        self.words: dict[int, tuple[list, list]] = {}

    def of_year(self, year: int) -> tuple[list, list]:
        """Each slot's row label in ``year``, and the name of its shortfall column (soft
        slots; ``None`` for the others)."""
        if year not in self.words:
            labels = [(kind, (*about, year)) for kind, about in self.slot_about]
            names = [
                column_name("shortfall", row_name(kind, *parts)) if soft else None
                for (kind, parts), soft in zip(labels, self.soft_slot, strict=True)
            ]
            self.words[year] = (labels, names)
        return self.words[year]


def _area_needs(years: Sequence[YearInputs], pairs: _Pairs, share: np.ndarray) -> np.ndarray:
    """Each program's need per area, ``min(share * budget, eligible cost in the area)``
    (the cost summed by Python in project order, as ``formulate`` sums it); -inf where none."""
    needs = np.full((len(years), len(AREAS)), -INF)
    chosen = np.flatnonzero(pairs.in_area)
    if not len(chosen):
        return needs
    program, area = pairs.program[chosen], pairs.area[chosen]
    order = np.lexsort((chosen, area, program))  # by program, area, then project order
    program, area = program[order], area[order]
    cost = pairs.cost[chosen[order]].tolist()
    new_group = np.flatnonzero((np.diff(program) != 0) | (np.diff(area) != 0)) + 1
    firsts = [0, *new_group.tolist()]
    ends = [*firsts[1:], len(cost)]
    shares = share.tolist()
    for first, end, k, a in zip(
        firsts, ends, program[firsts].tolist(), area[firsts].tolist(), strict=True
    ):
        needs[k, a] = min(shares[a] * years[k].budget, sum(cost[first:end]))
    return needs


@dataclass
class _Columns:
    """One program's columns (names in PuLP's order, the maps to them) and row labels."""

    names: tuple[str, ...]
    of_pair: list[int]
    """The column of each of the program's projects, in project order."""
    columns: dict[tuple[str, int], int]
    shortfall: dict[int, int]
    labels: tuple[tuple[str, tuple[object, ...]], ...]
    penalty: float
    """The objective of a shortfall column."""


def _columns(
    inputs: YearInputs,
    slots: _Slots,
    k: int,
    shortfalls: bool,
    x_named: list[tuple[str, tuple[str, int]]],
    impact: list[float],
) -> _Columns:
    """Program ``k``'s row labels, and its columns ordered by the names PuLP gives them."""
    y = inputs.year
    filled = slots.filled_slots[k]
    slot_labels, soft_names = slots.of_year(y)
    labels = [slot_labels[s] for s in filled]
    labels += [("commitment", (pid, y)) for pid in sorted(inputs.commitments)]
    soft = [(soft_names[s], r) for r, s in enumerate(filled) if soft_names[s]] if shortfalls else []
    order = sorted(x_named + soft)
    column_of = {what: j for j, (_, what) in enumerate(order)}
    columns = {key: column_of[key] for _, key in x_named}
    return _Columns(
        names=tuple(name for name, _ in order),
        of_pair=list(columns.values()),
        columns=columns,
        shortfall={r: column_of[r] for _, r in soft},
        labels=tuple(labels),
        penalty=-(1.0 + sum(map(abs, impact))),
    )


@dataclass
class _BatchArrays:
    """The arrays of every program of the batch, one after another: columns numbered
    across the batch, rows and matrix entries each program's own."""

    col_first: list[int]
    """Each program's first column (and, last, the batch's number of columns)."""
    row_first: list[int]
    entry_first: list[int]
    cost: np.ndarray
    impact: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    """Each program's column starts counted from its own first entry, with one past its
    last column: program k's are ``start[col_first[k] + k : col_first[k + 1] + k + 1]``."""
    index: np.ndarray
    value: np.ndarray


def _batch_arrays(
    years: Sequence[YearInputs],
    pairs: _Pairs,
    slots: _Slots,
    columns: list[_Columns],
    options: Allocator,
) -> _BatchArrays:
    """Every program's objective, bounds and column-wise matrix, made for the batch at once."""
    num_col = np.array([len(c.names) for c in columns], dtype=np.int64)
    col_first = np.cumsum(num_col) - num_col
    pair_col = np.array([j for c in columns for j in c.of_pair], dtype=np.int64)
    pair_col = pair_col + col_first[pairs.program]  # in the batch's numbering
    soft_program = np.array([k for k, c in enumerate(columns) for _ in c.shortfall], np.int64)
    soft_row = np.array([r for c in columns for r in c.shortfall], dtype=np.int64)
    soft_col = np.array([j for c in columns for j in c.shortfall.values()], dtype=np.int64)
    soft_col += col_first[soft_program]
    commit_program, commit_row, commit_col, committed = _commitments(
        years, slots, columns, col_first
    )
    row, col, value = _terms(pairs, slots, pair_col, options)
    row = np.concatenate([row, commit_row, soft_row])
    col = np.concatenate([col, commit_col, soft_col])
    value = np.concatenate([value, np.ones(len(commit_row) + len(soft_row))])
    kept = value != 0
    row, col, value = row[kept], col[kept], value[kept]
    order = np.lexsort((row, col))
    row, col, value = row[order].astype(np.int32), col[order], value[order]
    total_col = int(num_col.sum())
    entry_of_col = np.searchsorted(col, np.arange(total_col + 1))
    # each program's column starts from its first entry, one past its last column included
    span = num_col + 1
    at = np.repeat(col_first - (np.cumsum(span) - span), span) + np.arange(int(span.sum()))
    start = (entry_of_col[at] - np.repeat(entry_of_col[col_first], span)).astype(np.int32)
    row_first, row_lower, row_upper = _row_bounds(
        years, slots, commit_program, commit_row, committed
    )
    impact = np.zeros(total_col)
    impact[pair_col] = pairs.impact_list
    cost = impact.copy()
    cost[soft_col] = np.repeat([c.penalty for c in columns], [len(c.shortfall) for c in columns])
    col_upper = np.ones(total_col)
    col_upper[soft_col] = INF
    return _BatchArrays(
        col_first=[*col_first.tolist(), total_col],
        row_first=row_first,
        entry_first=[*entry_of_col[col_first].tolist(), int(entry_of_col[-1])],
        cost=cost,
        impact=impact,
        col_lower=np.zeros(total_col),
        col_upper=col_upper,
        row_lower=row_lower,
        row_upper=row_upper,
        start=start,
        index=row,
        value=value,
    )


def _terms(
    pairs: _Pairs, slots: _Slots, pair_col: np.ndarray, options: Allocator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The terms (row, column, coefficient) of the batch's rows but the commitments: the
    budget, area, cluster cap and cover, and co-funding rows."""
    rows, cols, values = [], [], []

    def write(program: np.ndarray, slot: np.ndarray | int, col: np.ndarray, value) -> None:
        rows.append(slots.row_of_slot[program, slot])
        cols.append(col)
        values.append(np.broadcast_to(np.asarray(value, dtype=float), program.shape))

    write(pairs.program, 0, pair_col, pairs.cost)
    area = pairs.in_area
    write(pairs.program[area], slots.area_slot + pairs.area[area], pair_col[area], pairs.cost[area])
    member_program = pairs.program[pairs.member_pair]
    member_col = pair_col[pairs.member_pair]
    cap_slot = slots.cap_slot + 2 * pairs.member_cluster
    if options.cluster_cap_share < 1.0:
        money = pairs.cost[pairs.member_pair] / pairs.cluster_count[pairs.member_pair]
        write(member_program, cap_slot, member_col, money)
    cover = slots.filled[member_program, cap_slot + 1]
    write(member_program[cover], cap_slot[cover] + 1, member_col[cover], 1.0)
    if options.cofunding_min_ratio > 0:
        new = ~pairs.committed
        cofunding = pairs.cofunding[new] - options.cofunding_min_ratio * pairs.cost[new]
        write(pairs.program[new], slots.cofunding_slot, pair_col[new], cofunding)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(values)


def _commitments(
    years: Sequence[YearInputs], slots: _Slots, columns: list[_Columns], col_first: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Each commitment's program, row (after its program's other rows, by project id),
    column (in the batch's numbering) and committed fraction (its row's lower bound)."""
    program, row, col, fraction = [], [], [], []
    fixed_rows, first = slots.fixed_rows.tolist(), col_first.tolist()
    for k, inputs in enumerate(years):
        column_of = columns[k].columns
        for r, pid in enumerate(sorted(inputs.commitments), start=fixed_rows[k]):
            program.append(k)
            row.append(r)
            col.append(column_of[(pid, inputs.year)] + first[k])
            fraction.append(inputs.commitments[pid])
    return (
        np.array(program, dtype=np.int64),
        np.array(row, dtype=np.int64),
        np.array(col, dtype=np.int64),
        fraction,
    )


def _row_bounds(
    years: Sequence[YearInputs],
    slots: _Slots,
    commit_program: np.ndarray,
    commit_row: np.ndarray,
    committed: list[float],
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Each program's first row in the batch (and, last, the number of rows), and the row
    bounds of every program, its filled slots' then its commitments'."""
    num_row = slots.fixed_rows + np.bincount(commit_program, minlength=len(years))
    row_first = np.cumsum(num_row) - num_row
    program, slot = np.nonzero(slots.filled)
    at = row_first[program] + slots.row_of_slot[program, slot]
    lower, upper = np.empty(int(num_row.sum())), np.empty(int(num_row.sum()))
    lower[at], upper[at] = slots.lower[program, slot], slots.upper[program, slot]
    at = row_first[commit_program] + commit_row
    lower[at] = committed
    upper[at] = INF
    return [*row_first.tolist(), int(num_row.sum())], lower, upper


def _split(
    years: Sequence[YearInputs], arrays: _BatchArrays, columns: list[_Columns]
) -> list[Program]:
    """Each program, its arrays cut from the batch's."""
    a = arrays
    programs = []
    for k, (inputs, c) in enumerate(zip(years, columns, strict=True)):
        c0, c1 = a.col_first[k], a.col_first[k + 1]
        r0, r1 = a.row_first[k], a.row_first[k + 1]
        e0, e1 = a.entry_first[k], a.entry_first[k + 1]
        programs.append(
            Program(
                column_names=c.names,
                cost=a.cost[c0:c1],
                col_lower=a.col_lower[c0:c1],
                col_upper=a.col_upper[c0:c1],
                integer=False,
                row_labels=c.labels,
                row_lower=a.row_lower[r0:r1],
                row_upper=a.row_upper[r0:r1],
                start=a.start[c0 + k : c1 + k + 1],
                index=a.index[e0:e1],
                value=a.value[e0:e1],
                columns=c.columns,
                shortfall=c.shortfall,
                budget_rows={inputs.year: 0},
                impact=a.impact[c0:c1],
                fractional=frozenset(c.columns[(pid, inputs.year)] for pid in inputs.cut),
            )
        )
    return programs
