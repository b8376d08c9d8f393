"""Shared helpers: the shipped configs, small scenarios, a CLI runner."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scenarios.cli import cli
from scenarios.config.keys import apply_set
from scenarios.config.scenario import load_config
from simulator.scenario import Scenario

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SHIPPED_BASELINE = CONFIGS / "baseline.toml"
"""The shipped baseline: calibrated, with the record's ways out and 214 parameter sets."""
BASELINE = CONFIGS / "uncalibrated.toml"
"""The tests' base scenario: the hand-set one (no parameter sets, no random ways out besides
closure), so a test's hand case or analytic expectation does not move with a recalibration."""


def baseline_document() -> dict[str, Any]:
    """The tests' base scenario's resolved config as plain data (a fresh copy)."""
    return copy.deepcopy(load_config(BASELINE).scenario.model_dump(mode="json"))


def scenario_with(changes: dict[str, Any], document: dict[str, Any] | None = None) -> Scenario:
    """The baseline (or ``document``) with dotted-key changes applied, validated."""
    doc = copy.deepcopy(document) if document is not None else baseline_document()
    for key, value in changes.items():
        apply_set(doc, key, value)
    return Scenario.model_validate(doc)


def invoke(*args: str) -> Any:
    """Run the CLI in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A folder holding a copy of the shipped configs, to add broken files beside."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIGS, target)
    return target
