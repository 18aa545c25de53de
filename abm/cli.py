"""The ``abm`` command (DESIGN.md §7).

Every sub-command is a thin shell over a library function; all user-facing errors are
:class:`abm.errors.UserInputError`, printed as one line on stderr with exit status 2.
Heavy imports happen inside the commands so ``abm --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from abm.errors import UserInputError

if TYPE_CHECKING:
    from abm.scenario import Params


# options shared by the commands that run studies (batch, sensitivity, calibrate)
WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="Local worker processes (default: all cores).")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="'local' (Dask LocalCluster) or tcp://host:port of a running Dask scheduler.",
    ),
]
AllowPluginOption = Annotated[
    bool,
    typer.Option(
        "--allow-plugin",
        help="Consent to run the plug-in model (Python code) the study file names.",
    ),
]
PosteriorOption = Annotated[
    Path | None,
    typer.Option("--posterior", help="Calibration folder: replicates draw parameter sets from it."),
]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Agent-based model of soil-carbon practice adoption under the '4 per 1000' initiative.",
    pretty_exceptions_enable=False,
)


def _fail(exc: Exception) -> None:
    """Print one line and exit with status 2."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def _print_version(value: bool) -> None:
    if value:
        from abm import __version__

        typer.echo(f"abm-4p1000 {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Agent-based model of soil-carbon practice adoption under the '4 per 1000' initiative."""


@app.command()
def run(
    file: Annotated[
        Path | None, typer.Argument(help="Scenario file (.toml); or use --scenario NAME.")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario", help="Built-in scenario name or a .toml file (default baseline)."
        ),
    ] = None,
    farms: Annotated[int | None, typer.Option("--farms", help="Number of farms (n_farms).")] = None,
    start: Annotated[int | None, typer.Option("--start", help="First simulated year.")] = None,
    end: Annotated[int | None, typer.Option("--end", help="Last simulated year.")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Root seed (default: the scenario's).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter: dotted.path=value (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the results folder here.")
    ] = None,
    posterior: Annotated[
        Path | None,
        typer.Option(
            "--posterior", help="Calibration folder: draw this run's parameter set from it."
        ),
    ] = None,
) -> None:
    """Run one scenario and print its headline figures (and write --out DIR)."""
    from abm.scenario import parse_set, resolve_params

    if file is not None and scenario is not None:
        _fail(
            UserInputError(
                "give a scenario FILE or --scenario NAME, not both", source="command line"
            )
        )
    scenario = str(file) if file is not None else (scenario or "baseline")
    try:
        overrides = parse_set(set_ or [])
        for path, value, flag in (
            ("n_farms", farms, "--farms"),
            ("start_year", start, "--start"),
            ("end_year", end, "--end"),
        ):
            if value is not None and path in overrides:
                raise UserInputError(
                    f"{path} is given twice: by {flag} and by --set {path}=...; give one",
                    source="command line",
                )
            if value is not None:
                overrides[path] = value
        _check_run_inputs(scenario, seed)
        params = resolve_params(scenario, overrides, source="--set")
        if posterior is not None:
            from abm.calibration.posterior import overrides_for_run

            drawn = overrides_for_run(
                posterior, seed if seed is not None else params.seed, overrides
            )
            overrides = {**drawn, **overrides}
            params = resolve_params(scenario, overrides, source="--set")
        _check_memory(params.n_farms)
        if out is not None:
            from abm.batch.store import ResultStore

            ResultStore.check_new(out, resumable=False)
    except UserInputError as exc:
        _fail(exc)
    _run_one(scenario, params, seed, overrides, out)


#: Largest seed (as for study files: a non-negative 63-bit integer).
MAX_SEED = 2**63 - 1
#: Memory per farm of one run, bytes: peak RSS of ``abm run --end 2022`` grew by 3.6 kB per
#: farm from 2,000 (176 MiB) to 100,000 farms (523 MiB), measured 2026-12-02; margin of 2.
BYTES_PER_FARM = 8_000


def _check_run_inputs(scenario: str, seed: int | None) -> None:
    """--seed in range; a scenario file that is UTF-8 text (TOML's encoding)."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserInputError(
            f"--seed {seed}: allowed 0 to 2**63-1 ({MAX_SEED})", source="command line"
        )
    if scenario.endswith(".toml") and Path(scenario).is_file():
        try:
            Path(scenario).read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserInputError(
                f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source=scenario
            ) from None
        except OSError as exc:
            raise UserInputError(f"cannot read: {exc.strerror}", source=scenario) from None


def _check_memory(n_farms: int) -> None:
    """Refuse a run that cannot fit in the memory available, before building it."""
    need = n_farms * BYTES_PER_FARM
    try:
        import psutil

        have = int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil comes with distributed
        return
    if need > have:
        raise UserInputError(
            f"n_farms = {n_farms:,} needs about {need / 2**30:.1f} GiB of memory, "
            f"{have / 2**30:.1f} GiB is available; use fewer farms (a batch of smaller "
            "landscapes gives the same statistics)",
            source="command line",
        )


def _run_one(
    scenario: str, params: Params, seed: int | None, overrides: dict, out: Path | None
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from abm.model import SoilCarbonModel
    from abm.reporters import HEADLINE_KPIS
    from abm.run import run_model

    console = Console(stderr=True)
    with console.status("building the landscape (spin-up, inverse mode, network, burn-in)"):
        model = SoilCarbonModel(params, seed=seed)
    n_years = params.end_year - params.start_year + 1
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} yr"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{scenario}", total=n_years)
        while model.year <= params.end_year:
            model.step()
            bar.advance(task)
    result = run_model(model=model)
    table = Table(
        title=(
            f"{scenario} — {params.n_farms} farms, {params.start_year}-{params.end_year}, "
            f"seed {model.root_seed}"
        )
    )
    table.add_column("output")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key, unit in HEADLINE_KPIS.items():
        table.add_row(key, f"{result.kpis[key]:,.4g}", unit)
    Console().print(table)
    if out is not None:
        from abm.batch.store import write_single_run

        write_single_run(
            out,
            result,
            scenario=scenario,
            seed=model.root_seed,
            spec={"scenario": scenario, "overrides": overrides, "seed": model.root_seed},
        )
        typer.echo(f"results written to {out}")


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from abm.scenario import builtin_scenarios

    for name, desc in builtin_scenarios().items():
        typer.echo(f"{name:16s} {desc}")


@app.command()
def params(fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table") -> None:
    """Every parameter: path, default, unit, allowed range, sensitivity range, source."""
    import json

    from abm.scenario import param_specs

    specs = param_specs()
    if fmt == "json":
        rows = [
            {
                "path": s.path,
                "default": s.default,
                "unit": s.unit,
                "low": s.low,
                "high": s.high,
                "sensitivity": list(s.sensitivity) if s.sensitivity else None,
                "source": s.source,
            }
            for s in specs
        ]
        typer.echo(json.dumps(rows, indent=1, default=str))
        return
    if fmt != "table":
        _fail(UserInputError(f"--format {fmt!r}: allowed: table, json", source="command line"))
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("path", "default", "unit", "allowed", "sensitivity", "source"):
        table.add_column(col, overflow="fold")
    for s in specs:
        allowed = _allowed(s.path, s.low, s.high)
        sens = "" if not s.sensitivity else f"{s.sensitivity[0]:g}-{s.sensitivity[1]:g}"
        table.add_row(s.path, str(s.default), s.unit, allowed, sens, s.source)
    Console(width=200).print(table)


def _allowed(path: str, low: float | None, high: float | None) -> str:
    """``[low, high]``, with ``(`` / ``)`` for a bound the value may not take (gt / lt)."""
    if low is None and high is None:
        return ""
    from annotated_types import Gt, Lt

    from abm import scenario as sc

    model: type = sc.Params
    field = None
    for i, part in enumerate(path.split(".")):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            if i == 1 and path.startswith("practices."):
                model = sc.PracticeParams
                continue
            break
        field = fields[part]
        model = field.annotation if isinstance(field.annotation, type) else type(None)
    meta = field.metadata if field is not None else []
    left = "(" if any(isinstance(m, Gt) for m in meta) else "["
    right = ")" if any(isinstance(m, Lt) for m in meta) else "]"
    return f"{left}{low}, {high}{right}"


@app.command()
def rothc(
    input_file: Annotated[
        Path, typer.Argument(help="Official RothC input file (v1 or v2 format).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for year_results.csv and month_results.csv.")
    ],
) -> None:
    """Run RothC-26.3 on an official RothC input file."""
    from abm.soil.rothc_io import run_file

    try:
        existing = [n for n in ("year_results.csv", "month_results.csv") if (out / n).exists()]
        if existing:
            raise UserInputError(
                f"--out {out} already holds {existing[0]}; choose another --out or remove it",
                source="command line",
            )
        from abm.batch.store import check_writable

        check_writable(out)
        try:
            year, month = run_file(input_file, out)
        except (OverflowError, ValueError) as exc:
            if isinstance(exc, UserInputError):
                raise
            raise UserInputError(
                f"a value is out of the range RothC can run ({exc})", source=str(input_file)
            ) from None
    except UserInputError as exc:
        _fail(exc)
    typer.echo(f"wrote {year} and {month}")


@app.command()
def batch(
    study: Annotated[Path, typer.Argument(help="Study file (TOML, DESIGN.md §7a).")],
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<experiment.name>)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip runs already finished in --out.")
    ] = False,
    allow_plugin: AllowPluginOption = False,
    posterior: PosteriorOption = None,
) -> None:
    """Run an experiment batch: scenarios x design points x replicates."""
    from abm.batch.runner import run_batch

    if workers is not None and scheduler is not None:
        _fail(
            UserInputError("use either --workers or --scheduler, not both", source="command line")
        )
    try:
        run_batch(
            study,
            workers=workers,
            scheduler=scheduler,
            out=out,
            resume=resume,
            allow_plugin=allow_plugin,
            posterior=posterior,
        )
    except UserInputError as exc:
        _fail(exc)


@app.command()
def query(
    results: Annotated[Path, typer.Argument(help="Results folder.")],
    sql: Annotated[
        str, typer.Argument(help="SQL over the tables runs, timeseries, ledger, failures.")
    ],
) -> None:
    """Query a results folder with DuckDB SQL."""
    from abm.batch.query import print_query

    try:
        print_query(results, sql)
    except UserInputError as exc:
        _fail(exc)


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="Results folder (of abm batch or abm run).")],
) -> None:
    """Build the comparison report (tables + figures) into RESULTS/report/."""
    from abm.batch.store import check_writable
    from abm.report import build_report

    try:
        if results.is_dir():
            check_writable(results / "report", option="RESULTS/report", source=str(results))
        path = build_report(results)
    except UserInputError as exc:
        _fail(exc)
    typer.echo(f"report written to {path}")


@app.command()
def sensitivity(
    study: Annotated[
        Path | None, typer.Argument(help="Sensitivity study file (TOML with a sensitivity table).")
    ] = None,
    analyze: Annotated[
        Path | None,
        typer.Option("--analyze", help="Re-analyse this batch folder (PAWN, delta, RBD-FAST)."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<experiment.name>)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip runs already finished in --out.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the number of runs and a pilot's time estimate."),
    ] = False,
    allow_plugin: AllowPluginOption = False,
    method: Annotated[
        list[str] | None,
        typer.Option("--method", help="With --analyze: rbd_fast, pawn, delta (repeatable)."),
    ] = None,
    output: Annotated[
        list[str] | None, typer.Option("--output", help="With --analyze: a KPI (repeatable).")
    ] = None,
    posterior: PosteriorOption = None,
) -> None:
    """Global sensitivity analysis (SALib) of a study, or --analyze an existing batch folder."""
    try:
        _sensitivity(
            study,
            analyze,
            workers,
            scheduler,
            out,
            resume,
            dry_run,
            allow_plugin,
            method,
            output,
            posterior,
        )
    except UserInputError as exc:
        _fail(exc)


def _sensitivity(
    study: Path | None,
    analyze: Path | None,
    workers: int | None,
    scheduler: str | None,
    out: Path | None,
    resume: bool,
    dry_run: bool,
    allow_plugin: bool,
    method: list[str] | None,
    output: list[str] | None,
    posterior: Path | None = None,
) -> None:
    cl = "command line"
    if (study is None) == (analyze is None):
        raise UserInputError("give a study FILE or --analyze DIR (one of them)", source=cl)
    if workers is not None and scheduler is not None:
        raise UserInputError("use either --workers or --scheduler, not both", source=cl)
    if analyze is not None:
        from abm.sensitivity.report import analyze_folder

        analyze_folder(analyze, methods=method, outputs=output)
        return
    if method or output:
        raise UserInputError(
            "--method and --output go with --analyze; a study names them in [sensitivity]",
            source=cl,
        )
    from abm.sensitivity.study import run_sensitivity

    assert study is not None
    run_sensitivity(
        study,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        dry_run_only=dry_run,
        allow_plugin=allow_plugin,
        posterior=posterior,
    )


@app.command()
def calibrate(
    study: Annotated[Path, typer.Argument(help="Calibration study file (TOML, DESIGN.md §7a).")],
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="CSV:OUTPUT[:SCALE] (year,value,unit,source CSV; repeatable): replaces the "
            "file's targets.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Fix a parameter: dotted.path=value (repeatable)."),
    ] = None,
    max_simulations: Annotated[
        int | None,
        typer.Option("--max-simulations", help="Hard bound on model runs (all of them)."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<experiment.name>)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a killed calibration in --out.")
    ] = False,
    allow_plugin: AllowPluginOption = False,
) -> None:
    """Fit parameters to observed series with ABC-SMC (pyabc): posterior, fit, figures."""
    from abm.calibration.run import run_calibration

    try:
        run_calibration(
            study,
            targets=target,
            sets=set_,
            max_simulations=max_simulations,
            workers=workers,
            scheduler=scheduler,
            out=out,
            resume=resume,
            allow_plugin=allow_plugin,
        )
    except UserInputError as exc:
        _fail(exc)


@app.command()
def discover(
    results: Annotated[Path, typer.Argument(help="Results folder of a batch or sensitivity run.")],
    output: Annotated[str, typer.Option("--output", help="The KPI of interest.")],
    above: Annotated[
        float | None, typer.Option("--above", help="Cases of interest: KPI >= this value.")
    ] = None,
    below: Annotated[
        float | None, typer.Option("--below", help="Cases of interest: KPI <= this value.")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="prim or cart.")] = "prim",
    threshold: Annotated[
        float, typer.Option("--density", help="PRIM: the box's minimum density (0-1).")
    ] = 0.8,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Resamples for the box's stability.")
    ] = 50,
) -> None:
    """Scenario discovery: the boxes of parameters where a KPI is above/below a threshold."""
    from abm.discovery import discover as run_discovery

    try:
        run_discovery(
            results,
            output=output,
            above=above,
            below=below,
            method=method,
            density=threshold,
            n_boot=bootstrap,
        )
    except UserInputError as exc:
        _fail(exc)


@app.command()
def dashboard(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (this machine only by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    results: Annotated[
        Path | None, typer.Option("--results", help="Results folder for the /results page.")
    ] = None,
) -> None:
    """Open the browser dashboard: one model (/) and a results folder (/results).

    Needs the optional extra: pip install -e '.[dashboard]'.
    """
    from abm.dashboard.launcher import serve

    try:
        serve(host, port, results)
    except UserInputError as exc:
        _fail(exc)


def main() -> None:
    """Console-script entry point: every usage error is one line on stderr, exit status 2."""
    import importlib

    try:  # typer >= 0.24 vendors click
        cx: Any = importlib.import_module("typer._click.exceptions")
    except ImportError:  # pragma: no cover
        cx = importlib.import_module("click.exceptions")

    try:
        code = app(standalone_mode=False)
    except UserInputError as exc:  # pragma: no cover - commands catch their own
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except cx.NoArgsIsHelpError as exc:  # `abm` alone: the help
        print(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except cx.ClickException as exc:  # typer's boxed usage message, as one line
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        msg = " ".join(exc.format_message().split())
        print(f"error: {where}{msg} (see --help)", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
