"""The ``abm`` command (DESIGN.md §7).

Every sub-command is a thin shell over a library function; all user-facing errors are
:class:`abm.errors.UserInputError`, printed as one line on stderr with exit status 2.
Heavy imports happen inside the commands so ``abm --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from abm.errors import UserInputError

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


@app.command()
def rothc(
    input_file: Annotated[Path, typer.Argument(help="Official RothC input file (v1 or v2 format).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for year_results.csv and month_results.csv.")],
) -> None:
    """Run RothC-26.3 on an official RothC input file."""
    from abm.soil.rothc_io import run_file

    try:
        year, month = run_file(input_file, out)
    except UserInputError as exc:
        _fail(exc)
    typer.echo(f"wrote {year} and {month}")


@app.command()
def batch(
    study: Annotated[Path, typer.Argument(help="Study file (TOML, DESIGN.md §7a).")],
    workers: Annotated[int | None, typer.Option("--workers", help="Local worker processes (default: all cores).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="'local' (Dask LocalCluster) or tcp://host:port of a running Dask scheduler.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Results folder (default results/<experiment.name>).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip runs already finished in --out.")] = False,
) -> None:
    """Run an experiment batch: scenarios x design points x replicates."""
    from abm.batch.runner import run_batch

    if workers is not None and scheduler is not None:
        _fail(UserInputError("use either --workers or --scheduler, not both", source="command line"))
    try:
        run_batch(study, workers=workers, scheduler=scheduler, out=out, resume=resume)
    except UserInputError as exc:
        _fail(exc)


@app.command()
def query(
    results: Annotated[Path, typer.Argument(help="Results folder.")],
    sql: Annotated[str, typer.Argument(help="SQL over the tables runs, timeseries, ledger, failures.")],
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
    from abm.report import build_report

    try:
        path = build_report(results)
    except UserInputError as exc:
        _fail(exc)
    typer.echo(f"report written to {path}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except UserInputError as exc:  # pragma: no cover - commands catch their own
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
