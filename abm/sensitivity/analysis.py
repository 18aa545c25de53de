"""SALib analysers on a results folder's outputs: tidy index rows, seed share, convergence.

Every function here takes outputs that are already **in the sampler's order** (one value per
design point, averaged over replicates by :func:`point_means`) and returns tidy rows
``method, parameter, index, value, conf`` — SALib does the statistics, this module only
arranges its inputs and outputs. ``conf`` is SALib's bootstrap half-width at ``conf_level``.

Index names per method: ``sobol`` — ``S1``, ``ST``, ``S2`` (parameter ``"a,b"``); ``morris`` —
``mu``, ``mu_star`` (conf), ``sigma``; ``fast`` (eFAST) — ``S1``, ``ST``; ``rbd_fast`` — ``S1``;
``pawn`` — ``median``, ``mean``, ``maximum``, ``CV``; ``delta`` — ``delta``, ``S1``.
The seed rows (method ``replicates``, parameter ``seed``) hold ``seed_share`` and
``seed_share_of_mean`` (:func:`seed_share`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Analysers and the designs they need (``None``: any design, "given data").
METHODS: dict[str, tuple[str, ...] | None] = {
    "sobol": ("sobol",),
    "morris": ("morris",),
    "fast": ("fast",),
    "rbd_fast": None,
    "pawn": None,
    "delta": None,
}
#: Methods that take no special design (``abm sensitivity --analyze``).
GIVEN_DATA = ("rbd_fast", "pawn", "delta")
#: Methods whose analysis uses SALib's ``groups``.
GROUPED = ("sobol", "morris")
#: The headline index of each method (bars, convergence).
MAIN_INDEX = {
    "sobol": ("S1", "ST"),
    "morris": ("mu_star",),
    "fast": ("S1", "ST"),
    "rbd_fast": ("S1",),
    "pawn": ("median",),
    "delta": ("delta",),
}
COLUMNS = ("method", "parameter", "index", "value", "conf")
#: Bootstrap resamples of the delta method at most (its cost grows with N²).
DELTA_RESAMPLES = 20


class ConstantOutputWarning(UserWarning):
    """An output does not vary over the design: its indices are NaN."""


@dataclass(frozen=True)
class Problem:
    """What the analysers need besides the outputs.

    Attributes
    ----------
    names
        Parameter paths, in design column order.
    x
        The sample matrix in the unit hypercube (rows = design points, sampler order).
    groups
        SALib's group of each parameter (``None``: no groups).
    levels, m
        Morris grid levels and eFAST interference factor of the design.
    second_order
        Whether a Sobol' design has the second-order columns.
    """

    names: list[str]
    x: np.ndarray
    groups: list[str] | None = None
    levels: int = 4
    m: int = 4
    second_order: bool = True

    def salib(self, grouped: bool) -> dict[str, Any]:
        """SALib's problem dict (unit bounds; ``groups`` for the grouped methods)."""
        out: dict[str, Any] = {
            "num_vars": len(self.names),
            "names": list(self.names),
            "bounds": [[0.0, 1.0]] * len(self.names),
        }
        if grouped and self.groups is not None:
            out["groups"] = list(self.groups)
        return out

    def factor_names(self, method: str) -> list[str]:
        """Names the method reports on: groups (in first-appearance order) or parameters."""
        if method in GROUPED and self.groups is not None:
            return list(dict.fromkeys(self.groups))
        return list(self.names)

    def block(self, method: str) -> int:
        """Rows per base sample (Sobol'), per trajectory (Morris); 1 for given data."""
        g = len(self.factor_names(method))
        if method == "sobol":
            return 2 * g + 2 if self.second_order else g + 2
        if method == "morris":
            return g + 1
        return 1


def point_means(runs: pd.DataFrame, output: str, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Per design point, the mean over replicates, **sorted by the sampler's index**.

    Parameters
    ----------
    runs
        Rows with ``design_point``, ``replicate`` and ``output``, in any order (parallel runs
        finish in any order; the order of this frame never matters).
    output
        The column to average.
    n_points
        Number of design points; points without a value get NaN.

    Returns
    -------
    means : ndarray, shape (n_points,)
    replicates : ndarray, shape (n_points, R)
        The replicate values (NaN where a run failed or gave NaN), columns by replicate.
    """
    wide = runs.pivot_table(
        index="design_point", columns="replicate", values=output, aggfunc="first", dropna=False
    )
    wide = wide.reindex(index=range(n_points))
    wide = wide.reindex(columns=sorted(wide.columns))
    values = wide.to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
        means = np.nanmean(values, axis=1) if values.shape[1] else np.full(n_points, np.nan)
    return means, values


def seed_share(
    reps: np.ndarray, *, n_boot: int = 200, seed: int = 0, conf_level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Share of output variance due to the seed (one-way ANOVA over design points).

    With ``R`` replicates per point, ``σ²_w`` = mean within-point variance (ddof 1) and
    ``σ²_b = Var(point means) − σ²_w / R`` (clipped at 0). Returns ``seed_share =
    σ²_w / (σ²_w + σ²_b)`` (of one run's variance) and ``seed_share_of_mean = (σ²_w / R) /
    Var(point means)`` (the noise left in the averaged outputs that the indices are computed
    on), each with a bootstrap half-width over design points. NaN with fewer than 2 replicates.
    """
    ok = reps[np.isfinite(reps).all(axis=1)]
    nan = (float("nan"), float("nan"))
    if ok.shape[1] < 2 or ok.shape[0] < 3:
        return {"seed_share": nan, "seed_share_of_mean": nan}

    def shares(block: np.ndarray) -> tuple[float, float]:
        r = block.shape[1]
        within = float(np.mean(np.var(block, axis=1, ddof=1)))
        var_means = float(np.var(block.mean(axis=1), ddof=1))
        between = max(var_means - within / r, 0.0)
        total = within + between
        one = within / total if total > 0 else float("nan")
        mean = min((within / r) / var_means, 1.0) if var_means > 0 else float("nan")
        return one, mean

    est = shares(ok)
    rng = np.random.default_rng(seed)
    boots = np.array([shares(ok[rng.integers(0, len(ok), len(ok))]) for _ in range(n_boot)])
    alpha = (1 - conf_level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(boots, [alpha, 1 - alpha], axis=0)
    return {
        "seed_share": (est[0], float(hi[0] - lo[0]) / 2),
        "seed_share_of_mean": (est[1], float(hi[1] - lo[1]) / 2),
    }


def salib_seed(seed: int) -> int:
    """A seed SALib honours: some analysers test ``if seed:``, so 0 would mean *unseeded*."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def _rows(method: str, names: Sequence[str], si: Any, keys: Sequence[tuple[str, str | None]]):
    out = []
    for key, conf_key in keys:
        if key not in si:
            continue
        vals = np.asarray(si[key], dtype=float)
        confs = (
            np.asarray(si[conf_key], dtype=float)
            if conf_key and conf_key in si
            else np.full(len(names), np.nan)
        )
        for name, v, c in zip(names, vals, confs, strict=True):
            out.append((method, name, key, float(v), float(c)))
    return out


def _sobol(problem: Problem, y: np.ndarray, opts: dict[str, Any]) -> list[tuple]:
    from SALib.analyze import sobol

    names = problem.factor_names("sobol")
    si = sobol.analyze(problem.salib(True), y, calc_second_order=problem.second_order, **opts)
    rows = _rows("sobol", names, si, [("S1", "S1_conf"), ("ST", "ST_conf")])
    if problem.second_order:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append(
                    (
                        "sobol",
                        f"{names[i]},{names[j]}",
                        "S2",
                        float(si["S2"][i, j]),
                        float(si["S2_conf"][i, j]),
                    )
                )
    return rows


def _morris(problem: Problem, y: np.ndarray, x: np.ndarray, opts: dict[str, Any]) -> list:
    from SALib.analyze import morris

    si = morris.analyze(problem.salib(True), x, y, num_levels=problem.levels, **opts)
    keys = [("mu", None), ("mu_star", "mu_star_conf"), ("sigma", None)]
    return _rows("morris", problem.factor_names("morris"), si, keys)


def _fast(problem: Problem, y: np.ndarray, opts: dict[str, Any]) -> list:
    from SALib.analyze import fast

    si = fast.analyze(problem.salib(False), y, M=problem.m, **opts)
    return _rows("fast", problem.names, si, [("S1", "S1_conf"), ("ST", "ST_conf")])


def _rbd_fast(problem: Problem, y: np.ndarray, x: np.ndarray, opts: dict[str, Any]) -> list:
    from SALib.analyze import rbd_fast

    si = rbd_fast.analyze(problem.salib(False), x, y, **opts)
    return _rows("rbd_fast", problem.names, si, [("S1", "S1_conf")])


def _pawn(problem: Problem, y: np.ndarray, x: np.ndarray, opts: dict[str, Any]) -> list:
    from SALib.analyze import pawn

    si = pawn.analyze(problem.salib(False), x, y, seed=opts.get("seed"))
    keys = [("median", None), ("mean", None), ("maximum", None), ("CV", None)]
    return _rows("pawn", problem.names, si, keys)


def _delta(problem: Problem, y: np.ndarray, x: np.ndarray, opts: dict[str, Any]) -> list:
    from SALib.analyze import delta

    # delta's bootstrap is quadratic in the sample: 100 resamples of 2,000 points take ~30 s
    opts = {**opts, "num_resamples": min(int(opts["num_resamples"]), DELTA_RESAMPLES)}
    # record=True: SALib's delta sets simplefilter("once") and warns per merged bin; keep quiet
    with warnings.catch_warnings(record=True):
        si = dict(delta.analyze(problem.salib(False), x, y, **opts))
    if "delta" not in si and "delta_raw" in si:  # SALib ≥ 1.5: Borgonovo's estimator = raw
        si["delta"], si["delta_conf"] = si["delta_raw"], si["delta_raw_conf"]
    return _rows("delta", problem.names, si, [("delta", "delta_conf"), ("S1", "S1_conf")])


def _nan_rows(method: str, problem: Problem) -> list[tuple]:
    """The rows a method would give, all NaN (constant or incomplete output)."""
    keys = {
        "sobol": ("S1", "ST"),
        "morris": ("mu", "mu_star", "sigma"),
        "fast": ("S1", "ST"),
        "rbd_fast": ("S1",),
        "pawn": ("median", "mean", "maximum", "CV"),
        "delta": ("delta", "S1"),
    }[method]
    names = problem.factor_names(method)
    rows = [(method, n, k, np.nan, np.nan) for k in keys for n in names]
    if method == "sobol" and problem.second_order:
        rows += [
            (method, f"{a},{b}", "S2", np.nan, np.nan)
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        ]
    return rows


def analyse(
    method: str,
    problem: Problem,
    y: np.ndarray,
    *,
    label: str = "output",
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One SALib analysis of ``y`` (one value per design point, in the sampler's order).

    A constant output, or one with missing values where the method needs every point
    (Sobol', Morris, eFAST), gives NaN indices and a warning naming ``label``; given-data
    methods drop the missing points.

    Returns
    -------
    DataFrame with columns :data:`COLUMNS`.
    """
    y = np.asarray(y, dtype=float)
    x = problem.x
    finite = np.isfinite(y)
    if not finite.all():
        if METHODS[method] is not None:
            warnings.warn(
                f"{label}: {int((~finite).sum())} of {len(y)} design points have no value; "
                f"{method} needs every point, its indices are NaN",
                ConstantOutputWarning,
                stacklevel=2,
            )
            return pd.DataFrame(_nan_rows(method, problem), columns=COLUMNS)
        x, y = x[finite], y[finite]
    if len(y) < 3 or np.nanstd(y) <= 1e-12 * max(1.0, float(np.nanmax(np.abs(y)))):
        warnings.warn(
            f"{label}: the output is constant over the design; {method} indices are NaN",
            ConstantOutputWarning,
            stacklevel=2,
        )
        return pd.DataFrame(_nan_rows(method, problem), columns=COLUMNS)
    opts = {"num_resamples": num_resamples, "conf_level": conf_level, "seed": salib_seed(seed)}
    runners: dict[str, Callable[[], list]] = {
        "sobol": lambda: _sobol(problem, y, opts),
        "morris": lambda: _morris(problem, y, x, opts),
        "fast": lambda: _fast(problem, y, opts),
        "rbd_fast": lambda: _rbd_fast(problem, y, x, opts),
        "pawn": lambda: _pawn(problem, y, x, opts),
        "delta": lambda: _delta(problem, y, x, opts),
    }
    from threadpoolctl import threadpool_limits

    # one BLAS thread: SALib's delta and PAWN make thousands of tiny linear-algebra calls,
    # which multithreaded BLAS slows down 10-20 times (spin-waiting) on a busy machine
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # SALib warns on every eFAST call that its bootstrap intervals are indicative only;
        # docs/sensitivity.md says so once
        warnings.filterwarnings("ignore", message="FAST confidence intervals")
        try:
            rows = runners[method]()
        except (ValueError, IndexError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
            # SALib refuses designs too small for the method (e.g. RBD-FAST with < 2M points)
            warnings.warn(
                f"{label}: {method} failed on {len(y)} points ({exc}); its indices are NaN",
                ConstantOutputWarning,
                stacklevel=2,
            )
            rows = _nan_rows(method, problem)
    return pd.DataFrame(rows, columns=COLUMNS)


def subset(problem: Problem, y: np.ndarray, method: str, fraction: float) -> tuple[Problem, Any]:
    """The first ``fraction`` of a design, cut at whole base samples / trajectories."""
    block = problem.block(method)
    units = len(y) // block
    keep = max(1, int(units * fraction)) * block
    sub = Problem(
        problem.names,
        problem.x[:keep],
        problem.groups,
        problem.levels,
        problem.m,
        problem.second_order,
    )
    return sub, y[:keep]


def convergence(
    method: str,
    problem: Problem,
    y: np.ndarray,
    *,
    label: str = "output",
    fractions: Sequence[float] = (0.25, 0.5, 1.0),
    tolerance: float = 0.05,
    **opts: Any,
) -> pd.DataFrame:
    """The headline indices at N/4, N/2 and N, with ``settled`` flags.

    An index has settled when (a) its change from N/2 to N is within its own 95 % interval
    at N or within ``tolerance`` × the largest index of that kind, and (b) that interval is
    narrower than a quarter of the largest index (an index known only to ± its own size has
    not settled, however little it moved). eFAST cannot be subsampled (its search curves
    need every point) and delta is too costly to estimate three times (its bootstrap is
    quadratic in N; its interval is reported): both return an empty frame.
    """
    if method in ("fast", "delta"):
        return pd.DataFrame(columns=[*COLUMNS, "n", "settled"])
    frames = []
    for frac in fractions:
        sub, ys = subset(problem, y, method, frac)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = analyse(method, sub, ys, label=label, **opts)
            except Exception:  # too few points for the method at this size: no estimate
                res = pd.DataFrame(_nan_rows(method, sub), columns=COLUMNS)
        res = res[res["index"].isin(MAIN_INDEX[method])].copy()
        res["n"] = len(ys) // problem.block(method)
        frames.append(res)
    out = pd.concat(frames, ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=[*COLUMNS, "n", "settled"])
    sizes = sorted(out["n"].unique())
    last = out[out["n"] == sizes[-1]]
    half = out[out["n"] == sizes[-2 if len(sizes) > 1 else -1]]
    key = ["parameter", "index"]
    both = last.merge(half, on=key, suffixes=("", "_half"))
    scale = both.groupby("index")["value"].transform(lambda v: np.nanmax(np.abs(v)))
    change = (both["value"] - both["value_half"]).abs()
    conf = both["conf"].fillna(0)
    ok = ((change <= conf) | (change <= tolerance * scale)) & (conf <= 0.25 * scale)
    settled = dict(zip(zip(both["parameter"], both["index"], strict=True), ok, strict=True))
    pairs = zip(out["parameter"], out["index"], strict=True)
    out["settled"] = [bool(settled.get(pair, False)) for pair in pairs]
    return out
