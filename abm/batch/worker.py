"""Worker side of a batch: run one task, return its rows as Arrow tables, never raise.

This module runs inside worker processes (a spawned process pool or Dask workers), so it
imports only the standard library at module level: the pool initializer can then cap the
BLAS/OpenMP thread pools before numpy is first imported. Heavy imports (pyarrow, pandas, the
model) happen inside :func:`run_task`.

A task is plain data (:class:`Task`); the outcome (:class:`Outcome`) carries one row for
``runs`` or ``failures`` plus the run's ``timeseries`` and ``ledger`` rows. Every column type
is fixed by the task (varied parameters) or by the rule in :func:`_arrow_table`, so part files
written by different workers, in any order, concatenate into identical tables.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: The model key that means "this package's model" (``abm.run.run_model``).
ABM_MODEL = "abm"

#: Lines of traceback kept in ``failures.parquet``.
TRACEBACK_LINES = 25

#: Environment variables that cap native thread pools in workers (one run = one core).
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@dataclass(frozen=True, slots=True)
class Task:
    """One run of a batch: everything a worker needs, nothing it must look up.

    Attributes
    ----------
    run_id
        ``<scenario>-d<design point>-r<replicate>``, derived from the spec only.
    scenario
        Scenario name (the lever).
    scenario_from
        For ``model = "abm"``: a built-in scenario name or the absolute path of a scenario
        TOML file, passed to ``abm.scenario.resolve_params``; ``None`` for the defaults.
    design_point, replicate, seed
        Row of the design, replicate index, and the replicate's seed (common random numbers:
        the same seed for every scenario and design point).
    overrides
        Parameter path -> value: ``[base]``, then the scenario's ``set``, then the design point.
    model
        ``"abm"`` or ``"package.module:function"``.
    sys_path
        Folders appended to ``sys.path`` before importing a user model (study folder, cwd).
    columns
        ``(path, type)`` of every varied parameter, type in ``{"int", "float", "bool", "str"}``:
        the parameter columns of ``runs`` and ``failures``, typed the same in every part file.
    save_timeseries, save_ledger
        Whether to return the run's timeseries (and its per-zone ``zones`` rows, when the model
        returns them) and ledger rows.
    defaults
        Values of varied parameters that the overrides do not set (those of the scenario's
        ``from``), for the parameter columns of a failed run.
    """

    run_id: str
    scenario: str
    scenario_from: str | None
    design_point: int
    replicate: int
    seed: int
    overrides: Mapping[str, Any]
    model: str = ABM_MODEL
    sys_path: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    save_timeseries: bool = True
    save_ledger: bool = True
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """What a worker sends back for one task (small: one run's rows)."""

    run_id: str
    ok: bool
    runs: pa.Table | None = None
    timeseries: pa.Table | None = None
    ledger: pa.Table | None = None
    zones: pa.Table | None = None
    failure: pa.Table | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    error: str = field(default="")


def init_worker(sys_path: tuple[str, ...] = ()) -> None:
    """Process-pool initializer: one thread per native pool, user model folders on the path,
    and a watchdog that ends the worker when its parent dies (``kill -9`` of a batch must not
    leave orphans burning CPU)."""
    for name in THREAD_ENV:
        os.environ.setdefault(name, "1")
    _extend_sys_path(sys_path)
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="abm-parent-watchdog", daemon=True).start()


def warm_up(model: str, sys_path: tuple[str, ...] = ()) -> int:
    """Import the model in a worker before the clock of the first run starts; return the pid."""
    _extend_sys_path(sys_path)
    resolve_model(model)
    return os.getpid()


def _extend_sys_path(paths: tuple[str, ...]) -> None:
    for p in paths:
        if p not in sys.path:
            sys.path.append(p)


_MODEL_CACHE: dict[str, Callable[[Task], Any]] = {}


def resolve_model(model: str) -> Callable[[Task], Any]:
    """Return ``call(task) -> result`` for a model key (cached per process).

    ``"abm"`` resolves the task's scenario and overrides with ``abm.scenario.resolve_params``
    and calls ``abm.run.run_model(params, seed=task.seed)``. ``"package.module:function"``
    calls ``function(dict(task.overrides), task.seed)``.
    """
    if model in _MODEL_CACHE:
        return _MODEL_CACHE[model]
    if model == ABM_MODEL:
        from pathlib import Path

        from abm.run import run_model  # imported here, once: warm_up pays for it
        from abm.scenario import resolve_params

        def call(task: Task) -> Any:
            sfrom = task.scenario_from
            scenario = Path(sfrom) if sfrom and sfrom.endswith(".toml") else sfrom
            params = resolve_params(scenario, dict(task.overrides), source=task.run_id)
            return run_model(params, seed=task.seed)

    else:
        module_name, _, func_name = model.partition(":")
        func = getattr(importlib.import_module(module_name), func_name)

        def call(task: Task) -> Any:
            return func(dict(task.overrides), task.seed)

    _MODEL_CACHE[model] = call
    return call


def run_task(task: Task) -> Outcome:
    """Run one task; an exception becomes a failure row, never propagates."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        _extend_sys_path(task.sys_path)
        result = resolve_model(task.model)(task)
        outcome = _success(task, result)
    except Exception as exc:  # isolating runs is the point: record it, the batch goes on
        outcome = failure_outcome(task, exc)
    outcome.cpu_s = time.process_time() - cpu0
    outcome.wall_s = time.perf_counter() - wall0
    return outcome


# -- rows ------------------------------------------------------------------------------------


def _identity(task: Task) -> dict[str, Any]:
    return {
        "run_id": task.run_id,
        "scenario": task.scenario,
        "design_point": task.design_point,
        "replicate": task.replicate,
        "seed": task.seed,
    }


_IDENTITY_TYPES = {
    "run_id": "str",
    "scenario": "str",
    "design_point": "int",
    "replicate": "int",
    "seed": "int",
}


def cast_value(value: Any, kind: str) -> Any:
    """Cast a parameter value to its column type (``None`` stays null)."""
    if value is None:
        return None
    if kind == "float":
        return float(value)
    if kind == "int":
        return round(value) if isinstance(value, float) else int(value)
    if kind == "bool":
        return bool(value)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _param_values(task: Task, resolved: Mapping[str, Any] | None) -> dict[str, Any]:
    """Varied parameter columns: the model's resolved values where it reports them."""
    out: dict[str, Any] = {}
    for path, kind in task.columns:
        if resolved is not None and path in resolved:
            value = resolved[path]
        else:
            value = task.overrides.get(path, task.defaults.get(path))
        out[path] = cast_value(value, kind)
    return out


def _row_table(values: Mapping[str, Any], kinds: Mapping[str, str]) -> pa.Table:
    import pyarrow as pa

    arrow = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
    arrays = [pa.array([v], type=arrow[kinds[k]]) for k, v in values.items()]
    return pa.Table.from_arrays(arrays, names=list(values))


def _kpi_kind(value: Any) -> tuple[Any, str]:
    if isinstance(value, bool):
        return float(value), "float"
    if isinstance(value, int | float):
        return float(value), "float"
    if value is None:
        return None, "float"
    try:  # numpy scalars
        return float(value), "float"
    except (TypeError, ValueError):
        return str(value), "str"


def runs_row(task: Task, kpis: Mapping[str, Any], resolved: Mapping[str, Any] | None) -> pa.Table:
    """The one-row ``runs`` table: identity, varied parameters, every KPI (float64)."""
    values = _identity(task)
    kinds = dict(_IDENTITY_TYPES)
    params = _param_values(task, resolved)
    values.update(params)
    kinds.update(dict(task.columns))
    for name, raw in kpis.items():
        if name in values:
            raise ValueError(f"KPI {name!r} clashes with a runs column of the same name")
        values[name], kinds[name] = _kpi_kind(raw)
    return _row_table(values, kinds)


def _arrow_table(frame: Any, run_id: str) -> pa.Table | None:
    """A model DataFrame as an Arrow table with ``run_id`` first and stable column types.

    Integer columns -> int64, floats -> float64, booleans -> bool, anything else -> string.
    Empty frames return ``None`` (no part file is written for them).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if frame is None:
        return None
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    if len(frame) == 0:
        return None
    names = ["run_id"]
    arrays = [pa.array([run_id] * len(frame), type=pa.string())]
    for name in frame.columns:
        if name == "run_id":
            continue
        col = frame[name]
        kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else None
        if kind is None and pd.api.types.is_numeric_dtype(col.dtype):
            kind = "b" if pd.api.types.is_bool_dtype(col.dtype) else "f"
            if pd.api.types.is_integer_dtype(col.dtype) and not col.isna().any():
                kind = "i"
        if kind in ("i", "u"):
            arr = pa.array(col.to_numpy(dtype="int64"), type=pa.int64())
        elif kind == "f":
            arr = pa.array(col.to_numpy(dtype="float64", na_value=np.nan), type=pa.float64())
        elif kind == "b":
            arr = pa.array(col.to_numpy(dtype=bool), type=pa.bool_())
        else:
            arr = pa.array([None if v is None else str(v) for v in col.tolist()], pa.string())
        names.append(str(name))
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=names)


def _success(task: Task, result: Any) -> Outcome:
    if isinstance(result, Mapping):
        kpis, timeseries, ledger, resolved, zones = result, None, None, None, None
    elif hasattr(result, "kpis"):
        kpis = result.kpis
        timeseries = getattr(result, "timeseries", None)
        ledger = getattr(result, "ledger", None)
        zones = getattr(result, "zones", None)
        resolved = getattr(result, "params", None)
        if resolved is not None and not isinstance(resolved, Mapping):
            resolved = None
    else:
        raise TypeError(
            f"model {task.model!r} returned {type(result).__name__}; expected a dict of scalars "
            "or an object with .kpis (and optionally .timeseries, .ledger, .params)"
        )
    return Outcome(
        run_id=task.run_id,
        ok=True,
        runs=runs_row(task, kpis, resolved),
        timeseries=_arrow_table(timeseries, task.run_id) if task.save_timeseries else None,
        ledger=_arrow_table(ledger, task.run_id) if task.save_ledger else None,
        zones=_arrow_table(zones, task.run_id) if task.save_timeseries else None,
    )


def failure_outcome(task: Task, exc: BaseException) -> Outcome:
    """The ``failures`` row of a task: identity, parameters, error type, message, traceback."""
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(tb).rstrip().splitlines()[-TRACEBACK_LINES:]
    values = _identity(task)
    kinds = dict(_IDENTITY_TYPES)
    values.update(_param_values(task, None))
    kinds.update(dict(task.columns))
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    extra = {
        "parameters": json.dumps(dict(task.overrides), sort_keys=True, default=_json_default),
        "error_type": type(exc).__name__,
        "error_message": message,
        "traceback": "\n".join(tail),
    }
    values.update(extra)
    kinds.update(dict.fromkeys(extra, "str"))
    return Outcome(
        run_id=task.run_id,
        ok=False,
        failure=_row_table(values, kinds),
        error=f"{type(exc).__name__}: {message}",
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
