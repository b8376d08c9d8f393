"""The scorecard's project counts agree with counting them the plain way."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from conftest import scenario_with
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.records import AllocationRow
from simulator.scenario import CLUSTER_SEPARATOR
from simulator.scorecard import project_counts, scored_years

SCENARIO = scenario_with({})
YEARS = scored_years(SCENARIO)
ROWS = st.builds(
    AllocationRow,
    year=st.sampled_from(SCENARIO.years),
    project=st.sampled_from([p.id for p in SCENARIO.projects]),
    area=st.just("area"),
    clusters=st.lists(st.sampled_from(sorted(SCENARIO.clusters)), min_size=1, max_size=4).map(
        CLUSTER_SEPARATOR.join
    ),
    funded=st.just(1.0),
    cost=st.just(1.0),
    fraction=st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0]),
)


def plain_counts(allocations: list[list[AllocationRow]]) -> tuple[np.ndarray, np.ndarray]:
    """Growth areas seeded up to each scored year and distinct cluster pairs in that year."""
    growth_seed = {p.id for p in SCENARIO.projects if p.growth_seed}
    min_fraction = SCENARIO.allocator.min_cover_fraction
    growth = np.zeros((len(allocations), len(YEARS)))
    links = np.zeros((len(allocations), len(YEARS)))
    for r, rows in enumerate(allocations):
        covered = [row for row in rows if row.fraction + 1e-9 >= min_fraction]
        for i, year in enumerate(YEARS):
            seeded = {row.project for row in covered if row.year <= year}
            growth[r, i] = len(seeded & growth_seed)
            pairs = {
                pair
                for row in covered
                if row.year == year
                for pair in combinations(sorted(row.clusters.split(CLUSTER_SEPARATOR)), 2)
            }
            links[r, i] = len(pairs)
    return growth, links


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(ROWS, max_size=25), min_size=1, max_size=4))
def test_project_counts_are_the_plain_counts(allocations: list[list[AllocationRow]]) -> None:
    growth, links = project_counts(SCENARIO, YEARS, allocations)
    expected_growth, expected_links = plain_counts(allocations)
    np.testing.assert_array_equal(growth, expected_growth)
    np.testing.assert_array_equal(links, expected_links)
