"""The ``clusterfund`` command line: each command parses its options into a request, hands
it to its study (:mod:`scenarios.studies`) and prints what the study returns, through
:mod:`scenarios.present`. No model logic, no file logic and no defaults are worked out here."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import click

from scenarios.config.scenario import load_config
from scenarios.core.errors import UserError
from scenarios.core.stops import forget_stops, stop_on_signals
from scenarios.core.text import terminal_safe
from scenarios.engine.executor import MAX_DEFAULT_JOBS, Backend, default_jobs
from scenarios.folders.explore_folder import ExploreFolder
from scenarios.folders.optimise_folder import OptimiseFolder
from scenarios.folders.run_folder import RunFolder
from scenarios.present.allocate_text import describe_allocation
from scenarios.present.backtest_text import describe_backtest
from scenarios.present.compare_text import describe_comparison
from scenarios.present.explore_text import describe_explore
from scenarios.present.optimise_text import describe_optimise
from scenarios.present.scenario_text import (
    describe_provenance,
    describe_resolved,
    describe_run,
    describe_scenario,
    describe_valid,
)
from scenarios.studies.allocate import AllocateRequest, allocate
from scenarios.studies.backtest import run_backtest
from scenarios.studies.brief import BriefRequest, make_brief
from scenarios.studies.compare import CompareRequest, compare
from scenarios.studies.explore import ExploreRequest, explore
from scenarios.studies.optimise import OptimiseRequest, optimise
from scenarios.studies.report import report
from scenarios.studies.run import RunRequest, run_scenario

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
        default=None,
        show_default=f"the usable cores, at most {MAX_DEFAULT_JOBS}",
        help=help_text,
    )


@contextlib.contextmanager
def kept_on_stop(work: str) -> Iterator[None]:
    """A stop (Ctrl-C, SIGTERM, SIGHUP) of a resumable job: one line saying where the
    finished ``work`` is kept for ``--resume`` (or that nothing was written), and exit
    status 128 + the signal."""
    try:
        yield
    except KeyboardInterrupt as exc:
        kept = getattr(exc, "kept_work", None)
        click.secho(
            f"interrupted; finished {work} are kept in {kept} — run the same command with "
            "--resume to finish it"
            if kept is not None
            else "interrupted; nothing was written",
            fg="red",
            err=True,
        )
        raise SystemExit(128 + getattr(exc, "signum", signal.SIGINT)) from None


def note(line: str) -> None:
    """A note for the user before long work (a time estimate, a warning), on stderr."""
    click.secho(terminal_safe(line), fg="yellow", err=True)


def backend_of(backend: str, jobs: int | None, scheduler: str | None) -> Backend:
    """Where the work runs (``--scheduler`` implies ``--backend dask``; no ``--jobs``: the
    usable cores, at most ``MAX_DEFAULT_JOBS``)."""
    workers = jobs if jobs is not None else default_jobs()
    return Backend("dask" if scheduler is not None else backend, workers, scheduler)


def comparison_options(out_help: str, out_required: bool = False):  # type: ignore[no-untyped-def]
    """The options ``compare`` and ``report`` share: ``--out``, ``--baseline``, ``--year``,
    ``--lang``, ``--force``."""

    def decorate(func):  # type: ignore[no-untyped-def]
        func = click.option("--force", is_flag=True, help="Replace what this tool wrote there.")(
            func
        )
        func = lang_option(func)
        func = click.option(
            "--year",
            type=int,
            help="Year of the per-cluster table [default: the target year, 2021].",
        )(func)
        func = click.option(
            "--baseline",
            type=click.Path(path_type=Path),
            help="The folder the others are compared against [default: the first].",
        )(func)
        return click.option(
            "--out", type=click.Path(path_type=Path), required=out_required, help=out_help
        )(func)

    return decorate


def backend_options(work: str):  # type: ignore[no-untyped-def]
    """``--jobs``, ``--backend local|dask`` and ``--scheduler`` of run, explore and optimise."""

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
      clusterfund brief results/baseline results/faster_taper --out brief.pdf
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
    click.echo(describe_valid(config, load_config(config, overrides)))


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
@backend_options("the ensemble's batches")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Runs simulated together in one step (vectorised); results are identical for "
    "any value [default: up to 64, at least four batches per process, smaller "
    "towards the end so the processes finish together].",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--force", is_flag=True, help="Replace a results folder this tool wrote.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG charts.")
@lang_option
@debug_option
def run(
    config: Path,
    out: Path | None,
    runs: int | None,
    seed: int | None,
    horizon: int | None,
    jobs: int | None,
    backend: str,
    scheduler: str | None,
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
    manifest.json, which reproduces that run. The CSVs are byte-identical
    whatever --jobs, --batch-size or --backend.

    \b
    Examples:
      clusterfund run configs/baseline.toml
      clusterfund run configs/downturn_2020.toml --runs 1000 --jobs 2
      clusterfund run configs/baseline.toml --set management.max_fee_rise=0.2 --out results/fees20
      clusterfund run configs/baseline.toml --runs 5000 --scheduler tcp://10.0.0.5:8786
      clusterfund run results/baseline/manifest.json --out results/baseline_again
    """
    request = RunRequest(
        config=config,
        overrides=overrides,
        out=out,
        runs=runs,
        seed=seed,
        horizon=horizon,
        backend=backend_of(backend, jobs, scheduler),
        batch_size=batch_size,
        force=force,
        make_plots=not no_plots,
        lang=lang,
    )
    result = run_scenario(request, note)
    click.echo(f"wrote {result.folder}/ ({result.runs} runs, seed {result.seed})")
    click.echo(describe_run(RunFolder.open(result.folder)))


@cli.command("allocate", context_settings=CONTEXT)
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
def allocate_command(
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
    request = AllocateRequest(
        config=config,
        year=year,
        overrides=overrides,
        binary=binary,
        solver=solver,
        with_commitments=not fresh,
        export_mps=export_mps,
        show_all_slack=show_all_slack,
        force=force,
    )
    solved = allocate(request)
    click.echo(
        describe_allocation(
            solved.scenario,
            solved.year,
            solved.inputs,
            solved.result,
            solved.cuts,
            show_all_slack,
            str(solved.exported) if solved.exported else None,
        )
    )


@cli.command("compare", context_settings=CONTEXT)
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@comparison_options("Where to write the full comparison [default: results/compare_<a>_vs_<b>].")
@debug_option
def compare_command(
    folders: tuple[Path, ...],
    out: Path | None,
    baseline: Path | None,
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
    compared, folder = compare(CompareRequest(folders, baseline, year, lang, out, force))
    click.echo(describe_comparison(compared.comparison, compared.tables))
    click.echo(f"\nwrote {folder}/")


@cli.command("report", context_settings=CONTEXT)
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@comparison_options(
    "The HTML file to write; the Excel workbook goes beside it (.xlsx).", out_required=True
)
@debug_option
def report_command(
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
    written = report(CompareRequest(folders, baseline, year, lang, out, force))
    click.echo(f"wrote {written.page} and {written.workbook}")


@cli.command("brief", context_settings=CONTEXT)
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="The run the others are compared against [default: the first].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="The page, FILE.pdf or FILE.html; brief.csv goes beside it "
    "[default: results/brief_<a>_vs_<b>/brief.pdf].",
)
@lang_option
@click.option("--force", is_flag=True, help="Replace a brief this tool wrote there.")
@debug_option
def brief_command(
    folders: tuple[Path, ...], baseline: Path | None, out: Path | None, lang: str, force: bool
) -> None:
    """A one-page budget brief: what each run changes in Region Skåne's money and in the
    clusters' survival, against a baseline, in MSEK and in plain words.

    For each cluster and all together: the region's money paid (base + arena) over the
    programme's years and in the target year, the probability that the cluster has left
    the programme, and its members, each change with the P10–P90 band of the run-by-run
    difference (the runs must have the same seed and number of runs, so run r of each is
    the twin of the other's). Writes the page (one A4 page, landscape) and brief.csv
    beside it: scenario, cluster, measure, years, value, delta, delta_p10, delta_p90.

    \b
    Examples:
      clusterfund brief results/baseline results/faster_taper --out brief.pdf
      clusterfund brief results/no_arena results/baseline --out arena/brief.html --lang sv
    """
    written = make_brief(BriefRequest(folders, baseline, out, lang, force))
    for sentence in written.content.sentences:
        click.echo(terminal_safe(sentence))
    click.echo(f"wrote {written.page} and {written.csv}")


@cli.command("explore", context_settings=CONTEXT)
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
    help="Points per chunk [default: about 128 model runs, at least 4 chunks per worker, "
    "smaller towards the end so the workers finish together].",
)
@click.option(
    "--resume", is_flag=True, help="Finish a stopped experiment: only missing chunks run."
)
@click.option(
    "--force", is_flag=True, help="Replace a folder this tool wrote, or a stopped run's chunks."
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG charts.")
@lang_option
@debug_option
def explore_command(
    experiment_file: Path,
    out: Path | None,
    jobs: int | None,
    backend: str,
    scheduler: str | None,
    chunk_points: int | None,
    resume: bool,
    force: bool,
    no_plots: bool,
    lang: str,
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
    identical for any backend, --jobs or chunk size. --lang sv prints the
    summary and labels the charts in Swedish (the tables stay as they are).

    \b
    Examples:
      clusterfund explore configs/experiments/what_matters.toml --jobs 2
      clusterfund explore configs/experiments/what_matters.toml --jobs 2 --lang sv
      clusterfund explore configs/experiments/what_matters.toml --resume --jobs 2
      clusterfund explore configs/experiments/what_matters.toml --backend dask --jobs 2
      clusterfund explore configs/experiments/what_matters.toml --scheduler tcp://10.0.0.5:8786
    """
    request = ExploreRequest(
        out=out,
        backend=backend_of(backend, jobs, scheduler),
        resume=resume,
        force=force,
        make_plots=not no_plots,
        chunk_points=chunk_points,
        lang=lang,
    )
    with kept_on_stop("chunks"):
        folder = explore(experiment_file, request, note)
    click.echo(f"wrote {folder}/")
    click.echo(describe_explore(ExploreFolder.open(folder), lang))


@cli.command("optimise", context_settings=CONTEXT)
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
@click.option(
    "--force", is_flag=True, help="Replace a folder this tool wrote, or a stopped search."
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG charts.")
@lang_option
@debug_option
def optimise_command(
    policy_file: Path,
    out: Path | None,
    jobs: int | None,
    backend: str,
    scheduler: str | None,
    budget: int | None,
    resume: bool,
    force: bool,
    no_plots: bool,
    lang: str,
) -> None:
    """Which policy meets the targets for the least money? Search POLICY's levers
    with the simulator in the loop.

    POLICY (e.g. configs/policies/least_base_after_2021.toml) names a base
    scenario, the levers (any key --set accepts, each with a range), outcomes
    (as in explore), what to minimise or maximise, and constraints such as
    no_closures_2025 = { at_least = 0.9 }, and optionally [year_paths]
    direction = "non_increasing" and/or max_step = 0.5 to keep year paths
    smooth. Every candidate runs the same
    `replications` seeds. One objective: a genetic algorithm (pymoo); two or
    more: NSGA-II and a Pareto front.

    Writes evaluations.csv (every candidate: levers, outcomes, each
    constraint's value and margin), pareto.csv (the feasible non-dominated
    candidates), out_of_sample.csv (the chosen policies re-run on fresh
    seeds, beside the base scenario's plan on the same seeds: the cost
    against the plan), policy_<k>.toml (ready scenarios: clusterfund run them as they
    are), manifest.json and plots/. If nothing can meet a constraint, one line
    names it with the best value reached, and nothing is written. --lang sv
    prints the summary and labels the charts in Swedish (not the tables).

    \b
    Examples:
      clusterfund optimise configs/policies/least_base_from_2019.toml --jobs 2
      clusterfund optimise configs/policies/least_base_from_2019.toml --jobs 2 --lang sv
      clusterfund optimise configs/policies/base_per_cluster_front.toml --jobs 2 --budget 600
      clusterfund run results/least_base_from_2019/policy_1.toml
    """
    request = OptimiseRequest(
        out=out,
        backend=backend_of(backend, jobs, scheduler),
        budget=budget,
        resume=resume,
        force=force,
        make_plots=not no_plots,
        lang=lang,
    )
    with kept_on_stop("evaluations"):
        result = optimise(policy_file, request, note)
    click.echo(f"wrote {result.folder}/")
    click.echo(describe_optimise(OptimiseFolder.open(result.folder), lang))


@cli.command(context_settings=CONTEXT)
@click.argument("results", type=click.Path(path_type=Path))
@click.option(
    "--observations",
    type=click.Path(path_type=Path),
    help="Observed figures (CSV) [default: configs/observations.csv, else the shipped file].",
)
@click.option(
    "--split",
    type=int,
    metavar="YEAR",
    help="Score years up to YEAR (in sample: what a calibration with fit_until = YEAR "
    "saw) apart from later years (out of sample: the forecast's real test).",
)
@click.option("--force", is_flag=True, help="Replace an existing backtest.csv.")
@click.option("--no-plots", is_flag=True, help="Skip plots/backtest.png.")
@lang_option
@debug_option
def backtest(
    results: Path,
    observations: Path | None,
    split: int | None,
    force: bool,
    no_plots: bool,
    lang: str,
) -> None:
    """Score the results folder RESULTS against observed figures.

    For each observation inside the run's years: the ensemble's P10/P50/P90,
    whether the observation lies in the P10–P90 band, its PIT (percentile in
    the ensemble) or, for a bound, the probability the ensemble gives it, and
    the CRPS of a value; and the same scores for persistence, the naive
    forecast "it stays as the last figure on record" (spread by the yearly
    changes on record). Prints, for observed rows, the band's coverage
    (ideally 0.8), the mean CRPS, the skill against persistence (above 0:
    the model beats it) and the worst misses; plans and start figures are
    shown but not scored. Writes backtest.csv and plots/backtest.png into
    RESULTS (refusing to replace backtest.csv without --force). Rows outside
    the run's years are listed as skipped. --lang sv prints the scores and
    labels the chart in Swedish (backtest.csv stays as it is).

    \b
    Examples:
      clusterfund backtest results/baseline --split 2019
      clusterfund backtest results/baseline --lang sv
      clusterfund backtest results/baseline --observations my_figures.csv --force
    """
    outcome = run_backtest(
        results, observations, force, make_plot=not no_plots, split=split, lang=lang
    )
    click.echo(describe_backtest(outcome.table, results, outcome.observations, split, lang))
    written = [outcome.csv] + ([outcome.plot] if outcome.plot else [])
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


def main() -> None:
    """Entry point of the ``clusterfund`` console script."""
    stop_on_signals()
    cli(obj={})


if __name__ == "__main__":
    main()
