"""Comparison report of a results folder: tables and figures per scenario.

``abm report DIR`` works on any results folder — a batch (``abm batch``) or a single run
(``abm run --out DIR``) — and writes ``DIR/report/``: ``report.md``, ``report.html`` (the same
content, figures embedded, no extra dependencies) and one PNG per figure.

Statistics
----------
Per scenario, a KPI is summarised over all of the scenario's runs (replicates, and design points
when the study has a design) by its mean and the 95 % confidence interval of that mean,
``mean ± t(0.975, n-1) · sd / √n`` (Student t; :func:`mean_ci`). It says how precisely the
batch pins down each scenario's expected outcome, and shrinks with more replicates; it is not
the spread of single runs. With one run there is no interval. Runs whose KPI is NaN (e.g. cost
per t CO2e when nothing was spent) are left out of that KPI and the count says so.

Because every scenario uses the same replicate seeds (common random numbers), differences to
the baseline are computed *paired*: per (design point, replicate), scenario minus baseline, then
mean and t-interval of those differences, which removes the noise the scenarios share. Costs per
*additional* tonne use the one definition of :data:`abm.reporters.COST_PER_TONNE`
(:func:`abm.reporters.cost_per_tonne`): mean paired Δcost ÷ mean paired Δtonnes, with a 95 %
percentile bootstrap interval over the pairs (2,000 resamples, fixed seed). Public cost = public
spend; social cost = farmers' net private cost of practices + all MRV + advice funding +
inspections (transfers cancel); tonnes = sequestration (not storage) by the end, or permanent
-equivalent tonnes (ton-years over 100 years). Additional hectares and tonnes are the paired
differences of the area under any practice and of sequestration; the additionality share
(payments not going to area the farm already had under the practice) is per run.

Bounded outputs get intervals inside their bounds (:func:`bounded_interval`): for shares
(0–100 %) the t interval is built on the logit scale of the mean and transformed back, for
non-negative totals on the log scale; with many runs this is the plain t interval, with few it
is asymmetric instead of reaching below 0 % or above 100 %.

Figures: adoption curves, SOC trajectories, the 4 ‰ indicator against its target, cumulative
CO2e sequestered vs stored, cost-effectiveness, exchange flows by kind, adoption by practice.
Lines are scenario means; bands are the 95 % CI of the mean (Student t; shares on the logit
scale). A folder with fewer runs than planned says "incomplete: k of n runs" in the report and
in every figure's legend.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError
from abm.report_equilibrium import fig_equilibrium
from abm.reporters import COST_PER_TONNE, cost_per_tonne

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


# -- statistics ------------------------------------------------------------------------------


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


# -- data ------------------------------------------------------------------------------------


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


def kpi_table(runs: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Rows = metrics, columns = scenarios; cells ``mean [low, high]`` (95 % CI of the mean)."""
    rows: dict[str, list[str]] = {}
    n_row = []
    for name in scenarios:
        n_row.append(str(int((runs["scenario"] == name).sum())))
    rows["runs (n)"] = n_row
    for m in METRICS:
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
    for m in DIFF_METRICS:
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


# -- figures ---------------------------------------------------------------------------------


def _figure(width: float = 8.0, height: float = 4.6, ncols: int = 1, **kw: Any) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.subplots(1, ncols, squeeze=False, **kw)
    return fig


def _style(ax: Axes) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _colors(scenarios: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    k = 0
    for name in scenarios:
        if name == BASELINE:
            out[name] = BASELINE_COLOR
        else:
            out[name] = PALETTE[k % len(PALETTE)]
            k += 1
    return out


def _save(fig: Figure, path: Path) -> str:
    fig.savefig(path, dpi=DPI)
    return path.name


def _band_plot(
    ax: Axes,
    stats: pd.DataFrame,
    scenarios: list[str],
    colors: dict[str, str],
    *,
    style: str = "-",
    label: bool = True,
) -> None:
    for name in scenarios:
        s = stats[stats["scenario"] == name]
        if s.empty:
            continue
        c = colors[name]
        lw = 2.2 if name == BASELINE else 1.6
        ax.plot(s["year"], s["mean"], style, color=c, lw=lw, label=name if label else None)
        if (s["n"] > 1).any():
            ax.fill_between(s["year"], s["low"], s["high"], color=c, alpha=0.18, lw=0)


def _legend(fig: Figure, ax: Axes, title: str | None = None) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="outside right center",
            frameon=False,
            fontsize=9,
            title=title,
            title_fontsize=8,
        )


def _band_note(data: _Data) -> str:
    many = int(data.runs.groupby("scenario").size().max()) > 1
    note = "mean, 95 % CI band" if many else "one run each"
    missing = incomplete(data)
    return f"{note}\n{missing}" if missing else note


def incomplete(data: _Data) -> str:
    """``"incomplete: 6 of 20 runs"`` when the folder holds fewer runs than planned, else ``""``.

    Counted from the tables themselves (a killed batch cannot update its manifest); the plan
    comes from the manifest's ``counts.planned``.
    """
    planned = (data.manifest.get("counts") or {}).get("planned")
    if not isinstance(planned, int) or len(data.runs) + data.n_failed >= planned:
        return ""
    return f"incomplete: {len(data.runs)} of {planned} runs"


def fig_adoption(data: _Data, out: Path, colors: dict[str, str]) -> str | None:
    """Adoption curves (share of farmed area) per scenario with bands."""
    if "adoption_share" not in data.ts_columns:
        return None
    stats = timeseries_stats(data, "adoption_share * 100", PERCENT)
    fig = _figure()
    ax = fig.axes[0]
    _band_plot(ax, stats, data.scenarios, colors)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("year")
    ax.set_ylabel("area under ≥ 1 promoted practice (%)")
    ax.set_title("Adoption of soil-carbon practices", fontsize=10)
    _style(ax)
    _legend(fig, ax, _band_note(data))
    return _save(fig, out / "adoption.png")


def fig_soc(data: _Data, out: Path, colors: dict[str, str]) -> str | None:
    """Mean SOC stock per hectare, as change since the first simulated year."""
    if "soc_mean_t_ha" not in data.ts_columns:
        return None
    expr = "soc_mean_t_ha - first_value(soc_mean_t_ha) OVER (PARTITION BY run_id ORDER BY year)"
    stats = timeseries_stats(data, expr)
    start = int(stats["year"].min())
    level = data.con.execute(f"SELECT avg(soc_mean_t_ha) FROM ts WHERE year = {start}").fetchone()[
        0
    ]  # type: ignore[index]
    fig = _figure()
    ax = fig.axes[0]
    _band_plot(ax, stats, data.scenarios, colors)
    ax.axhline(0, color="#888888", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel(f"change in mean SOC since {start} (t C/ha)")
    ax.set_title(
        f"Soil organic carbon: change in the mean stock ({level:.1f} t C/ha in {start})",
        fontsize=10,
    )
    _style(ax)
    _legend(fig, ax, _band_note(data))
    return _save(fig, out / "soc.png")


def fig_4p1000(data: _Data, out: Path, colors: dict[str, str]) -> str | None:
    """The 4 ‰ indicator (5-yr annualised SOC change) against its target, and farms at ≥ 4 ‰."""
    col = "soc_change_permille_5yr"
    if col not in data.ts_columns:
        col = "soc_change_permille"  # results written before the multi-year indicator
    if col not in data.ts_columns:
        return None
    has_share = "share_farms_4p1000" in data.ts_columns
    fig = _figure(11.0, 4.4, ncols=2 if has_share else 1)
    ax = fig.axes[0]
    stats = timeseries_stats(data, col)
    first = int(stats["year"].min())
    stats = stats[stats["year"] > first]  # the first year has no multi-year window
    _band_plot(ax, stats, data.scenarios, colors)
    ax.axhline(TARGET_PERMILLE, color="#c00000", ls="--", lw=1.4, label="4 ‰ target")
    ax.axhline(0, color="#888888", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("SOC stock change (‰ per year, last 5 years)")
    ax.set_title("Regional SOC change vs the 4 per 1000 target", fontsize=10)
    _style(ax)
    if has_share:
        ax2 = fig.axes[1]
        s2 = timeseries_stats(data, "share_farms_4p1000 * 100", PERCENT)
        s2 = s2[s2["year"] > first]
        _band_plot(ax2, s2, data.scenarios, colors, label=False)
        ax2.set_ylim(bottom=0)
        ax2.set_xlabel("year")
        ax2.set_ylabel("farms with own SOC change ≥ 4 ‰/yr over 5 yr (%)")
        ax2.set_title("Farms reaching 4 ‰ (5-year window)", fontsize=10)
        _style(ax2)
    _legend(fig, ax, _band_note(data))
    return _save(fig, out / "four_per_1000.png")


def fig_carbon(data: _Data, out: Path, colors: dict[str, str]) -> str | None:
    """Side by side: CO2e sequestered, stored (C brought in), N2O, and the net balance."""
    cols: tuple[str, ...] = (
        "sequestration_tco2e_cum",
        "storage_tco2e_cum",
        "n2o_tco2e_cum",
        "net_ghg_tco2e_cum",
    )
    if not all(c in data.ts_columns for c in cols):
        cols = cols[:2]
        if not all(c in data.ts_columns for c in cols):
            return None
    fig = _figure(5.5 * len(cols), 4.4, ncols=len(cols), sharey=True)
    titles = (
        "sequestered (removed from the air)",
        "stored: carbon brought onto farms",
        "N2O of the N practices add",
        "net GHG = sequestered − N2O − other",
    )[: len(cols)]
    for ax, col, title in zip(fig.axes, cols, titles, strict=True):
        stats = timeseries_stats(data, f"{col} / 1000")
        _band_plot(ax, stats, data.scenarios, colors, label=ax is fig.axes[0])
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xlabel("year")
        ax.set_title(title, fontsize=10)
        _style(ax)
    fig.axes[0].set_ylabel("cumulative since start (kt CO2e)")
    _legend(fig, fig.axes[0], _band_note(data))
    return _save(fig, out / "carbon.png")


def fig_cost(data: _Data, out: Path, colors: dict[str, str]) -> str | None:
    """Cost-effectiveness: public spend vs CO2e sequestered, and € per t CO2e."""
    seq, spend = SEQ_KPI, SPEND_KPI
    runs = data.runs
    if seq not in runs.columns or spend not in runs.columns:
        return None
    has_cost = _baseline(data.scenarios) is not None
    fig = _figure(11.0, 4.6, ncols=2 if has_cost else 1)
    ax = fig.axes[0]
    xmax = ymax = 0.0
    for name in data.scenarios:
        sub = runs[runs["scenario"] == name]
        x, xl, xh, _ = mean_ci(sub[seq].to_numpy(dtype=float) / 1000)
        y, yl, yh, _ = mean_ci(sub[spend].to_numpy(dtype=float) / 1e6, bounds=NON_NEGATIVE)
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        ax.errorbar(
            x,
            y,
            xerr=[[x - xl], [xh - x]],
            yerr=[[y - yl], [yh - y]],
            fmt="o",
            color=colors[name],
            ms=7,
            capsize=3,
            label=name,
        )
        xmax, ymax = max(xmax, xh), max(ymax, yh)
    if xmax > 0 and ymax > 0:
        # iso-cost lines: spend = price × sequestration, labelled where they leave the axes
        x_top, y_top = xmax * 1.1, ymax * 1.15
        for price in _nice_prices(ymax * 1e6 / (xmax * 1e3)):
            slope = price * 1e3 / 1e6  # M€ per kt
            x_end = min(x_top, y_top / slope)
            ax.plot([0.0, x_end], [0.0, x_end * slope], ls=":", color="#999999", lw=0.8)
            ax.annotate(
                f"{price:g} €/t",
                (x_end, x_end * slope),
                fontsize=7,
                color="#666666",
                ha="right",
                va="top" if x_end < x_top else "bottom",
            )
        ax.set_xlim(0, x_top)
        ax.set_ylim(0, y_top)
    ax.set_xlabel("CO2e sequestered by 2050 (kt)")
    ax.set_ylabel("public spend, total (M€)")
    ax.set_title("Public spend vs carbon sequestered (95 % CI)", fontsize=10)
    _style(ax)
    if has_cost:
        _cost_bars(fig.axes[1], data, colors)
    _legend(fig, ax, "mean, 95 % CI")
    return _save(fig, out / "cost_effectiveness.png")


def _cost_bars(ax: Axes, data: _Data, colors: dict[str, str]) -> None:
    """Public and social € per *additional* t CO2e vs the baseline (paired, bootstrap CI)."""
    runs = data.runs
    base = _baseline(data.scenarios)
    costs = paired_costs(runs, data.scenarios, base) if base else {}
    keys = ("public_cost_eur_per_additional_tco2e", "social_cost_eur_per_additional_tco2e")
    rows = [(n, costs[n]) for n in data.scenarios if n in costs]
    rows = [(n, c) for n, c in rows if any(np.isfinite(c.get(k, (math.nan,))[0]) for k in keys)]
    if not rows:
        ax.text(
            0.5, 0.5, "no additional tonnes vs the baseline", ha="center", transform=ax.transAxes
        )
        ax.set_yticks([])
        return
    pos = np.arange(len(rows))
    h = 0.38
    for k, (name, c) in enumerate(rows):
        for j, key in enumerate(keys):
            e, lo, hi = c.get(key, (math.nan, math.nan, math.nan))
            if not np.isfinite(e):
                continue
            ax.barh(
                pos[k] + (j - 0.5) * h,
                e,
                height=h,
                color=colors[name],
                alpha=1.0 if j == 0 else 0.45,
                hatch=None if j == 0 else "///",
                edgecolor=colors[name],
                xerr=[[e - lo], [hi - e]] if np.isfinite(lo) else None,
                capsize=3,
            )
    ax.set_yticks(pos, [r[0] for r in rows])
    ax.invert_yaxis()
    ax.axvline(0.0, color="#999999", lw=0.8)
    ax.set_xlabel(f"€ per additional t CO2e vs {base} (paired)")
    ax.set_title("Cost per additional tonne", fontsize=10)
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor="#777777", label="public cost"),
        Patch(facecolor="#bbbbbb", edgecolor="#777777", hatch="///", label="social cost"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    _style(ax)


def _nice_prices(slope: float) -> list[float]:
    """Up to three round €/t values around the data's spend/sequestration slope."""
    if not np.isfinite(slope) or slope <= 0:
        return []
    exp = 10 ** math.floor(math.log10(slope))
    cands = sorted({exp * k for k in (0.5, 1, 2, 5, 10)})
    return [c for c in cands if slope / 4 <= c <= slope * 2][:3]


def ledger_totals(data: _Data) -> pd.DataFrame:
    """Per scenario and kind: mean per run of the total count and amount over the horizon."""
    frame = data.con.execute(
        """
        WITH n AS (SELECT scenario, count(*) AS runs FROM rs GROUP BY scenario)
        SELECT lg.scenario, lg.kind,
               sum(lg.count) / any_value(n.runs) AS count,
               sum(lg.amount) / any_value(n.runs) AS amount
        FROM lg JOIN n USING (scenario)
        GROUP BY lg.scenario, lg.kind
        """
    ).df()
    return frame


def fig_exchanges(data: _Data, out: Path) -> str | None:
    """Exchange flows by kind: total amount (M€) and number of exchanges per scenario."""
    if not data.has_ledger:
        return None
    tot = ledger_totals(data)
    if tot.empty:
        return None
    kinds = [k for k in KINDS if k in set(tot["kind"])] + sorted(set(tot["kind"]) - set(KINDS))
    fig = _figure(11.0, 0.9 + 0.45 * len(data.scenarios) + 1.2, ncols=2, sharey=True)
    pos = np.arange(len(data.scenarios))
    for ax, col, scale, label in zip(
        fig.axes,
        ("amount", "count"),
        (1e-6, 1e-3),
        (
            "money exchanged over the horizon (M€ per run)",
            "exchanges over the horizon (thousands per run)",
        ),
        strict=True,
    ):
        pivot = tot.pivot_table(index="scenario", columns="kind", values=col, aggfunc="sum")
        pivot = pivot.reindex(index=data.scenarios, columns=kinds).fillna(0.0) * scale
        left = np.zeros(len(data.scenarios))
        for kind in kinds:
            vals = pivot[kind].to_numpy()
            ax.barh(
                pos,
                vals,
                left=left,
                height=0.6,
                color=KIND_COLORS.get(kind, "#999999"),
                label=kind.replace("_", " ") if ax is fig.axes[0] else None,
            )
            left += vals
        ax.set_xlabel(label)
        _style(ax)
        ax.grid(axis="y", visible=False)
    fig.axes[0].set_yticks(pos, data.scenarios)
    fig.axes[0].invert_yaxis()
    fig.suptitle("Exchanges by kind (ledger; mean per run)", fontsize=10)
    fig.legend(loc="outside lower center", ncols=len(kinds), frameon=False, fontsize=9)
    return _save(fig, out / "exchanges.png")


def fig_practices(data: _Data, out: Path) -> str | None:
    """Heat map: area share under each practice in the last year, per scenario."""
    cols = [c for c in data.ts_columns if c.startswith("adoption_share_")]
    if not cols:
        return None
    last = int(
        data.con.execute("SELECT max(year) FROM ts").fetchone()[0]  # type: ignore[index]
    )
    sel = ", ".join(f'avg("{c}") * 100 AS "{c}"' for c in cols)
    frame = data.con.execute(
        f"SELECT scenario, {sel} FROM ts WHERE year = {last} GROUP BY scenario"
    ).df()
    frame = frame.set_index("scenario").reindex(data.scenarios)
    names = [c.removeprefix("adoption_share_").replace("_", " ") for c in cols]
    values = frame[cols].to_numpy(dtype=float)
    fig = _figure(max(6.0, 1.8 + 0.95 * len(cols)), 1.4 + 0.42 * len(data.scenarios))
    ax = fig.axes[0]
    vmax = max(float(np.nanmax(values)) if np.isfinite(values).any() else 1.0, 1.0)
    im = ax.imshow(values, cmap="Greens", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(np.arange(len(cols)), names, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(data.scenarios)), data.scenarios, fontsize=9)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    f"{v:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > 0.6 * vmax else "black",
                )
    fig.colorbar(im, ax=ax, label="% of farmed area", shrink=0.9)
    ax.set_title(f"Area under each practice in {last} (mean)", fontsize=10)
    return _save(fig, out / "practices.png")


# -- documents -------------------------------------------------------------------------------


def markdown_table(frame: pd.DataFrame, index_label: str = "") -> str:
    """A pipe table (GitHub markdown) of a DataFrame of strings."""
    header = [index_label, *map(str, frame.columns)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["--:"] * len(frame.columns)) + "|",
    ]
    for idx, row in frame.iterrows():
        lines.append("| " + " | ".join([str(idx), *map(str, row.tolist())]) + " |")
    return "\n".join(lines)


FIGURES: tuple[tuple[str, str], ...] = (
    ("adoption", "Adoption curves"),
    ("soc", "SOC trajectories"),
    ("four_per_1000", "The 4 ‰ indicator against its target"),
    ("carbon", "CO2e sequestered vs stored"),
    ("cost_effectiveness", "Cost-effectiveness"),
    ("exchanges", "Exchange flows by kind"),
    ("practices", "Adoption by practice"),
    ("equilibrium", "Saturation and the new equilibrium"),
)


def build_report(results_dir: Path) -> Path:
    """Write ``DIR/report/`` (``report.md``, ``report.html``, PNGs); return ``report.md``.

    Raises
    ------
    UserInputError
        When the folder does not exist or holds no finished run.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # figures are built on Figure objects; no GUI needed

    data = _load(Path(results_dir))
    out = data.root / "report"
    out.mkdir(exist_ok=True)
    colors = _colors(data.scenarios)
    makers: dict[str, Callable[[], str | None]] = {
        "adoption": lambda: fig_adoption(data, out, colors),
        "soc": lambda: fig_soc(data, out, colors),
        "four_per_1000": lambda: fig_4p1000(data, out, colors),
        "carbon": lambda: fig_carbon(data, out, colors),
        "cost_effectiveness": lambda: fig_cost(data, out, colors),
        "exchanges": lambda: fig_exchanges(data, out),
        "practices": lambda: fig_practices(data, out),
        "equilibrium": lambda: fig_equilibrium(data, out, colors),
    }
    figures: list[tuple[str, str]] = []
    try:
        for key, title in FIGURES:
            name = makers[key]()
            if name is not None:
                figures.append((title, name))
        kpis = kpi_table(data.runs, data.scenarios)
        base = _baseline(data.scenarios)
        diffs = diff_table(data.runs, data.scenarios, base) if base else None
    finally:
        data.con.close()
    md = _markdown(data, kpis, diffs, base, figures)
    from abm.sensitivity.figures import rebuild_report

    if rebuild_report(data.root) is not None:  # a sensitivity folder: indices, figures
        md += (
            "\n## Sensitivity analysis\n\nSee [sensitivity/report.md](../sensitivity/report.md).\n"
        )
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(_html(data, kpis, diffs, base, figures, out), encoding="utf-8")
    return out / "report.md"


def _header(data: _Data) -> list[tuple[str, str]]:
    m = data.manifest
    runs = data.runs
    items = [
        ("results folder", str(data.root)),
        ("experiment", str(m.get("experiment", data.root.name))),
        ("kind", str(m.get("kind", "unknown"))),
        ("runs", f"{len(runs)} finished, {data.n_failed} failed"),
        ("scenarios", ", ".join(data.scenarios)),
    ]
    missing = incomplete(data)
    if missing:
        from abm.batch.store import writer_alive

        status = str(m.get("status", "unknown"))
        if status == "running" and not writer_alive(data.root):
            status = "stopped without finishing (killed)"
        items.insert(3, ("status", f"{missing}; batch {status}; complete it with --resume"))
    if "replicate" in runs.columns:
        planned = m.get("replicates")
        seen = str(runs["replicate"].nunique())
        items.append(("replicates", f"{seen} of {planned}" if missing and planned else seen))
    if "design_point" in runs.columns and runs["design_point"].nunique() > 1:
        items.append(("design points", str(runs["design_point"].nunique())))
    for key, label in (
        ("root_seed", "root seed"),
        ("model", "model"),
        ("git_commit", "git commit"),
    ):
        if m.get(key) is not None:
            items.append((label, str(m[key])))
    if m.get("finished") or m.get("started"):
        items.append(("finished", str(m.get("finished") or m.get("started"))))
    return items


METHOD_NOTE = (
    "Cells are the mean over a scenario's runs and, in brackets, the 95 % confidence interval "
    "of that mean (Student t: mean ± t·sd/√n; for shares and non-negative totals the same "
    "interval on the logit or log scale, transformed back, so it stays within 0–100 % or "
    "above 0); it measures how precisely the batch estimates "
    "each scenario's expected outcome, not the spread of single runs. “—”: not defined "
    "(e.g. € per t when nothing was spent). All scenarios share the same replicate seeds "
    "(common random numbers)."
)
SINGLE_NOTE = "One run per scenario: the cells are that run's values, without intervals."


def _method_note(data: _Data) -> str:
    many = int(data.runs.groupby("scenario").size().max()) > 1
    return METHOD_NOTE if many else SINGLE_NOTE


DIFF_NOTE = (
    "Differences are paired on common random numbers: for each design point and replicate the "
    "scenario's run minus the baseline's run with the same seed, then mean and 95 % CI of "
    "those differences. An interval that excludes 0 is a difference the batch resolves. "
    "Costs per additional tonne: mean paired Δcost ÷ mean paired Δtonnes (the same definition "
    "as the run KPIs, which are NaN in a single run for lack of a pair), 95 % bootstrap "
    "interval over pairs; “—” when the scenario adds no tonnes. Public cost = public spend "
    "(payments, public MRV, advice funding, inspections); social cost = farmers' net private "
    "cost of practices + all MRV + advice funding + inspections (payments are transfers). "
    "Permanent tonnes: ton-year accounting, a tonne held one year = 1/100 permanent tonne "
    "(Moura Costa & Wilson 2000), counting only the simulated years."
)


def _markdown(
    data: _Data,
    kpis: pd.DataFrame,
    diffs: pd.DataFrame | None,
    base: str | None,
    figures: list[tuple[str, str]],
) -> str:
    lines = [f"# Scenario comparison — {data.manifest.get('experiment', data.root.name)}", ""]
    lines += [f"- **{k}**: {v}" for k, v in _header(data)]
    if incomplete(data):
        lines += [
            "",
            f"> **{incomplete(data)}**: the batch did not finish; figures and "
            "tables show the runs done so far.",
        ]
    if data.n_failed:
        lines += [
            "",
            f"> {data.n_failed} runs failed and are not included; see `failures.parquet`.",
        ]
    lines += ["", "## Key results per scenario", "", _method_note(data), ""]
    lines.append(markdown_table(kpis, "KPI"))
    if diffs is not None:
        lines += ["", f"## Difference to {base}", "", DIFF_NOTE, "", markdown_table(diffs, "KPI")]
    lines += ["", "## Figures", ""]
    for title, name in figures:
        lines += [f"### {title}", "", f"![{title}]({name})", ""]
    return "\n".join(lines).rstrip() + "\n"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:.85em;margin:1em 0;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{background:#f3f3f3}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
.note{color:#555;font-size:.9em}
ul.meta{columns:2;font-size:.9em}
"""


def _html_table(frame: pd.DataFrame, index_label: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [index_label, *frame.columns])
    body = []
    for idx, row in frame.iterrows():
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row.tolist())
        body.append(f"<tr><td>{html.escape(str(idx))}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html(
    data: _Data,
    kpis: pd.DataFrame,
    diffs: pd.DataFrame | None,
    base: str | None,
    figures: list[tuple[str, str]],
    out: Path,
) -> str:
    title = f"Scenario comparison — {data.manifest.get('experiment', data.root.name)}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><ul class='meta'>",
    ]
    parts += [f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in _header(data)]
    parts.append("</ul>")
    if incomplete(data):
        parts.append(
            f"<p class='note'><b>{html.escape(incomplete(data))}</b>: the batch did not "
            "finish; figures and tables show the runs done so far.</p>"
        )
    if data.n_failed:
        parts.append(
            f"<p class='note'>{data.n_failed} runs failed and are not included; see "
            "<code>failures.parquet</code>.</p>"
        )
    parts += [
        "<h2>Key results per scenario</h2>",
        f"<p class='note'>{html.escape(_method_note(data))}</p>",
    ]
    parts.append(_html_table(kpis, "KPI"))
    if diffs is not None:
        parts += [
            f"<h2>Difference to {html.escape(str(base))}</h2>",
            f"<p class='note'>{html.escape(DIFF_NOTE)}</p>",
            _html_table(diffs, "KPI"),
        ]
    parts.append("<h2>Figures</h2>")
    for fig_title, name in figures:
        b64 = base64.b64encode((out / name).read_bytes()).decode()
        parts.append(
            f"<h3>{html.escape(fig_title)}</h3>"
            f"<img alt='{html.escape(fig_title)}' src='data:image/png;base64,{b64}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
