"""Designs: the points of an experiment's uncertainty space (``[design]`` of a study).

Methods
-------
``factorial``
    Every combination of levels: ``[low, high]`` gives ``levels`` (default 3) evenly spaced
    values including both ends; ``values = [...]`` gives exactly those. The first parameter
    varies slowest. ``n`` is not used.
``lhs``
    ``n`` points of a Latin hypercube (:func:`latin_hypercube`, one point per 1/n stratum
    of every parameter), mapped through each parameter's distribution.
``sobol``
    Saltelli's scheme through ``SALib.sample.sobol.sample`` (scrambled Sobol' sequence):
    ``n·(2D+2)`` points with ``second_order`` (default), ``n·(D+2)`` without; ``n`` a power of 2.
``morris``
    ``n`` one-at-a-time trajectories on a ``levels``-grid (default 4),
    ``SALib.sample.morris.sample``: ``n·(D+1)`` points. Distributions must be bounded.
``fast``
    ``SALib.sample.fast_sampler.sample`` (extended FAST, interference ``m``, default 4):
    ``n·D`` points, ``n > 4m²``.
``csv``
    The rows of a user CSV file (``file``, relative to the study file): one column per
    parameter path, one row per design point, in file order.

The samplers draw in the unit hypercube and every column is then mapped through its
distribution's quantile function (:func:`to_values`), so all methods share one set of
distributions and SALib sees the same sample order the design stores: the design point index
*is* the row of the SALib sample matrix. Analyses must sort results by ``design_point`` (never
rely on completion order).

References
----------
McKay, Beckman & Conover (1979), https://doi.org/10.1080/00401706.1979.10489755 (LHS).
Saltelli et al. (2010), https://doi.org/10.1016/j.cpc.2009.09.018 (Sobol' sampling).
Morris (1991), https://doi.org/10.1080/00401706.1991.10484804.
Saltelli, Tarantola & Chan (1999), https://doi.org/10.1080/00401706.1999.10485594 (eFAST).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError

if TYPE_CHECKING:  # pragma: no cover
    from abm.batch.spec import DesignSpec, ParamDist

#: Largest number of design points a study may have.
MAX_POINTS = 10_000_000


def unit_problem(names: list[str]) -> dict[str, Any]:
    """A SALib problem on the unit hypercube (what the samplers draw in)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def salib_problem(design: DesignSpec) -> dict[str, Any]:
    """The SALib problem of a design in parameter units, for the matching analyzer.

    Uniform ranges give ``bounds = [low, high]``; other distributions are given with SALib's
    ``dists`` convention (``triang``: ``[low, high, peak fraction]``, ``norm``: ``[mean, sd]``,
    ``truncnorm``: ``[low, high, mean, sd]``, ``lognorm``: ``[mu, sigma]``); ``values`` map to
    the index range ``[0, k]``.
    """
    names: list[str] = []
    bounds: list[list[float]] = []
    dists: list[str] = []
    for path, d in design.parameters.items():
        names.append(path)
        kind = d.kind
        if kind == "values":
            bounds.append([0.0, float(len(d.values or []))])
            dists.append("unif")
        elif kind == "uniform":
            bounds.append([float(d.low or 0), float(d.high or 0)])
            dists.append("unif")
        elif kind == "triangular":
            lo, hi, mo = float(d.low or 0), float(d.high or 0), float(d.mode or 0)
            bounds.append([lo, hi, (mo - lo) / (hi - lo)])
            dists.append("triang")
        elif kind == "normal" and d.low is not None:
            bounds.append(
                [float(d.low or 0), float(d.high or 0), float(d.mean or 0), float(d.sd or 1)]
            )
            dists.append("truncnorm")
        elif kind == "normal":
            bounds.append([float(d.mean or 0), float(d.sd or 1)])
            dists.append("norm")
        else:
            bounds.append([float(d.mu or 0), float(d.sigma or 1)])
            dists.append("lognorm")
    return {"num_vars": len(names), "names": names, "bounds": bounds, "dists": dists}


def to_values(u: np.ndarray, dist: ParamDist) -> np.ndarray:
    """Map unit-interval samples ``u`` through a parameter's quantile function."""
    kind = dist.kind
    if kind not in ("values", "uniform"):
        from scipy import stats  # only here: importing scipy.stats takes about a second
    if kind == "values":
        levels = list(dist.values or [])
        idx = np.minimum((u * len(levels)).astype(int), len(levels) - 1)
        out = np.empty(len(u), dtype=object)
        out[:] = [levels[i] for i in idx]
        return out
    if kind == "uniform":
        lo, hi = float(dist.low or 0), float(dist.high or 0)
        x = lo + u * (hi - lo)
    elif kind == "triangular":
        lo, hi, mo = float(dist.low or 0), float(dist.high or 0), float(dist.mode or 0)
        x = stats.triang(c=(mo - lo) / (hi - lo), loc=lo, scale=hi - lo).ppf(u)
    elif kind == "normal" and dist.low is not None and dist.high is not None:
        mean, sd = float(dist.mean or 0), float(dist.sd or 1)
        a, b = (dist.low - mean) / sd, (dist.high - mean) / sd
        x = stats.truncnorm(a, b, loc=mean, scale=sd).ppf(u)
    elif kind == "normal":
        x = stats.norm(loc=dist.mean, scale=dist.sd).ppf(u)
    else:
        x = np.exp(stats.norm(loc=dist.mu, scale=dist.sigma).ppf(u))
    if dist.integer:
        x = np.rint(x)
    return np.asarray(x, dtype=float)


def _levels(dist: ParamDist, levels: int) -> list[Any]:
    if dist.kind == "values":
        return list(dist.values or [])
    grid = np.linspace(float(dist.low or 0), float(dist.high or 0), levels)
    if dist.integer:
        grid = np.rint(grid)
    return list(dict.fromkeys(float(x) for x in grid))


def latin_hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points in ``[0, 1)^d``, exactly one in each ``1/n`` stratum of every dimension.

    McKay et al. (1979): per dimension, a random permutation of the strata plus a uniform
    position inside each stratum (as ``scipy.stats.qmc.LatinHypercube`` with ``scramble=True``;
    written out here because importing ``scipy.stats`` costs a second at every start).
    """
    rng = np.random.default_rng(seed)
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return (strata + rng.random((n, d))) / n


def unit_sample(design: DesignSpec, names: list[str], seed: int) -> np.ndarray:
    """The sampler's matrix in the unit hypercube, rows in the sampler's order (``[design.groups]``
    passed on to SALib's Sobol' and Morris samplers)."""
    from abm.batch.spec import group_of

    n = int(design.n or 0)
    if design.method == "lhs":
        return latin_hypercube(n, len(names), seed)
    problem = unit_problem(names)
    groups = group_of(design)
    if groups is not None:
        problem["groups"] = groups
    if design.method == "sobol":
        from SALib.sample import sobol

        second = True if design.second_order is None else design.second_order
        return sobol.sample(problem, n, calc_second_order=second, seed=seed)
    if design.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=design.levels or 4, seed=seed)
    from SALib.sample import fast_sampler

    return fast_sampler.sample(problem, n, M=design.m or 4, seed=seed)


def expected_points(design: DesignSpec) -> int:
    """Number of design points a design will have (csv: unknown before reading, returns -1)."""
    d = len(design.parameters)
    if design.groups and design.method in ("sobol", "morris"):
        from abm.batch.spec import group_of

        d = len(set(group_of(design) or []))
    n = int(design.n or 0)
    if design.method == "factorial":
        return int(
            np.prod([len(_levels(p, design.levels or 3)) for p in design.parameters.values()])
        )
    if design.method == "lhs":
        return n
    if design.method == "sobol":
        return n * (2 * d + 2 if design.second_order in (None, True) else d + 2)
    if design.method == "morris":
        return n * (d + 1)
    if design.method == "fast":
        return n * d
    return -1


def sample_design(
    design: DesignSpec | None,
    *,
    seed: int,
    base_dir: Path,
    integer_paths: Collection[str] = (),
    source: str = "study",
) -> pd.DataFrame:
    """The design points of a study: one row per point (index = design point), one column per
    parameter path.

    Parameters
    ----------
    design
        The ``[design]`` table, or ``None`` for a single point with no parameters.
    seed
        Seed of the sampler (derived from the root seed by :func:`abm.batch.spec.design_seed`).
    base_dir
        Folder that a csv design's ``file`` is relative to.
    integer_paths
        Paths whose values are rounded to integers (integer model parameters).
    source
        The study file, for error messages.
    """
    if design is None:
        return pd.DataFrame(index=pd.RangeIndex(1))
    if design.method == "csv":
        path = base_dir / str(design.file)
        if not path.is_file():
            raise UserInputError(
                f"design.file: {design.file!r} not found next to the study file", source=source
            )
        return read_points(path, source=source)
    expected = expected_points(design)
    if expected > MAX_POINTS:
        raise UserInputError(
            f"design: {expected:,} points is more than the limit of {MAX_POINTS:,}", source=source
        )
    params = {
        p: d.model_copy(update={"integer": True}) if p in integer_paths else d
        for p, d in design.parameters.items()
    }
    names = list(params)
    if design.method == "factorial":
        grids = [_levels(params[p], design.levels or 3) for p in names]
        rows = list(itertools.product(*grids))
        ints = [p for p in names if params[p].integer]
        return _frame({p: [r[i] for r in rows] for i, p in enumerate(names)}, ints)
    unit = np.asarray(unit_sample(design, names, seed), dtype=float)
    columns: dict[str, Any] = {}
    for j, p in enumerate(names):
        values = to_values(unit[:, j], params[p])
        if values.dtype != object and not np.all(np.isfinite(values)):
            raise UserInputError(
                f"design.parameters.{p!r}: the {design.method} sample reaches the unbounded "
                "tail of the distribution; give low and high",
                source=source,
            )
        columns[p] = values
    return _frame(columns, [p for p in names if params[p].integer])


def _frame(columns: Mapping[str, Any], integer: Collection[str] = ()) -> pd.DataFrame:
    """Columns as a frame: integer paths and all-int columns int64, numbers float64, else as is."""
    frame = pd.DataFrame({p: list(v) for p, v in columns.items()}, index=None)
    for p in frame.columns:
        vals = frame[p].tolist()
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)
        if numeric and (p in integer or all(isinstance(v, int) for v in vals)):
            frame[p] = np.rint(np.asarray(vals, dtype=float)).astype("int64")
        elif numeric:
            frame[p] = np.asarray(vals, dtype=float)
    frame.index = pd.RangeIndex(len(frame))
    return frame


def read_points(path: Path, *, source: str = "study") -> pd.DataFrame:
    """Read a user CSV of design points: header of parameter paths, one row per point."""
    if not path.is_file():
        raise UserInputError(f"design.file: {str(path)!r} not found", source=source)
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserInputError(f"not a valid CSV: {first}", source=str(path)) from None
    import csv

    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        header = [c.strip() for c in next(csv.reader(fh), [])]
    if len(header) != len(set(header)):
        dup = next(c for c in header if header.count(c) > 1)
        raise UserInputError(
            f"parameter path {dup!r} appears twice in the header", source=str(path)
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0 or len(frame.columns) == 0:
        raise UserInputError(
            "no design points (need a header and at least one row)", source=str(path)
        )
    bad = [c for c in frame.columns if c.startswith("Unnamed:") or not c]
    if bad:
        raise UserInputError("every column needs a parameter path in the header", source=str(path))
    missing = frame.isna()
    if missing.to_numpy().any():
        row, col = np.argwhere(missing.to_numpy())[0]
        raise UserInputError(
            f"row {row + 2}, column {frame.columns[col]!r} is empty", source=str(path)
        )
    for col in frame.columns:
        if frame[col].dtype.kind in "iu":
            frame[col] = frame[col].astype("int64")
        elif frame[col].dtype.kind == "f":
            frame[col] = frame[col].astype("float64")
        elif frame[col].dtype.kind == "b":
            frame[col] = frame[col].astype(bool)
        else:
            frame[col] = frame[col].astype(object).map(str)
    frame.index = pd.RangeIndex(len(frame))
    return frame
