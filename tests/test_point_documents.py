"""A study's point shares its base document instead of copying it, checks its base's
parameter sets once, makes only the set variants its replications use, and shares batches
with other points that vary only per-run keys: the same numbers as before, faster
(benchmarks/bench_rows.py)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from conftest import CONFIGS
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.config.keys import apply_set, flatten, with_set_values
from scenarios.config.scenario import load_config
from scenarios.engine import points as points_module
from scenarios.engine.points import Chunk, ChunkJob, PointFailed, ScenarioModel, evaluate_chunk
from simulator.outcomes import Outcome
from simulator.parameter_sets import PER_RUN_KEYS, set_variants, with_values
from simulator.scenario import Absorption, Cluster, Management, MemberBehaviour

BASE = load_config(CONFIGS / "baseline.toml")
OUTCOMES = (
    Outcome(metric="members", year=2023),
    Outcome(metric="closed", year=2023),
    Outcome(metric="private_income", year=2023),
)
LEAVES = sorted(k for k, v in flatten(BASE.document).items() if isinstance(v, int | float))


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.sampled_from(LEAVES), min_size=1, max_size=6, unique=True),
    value=st.floats(0, 1),
)
def test_set_values_equal_a_deep_copy_with_apply_set_and_leave_the_base(
    keys: list[str], value: float
) -> None:
    before = copy.deepcopy(BASE.document)
    expected = copy.deepcopy(BASE.document)
    values: dict[str, Any] = {key: value for key in keys}
    for key, number in values.items():
        apply_set(expected, key, number)
    assert with_set_values(BASE.document, values) == expected
    assert BASE.document == before


def test_a_new_table_is_made_in_the_copy_only() -> None:
    document = {"a": {"b": 1}, "c": [1, {"d": 2}]}
    changed = with_set_values(document, {"a.x.y": 3, "c.1.d": 5})
    assert changed == {"a": {"b": 1, "x": {"y": 3}}, "c": [1, {"d": 5}]}
    assert document == {"a": {"b": 1}, "c": [1, {"d": 2}]}


def test_variants_are_made_for_the_sets_used_and_equal_the_eager_ones() -> None:
    scenario = BASE.scenario
    sets = scenario.parameter_sets
    assert sets is not None and len(sets.values) > 20
    variants = set_variants(scenario, fixed=["members.churn"])
    assert len(variants) == len(sets.values)
    used = [variants[r % len(variants)] for r in range(10)]
    assert len(variants.made) == 10  # type: ignore[attr-defined]
    for number, variant in enumerate(used):
        row = dict(zip(sets.keys, sets.values[number], strict=True))
        row.pop("members.churn", None)
        assert variant == with_values(scenario, row)
        assert variant.members.churn == scenario.members.churn  # the point's value wins


@pytest.mark.parametrize("model", [Cluster, MemberBehaviour, Management, Absorption])
def test_a_set_value_is_checked_by_its_own_field_alone(model: type) -> None:
    """Points skip re-checking their base's sets; that holds while no validator of a model a
    set may change reads other fields (PER_RUN_KEYS' tables)."""
    tables = {key.split(".")[0] for key in PER_RUN_KEYS}
    assert tables == {"absorption", "members", "management", "clusters"}
    decorators = model.__pydantic_decorators__
    assert not decorators.model_validators and not decorators.field_validators


SHARING_POINTS = [
    {"members.churn": 0.1, "members.fee_sensitivity": 2.0},
    {"members.churn": 0.2, "management.max_effort": 1.5, "management.private_lag_years": 3.0},
    {"arena.overhead_share": 0.4},  # not a per-run key: runs alone
    {"members.value_sensitivity": 0.5, "members.arena_retention": 0.3},
    {"clusters.media_evolution.private_income": 9.0, "members.join_rate": 0.02},
]


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_points_sharing_batches_give_what_each_gives_alone(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScenarioModel(BASE.document, OUTCOMES)
    alone = [model.evaluate(point, 3, 11) for point in SHARING_POINTS]
    monkeypatch.setattr(points_module, "MAX_BATCH", batch)
    shared = model.evaluate_points(SHARING_POINTS, 3, 11)
    assert len(shared) == len(alone)
    for one, other in zip(alone, shared, strict=True):
        assert np.array_equal(one, other)
    assert not np.array_equal(alone[0], alone[1])  # the points differ, and so do their values


def test_a_point_failing_in_a_shared_batch_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScenarioModel(BASE.document, OUTCOMES, "what.toml")
    points = [SHARING_POINTS[0], {"members.join_rate": 5000.0}, SHARING_POINTS[1]]
    job = ChunkJob(model, 2, 11)
    with pytest.raises(PointFailed) as failed:
        evaluate_chunk(job, Chunk(4, tuple(points)))
    (line,) = failed.value.lines
    assert line.startswith("what.toml: point 5 (members.join_rate = 5000): cluster "), line
    assert "expected joiners" in line
