"""The Mesa model: builds the world and runs it year by year in a fixed, documented order.

Farm state lives in arrays (:class:`abm.landscape.Farms`); every farm is also a real
:class:`abm.agents.Farmer` whose attributes are views onto its row. Stakeholders (governments,
businesses, NGOs, scientists) are ordinary Mesa agents. The hot paths — the decision rule, the
peer signal (one sparse product) and the soil update (RothC over 12 months for all farms) — run
once per step over all farms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np

from abm import accounting, equilibrium, reporters, resources
from abm._compat import mesa_seed_kwargs
from abm.agents import NGO, AgriFoodBusiness, Farmer, Government, Scientist
from abm.agents.government import policy_tiers
from abm.decisions import Weights, adoption_utility, calibrate_intercepts, decide, retention_utility
from abm.economics import Instruments, PracticeTable, net_benefits, ramp
from abm.exchanges import Ledger
from abm.landscape import (
    build_farms,
    endowment,
    equilibrate,
    icbm_reference_rate,
    practice_effect_rates,
    zone_list,
    zone_normals,
)
from abm.network import farmer_network, stakeholder_graph
from abm.practices import C_TO_CO2, PRACTICE_IDS
from abm.scenario import Params, as_params
from abm.soil import climate, icbm_farm, rothc
from abm.soil.saturation import Saturation

WINDOW_YR = 5
"""Years over which the 4 permille indicators annualise the SOC change (and the adaptive rule
reads it): a multi-year change, so that one year's weather and fresh litter do not decide."""

KAPPA0 = 0.5
KAPPA_DECAY = 0.2
LEARNING_BY_DOING = 0.2
"""Yearly knowledge gain of a practice's users, share of the gap to 1 (judgement, 0.1–0.4)."""

FLOWS = (
    "subsidies_eur",
    "carbon_payments_eur",
    "penalties_eur",
    "public_mrv_eur",
    "premiums_eur",
    "insetting_eur",
    "mrv_cost_eur",
    "ngo_funding_eur",
    "nonadditional_payments_eur",
    "credits_verified_tco2e",
    "inspection_cost_eur",
    "private_cost_eur",
)


class SoilCarbonModel(mesa.Model):
    """Soil-carbon practice adoption under the "4 per 1000" initiative.

    Parameters
    ----------
    params
        :class:`abm.scenario.Params`, a dict of dotted paths, or None for the defaults.
    seed
        Root seed; every random stream (landscape, network, climate, behaviour, MRV,
        inspections, markets, advice, science) is spawned from it with ``SeedSequence``.
        Defaults to ``params.seed``.
    """

    def __init__(
        self, params: Params | Mapping[str, Any] | None = None, *, seed: int | None = None
    ):
        p = as_params(params)
        seed = p.seed if seed is None else int(seed)
        super().__init__(**mesa_seed_kwargs(seed))
        self.params = p
        self.root_seed = seed
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
        (
            rng_land,
            rng_net,
            rng_clim,
            self.rng_behaviour,
            self.rng_mrv,
            self.rng_inspection,
            self.rng_market,
            self.rng_advice,
            rng_science,
        ) = streams
        self.year = p.start_year
        self.ledger = Ledger()
        self.flows: dict[str, float] = defaultdict(float)
        self.zone_names = zone_list(p)
        net = p.network

        # ---- landscape, soils and practices --------------------------------------------
        self.farms = build_farms(p, rng_land, n_ngos=net.n_ngos, n_businesses=net.n_businesses)
        f = self.farms
        self.shapes = resources.practice_shapes(p)
        self.practice_table = PracticeTable(
            **{
                k: np.array(
                    [getattr(getattr(p.practices, pid), f"{k}{suffix}") for pid in PRACTICE_IDS]
                )
                for k, suffix in (
                    ("annual_cost", "_eur_per_ha"),
                    ("establishment_cost", "_eur_per_ha"),
                    ("benefit", "_eur_per_ha"),
                    ("years_to_benefit", ""),
                    ("complexity", ""),
                    ("uncertainty", "_eur_per_ha"),
                )
            }
        )
        self.saturation = self._saturation()
        self._climate(rng_clim)

        # ---- network -------------------------------------------------------------------
        self.network = farmer_network(
            f.zone,
            degree=net.peer_degree,
            rewire_prob=net.rewire_prob,
            cross_zone_share=net.cross_zone_share,
            rng=rng_net,
        )

        # ---- agents --------------------------------------------------------------------
        area_by_gov = np.bincount(f.gov, weights=f.area, minlength=net.n_governments)
        self.governments = [
            Government(self, g, float(area_by_gov[g] / f.area.sum()))
            for g in range(net.n_governments)
        ]
        self.businesses = [AgriFoodBusiness(self, b) for b in range(net.n_businesses)]
        self.ngos = [NGO(self, k) for k in range(net.n_ngos)]
        self.scientists = [Scientist(self, k) for k in range(net.n_scientists)]
        self.farmers = [Farmer(self, i) for i in range(f.n)]
        self.stakeholders = stakeholder_graph(
            [a.unique_id for a in self.governments],
            [a.unique_id for a in self.ngos],
            [a.unique_id for a in self.businesses],
            [a.unique_id for a in self.scientists],
        )

        # ---- scientists' database: RothC estimate x a log-normal error ---------------
        # of *sequestration*, what MRV verifies and carbon schemes pay: the gain of practices
        # whose carbon is brought onto the farm (manure, compost, biochar) is storage, none of it
        # sequestered (SCIENCE.md §7), so their expected credits are 0
        brought_in = self.shapes.manure | (self.shapes.biochar > 0)
        truth = np.where(brought_in[None, :], 0.0, practice_effect_rates(p, self.zone_names))
        rel = p.advice.prior_rel_sd
        self.rate_mean = truth * np.exp(rel * rng_science.standard_normal(truth.shape))
        self.rate_sd = rel * np.abs(truth) + 1e-3
        self.farm_rate_var = float(np.var(truth))

        # ---- behaviour: intercepts make the no-new-policy start stationary ---------------
        self.weights = Weights(
            w_economic=p.farmer.w_economic,
            w_attitude=p.farmer.w_attitude,
            w_norm=p.farmer.w_norm,
            w_control=p.farmer.w_control,
            w_habit=p.farmer.w_habit,
            w_load=p.farmer.w_load,
        )
        pp = [getattr(p.practices, pid) for pid in PRACTICE_IDS]
        self.churn_floor = p.farmer.churn_floor_share * np.array([x.disadoption_rate for x in pp])
        self.buffer_t = 0.0
        """Programme buffer, t CO2e: withheld credits minus reversals it paid for."""
        self.reversals_t = 0.0
        """Reversals cancelled from the buffer (negative balances at exit), t CO2e."""
        self.instruments = self._no_policy()
        self.campaign_level = 0.0
        self.burning_in = False
        self._calibrate_behaviour()
        equilibrate(
            f,
            p,
            self.shapes,
            self.practice_use(),
            self.normals,
            self.saturation,
            len(self.zone_names),
        )
        self.soc_start = f.soc()
        self.stock0 = float((self.soc_start * f.area).sum())
        self.storage_start = self.storage_per_ha()
        self.stock_history = [self.stock0]
        self.soc_history = [f.soc_sampled()]
        self.output0 = float(
            (accounting.output_per_ha(self.practice_use(), self.shapes) * f.area).sum()
        )
        self.wet = accounting.wet_zones(self.normals[1], self.normals[2])[f.zone]
        self.n2o_factors = accounting.N2OFactors.from_params(p.accounting)
        start_alloc, self._last_drivers = self._year_inputs(self.practice_use())
        self.emissions0 = self._emissions(self.practice_use(), start_alloc)
        self.cum: dict[str, float] = defaultdict(float)  # cumulative totals (t C, t CO2e)
        self.obs_output = self.output0
        self.loss_after_abandonment_t = 0.0
        self.events = {"adoptions": 0, "disadoptions": 0}
        self.obs: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(model_reporters=reporters.model_reporters())

    # ------------------------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------------------------
    def _saturation(self) -> Saturation | None:
        """The ``soil.saturation`` option over the stacked farm and tracer rows.

        Capacities come from :func:`abm.landscape.build_farms` (the spin-up uses them):
        :func:`abm.soil.saturation.make_saturation`, Hassink on clay + silt/2 as the < 20 µm
        fraction, Georgiou on clay + silt.
        """
        if self.params.soil.saturation == "none":
            return None
        cap = self.farms.capacity
        return Saturation(kind=self.params.soil.saturation, capacity=cap)

    def _climate(self, rng: np.random.Generator) -> None:
        """(Z, Y, 12) temperature, rain and evaporation for every simulated year."""
        p = self.params
        n_years = p.end_year - p.start_year + 1
        offset = p.climate.warming_c_per_yr * (p.start_year - p.climate.reference_year)
        temp, rain, evap = [], [], []
        for name in self.zone_names:
            t, r, e = climate.climate_series(
                climate.ZONES[name],
                n_years,
                warming_c_per_yr=p.climate.warming_c_per_yr,
                temp_noise_sd=p.climate.temp_noise_sd,
                rain_cv=p.climate.rain_cv,
                rng=rng,
            )
            temp.append(t + offset)
            rain.append(r)
            evap.append(e)
        self.clim_temp = np.array(temp)
        self.clim_rain = np.array(rain)
        self.clim_evap = np.array(evap)
        self.normals = zone_normals(self.zone_names, offset)

    def _no_policy(self) -> Instruments:
        n_p = len(PRACTICE_IDS)
        n_g = self.params.network.n_governments
        return Instruments(
            subsidy=np.zeros((n_g, n_p)),
            tier_levels=np.zeros((n_g, len(policy_tiers(self)) + 1)),
            tier_practices=np.zeros(n_p, dtype=bool),
            carbon_price=0.0,
            buffer_share=self.params.policy.buffer_share,
            deduction_share=self.params.policy.uncertainty_deduction,
            fixed_cost_farmer=0.0,
            mandate_penalty=np.zeros(n_p),
            ban_penalty=np.zeros(n_p),
            duty=np.zeros(n_p),
            premium=np.zeros(n_p),
            insetting_price=0.0,
            access=np.zeros(self.farms.n, dtype=bool),
            rate_mean=self.rate_mean,  # the scientists' database, updated in place by MRV
            rate_sd=self.rate_sd,
        )

    def _calibrate_behaviour(self) -> None:
        """Set the intercepts so that, with no new policy, adoption stays at its start.

        First the instantaneous calibration of :func:`abm.decisions.calibrate_intercepts`; then
        ``farmer.burn_in_yr`` behaviour-only years before the start (baseline advice, peers,
        learning, area growth, no policy, no soil) during which each practice's intercepts are
        nudged towards its initial share — of the eligible *area*, counting area shares — and
        its observed dis-adoption rate. The burn-in leaves a consistent behavioural state —
        adopters clustered among peers, years of use, area shares, knowledge — and intercepts
        under which the no-new-policy world is close to stationary.
        """
        p = self.params
        f = self.farms
        pp = [getattr(p.practices, pid) for pid in PRACTICE_IDS]
        share = np.array([x.initial_share for x in pp])
        drop = np.array([x.disadoption_rate for x in pp])
        self.norm = self.peer_signal()
        u_adopt, u_keep = self._utilities()
        self.alpha, self.gamma = calibrate_intercepts(
            f.adopted, f.eligible, u_adopt, u_keep, share, drop, floor=self.churn_floor
        )
        years = p.farmer.burn_in_yr
        if years == 0:
            return

        def logit(x: np.ndarray) -> np.ndarray:
            x = np.clip(x, 1e-4, 1 - 1e-4)
            return np.log(x / (1 - x))

        n_elig = np.maximum(f.eligible.sum(axis=0), 1)
        depth = self.stationary_depth(drop)
        self.burning_in = True
        for k in range(years):
            self.year = p.start_year - years + k
            for ngo in self.ngos:
                ngo.step()
            for scientist in self.scientists:
                scientist.step()
            # re-solve the intercepts on today's state: entries balance exits at the target
            # and close part of the gap; targets are farm counts scaled by the area share of users
            users = f.adopted & f.eligible
            area_users = (f.area[:, None] * users).sum(axis=0)
            elig_area = (f.area[:, None] * f.eligible).sum(axis=0)
            count_share = users.sum(axis=0) / n_elig
            count_area = area_users / np.maximum(elig_area, 1e-12)
            ratio = np.where(count_area > 0, count_share / np.maximum(count_area, 1e-12), 1.0)
            target = np.clip(share / depth * ratio, 0.0, 0.95)
            self.norm = self.peer_signal()
            u_adopt, u_keep = self._utilities()
            self.alpha, self.gamma = calibrate_intercepts(
                f.adopted,
                f.eligible,
                u_adopt,
                u_keep,
                target,
                drop,
                floor=self.churn_floor,
                current_share=count_share,
                start=(self.alpha, self.gamma),
            )
            before = f.adopted.copy()
            # the vectorised rule builds the world (subclasses may override decide_farmers)
            SoilCarbonModel.decide_farmers(self, utilities=(u_adopt, u_keep))
            self.grow_area(before)
        # final solve: flows balance at the state the burn-in reached (a stationary start)
        users = f.adopted & f.eligible
        self.norm = self.peer_signal()
        u_adopt, u_keep = self._utilities()
        self.alpha, self.gamma = calibrate_intercepts(
            f.adopted,
            f.eligible,
            u_adopt,
            u_keep,
            users.sum(axis=0) / n_elig,
            drop,
            floor=self.churn_floor,
            start=(self.alpha, self.gamma),
        )
        self.burning_in = False
        self.year = p.start_year
        self.ledger = Ledger()
        self.flows = defaultdict(float)
        f.prior_share = f.area_share.copy()

    def stationary_depth(self, drop: np.ndarray) -> np.ndarray:
        """(P,) mean area share of a practice's users when dis-adoption ``drop`` is stationary.

        With a constant yearly drop probability ``d`` the years of use ``k`` of current users
        are geometric, weight ``(1 − d)^(k−1)``, and a user in its ``k``-th year covers
        ``min(1, trial + expand·(k − 1))`` of its farm (:meth:`grow_area`).
        """
        fp = self.params.farmer
        k = np.arange(1, 201, dtype=float)[:, None]
        w = (1.0 - np.clip(drop, 1e-3, 0.999)[None, :]) ** (k - 1.0)
        cover = np.minimum(1.0, fp.trial_share + fp.expand_share_per_yr * (k - 1.0))
        out: np.ndarray = (w * cover).sum(axis=0) / w.sum(axis=0)
        return out

    def grow_area(self, before: np.ndarray) -> np.ndarray:
        """Update area shares after the year's decisions; return the shares before.

        A first use is a trial on ``farmer.trial_share`` of the farm; a kept practice grows by
        ``farmer.expand_share_per_yr`` a year up to the whole farm; a dropped one goes to 0
        (judgement after Ryan & Gross 1943, see :class:`abm.scenario.Farmer`). No farm's share
        of a practice rises by more than ``max(trial_share, expand_share_per_yr)`` in a year, so
        no scheme moves more than that share of the farmed area into a practice in one year.
        """
        f = self.farms
        fp = self.params.farmer
        old = f.area_share.copy()
        grown = np.minimum(old + fp.expand_share_per_yr, 1.0)
        f.area_share = np.where(f.adopted, np.where(before, grown, fp.trial_share), 0.0)
        return old

    # ------------------------------------------------------------------------------------
    # the year
    # ------------------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one year, in this order (DESIGN.md §4).

        1. Governments set their instruments: subsidy rates (adaptive rule on last year's 4‰
           indicator), carbon price, MRV terms, mandates/bans with their expected penalty.
        2. Businesses grow demand and offer supply contracts (premium, insetting).
        3. Scientists verify last year's SOC change on enrolled farms (MRV), update the
           good-practice database, advise; NGOs advise within capacity and campaign.
        4. Farmers decide, all at once (:meth:`decide_farmers`; peer signal = sparse product),
           then grow or trial their area shares (:meth:`grow_area`); their private cost.
        5. Payments and penalties settle: per-hectare levels and result-based payments (on
           last year's verified sequestration) within budget, conditionality inspections;
           then voluntary carbon contracts for this year (enrol, renew, exit: the buffer pays
           reversals); premiums and insetting on verification.
        6. Soil update: 12 months of RothC for every farm (plus the imported-carbon tracer);
           contracted farms are verified next year.
        7. Reporters record the year.
        """
        p = self.params
        f = self.farms
        self.flows = defaultdict(float)
        active = p.policy.start_year <= self.year <= p.policy.end_year
        if self.year == p.policy.start_year:
            f.prior_share = f.area_share.copy()  # what payments cannot make additional
        self.campaign_level = p.advice.campaign_intensity if active else 0.0
        for gov in self.governments:
            gov.step()
        for business in self.businesses:
            business.step()
        for scientist in self.scientists:
            scientist.step()
        for ngo in self.ngos:
            ngo.step()
        before = f.adopted.copy()
        self.decide_farmers()
        old_share = self.grow_area(before)
        self._apply_potential()
        self.flows["private_cost_eur"] = self.private_cost(old_share)
        public = sum(g.settle() for g in self.governments)
        for gov in self.governments:
            gov.enrol()
        for business in self.businesses:
            business.settle()
        if active:
            self.flows["ngo_funding_eur"] += p.policy.ngo_funding_eur_per_yr
        self.flows["public_spend_eur"] = public
        self.soil_update()
        f.enrolled_last = f.enrolled.copy()  # verified next year (voluntary contracts)
        self.observe()
        self.datacollector.collect(self)
        self.year += 1

    def private_cost(self, old_share: np.ndarray) -> float:
        """Farmers' net private cost of their practices this year, EUR (before any payment).

        Σ area × [share × (annual cost + the farm's deviation − benefit reached after its years
        of use) + newly covered share × establishment cost]. Payments are transfers and are
        not in it; the social cost adds MRV, advice and inspections (:func:`abm.reporters.kpis`).
        """
        f = self.farms
        pt = self.practice_table
        net = pt.annual_cost[None, :] + f.cost_dev_eur_per_ha
        net = net - pt.benefit[None, :] * ramp(f.years, pt.years_to_benefit[None, :])
        new_area = np.maximum(f.area_share - old_share, 0.0) * pt.establishment_cost[None, :]
        return float((f.area[:, None] * (f.area_share * net + new_area)).sum())

    def peer_signal(self) -> np.ndarray:
        """(N, P) share of each farmer's peers using each practice (one sparse product)."""
        out: np.ndarray = self.network.weights @ self.farms.adopted.astype(float)
        return out

    def _utilities(self) -> tuple[np.ndarray, np.ndarray]:
        f = self.farms
        fp = self.params.farmer
        nb_new, nb_keep, sd = net_benefits(
            self.practice_table,
            self.instruments,
            zone=f.zone,
            gov=f.gov,
            area_ha=f.area,
            adopted=f.adopted,
            years=f.years,
            last_paid=f.last_paid,
            cost_dev=f.cost_dev_eur_per_ha,
            open_to_schemes=f.open_to_schemes,
            crowding_out=fp.crowding_out,
            horizon=fp.horizon_yr,
            discount_rate=fp.discount_rate,
        )
        pt = self.practice_table
        w = self.weights
        duty = self.instruments.duty
        n_used = f.adopted.sum(axis=1).astype(float)
        u_adopt = adoption_utility(
            nb_new,
            sd,
            f.attitude,
            self.norm,
            f.knowledge,
            pt.complexity,
            f.risk_aversion,
            n_used,
            duty,
            w,
        )
        u_keep = retention_utility(nb_keep, f.attitude, self.norm, f.years, duty, w)
        return u_adopt, u_keep

    def decide_farmers(
        self,
        uniforms: np.ndarray | None = None,
        utilities: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Every farmer decides for every practice (vectorised twin of :meth:`Farmer.step`).

        ``utilities``: this state's ``(u_adopt, u_keep)`` when the caller has just computed
        them (the burn-in), with ``self.norm`` already set.
        """
        f = self.farms
        fp = self.params.farmer
        if utilities is None:
            self.norm = self.peer_signal()
            u_adopt, u_keep = self._utilities()
        else:
            u_adopt, u_keep = utilities
        if uniforms is None:
            uniforms = self.rng_behaviour.random(f.adopted.shape)
        d = decide(
            f.adopted,
            f.eligible,
            u_adopt,
            u_keep,
            self.alpha,
            self.gamma,
            uniforms,
            floor=self.churn_floor,
        )
        f.adopted = d.adopted
        f.years = np.where(d.adopted, f.years + 1.0, 0.0)
        learn = fp.peer_learning * self.norm + np.where(d.adopted, LEARNING_BY_DOING, 0.0)
        f.knowledge += np.minimum(learn, 1.0) * (1.0 - f.knowledge)
        f.knowledge -= np.where(d.adopted, 0.0, fp.knowledge_decay) * f.knowledge
        f.abandoned = (f.abandoned | d.drop.any(axis=1)) & ~d.adopt.any(axis=1)
        self.events = {"adoptions": int(d.adopt.sum()), "disadoptions": int(d.drop.sum())}

    def _apply_potential(self) -> None:
        """``potential.enabled``: from the policy start every eligible farm uses every practice.

        Overrides this year's decisions (the technical potential has no behaviour); the farms'
        years of use and knowledge follow as for any user.
        """
        pot = self.params.potential
        if not pot.enabled or self.year < self.params.policy.start_year:
            return
        f = self.farms
        chosen = np.array([pid in pot.practices for pid in PRACTICE_IDS])
        forced = f.eligible & chosen[None, :] & ~f.adopted
        f.adopted = f.adopted | forced
        f.years = np.where(forced, 1.0, f.years)
        f.area_share = np.where(f.eligible & chosen[None, :], 1.0, f.area_share)  # whole farm
        f.abandoned[:] = False

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

        def stack(farm: np.ndarray, inward: np.ndarray, outward: np.ndarray) -> np.ndarray:
            # (rows, 12) in Fortran order: the engine reads one month at a time
            out = np.empty((m, 12), dtype=farm.dtype, order="F")
            out[:n] = farm
            out[n : n + t_in.size] = inward[t_in]
            out[n + t_in.size :] = outward[t_out]
            return out

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
        obs.update(equilibrium.observe(self))  # saturation and new equilibrium (issue 15)
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

    def run(self) -> None:
        """Step from ``start_year`` to ``end_year`` inclusive."""
        while self.year <= self.params.end_year:
            self.step()
