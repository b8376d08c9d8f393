"""Plain-text views of a scenario and of a run, for the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scenarios.config.keys import flatten
from scenarios.config.provenance import UNLABELLED, label_numbers
from scenarios.config.scenario import LoadedConfig
from scenarios.core.lazy import pandas as pd
from scenarios.core.text import terminal_safe
from scenarios.folders.run_folder import PLOTS_DIR, RunFolder
from simulator.schedules import funding_schedule
from simulator.scorecard import is_cluster_target, is_member_target, target_cluster


def describe_valid(config: Path, loaded: LoadedConfig) -> str:
    """The line ``validate`` prints for a valid config."""
    s = loaded.scenario
    return terminal_safe(
        f"{config}: valid — scenario '{s.name}', {len(s.clusters)} clusters, "
        f"{len(s.projects)} projects, {s.programme.start_year}–{s.programme.horizon}"
    )


def describe_scenario(loaded: LoadedConfig) -> str:
    """The scenario's clusters and its year-by-year regional funding plan."""
    s = loaded.scenario
    lines = [
        f"scenario  {s.name}",
        f"about     {s.description}" if s.description else "",
        f"years     {s.programme.start_year}–{s.programme.horizon} (targets in {s.programme.target_year})",
        f"seed      {s.seed}; {s.runs} runs by default",
        f"files     {' <- '.join(Path(f).name for f in loaded.files)}",
        f"arena     {len(s.projects)} projects; allocator: {s.allocator.method}"
        + (f" ({s.allocator.solver})" if s.allocator.method == "lp" else ""),
        "",
        "clusters (members at start; 2017 budget items in MSEK):",
    ]
    clusters = pd.DataFrame(
        [
            {
                "id": cid,
                "name": c.name,
                "members": c.members,
                "staff+act+fixed": round(c.staff_cost + c.activity_cost + c.fixed_cost, 2),
                "private": c.private_income,
                "other public": c.other_public,
                "reserves": c.opening_reserves,
            }
            for cid, c in s.clusters.items()
        ]
    ).set_index("id")
    lines.append(clusters.to_string())
    schedule = funding_schedule(s).round(3)
    per_cluster = schedule[list(s.clusters)]
    if not s.base_funding.overrides:
        schedule = schedule.drop(columns=list(s.clusters))
        schedule.insert(0, "base_per_cluster", per_cluster.iloc[:, 0])
    lines += ["", "planned regional money by year (MSEK):"]
    lines.append(schedule.to_string())
    if per_cluster.isna().any().any():
        lines.append(
            "NaN: set each year by a funding rule from the cluster's books of the year before"
        )
    if s.shocks:
        lines += ["", "shocks:"]
        lines += [
            f"  {k.name}: {k.from_year}–{k.to_year}, private ×{k.private_multiplier}, "
            f"joiners ×{k.joiner_multiplier}, churn ×{k.churn_multiplier}, "
            f"other public ×{k.other_public_multiplier}"
            for k in s.shocks
        ]
    return terminal_safe("\n".join(line for line in lines if line is not None))


def describe_provenance(loaded: LoadedConfig) -> str:
    """Every number of the resolved config with its source."""
    rows = label_numbers(loaded.scenario.model_dump(mode="json"), loaded.provenance)
    width = max(len(r.key) for r in rows)
    lines = [f"{'key':<{width}}  {'value':>10}  source    note"]
    for r in rows:
        lines.append(f"{r.key:<{width}}  {r.value!s:>10}  {r.kind:<8}  {r.note}")
    counts = pd.Series([r.kind for r in rows]).value_counts()
    lines.append("")
    lines.append("  ".join(f"{kind}: {n}" for kind, n in counts.items()))
    if UNLABELLED in counts:
        lines.append(
            f"{counts[UNLABELLED]} number(s) have no provenance; add them to a [provenance] table"
        )
    return terminal_safe("\n".join(lines))


def describe_resolved(loaded: LoadedConfig) -> str:
    """The resolved config as ``key = value`` lines."""
    return terminal_safe(
        "\n".join(
            f"{key} = {json.dumps(value, ensure_ascii=False)}"
            for key, value in flatten(loaded.scenario.model_dump(mode="json")).items()
        )
    )


def describe_run(run: RunFolder) -> str:
    """A short view of a run folder: the target year's scorecard and key figures (and where
    its charts are, when it has them)."""
    manifest, scorecard, summary = run.manifest, run.scorecard, run.summary
    year = manifest["target_year"]
    in_year = scorecard[scorecard["year"] == year]
    programme_wide = ~in_year["target"].map(is_cluster_target)
    card = in_year[programme_wide][["target", "probability", "mean_value"]]
    member_target = in_year[in_year["target"].map(is_member_target)]
    p_members = member_target.set_index(member_target["target"].map(target_cluster))["probability"]
    wide = summary[(summary["year"] == year)].pivot(index="cluster", columns="metric", values="p50")
    closed = summary[(summary["year"] == year) & (summary["metric"] == "closed")].set_index(
        "cluster"
    )["mean"]
    table = pd.DataFrame(
        {
            "members P50": wide["members"].round(0).astype(int),
            "income P50": wide["total_income"].round(2),
            "regional %": (wide["regional_share"] * 100).round(1),
            "arena P50": wide["arena_income"].round(2),
            "reserves P50": wide["reserves"].round(2),
            "P(closed)": closed.round(2),
            "P(≥ target members)": p_members.round(2),
        }
    ).reindex(list(manifest["config"]["clusters"]))
    return terminal_safe(
        "\n".join(
            [
                f"scorecard {year} (probability over {manifest['runs']} runs):",
                card.to_string(index=False),
                "",
                f"clusters in {year} (MSEK):",
                table.to_string(),
                *(
                    ["", f"plots: {run.path / PLOTS_DIR}/"]
                    if (run.path / PLOTS_DIR).is_dir()
                    else []
                ),
            ]
        )
    )


def sets_note(document: dict[str, Any], runs: int, what: str) -> str | None:
    """A note when ``runs`` (``what``: runs, replications) do not walk through the
    parameter sets of a resolved scenario ``document`` evenly: fewer than the sets leave
    some unused (and the sets come best first), a count that is not a multiple weighs the
    first ones more."""
    sets = document.get("parameter_sets")
    count = len(sets.get("values", [])) if isinstance(sets, dict) else 0
    if count == 0 or runs % count == 0:
        return None
    if runs < count:
        return (
            f"note: {runs} {what} use {runs} of the {count} parameter sets (run r uses set "
            f"r mod {count}; the sets come best first), so the bands leave out part of the "
            f"parameter uncertainty; use {count} {what} (or a multiple) to use every set"
        )
    return (
        f"note: {runs} {what} use the first {runs % count} of the {count} parameter sets once "
        f"more than the others; use a multiple of {count} to weigh every set equally"
    )
