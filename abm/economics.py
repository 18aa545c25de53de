"""Farmers' expected net benefit of each practice, EUR/ha/yr, as pure vectorised functions.

The instruments of the year (what governments and businesses offer) are gathered in
:class:`Instruments`; :func:`net_benefits` turns them, with the practice economics and the
scientists' good-practice database, into the ``NB_new`` (adopting) and ``NB_keep`` (continuing)
matrices of :mod:`abm.decisions`. The scalar twin used by the per-agent reference is
:meth:`abm.agents.farmer.Farmer.net_benefit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abm.practices import C_TO_CO2

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass
class PracticeTable:
    """Per-practice economics as (P,) arrays (from ``Params.practices``)."""

    annual_cost: FloatArray
    establishment_cost: FloatArray
    benefit: FloatArray
    years_to_benefit: FloatArray
    complexity: FloatArray
    uncertainty: FloatArray


@dataclass
class Instruments:
    """What farmers are offered this year; EUR/ha/yr unless said otherwise."""

    subsidy: FloatArray
    """(G, P) per-ha subsidy by government jurisdiction and practice (after budget scaling)."""
    carbon_price: float
    """EUR/t CO2e paid on verified sequestration, net of nothing (buffer applied below)."""
    buffer_share: float
    mrv_cost_farmer: float
    """EUR/farm/yr a farmer pays to be verified (0 when the government pays or no programme)."""
    mandate_penalty: FloatArray
    """(P,) expected penalty EUR/ha/yr for not using a mandated practice."""
    ban_penalty: FloatArray
    """(P,) expected penalty EUR/ha/yr for using a banned practice."""
    duty: FloatArray
    """(P,) logit shift from the duty to obey a mandate (+) or ban (−), beyond the fine."""
    premium: FloatArray
    """(P,) contract premium EUR/ha/yr for farmers with a contract offer."""
    insetting_price: float
    """EUR/t CO2e paid to contracted suppliers, net of the intermediary's share."""
    access: BoolArray
    """(N,) farmer has a contract offer from its business this year."""
    rate_mean: FloatArray
    """(Z, P) scientists' expected sequestration, t C/ha/yr."""
    rate_sd: FloatArray
    """(Z, P) scientists' uncertainty (sd) of it, t C/ha/yr."""


def ramp(years: FloatArray, years_to_benefit: FloatArray) -> FloatArray:
    """Share of the full benefit reached after ``years`` of use (linear ramp)."""
    t = np.maximum(years_to_benefit, 1e-9)
    out: FloatArray = np.clip(years / t, 0.0, 1.0)
    return out


def mean_ramp(horizon: float, years_to_benefit: FloatArray) -> FloatArray:
    """Average of :func:`ramp` over years 1..horizon (what a non-adopter expects)."""
    t = np.arange(1, int(max(1, round(horizon))) + 1, dtype=float)
    out: FloatArray = ramp(t[:, None], years_to_benefit[None, :]).mean(axis=0)
    return out


def capital_recovery(rate: float, horizon: float) -> float:
    """Annuity factor turning a one-off cost into EUR/yr over ``horizon`` years."""
    if rate <= 0:
        return 1.0 / horizon
    return rate / (1.0 - (1.0 + rate) ** (-horizon))


def net_benefits(
    pt: PracticeTable,
    ins: Instruments,
    *,
    zone: NDArray[np.int64],
    gov: NDArray[np.int64],
    area_ha: FloatArray,
    adopted: BoolArray,
    years: FloatArray,
    last_paid: FloatArray,
    crowding_out: float,
    horizon: float,
    discount_rate: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(NB_new, NB_keep, sd)``, each (N, P), EUR/ha/yr.

    ``NB_new`` = −annual cost + mean benefit over the horizon − annualised establishment cost
    + subsidy + expected carbon income + contract premium and insetting (if offered)
    + avoided expected penalty (mandate) − expected penalty (ban) − MRV cost per ha if this
    would be the farm's first enrolled practice.
    ``NB_keep`` uses the benefit reached after ``years`` of use, no establishment cost, the MRV
    cost if this is the farm's only practice, and loses ``crowding_out`` × the payment last
    received for the practice when that payment has stopped (Ravaioli et al. 2023).
    ``sd`` is the practice's own uncertainty plus the uncertainty of carbon income.
    """
    rate = np.maximum(ins.rate_mean[zone], 0.0)  # (N, P) t C/ha/yr
    rate_sd = ins.rate_sd[zone]
    carbon_eur_per_tc = ins.carbon_price * (1.0 - ins.buffer_share) * C_TO_CO2
    inset_eur_per_tc = np.where(ins.access, ins.insetting_price * C_TO_CO2, 0.0)[:, None]
    payment = (
        ins.subsidy[gov]
        + carbon_eur_per_tc * rate
        + inset_eur_per_tc * rate
        + np.where(ins.access[:, None], ins.premium[None, :], 0.0)
    )
    common = -pt.annual_cost[None, :] + payment + ins.mandate_penalty - ins.ban_penalty
    crf = capital_recovery(discount_rate, horizon)
    n_used = adopted.sum(axis=1)
    mrv_per_ha = ins.mrv_cost_farmer / area_ha
    nb_new = (
        common
        + pt.benefit * mean_ramp(horizon, pt.years_to_benefit)
        - pt.establishment_cost * crf
        - np.where(n_used == 0, mrv_per_ha, 0.0)[:, None]
    )
    stopped = (last_paid > 0) & (payment <= 0)
    nb_keep = (
        common
        + pt.benefit[None, :] * ramp(years, pt.years_to_benefit[None, :])
        - np.where(n_used == 1, mrv_per_ha, 0.0)[:, None]
        - np.where(stopped, crowding_out * last_paid, 0.0)
    )
    sd = pt.uncertainty[None, :] + (carbon_eur_per_tc + inset_eur_per_tc) * rate_sd
    return nb_new, nb_keep, sd
