"""Farmer agents: real ``mesa.Agent`` objects whose attributes are views onto the model's arrays.

The model decides for all farmers at once (:meth:`abm.model.SoilCarbonModel.decide_farmers`);
:meth:`Farmer.step` is the same rule written per agent with scalar maths. It exists for
inspection, the dashboard and as the reference the vectorised rule is tested against
(``tests/test_model.py::test_vectorised_decisions_equal_per_agent_loop``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.decisions import decide_one
from abm.economics import capital_recovery
from abm.practices import C_TO_CO2, PRACTICE_IDS, SYSTEMS

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel


class Farmer(mesa.Agent):
    """One farm and its manager. State lives in row ``idx`` of ``model.farms``."""

    model: SoilCarbonModel

    def __init__(self, model: SoilCarbonModel, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    # ---- views -------------------------------------------------------------------------
    @property
    def zone(self) -> str:
        """Agro-pedo-climatic zone name."""
        return self.model.zone_names[int(self.model.farms.zone[self.idx])]

    @property
    def system(self) -> str:
        """Production system (arable, grassland, mixed)."""
        return SYSTEMS[int(self.model.farms.system[self.idx])]

    @property
    def area_ha(self) -> float:
        """Farmed area, ha."""
        return float(self.model.farms.area[self.idx])

    @property
    def soc_t_ha(self) -> float:
        """Soil organic carbon of the modelled layer, t C/ha (IOM and biochar included)."""
        return float(self.model.farms.soc()[self.idx])

    @property
    def practices(self) -> list[str]:
        """Practices in use."""
        row = self.model.farms.adopted[self.idx]
        return [p for p, used in zip(PRACTICE_IDS, row, strict=True) if used]

    @property
    def area_shares(self) -> dict[str, float]:
        """Share of the farm's area under each practice in use."""
        row = self.model.farms.area_share[self.idx]
        return {p: float(s) for p, s in zip(PRACTICE_IDS, row, strict=True) if s > 0}

    @property
    def attitude(self) -> float:
        """Attitude towards soil-carbon practices, 0–1."""
        return float(self.model.farms.attitude[self.idx])

    # ---- the per-agent decision rule (reference) ----------------------------------------
    def net_benefit(self, p: int) -> tuple[float, float, float]:
        """Scalar twin of :func:`abm.economics.net_benefits` for practice index ``p``."""
        m = self.model
        f = m.farms
        i = self.idx
        pt = m.practice_table
        ins = m.instruments
        z = int(f.zone[i])
        g = int(f.gov[i])
        n_p = len(PRACTICE_IDS)
        rate = max(float(ins.rate_mean[z, p]), 0.0)
        access = bool(ins.access[i])
        inset = ins.insetting_price * C_TO_CO2 if access else 0.0
        # marginal per-hectare level
        levels = ins.tier_levels[g]
        top = levels.size - 1
        used = [bool(f.adopted[i, q]) for q in range(n_p)]

        def level(k: int) -> float:
            return float(levels[min(max(k, 0), top)])

        n_tier = sum(1 for q in range(n_p) if used[q] and ins.tier_practices[q])
        on_tier = bool(ins.tier_practices[p])
        tier_new = level(n_tier + 1) - level(n_tier) if on_tier else 0.0
        tier_keep = level(n_tier) - level(n_tier - 1) if on_tier else 0.0
        # voluntary carbon enrolment: value only when enrolling pays
        cn = ins.carbon_net_eur_per_tc
        c = [cn * max(float(ins.rate_mean[z, q]), 0.0) for q in range(n_p)]
        fixed = ins.fixed_cost_farmer / float(f.area[i]) if ins.carbon_price > 0 else 0.0
        x = float(np.sum(np.array([c[q] if used[q] else 0.0 for q in range(n_p)]))) - fixed
        pos = max(x, 0.0)
        carbon_new = max(x + c[p], 0.0) - pos
        carbon_keep = pos - max(x - c[p], 0.0)
        other = float(ins.subsidy[g, p]) + inset * rate + (float(ins.premium[p]) if access else 0.0)
        is_open = bool(f.open_to_schemes[i])
        pay_new = other + tier_new + carbon_new if is_open else 0.0
        pay_keep = other + tier_keep + carbon_keep if is_open else 0.0
        base = (
            -(float(pt.annual_cost[p]) + float(f.cost_dev_eur_per_ha[i, p]))
            + float(ins.mandate_penalty[p])
            - float(ins.ban_penalty[p])
        )
        horizon = m.params.farmer.horizon_yr
        t_b = max(float(pt.years_to_benefit[p]), 1e-9)
        n_h = int(max(1, round(horizon)))
        mean_ramp = sum(min(max(t / t_b, 0.0), 1.0) for t in range(1, n_h + 1)) / n_h
        crf = capital_recovery(m.params.farmer.discount_rate, horizon)
        nb_new = (
            base
            + pay_new
            + float(pt.benefit[p]) * mean_ramp
            - float(pt.establishment_cost[p]) * crf
        )
        last = float(f.last_paid[i, p])
        stopped = last > 0 and (pay_keep if used[p] else pay_new) <= 0
        nb_keep = (
            base
            + pay_keep
            + float(pt.benefit[p]) * min(max(float(f.years[i, p]) / t_b, 0.0), 1.0)
            - (m.params.farmer.crowding_out * last if stopped else 0.0)
        )
        sd = float(pt.uncertainty[p]) + (inset if is_open else 0.0) * float(ins.rate_sd[z, p])
        return nb_new, nb_keep, sd

    def decide(self, uniforms: list[float]) -> list[bool]:
        """New practice use for this farmer, given this year's uniform draws (one per practice)."""
        m = self.model
        f = m.farms
        i = self.idx
        w = m.weights
        out: list[bool] = []
        n_used = float(f.adopted[i].sum())
        for p in range(len(PRACTICE_IDS)):
            duty = float(m.instruments.duty[p])
            nb_new, nb_keep, sd = self.net_benefit(p)
            att = float(f.attitude[i]) - 0.5
            norm = float(m.norm[i, p])
            control = float(f.knowledge[i, p]) - float(m.practice_table.complexity[p])
            u_adopt = (
                w.w_economic * float(f.knowledge[i, p]) * nb_new / 100.0
                + w.w_attitude * att
                + w.w_norm * norm
                + w.w_control * control
                - float(f.risk_aversion[i]) * sd / 100.0
                - w.w_load * n_used
                + duty
            )
            u_keep = (
                w.w_economic * nb_keep / 100.0
                + w.w_attitude * att
                + w.w_norm * norm
                + w.w_habit * min(float(f.years[i, p]), 10.0) / 10.0
                + duty
            )
            out.append(
                decide_one(
                    bool(f.adopted[i, p]),
                    bool(f.eligible[i, p]),
                    u_adopt,
                    u_keep,
                    float(m.alpha[p]),
                    float(m.gamma[p]),
                    uniforms[p],
                    float(m.churn_floor[p]),
                )
            )
        return out

    def step(self) -> None:
        """Decide for this farmer alone with fresh uniforms (per-agent mode; slow by design)."""
        uniforms = self.model.rng_behaviour.random(len(PRACTICE_IDS)).tolist()
        new = self.decide(uniforms)
        for p, used in enumerate(new):
            self.model.farms.adopted[self.idx, p] = used
