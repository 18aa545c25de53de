"""The soil half of the model year: inputs under the physical limits, RothC or ICBM for every
farm with its imported-carbon tracers, the nitrogen limit, and the carbon and GHG accounting.

:class:`SoilYear` is a mixin of :class:`abm.model.SoilCarbonModel`; the attributes it reads are
set by the model's constructor (declared below for the type checker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm import accounting, resources
from abm.kernels_model import stack_rows
from abm.landscape import endowment, icbm_reference_rate
from abm.practices import PRACTICE_IDS
from abm.soil import icbm_farm, rothc
from abm.soil.saturation import Saturation

if TYPE_CHECKING:
    from abm.landscape import Farms
    from abm.scenario import Params


class SoilYear:
    """Twelve months of soil for all farms, and the year's carbon accounting."""

    farms: Farms
    params: Params
    shapes: resources.PracticeShapes
    saturation: Saturation | None
    zone_names: list[str]
    year: int
    clim_temp: np.ndarray
    clim_rain: np.ndarray
    clim_evap: np.ndarray
    soc_start: np.ndarray
    storage_start: np.ndarray
    cum: dict[str, float]
    emissions0: tuple[float, float]
    output0: float
    obs_output: float
    wet: np.ndarray
    n2o_factors: accounting.N2OFactors
    loss_after_abandonment_t: float
    _last_drivers: resources.Drivers

    def practice_use(self) -> np.ndarray:
        """(N, P) share of each farm's area under each practice (0–1)."""
        out: np.ndarray = self.farms.area_share
        return out

    def storage_per_ha(self, *, sampled: bool = False) -> np.ndarray:
        """(N,) carbon brought onto each farm still in its soil, t C/ha (SCIENCE.md §7).

        Manure and compost received (inward tracer, incl. the labile part of biochar) plus the
        stable biochar pool, minus the carbon of the manure given away (outward tracer).
        """
        f = self.farms
        k = 1 if sampled else 0  # sampled: without the fresh litter, as Farms.soc_sampled
        out: np.ndarray = f.tracer[:, k:].sum(axis=1) + f.biochar - f.tracer_out[:, k:].sum(axis=1)
        return out

    def storage_since_start(self) -> np.ndarray:
        """(N,) storage gained since the start, t C/ha (the split of each farm's change).

        Without saturation RothC is linear and the tracers are exact. With saturation the
        tracers follow the farm's deficit but not its remaining capacity, so each farm's storage
        is bounded by its own change since the start (same sign, not larger); likewise when
        ``accounting.n_limit`` caps the farm's gain.
        """
        st = self.storage_per_ha() - self.storage_start
        if self.saturation is None and not self.params.accounting.n_limit:
            return st
        change = self.farms.soc() - self.soc_start
        out: np.ndarray = np.clip(st, np.minimum(change, 0.0), np.maximum(change, 0.0))
        return out

    def soil_update(self) -> None:
        """Twelve months of soil for all farms with this year's weather, practices and limits."""
        f = self.farms
        p = self.params
        yi = self.year - p.start_year
        temp = self.clim_temp[:, yi, :][f.zone]
        rain = self.clim_rain[:, yi, :][f.zone]
        evap = self.clim_evap[:, yi, :][f.zone]
        use = self.practice_use()
        alloc, d = self._year_inputs(use)
        self._last_drivers = d  # the year's drivers: abm.equilibrium reads them
        sampled_before = f.soc_sampled()
        stored_before = self.storage_per_ha(sampled=True)
        soc_before, soc_after, co2 = self._advance_soil(temp, rain, evap, d)
        # what a sample would measure (fresh litter left out), and its sequestration part
        f.dsoc_last = f.soc_sampled() - sampled_before
        f.dseq_last = f.dsoc_last - (self.storage_per_ha(sampled=True) - stored_before)
        loss = np.maximum(soc_before - soc_after, 0.0) * f.area * f.abandoned
        self.loss_after_abandonment_t += float(loss.sum())
        self._account(use, alloc, d, co2)
        f.inset_last = f.inset_now.copy()
        f.inset_now[:] = False

    def _year_inputs(self, use: np.ndarray) -> tuple[resources.Allocation, resources.Drivers]:
        """This year's resource allocation and monthly drivers for the practice use ``use``."""
        p = self.params
        f = self.farms
        endow = endowment(f)
        alloc = resources.allocate(
            use,
            endow,
            self.shapes,
            cap_share=p.biomass.extra_input_cap_share,
            import_t_c_ha_yr=p.manure.import_t_c_ha_yr,
            n_zones=len(self.zone_names),
        )
        return alloc, resources.drivers(use, alloc, endow, self.shapes, f.base_fym)

    def _emissions(self, use: np.ndarray, alloc: resources.Allocation) -> tuple[float, float]:
        """Landscape N2O and other emissions of the practices in use, t CO2e/yr."""
        area = self.farms.area
        manure_cn = float(self.shapes.input_c_to_n[PRACTICE_IDS.index("organic_fertilisation")])
        n_added = accounting.nitrogen_added(use, alloc, self.shapes, manure_cn)
        n2o = accounting.n2o_tco2e_per_ha(n_added, self.wet, self.n2o_factors)
        other = np.einsum("np,p->n", use, self.shapes.other_emissions)
        return float((n2o * area).sum()), float((other * area).sum())

    def _account(
        self, use: np.ndarray, alloc: resources.Allocation, d: resources.Drivers, co2: np.ndarray
    ) -> None:
        """Add this year's carbon flows, N2O, other emissions and displaced output to the totals."""
        f = self.farms
        area = f.area
        acc = self.params.accounting
        cum = self.cum
        cum["inputs_t_c"] += float(((d.plant + d.fym + d.biochar).sum(axis=1) * area).sum())
        cum["co2_t_c"] += float((co2 * area).sum())
        cum["moved_t_c"] += float((alloc.organic_out * area).sum())
        imported = alloc.organic_in.sum(axis=1) * alloc.imported_share
        cum["imported_t_c"] += float((imported * area).sum())
        # emissions relative to the management of the start: the no-change world adds none
        n2o, other = self._emissions(use, alloc)
        cum["n2o_tco2e"] += n2o - self.emissions0[0]
        cum["other_tco2e"] += other - self.emissions0[1]
        output = float((accounting.output_per_ha(use, self.shapes) * area).sum())
        self.obs_output = output
        cum["leakage_tco2e"] += max(0.0, self.output0 - output) * acc.leakage_tco2e_per_ha_eq

    def _advance_soil(
        self, temp: np.ndarray, rain: np.ndarray, evap: np.ndarray, d: resources.Drivers
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run 12 months of RothC for all farms, stacked with the two imported-carbon tracers.

        Inward tracer rows carry only the carbon brought onto the farm (manure and compost
        received, biochar), outward tracer rows only the own manure given away, under the same
        climate, cover and rates as their farm; RothC is linear in its inputs, so the tracers
        are exactly the parts of the farm's stock that came from elsewhere and that left
        (SCIENCE.md §7). With saturation, tracer rows take the farm's saturation deficit
        (``sat_ref``), so they remain exact shares while the remaining capacity does not bind.
        Tracer rows run only for farms that exchange carbon now or still hold exchanged carbon.
        Returns SOC per farm before and after (t C/ha) and the farm rows' CO2 (t C/ha).
        """
        if self.params.soil.model == "icbm":
            return self._advance_icbm(temp, rain, evap, d)
        f = self.farms
        n = f.n
        t_in = np.flatnonzero(
            d.fym_in.any(axis=1) | d.biochar.any(axis=1) | (f.tracer.sum(axis=1) > 0)
        )
        t_out = np.flatnonzero(d.fym_out.any(axis=1) | (f.tracer_out.sum(axis=1) > 0))
        rows = np.concatenate([np.arange(n), t_in, t_out])  # farm rows, then tracer rows
        m = rows.size

        every = np.arange(n)

        def stack(farm: np.ndarray, inward: np.ndarray, outward: np.ndarray) -> np.ndarray:
            # (rows, 12) in Fortran order: the engine reads one month at a time
            return stack_rows([(farm, every), (inward, t_in), (outward, t_out)])

        def same(x: np.ndarray) -> np.ndarray:
            return stack(x, x, x)

        zeros12 = np.zeros_like(d.plant)
        soc_before = f.soc()
        stabilised_before = f.pools[:, 2:].sum(axis=1)
        saturation = None
        if self.saturation is not None:
            saturation = Saturation(self.saturation.kind, capacity=f.capacity[rows])
        res = rothc.run(
            np.concatenate([f.pools, f.tracer[t_in], f.tracer_out[t_out]]),
            np.concatenate([f.iom, np.zeros(m - n)]),
            f.smd[rows],
            f.clay[rows],
            f.depth[rows],
            same(temp),
            same(rain + d.irrigation),
            same(evap),
            stack(d.plant, zeros12, zeros12),
            stack(d.fym, d.fym_in, d.fym_out),
            same(d.covered),
            same(d.dpm_rpm),
            rate_mod=same(d.rate_mod),
            biochar=np.concatenate([f.biochar, np.zeros(m - n)]),
            biochar_c=stack(d.biochar, d.biochar, zeros12),
            saturation=saturation,
            sat_ref=None if saturation is None else np.concatenate([np.arange(n), t_in, t_out]),
        )
        f.pools = res.pools[:n].copy()
        co2 = res.co2[:n] + self._limit_by_nitrogen(stabilised_before)
        f.tracer[t_in] = res.pools[n : n + t_in.size]
        f.tracer_out[t_out] = res.pools[n + t_in.size :]
        f.smd = res.smd[:n].copy()
        f.biochar = res.biochar[:n].copy()
        return soc_before, f.soc(), co2

    def _limit_by_nitrogen(self, stabilised_before: np.ndarray) -> np.ndarray:
        """``accounting.n_limit``: cap each farm's yearly gain of BIO + HUM by the N available.

        New soil organic matter needs N at the C:N of SOM (van Groenigen et al. 2017): a farm
        can stabilise at most ``n_available_kg_ha_yr × som_c_to_n / 1000`` t C/ha more than it
        had; the excess is mineralised instead (taken from HUM, returned as CO2, so the mass
        balance holds). Returns the extra CO2 per farm (t C/ha); zeros when the option is off.
        The tracers are not capped: storage is then bounded by each farm's change.
        """
        f = self.farms
        acc = self.params.accounting
        if not acc.n_limit:
            return np.zeros(f.n)
        cap = acc.n_available_kg_ha_yr * acc.som_c_to_n / 1000.0
        gain = f.pools[:, 2:].sum(axis=1) - stabilised_before
        excess = np.minimum(np.maximum(gain - cap, 0.0), f.pools[:, 3])
        f.pools[:, 3] -= excess
        out: np.ndarray = excess
        return out

    def _advance_icbm(
        self, temp: np.ndarray, rain: np.ndarray, evap: np.ndarray, d: resources.Drivers
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The year with ICBM (:mod:`abm.soil.icbm_farm`), as :meth:`_advance_soil` does it."""
        f = self.farms
        soc_before = f.soc()
        rates, f.smd = icbm_farm.monthly_rates(
            temp, rain + d.irrigation, evap, f.clay, f.depth, d.covered, d.rate_mod, f.smd
        )
        zero = np.zeros(f.n)
        r_ref = icbm_reference_rate()
        bc_in = d.biochar.sum(axis=1)
        f.pools, f.biochar, co2 = icbm_farm.step(
            f.pools, f.biochar, rates, d.plant.sum(axis=1), d.fym.sum(axis=1), bc_in, r_ref
        )
        f.tracer, _, _ = icbm_farm.step(
            f.tracer, zero, rates, zero, d.fym_in.sum(axis=1), bc_in, r_ref
        )
        f.tracer_out, _, _ = icbm_farm.step(
            f.tracer_out, zero, rates, zero, d.fym_out.sum(axis=1), zero, r_ref
        )
        return soc_before, f.soc(), co2
