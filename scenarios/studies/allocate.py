"""``clusterfund allocate``: one year's arena LP, solved and shown as a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scenarios.config.scenario import LoadedConfig
from scenarios.core.errors import UserError
from scenarios.core.text import terminal_safe
from scenarios.folders.publish import StagedFiles
from simulator.allocation import CommitmentCut
from simulator.lp import InfeasibleAllocation, LinearProgramAllocator, ProgramResult, YearInputs
from simulator.planning import planned_request
from simulator.scenario import Scenario

BINDING_TOLERANCE = 1e-7


@dataclass(frozen=True)
class AllocateRequest:
    """What the user asked ``clusterfund allocate`` for."""

    year: int
    with_commitments: bool = True
    export_mps: Path | None = None
    show_all_slack: bool = False
    force: bool = False
    """Overwrite an existing ``export_mps`` file."""


def infeasible(config: Path, exc: InfeasibleAllocation) -> UserError:
    """The one-line error for an infeasible allocation (``allocate`` and ``run`` alike)."""
    return UserError(f"{config}: allocator: {exc}")


def allocate_year(loaded: LoadedConfig, config: Path, ask: AllocateRequest) -> str:
    """Solve the year's LP (every cluster open) and return the printable report."""
    scenario = loaded.scenario
    programme = scenario.programme
    if not programme.start_year <= ask.year <= programme.horizon:
        raise UserError(
            f"{config}: --year {ask.year} is outside the programme "
            f"({programme.start_year}–{programme.horizon}); use --horizon or another year"
        )
    staged = (
        StagedFiles([ask.export_mps], ask.force, option="--export-mps")
        if ask.export_mps is not None
        else None
    )
    allocator = LinearProgramAllocator(scenario.projects, scenario.allocator)
    try:
        request = planned_request(scenario, ask.year, allocator, ask.with_commitments)
        inputs, built, result = allocator.solve_year(request)
    except InfeasibleAllocation as exc:
        raise infeasible(config, exc) from exc
    if staged is not None and ask.export_mps is not None:
        with staged:
            built.problem.writeMPS(str(staged.path(ask.export_mps)), with_objsense=True)
    funded = funded_table(inputs, result)
    lines = headline(scenario, ask, inputs, result, funded)
    if request.cuts:
        lines.append(cut_line(request.cuts))
    lines += ["", funded.to_string(index=False) if len(funded) else "(nothing funded)", ""]
    lines += slack_lines(result, ask.show_all_slack)
    if ask.export_mps is not None:
        lines += ["", f"wrote {ask.export_mps}"]
    return terminal_safe("\n".join(lines))


def funded_table(inputs: YearInputs, result: ProgramResult) -> pd.DataFrame:
    """One row per funded project: money, fraction, whether committed, title."""
    by_id = {p.id: p for p in inputs.projects}
    rows = []
    for (pid, _year), fraction in sorted(result.fractions.items()):
        if fraction <= 1e-9:
            continue
        project = by_id[pid]
        rows.append(
            {
                "project": pid,
                "area": project.area,
                "clusters": ", ".join(project.clusters),
                "funded MSEK": round(fraction * project.cost_per_year, 4),
                "fraction": round(fraction, 4),
                "committed": "yes" if pid in inputs.commitments else "",
                "title": project.title,
            }
        )
    return pd.DataFrame(rows)


def headline(
    scenario: Scenario,
    ask: AllocateRequest,
    inputs: YearInputs,
    result: ProgramResult,
    funded: pd.DataFrame,
) -> list[str]:
    """Mode, status, objective, budget and spending, shadow price, eligible projects."""
    options = scenario.allocator
    mode = "binary (MILP)" if options.binary else "continuous (LP)"
    spent = float(funded["funded MSEK"].sum()) if len(funded) else 0.0
    return [
        f"arena allocation {ask.year} — scenario '{scenario.name}', {mode}, solver {options.solver}",
        f"status      {result.status}",
        f"objective   {result.objective:.4f} (weighted expected impact)",
        f"budget      {inputs.budget:.3f} MSEK; funded {spent:.3f} MSEK in {len(funded)} projects",
        "shadow price "
        + (
            "n/a in binary mode (a MILP has no duals)"
            if options.binary
            else f"{result.budget_shadow_price[ask.year]:.4f} impact per extra MSEK of arena money"
        ),
        f"eligible    {len(inputs.projects)} projects ({len(inputs.commitments)} committed from earlier years)",
    ]


def cut_line(cuts: Sequence[CommitmentCut]) -> str:
    """How much of their contracts the year's cut commitments are paid (one share for all)."""
    share = cuts[0].paid / cuts[0].contracted
    return (
        f"cut         {len(cuts)} commitments paid {share:.2%} of their contracts "
        f"(pro rata: the budget or a cluster cap cannot cover them in full)"
    )


def slack_lines(result: ProgramResult, show_all: bool) -> list[str]:
    """The binding constraints (slack 0), or with ``show_all`` the slack of every one."""
    slack = pd.Series(result.slack, name="slack")
    shown = slack if show_all else slack[slack.abs() <= BINDING_TOLERANCE]
    lines = ["slack of every constraint:" if show_all else "binding constraints (slack 0):"]
    return lines + [f"  {name:<48} {value + 0.0:.4g}" for name, value in shown.items()]
