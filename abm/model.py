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

from abm import accounting, reporters, resources, world
from abm._compat import mesa_seed_kwargs
from abm.agents import NGO, AgriFoodBusiness, Farmer, Government, Scientist
from abm.agents.government import policy_tiers
from abm.decisions import Weights, adoption_utility, calibrate_intercepts, decide, retention_utility
from abm.economics import Instruments, PracticeTable, cost_trend, net_benefits, ramp
from abm.exchanges import Ledger
from abm.landscape import build_farms, equilibrate, practice_effect_rates, zone_list, zone_normals
from abm.model_observe import Observer
from abm.model_soil import SoilYear
from abm.network import farmer_network, stakeholder_graph
from abm.practices import PRACTICE_IDS
from abm.scenario import Params, as_params
from abm.soil import climate
from abm.soil.saturation import Saturation

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


class SoilCarbonModel(SoilYear, Observer, mesa.Model):
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
        # the world of an earlier run of this seed and these parameters, if any (abm.world);
        # not for subclasses, which may build it differently
        reuse = world.Reuse(p, seed, enabled=type(self) is SoilCarbonModel)
        saved = reuse.behaviour()

        # ---- landscape, soils and practices --------------------------------------------
        if saved is None:
            self.farms = build_farms(p, rng_land, n_ngos=net.n_ngos, n_businesses=net.n_businesses)
        else:  # the farms after the burn-in, the network, the database, the intercepts
            world.restore_behaviour(self, saved)
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
        if saved is None:
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
        if saved is None:
            brought_in = self.shapes.manure | (self.shapes.biochar > 0)
            rates = reuse.effect_rates(lambda: practice_effect_rates(p, self.zone_names))
            truth = np.where(brought_in[None, :], 0.0, rates)
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
        if saved is None:
            self._calibrate_behaviour()
            reuse.save_behaviour(self, streams)
        else:
            reuse.restore_streams(saved, streams)  # as the burn-in left them
        started = reuse.soil()
        if started is None:
            equilibrate(
                f,
                p,
                self.shapes,
                self.practice_use(),
                self.normals,
                self.saturation,
                len(self.zone_names),
            )
            reuse.save_soil(f)
        else:
            self.farms = f = started
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
        if p.market.cost_decline_eur_per_ha:
            self.practice_table.annual_cost = cost_trend(p, self.year)
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

    def run(self) -> None:
        """Step from ``start_year`` to ``end_year`` inclusive."""
        while self.year <= self.params.end_year:
            self.step()
