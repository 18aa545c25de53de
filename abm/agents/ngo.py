"""NGOs: advice within a yearly capacity (trust-weighted knowledge gain) and awareness campaigns.

Capacity per NGO = ``advice.ngo_capacity_share`` × farms, plus the public funding it receives
(``policy.ngo_funding_eur_per_yr`` shared equally among NGOs) divided by
``advice.cost_per_advice_eur``. Advised farmers are drawn from the NGO's advisory ties; each
gains ``advice.knowledge_gain × trust × (1 − knowledge)`` for every practice. Campaigns raise
every farmer's attitude by ``advice.campaign_intensity × (1 − attitude)`` and lift business demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel


class NGO(mesa.Agent):
    """A civil-society organisation advising farmers."""

    model: SoilCarbonModel

    def __init__(self, model: SoilCarbonModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    def capacity(self) -> int:
        """Farms this NGO can advise this year."""
        m = self.model
        adv = m.params.advice
        funded = 0.0
        if not m.burning_in and any(g.active() for g in m.governments):
            funded = m.params.policy.ngo_funding_eur_per_yr / len(m.ngos) / adv.cost_per_advice_eur
        return int(adv.ngo_capacity_share * m.farms.n + funded)

    def step(self) -> None:
        """Advise tied farmers (non-adopters first) and run the campaign."""
        m = self.model
        f = m.farms
        adv = m.params.advice
        tied = np.flatnonzero(f.ngo == self.index)
        cap = min(self.capacity(), tied.size)
        if cap > 0:
            order = m.rng_advice.permutation(tied)
            # farmers using nothing yet come first: advice goes where it can change most
            order = order[np.argsort(f.adopted[order].any(axis=1), kind="stable")]
            chosen = order[:cap]
            gain = adv.knowledge_gain * f.trust[chosen][:, None]
            f.knowledge[chosen] += gain * (1.0 - f.knowledge[chosen])
            m.ledger.record(m.year, "advice", chosen.size, chosen.size * adv.cost_per_advice_eur)
        if m.campaign_level > 0:
            f.attitude += m.campaign_level / len(m.ngos) * (1.0 - f.attitude)
