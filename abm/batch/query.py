"""``abm query DIR "SQL"``: DuckDB SQL over a results folder's Parquet tables.

Every table of the folder is a view named after it: ``runs``, ``timeseries``, ``ledger``,
``failures`` (always present, empty if nothing was written), plus any other
``DIR/<name>.parquet`` (``sensitivity``, ``posterior``, ``fit``, ...). Views only see
committed runs (see :mod:`abm.batch.store`), so querying a batch while it runs is safe.

Examples::

    abm query results/incentive-schemes \\
        "SELECT scenario, avg(adoption_share_2050) FROM runs GROUP BY 1"
    abm query results/incentive-schemes "SELECT r.scenario, t.year, avg(t.adoption_share)
        FROM timeseries t JOIN runs r USING (run_id) GROUP BY ALL ORDER BY ALL"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from abm.batch.store import MANIFEST, table_files, table_names, table_sql
from abm.errors import UserInputError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

#: Rows printed by :func:`print_query` before it truncates.
MAX_PRINT_ROWS = 200


def _check_dir(results_dir: Path) -> Path:
    root = Path(results_dir)
    if not root.is_dir():
        raise UserInputError(f"results folder {root} not found", source="command line")
    if not (root / MANIFEST).is_file() and not (root / "runs.parquet").exists():
        raise UserInputError(
            f"{root} is not a results folder (no manifest.json or runs.parquet)",
            source="command line",
        )
    return root


#: Statement types a query may contain: reading only.
READ_STATEMENTS = ("SELECT", "EXPLAIN")


def connect(results_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory, sandboxed DuckDB connection with one view per table of the folder.

    The views are created first; then DuckDB's file system is closed to everything but the
    folder's committed part files (``allowed_paths``, ``enable_external_access = false``: no
    ``read_csv('/etc/passwd')``, ``glob``, ``ATTACH``, ``COPY ... TO`` elsewhere), extensions are
    neither installed nor loaded, and the configuration is locked so SQL cannot undo any of it.
    """
    import duckdb

    root = _check_dir(results_dir).resolve()
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    files: list[str] = []
    try:
        for name in table_names(root):
            files += [str(f) for f in table_files(root, name)]
            try:
                con.execute(f'CREATE VIEW "{name}" AS {table_sql(root, name)}')
            except duckdb.Error as exc:
                raise UserInputError(
                    f"table {name!r} cannot be read (a corrupt or foreign part file?): "
                    f"{_first_line(exc)}",
                    source=str(root),
                ) from None
        try:
            con.execute("SET allowed_paths = ?", [files])
        except duckdb.Error:  # pragma: no cover - DuckDB < 1.1 has no allowed_paths
            raise UserInputError(
                f"abm query needs DuckDB >= 1.1 to read the tables with file access closed "
                f"(this is {duckdb.__version__}); pip install -U duckdb",
                source="command line",
            ) from None
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_read_only(sql: str) -> None:
    """Refuse empty SQL and any statement that is not a read (``SELECT``, ``WITH``, ``FROM``,
    ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``, ``EXPLAIN``): queries read the results folder's tables
    and write nothing."""
    import duckdb

    try:
        statements = duckdb.connect().extract_statements(sql)
    except duckdb.Error as exc:
        raise UserInputError(f"SQL: {_first_line(exc)}", source="command line") from None
    if not statements:
        raise UserInputError(
            'SQL is empty; give a query such as "SELECT * FROM runs LIMIT 5"', source="command line"
        )
    for st in statements:
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind not in READ_STATEMENTS:
            raise UserInputError(
                f"SQL: {kind} statements are not allowed; abm query only reads the results "
                "folder's tables (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)",
                source="command line",
            )


def query(results_dir: Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over the folder's tables; return the result as a DataFrame.

    Raises
    ------
    UserInputError
        For a missing folder, empty SQL, a statement that is not a read, SQL that DuckDB
        rejects, or a file outside the folder's tables (one line: DuckDB's message).
    """
    import duckdb

    check_read_only(sql)
    con = connect(results_dir)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        first = _first_line(exc)
        if isinstance(exc, duckdb.PermissionException):
            first += " (abm query reads only the results folder's tables)"
        raise UserInputError(f"SQL: {first}", source="command line") from None
    finally:
        con.close()


def print_query(results_dir: Path, sql: str) -> None:
    """Run ``sql`` and print the result as a plain text table (at most 200 rows)."""
    import pandas as pd

    frame = query(results_dir, sql)
    shown = frame.head(MAX_PRINT_ROWS)
    with pd.option_context("display.width", 250, "display.max_columns", 50):
        print(shown.to_string(index=False) if len(frame.columns) else "(no columns)")
    if len(frame) > MAX_PRINT_ROWS:
        print(
            f"... {len(frame) - MAX_PRINT_ROWS} more rows ({len(frame)} in all); add LIMIT, "
            "or use abm.batch.query.query() from Python for the whole result"
        )
    elif len(frame) == 0:
        print("(0 rows)")
