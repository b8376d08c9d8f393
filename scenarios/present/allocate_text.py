"""One year's arena allocation for the terminal: the headline (status, objective, budget,
shadow price), the funded projects and the binding constraints."""

from __future__ import annotations

from collections.abc import Sequence

from scenarios.core.lazy import pandas as pd
from scenarios.core.text import terminal_safe
from simulator.allocation import CommitmentCut
from simulator.lp import ProgramResult, YearInputs
from simulator.scenario import Scenario

BINDING_TOLERANCE = 1e-7


def describe_allocation(
    scenario: Scenario,
    year: int,
    inputs: YearInputs,
    result: ProgramResult,
    cuts: Sequence[CommitmentCut],
    show_all_slack: bool,
    exported: str | None = None,
) -> str:
    """The printable report of one year's allocation (``exported``: the MPS file written)."""
    funded = funded_table(inputs, result)
    lines = headline(scenario, year, inputs, result, funded)
    if cuts:
        lines.append(cut_line(cuts))
    lines += ["", funded.to_string(index=False) if len(funded) else "(nothing funded)", ""]
    lines += slack_lines(result, show_all_slack)
    if exported is not None:
        lines += ["", f"wrote {exported}"]
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
    year: int,
    inputs: YearInputs,
    result: ProgramResult,
    funded: pd.DataFrame,
) -> list[str]:
    """Mode, status, objective, budget and spending, shadow price, eligible projects."""
    options = scenario.allocator
    mode = "binary (MILP)" if options.binary else "continuous (LP)"
    spent = float(funded["funded MSEK"].sum()) if len(funded) else 0.0
    return [
        f"arena allocation {year} — scenario '{scenario.name}', {mode}, solver {options.solver}",
        f"status      {result.status}",
        f"objective   {result.objective:.4f} (weighted expected impact)",
        f"budget      {inputs.budget:.3f} MSEK; funded {spent:.3f} MSEK in {len(funded)} projects",
        "shadow price "
        + (
            "n/a in binary mode (a MILP has no duals)"
            if options.binary
            else f"{result.budget_shadow_price[year]:.4f} impact per extra MSEK of arena money"
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
