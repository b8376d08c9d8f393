"""Golden outputs: the SHA-256 of every CSV the shipped scenarios write at a fixed seed,
and of a tiny explore and optimise on the hand-set scenario (uncalibrated.toml).

``tests/test_golden.py`` compares today's files with ``tests/golden_hashes.json``. When a
change is *meant* to change results, regenerate the file and say so in the commit:

    .venv/bin/python tests/golden.py --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from scenarios.cli import cli  # noqa: E402

CONFIGS = HERE.parent / "configs"
HASHES = HERE / "golden_hashes.json"
RUN_CSVS = ("yearly.csv", "allocation.csv", "events.csv", "summary.csv", "scorecard.csv")
EXPLORE_CSVS = ("experiments.csv", "outcomes.csv", "sensitivity.csv")
OPTIMISE_CSVS = ("evaluations.csv", "outcomes.csv", "pareto.csv", "out_of_sample.csv")
SCENARIOS = (
    "baseline",
    "uncalibrated",
    "with_exits",
    "faster_taper",
    "no_arena",
    "downturn_2020",
    "higher_fees",
    "base_per_cluster",
    "rules_after_2021",
)
RUN_ARGS = ("--runs", "4", "--seed", "5", "--no-plots")

TINY_EXPERIMENT = """
name = "golden_explore"
base = "{base}"
design = "grid"
samples = 2
replications = 2
seed = 3
[uncertain."members.churn"]
range = [0.08, 0.16]
source = "assumed: golden test"
[uncertain."clusters.*.private_income"]
scale = [0.8, 1.2]
source = "assumed: golden test"
[outcomes.members_2021]
metric = "members"
year = 2021
[outcomes.closed_2021]
metric = "closed"
year = 2021
"""

TINY_POLICY = """
name = "golden_optimise"
base = "{base}"
replications = 2
seed = 7
budget = 8
population = 4
[levers."base_funding.default.values.2021"]
range = [0.5, 2.0]
source = "assumed: golden test"
[outcomes.base_2021]
metric = "regional_base"
year = 2021
cluster = "all"
[outcomes.closed_2021]
metric = "closed"
year = 2021
[objective]
minimise = ["base_2021"]
[constraints]
closed_2021 = {{ at_most = 2.0 }}
"""


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"clusterfund {' '.join(args)} failed:\n{result.output}")


def _hashes(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}


def _tiny(scratch: Path, text: str, name: str) -> Path:
    path = scratch / name
    path.write_text(text.format(base=(CONFIGS / "uncalibrated.toml").as_posix()), encoding="utf-8")
    return path


def golden_cases() -> dict[str, Callable[[Path], dict[str, str]]]:
    """Case name → a function that writes the case's outputs in a scratch folder and hashes them."""

    def run_case(scenario: str) -> Callable[[Path], dict[str, str]]:
        def case(scratch: Path) -> dict[str, str]:
            out = scratch / scenario
            _invoke("run", str(CONFIGS / f"{scenario}.toml"), "--out", str(out), *RUN_ARGS)
            return _hashes(out, RUN_CSVS)

        return case

    def explore_case(scratch: Path) -> dict[str, str]:
        out = scratch / "explore"
        spec = _tiny(scratch, TINY_EXPERIMENT, "golden_explore.toml")
        _invoke("explore", str(spec), "--out", str(out), "--no-plots")
        return _hashes(out, EXPLORE_CSVS)

    def optimise_case(scratch: Path) -> dict[str, str]:
        out = scratch / "optimise"
        spec = _tiny(scratch, TINY_POLICY, "golden_optimise.toml")
        _invoke("optimise", str(spec), "--out", str(out), "--no-plots")
        return _hashes(out, OPTIMISE_CSVS)

    cases: dict[str, Callable[[Path], dict[str, str]]] = {
        f"run:{name}": run_case(name) for name in SCENARIOS
    }
    cases["explore"] = explore_case
    cases["optimise"] = optimise_case
    return cases


def compute(case: str) -> dict[str, str]:
    """The hashes of one case's files, computed now."""
    with tempfile.TemporaryDirectory() as scratch:
        return golden_cases()[case](Path(scratch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite golden_hashes.json")
    args = parser.parse_args()
    found = {case: compute(case) for case in golden_cases()}
    if args.write:
        HASHES.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {HASHES}")
        return
    stored = json.loads(HASHES.read_text(encoding="utf-8"))
    changed = [
        f"{case}/{name}"
        for case, files in found.items()
        for name, digest in files.items()
        if stored.get(case, {}).get(name) != digest
    ]
    print("identical" if not changed else "changed: " + ", ".join(changed))


if __name__ == "__main__":
    main()
