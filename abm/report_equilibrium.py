"""Report figure of saturation and the new equilibrium (issue 15), for :mod:`abm.report`.

Left: the Lal (2004) curve of each scenario — the mean SOC stock over time (solid, with its
band over runs) and the equilibrium the year's practices lead to under the year's climate
normals (dashed, :mod:`abm.equilibrium`). Right: the spread of the final-year saturation ratio
(mineral-associated C = BIO + HUM + IOM over the capacity of the active ``soil.saturation``
option, Hassink as a diagnostic when it is ``none``) over zones and runs, from ``zones.parquet``
(over runs only when a folder has no zone table).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from abm.report import _Data

SOURCE = (
    "Source: model runs (RothC-26.3 fixed point of each year's drivers, abm.equilibrium); "
    "capacities Hassink 1997, Georgiou et al. 2022"
)


def _final_ratios(data: _Data) -> tuple[str, dict[str, np.ndarray]]:
    """Final-year saturation ratios per scenario: over zones × runs, else over runs."""
    con = data.con
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    cols: set[str] = set()
    if "zones" in tables:
        cols = {d[0] for d in con.execute("SELECT * FROM zones LIMIT 0").description}
    if "saturation_ratio_mean" in cols:
        sql = """
            SELECT rs.scenario, z.saturation_ratio_mean AS x FROM zones z JOIN rs USING (run_id)
            WHERE z.year = (SELECT max(year) FROM zones) AND isfinite(z.saturation_ratio_mean)
        """
        what = "zones × runs"
    else:
        sql = """
            SELECT scenario, saturation_ratio_mean AS x FROM ts
            WHERE year = (SELECT max(year) FROM ts) AND isfinite(saturation_ratio_mean)
        """
        what = "runs"
    frame = con.execute(sql).df()
    return what, {
        name: frame.loc[frame["scenario"] == name, "x"].to_numpy(dtype=float)
        for name in data.scenarios
    }


def fig_equilibrium(data: _Data, out: Path, colors: dict[str, str]) -> str | None:
    """SOC heading to its equilibrium per scenario, and the final saturation-ratio spread."""
    from abm import report as rp

    needed = ("soc_mean_t_ha", "soc_equilibrium_mean_t_ha", "saturation_ratio_mean")
    if any(c not in data.ts_columns for c in needed):
        return None
    fig = rp._figure(11.0, 4.6, ncols=2)
    ax, ax2 = fig.axes
    # means over runs only: the SOC figure carries the bands, here they would hide the gap
    soc = rp.timeseries_stats(data, "soc_mean_t_ha").assign(n=1)
    target = rp.timeseries_stats(data, "soc_equilibrium_mean_t_ha").assign(n=1)
    rp._band_plot(ax, soc, data.scenarios, colors)
    rp._band_plot(ax, target, data.scenarios, colors, style="--", label=False)
    ax.plot([], [], "--", color="#888888", label="equilibrium of the year's practices")
    ax.set_xlabel("year")
    ax.set_ylabel("mean SOC, 0–30 cm (t C/ha)")
    ax.set_title("SOC (solid) and the equilibrium it heads to (dashed), means", fontsize=10)
    rp._style(ax)
    what, ratios = _final_ratios(data)
    for k, name in enumerate(data.scenarios):
        x = ratios[name]
        if x.size == 0:
            continue
        jitter = np.linspace(-0.15, 0.15, x.size) if x.size > 1 else np.zeros(1)
        ax2.scatter(k + jitter, 100 * x, s=14, color=colors[name], alpha=0.7, lw=0)
        ax2.hlines(100 * float(np.mean(x)), k - 0.25, k + 0.25, color=colors[name], lw=2)
    ax2.axhline(100, color="#c00000", ls="--", lw=1.2)
    ax2.axhline(90, color="#c00000", ls=":", lw=0.9)
    ax2.set_xticks(range(len(data.scenarios)), data.scenarios, rotation=30, ha="right")
    ax2.set_ylim(bottom=0)
    ax2.set_ylabel("mineral-associated C / capacity (%)")
    ax2.set_title(f"Saturation ratio in the final year ({what})", fontsize=10)
    rp._style(ax2)
    fig.text(0.01, 0.005, SOURCE, fontsize=6.5, color="#666666")
    rp._legend(fig, ax, rp.incomplete(data) or None)
    return rp._save(fig, out / "equilibrium.png")
