"""An optimise folder in a few lines for the terminal: the chosen policies, their levers,
and every constraint in and out of sample."""

from __future__ import annotations

from scenarios.folders.optimise_folder import OptimiseFolder


def describe_optimise(folder: OptimiseFolder) -> str:
    """The chosen policies with their levers, and every constraint in and out of sample."""
    manifest, pareto, checks = folder.manifest, folder.pareto, folder.out_of_sample
    levers = list(manifest["levers"])
    lines = [
        f"{manifest['evaluations']} evaluations × {manifest['replications']} runs "
        f"({manifest['algorithm']}); {len(pareto)} on the feasible front"
    ]
    for _, row in pareto[pareto["policy"] != ""].iterrows():
        policy = row["policy"]
        lines.append(f"{policy} (evaluation {row['evaluation']}): {folder.path.name}/{policy}.toml")
        lines.append("  levers: " + ", ".join(f"{name} = {row[name]:.4g}" for name in levers))
        for _, check in checks[checks["policy"] == policy].iterrows():
            bound = f" (must be {check['bound']})" if check["bound"] else ""
            verdict = ""
            if check["bound"]:
                verdict = (
                    "  met"
                    if str(check["met_out_of_sample"]) == "1"
                    else ("  MISSED out of sample")
                )
            lines.append(
                f"  {check['outcome']}: {float(check['in_sample']):.4g} in sample, "
                f"{float(check['out_of_sample']):.4g} on fresh seeds{bound}{verdict}"
            )
    return "\n".join(lines)
