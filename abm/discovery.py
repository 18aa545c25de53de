"""Scenario discovery (``abm discover``): where in the space of uncertainties and levers is an
outcome of interest reached — e.g. ``soc_change_permille_mean >= 4``?

Cases are the design points of a results folder (every scenario × design point; the KPI is
averaged over replicates, which share their seeds across points). Inputs are the varied
numeric parameters of ``runs`` (levers and uncertainties alike).

Methods
-------
``prim``
    The Patient Rule Induction Method (Friedman & Fisher 1999) of the EMA Workbench
    (``ema_workbench.analysis.prim``; BSD-3): peel the box that holds the cases of interest
    until its density reaches ``density``, recording the peeling trajectory (coverage vs
    density). The chosen box is the first on the trajectory with density ≥ ``density`` —
    the one with the largest coverage among those dense enough — or the densest box when
    none reaches it. Its **stability** is measured by rerunning
    PRIM on bootstrap resamples of the cases: how often each parameter is restricted, the
    spread of its limits, and the coverage and density of the resampled boxes on all cases.
``cart``
    A classification tree (scikit-learn ``DecisionTreeClassifier``, leaves ≥ 5 % of cases):
    every leaf where the cases of interest are the majority is a box, with its coverage,
    density and mass.

Both report **feature scores**: the impurity importance of an extra-trees classifier
(scikit-learn), the EMA Workbench's default feature scoring.

Definitions: *coverage* = cases of interest in the box / all cases of interest; *density* =
cases of interest in the box / cases in the box; *mass* = cases in the box / all cases.

Outputs in ``DIR/discovery/``: ``box.csv`` (parameter, low, high, restricted), ``box.json``
(coverage, density, mass, the rule), ``peeling_trajectory.csv`` and ``.png`` (PRIM),
``stability.csv``, ``feature_scores.csv``, ``cart_boxes.csv`` (CART).

References
----------
Friedman & Fisher (1999), https://doi.org/10.1023/A:1008894516817 (PRIM).
Bryant & Lempert (2010), https://doi.org/10.1016/j.techfore.2009.08.002 (scenario discovery).
Kwakkel (2017), https://doi.org/10.1016/j.envsoft.2017.06.054 (EMA Workbench).
Breiman et al. (1984), Classification and Regression Trees (CART).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError

IDENT = ("run_id", "scenario", "design_point", "replicate", "seed")
INSTALL = "install the analysis extra: pip install 'abm-4p1000[analysis]'"


@dataclass
class Box:
    """A box of the input space and how well it captures the cases of interest.

    Attributes
    ----------
    limits
        One row per parameter: ``parameter, low, high, restricted`` (the box's bounds; a
        parameter is restricted when its bound is inside the observed range).
    coverage, density, mass
        See the module docstring (shares, 0-1).
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    extra: dict[str, Any] = field(default_factory=dict)

    def rule(self) -> str:
        """The box as a readable rule: ``a in [lo, hi] and b >= lo ...``."""
        parts = [
            f"{r.parameter} in [{r.low:.4g}, {r.high:.4g}]"
            for r in self.limits.itertuples()
            if r.restricted
        ]
        return " and ".join(parts) or "(no restriction)"


def load_cases(
    results: Path | str, output: str, above: float | None, below: float | None
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """Inputs ``x`` (one row per scenario × design point), the boolean cases of interest and
    the KPI (mean over replicates). Raises :class:`UserInputError` for bad arguments."""
    from abm.batch.store import read_manifest, read_table

    folder = Path(results)
    cl = "command line"
    if (above is None) == (below is None):
        raise UserInputError("give exactly one of --above X or --below X", source=cl)
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        raise UserInputError(f"{folder} is not a results folder (no manifest.json)", source=cl)
    runs = read_table(folder, "runs")
    if output not in runs.columns or output in IDENT:
        kpis = [c for c in runs.columns if c not in IDENT and runs[c].dtype.kind == "f"]
        raise UserInputError(
            f"--output {output!r} is not a KPI of {folder}; e.g. {', '.join(kpis[:6])}", source=cl
        )
    params = [
        str(p)
        for p in manifest.get("parameter_columns", [])
        if p in runs.columns and runs[p].dtype.kind in "if" and runs[p].nunique(dropna=True) > 1
    ]
    if not params:
        raise UserInputError(f"{folder}: no numeric parameter varies between runs", source=cl)
    grouped = runs.groupby(["scenario", "design_point"], sort=True)
    x = grouped[params].first().reset_index(drop=True).astype(float)
    y = grouped[output].mean().reset_index(drop=True)
    ok = y.notna().to_numpy()
    x, y = x[ok].reset_index(drop=True), y[ok].reset_index(drop=True)
    hit = (y >= above).to_numpy() if above is not None else (y <= below).to_numpy()
    if hit.all() or not hit.any():
        share = "every" if hit.all() else "no"
        raise UserInputError(
            f"{share} case has {output} {'>=' if above is not None else '<='} "
            f"{above if above is not None else below}: choose a threshold inside "
            f"[{y.min():.4g}, {y.max():.4g}]",
            source=cl,
        )
    return x, hit, y


def _stats(inside: np.ndarray, hit: np.ndarray) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    coverage = float((inside & hit).sum() / hit.sum())
    density = float((inside & hit).sum() / n_in) if n_in else float("nan")
    return coverage, density, float(n_in / len(hit))


def inside(x: pd.DataFrame, limits: pd.DataFrame) -> np.ndarray:
    """Which rows of ``x`` lie in the box ``limits`` (inclusive bounds)."""
    mask = np.ones(len(x), dtype=bool)
    for r in limits.itertuples():
        col = x[r.parameter].to_numpy(dtype=float)
        mask &= (col >= r.low) & (col <= r.high)
    return mask


def _prim_module() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "ipyparallel not installed" and the like
            from ema_workbench.analysis import prim
    except ImportError:
        raise UserInputError(
            f"--method prim needs the EMA Workbench; {INSTALL}", source="command line"
        ) from None
    return prim


def prim_box(
    x: pd.DataFrame, hit: np.ndarray, *, density: float = 0.8, peel_alpha: float = 0.05
) -> tuple[Box, pd.DataFrame]:
    """PRIM (EMA Workbench): the chosen box and the peeling trajectory."""
    prim = _prim_module()
    import logging

    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, hit, threshold=density, peel_alpha=peel_alpha)
        found = finder.find_box()
    traj = found.peeling_trajectory.copy()
    ok = traj.index[traj["density"] >= density]
    chosen = int(ok[0]) if len(ok) else int(traj["density"].idxmax())
    lims = found.box_lims[chosen]
    limits = pd.DataFrame(
        {
            "parameter": list(x.columns),
            "low": [float(lims[c].iloc[0]) for c in x.columns],
            "high": [float(lims[c].iloc[1]) for c in x.columns],
        }
    )
    limits["restricted"] = [
        bool(r.low > x[r.parameter].min() or r.high < x[r.parameter].max())
        for r in limits.itertuples()
    ]
    cov, dens, mass = _stats(inside(x, limits), hit)
    box = Box(limits, cov, dens, mass, {"trajectory_index": chosen})
    return box, traj[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)


def stability(
    x: pd.DataFrame, hit: np.ndarray, box: Box, *, n_boot: int, density: float, seed: int = 0
) -> pd.DataFrame:
    """PRIM on ``n_boot`` bootstrap resamples: per parameter, the share of boxes restricting
    it and the 5-95 % range of its limits; plus (row ``(box)``) the resampled boxes' coverage
    and density on all cases."""
    rng = np.random.default_rng(seed)
    rows: list[pd.DataFrame] = []
    stats: list[tuple[float, float, float]] = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        if hit[idx].all() or not hit[idx].any():
            continue
        b, _ = prim_box(x.iloc[idx].reset_index(drop=True), hit[idx], density=density)
        rows.append(b.limits.assign(run=len(stats)))
        stats.append(_stats(inside(x, b.limits), hit))
    if not rows:
        return pd.DataFrame()
    allb = pd.concat(rows, ignore_index=True)
    out = allb.groupby("parameter", sort=False).agg(
        restricted_share=("restricted", "mean"),
        low_p05=("low", lambda v: float(np.quantile(v, 0.05))),
        low_p95=("low", lambda v: float(np.quantile(v, 0.95))),
        high_p05=("high", lambda v: float(np.quantile(v, 0.05))),
        high_p95=("high", lambda v: float(np.quantile(v, 0.95))),
    )
    out = out.reindex(box.limits["parameter"]).reset_index()
    s = np.array(stats)
    out.attrs["coverage"] = (float(s[:, 0].mean()), float(s[:, 0].std()))
    out.attrs["density"] = (float(np.nanmean(s[:, 1])), float(np.nanstd(s[:, 1])))
    out.attrs["resamples"] = len(stats)
    return out


def feature_scores(x: pd.DataFrame, hit: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Extra-trees impurity importance of each input for the cases of interest."""
    try:
        from sklearn.ensemble import ExtraTreesClassifier
    except ImportError:
        raise UserInputError(
            f"feature scoring needs scikit-learn; {INSTALL}", source="command line"
        ) from None
    model = ExtraTreesClassifier(n_estimators=250, max_features=0.6, random_state=seed)
    model.fit(x.to_numpy(), hit)
    scores = pd.DataFrame({"parameter": list(x.columns), "score": model.feature_importances_})
    return scores.sort_values("score", ascending=False).reset_index(drop=True)


def cart_boxes(x: pd.DataFrame, hit: np.ndarray, seed: int = 0) -> list[Box]:
    """Leaves of a classification tree where the cases of interest are the majority."""
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:
        raise UserInputError(
            f"--method cart needs scikit-learn; {INSTALL}", source="command line"
        ) from None
    tree = DecisionTreeClassifier(min_samples_leaf=max(5, len(x) // 20), random_state=seed)
    tree.fit(x.to_numpy(), hit)
    t = tree.tree_
    boxes: list[Box] = []
    lo0, hi0 = x.min().to_numpy(dtype=float), x.max().to_numpy(dtype=float)

    def walk(node: int, lo: np.ndarray, hi: np.ndarray) -> None:
        if t.children_left[node] == -1:
            limits = pd.DataFrame({"parameter": list(x.columns), "low": lo, "high": hi})
            limits["restricted"] = (lo > lo0) | (hi < hi0)
            cov, dens, mass = _stats(inside(x, limits), hit)
            if dens > 0.5:
                boxes.append(Box(limits, cov, dens, mass))
            return
        f, thr = t.feature[node], t.threshold[node]
        hi_l = hi.copy()
        hi_l[f] = min(hi[f], thr)
        lo_r = lo.copy()
        lo_r[f] = max(lo[f], np.nextafter(thr, np.inf))
        walk(t.children_left[node], lo, hi_l)
        walk(t.children_right[node], lo_r, hi)

    walk(0, lo0.copy(), hi0.copy())
    return sorted(boxes, key=lambda b: -b.coverage)


def _plot_trajectory(traj: pd.DataFrame, box: Box, out: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"], cmap="viridis", s=14)
    ax.scatter(
        [box.coverage],
        [box.density],
        s=120,
        facecolors="none",
        edgecolors="red",
        label="chosen box",
    )
    fig.colorbar(sc, ax=ax, label="restricted parameters")
    ax.set_xlabel("coverage (share of cases of interest in the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.text(
        0.01, 0.01, "Source: abm discover; PRIM (EMA Workbench), Friedman & Fisher 1999", fontsize=6
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path = out / "peeling_trajectory.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def discover(
    results: Path | str,
    *,
    output: str,
    above: float | None = None,
    below: float | None = None,
    method: str = "prim",
    density: float = 0.8,
    n_boot: int = 50,
    seed: int = 0,
    quiet: bool = False,
) -> Box:
    """Scenario discovery on a results folder; see the module docstring. Returns the box."""
    if method not in ("prim", "cart"):
        raise UserInputError(f"--method {method!r}: allowed: prim, cart", source="command line")
    if not 0 < density <= 1 or n_boot < 0:
        raise UserInputError("--density in (0, 1], --bootstrap ≥ 0", source="command line")
    x, hit, _ = load_cases(results, output, above, below)
    out = Path(results) / "discovery"
    cond = f"{output} {'>=' if above is not None else '<='} {above if above is not None else below}"
    scores = feature_scores(x, hit, seed)
    if method == "prim":
        box, traj = prim_box(x, hit, density=density)
        stab = stability(x, hit, box, n_boot=n_boot, density=density, seed=seed)
    else:
        boxes = cart_boxes(x, hit, seed)
        if not boxes:
            raise UserInputError(
                f"CART found no leaf where {cond} is the majority", source="command line"
            )
        box, traj, stab = boxes[0], pd.DataFrame(), pd.DataFrame()
    out.mkdir(exist_ok=True)
    box.limits.to_csv(out / "box.csv", index=False)
    scores.to_csv(out / "feature_scores.csv", index=False)
    meta = {
        "method": method,
        "condition": cond,
        "cases": len(x),
        "cases_of_interest": int(hit.sum()),
        "coverage": box.coverage,
        "density": box.density,
        "mass": box.mass,
        "rule": box.rule(),
    }
    if method == "prim":
        traj.to_csv(out / "peeling_trajectory.csv", index=False)
        _plot_trajectory(traj, box, out, f"PRIM peeling trajectory: {cond}")
        if not stab.empty:
            stab.to_csv(out / "stability.csv", index=False)
            meta["stability"] = {k: stab.attrs[k] for k in ("coverage", "density", "resamples")}
    else:
        pd.concat(
            [
                b.limits.assign(box=i, coverage=b.coverage, density=b.density, mass=b.mass)
                for i, b in enumerate(boxes)
            ]
        ).to_csv(out / "cart_boxes.csv", index=False)
    (out / "box.json").write_text(json.dumps(meta, indent=1, default=float) + "\n")
    if not quiet:
        _print(box, meta, stab, scores)
    return box


def _print(box: Box, meta: dict[str, Any], stab: pd.DataFrame, scores: pd.DataFrame) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=f"{meta['method'].upper()} box for {meta['condition']}: coverage "
        f"{box.coverage:.0%}, density {box.density:.0%}, mass {box.mass:.0%} "
        f"({meta['cases_of_interest']} of {meta['cases']} cases of interest)",
        title_justify="left",
    )
    for col in ("parameter", "low", "high", "restricted in resamples"):
        table.add_column(col)
    share = dict(zip(stab["parameter"], stab["restricted_share"], strict=True)) if len(stab) else {}
    for r in box.limits.itertuples():
        if r.restricted:
            s = share.get(r.parameter)
            table.add_row(
                str(r.parameter), f"{r.low:.4g}", f"{r.high:.4g}", "—" if s is None else f"{s:.0%}"
            )
    console.print(table)
    if "stability" in meta:
        st = meta["stability"]
        console.print(
            f"bootstrap ({st['resamples']} resamples): coverage {st['coverage'][0]:.0%} ± "
            f"{st['coverage'][1]:.0%}, density {st['density'][0]:.0%} ± {st['density'][1]:.0%}"
        )
    console.print(
        "feature scores (extra trees): "
        + ", ".join(f"{r.parameter} {r.score:.2f}" for r in scores.head(6).itertuples())
    )
