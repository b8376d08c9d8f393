"""A file of another kind is named in one line by the command given it: a scenario config
given to explore or optimise, an experiment given to run or optimise, a policy given to run
or explore (and nothing is written)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CONFIGS, invoke

from scenarios.config.files import read_toml
from scenarios.studies.input_kinds import KIND_NAMES, file_kind

FILES = {
    "scenario": CONFIGS / "baseline.toml",
    "experiment": CONFIGS / "experiments" / "what_matters.toml",
    "policy": CONFIGS / "policies" / "least_base_from_2019.toml",
}
TAKES = {"run": "scenario", "explore": "experiment", "optimise": "policy"}


@pytest.mark.parametrize(
    ("command", "kind"), [(c, k) for c in TAKES for k in FILES if TAKES[c] != k]
)
def test_a_file_of_another_kind_is_named(command: str, kind: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(command, str(FILES[kind]), "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {FILES[kind]} is {KIND_NAMES[kind]}; {command} takes "
        f"{KIND_NAMES[TAKES[command]]}\n"
    )
    assert not out.exists()


def test_every_shipped_file_has_its_kind() -> None:
    for path in CONFIGS.rglob("*.toml"):
        expected = {"experiments": "experiment", "policies": "policy"}.get(
            path.parent.name, "scenario"
        )
        assert file_kind(read_toml(path)) == expected, path


def test_a_file_of_no_known_kind_is_left_to_the_loader(tmp_path: Path) -> None:
    odd = tmp_path / "odd.toml"
    odd.write_text('name = "x"\n')
    result = invoke("explore", str(odd), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "required key is missing" in result.stderr
