"""Agri-food businesses: supply contracts with a price premium, and carbon insetting.

Each business buys from the farmers tied to it (``farms.business``). Its contract capacity is
``market.capacity_share`` of its suppliers times its demand index, which grows by
``market.demand_growth`` a year plus the effect of NGO campaigns. A contract requires one of
``market.premium_practices``; the premium is paid per hectare under a required practice (each
hectare once), and credits bought at ``market.insetting_price_eur_per_tco2e`` (net of
``market.intermediary_share``) on the verified sequestration (positive years only), are paid
only on verification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.practices import C_TO_CO2, PRACTICE_IDS

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel


class AgriFoodBusiness(mesa.Agent):
    """A food processor or retailer with a supply base of farmers."""

    model: SoilCarbonModel

    def __init__(self, model: SoilCarbonModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.demand = 1.0
        mk = model.params.market
        self.required = np.array([p in mk.premium_practices for p in PRACTICE_IDS])

    @property
    def offers(self) -> bool:
        """Whether this business runs a contract or insetting programme at all."""
        mk = self.model.params.market
        return mk.premium_eur_per_ha > 0 or mk.insetting_price_eur_per_tco2e > 0

    def step(self) -> None:
        """Grow demand and offer contracts to suppliers, keeping existing contracts first."""
        m = self.model
        f = m.farms
        mk = m.params.market
        self.demand *= 1.0 + mk.demand_growth + mk.campaign_demand_effect * m.campaign_level
        ins = m.instruments
        ins.premium = np.where(self.required, mk.premium_eur_per_ha, 0.0)
        ins.insetting_price = mk.insetting_price_eur_per_tco2e * (1.0 - mk.intermediary_share)
        suppliers = np.flatnonzero(f.business == self.index)
        if not self.offers or suppliers.size == 0:
            ins.access[suppliers] = False
            return
        slots = min(suppliers.size, round(mk.capacity_share * self.demand * suppliers.size))
        current = suppliers[f.contract[suppliers]][:slots]
        free = np.setdiff1d(suppliers, current, assume_unique=True)
        n_new = max(0, slots - current.size)
        new = m.rng_market.permutation(free)[:n_new]
        ins.access[suppliers] = False
        ins.access[current] = True
        ins.access[new] = True

    def settle(self) -> float:
        """Pay premiums and insetting on verification; return the premiums paid (EUR)."""
        m = self.model
        f = m.farms
        mk = m.params.market
        ins = m.instruments
        mine = f.business == self.index
        rows = np.flatnonzero(mine)  # the row-wise work on this business's farms only
        held = ins.access[rows] & (f.adopted[rows] & self.required[None, :]).any(axis=1)
        held &= f.open_to_schemes[rows]
        contracted = np.zeros(f.n, dtype=bool)
        contracted[rows] = held
        f.contract[rows] = held
        # the premium is paid per ha under a required practice, each hectare once
        under = np.zeros(f.n)
        under[rows] = np.where(self.required[None, :], f.area_share[rows], 0.0).max(axis=1)
        premiums = contracted * f.area * under * mk.premium_eur_per_ha
        credits_t = np.where(
            mine & f.inset_last & ins.access,
            np.maximum(f.measured_dsoc, 0.0) * f.area * C_TO_CO2,
            0.0,
        )
        inset = credits_t * ins.insetting_price
        paid = float(premiums.sum())
        m.ledger.record(
            m.year,
            "market_access",
            int(((premiums > 0) | (inset > 0)).sum()),
            paid + float(inset.sum()),
            float(credits_t.sum()),
        )
        m.flows["premiums_eur"] += paid
        m.flows["insetting_eur"] += float(inset.sum())
        f.inset_now |= contracted & (mk.insetting_price_eur_per_tco2e > 0)
        return paid
