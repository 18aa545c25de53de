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

from abm.equilibrium import COLUMNS as EQUILIBRIUM_COLUMNS
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
    "soc_change_permille_5yr",
    "share_farms_4p1000",
    "sequestration_tco2e_cum",
    "storage_tco2e_cum",
    "biochar_tco2e_cum",
    "n2o_tco2e_cum",
    "other_emissions_tco2e_cum",
    "net_ghg_tco2e_cum",
    "leakage_tco2e_cum",
    "production_index",
    "awc_mm_mean",
    "n_locked_t_cum",
    "manure_moved_t_c_cum",
    "manure_imported_t_c_cum",
    "carbon_inputs_t_cum",
    "co2_respired_t_cum",
    "loss_after_abandonment_tco2e_cum",
    "public_spend_eur",
    "subsidies_eur",
    "carbon_payments_eur",
    "ngo_funding_eur",
    "premiums_eur",
    "insetting_eur",
    "penalties_eur",
    "mrv_cost_eur",
    "adopted_area_ha",
    "private_cost_eur",
    "inspection_cost_eur",
    "public_mrv_eur",
    "nonadditional_payments_eur",
    "credits_verified_tco2e",
    "enrolled_farms",
    "buffer_tco2e",
    "reversals_tco2e_cum",
    "compliance_share",
    "adoptions",
    "disadoptions",
    "temperature_anomaly_c",
    *EQUILIBRIUM_COLUMNS,
)
"""Timeseries columns, one row per simulated year (units: shares 0–1, t C, t C/ha, ‰/yr,
t CO2e cumulative since the start, EUR per year, counts of farm-practice events per year, °C).

Carbon accounting (SCIENCE.md §7): ``storage_tco2e_cum`` is the part of the SOC change since
the start made of carbon brought onto farms (manure and compost received, biochar) net of the
manure farms gave away; ``sequestration_tco2e_cum`` the rest; ``biochar_tco2e_cum`` the stable
biochar pool (part of storage); ``n2o_tco2e_cum`` the N2O of the N practices add (IPCC 2019
Tier 1, GWP100 AR6); ``other_emissions_tco2e_cum`` irrigation pumping; ``net_ghg_tco2e_cum`` =
sequestration − N2O − other emissions; ``leakage_tco2e_cum`` the emissions of output produced
elsewhere because this landscape produces less (reported, not subtracted);
``production_index`` output relative to the start; ``awc_mm_mean`` the area-weighted change of
available water capacity from SOC, mm; ``n_locked_t_cum`` the N (t) locked in the SOC gained;
``soc_change_permille_5yr`` the landscape's annualised change over the last five years (the
4‰ indicator; ``share_farms_4p1000`` uses the same window per farm).
``carbon_inputs_t_cum`` and ``co2_respired_t_cum`` close the mass balance:
stock change = inputs − CO2.

Adoption counts area: ``adoption_share_<p>`` = Σ area × area share of ``p`` / Σ area;
``adoption_share`` = Σ area × largest area share / Σ area (practices on a farm are nested on
the same hectares, so the area under any practice is its largest share); ``adopted_area_ha``
is that area. ``compliance_share`` is NaN without a mandate or ban.

Saturation and the new equilibrium (:mod:`abm.equilibrium`): ``saturation_ratio_mean`` the
area-weighted ratio of mineral-associated C (BIO + HUM + IOM) to the capacity of the active
``soil.saturation`` option (Hassink as a diagnostic when it is ``none``), with the Hassink and
Georgiou diagnostics (``_hassink``, ``_georgiou``) always; ``share_farms_over_90pct_saturation``
(active capacity); ``remaining_capacity_t`` the landscape's room left, t C;
``soc_equilibrium_mean_t_ha`` the stock the year's practices lead to under the year's normals;
``equilibrium_progress_mean`` the share of the way from the policy-start stock to it (NaN when
the two are within 1 ‰)."""

HEADLINE_KPIS: dict[str, str] = {
    "adoption_share_2030": "share of farmed area",
    "adoption_share_2050": "share of farmed area",
    "soc_change_permille_mean": "‰/yr",
    "share_farms_4p1000_2030": "share of farms",
    "share_farms_4p1000_2050": "share of farms",
    "sequestration_tco2e_cum_final": "t CO2e since the start",
    "storage_tco2e_cum_final": "t CO2e since the start",
    "n2o_tco2e_cum_final": "t CO2e since the start",
    "net_ghg_tco2e_cum_final": "t CO2e since the start",
    "production_index_final": "output relative to the start",
    "public_spend_eur_total": "EUR (total)",
    "social_cost_eur_total": "EUR (total)",
    "additionality_share": "share of payments",
    "premiums_eur_total": "EUR (total)",
    "disadoptions_total": "farm-practice drops (total)",
}
"""KPIs printed by ``abm run``, with their units."""

REPORTING_YEARS = (2030, 2050)
KPI_COLUMNS = (
    "adoption_share",
    "adopters_share",
    "adopted_area_ha",
    "soc_mean_t_ha",
    "soc_change_permille",
    "soc_change_permille_since_start",
    "soc_change_permille_5yr",
    "share_farms_4p1000",
    "sequestration_tco2e_cum",
    "storage_tco2e_cum",
    "biochar_tco2e_cum",
    "n2o_tco2e_cum",
    "net_ghg_tco2e_cum",
    "leakage_tco2e_cum",
    "production_index",
    "awc_mm_mean",
    "n_locked_t_cum",
    "loss_after_abandonment_tco2e_cum",
    "enrolled_farms",
    "buffer_tco2e",
    "reversals_tco2e_cum",
    "compliance_share",
    *EQUILIBRIUM_COLUMNS,
)
TOTAL_COLUMNS = (
    "public_spend_eur",
    "subsidies_eur",
    "carbon_payments_eur",
    "premiums_eur",
    "mrv_cost_eur",
    "public_mrv_eur",
    "ngo_funding_eur",
    "penalties_eur",
    "inspection_cost_eur",
    "private_cost_eur",
    "nonadditional_payments_eur",
    "credits_verified_tco2e",
    "disadoptions",
    "adoptions",
)

PERMANENCE_HORIZON_YR = 100.0
"""Ton-year accounting horizon (Moura Costa & Wilson 2000, Mitig. Adapt. Strateg. Glob. Change
5:51): a tonne held out of the atmosphere for one year is 1/100 of a permanent tonne."""

COST_PER_TONNE = {
    "public_cost_eur_per_additional_tco2e": (
        "public_spend_eur_total",
        "sequestration_tco2e_cum_final",
    ),
    "social_cost_eur_per_additional_tco2e": (
        "social_cost_eur_total",
        "sequestration_tco2e_cum_final",
    ),
    "public_cost_eur_per_additional_permanent_tco2e": (
        "public_spend_eur_total",
        "sequestration_permanent_tco2e",
    ),
    "social_cost_eur_per_additional_permanent_tco2e": (
        "social_cost_eur_total",
        "sequestration_permanent_tco2e",
    ),
}
"""The cost-per-tonne KPIs: name → (cost KPI, tonnes KPI). ONE definition everywhere: the mean
paired difference of the cost over the mean paired difference of the tonnes, scenario minus the
no-new-policy baseline on the same seed (common random numbers), :func:`cost_per_tonne`.
A single run has no paired baseline, so its value is NaN; ``abm report`` computes them from the
pairs of a batch."""


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


def cost_per_tonne(d_cost: Any, d_tonnes: Any) -> float:
    """EUR per additional t: mean paired Δcost ÷ mean paired Δtonnes (NaN unless Δt > 0).

    Both arguments are per-pair differences (scenario − baseline, same seed).
    """
    import numpy as np

    c = np.asarray(d_cost, dtype=float)
    t = np.asarray(d_tonnes, dtype=float)
    ok = np.isfinite(c) & np.isfinite(t)
    if not ok.any() or t[ok].mean() <= 0:
        return math.nan
    return float(c[ok].mean() / t[ok].mean())


def kpis(ts: pd.DataFrame, *, policy_start: int | None = None) -> dict[str, float]:
    """Scalar KPIs: ``<column>_2030`` / ``_2050``, means, totals, additionality and costs.

    * ``additionality_share`` = 1 − payments (subsidies + carbon) on area the farm already had
      under the practice when the scheme started ÷ all payments; NaN without payments.
    * ``social_cost_eur_total`` = farmers' net private cost of practices + all MRV + public
      advice funding + inspections (payments, premiums and penalties are transfers: they cancel
      between the public, farmers and businesses).
    * ``sequestration_permanent_tco2e`` = Σ over simulated years of the cumulative
      sequestration ÷ :data:`PERMANENCE_HORIZON_YR` (ton-years; nothing is counted for years
      after the run ends, so tonnes lost after payments stop count for less).
    * the per-tonne costs of :data:`COST_PER_TONNE`: NaN in a single run (see there).
    * ``soc_change_permille_policy`` = the landscape's annualised change from ``policy_start``
      to the end (NaN without it); ``storage_share_final`` = storage ÷ stock change at the end.
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
    out["net_ghg_tco2e_2050"] = out["net_ghg_tco2e_cum_2050"]
    out["soc_change_permille_policy"] = _permille_since(ts, policy_start)
    stock_change = out["sequestration_tco2e_cum_final"] + out["storage_tco2e_cum_final"]
    out["storage_share_final"] = (
        out["storage_tco2e_cum_final"] / stock_change if stock_change > 0 else math.nan
    )
    out["share_farms_4p1000_mean"] = float(ts["share_farms_4p1000"].mean())
    for col in TOTAL_COLUMNS:
        out[f"{col}_total"] = float(ts[col].sum())
    paid = out["subsidies_eur_total"] + out["carbon_payments_eur_total"]
    nonadd = out["nonadditional_payments_eur_total"]
    out["additionality_share"] = 1.0 - nonadd / paid if paid > 0 else math.nan
    out["social_cost_eur_total"] = (
        out["private_cost_eur_total"]
        + out["mrv_cost_eur_total"]
        + out["ngo_funding_eur_total"]
        + out["inspection_cost_eur_total"]
    )
    out["sequestration_permanent_tco2e"] = float(
        ts["sequestration_tco2e_cum"].sum() / PERMANENCE_HORIZON_YR
    )
    for name in COST_PER_TONNE:
        out[name] = math.nan
    return out


def _permille_since(ts: pd.DataFrame, year: int | None) -> float:
    """Landscape SOC change annualised from the end of ``year − 1`` to the last year, ‰/yr.

    ``soc_change_permille_policy``: the mean yearly change over the policy period (geometric),
    the figure compared with national technical potentials (e.g. INRAE 2019, 30-yr means).
    NaN when the run does not cover the year before ``year``.
    """
    if year is None:
        return math.nan
    by_year = ts.set_index("year")["soc_stock_t"]
    before = by_year.get(year - 1)
    last_year = int(ts["year"].iloc[-1])
    if before is None or last_year < year:
        return math.nan
    n = last_year - year + 1
    return float(1000.0 * ((by_year[last_year] / before) ** (1.0 / n) - 1.0))
