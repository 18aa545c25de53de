"""Government agents: incentives, regulation, advice funding, the budget and the 4‰ target.

One government per jurisdiction (farms are assigned to jurisdictions by zone). Instruments are
active from ``policy.start_year`` to ``policy.end_year`` inclusive. Every instrument is paid
within the jurisdiction's budget (``policy.budget_eur_per_yr`` shared by farmed area): when claims
exceed it, all payments are scaled down pro rata, and farmers expect that scale next year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.practices import C_TO_CO2, PRACTICE_IDS

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel


class Government(mesa.Agent):
    """A policy maker for one jurisdiction."""

    model: SoilCarbonModel

    def __init__(self, model: SoilCarbonModel, jurisdiction: int, area_share: float) -> None:
        super().__init__(model)
        pol = model.params.policy
        self.jurisdiction = jurisdiction
        self.subsidy_factor = 1.0
        self.base_rates = np.array(
            [
                pol.subsidy_by_practice.get(p, pol.subsidy_eur_per_ha)
                if p in pol.subsidy_practices or p in pol.subsidy_by_practice
                else 0.0
                for p in PRACTICE_IDS
            ]
        )
        self.budget = None if pol.budget_eur_per_yr is None else pol.budget_eur_per_yr * area_share
        self.budget_scale = 1.0
        self.permille_history: list[float] = []
        self.enforcement = 0.0

    def active(self) -> bool:
        """Whether the instruments run in the model's current year."""
        pol = self.model.params.policy
        return pol.start_year <= self.model.year <= pol.end_year

    def step(self) -> None:
        """Set this year's instruments: subsidy rates (adaptive rule), carbon price, regulation."""
        m = self.model
        pol = m.params.policy
        on = self.active()
        if pol.adaptive and on and self.permille_history:
            if self.permille_history[-1] < pol.target_permille:
                self.subsidy_factor *= 1.0 + pol.adaptive_step
        ins = m.instruments
        ins.subsidy[self.jurisdiction] = (
            self.base_rates * self.subsidy_factor * self.budget_scale if on else 0.0
        )
        # national instruments: every jurisdiction applies the same rules
        ins.carbon_price = pol.carbon_price_eur_per_tco2e * self.budget_scale if on else 0.0
        ins.buffer_share = pol.buffer_share
        programme = on and pol.carbon_price_eur_per_tco2e > 0
        ins.mrv_cost_farmer = (
            pol.mrv_cost_eur_per_farm if programme and not pol.mrv_paid_by_government else 0.0
        )
        reg = pol.regulation
        ramp = 0.0
        if on:
            years_in = m.year - pol.start_year + 1
            ramp = min(1.0, years_in / reg.compliance_ramp_yr) if reg.compliance_ramp_yr else 1.0
        self.enforcement = ramp
        expected = reg.inspection_prob * reg.penalty_eur_per_ha * ramp
        ins.mandate_penalty = np.array(
            [expected if p in reg.mandate else 0.0 for p in PRACTICE_IDS]
        )
        ins.ban_penalty = np.array([expected if p in reg.ban else 0.0 for p in PRACTICE_IDS])
        duty = reg.compliance_logit * ramp
        ins.duty = np.array(
            [duty if p in reg.mandate else -duty if p in reg.ban else 0.0 for p in PRACTICE_IDS]
        )

    def settle(self) -> float:
        """Pay subsidies and result-based payments, inspect and fine; return public spend (EUR)."""
        m = self.model
        f = m.farms
        pol = m.params.policy
        mine = f.gov == self.jurisdiction
        ins = m.instruments
        area = f.area * mine
        used = f.adopted & f.eligible
        per_ha = (used * ins.subsidy[self.jurisdiction][None, :]).sum(axis=1)
        subsidy_claims = per_ha * area
        # result-based payment on the change verified this year (farms enrolled last year)
        enrolled = f.enrolled_last & mine & (ins.carbon_price > 0)
        credits_t = np.where(enrolled, np.maximum(f.measured_dsoc, 0.0) * f.area * C_TO_CO2, 0.0)
        carbon_claims = credits_t * ins.carbon_price * (1.0 - ins.buffer_share)
        claims = float(subsidy_claims.sum() + carbon_claims.sum())
        scale = 1.0
        if self.budget is not None and claims > self.budget:
            scale = self.budget / claims
        self.budget_scale = scale if self.budget is not None else 1.0
        paid_sub = subsidy_claims * scale
        paid_carbon = carbon_claims * scale
        # what each farmer received per ha and practice (for crowding-out when it stops)
        got = used & (ins.subsidy[self.jurisdiction][None, :] > 0) & mine[:, None]
        f.last_paid[got] = np.broadcast_to(ins.subsidy[self.jurisdiction] * scale, got.shape)[got]
        year = m.year
        m.ledger.record(year, "incentive", int((paid_sub > 0).sum()), float(paid_sub.sum()))
        m.ledger.record(
            year,
            "incentive",
            int((paid_carbon > 0).sum()),
            float(paid_carbon.sum()),
            float(credits_t.sum() * (1.0 - ins.buffer_share)),
        )
        # MRV paid by the government
        mrv = 0.0
        if pol.mrv_paid_by_government and ins.carbon_price > 0:
            mrv = float((f.enrolled_last & mine).sum() * pol.mrv_cost_eur_per_farm)
        # inspections (regulation)
        fines = self._inspect(mine)
        ngo_funding = self._advice_funding()
        m.flows["subsidies_eur"] += float(paid_sub.sum())
        m.flows["carbon_payments_eur"] += float(paid_carbon.sum())
        m.flows["penalties_eur"] += fines
        m.flows["public_mrv_eur"] += mrv
        return float(paid_sub.sum() + paid_carbon.sum()) + mrv + ngo_funding

    def _inspect(self, mine: np.ndarray) -> float:
        m = self.model
        f = m.farms
        reg = m.params.policy.regulation
        ins = m.instruments
        rules = (ins.mandate_penalty > 0) | (ins.ban_penalty > 0)
        if not self.active() or not rules.any():
            return 0.0
        inspected = mine & (m.rng_inspection.random(f.n) < reg.inspection_prob)
        mandated = ins.mandate_penalty > 0
        banned = ins.ban_penalty > 0
        breach = (f.eligible & mandated[None, :] & ~f.adopted) | (f.adopted & banned[None, :])
        found = inspected & breach.any(axis=1)
        fines = found * f.area * reg.penalty_eur_per_ha * self.enforcement
        m.ledger.record(m.year, "regulation", int(inspected.sum()), float(fines.sum()))
        return float(fines.sum())

    def _advice_funding(self) -> float:
        pol = self.model.params.policy
        if not self.active():
            return 0.0
        return pol.ngo_funding_eur_per_yr / len(self.model.governments)
