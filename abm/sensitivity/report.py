"""Analyse a results folder: ``sensitivity.parquet``, convergence, seed share, report.

:func:`analyse_study` analyses the folder of ``abm sensitivity FILE`` with the study's own
design (the sampler's unit-hypercube matrix is regenerated from the spec and its seed, so
Morris steps are exact even for integer or categorical parameters). :func:`analyze_folder`
(``abm sensitivity --analyze DIR``) screens *any* batch folder with the given-data methods
(PAWN, delta, RBD-FAST): every (scenario, design point) is one point, its parameters the
varied numeric columns of ``runs`` (levers and uncertainties alike).

Outputs are averaged over replicates per design point and **sorted by the sampler's index**
before any analysis (:func:`abm.sensitivity.analysis.point_means`), whatever the order the
runs finished or were stored in.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError
from abm.sensitivity.analysis import (
    GIVEN_DATA,
    ConstantOutputWarning,
    Problem,
    analyse,
    convergence,
    point_means,
    seed_share,
)

RESULT_COLUMNS = ("scenario", "output", "year", "method", "parameter", "index", "value", "conf")
IDENT = ("run_id", "scenario", "design_point", "replicate", "seed")
#: Fewer points than this get a warning from ``--analyze`` (given-data estimators need many).
MIN_GIVEN_POINTS = 100


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write one Parquet file atomically (temporary name, then ``os.replace``)."""
    from abm.batch.store import atomic_write_bytes

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def study_problem(plan: Any) -> Problem:
    """The SALib problem of a study's design, with the sampler's unit matrix."""
    from abm.batch.designs import unit_sample
    from abm.batch.spec import design_seed, group_of

    design = plan.spec.design
    names = [str(c) for c in plan.design.columns]
    if design.method in ("factorial", "csv"):  # no sampler to regenerate: the values, ranked
        codes = {
            c: pd.factorize(col, sort=True)[0] if col.dtype == object else col
            for c, col in plan.design.items()
        }
        x = _unit_scale(pd.DataFrame(codes).to_numpy(dtype=float))
    else:
        seed = design_seed(plan.spec.experiment.seed) if design.seed is None else design.seed
        x = np.asarray(unit_sample(design, names, seed), dtype=float)
    return Problem(
        names=names,
        x=x,
        groups=group_of(design),
        levels=design.levels or 4,
        m=design.m or 4,
        second_order=design.second_order in (None, True),
    )


def _unit_scale(x: np.ndarray) -> np.ndarray:
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    return (x - lo) / np.where(hi > lo, hi - lo, 1.0)


def _series(
    runs: pd.DataFrame, ts: pd.DataFrame | None, output: str, years: tuple[int, ...] | None
) -> Iterator[tuple[int | None, pd.DataFrame]]:
    """(year, rows with design_point, replicate, output) for a KPI (year None) or a column."""
    if output in runs.columns:
        yield None, runs[["design_point", "replicate", output]]
        return
    if ts is None:
        return
    merged = ts[["run_id", "year", output]].merge(
        runs[["run_id", "design_point", "replicate"]], on="run_id"
    )
    for year, rows in merged.groupby("year", sort=True):
        y = int(str(year))
        if years is None or y in years:
            yield y, rows


def analyse_points(
    runs: pd.DataFrame,
    ts: pd.DataFrame | None,
    problem: Problem,
    *,
    scenario: str,
    outputs: tuple[str, ...],
    methods: tuple[str, ...],
    years: tuple[int, ...] | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    tolerance: float = 0.05,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Indices, convergence and warnings for the runs of one scenario.

    Returns
    -------
    indices : DataFrame with :data:`RESULT_COLUMNS`
    convergence : DataFrame (same keys plus ``n`` and ``settled``)
    warnings : list of str
    """
    n_points = len(problem.x)
    frames, conv, notes = [], [], []
    opts: dict[str, Any] = {"num_resamples": num_resamples, "conf_level": conf_level, "seed": seed}
    for output in outputs:
        series = list(_series(runs, ts, output, years))
        last_year = series[-1][0] if series else None
        for year, rows in series:
            label = output if year is None else f"{output} {year}"
            y, reps = point_means(rows, output, n_points)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConstantOutputWarning)
                parts = [analyse(m, problem, y, label=label, **opts) for m in methods]
            notes += sorted({str(w.message) for w in caught})
            share = seed_share(reps, seed=seed, conf_level=conf_level)
            parts.append(
                pd.DataFrame(
                    [("replicates", "seed", k, v, c) for k, (v, c) in share.items()],
                    columns=["method", "parameter", "index", "value", "conf"],
                )
            )
            frame = pd.concat(parts, ignore_index=True)
            frame.insert(0, "year", year)
            frame.insert(0, "output", output)
            frames.append(frame)
            if year == last_year and np.isfinite(y).all() and np.nanstd(y) > 0:
                for m in methods:
                    c = convergence(m, problem, y, label=label, tolerance=tolerance, **opts)
                    c.insert(0, "year", year)
                    c.insert(0, "output", output)
                    conv.append(c)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "scenario", scenario)
    cv = pd.concat(conv, ignore_index=True) if conv else pd.DataFrame()
    if not cv.empty:
        cv.insert(0, "scenario", scenario)
    return out, cv, notes


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["year"] = frame["year"].astype("Int64")
    return frame.reset_index(drop=True)


def analyse_study(out_dir: Path, plan: Any, sens: Any, *, quiet: bool = False) -> pd.DataFrame:
    """Analyse the folder of a sensitivity study; write the tables, figures and report."""
    from abm.batch.store import read_table

    problem = study_problem(plan)
    runs = read_table(out_dir, "runs")
    ts_outputs = [o for o in sens.outputs if o not in runs.columns]
    ts = None
    if ts_outputs:
        ts = read_table(out_dir, "timeseries", columns=["run_id", "year", *ts_outputs])
    frames, convs, notes = [], [], []
    for sc in plan.scenarios:
        sub = runs[runs["scenario"] == sc.name]
        res, conv, warn = analyse_points(
            sub,
            ts,
            problem,
            scenario=sc.name,
            outputs=sens.outputs,
            methods=sens.methods,
            years=sens.years,
            num_resamples=sens.num_resamples,
            conf_level=sens.conf_level,
            tolerance=sens.tolerance,
            seed=plan.spec.experiment.seed,
        )
        frames.append(res)
        convs.append(conv)
        notes += [f"{sc.name}: {w}" for w in warn]
    result = _finish(pd.concat(frames, ignore_index=True))
    conv = pd.concat([c for c in convs if not c.empty] or [pd.DataFrame()], ignore_index=True)
    meta = {
        "source": "study",
        "experiment": plan.name,
        "model": plan.model,
        "design": plan.spec.design.method,
        "n": plan.spec.design.n,
        "design_points": len(plan.design),
        "replicates": len(plan.seeds),
        "parameters": problem.names,
        "groups": plan.spec.design.groups,
        "methods": list(sens.methods),
        "outputs": list(sens.outputs),
        "conf_level": sens.conf_level,
        "warnings": notes,
    }
    _write(out_dir, result, conv, meta, quiet=quiet)
    return result


def _write(
    out_dir: Path, result: pd.DataFrame, conv: pd.DataFrame, meta: dict, *, quiet: bool
) -> None:
    from abm.batch.store import write_json
    from abm.sensitivity.figures import write_report

    write_parquet(result, out_dir / "sensitivity.parquet")
    if not conv.empty:
        conv = _finish(conv)
        write_parquet(conv, out_dir / "convergence.parquet")
    write_json(out_dir / "sensitivity.json", meta)
    report = write_report(out_dir, result, conv, meta)
    if not quiet:
        for note in meta["warnings"]:
            print(f"warning: {note}")
        print(f"sensitivity indices: {out_dir / 'sensitivity.parquet'}; report: {report}")


# -- abm sensitivity --analyze DIR --------------------------------------------------------------


def _varied_numeric(runs: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    params = [str(p) for p in manifest.get("parameter_columns", []) if p in runs.columns]
    keep = []
    for p in params:
        col = runs[p]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            if col.nunique(dropna=True) > 1:
                keep.append(p)
    return keep


def analyze_folder(
    results: Path | str,
    *,
    methods: list[str] | None = None,
    outputs: list[str] | None = None,
    quiet: bool = False,
) -> pd.DataFrame:
    """PAWN, delta and RBD-FAST on any batch folder; see the module docstring.

    Raises
    ------
    UserInputError
        Not a results folder, an unknown or design-bound method, an output not in ``runs``,
        or no varied numeric parameter; nothing is written then.
    """
    from abm.batch.store import read_manifest, read_table
    from abm.reporters import HEADLINE_KPIS

    out_dir = Path(results)
    manifest = read_manifest(out_dir) if out_dir.is_dir() else None
    if manifest is None:
        raise UserInputError(
            f"{out_dir} is not a results folder (no manifest.json)", source="--analyze"
        )
    chosen = tuple(dict.fromkeys(methods or GIVEN_DATA))
    for m in chosen:
        if m not in GIVEN_DATA:
            raise UserInputError(
                f"--method {m!r}: --analyze takes the methods that need no special design: "
                f"{', '.join(GIVEN_DATA)}",
                source="command line",
            )
    runs = read_table(out_dir, "runs")
    kpis = [
        c
        for c in runs.columns
        if c not in IDENT
        and c not in manifest.get("parameter_columns", [])
        and pd.api.types.is_float_dtype(runs[c])
    ]
    wanted = tuple(outputs or [k for k in HEADLINE_KPIS if k in kpis] or kpis)
    for o in wanted:
        if o not in kpis:
            raise UserInputError(
                f"--output {o!r} is not a KPI of {out_dir}/runs.parquet", source="command line"
            )
    params = _varied_numeric(runs, manifest)
    if not params:
        raise UserInputError(
            f"{out_dir}: no numeric parameter varies between runs; nothing to screen",
            source="--analyze",
        )
    keys = (
        runs[["scenario", "design_point"]]
        .drop_duplicates()
        .sort_values(["scenario", "design_point"])
        .reset_index(drop=True)
    )
    keys["point"] = np.arange(len(keys))
    pooled = runs.merge(keys, on=["scenario", "design_point"])
    x = pooled.groupby("point")[params].first().sort_index().to_numpy(dtype=float)
    pooled = pooled.drop(columns="design_point").rename(columns={"point": "design_point"})
    problem = Problem(names=params, x=_unit_scale(x))
    res, _, notes = analyse_points(
        pooled,
        None,
        problem,
        scenario="all",
        outputs=wanted,
        methods=chosen,
        seed=int(manifest.get("root_seed", 0) or 0),
    )
    if len(keys) < MIN_GIVEN_POINTS:
        notes.insert(
            0,
            f"only {len(keys)} scenario × design points: given-data indices need a sample of "
            f"hundreds (e.g. an LHS design); read these as a rough screening at best",
        )
    result = _finish(res)
    previous = out_dir / "sensitivity.parquet"
    if previous.is_file():  # keep a study's own indices, replace this screening's
        old = pd.read_parquet(previous)
        drop = (old["scenario"] == "all") & old["method"].isin([*chosen, "replicates"])
        result = _finish(pd.concat([old[~drop], result], ignore_index=True))
    meta = {
        "source": "analyze",
        "experiment": manifest.get("experiment"),
        "model": manifest.get("model"),
        "design": "given data (every scenario and design point)",
        "design_points": len(keys),
        "replicates": int(runs["replicate"].nunique()),
        "parameters": params,
        "methods": list(chosen),
        "outputs": list(wanted),
        "conf_level": 0.95,
        "warnings": notes,
    }
    _write(out_dir, result, pd.DataFrame(), meta, quiet=quiet)
    return result
