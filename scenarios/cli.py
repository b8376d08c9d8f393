"""The ``clusterfund`` command line: it parses options and delegates; no model logic here."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scenarios.core.errors import UserError
from scenarios.core.stops import forget_stops, stop_on_signals
from scenarios.core.text import terminal_safe

if TYPE_CHECKING:
    from scenarios.config.scenario import LoadedConfig
    from scenarios.studies.run import RunRequest

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SET_HELP = "Override one config value, e.g. --set members.churn=0.15 (repeatable)."


class ClusterfundGroup(click.Group):
    """A click group that turns bad input into one red line per problem and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> object:
        forget_stops()
        try:
            return super().invoke(ctx)
        except UserError as exc:
            if _debug(ctx):
                raise
            for line in exc.lines:
                click.secho(f"error: {terminal_safe(line)}", fg="red", err=True)
            ctx.exit(2)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (see main)
            click.secho("interrupted; nothing was written", fg="red", err=True)
            ctx.exit(128 + getattr(exc, "signum", signal.SIGINT))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if _debug(ctx):
                raise
            click.secho(
                terminal_safe(
                    f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
                ),
                fg="red",
                err=True,
            )
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("debug"))


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["debug"] = True


def lang_option(func):  # type: ignore[no-untyped-def]
    """``--lang en|sv`` for chart and report labels."""
    return click.option(
        "--lang",
        type=click.Choice(["en", "sv"]),
        default="en",
        show_default=True,
        help="Language of the chart and report labels (sv: Swedish).",
    )(func)


def jobs_option(help_text: str):  # type: ignore[no-untyped-def]
    """``--jobs/-j N``: how many processes (results never depend on it)."""
    return click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help=help_text,
    )


@contextlib.contextmanager
def kept_on_stop(work: str, target: Path) -> Iterator[None]:
    """A stop (Ctrl-C, SIGTERM, SIGHUP) of a resumable job: one line saying that the
    finished ``work`` is kept for ``--resume``, and exit status 128 + the signal."""
    try:
        yield
    except KeyboardInterrupt as exc:
        click.secho(
            f"interrupted; finished {work} are kept — run the same command with --resume "
            f"to finish {target}",
            fg="red",
            err=True,
        )
        raise SystemExit(128 + getattr(exc, "signum", signal.SIGINT)) from None


def backend_options(work: str):  # type: ignore[no-untyped-def]
    """``--jobs``, ``--backend local|dask`` and ``--scheduler`` of explore and optimise."""

    def decorate(func):  # type: ignore[no-untyped-def]
        func = click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="A running Dask scheduler (e.g. tcp://host:8786); implies --backend dask. "
            "Without it, --backend dask starts a LocalCluster of --jobs workers.",
        )(func)
        func = click.option(
            "--backend",
            type=click.Choice(["local", "dask"]),
            default="local",
            show_default=True,
            help=f"Where {work} run: a local process pool, or dask.distributed.",
        )(func)
        return jobs_option(
            "Worker processes (local) or LocalCluster workers (dask); "
            "results are identical for any value."
        )(func)

    return decorate


def debug_option(func):  # type: ignore[no-untyped-def]
    """``--debug`` on a subcommand, the same as on the group."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show the full traceback on errors.",
    )(func)


@click.group(cls=ClusterfundGroup, context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.version_option(package_name="clusterfund")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Simulate and compare funding scenarios for Region Skåne's cluster programme.

    \b
    Typical use:
      clusterfund validate configs/baseline.toml
      clusterfund show configs/baseline.toml
      clusterfund run configs/baseline.toml            # -> results/baseline/
      clusterfund run configs/no_arena.toml
      clusterfund compare results/no_arena results/baseline
      clusterfund report results/no_arena results/baseline --out report.html
      clusterfund allocate configs/baseline.toml --year 2021
      clusterfund explore configs/experiments/what_matters.toml --jobs 2
      clusterfund optimise configs/policies/least_base_from_2019.toml --jobs 2
      clusterfund backtest results/baseline          # against configs/observations.csv

    Add --debug (anywhere) to see the traceback of an error.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = ctx.obj.get("debug", False) or debug


@cli.command(context_settings=CONTEXT)
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@debug_option
def validate(config: Path, overrides: tuple[str, ...]) -> None:
    """Check CONFIG (and every file it extends); list every problem at once.

    Exit status 0 when the config is valid; 2 with one line per problem
    (file, key path, what is wrong) otherwise.

    \b
    Example:
      clusterfund validate configs/faster_taper.toml
    """
    from scenarios.config.scenario import load_config

    loaded = load_config(config, overrides)
    s = loaded.scenario
    click.echo(
        terminal_safe(
            f"{config}: valid — scenario '{s.name}', {len(s.clusters)} clusters, "
            f"{len(s.projects)} projects, {s.programme.start_year}–{s.programme.horizon}"
        )
    )


@cli.command(context_settings=CONTEXT)
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option(
    "--provenance",
    is_flag=True,
    help="List every number with its source (seed/sourced/derived/assumed).",
)
@click.option(
    "--resolved",
    is_flag=True,
    help="Print the whole resolved config as TOML-like key = value lines.",
)
@debug_option
def show(config: Path, overrides: tuple[str, ...], provenance: bool, resolved: bool) -> None:
    """Show a scenario: its clusters and the year-by-year regional funding plan.

    \b
    Examples:
      clusterfund show configs/baseline.toml
      clusterfund show configs/baseline.toml --provenance
      clusterfund show configs/faster_taper.toml --set programme.horizon=2025
    """
    from scenarios.config.scenario import load_config
    from scenarios.present.scenario_text import (
        describe_provenance,
        describe_resolved,
        describe_scenario,
    )

    loaded = load_config(config, overrides)
    if provenance:
        click.echo(describe_provenance(loaded))
    elif resolved:
        click.echo(describe_resolved(loaded))
    else:
        click.echo(describe_scenario(loaded))


@cli.command(context_settings=CONTEXT)
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results folder [default: results/<scenario name>].",
)
@click.option(
    "--runs", type=click.IntRange(min=1), help="Ensemble size [default: the config's `runs`]."
)
@click.option(
    "--seed", type=click.IntRange(min=0), help="Random seed [default: the config's `seed`]."
)
@click.option(
    "--horizon",
    type=click.IntRange(min=2017, max=2100),
    help="Last simulated year [default: the config's, 2030].",
)
@jobs_option("Processes to run the ensemble in; results are identical for any value.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Runs simulated together in one step (vectorised); results are identical for "
    "any value [default: up to 64, at least four batches per process].",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG charts.")
@lang_option
@debug_option
def run(
    config: Path,
    out: Path | None,
    runs: int | None,
    seed: int | None,
    horizon: int | None,
    jobs: int,
    batch_size: int | None,
    overrides: tuple[str, ...],
    force: bool,
    no_plots: bool,
    lang: str,
) -> None:
    """Simulate CONFIG as an ensemble and write a results folder.

    The folder holds yearly.csv (run × year × cluster), allocation.csv,
    summary.csv (P10/P50/P90), scorecard.csv, events.csv, manifest.json and
    plots/*.png. It is written completely or not at all, and an existing
    folder is kept unless --force is given. CONFIG may also be a run's
    manifest.json, which reproduces that run.

    \b
    Examples:
      clusterfund run configs/baseline.toml
      clusterfund run configs/downturn_2020.toml --runs 1000 --jobs 2
      clusterfund run configs/baseline.toml --set management.max_fee_rise=0.2 --out results/fees20
      clusterfund run results/baseline/manifest.json --out results/baseline_again
    """
    from scenarios.config.job_size import document_estimate
    from scenarios.config.scenario import load_config
    from scenarios.folders.publish import default_folder
    from scenarios.present.scenario_text import describe_run
    from scenarios.studies.run import RunRequest

    options = _option_overrides(horizon=horizon, seed=seed, runs=runs)
    loaded = load_config(config, overrides, options)
    target = out or default_folder(loaded.scenario.name)
    _note(document_estimate(loaded.scenario.runs, loaded.document, jobs))
    request = RunRequest(
        out=target,
        runs=loaded.scenario.runs,
        seed=loaded.scenario.seed,
        jobs=jobs,
        batch_size=batch_size,
        force=force,
        make_plots=not no_plots,
        lang=lang,
    )
    folder = _execute_run(config, loaded, request)
    click.echo(f"wrote {folder}/ ({request.runs} runs, seed {request.seed})")
    click.echo(describe_run(folder))


def _note(line: str | None) -> None:
    """A note (such as a long job's time estimate) on stderr, when there is one."""
    if line is not None:
        click.secho(terminal_safe(line), fg="yellow", err=True)


def _option_overrides(
    horizon: int | None, seed: int | None, runs: int | None
) -> dict[str, tuple[str, Any]]:
    """The options given that set a config key: option → (key path, value)."""
    return {
        name: (key, value)
        for name, key, value in (
            ("--horizon", "programme.horizon", horizon),
            ("--seed", "seed", seed),
            ("--runs", "runs", runs),
        )
        if value is not None
    }


def _execute_run(config: Path, loaded: LoadedConfig, request: RunRequest) -> Path:
    """Run the loaded scenario as ``request`` asks; an infeasible allocation is bad input."""
    from scenarios.studies.run import execute_run
    from simulator.lp import InfeasibleAllocation

    try:
        return execute_run(loaded, request)
    except InfeasibleAllocation as exc:  # also when raised in a worker process
        from scenarios.studies.allocate import infeasible  # (the allocate command's view)

        raise infeasible(config, exc) from exc


@cli.command(context_settings=CONTEXT)
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--year", type=int, required=True, help="The year to allocate.")
@click.option("--binary", is_flag=True, help="All-or-nothing funding per project (MILP).")
@click.option(
    "--solver", type=click.Choice(["highs", "cbc"]), help="Solver [default: the config's]."
)
@click.option("--fresh", is_flag=True, help="Ignore projects started in earlier years.")
@click.option("--slack", "show_all_slack", is_flag=True, help="List the slack of every constraint.")
@click.option(
    "--export-mps", type=click.Path(path_type=Path), help="Write the exact model to FILE."
)
@click.option("--force", is_flag=True, help="Overwrite an existing --export-mps file.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@debug_option
def allocate(
    config: Path,
    year: int,
    binary: bool,
    solver: str | None,
    fresh: bool,
    show_all_slack: bool,
    export_mps: Path | None,
    force: bool,
    overrides: tuple[str, ...],
) -> None:
    """Solve one year's arena-money LP and print the allocation.

    Every cluster counts as open and none as at risk. Unless --fresh is given,
    the earlier years are allocated first so that projects they start stay
    committed. Prints the status, the objective, the shadow price of the budget
    (what one more MSEK of arena money buys), the funded projects and the
    binding constraints; an infeasible problem names the constraints in conflict.

    \b
    Examples:
      clusterfund allocate configs/baseline.toml --year 2021
      clusterfund allocate configs/baseline.toml --year 2021 --binary --solver cbc
      clusterfund allocate configs/baseline.toml --year 2019 --export-mps arena2019.mps
    """
    from scenarios.config.scenario import load_config
    from scenarios.studies.allocate import AllocateRequest, allocate_year

    extra = [*overrides]
    if binary:
        extra.append("allocator.binary=true")
    if solver:
        extra.append(f'allocator.solver="{solver}"')
    loaded = load_config(config, extra)
    ask = AllocateRequest(year, not fresh, export_mps, show_all_slack, force)
    click.echo(allocate_year(loaded, config, ask))


@cli.command(context_settings=CONTEXT)
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="The folder the others are compared against [default: the first].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Where to write the full comparison [default: results/compare_<a>_vs_<b>].",
)
@click.option(
    "--year", type=int, help="Year of the per-cluster table [default: the target year, 2021]."
)
@lang_option
@click.option("--force", is_flag=True, help="Replace an existing comparison folder.")
@debug_option
def compare(
    folders: tuple[Path, ...],
    baseline: Path | None,
    out: Path | None,
    year: int | None,
    lang: str,
    force: bool,
) -> None:
    """Compare two or more results folders against a baseline.

    Prints which inputs differ, each cluster's members, regional share,
    reserves, arena money and probability of closure in the chosen year, and
    the scorecards. Writes input_diff.csv, clusters_<year>.csv, scorecard.csv,
    deltas.csv (P50 and P10–P90 per year × cluster × metric, with the change
    against the baseline) and overlay charts under --out.

    \b
    Examples:
      clusterfund run configs/no_arena.toml
      clusterfund compare results/baseline results/no_arena
      clusterfund compare results/baseline results/no_arena results/downturn_2020 --year 2025
    """
    from scenarios.analysis.comparison import open_comparison, year_in_range
    from scenarios.folders.publish import default_folder
    from scenarios.studies.compare import describe_comparison, write_comparison

    if len(folders) < 2:
        raise UserError("compare needs at least two results folders")
    comparison = open_comparison(folders, baseline)
    target = year_in_range(comparison, year or int(comparison.baseline.manifest["target_year"]))
    destination = out or default_folder("compare_" + "_vs_".join(r.name for r in comparison.runs))
    tables = write_comparison(comparison, destination, target, lang, force)
    click.echo(describe_comparison(comparison, tables))
    click.echo(f"\nwrote {destination}/")


@cli.command(context_settings=CONTEXT)
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The HTML file to write; the Excel workbook goes beside it (.xlsx).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="The folder the others are compared against [default: the first].",
)
@click.option(
    "--year", type=int, help="Year of the first-screen table [default: the target year, 2021]."
)
@lang_option
@click.option("--force", is_flag=True, help="Overwrite an existing report and workbook.")
@debug_option
def report(
    folders: tuple[Path, ...],
    out: Path,
    baseline: Path | None,
    year: int | None,
    lang: str,
    force: bool,
) -> None:
    """Write a self-contained HTML report (and an Excel workbook) of one or more runs.

    The first screen shows what each compared scenario changes for every
    cluster in the target year; then the scenarios, the input diff, the
    scorecard, every chart (embedded, so the file opens offline) and each
    run's provenance (config hash, seed, versions). The workbook has one sheet
    per table with money formatted as MSEK. An explore folder among FOLDERS
    adds a section "Which assumptions matter" (rankings, PRIM box, charts).

    \b
    Examples:
      clusterfund report results/baseline results/no_arena --out report.html
      clusterfund report results/baseline --out baseline.html --lang sv
      clusterfund report results/baseline results/what_matters --out baseline.html
    """
    from scenarios.analysis.comparison import open_comparison, year_in_range
    from scenarios.folders.explore_folder import ExploreFolder, is_explore_folder
    from scenarios.studies.report import write_report

    explorations = [ExploreFolder.open(f, "report") for f in folders if is_explore_folder(f)]
    runs = [f for f in folders if not is_explore_folder(f)]
    if not runs:
        raise UserError(
            "report needs at least one run folder (from clusterfund run); explore folders "
            "are added to it as a section 'Which assumptions matter'"
        )
    comparison = open_comparison(runs, baseline, "report")
    target = year_in_range(comparison, year or int(comparison.baseline.manifest["target_year"]))
    page, workbook = write_report(comparison, out, target, lang, force, explorations=explorations)
    click.echo(f"wrote {page} and {workbook}")


@cli.command(context_settings=CONTEXT)
@click.argument("experiment_file", metavar="EXPERIMENT", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results folder [default: results/<experiment name>].",
)
@backend_options("chunks")
@click.option(
    "--chunk-points",
    type=click.IntRange(min=1),
    help="Points per chunk [default: about 96 model runs, at least 4 chunks per worker].",
)
@click.option(
    "--resume", is_flag=True, help="Finish a stopped experiment: only missing chunks run."
)
@click.option(
    "--force", is_flag=True, help="Replace an existing folder, or a stopped run's chunks."
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG charts.")
@debug_option
def explore(
    experiment_file: Path,
    out: Path | None,
    jobs: int,
    backend: str,
    scheduler: str | None,
    chunk_points: int | None,
    resume: bool,
    force: bool,
    no_plots: bool,
) -> None:
    """Which assumptions drive the answer? Sample EXPERIMENT's uncertain inputs,
    run every point, and rank the inputs for each outcome.

    EXPERIMENT (e.g. configs/experiments/what_matters.toml) names a base
    scenario, a design (sobol, morris, lhs or grid), the uncertain inputs (any
    key --set accepts; a * segment matches every key there), the outcomes and,
    optionally, a [discover] condition for PRIM. Each point runs
    `replications` times with common random numbers.

    Writes manifest.json, experiments.csv (one row per point), outcomes.csv
    (mean/P10/P50/P90 per point x outcome), sensitivity.csv (Sobol S1/ST or
    Morris mu*, with CIs), discovery.csv (PRIM) and plots/. Finished chunks
    are saved as they come: after Ctrl-C, run again with --resume. Tables are
    identical for any backend, --jobs or chunk size.

    \b
    Examples:
      clusterfund explore configs/experiments/what_matters.toml --jobs 2
      clusterfund explore configs/experiments/what_matters.toml --resume --jobs 2
      clusterfund explore configs/experiments/what_matters.toml --backend dask --jobs 2
      clusterfund explore configs/experiments/what_matters.toml --scheduler tcp://10.0.0.5:8786
    """
    from scenarios.config.experiment import load_experiment
    from scenarios.config.job_size import document_estimate
    from scenarios.engine.executor import Backend
    from scenarios.folders.explore_folder import ExploreFolder
    from scenarios.folders.publish import default_folder
    from scenarios.present.explore_text import describe_explore
    from scenarios.studies.explore import ExploreRequest, execute_explore

    experiment = load_experiment(experiment_file)
    target = out or default_folder(experiment.spec.name)
    for warning in experiment.warnings:
        _note(f"warning: {warning}")
    if not resume:  # (resumed, part of the runs are done)
        _note(document_estimate(experiment.model_runs, experiment.document, jobs))
    request = ExploreRequest(
        out=target,
        backend=Backend("dask" if scheduler else backend, jobs, scheduler),
        resume=resume,
        force=force,
        make_plots=not no_plots,
        chunk_points=chunk_points,
    )
    with kept_on_stop("chunks", target):
        folder = execute_explore(experiment, request)
    click.echo(f"wrote {folder}/")
    click.echo(describe_explore(ExploreFolder.open(folder)))


@cli.command(context_settings=CONTEXT)
@click.argument("policy_file", metavar="POLICY", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results folder [default: results/<policy name>].",
)
@backend_options("candidates")
@click.option(
    "--budget",
    type=click.IntRange(min=3),
    metavar="EVALS",
    help="Candidates to evaluate (each over its replications) [default: the file's budget].",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue a stopped search, or extend one with a larger --budget.",
)
@click.option("--force", is_flag=True, help="Replace an existing folder, or a stopped search.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG charts.")
@debug_option
def optimise(
    policy_file: Path,
    out: Path | None,
    jobs: int,
    backend: str,
    scheduler: str | None,
    budget: int | None,
    resume: bool,
    force: bool,
    no_plots: bool,
) -> None:
    """Which policy meets the targets for the least money? Search POLICY's levers
    with the simulator in the loop.

    POLICY (e.g. configs/policies/least_base_after_2021.toml) names a base
    scenario, the levers (any key --set accepts, each with a range), outcomes
    (as in explore), what to minimise or maximise, and constraints such as
    no_closures_2025 = { at_least = 0.9 }. Every candidate runs the same
    `replications` seeds. One objective: a genetic algorithm (pymoo); two or
    more: NSGA-II and a Pareto front.

    Writes evaluations.csv (every candidate: levers, outcomes, each
    constraint's value and margin), pareto.csv (the feasible non-dominated
    candidates), out_of_sample.csv (the chosen policies re-run on fresh
    seeds), policy_<k>.toml (ready scenarios: clusterfund run them as they
    are), manifest.json and plots/. If nothing can meet a constraint, one line
    names it with the best value reached, and nothing is written.

    \b
    Examples:
      clusterfund optimise configs/policies/least_base_from_2019.toml --jobs 2
      clusterfund optimise configs/policies/base_per_cluster_front.toml --jobs 2 --budget 600
      clusterfund run results/least_base_from_2019/policy_1.toml
    """
    from scenarios.config.job_size import document_estimate, search_problem
    from scenarios.config.policy import load_policy
    from scenarios.engine.executor import Backend
    from scenarios.folders.optimise_folder import OptimiseFolder
    from scenarios.folders.publish import default_folder
    from scenarios.present.optimise_text import describe_optimise
    from scenarios.studies.optimise import OptimiseRequest, execute_optimise

    policy = load_policy(policy_file)
    target = out or default_folder(policy.spec.name)
    evaluations = budget or policy.spec.budget
    if budget is not None and (too_many := search_problem(budget, policy.spec.replications)):
        raise UserError(f"--budget: {too_many}")
    if not resume:
        _note(document_estimate(evaluations * policy.spec.replications, policy.document, jobs))
    request = OptimiseRequest(
        out=target,
        backend=Backend("dask" if scheduler else backend, jobs, scheduler),
        budget=budget,
        resume=resume,
        force=force,
        make_plots=not no_plots,
    )
    with kept_on_stop("evaluations", target):
        result = execute_optimise(policy, request)
    click.echo(f"wrote {result.folder}/")
    click.echo(describe_optimise(OptimiseFolder.open(result.folder)))


@cli.command(context_settings=CONTEXT)
@click.argument("results", type=click.Path(path_type=Path))
@click.option(
    "--observations",
    type=click.Path(path_type=Path),
    help="Observed figures (CSV) [default: configs/observations.csv, else the shipped file].",
)
@click.option("--force", is_flag=True, help="Replace an existing backtest.csv.")
@click.option("--no-plots", is_flag=True, help="Skip plots/backtest.png.")
@debug_option
def backtest(results: Path, observations: Path | None, force: bool, no_plots: bool) -> None:
    """Score the results folder RESULTS against observed figures.

    For each observation inside the run's years: the ensemble's P10/P50/P90,
    whether the observation lies in the P10–P90 band, its PIT (percentile in
    the ensemble) or, for a bound, the probability the ensemble gives it, and
    the CRPS of a value. Prints the band's coverage (ideally 0.8), the mean
    CRPS and the worst misses; writes backtest.csv and plots/backtest.png into
    RESULTS (refusing to replace backtest.csv without --force). Rows outside
    the run's years are listed as skipped.

    \b
    Examples:
      clusterfund backtest results/baseline
      clusterfund backtest results/baseline --observations my_figures.csv --force
    """
    from scenarios.present.backtest_text import describe_backtest
    from scenarios.studies.backtest import SHIPPED_OBSERVATIONS, run_backtest

    local = Path("configs/observations.csv")
    path = observations or (local if local.is_file() else SHIPPED_OBSERVATIONS)
    outcome = run_backtest(results, path, force, make_plot=not no_plots)
    click.echo(describe_backtest(outcome.table, results, path))
    written = [outcome.csv] + ([outcome.plot] if outcome.plot else [])
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


def main() -> None:
    """Entry point of the ``clusterfund`` console script."""
    stop_on_signals()
    cli(obj={})


if __name__ == "__main__":
    main()
