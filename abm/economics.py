"""Farmers' expected net benefit of each practice, EUR/ha/yr, as pure vectorised functions.

The instruments of the year (what governments and businesses offer) are gathered in
:class:`Instruments`; :func:`net_benefits` turns them, with the practice economics and the
scientists' good-practice database, into the ``NB_new`` (adopting) and ``NB_keep`` (continuing)
matrices of :mod:`abm.decisions`. The scalar twin used by the per-agent reference is
:meth:`abm.agents.farmer.Farmer.net_benefit`.

How schemes enter a farmer's expectation (SCIENCE.md §8):

* **Per-hectare subsidy, once per hectare.** A hectare under ``k`` qualifying practices gets the
  level ``L(k)`` of the scheme (eco-scheme tiers 46.69/63.72/93.72 EUR/ha; one level = a flat
  rate). Practices on a farm are nested on the same hectares, so the farm's paid area at level
  ``k`` or more is its ``k``-th largest area share (:func:`tier_payment_per_ha`). A farmer
  weighs the *marginal* level: adopting one more qualifying practice is worth
  ``L(n+1) − L(n)``, keeping one ``L(n) − L(n−1)`` (``n`` = qualifying practices in use).
  Per-practice payments (``subsidy``) stack only where a scenario declares them.
* **Result-based carbon payment, voluntary.** Enrolling pays ``price × (1 − buffer −
  deduction)`` per verified t CO2e and costs the farmer a fixed MRV fee (if it pays it) and its
  own hassle. Its expected yearly value per ha is ``X = Σ_used c_p − fixed/area`` with
  ``c_p`` = net price × the scientists' expected sequestration rate; the farm enrols only when
  ``X > 0``, so a practice's carbon value is ``max(0, X + c_p) − max(0, X)`` (adopting) or
  ``max(0, X) − max(0, X − c_p)`` (keeping): never negative, so a low price can never make a
  practice look worse than without the programme.
* **Persistent heterogeneity.** Each farm has its own net-cost deviation per practice
  (``cost_dev``, drawn once from the published spread of costs), hence its own willingness to
  accept a payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from abm import kernels_model
from abm.practices import C_TO_CO2, PRACTICE_IDS

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
    """(G, P) declared per-practice payment per ha of the practice, by jurisdiction."""
    tier_levels: FloatArray
    """(G, K + 1) per-hectare level of a hectare under 0, 1, ..., K+ qualifying practices."""
    tier_practices: BoolArray
    """(P,) practices that qualify a hectare for the per-hectare level."""
    carbon_price: float
    """EUR/t CO2e paid on verified sequestration (before buffer and deduction)."""
    buffer_share: float
    deduction_share: float
    fixed_cost_farmer: float
    """EUR/farm/yr an enrolled farmer bears: its MRV fee (if it pays) and its hassle cost."""
    mandate_penalty: FloatArray
    """(P,) expected conditionality reduction EUR/ha/yr for not using a mandated practice."""
    ban_penalty: FloatArray
    """(P,) expected conditionality reduction EUR/ha/yr for using a banned practice."""
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

    @property
    def carbon_net_eur_per_tc(self) -> float:
        """What a farmer keeps per verified t C: price × (1 − buffer − deduction) × 44/12."""
        keep = max(1.0 - self.buffer_share - self.deduction_share, 0.0)
        return self.carbon_price * keep * C_TO_CO2


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


def tier_levels(rates: list[float]) -> FloatArray:
    """``[0, L(1), ..., L(K)]`` from the levels of 1..K qualifying practices."""
    return np.concatenate([[0.0], np.asarray(rates, dtype=float)])


def level_at(levels: FloatArray, k: NDArray[np.int64]) -> FloatArray:
    """``L(k)`` per farm: ``levels`` (N, K + 1), ``k`` (N,) clipped to 0..K."""
    kk = np.clip(k, 0, levels.shape[1] - 1)
    out: FloatArray = np.take_along_axis(levels, kk[:, None], axis=1)[:, 0]
    return out


def tier_payment_per_ha(
    share: FloatArray, tier_practices: BoolArray, levels: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-hectare payment per ha of farm, and its split over practices.

    Practices are nested on the same hectares: the area at level ``k`` or more is the ``k``-th
    largest share of the qualifying practices, so the farm gets
    ``Σ_k s_(k) · (L(k) − L(k−1))`` per ha of farm (each hectare once, at its level).
    The split over practices (for additionality) is proportional to their shares.

    Parameters
    ----------
    share
        (N, P) area shares.
    tier_practices
        (P,) practices that qualify.
    levels
        (N, K + 1) levels per farm (its jurisdiction's).
    """
    s = np.where(tier_practices[None, :], share, 0.0)
    ordered = -np.sort(-s, axis=1)
    inc = np.diff(levels, axis=1)  # (N, K)
    n_p = s.shape[1]
    k = min(inc.shape[1], n_p)
    pay = (ordered[:, :k] * inc[:, :k]).sum(axis=1)
    total = s.sum(axis=1)
    split = np.divide(
        s * pay[:, None], total[:, None], out=np.zeros_like(s), where=total[:, None] > 0
    )
    return pay, split


def carbon_values(
    ins: Instruments, adopted: BoolArray, zone: NDArray[np.int64], area_ha: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Expected carbon value of voluntary enrolment, EUR/ha/yr.

    Returns ``(x, c, new, keep)``: ``x`` (N,) the farm's expected net value of enrolling with
    its current practices, ``c`` (N, P) each practice's expected credit income, and the
    carbon value of adopting / keeping each practice (both >= 0, see the module docstring).
    """
    # element-wise per zone, then per farm: the same doubles as per farm
    c = (ins.carbon_net_eur_per_tc * np.maximum(ins.rate_mean, 0.0))[zone]
    fixed = ins.fixed_cost_farmer / area_ha if ins.carbon_price > 0 else np.zeros_like(area_ha)
    x = (adopted * c).sum(axis=1) - fixed
    pos = np.maximum(x, 0.0)[:, None]
    new = np.maximum(x[:, None] + c, 0.0) - pos
    keep = pos - np.maximum(x[:, None] - c, 0.0)
    return x, c, new, keep


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
    cost_dev: FloatArray,
    open_to_schemes: BoolArray,
    crowding_out: float,
    horizon: float,
    discount_rate: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(NB_new, NB_keep, sd)``, each (N, P), EUR/ha/yr.

    ``NB_new`` = −(annual cost + the farm's own deviation) + mean benefit over the horizon
    − annualised establishment cost + payments (declared per-practice payment, the marginal
    per-hectare level, the carbon value of enrolling, contract premium and insetting if
    offered) + avoided expected conditionality reduction (mandate) − expected reduction (ban).
    ``NB_keep`` uses the benefit reached after ``years`` of use, no establishment cost, the
    marginal level and carbon value of keeping, and loses ``crowding_out`` × the payment last
    received for the practice when that payment has stopped (Ravaioli et al. 2023).
    ``sd`` is the practice's own uncertainty plus that of insetting income (if offered).
    Farms closed to schemes (``open_to_schemes`` False) count no payment at all.
    """
    rate_sd = ins.rate_sd[zone]
    inset_eur_per_tc = np.where(ins.access, ins.insetting_price * C_TO_CO2, 0.0)
    rate = np.maximum(ins.rate_mean, 0.0)[zone]  # element-wise, so per zone then per farm
    levels = ins.tier_levels[gov]
    n_tier = (adopted & ins.tier_practices[None, :]).sum(axis=1)
    tier_new = level_at(levels, n_tier + 1) - level_at(levels, n_tier)
    tier_keep = level_at(levels, n_tier) - level_at(levels, n_tier - 1)
    _, _, carbon_new, carbon_keep = carbon_values(ins, adopted, zone, area_ha)
    crf = capital_recovery(discount_rate, horizon)
    shape = adopted.shape
    # payments, the base, both net benefits and sd fused element-wise (same operation order)
    return kernels_model.net_benefit_terms(
        (gov, inset_eur_per_tc, ins.access, open_to_schemes, tier_new, tier_keep),
        (
            rate,
            rate_sd,
            carbon_new,
            carbon_keep,
            np.broadcast_to(cost_dev, shape),
            np.broadcast_to(last_paid, shape),
            adopted,
            ramp(years, pt.years_to_benefit[None, :]),
            ins.subsidy,
        ),
        (
            ins.premium,
            ins.tier_practices,
            pt.annual_cost,
            np.broadcast_to(ins.mandate_penalty, shape[1:]),
            np.broadcast_to(ins.ban_penalty, shape[1:]),
            pt.benefit * mean_ramp(horizon, pt.years_to_benefit),
            pt.establishment_cost * crf,
            pt.benefit,
            pt.uncertainty,
        ),
        crowding_out,
    )


def cost_trend(params: Any, year: int) -> FloatArray:
    """(P,) annual cost of each practice in ``year``, EUR/ha/yr, after technical change.

    ``market.cost_decline_eur_per_ha[p]`` is gained after the model's start year, linearly
    over ``market.cost_decline_yr`` years: ``cost_p − decline_p · min(1, (year − start) / T)``.
    The start year keeps its cost — the burn-in and the stationary intercepts see it, and the
    first simulated year reproduces the first observed share — and the decline is complete
    ``T`` years later. A relative advantage gained by every farm — cheaper inputs and
    machinery — as opposed to a payment: no budget, no scheme openness, no crowding-out, no
    public spend.
    """
    m = params.market
    base = np.array(
        [getattr(params.practices, pid).annual_cost_eur_per_ha for pid in PRACTICE_IDS], float
    )
    share = min(1.0, max(0.0, (year - params.start_year) / m.cost_decline_yr))
    decline = np.array([m.cost_decline_eur_per_ha.get(pid, 0.0) for pid in PRACTICE_IDS])
    out: FloatArray = base - decline * share
    return out
