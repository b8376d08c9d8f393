"""``clusterfund allocate``: one year's arena LP alone, solved (and exported as MPS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenarios.config.scenario import load_config
from scenarios.core.errors import UserError
from scenarios.folders.publish import StagedFiles
from scenarios.studies.run import infeasible
from simulator.allocation import CommitmentCut
from simulator.lp import InfeasibleAllocation, LinearProgramAllocator, ProgramResult, YearInputs
from simulator.planning import planned_request
from simulator.scenario import Scenario


@dataclass(frozen=True)
class AllocateRequest:
    """What the user asked ``clusterfund allocate`` for."""

    config: Path
    year: int
    overrides: tuple[str, ...] = ()
    """``--set KEY=VALUE`` items."""
    binary: bool = False
    """All-or-nothing funding per project (a MILP)."""
    solver: str | None = None
    """``highs`` or ``cbc`` [default: the config's]."""
    with_commitments: bool = True
    """Allocate the earlier years first, so the projects they start are committed."""
    export_mps: Path | None = None
    show_all_slack: bool = False
    force: bool = False
    """Overwrite an existing ``export_mps`` file."""


@dataclass(frozen=True)
class YearAllocation:
    """One year's solved allocation problem."""

    scenario: Scenario
    year: int
    inputs: YearInputs
    result: ProgramResult
    cuts: tuple[CommitmentCut, ...]
    exported: Path | None


def allocate(request: AllocateRequest) -> YearAllocation:
    """Solve the year's LP with every cluster open and none at risk (and write the MPS file)."""
    options = [*request.overrides]
    if request.binary:
        options.append("allocator.binary=true")
    if request.solver:
        options.append(f'allocator.solver="{request.solver}"')
    loaded = load_config(request.config, options)
    scenario = loaded.scenario
    programme = scenario.programme
    if not programme.start_year <= request.year <= programme.horizon:
        raise UserError(
            f"{request.config}: --year {request.year} is outside the programme "
            f"({programme.start_year}–{programme.horizon}); use --horizon or another year"
        )
    export = request.export_mps
    staged = (
        StagedFiles(
            [export], request.force, looks_like_mps, option="--export-mps", reads=loaded.files
        )
        if export
        else None
    )
    allocator = LinearProgramAllocator(scenario.projects, scenario.allocator)
    try:
        year_request = planned_request(scenario, request.year, allocator, request.with_commitments)
        inputs, built, result = allocator.solve_year(year_request)
    except InfeasibleAllocation as exc:
        raise infeasible(request.config, exc) from exc
    if staged is not None and export is not None:
        with staged:
            built.problem.writeMPS(str(staged.path(export)), with_objsense=True)
    return YearAllocation(scenario, request.year, inputs, result, year_request.cuts, export)


MPS_SECTIONS = ("NAME", "OBJSENSE", "ROWS", "*")
"""How an MPS file starts (a section name or a comment)."""


def looks_like_mps(path: Path) -> bool:
    """Whether ``path`` starts as an MPS file does (``--force`` replaces only such files)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64).decode("ascii", "replace").lstrip()
    except OSError:
        return False
    return head.startswith(MPS_SECTIONS)
