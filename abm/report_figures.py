"""Figures of the comparison report (:mod:`abm.report`): one matplotlib PNG per figure.

Public names are re-exported by :mod:`abm.report`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
from abm.report_stats import (
    BASELINE,
    BASELINE_COLOR,
    DPI,
    KIND_COLORS,
    KINDS,
    NON_NEGATIVE,
    PALETTE,
    PERCENT,
    SEQ_KPI,
    SPEND_KPI,
    TARGET_PERMILLE,
    _baseline,
    _Data,
    mean_ci,
    paired_costs,
    timeseries_stats,
)


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
