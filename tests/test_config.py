"""Config schema, extends/--set resolution and provenance."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASELINE, CONFIGS, SHIPPED_BASELINE, baseline_document

from scenarios.config.keys import apply_set, deep_merge, parse_set
from scenarios.config.provenance import PROVENANCE_KINDS, UNLABELLED, label_numbers, source_of
from scenarios.config.scenario import load_config
from scenarios.core.errors import UserError
from simulator.scenario import Scenario, TableSchedule, TaperSchedule
from simulator.schedules import funding_schedule, schedule_value

SHIPPED = sorted(CONFIGS.glob("*.toml"))


def test_every_shipped_config_is_valid_and_fully_labelled() -> None:
    assert len(SHIPPED) >= 4
    for path in SHIPPED:
        loaded = load_config(path)
        rows = label_numbers(loaded.scenario.model_dump(mode="json"), loaded.provenance)
        unlabelled = [r.key for r in rows if r.kind == UNLABELLED]
        assert unlabelled == [], f"{path.name}: numbers without provenance: {unlabelled}"
        assert {r.kind for r in rows} <= set(PROVENANCE_KINDS)


def test_baseline_states_the_seed_facts() -> None:
    scenario = load_config(BASELINE).scenario
    assert len(scenario.clusters) == 10
    schedule = funding_schedule(scenario)
    per_cluster = schedule.drop(columns=["base_total", "arena_budget", "regional_total"])
    assert (per_cluster.loc[2021] == 1.0).all()
    assert (per_cluster.loc[2030] == 1.0).all(), "the base holds at the floor after 2021"
    assert schedule.loc[2019, "arena_budget"] == 3.0
    assert schedule.loc[2021, "arena_budget"] == 7.0
    assert schedule.loc[2017, "arena_budget"] == 0.0
    members = {cid: c.members for cid, c in scenario.clusters.items()}
    assert members["media_evolution"] == 400
    assert members["resilient_regions"] == 30
    assert members["tourism"] == 0
    assert sum(members.values()) == 1500  # "more than 1,500" with Livsmedelsakademin derived
    assert 30 <= len(scenario.projects) <= 60
    assert all(len(set(p.clusters)) >= 2 for p in scenario.projects)
    assert {p.area for p in scenario.projects} == {
        "smart_materials",
        "smart_sustainable_cities",
        "personal_health",
    }


def test_seed_values_are_labelled_seed() -> None:
    loaded = load_config(BASELINE)
    assert source_of("base_funding.default.values.2021", loaded.provenance).startswith("seed")
    assert source_of("arena.budget.values.2020", loaded.provenance).startswith("derived")
    assert source_of("clusters.packbridge.members", loaded.provenance).startswith("seed")
    assert source_of("clusters.packbridge.staff_cost", loaded.provenance).startswith("assumed")


def test_the_2017_2018_base_is_sourced() -> None:
    loaded = load_config(BASELINE)
    start = loaded.scenario.programme.start_year
    for year in (start, start + 1):
        text = source_of(f"base_funding.default.values.{year}", loaded.provenance)
        assert text.startswith("sourced: Rapidus"), text
        assert schedule_value(loaded.scenario.base_funding.default, year, start) == 2.0


def test_sourced_needs_a_citation(config_dir: Path) -> None:
    (config_dir / "uncited.toml").write_text(
        'extends = "baseline.toml"\n[provenance]\n"members.churn" = "sourced:  "\n'
    )
    with pytest.raises(UserError, match="names its source"):
        load_config(config_dir / "uncited.toml")


def test_provenance_most_specific_entry_wins() -> None:
    table = {"a": "assumed: broad", "a.*.c": "derived: pattern", "a.b.c": "seed: exact"}
    assert source_of("a.b.c", table) == "seed: exact"
    assert source_of("a.x.c", table) == "derived: pattern"
    assert source_of("a.x.d", table) == "assumed: broad"
    assert source_of("z", table) is None


def test_extends_inherits_and_overrides() -> None:
    child = load_config(CONFIGS / "faster_taper.toml")
    base = load_config(SHIPPED_BASELINE)
    assert isinstance(child.scenario.base_funding.default, TaperSchedule)
    assert isinstance(base.scenario.base_funding.default, TableSchedule)
    assert child.scenario.clusters == base.scenario.clusters
    assert child.scenario.projects == base.scenario.projects
    assert child.files[0].endswith("faster_taper.toml") and child.files[1].endswith("baseline.toml")
    start = child.scenario.programme.start_year
    assert schedule_value(child.scenario.base_funding.default, 2019, start) == 1.0
    taper = child.scenario.base_funding.default
    halfway = (taper.start + taper.floor) / 2  # 2018 lies halfway between 2017 and 2019
    assert schedule_value(taper, 2018, start) == pytest.approx(halfway)


def test_extends_chain(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "chain.toml").write_text(
        'extends = "downturn_2020.toml"\nname = "chain"\n[members]\nchurn = 0.2\n'
        '[provenance.members]\nchurn = "assumed: test"\n'
    )
    loaded = load_config(config_dir / "chain.toml")
    assert loaded.scenario.members.churn == 0.2
    assert loaded.scenario.shocks[0].private_multiplier == 0.7
    shipped = load_config(SHIPPED_BASELINE).scenario
    assert loaded.scenario.members.first_year_churn == shipped.members.first_year_churn
    sets, shipped_sets = loaded.scenario.parameter_sets, shipped.parameter_sets
    assert sets is not None and shipped_sets is not None  # inherited whole
    assert (sets.keys, sets.values) == (shipped_sets.keys, shipped_sets.values)
    # the TOML files of the chain, then the files they name, in that order
    assert [Path(f).name for f in loaded.files] == [
        "chain.toml",
        "downturn_2020.toml",
        "baseline.toml",
        "with_exits.toml",
        "uncalibrated.toml",
        "projects.csv",
        "baseline_sets.csv",
    ]


def test_set_overrides_types_and_provenance() -> None:
    loaded = load_config(
        BASELINE,
        ["members.churn=0.2", "programme.horizon=2040", "allocator.method=proportional"],
    )
    assert loaded.scenario.members.churn == 0.2
    assert loaded.scenario.programme.horizon == 2040
    assert loaded.scenario.allocator.method == "proportional"
    assert source_of("members.churn", loaded.provenance).startswith(
        "assumed: set on the command line"
    )


def test_set_into_a_list_item() -> None:
    loaded = load_config(BASELINE, ["projects.0.cost_per_year=2.5"])
    assert loaded.scenario.projects[0].cost_per_year == 2.5
    assert loaded.scenario.projects[1].cost_per_year != 2.5


def test_parse_set_reads_toml_values_else_text() -> None:
    assert parse_set("a.b=0.5") == ("a.b", 0.5)
    assert parse_set("a=true") == ("a", True)
    assert parse_set("a=hello") == ("a", "hello")
    assert parse_set("a=[1, 2]") == ("a", [1, 2])
    for bad in ("novalue", "=3", "a..b=1", "a="):
        with pytest.raises(UserError):
            parse_set(bad)


def test_deep_merge_replaces_schedules_whole() -> None:
    base = {"s": {"kind": "table", "values": {"2017": 1}}, "t": {"a": 1, "b": 2}}
    merged = deep_merge(base, {"s": {"kind": "hold", "value": 2}, "t": {"b": 3}})
    assert merged == {"s": {"kind": "hold", "value": 2}, "t": {"a": 1, "b": 3}}


def test_schedule_rules() -> None:
    taper = TaperSchedule(kind="taper", start=2.0, floor=1.0, floor_year=2021)
    assert [schedule_value(taper, y, 2017) for y in (2017, 2019, 2021, 2030)] == [
        2.0,
        1.5,
        1.0,
        1.0,
    ]
    table = TableSchedule(kind="table", values={2017: 1.0, 2018: 2.0}, after="grow", growth=0.1)
    assert schedule_value(table, 2020, 2017) == pytest.approx(2.0 * 1.1**2)
    zero = TableSchedule(kind="table", values={2017: 1.0}, after="zero")
    assert schedule_value(zero, 2019, 2017) == 0.0


def test_resolved_document_round_trips() -> None:
    doc = baseline_document()
    assert Scenario.model_validate(doc).model_dump(mode="json") == doc


def test_apply_set_creates_tables() -> None:
    doc: dict = {}
    apply_set(doc, "a.b.c", 1)
    assert doc == {"a": {"b": {"c": 1}}}
