"""The results folder (DESIGN.md §8): atomic part files, a manifest, and readers.

Layout::

    DIR/manifest.json            resolved spec, root seed, versions, git commit, times, counts
    DIR/runs.parquet/            one part file per finished run: <run_id>.parquet
    DIR/timeseries.parquet/      one part per run (run_id, year, timeseries columns)
    DIR/ledger.parquet/          one part per run (run_id, year, kind, count, amount, ...)
    DIR/zones.parquet/           one part per run (run_id, year, zone, saturation/equilibrium)
    DIR/failures.parquet/        one part per failed run
    DIR/.lock                    held (flock) while a batch writes into DIR

Commit protocol
---------------
Each part is written to a hidden temporary name in its folder and moved into place with
``os.replace`` (atomic on POSIX and Windows). A run's ``timeseries`` and ``ledger`` parts are
written first and its ``runs`` part last: the ``runs`` part is the commit marker. Readers
only take ``timeseries``/``ledger`` parts whose run has a ``runs`` part, and ``failures``
parts whose run has none, so a batch killed at any instant (``kill -9`` included) leaves a
consistent folder; ``--resume`` reruns exactly the runs without a ``runs`` part (failed runs
included: a failure may be transient) and rewrites their parts under the same names.
Durability is against process death, not power loss (no ``fsync`` per part, which would cost
milliseconds per run on most file systems).

Reading
-------
:func:`read_table` returns a table sorted by its key (``run_id``, then ``year``/``kind``) so
the result is independent of how many workers wrote it and in which order. ``DIR/<name>.parquet``
may also be a single file (other tools write ``sensitivity.parquet`` that way).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from abm.errors import UserInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

    from abm.batch.worker import Outcome

#: The tables every batch folder has, in this order.
TABLES = ("runs", "timeseries", "ledger", "failures", "zones")
#: Tables with one part per committed run, written before its ``runs`` part.
RUN_PARTS = ("timeseries", "ledger", "zones")
#: Sort keys of the tables (only the ones present are used).
SORT_KEYS = {
    "runs": ("run_id",),
    "timeseries": ("run_id", "year"),
    "ledger": ("run_id", "year", "kind"),
    "failures": ("run_id",),
    "zones": ("run_id", "year", "zone"),
}
MANIFEST = "manifest.json"
LOCK = ".lock"
FORMAT_VERSION = 1
#: Columns of an empty table (so ``abm query`` works before anything ran or failed).
EMPTY_COLUMNS: dict[str, dict[str, str]] = {
    "runs": {
        "run_id": "VARCHAR",
        "scenario": "VARCHAR",
        "design_point": "BIGINT",
        "replicate": "BIGINT",
        "seed": "BIGINT",
    },
    "timeseries": {"run_id": "VARCHAR", "year": "BIGINT"},
    "zones": {"run_id": "VARCHAR", "year": "BIGINT", "zone": "VARCHAR"},
    "ledger": {
        "run_id": "VARCHAR",
        "year": "BIGINT",
        "kind": "VARCHAR",
        "count": "BIGINT",
        "amount": "DOUBLE",
    },
    "failures": {
        "run_id": "VARCHAR",
        "scenario": "VARCHAR",
        "design_point": "BIGINT",
        "replicate": "BIGINT",
        "seed": "BIGINT",
        "parameters": "VARCHAR",
        "error_type": "VARCHAR",
        "error_message": "VARCHAR",
        "traceback": "VARCHAR",
    },
}
VERSIONED = (
    "abm-4p1000",
    "numpy",
    "pandas",
    "pyarrow",
    "mesa",
    "networkx",
    "scipy",
    "SALib",
    "pydantic",
    "duckdb",
    "dask",
    "distributed",
)


def now() -> str:
    """The current time, ISO 8601 with time zone, to the second."""
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for name in VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out.append((name, metadata.version(name)))
    return tuple(out)


def git_commit(path: Path | None = None) -> str | None:
    """The git commit of the ``abm`` source tree (``+dirty`` when modified), or ``None``."""
    here = path or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a hidden temporary file and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, obj: Mapping[str, Any]) -> None:
    """Write a JSON document atomically (sorted keys, indented)."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=str)
    atomic_write_bytes(path, (text + "\n").encode())


def read_manifest(results_dir: Path) -> dict[str, Any] | None:
    """The manifest of a results folder, or ``None`` when there is none."""
    path = Path(results_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise UserInputError(f"unreadable manifest: {exc}", source=str(path)) from None


def is_empty_dir(path: Path) -> bool:
    """Whether ``path`` does not exist or is an empty folder."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def check_writable(folder: Path, *, option: str = "--out", source: str = "command line") -> None:
    """Refuse a folder that cannot be created or written, before any work is done.

    The test is real (a probe file created and removed in ``folder``, or in its nearest
    existing parent when it does not exist yet): permissions, read-only file systems, ``/proc``
    and a file in the path are all caught, whoever runs it. Nothing is left behind.
    """
    folder = Path(folder)
    probe_dir = folder
    while not probe_dir.exists():
        if probe_dir.parent == probe_dir:
            break
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise UserInputError(
            f"{option} {folder}: {probe_dir} is a file, so the folder cannot be created",
            source=source,
        )
    probe = probe_dir / f".abm-write-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise UserInputError(
            f"{option} {folder}: cannot write there ({exc.strerror or exc}); choose a "
            "writable folder",
            source=source,
        ) from None


def writer_alive(results_dir: Path) -> bool:
    """Whether a batch is writing into ``results_dir`` now (it holds the folder's lock).

    A manifest that says ``running`` while no process holds the lock is a batch that was
    killed (``kill -9``, a lost node) and can be completed with ``--resume``.
    """
    path = Path(results_dir) / LOCK
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock to ask
        return path.exists()
    try:
        fh = path.open("r")
    except OSError:
        return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        fh.close()
    return False


def write_part(folder: Path, run_id: str, table: pa.Table) -> None:
    """Write one part file atomically: ``folder/<run_id>.parquet``."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{run_id}.parquet"
    tmp = folder / f".{run_id}.parquet.tmp-{os.getpid()}"
    pq.write_table(table, str(tmp))  # snappy: the cheapest to write for tiny parts
    os.replace(tmp, final)


class ResultStore:
    """A results folder being written by one process (the batch's parent).

    Use :meth:`create` for a new folder and :meth:`resume` for an existing one; both take a
    lock so that two batches never write into the same folder at once.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock_fh: Any = None

    # -- opening -----------------------------------------------------------------------------

    @staticmethod
    def check_new(root: Path, source: str = "command line", *, resumable: bool = True) -> None:
        """Refuse a folder that exists and is not empty, or cannot be written (before anything
        is written). ``resumable``: whether to suggest ``--resume`` (``abm batch`` has it)."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise UserInputError(f"--out {root} is a file, not a folder", source=source)
        if not is_empty_dir(root):
            hint = "use --resume to complete the batch in it, or " if resumable else ""
            raise UserInputError(
                f"results folder {root} exists and is not empty; {hint}choose another --out",
                source=source,
            )
        check_writable(root, option="--out", source=source)

    def open(self) -> ResultStore:
        """Create the folder layout (if needed) and take the writer's lock."""
        self.root.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            (self.root / f"{name}.parquet").mkdir(exist_ok=True)
        self._lock()
        return self

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            return
        fh = (self.root / LOCK).open("a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise UserInputError(
                f"another batch is writing into {self.root}; wait for it or use another --out",
                source="command line",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._lock_fh = fh

    def close(self) -> None:
        """Remove the lock file and release the lock (no stale ``.lock`` in a finished
        folder; removed while still held, so no other writer can have taken it)."""
        if self._lock_fh is not None:
            (self.root / LOCK).unlink(missing_ok=True)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> ResultStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state -------------------------------------------------------------------------------

    def part_ids(self, table: str) -> set[str]:
        """Run ids that have a part in ``table``."""
        return part_ids(self.root, table)

    def done_ids(self) -> set[str]:
        """Run ids committed (a ``runs`` part exists)."""
        return self.part_ids("runs")

    def clean(self) -> int:
        """Remove temporaries, and parts that a committed or pending run makes stale.

        Leftovers of a killed batch: temporary files, ``timeseries``/``ledger`` parts of runs
        that never committed, ``failures`` parts of runs that have since succeeded. Returns how
        many files were removed.
        """
        removed = 0
        for path in self.root.glob(f".{MANIFEST}.tmp-*"):
            path.unlink(missing_ok=True)
            removed += 1
        done = self.done_ids()
        for name in TABLES:
            folder = self.root / f"{name}.parquet"
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                stale = path.name.startswith(".") and ".tmp-" in path.name
                if path.suffix == ".parquet" and not path.name.startswith("."):
                    rid = path.stem
                    if name in RUN_PARTS and rid not in done:
                        stale = True
                    if name == "failures" and rid in done:
                        stale = True
                if stale:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    # -- writing -----------------------------------------------------------------------------

    def write(self, outcome: Outcome) -> None:
        """Commit one run's outcome (see the module docstring for the order)."""
        rid = outcome.run_id
        if outcome.ok:
            if outcome.timeseries is not None:
                write_part(self.root / "timeseries.parquet", rid, outcome.timeseries)
            if outcome.ledger is not None:
                write_part(self.root / "ledger.parquet", rid, outcome.ledger)
            if outcome.zones is not None:
                write_part(self.root / "zones.parquet", rid, outcome.zones)
            assert outcome.runs is not None  # an ok outcome always carries its row
            write_part(self.root / "runs.parquet", rid, outcome.runs)
            (self.root / "failures.parquet" / f"{rid}.parquet").unlink(missing_ok=True)
        else:
            assert outcome.failure is not None
            write_part(self.root / "failures.parquet", rid, outcome.failure)

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace ``manifest.json`` atomically."""
        write_json(self.root / MANIFEST, manifest)


# -- reading ---------------------------------------------------------------------------------


def part_ids(results_dir: Path, table: str) -> set[str]:
    """Run ids with a part file in ``DIR/<table>.parquet/``."""
    folder = Path(results_dir) / f"{table}.parquet"
    if not folder.is_dir():
        return set()
    return {
        entry.name[: -len(".parquet")]
        for entry in os.scandir(folder)
        if entry.name.endswith(".parquet") and not entry.name.startswith(".")
    }


def table_files(results_dir: Path, table: str) -> list[Path]:
    """The committed files of a table, sorted (see the commit protocol)."""
    root = Path(results_dir)
    path = root / f"{table}.parquet"
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    ids = part_ids(root, table)
    if table in RUN_PARTS:
        ids &= part_ids(root, "runs")
    elif table == "failures":
        ids -= part_ids(root, "runs")
    return [path / f"{rid}.parquet" for rid in sorted(ids)]


def table_names(results_dir: Path) -> list[str]:
    """Every table of a results folder: the four of a batch, then any other ``*.parquet``."""
    root = Path(results_dir)
    extra = sorted(
        p.name[: -len(".parquet")]
        for p in root.glob("*.parquet")
        if p.name[: -len(".parquet")] not in TABLES and re.fullmatch(r"\w+", p.stem)
    )
    return [*TABLES, *extra]


def table_sql(results_dir: Path, table: str) -> str:
    """A DuckDB ``SELECT`` over a table's committed files (an empty typed table if none)."""
    files = table_files(results_dir, table)
    if files:
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
    cols = EMPTY_COLUMNS.get(table, {"run_id": "VARCHAR"})
    return "SELECT " + ", ".join(f"NULL::{t} AS {c}" for c, t in cols.items()) + " WHERE false"


def read_table(results_dir: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a table of a results folder into pandas, sorted by its key.

    Parameters
    ----------
    results_dir
        The results folder.
    table
        ``runs``, ``timeseries``, ``ledger``, ``failures`` (or another ``*.parquet`` there).
    columns
        Only these columns (default all).
    """
    import duckdb

    sql = table_sql(results_dir, table)
    cols = "*" if columns is None else ", ".join(f'"{c}"' for c in columns)
    con = duckdb.connect()
    try:
        names = [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description]
        keys = [k for k in SORT_KEYS.get(table, ()) if k in names]
        order = (" ORDER BY " + ", ".join(f'"{k}"' for k in keys)) if keys else ""
        frame = con.execute(f"SELECT {cols} FROM ({sql}){order}").df()
    finally:
        con.close()
    return frame.reset_index(drop=True)


def iter_parts(results_dir: Path, table: str) -> Iterator[pa.Table]:
    """Committed part files of a table one at a time (constant memory), in run-id order."""
    import pyarrow.parquet as pq

    for path in table_files(results_dir, table):
        yield pq.read_table(path)


# -- the one-run folder of `abm run --out DIR` -----------------------------------------------


def _label(scenario: str) -> str:
    stem = Path(scenario).stem if scenario.endswith(".toml") else scenario
    label = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")
    return label or "run"


def write_single_run(
    out_dir: Path, result: Any, *, scenario: str, seed: int, spec: Mapping[str, Any]
) -> None:
    """Write the results folder of one run (``abm run --out DIR``), atomically.

    The folder has the batch layout (one run: ``<scenario>-d0000-r000``, replicate 0), so
    ``abm query`` and ``abm report`` work on it. Everything is written into a hidden sibling
    folder first and renamed into place, so ``DIR`` is either complete or absent.

    Parameters
    ----------
    out_dir
        The folder to create; it must not exist or be empty.
    result
        A ``RunResult`` (``timeseries``, ``kpis``, ``ledger``, ``params``).
    scenario
        The scenario name (or file); names the run.
    seed
        The run's seed.
    spec
        What the run was asked for (scenario, overrides, ...), stored in the manifest.

    Raises
    ------
    UserInputError
        When ``out_dir`` exists and is not empty.
    """
    from abm.batch.worker import Task, _success

    out_dir = Path(out_dir)
    ResultStore.check_new(out_dir, resumable=False)
    label = _label(str(scenario))
    params = getattr(result, "params", None) or {}
    task = Task(
        run_id=f"{label}-d0000-r000",
        scenario=label,
        scenario_from=str(scenario),
        design_point=0,
        replicate=0,
        seed=int(seed),
        overrides={},
        columns=(),
    )
    outcome = _success(task, result)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    store = ResultStore(tmp).open()
    try:
        store.write(outcome)
        started = now()
        store.write_manifest(
            {
                "format_version": FORMAT_VERSION,
                "kind": "run",
                "experiment": label,
                "spec": json.loads(json.dumps(dict(spec), default=str)),
                "scenarios": [label],
                "root_seed": int(seed),
                "replicate_seeds": [int(seed)],
                "resolved_params": {label: json.loads(json.dumps(dict(params), default=str))},
                "versions": versions(),
                "git_commit": git_commit(),
                "command": " ".join(sys.argv),
                "started": started,
                "finished": started,
                "status": "complete",
                "counts": {"planned": 1, "done": 1, "failed": 0},
            }
        )
    finally:
        store.close()
    (tmp / LOCK).unlink(missing_ok=True)
    if out_dir.exists():
        out_dir.rmdir()  # empty (checked above); rename cannot replace it on every platform
    os.replace(tmp, out_dir)
