"""Named outputs: the single list of timeseries columns and KPIs (DESIGN.md §6).

The model computes each year's outputs once (:meth:`abm.model.SoilCarbonModel.observe`); the
Mesa ``DataCollector`` reads them through :func:`observed` reporters (named, picklable
callables — not lambdas). KPIs are derived from the timeseries by :func:`kpis`.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from abm.practices import PRACTICE_IDS

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel

COLUMNS: tuple[str, ...] = (
    "year",
    "adoption_share",
    "adopters_share",
    *(f"adoption_share_{p}" for p in PRACTICE_IDS),
    *(f"adopted_area_ha_{p}" for p in PRACTICE_IDS),
    "soc_stock_t",
    "soc_mean_t_ha",
    "soc_change_permille",
    "soc_change_permille_since_start",
    "share_farms_4p1000",
    "sequestration_tco2e_cum",
    "storage_tco2e_cum",
    "loss_after_abandonment_tco2e_cum",
    "public_spend_eur",
    "subsidies_eur",
    "carbon_payments_eur",
    "ngo_funding_eur",
    "premiums_eur",
    "insetting_eur",
    "penalties_eur",
    "mrv_cost_eur",
    "adoptions",
    "disadoptions",
    "temperature_anomaly_c",
)
"""Timeseries columns, one row per simulated year (units: shares 0–1, t C, t C/ha, ‰/yr,
t CO2e cumulative since the start, EUR per year, counts of farm-practice events per year, °C)."""

HEADLINE_KPIS: dict[str, str] = {
    "adoption_share_2030": "share of farmed area",
    "adoption_share_2050": "share of farmed area",
    "soc_change_permille_mean": "‰/yr",
    "share_farms_4p1000_2030": "share of farms",
    "share_farms_4p1000_2050": "share of farms",
    "sequestration_tco2e_cum_final": "t CO2e since the start",
    "storage_tco2e_cum_final": "t CO2e since the start",
    "public_spend_eur_total": "EUR (total)",
    "public_cost_eur_per_tco2e": "EUR/t CO2e sequestered",
    "premiums_eur_total": "EUR (total)",
    "disadoptions_total": "farm-practice drops (total)",
}
"""KPIs printed by ``abm run``, with their units."""

REPORTING_YEARS = (2030, 2050)
KPI_COLUMNS = (
    "adoption_share",
    "adopters_share",
    "soc_mean_t_ha",
    "soc_change_permille",
    "soc_change_permille_since_start",
    "share_farms_4p1000",
    "sequestration_tco2e_cum",
    "storage_tco2e_cum",
    "loss_after_abandonment_tco2e_cum",
)
TOTAL_COLUMNS = (
    "public_spend_eur",
    "premiums_eur",
    "mrv_cost_eur",
    "penalties_eur",
    "disadoptions",
    "adoptions",
)


def observed(model: SoilCarbonModel, *, name: str) -> float:
    """Reporter: one of the model's yearly outputs by name."""
    return model.obs[name]


def model_reporters() -> dict[str, Any]:
    """The DataCollector's model reporters: named, picklable partials of :func:`observed`."""
    return {name: partial(observed, name=name) for name in COLUMNS}


def timeseries(model: SoilCarbonModel) -> pd.DataFrame:
    """The collected timeseries, one row per year, columns :data:`COLUMNS`."""
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame = frame[list(COLUMNS)].astype(float)
    frame["year"] = frame["year"].astype("int64")
    return frame


def kpis(ts: pd.DataFrame) -> dict[str, float]:
    """Scalar KPIs: ``<column>_2030`` / ``_2050``, means, totals and cost-effectiveness.

    ``public_cost_eur_per_tco2e`` = total public spend ÷ cumulative sequestration (not storage)
    at the end; NaN when nothing was sequestered or nothing spent.
    """
    out: dict[str, float] = {}
    by_year = ts.set_index("year")
    for col in KPI_COLUMNS:
        for y in REPORTING_YEARS:
            out[f"{col}_{y}"] = float(by_year[col].get(y, math.nan))
        out[f"{col}_final"] = float(ts[col].iloc[-1])
    for pid in PRACTICE_IDS:
        for y in REPORTING_YEARS:
            out[f"adoption_share_{pid}_{y}"] = float(
                by_year[f"adoption_share_{pid}"].get(y, math.nan)
            )
    out["soc_change_permille_mean"] = float(ts["soc_change_permille"].mean())
    out["share_farms_4p1000_mean"] = float(ts["share_farms_4p1000"].mean())
    for col in TOTAL_COLUMNS:
        out[f"{col}_total"] = float(ts[col].sum())
    seq = out["sequestration_tco2e_cum_final"]
    spend = out["public_spend_eur_total"]
    out["public_cost_eur_per_tco2e"] = spend / seq if seq > 0 and spend > 0 else math.nan
    return out
