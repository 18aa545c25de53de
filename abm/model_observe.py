"""The model's yearly observation: every timeseries column, computed once per year.

:class:`Observer` is a mixin of :class:`abm.model.SoilCarbonModel`; the DataCollector's
reporters (:mod:`abm.reporters`) read the dictionary it fills.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from abm import accounting, equilibrium
from abm.practices import C_TO_CO2, PRACTICE_IDS

if TYPE_CHECKING:
    from abm.landscape import Farms
    from abm.scenario import Params

WINDOW_YR = 5
"""Years over which the 4 permille indicators annualise the SOC change (and the adaptive rule
reads it): a multi-year change, so that one year's weather and fresh litter do not decide."""


class Observer:
    """This year's outputs (:meth:`observe`) and the money columns."""

    farms: Farms
    params: Params
    year: int
    flows: dict[str, float]
    cum: dict[str, float]
    events: dict[str, int]
    soc_history: list[np.ndarray]
    stock_history: list[float]
    stock0: float
    soc_start: np.ndarray
    output0: float
    obs_output: float
    loss_after_abandonment_t: float
    buffer_t: float
    reversals_t: float
    normals: Any
    clim_temp: np.ndarray
    governments: list[Any]
    obs: dict[str, float]

    def storage_since_start(self) -> np.ndarray:  # provided by SoilYear
        raise NotImplementedError

    def observe(self) -> None:
        """Compute this year's outputs once; the DataCollector's reporters read them."""
        f = self.farms
        area = f.area
        total_area = float(area.sum())
        soc = f.soc()
        stock = float((soc * area).sum())
        any_used = f.adopted.any(axis=1)
        covered = f.area_share.max(axis=1)  # practices nest: area under any = largest share
        years_run = self.year - self.params.start_year + 1
        storage_t = float((self.storage_since_start() * area).sum())
        biochar_t = float((f.biochar * area).sum())
        # the 4 permille indicators read a multi-year change: annualised over the last
        # WINDOW_YR years (fewer at the start), per farm and for the landscape
        self.soc_history.append(f.soc_sampled())
        stock_prev = self.stock_history[-1]
        self.stock_history.append(stock)
        w = min(WINDOW_YR, len(self.stock_history) - 1)
        farm_permille = 1000.0 * (
            (self.soc_history[-1] / self.soc_history[-1 - w]) ** (1.0 / w) - 1.0
        )
        window_permille = 1000.0 * ((stock / self.stock_history[-1 - w]) ** (1.0 / w) - 1.0)
        past, now = self.soc_history[-1 - w], self.soc_history[-1]
        self.soc_history = self.soc_history[-WINDOW_YR - 1 :]
        self.stock_history = self.stock_history[-WINDOW_YR - 1 :]
        acc = self.params.accounting
        cum = self.cum
        seq_tco2e = (stock - self.stock0 - storage_t) * C_TO_CO2
        obs: dict[str, float] = {
            "year": self.year,
            "adoption_share": float((area * covered).sum() / total_area),
            "adopters_share": float(any_used.mean()),
            "adopted_area_ha": float((area * covered).sum()),
        }
        for k, pid in enumerate(PRACTICE_IDS):
            used_area = float((area * f.area_share[:, k]).sum())
            obs[f"adoption_share_{pid}"] = used_area / total_area
            obs[f"adopted_area_ha_{pid}"] = used_area
        obs.update(
            {
                "soc_stock_t": stock,
                "soc_mean_t_ha": stock / total_area,
                "soc_change_permille": 1000.0 * (stock - stock_prev) / stock_prev,
                "soc_change_permille_since_start": 1000.0
                * ((stock / self.stock0) ** (1.0 / years_run) - 1.0),
                "soc_change_permille_5yr": window_permille,
                "share_farms_4p1000": float(
                    (farm_permille >= self.params.policy.target_permille).mean()
                ),
                "sequestration_tco2e_cum": seq_tco2e,
                "storage_tco2e_cum": storage_t * C_TO_CO2,
                "biochar_tco2e_cum": biochar_t * C_TO_CO2,
                "n2o_tco2e_cum": cum["n2o_tco2e"],
                "other_emissions_tco2e_cum": cum["other_tco2e"],
                "net_ghg_tco2e_cum": seq_tco2e - cum["n2o_tco2e"] - cum["other_tco2e"],
                "leakage_tco2e_cum": cum["leakage_tco2e"],
                "production_index": self.obs_output / self.output0 if self.output0 else 1.0,
                "awc_mm_mean": float(
                    (
                        accounting.awc_change_mm(
                            soc, self.soc_start, f.bulk_density, f.depth, acc.awc_mm_per_m_per_pct
                        )
                        * area
                    ).sum()
                    / total_area
                ),
                "n_locked_t_cum": (stock - self.stock0) / acc.som_c_to_n,
                "manure_moved_t_c_cum": cum["moved_t_c"],
                "manure_imported_t_c_cum": cum["imported_t_c"],
                "carbon_inputs_t_cum": cum["inputs_t_c"],
                "co2_respired_t_cum": cum["co2_t_c"],
                "loss_after_abandonment_tco2e_cum": self.loss_after_abandonment_t * C_TO_CO2,
                "public_spend_eur": self.flows["public_spend_eur"],
                "subsidies_eur": self.flows["subsidies_eur"],
                "carbon_payments_eur": self.flows["carbon_payments_eur"],
                "ngo_funding_eur": self.flows["ngo_funding_eur"],
                "premiums_eur": self.flows["premiums_eur"],
                "insetting_eur": self.flows["insetting_eur"],
                "penalties_eur": self.flows["penalties_eur"],
                "mrv_cost_eur": self.flows["mrv_cost_eur"],
                **self._money_columns(),
                "adoptions": float(self.events["adoptions"]),
                "disadoptions": float(self.events["disadoptions"]),
                "temperature_anomaly_c": float(
                    (
                        self.clim_temp[:, self.year - self.params.start_year, :] - self.normals[0]
                    ).mean()
                ),
            }
        )
        obs.update(equilibrium.observe(self))  # type: ignore[arg-type]  # saturation and new equilibrium (issue 15)
        self.obs = obs
        for g in self.governments:
            mine = f.gov == g.jurisdiction
            before = float((past[mine] * area[mine]).sum())
            after = float((now[mine] * area[mine]).sum())
            rate = 1000.0 * ((after / before) ** (1.0 / w) - 1.0) if before else 0.0
            g.permille_history.append(rate)

    def _money_columns(self) -> dict[str, float]:
        """This year's money, additionality, carbon-contract and compliance outputs."""
        fl = self.flows
        f = self.farms
        reg = self.params.policy.regulation
        compliance = float("nan")
        if reg.mandate or reg.ban:
            breach = np.zeros(f.n, dtype=bool)
            for g in self.governments:
                breach |= g.breach() & (f.gov == g.jurisdiction)
            compliance = float(1.0 - breach.mean())
        return {
            "private_cost_eur": fl["private_cost_eur"],
            "inspection_cost_eur": fl["inspection_cost_eur"],
            "public_mrv_eur": fl["public_mrv_eur"],
            "nonadditional_payments_eur": fl["nonadditional_payments_eur"],
            "credits_verified_tco2e": fl["credits_verified_tco2e"],
            "enrolled_farms": float(f.enrolled.sum()),
            "buffer_tco2e": self.buffer_t,
            "reversals_tco2e_cum": self.reversals_t,
            "compliance_share": compliance,
        }
