"""Scientists: the good-practice database, MRV (measurement, reporting, verification), advice.

Database: for every zone × practice, the expected sequestration rate (t C/ha/yr) and its
uncertainty. The prior mean is the RothC estimate for the zone's typical farm
(:meth:`abm.model.SoilCarbonModel.practice_rates`) times a log-normal error of sd
``advice.prior_rel_sd`` (scientists start uncertain and possibly wrong); the prior sd is
``prior_rel_sd`` × that mean. MRV observations update it by the conjugate normal rule:
``1/sd² ← 1/sd² + n/σ²`` and the mean moves to the precision-weighted average, where an
observation is a verified farm's measured yearly SOC change and ``σ`` is
``advice.mrv_error_sd_t_c_ha`` plus the spread between farms. (A farm's measured change mixes all
its practices and weather; treating it as evidence on each practice it uses is a documented
simplification.)

MRV design: measure-and-remodel, yearly. Farms enrolled in a result-based scheme or an insetting
contract last year are verified: their *sequestration* last year (``farms.dseq_last``, the SOC
change without imported carbon, which the soil update sets) plus a normal error of mean 0 and sd
``advice.mrv_error_sd_t_c_ha`` (unbiased; independent years sum to ~3 t C/ha at 2 sd over 10
yr, the detection limit Bradford et al. 2023 find for field sampling). The cost per farm
verified is ``policy.mrv_cost_eur_per_farm``. Advice visits cost ``advice.cost_per_advice_eur``
each (extension budgets, not the scheme's public spend).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.practices import C_TO_CO2

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel


class Scientist(mesa.Agent):
    """A research and extension team; farm ``i`` is verified by scientist ``i mod n``."""

    model: SoilCarbonModel

    def __init__(self, model: SoilCarbonModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    def step(self) -> None:
        """Verify last year's change on enrolled farms, update the database, advise."""
        m = self.model
        f = m.farms
        adv = m.params.advice
        mine = (np.arange(f.n) % len(m.scientists)) == self.index
        measured = mine & (f.enrolled_last | f.inset_last)
        n = int(measured.sum())
        if n:
            noise = m.rng_mrv.normal(0.0, adv.mrv_error_sd_t_c_ha, n)
            f.measured_dsoc[measured] = f.dseq_last[measured] + noise
            cost = n * m.params.policy.mrv_cost_eur_per_farm
            tco2e = float((f.measured_dsoc[measured] * f.area[measured]).sum() * C_TO_CO2)
            m.ledger.record(m.year, "verification", n, cost, tco2e)
            m.flows["mrv_cost_eur"] += cost
            self._update_database(measured)
        cap = min(int(adv.scientist_capacity_share * f.n), int(mine.sum()))
        if cap > 0:
            chosen = m.rng_advice.choice(np.flatnonzero(mine), cap, replace=False)
            f.knowledge[chosen] += adv.knowledge_gain * (1.0 - f.knowledge[chosen])
            m.ledger.record(m.year, "advice", cap, cap * adv.cost_per_advice_eur)

    def _update_database(self, measured: np.ndarray) -> None:
        m = self.model
        f = m.farms
        sigma2 = m.params.advice.mrv_error_sd_t_c_ha**2 + m.farm_rate_var
        n_z = len(m.zone_names)
        for p in range(f.adopted.shape[1]):
            users = measured & f.adopted[:, p]  # still last year's use: farmers decide later
            if not users.any():
                continue
            zs = f.zone[users]
            counts = np.bincount(zs, minlength=n_z).astype(float)
            sums = np.bincount(zs, weights=f.measured_dsoc[users], minlength=n_z)
            seen = counts > 0
            prec0 = 1.0 / np.maximum(m.rate_sd[:, p] ** 2, 1e-12)
            prec = prec0 + counts / sigma2
            mean = (m.rate_mean[:, p] * prec0 + sums / sigma2) / prec
            m.rate_mean[seen, p] = mean[seen]
            m.rate_sd[seen, p] = np.sqrt(1.0 / prec[seen])
