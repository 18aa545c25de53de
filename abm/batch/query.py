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

from abm.batch.store import MANIFEST, table_names, table_sql
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


def connect(results_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table of the folder."""
    import duckdb

    root = _check_dir(results_dir)
    con = duckdb.connect()
    for name in table_names(root):
        con.execute(f'CREATE VIEW "{name}" AS {table_sql(root, name)}')
    return con


def query(results_dir: Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over the folder's tables; return the result as a DataFrame.

    Raises
    ------
    UserInputError
        For a missing folder or SQL that DuckDB rejects (one line: DuckDB's message).
    """
    import duckdb

    con = connect(results_dir)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
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
            f"... {len(frame) - MAX_PRINT_ROWS} more rows ({len(frame)} in all); add LIMIT "
            "or write them out with COPY (...) TO 'file.csv'"
        )
    elif len(frame) == 0:
        print("(0 rows)")
