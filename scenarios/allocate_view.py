"""``clusterfund allocate``: one year's arena LP, solved and shown as a table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scenarios.config import LoadedConfig
from scenarios.errors import UserError
from scenarios.safe_text import terminal_safe
from simulator.lp import InfeasibleAllocation, LinearProgramAllocator
from simulator.planning import planned_request

BINDING_TOLERANCE = 1e-7


@dataclass(frozen=True)
class AllocateRequest:
    """What the user asked ``clusterfund allocate`` for."""

    year: int
    with_commitments: bool = True
    export_mps: Path | None = None
    show_all_slack: bool = False


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
    allocator = LinearProgramAllocator(scenario.projects, scenario.allocator)
    try:
        request = planned_request(scenario, ask.year, allocator, ask.with_commitments)
        inputs, built, result = allocator.solve_year(request)
    except InfeasibleAllocation as exc:
        raise infeasible(config, exc) from exc
    if ask.export_mps is not None:
        built.problem.writeMPS(str(ask.export_mps), with_objsense=True)
    options = scenario.allocator
    mode = "binary (MILP)" if options.binary else "continuous (LP)"
    funded_rows = []
    by_id = {p.id: p for p in inputs.projects}
    for (pid, _year), fraction in sorted(result.fractions.items()):
        if fraction <= 1e-9:
            continue
        project = by_id[pid]
        funded_rows.append(
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
    table = pd.DataFrame(funded_rows)
    spent = float(table["funded MSEK"].sum()) if funded_rows else 0.0
    lines = [
        f"arena allocation {ask.year} — scenario '{scenario.name}', {mode}, solver {options.solver}",
        f"status      {result.status}",
        f"objective   {result.objective:.4f} (weighted expected impact)",
        f"budget      {request.budget:.3f} MSEK; funded {spent:.3f} MSEK in {len(funded_rows)} projects",
        "shadow price "
        + (
            "n/a in binary mode (a MILP has no duals)"
            if options.binary
            else f"{result.budget_shadow_price[ask.year]:.4f} impact per extra MSEK of arena money"
        ),
        f"eligible    {len(inputs.projects)} projects ({len(inputs.commitments)} committed from earlier years)",
        "",
        table.to_string(index=False) if funded_rows else "(nothing funded)",
        "",
    ]
    slack = pd.Series(result.slack, name="slack")
    shown = slack if ask.show_all_slack else slack[slack.abs() <= BINDING_TOLERANCE]
    lines.append(
        "slack of every constraint:" if ask.show_all_slack else "binding constraints (slack 0):"
    )
    lines += [f"  {name:<48} {value + 0.0:.4g}" for name, value in shown.items()]
    if ask.export_mps is not None:
        lines += ["", f"wrote {ask.export_mps}"]
    return terminal_safe("\n".join(lines))
