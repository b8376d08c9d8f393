"""One separator joins cluster ids in a text field: projects.csv, allocation.csv and the
open calls' affinity keys. These tests pass text from one of those places to another."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from conftest import CONFIGS, scenario_with

from scenarios.config.scenario import PROJECT_COLUMNS, read_projects_csv
from simulator.model import simulate
from simulator.scenario import CLUSTER_SEPARATOR, scenario_problems


def _allocation_clusters(allocation_clusters: dict[str, str], tmp_path: Path) -> dict[str, list]:
    """Each project's ``clusters`` text as allocation.csv writes it, read back by the
    projects.csv loader (the other columns hold any valid values: only ``clusters`` is
    under test)."""
    path = tmp_path / "projects.csv"
    filler = {
        "title": "t",
        "area": "a",
        "cost_per_year": 1.0,
        "duration": 1,
        "earliest_start": 2018,
        "cofunding_per_year": 0.0,
        "impact": 1.0,
    }
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(PROJECT_COLUMNS))
        writer.writeheader()
        for project_id, clusters in allocation_clusters.items():
            writer.writerow({**filler, "id": project_id, "clusters": clusters})
    return {row["id"]: row["clusters"] for row in read_projects_csv(path)}


def test_a_projects_clusters_round_trip_through_allocation_csv(tmp_path: Path) -> None:
    scenario = scenario_with({"programme.horizon": 2020})
    shipped = {p.id: p.clusters for p in scenario.projects}
    with (CONFIGS / "projects.csv").open(encoding="utf-8", newline="") as handle:
        texts = {row["id"]: row["clusters"] for row in csv.DictReader(handle)}
    assert shipped == {pid: text.split(CLUSTER_SEPARATOR) for pid, text in texts.items()}

    allocation = simulate(scenario, np.random.default_rng(3)).allocation
    written = dict(zip(allocation.project, allocation.clusters, strict=True))
    assert max(len(shipped[pid]) for pid in written) >= 3, "no project of 3+ clusters funded"
    assert {pid: texts[pid] for pid in written} == written
    assert _allocation_clusters(written, tmp_path) == {pid: shipped[pid] for pid in written}


def test_an_affinity_key_joined_by_the_separator_pairs_its_two_clusters(tmp_path: Path) -> None:
    key = f"packbridge{CLUSTER_SEPARATOR}tourism"
    scenario = scenario_with(
        {
            "programme.horizon": 2023,
            "open_calls.default_affinity": 0.0,
            "open_calls.affinity": {key: 1.0},
        }
    )
    assert scenario_problems(scenario) == []
    allocation = simulate(scenario, np.random.default_rng(5)).allocation
    calls = allocation[allocation.project.str.startswith("call")]
    assert len(calls) > 0, "no proposal from the one pair with affinity"
    read = _allocation_clusters(dict(zip(calls.project, calls.clusters, strict=True)), tmp_path)
    assert {tuple(sorted(clusters)) for clusters in read.values()} == {("packbridge", "tourism")}

    other = scenario_with({"open_calls.affinity": {"packbridge,tourism": 1.0}})
    assert [p.key for p in scenario_problems(other)][:1] == [
        "open_calls.affinity.packbridge,tourism"
    ]
