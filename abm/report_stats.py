"""Statistics, data loading and tables of the comparison report (:mod:`abm.report`).

Means with bounded confidence intervals, paired differences on common random numbers, costs
per additional tonne, and the KPI rows of the report. Public names are re-exported by
:mod:`abm.report`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError
from abm.reporters import COST_PER_TONNE, cost_per_tonne

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

#: The target of the "4 per 1000" initiative: +4 ‰ of the soil carbon stock per year.
TARGET_PERMILLE = 4.0


BASELINE = "baseline"


KINDS = ("incentive", "regulation", "advice", "market_access", "verification")


KIND_COLORS = {
    "incentive": "#1b9e77",
    "regulation": "#d95f02",
    "advice": "#7570b3",
    "market_access": "#e7298a",
    "verification": "#66a61e",
}


PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)


BASELINE_COLOR = "#333333"


DPI = 150


@dataclass(frozen=True)
class Metric:
    """A KPI row of the report: column of ``runs``, label, unit, scale, decimals."""

    column: str
    label: str
    unit: str
    scale: float = 1.0
    decimals: int = 1
    bounds: tuple[float, float | None] | None = None


#: Bounds of a share in percent.
PERCENT = (0.0, 100.0)


#: Lower bound of a non-negative total.
NON_NEGATIVE = (0.0, None)


METRICS = (
    Metric("adoption_share_2030", "Adoption 2030", "% of area", 100.0, 1, PERCENT),
    Metric("adoption_share_2050", "Adoption 2050", "% of area", 100.0, 1, PERCENT),
    Metric("adopted_area_ha_2050", "Area under a practice 2050", "kha", 1e-3, 2, NON_NEGATIVE),
    Metric("soc_change_permille_mean", "SOC change, mean", "‰/yr", 1.0, 2),
    Metric("soc_change_permille_policy", "SOC change since the policy start", "‰/yr", 1.0, 2),
    Metric("share_farms_4p1000_2030", "Farms at ≥ 4 ‰, 2030", "% of farms", 100.0, 1, PERCENT),
    Metric("share_farms_4p1000_2050", "Farms at ≥ 4 ‰, 2050", "% of farms", 100.0, 1, PERCENT),
    Metric("sequestration_tco2e_cum_2050", "CO2e sequestered, cum. 2050", "kt CO2e", 1e-3, 1),
    Metric("sequestration_permanent_tco2e", "Permanent-equivalent CO2e", "kt CO2e", 1e-3, 2),
    Metric("storage_tco2e_cum_2050", "CO2e stored (C brought in), cum. 2050", "kt CO2e", 1e-3, 1),
    Metric("n2o_tco2e_cum_2050", "N2O of the added N, cum. 2050", "kt CO2e", 1e-3, 1),
    Metric("net_ghg_tco2e_2050", "Net GHG (seq. − N2O − other), cum. 2050", "kt CO2e", 1e-3, 1),
    Metric(
        "leakage_tco2e_cum_2050",
        "Leakage (output produced elsewhere)",
        "kt CO2e",
        1e-3,
        1,
        NON_NEGATIVE,
    ),
    Metric("production_index_2050", "Production 2050 vs start", "%", 100.0, 1, NON_NEGATIVE),
    Metric("awc_mm_mean_2050", "Available water change 2050", "mm", 1.0, 2),
    Metric("public_spend_eur_total", "Public spend, total", "M€", 1e-6, 2, NON_NEGATIVE),
    Metric("social_cost_eur_total", "Social cost, total", "M€", 1e-6, 2),
    Metric("additionality_share", "Additionality of payments", "% of payments", 100.0, 1, PERCENT),
    Metric(
        "compliance_share_2050", "Compliance with the rule 2050", "% of farms", 100.0, 1, PERCENT
    ),
    Metric("premiums_eur_total", "Market premiums, total", "M€", 1e-6, 2, NON_NEGATIVE),
    Metric("disadoptions_total", "Dis-adoptions, total", "farm-practices", 1.0, 0, NON_NEGATIVE),
)


#: Metrics of the paired difference table (shares of payments and compliance are per run).
DIFF_METRICS = tuple(
    m for m in METRICS if m.column not in {"additionality_share", "compliance_share_2050"}
)


#: Labels of the cost-per-tonne rows (definitions: :data:`abm.reporters.COST_PER_TONNE`).
COST_LABELS = {
    "public_cost_eur_per_additional_tco2e": "Public cost per additional t CO2e",
    "social_cost_eur_per_additional_tco2e": "Social cost per additional t CO2e",
    "public_cost_eur_per_additional_permanent_tco2e": "Public cost per additional permanent t",
    "social_cost_eur_per_additional_permanent_tco2e": "Social cost per additional permanent t",
}


def mean_ci(
    values: Sequence[float] | np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float | None] | None = None,
) -> tuple[float, float, float, int]:
    """Mean and confidence interval of the mean of the finite ``values``.

    Without ``bounds``, the Student t interval ``mean ± t·sd/√n``. With ``bounds`` (the values'
    possible range, e.g. ``(0, 100)`` for a percentage, ``(0, None)`` for a non-negative total),
    the same interval built on the logit (two bounds) or log (lower bound only) scale of the
    mean and transformed back (:func:`bounded_interval`), so it never leaves what is possible.

    Returns ``(mean, low, high, n)``; with ``n < 2`` the interval collapses onto the mean, with
    ``n == 0`` everything is NaN.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, mean, mean, n
    lo, hi = bounded_interval(
        np.array([mean]), np.array([x.std(ddof=1)]), np.array([n]), level, bounds
    )
    return mean, float(lo[0]), float(hi[0]), n


def bounded_interval(
    mean: np.ndarray,
    sd: np.ndarray,
    n: np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float | None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of means (arrays): Student t, on a bounded scale when ``bounds``.

    With ``bounds = (a, b)``, ``p = (mean - a)/(b - a)`` and the interval is
    ``logit⁻¹(logit p ± t·se/(p(1-p)))`` (the delta-method t interval on the logit scale), mapped
    back to ``[a, b]``; with ``(a, None)``, ``a + exp(ln(mean - a) ± t·se/(mean - a))``. A mean
    on a bound (every value on it) gives the point. ``n < 2`` gives NaN.
    """
    from scipy.special import expit, logit, stdtrit  # lighter than scipy.stats

    mean = np.asarray(mean, dtype=float)
    nn = np.asarray(n, dtype=float)
    q = np.where(nn > 1, stdtrit(np.maximum(nn - 1, 1), 0.5 + level / 2), np.nan)
    se = np.asarray(sd, dtype=float) / np.sqrt(np.maximum(nn, 1))
    half = q * se
    if bounds is None:
        return mean - half, mean + half
    a, b = bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        if b is None:
            d = np.maximum(mean - a, 0.0)
            w = half / d
            lo, hi = a + d * np.exp(-w), a + d * np.exp(w)
        else:
            p = np.clip((mean - a) / (b - a), 0.0, 1.0)
            w = half / ((b - a) * p * (1 - p))
            lo = a + (b - a) * expit(logit(p) - w)
            hi = a + (b - a) * expit(logit(p) + w)
        on_bound = ~np.isfinite(w) | (half == 0)
    lo = np.where(on_bound & np.isfinite(q), mean, lo)
    hi = np.where(on_bound & np.isfinite(q), mean, hi)
    return lo, hi


def bootstrap_ratio(
    num: np.ndarray, den: np.ndarray, *, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Ratio of means ``mean(num)/mean(den)`` with a 95 % percentile bootstrap over pairs."""
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    est = cost_per_tonne(num, den)
    if not np.isfinite(est):
        return math.nan, math.nan, math.nan
    if num.size < 2:
        return est, math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num.size, size=(n_boot, num.size))
    d = den[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(d > 0, num[idx].mean(axis=1) / d, np.nan)
    r = r[np.isfinite(r)]
    if r.size < n_boot // 2:
        return est, math.nan, math.nan
    lo, hi = np.percentile(r, [2.5, 97.5])
    return est, float(lo), float(hi)


def _fmt(value: float, decimals: int) -> str:
    if not np.isfinite(value):
        return "—"
    text = f"{value:,.{decimals}f}"
    return "0" if re.fullmatch(r"-?0(\.0*)?", text) else text


def _cell(mean: float, lo: float, hi: float, n: int, decimals: int) -> str:
    if n == 0 or not np.isfinite(mean):
        return "—"
    if n < 2 or not np.isfinite(lo):
        return _fmt(mean, decimals)
    return f"{_fmt(mean, decimals)} [{_fmt(lo, decimals)}, {_fmt(hi, decimals)}]"


@dataclass
class _Data:
    root: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    scenarios: list[str]
    n_failed: int
    con: duckdb.DuckDBPyConnection
    ts_columns: list[str]
    has_ledger: bool


def _load(results_dir: Path) -> _Data:
    from abm.batch.query import connect
    from abm.batch.store import read_manifest, read_table

    root = Path(results_dir)
    if not root.is_dir():
        raise UserInputError(f"results folder {root} not found", source="command line")
    con = connect(root)
    manifest = read_manifest(root) or {}
    runs = read_table(root, "runs")
    if runs.empty:
        con.close()
        raise UserInputError(
            f"{root} has no finished runs yet (runs.parquet is empty)", source="command line"
        )
    n_failed = int(con.execute("SELECT count(*) FROM failures").fetchone()[0])  # type: ignore[index]
    present = list(dict.fromkeys(runs["scenario"].astype(str)))
    ordered = [s for s in manifest.get("scenarios", []) if s in present]
    scenarios = ordered + sorted(s for s in present if s not in ordered)
    # Read the part files once: every figure queries these in-memory tables (ts, lg, rs).
    con.execute("CREATE TEMP TABLE rs AS SELECT run_id, scenario FROM runs")
    con.execute(
        "CREATE TEMP TABLE ts AS SELECT t.*, rs.scenario FROM timeseries t JOIN rs USING (run_id)"
    )
    con.execute(
        "CREATE TEMP TABLE lg AS SELECT l.*, rs.scenario FROM ledger l JOIN rs USING (run_id)"
    )
    ts_cols = [d[0] for d in con.execute("SELECT * FROM timeseries LIMIT 0").description]
    n_ledger = con.execute("SELECT count(*) FROM lg").fetchone()[0]  # type: ignore[index]
    return _Data(root, manifest, runs, scenarios, n_failed, con, ts_cols, bool(n_ledger))


def _baseline(scenarios: list[str]) -> str | None:
    if BASELINE in scenarios:
        return BASELINE
    return None


#: A 2050 KPI whose final-year twin has another name (the rest: ``<name>_2050`` → ``_final``).
FINAL_TWIN = {"net_ghg_tco2e_2050": "net_ghg_tco2e_cum_final"}


def metric_for(runs: pd.DataFrame, m: Metric) -> Metric:
    """The metric as this folder has it: a study that ends before 2050 has no ``*_2050`` value,
    so its row reads the final year's KPI instead (the one ``abm run`` prints), labelled so."""
    if not m.column.endswith("_2050"):
        return m
    has_2050 = m.column in runs.columns and runs[m.column].notna().any()
    final = FINAL_TWIN.get(m.column, m.column.removesuffix("_2050") + "_final")
    if has_2050 or final not in runs.columns:
        return m
    return replace(m, column=final, label=m.label.replace("2050", "final year"))


def kpi_table(runs: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Rows = metrics, columns = scenarios; cells ``mean [low, high]`` (95 % CI of the mean)."""
    rows: dict[str, list[str]] = {}
    n_row = []
    for name in scenarios:
        n_row.append(str(int((runs["scenario"] == name).sum())))
    rows["runs (n)"] = n_row
    for m in (metric_for(runs, x) for x in METRICS):
        if m.column not in runs.columns:
            continue
        cells = []
        for name in scenarios:
            x = runs.loc[runs["scenario"] == name, m.column].to_numpy(dtype=float) * m.scale
            mean, lo, hi, n = mean_ci(x, bounds=m.bounds)
            cell = _cell(mean, lo, hi, n, m.decimals)
            total = int((runs["scenario"] == name).sum())
            if 0 < n < total:
                cell += f" (n={n})"
            cells.append(cell)
        rows[f"{m.label} ({m.unit})"] = cells
    return pd.DataFrame.from_dict(rows, orient="index", columns=scenarios)


def diff_table(runs: pd.DataFrame, scenarios: list[str], baseline: str) -> pd.DataFrame | None:
    """Paired (common random numbers) differences to ``baseline``: mean [95 % CI]."""
    others = [s for s in scenarios if s != baseline]
    if not others:
        return None
    rows: dict[str, list[str]] = {}
    pairs = {name: _pairs(runs, name, baseline) for name in others}
    rows["pairs (n)"] = [str(len(pairs[s])) for s in others]
    for m in (metric_for(runs, x) for x in DIFF_METRICS):
        if m.column not in runs.columns:
            continue
        cells = []
        for name in others:
            p = pairs[name]
            d = p[m.column].to_numpy(dtype=float) - p[f"{m.column}__base"].to_numpy(dtype=float)
            cells.append(_cell(*mean_ci(d * m.scale, bounds=_diff_bounds(m)), m.decimals))
        rows[f"Δ {m.label} ({m.unit})"] = cells
    costs = paired_costs(runs, scenarios, baseline)
    for key, label in COST_LABELS.items():
        if not any(key in c for c in costs.values()):
            continue
        cells = []
        for name in others:
            est, lo, hi = costs.get(name, {}).get(key, (math.nan, math.nan, math.nan))
            cells.append(_cell(est, lo, hi, 2 if np.isfinite(lo) else 1, 0))
        rows[f"{label} (€/t CO2e, bootstrap CI)"] = cells
    return pd.DataFrame.from_dict(rows, orient="index", columns=others)


def _diff_bounds(m: Metric) -> tuple[float, float] | None:
    """A difference of two values in ``[a, b]`` lies in ``[a - b, b - a]``."""
    if m.bounds is None or m.bounds[1] is None:
        return None
    span = m.bounds[1] - m.bounds[0]
    return (-span, span)


SEQ_KPI = "sequestration_tco2e_cum_2050"


SPEND_KPI = "public_spend_eur_total"


def _pairs(runs: pd.DataFrame, name: str, baseline: str) -> pd.DataFrame:
    """A scenario's runs joined to the baseline's runs with the same design point and seed."""
    key = ["design_point", "replicate"]
    base = runs[runs["scenario"] == baseline].set_index(key)
    sub = runs[runs["scenario"] == name].set_index(key)
    return sub.merge(base, left_index=True, right_index=True, how="inner", suffixes=("", "__base"))


def paired_costs(
    runs: pd.DataFrame, scenarios: list[str], baseline: str
) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Per scenario and cost KPI of :data:`abm.reporters.COST_PER_TONNE`: (estimate, low, high).

    Differences are taken per CRN pair (same design point and replicate), scenario minus
    baseline; the estimate is :func:`abm.reporters.cost_per_tonne` of them and the interval a
    95 % percentile bootstrap over pairs (:func:`bootstrap_ratio`). KPIs missing from ``runs``
    are skipped.
    """
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name in scenarios:
        if name == baseline:
            continue
        p = _pairs(runs, name, baseline)
        res: dict[str, tuple[float, float, float]] = {}
        for key, (cost, tonnes) in COST_PER_TONNE.items():
            if tonnes not in runs.columns and tonnes.endswith("_final"):
                tonnes = tonnes.replace("_final", "_2050")  # folders with 2050 KPIs only
            if cost not in runs.columns or tonnes not in runs.columns:
                continue
            dcost = p[cost].to_numpy(dtype=float) - p[f"{cost}__base"].to_numpy(dtype=float)
            dt = p[tonnes].to_numpy(dtype=float) - p[f"{tonnes}__base"].to_numpy(dtype=float)
            res[key] = bootstrap_ratio(dcost, dt)
        out[name] = res
    return out


def incremental_cost(
    runs: pd.DataFrame, scenarios: list[str], baseline: str
) -> dict[str, tuple[float, float, float]]:
    """Per scenario: public € per *additional* t CO2e sequestered vs the baseline (paired)."""
    key = "public_cost_eur_per_additional_tco2e"
    costs = paired_costs(runs, scenarios, baseline)
    return {name: c[key] for name, c in costs.items() if key in c}


def timeseries_stats(
    data: _Data, expr: str, bounds: tuple[float, float | None] | None = None
) -> pd.DataFrame:
    """Per scenario and year: mean, CI low/high of a timeseries expression over runs.

    ``expr`` is SQL over the ``timeseries`` columns (window functions allowed), e.g.
    ``"adoption_share * 100"``; ``bounds``: its possible range (see :func:`bounded_interval`).
    """
    sql = f"""
        WITH v AS (
            SELECT scenario, year, ({expr}) AS x FROM ts
        )
        SELECT scenario, year, avg(x) AS mean, stddev_samp(x) AS sd, count(x) AS n
        FROM v WHERE isfinite(x) GROUP BY scenario, year ORDER BY scenario, year
    """
    frame = data.con.execute(sql).df()
    low, high = bounded_interval(
        frame["mean"].to_numpy(dtype=float),
        frame["sd"].fillna(0.0).to_numpy(dtype=float),
        frame["n"].to_numpy(dtype=float),
        bounds=bounds,
    )
    frame["low"], frame["high"] = low, high
    return frame
