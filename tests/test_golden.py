"""Byte-identity: every CSV of the shipped scenarios (and a tiny explore and optimise) at a
fixed seed has the SHA-256 recorded in ``tests/golden_hashes.json``.

A refactoring must leave them all as they are. A change meant to change results
regenerates the file (``.venv/bin/python tests/golden.py --write``) and says so.
"""

from __future__ import annotations

import json

import pytest
from golden import HASHES, compute, golden_cases

STORED = json.loads(HASHES.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", list(golden_cases()))
def test_outputs_are_byte_identical_to_the_golden_hashes(case: str) -> None:
    found = compute(case)
    assert found == STORED[case], (
        f"{case}: the CSVs changed; if that is intended, run "
        "`.venv/bin/python tests/golden.py --write` and say why in the commit"
    )
