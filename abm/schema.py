"""The parameter schema: every parameter's path, default, unit, allowed range and source.

Sections are pydantic models with ``extra="forbid"`` (an unknown key is an error naming it);
:class:`Params` gathers them. Files, overrides and the parameter table are in
:mod:`abm.scenario`, which re-exports these names.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from abm.params_carbon import Accounting, Biomass, Manure, Potential
from abm.practices import CATALOGUE, PRACTICE_IDS, SYSTEMS
from abm.schema_base import P, _Section

ZONE_IDS = ("temperate_oceanic", "continental", "mediterranean", "tropical")


class Landscape(_Section):
    """Farms, zones and production systems of the simulated region."""

    zone_shares: dict[str, float] = P(
        {"temperate_oceanic": 0.45, "continental": 0.30, "mediterranean": 0.25, "tropical": 0.0},
        "share of farms",
        "judgement: a European-like mix (Köppen Cfb/Dfb/Csa)",
        desc="Share of farms per agro-pedo-climatic zone (normalised).",
    )
    system_shares: dict[str, float] = P(
        {"arable": 0.55, "grassland": 0.25, "mixed": 0.20},
        "share of farms",
        "judgement after Eurostat farm structure (EU UAA ~60 % arable, ~30 % permanent grassland)",
        desc="Share of farms per production system (normalised).",
    )
    farm_area_ha_median: float = P(
        40.0,
        "ha",
        "judgement (EU mean 17 ha; commercial farms larger)",
        ge=0.1,
        le=1e5,
        sens=(10.0, 150.0),
    )
    farm_area_log_sd: float = P(
        0.9, "ln(ha)", "judgement: lognormal spread of farm sizes", ge=0.0, le=3.0, sens=(0.5, 1.3)
    )
    feasible_share: dict[str, float] = P(
        {"agroforestry": 0.2},
        "share of farms",
        "judgement (agroforestry 0.05-0.5): share of the farms of a practice's systems and zones "
        "where it is feasible at all (field size, tenure, machinery); drawn once per farm. "
        "Practices not listed are feasible everywhere they apply",
        desc="Feasible share of farms per practice id (others: 1).",
    )

    @model_validator(mode="after")
    def _check_shares(self) -> Landscape:
        for name, shares, allowed in (
            ("zone_shares", self.zone_shares, ZONE_IDS),
            ("system_shares", self.system_shares, SYSTEMS),
        ):
            bad = sorted(set(shares) - set(allowed))
            if bad:
                raise ValueError(f"{name}: unknown {bad}; allowed: {', '.join(allowed)}")
            if any(v < 0 or not math.isfinite(v) for v in shares.values()):
                raise ValueError(f"{name}: shares must be finite and >= 0")
            if sum(shares.values()) <= 0:
                raise ValueError(f"{name}: at least one share must be > 0")
        bad = sorted(set(self.feasible_share) - set(PRACTICE_IDS))
        if bad:
            raise ValueError(f"feasible_share: unknown {bad}; allowed: {', '.join(PRACTICE_IDS)}")
        if any(not 0.0 <= v <= 1.0 for v in self.feasible_share.values()):
            raise ValueError("feasible_share: shares must be within [0, 1]")
        return self


class Climate(_Section):
    """Warming pathway and inter-annual weather noise applied to the zones' normals."""

    warming_c_per_yr: float = P(
        0.03,
        "°C/yr",
        "IPCC AR6 WGI: ~0.2-0.5 °C/decade over land to 2050 (approximate)",
        ge=-0.5,
        le=0.5,
        sens=(0.0, 0.05),
    )
    reference_year: int = P(2020, "year", "zone normals stand for this year", ge=1800, le=2200)
    temp_noise_sd: float = P(
        0.6,
        "°C",
        "judgement: sd of annual mean temperature anomalies (0-1.2)",
        ge=0.0,
        le=5.0,
        sens=(0.0, 1.2),
    )
    rain_cv: float = P(
        0.15,
        "-",
        "judgement: coefficient of variation of annual rainfall (0-0.3)",
        ge=0.0,
        le=1.0,
        sens=(0.0, 0.3),
    )


class Soil(_Section):
    """Soil-carbon submodel options."""

    model: Literal["rothc", "icbm"] = P(
        "rothc",
        "-",
        "RothC-26.3 monthly (Coleman & Jenkinson; the default) or ICBM two-pool yearly "
        "(Andren & Katterer 1997 Ecol. Appl. 7:1226), SCIENCE.md §2-3",
    )
    saturation: Literal["none", "hassink", "georgiou"] = P(
        "none",
        "-",
        "SCIENCE.md §4: none = official RothC-26.3; Hassink 1997 (C_sat = 4.09 + 0.37 x "
        "fine fraction, g/kg) or Georgiou et al. 2022 Nat. Commun. 13:3797 (0.86 x (clay+silt)); "
        "saturation is contested",
    )


class Network(_Section):
    """Who talks to whom (networkx graphs, always seeded)."""

    peer_degree: int = P(
        8,
        "ties per farmer",
        "judgement (4-16); Ryan & Gross 1943: neighbours main source",
        ge=2,
        le=100,
        sens=(4, 16),
    )
    rewire_prob: float = P(
        0.1,
        "-",
        "judgement: Watts-Strogatz small world (0.01-0.3)",
        ge=0.0,
        le=1.0,
        sens=(0.01, 0.3),
    )
    cross_zone_share: float = P(
        0.05, "share of ties", "judgement (0-0.2)", ge=0.0, le=1.0, sens=(0.0, 0.2)
    )
    advisory_share: float = P(
        0.6,
        "share of farmers",
        "judgement: farmers with an NGO/adviser tie (0.3-0.9)",
        ge=0.0,
        le=1.0,
        sens=(0.3, 0.9),
    )
    supply_share: float = P(
        0.7,
        "share of farmers",
        "judgement: farmers with a contract buyer (0.4-0.9)",
        ge=0.0,
        le=1.0,
        sens=(0.4, 0.9),
    )
    n_ngos: int = P(3, "agents", "judgement", ge=1, le=1000)
    n_businesses: int = P(4, "agents", "judgement", ge=1, le=1000)
    n_scientists: int = P(2, "agents", "judgement", ge=1, le=1000)
    n_governments: int = P(
        1,
        "jurisdictions",
        "scenario choice: farms are assigned to jurisdictions by zone",
        ge=1,
        le=100,
    )


class Farmer(_Section):
    """Decision rule weights (Theory of Planned Behaviour + economic logit, SCIENCE.md §6).

    All weights are judgement with a sensitivity range; the practice intercepts are not
    parameters: they are set at the start so that, with no new policy, expected entries equal
    the observed exits (``practices.<id>.disadoption_rate``) at the initial shares.
    """

    w_economic: float = P(
        2.0,
        "logit per 100 EUR/ha/yr",
        "judgement; logit shift by economics (Moving-the-Middle NZ ABM)",
        ge=0.0,
        le=20.0,
        sens=(0.5, 3.0),
    )
    w_attitude: float = P(
        1.0,
        "logit per unit attitude",
        "judgement; TPB (Kaufmann et al. 2009)",
        ge=0.0,
        le=20.0,
        sens=(0.3, 2.0),
    )
    w_norm: float = P(
        2.5,
        "logit per share of adopting peers",
        "judgement; TPB subjective norm, Bass q",
        ge=0.0,
        le=50.0,
        sens=(1.0, 8.0),
    )
    w_control: float = P(
        2.0,
        "logit per unit knowledge",
        "judgement; TPB perceived behavioural control",
        ge=0.0,
        le=20.0,
        sens=(0.5, 4.0),
    )
    w_habit: float = P(
        1.0,
        "logit at 10+ years of use",
        "judgement: switching cost once established",
        ge=0.0,
        le=20.0,
        sens=(0.0, 2.0),
    )
    risk_aversion_mean: float = P(
        1.0,
        "logit per 100 EUR/ha sd",
        "judgement (0-3); risk against uncertain returns",
        ge=0.0,
        le=20.0,
        sens=(0.0, 3.0),
    )
    peer_learning: float = P(
        0.6,
        "1/yr per share of adopting peers",
        "judgement; Craska et al. 2025 demo-farm effect peaks after ~4 yr",
        ge=0.0,
        le=5.0,
        sens=(0.2, 1.0),
    )
    knowledge_decay: float = P(0.05, "1/yr", "judgement (0-0.15)", ge=0.0, le=1.0, sens=(0.0, 0.15))
    w_load: float = P(
        0.0,
        "logit per practice in use",
        "0 by default: no source supports a penalty for practices already in use, and previous "
        "use of conservation practices *predicts* adoption (Prokopy et al. 2019, J. Soil Water "
        "Conserv. 74:520); kept as a sensitivity (0-1) for limited labour and management",
        ge=0.0,
        le=20.0,
        sens=(0.0, 1.0),
    )
    trial_share: float = P(
        0.2,
        "share of the farm's area",
        "judgement (0.1-0.34): a first use is a trial on part of the farm; Ryan & Gross 1943 "
        "(hybrid corn, 257 Iowa farmers): first plantings on a small part of the acreage, ~3-4 yr "
        "from first use to all of it",
        ge=0.01,
        le=1.0,
        sens=(0.1, 0.34),
    )
    expand_share_per_yr: float = P(
        0.2,
        "share of the farm's area per yr",
        "judgement (0.1-0.34): users extend a kept practice by this share of their area each "
        "year up to all of it (trial 0.2 + 4 x 0.2: full area in the 5th year of use; Ryan & "
        "Gross 1943 ~3-4 yr from first use to full acreage). It bounds the area any scheme can "
        "move into a practice in one year (Ryan & Gross; ADOPT learnability)",
        ge=0.01,
        le=1.0,
        sens=(0.1, 0.34),
    )
    farm_cost_sd_eur_per_ha: float = P(
        40.0,
        "EUR/ha/yr",
        "judgement (0-80): a farm-level deviation shared by all practices (labour, tenure, "
        "machinery, management), drawn once per farm; land tenure and labour are among the "
        "adoption predictors reviewed by Prokopy et al. 2019 (J. Soil Water Conserv. 74:520)",
        ge=0.0,
        le=1e4,
        sens=(0.0, 80.0),
    )
    closed_share: float = P(
        0.2,
        "share of farms",
        "judgement (0.05-0.4): farms closed to voluntary schemes and contracts, drawn once — "
        "the status-quo choosers of choice experiments on agri-environment contracts; openness "
        "is among the most influential factors of scheme uptake (Will et al. 2025, BESTMAP). "
        "They still face mandates and bans, and adopt for their own reasons",
        ge=0.0,
        le=1.0,
        sens=(0.05, 0.4),
    )
    churn_floor_share: float = P(
        0.5,
        "share of the observed dis-adoption rate",
        "judgement (0.25-0.75): part of the yearly dis-adoption comes from shocks that payments "
        "do not prevent (rotation changes, land tenure, weather); observed churn is large even "
        "with cost-share programmes (ERS EIB-222: cover crops kept 3-4 yr of 4 on only 19-32 % "
        "of acres; USDA ERS: 21 % of no-till acres continuous 2012-17)",
        ge=0.0,
        le=1.0,
        sens=(0.25, 0.75),
    )
    horizon_yr: float = P(
        10.0,
        "yr",
        "judgement: planning horizon for annualising establishment costs",
        ge=1.0,
        le=50.0,
        sens=(5.0, 20.0),
    )
    discount_rate: float = P(0.05, "1/yr", "judgement (0.02-0.1)", ge=0.0, le=0.5, sens=(0.02, 0.1))
    gross_margin_eur_per_ha: float = P(
        450.0, "EUR/ha/yr", "judgement after EU FADN (300-800)", ge=0.0, le=1e5, sens=(300.0, 800.0)
    )
    burn_in_yr: int = P(
        30,
        "yr",
        "judgement: behaviour-only years before the start that bring adoption to its "
        "no-new-policy steady state at the initial shares (0 = none)",
        ge=0,
        le=200,
    )
    crowding_out: float = P(
        0.3,
        "share of payment",
        "judgement (0-0.6): after payments stop, intrinsic motivation falls (Ravaioli et al. 2023)",
        ge=0.0,
        le=1.0,
        sens=(0.0, 0.6),
    )


class Regulation(_Section):
    """Mandates and bans enforced as CAP conditionality (government → farmer).

    Non-compliance found by an on-the-spot check reduces the farm's *whole* CAP payment
    (Reg. (EU) 2021/2116 art. 85; Delegated Reg. (EU) 2022/1172): ``negligence_reduction``
    at the first finding, × ``repeat_factor`` at each repetition up to
    ``repeated_max_reduction``; a farm found again after reaching that cap is treated as
    intentional (``intentional_reduction``).
    """

    mandate: list[str] = P([], "practice ids", "scenario choice")
    ban: list[str] = P([], "practice ids", "scenario choice")
    required_share: float = P(
        0.8,
        "share of the farm's eligible area",
        "judgement (0.5-1): a mandated practice must cover this share of the farm's area "
        "(GAEC-style minimum soil cover rules set a share of arable land)",
        ge=0.0,
        le=1.0,
        sens=(0.5, 1.0),
    )
    inspection_prob: float = P(
        0.05,
        "1/yr",
        "CAP on-the-spot checks reach 1-5 % of beneficiaries a year (Reg. (EU) 2021/2116)",
        ge=0.0,
        le=1.0,
        sens=(0.01, 0.05),
    )
    cap_payment_eur_per_ha: float = P(
        250.0,
        "EUR/ha/yr",
        "judgement (150-400): a farm's CAP direct payments per ha (EU average of the order of "
        "250 EUR/ha), the base conditionality reductions apply to",
        ge=0.0,
        le=1e5,
        sens=(150.0, 400.0),
    )
    negligence_reduction: float = P(
        0.03,
        "share of the farm's CAP payments",
        "Delegated Reg. (EU) 2022/1172: negligence 3 % as a rule (1-5 %)",
        ge=0.0,
        le=1.0,
        sens=(0.01, 0.05),
    )
    repeat_factor: float = P(
        3.0,
        "-",
        "Delegated Reg. (EU) 2022/1172 / 640/2014 art. 39: x3 on repetition",
        ge=1.0,
        le=10.0,
    )
    repeated_max_reduction: float = P(
        0.15,
        "share of the farm's CAP payments",
        "Delegated Reg. (EU) 2022/1172: repeated non-compliance up to 15 %",
        ge=0.0,
        le=1.0,
    )
    intentional_reduction: float = P(
        0.2,
        "share of the farm's CAP payments",
        "Delegated Reg. (EU) 2022/1172: intentional at least 15-20 %, up to 100 %",
        ge=0.0,
        le=1.0,
        sens=(0.15, 1.0),
    )
    inspection_cost_eur_per_farm: float = P(
        500.0,
        "EUR per on-the-spot check",
        "judgement (200-1500): an inspector's day with travel and reporting",
        ge=0.0,
        le=1e6,
        sens=(200.0, 1500.0),
    )
    compliance_logit: float = P(
        2.0,
        "logit",
        "judgement (0-4): farmers' motivation to obey a rule beyond the expected reduction, "
        "which is small (inspection 1-5 % x 3 % of CAP payments); TPB injunctive norm "
        "(Kaufmann et al. 2009). The regulation result rests on it: report it with its range",
        ge=0.0,
        le=20.0,
        sens=(0.0, 4.0),
    )
    compliance_ramp_yr: float = P(
        3.0, "yr", "judgement: grace period before full enforcement", ge=0.0, le=30.0
    )


#: Upper bound of per-hectare subsidy rates, EUR/ha/yr (as ``policy.subsidy_eur_per_ha``).
MAX_SUBSIDY = 1e5


class Policy(_Section):
    """Government instruments. Active from ``start_year`` to ``end_year`` (inclusive)."""

    start_year: int = P(2025, "year", "scenario choice", ge=1800, le=2200)
    end_year: int = P(2100, "year", "scenario choice: instruments stop after it", ge=1800, le=2200)
    subsidy_eur_per_ha: float = P(
        0.0,
        "EUR/ha/yr",
        "FR eco-scheme 2023 base level 46.69 EUR/ha (upper 63.72, organic 93.72); paid once per "
        "hectare under any of subsidy_practices, not once per practice",
        ge=0.0,
        le=1e5,
        sens=(0.0, 150.0),
    )
    subsidy_tiers_eur_per_ha: list[float] = P(
        [],
        "EUR/ha/yr",
        "scenario choice: levels of a hectare under 1, 2, 3+ of subsidy_practices (replaces "
        "subsidy_eur_per_ha), e.g. FR eco-scheme 2023 46.69/63.72/93.72 EUR/ha (CMH Conseil "
        "2024); each hectare is paid once, at the level it qualifies for",
    )
    subsidy_practices: list[str] = P(
        list(PRACTICE_IDS), "practice ids", "scenario choice: practices that qualify a hectare"
    )
    subsidy_by_practice: dict[str, float] = P(
        {},
        "EUR/ha/yr",
        "scenario choice: per-practice payments per ha of that practice, stacked on the "
        "per-hectare level (EQIP-like: cover crops 34-75 USD/acre, SARE 2019); only where a "
        "scenario declares them",
    )
    carbon_price_eur_per_tco2e: float = P(
        0.0,
        "EUR/t CO2e",
        "EU ETS 2021-25 average 72 (54-85); VCM soil credits 20-50 EUR/t",
        ge=0.0,
        le=1e5,
        sens=(0.0, 150.0),
    )
    buffer_share: float = P(
        0.2,
        "share of credits",
        "Soil Capital 20 % reserve; ACCU 5-25 %: withheld into the programme's buffer, which "
        "pays for reversals",
        ge=0.0,
        le=1.0,
        sens=(0.05, 0.25),
    )
    uncertainty_deduction: float = P(
        0.1,
        "share of credits",
        "judgement (0-0.3): deduction for measurement uncertainty (CRCF Reg. (EU) 2024/3012 and "
        "VM0042 deduct uncertainty; ACCU 20 % permanence discount)",
        ge=0.0,
        le=1.0,
        sens=(0.0, 0.3),
    )
    carbon_baseline_t_c_ha_yr: float = P(
        0.0,
        "t C/ha/yr",
        "scenario choice: the farm's own reference (no change of its stock); credits are "
        "verified sequestration above it",
        ge=-10.0,
        le=10.0,
    )
    contract_yr: int = P(
        5,
        "yr",
        "Label Bas Carbone / CRCF carbon-farming activity period of at least 5 yr; renewed "
        "while enrolling still pays, otherwise the farm exits",
        ge=1,
        le=100,
        sens=(3, 10),
    )
    hassle_cost_eur_per_farm: float = P(
        300.0,
        "EUR/farm/yr",
        "judgement (0-1000): farmers' own time for records, audits and paperwork",
        ge=0.0,
        le=1e6,
        sens=(0.0, 1000.0),
    )
    mrv_cost_eur_per_farm: float = P(
        980.0,
        "EUR/farm/yr",
        "Soil Capital programme fee 2020 (LBC livestock ~2,500)",
        ge=0.0,
        le=1e6,
        sens=(300.0, 2500.0),
    )
    mrv_paid_by_government: bool = P(
        False, "-", "scenario choice: who pays monitoring, reporting and verification"
    )
    budget_eur_per_yr: float | None = P(
        None, "EUR/yr", "scenario choice; None = no cap. EQIP 1.38-1.85 bn USD/yr", ge=0.0
    )
    ngo_funding_eur_per_yr: float = P(
        0.0, "EUR/yr", "scenario choice: public funding of NGO advice", ge=0.0, le=1e12
    )
    target_permille: float = P(
        4.0, "‰/yr", "4 per 1000 initiative (Minasny et al. 2017)", ge=0.0, le=100.0
    )
    adaptive: bool = P(
        False, "-", "scenario choice: raise the subsidy while the 4‰ target is missed"
    )
    adaptive_step: float = P(
        0.1, "share per yr", "judgement: yearly relative raise of the subsidy", ge=0.0, le=5.0
    )
    regulation: Regulation = Field(default_factory=Regulation)

    @model_validator(mode="after")
    def _check(self) -> Policy:
        for name, items in (
            ("subsidy_practices", self.subsidy_practices),
            ("subsidy_by_practice", list(self.subsidy_by_practice)),
            ("regulation.mandate", self.regulation.mandate),
            ("regulation.ban", self.regulation.ban),
        ):
            bad = sorted(set(items) - set(PRACTICE_IDS))
            if bad:
                raise ValueError(f"{name}: unknown {bad}; allowed: {', '.join(PRACTICE_IDS)}")
        if any(
            not 0 <= v <= MAX_SUBSIDY or not math.isfinite(v)
            for v in self.subsidy_by_practice.values()
        ):
            raise ValueError(
                f"subsidy_by_practice: rates must lie in [0, {MAX_SUBSIDY:g}] EUR/ha/yr"
            )
        if self.start_year > self.end_year:
            raise ValueError(
                f"policy window inverted: start_year ({self.start_year}) must be <= end_year "
                f"({self.end_year})"
            )
        both = sorted(set(self.regulation.mandate) & set(self.regulation.ban))
        if both:
            raise ValueError(f"regulation: {both[0]!r} is both mandated and banned; give one")
        tiers = self.subsidy_tiers_eur_per_ha
        if any(v < 0 or not math.isfinite(v) for v in tiers) or tiers != sorted(tiers):
            raise ValueError("subsidy_tiers_eur_per_ha: levels must be finite, >= 0 and rising")
        return self


class Market(_Section):
    """Agri-food businesses: supply contracts with premiums, carbon insetting; the trend of
    practice costs from technical change (``cost_decline_*``)."""

    premium_eur_per_ha: float = P(
        0.0,
        "EUR/ha/yr",
        "scenario choice; judgement 20-100 EUR/ha for low-carbon contracts",
        ge=0.0,
        le=1e5,
        sens=(0.0, 100.0),
    )
    premium_practices: list[str] = P(
        ["cover_crops", "conservation_agriculture", "organic_fertilisation"],
        "practice ids",
        "scenario choice: practices a contract requires (any one)",
    )
    insetting_price_eur_per_tco2e: float = P(
        0.0,
        "EUR/t CO2e",
        "VCM soil carbon EU 20-50 EUR/t (Soil Capital 27.5-33)",
        ge=0.0,
        le=1e5,
        sens=(0.0, 50.0),
    )
    intermediary_share: float = P(
        0.3,
        "share of credit revenue",
        "Soil Capital 30 % commission; Indigo 25 %",
        ge=0.0,
        le=1.0,
        sens=(0.2, 0.3),
    )
    capacity_share: float = P(
        0.3,
        "share of suppliers",
        "judgement: contracts a business can offer (0.1-1)",
        ge=0.0,
        le=1.0,
        sens=(0.1, 1.0),
    )
    demand_growth: float = P(
        0.03,
        "1/yr",
        "judgement: growth of demand for low-carbon products (0-0.1)",
        ge=-1.0,
        le=1.0,
        sens=(0.0, 0.1),
    )
    campaign_demand_effect: float = P(
        0.5, "per unit campaign intensity", "judgement (0-1)", ge=0.0, le=10.0
    )
    cost_decline_eur_per_ha: dict[str, float] = P(
        {},
        "EUR/ha/yr",
        "scenario choice (history fits): fall of a practice's net annual cost after the start "
        "year from technical change, for every farm — not a payment (no budget, no scheme "
        "openness, no public spend). Conservation agriculture: cheaper glyphosate and no-till "
        "seeders from the 1980s (Derpsch et al. 2010, Int. J. Agric. Biol. Eng. 3(1):1); "
        "calibrated by calibration/adoption_curve.toml",
    )
    cost_decline_yr: float = P(
        1.0,
        "yr",
        "judgement (1-45, calibrated in the history fits): years over which the fall is reached, "
        "linearly after the start year (technical change is gradual: glyphosate prices fell over "
        "the 1980s-2000s, Duke & Powles 2008, Pest Manag. Sci. 64:319)",
        ge=1.0,
        le=200.0,
        sens=(1.0, 45.0),
    )

    @model_validator(mode="after")
    def _check_decline(self) -> Market:
        bad = sorted(set(self.cost_decline_eur_per_ha) - set(PRACTICE_IDS))
        if bad:
            raise ValueError(
                f"cost_decline_eur_per_ha: unknown {bad}; allowed: {', '.join(PRACTICE_IDS)}"
            )
        if any(
            not -MAX_SUBSIDY <= v <= MAX_SUBSIDY or not math.isfinite(v)
            for v in self.cost_decline_eur_per_ha.values()
        ):
            raise ValueError(
                f"cost_decline_eur_per_ha: values must lie in [-{MAX_SUBSIDY:g}, {MAX_SUBSIDY:g}]"
            )
        return self


class Advice(_Section):
    """NGO advice and campaigns, scientists' good-practice database and MRV."""

    ngo_capacity_share: float = P(
        0.02,
        "share of farms per NGO per yr",
        "judgement (0.005-0.05)",
        ge=0.0,
        le=1.0,
        sens=(0.005, 0.05),
    )
    cost_per_advice_eur: float = P(
        1000.0,
        "EUR/farm visit programme",
        "judgement (500-2500); MRV/advice fees ~980-2,500 EUR/farm (Soil Capital, Sodiaal)",
        ge=1.0,
        le=1e6,
    )
    knowledge_gain: float = P(
        0.3, "knowledge units per advice", "judgement (0.1-0.5)", ge=0.0, le=1.0, sens=(0.1, 0.5)
    )
    trust_mean: float = P(
        0.7, "0-1", "judgement: trust in advisers (0.4-0.9)", ge=0.0, le=1.0, sens=(0.4, 0.9)
    )
    campaign_intensity: float = P(
        0.0, "attitude units per yr", "scenario choice (0-0.05)", ge=0.0, le=1.0, sens=(0.0, 0.05)
    )
    mrv_error_sd_t_c_ha: float = P(
        0.5,
        "t C/ha",
        "sd of a farm's verified yearly sequestration (measure-and-remodel, unbiased): 0.5 per "
        "yr sums to ~1.6 t C/ha over 10 yr, so ~3 t C/ha (2 sd) is the smallest detectable "
        "10-yr change, as Bradford et al. 2023 find for field sampling (0.2-1.5)",
        ge=0.0,
        le=20.0,
        sens=(0.2, 1.5),
    )
    prior_rel_sd: float = P(
        0.5,
        "share of expected rate",
        "judgement: scientists' initial uncertainty (0.25-1)",
        ge=0.0,
        le=5.0,
        sens=(0.25, 1.0),
    )
    scientist_capacity_share: float = P(
        0.005, "share of farms per scientist per yr", "judgement (0-0.02)", ge=0.0, le=1.0
    )


class PracticeParams(_Section):
    """Overridable figures of one practice (defaults and sources: :mod:`abm.practices`)."""

    annual_cost_eur_per_ha: float = Field(ge=-1e5, le=1e5)
    establishment_cost_eur_per_ha: float = Field(ge=0.0, le=1e6)
    benefit_eur_per_ha: float = Field(ge=-1e5, le=1e5)
    years_to_benefit: float = Field(ge=0.0, le=100.0)
    complexity: float = Field(ge=0.0, le=1.0)
    uncertainty_eur_per_ha: float = Field(ge=0.0, le=1e5)
    initial_share: float = Field(ge=0.0, le=0.95)
    disadoption_rate: float = Field(ge=0.0, le=0.95)
    cost_sd_eur_per_ha: float = Field(ge=0.0, le=1e5)
    extra_input_t_c_ha_yr: float = Field(ge=0.0, le=50.0)
    rate_modifier: float = Field(gt=0.0, le=2.0)
    fym_t_c_ha_yr: float = Field(ge=0.0, le=50.0)
    biochar_t_c_ha_yr: float = Field(ge=0.0, le=50.0)
    irrigation_mm_yr: float = Field(ge=0.0, le=3000.0)
    residue_return_share: float = Field(ge=0.0, le=1.0)
    n_mineral_kg_ha_yr: float = Field(ge=0.0, le=1000.0)
    input_c_to_n: float = Field(gt=0.0, le=500.0)
    yield_effect: float = Field(ge=-1.0, le=5.0)
    other_emissions_tco2e_ha_yr: float = Field(ge=0.0, le=100.0)


_PRACTICE_FIELDS = tuple(PracticeParams.model_fields)


def _practice_default(pid: str) -> PracticeParams:
    spec = CATALOGUE[pid]
    return PracticeParams(**{f: getattr(spec, f) for f in _PRACTICE_FIELDS})


Practices = type(
    "Practices",
    (_Section,),
    {
        "__annotations__": dict.fromkeys(PRACTICE_IDS, PracticeParams),
        "__doc__": "Per-practice figures, one table per practice id.",
        "__module__": __name__,
        **{
            pid: Field(default_factory=lambda pid=pid: _practice_default(pid))
            for pid in PRACTICE_IDS
        },
    },
)


class Params(_Section):
    """All parameters of one model run. Paths are dotted (``policy.subsidy_eur_per_ha``)."""

    n_farms: int = P(1000, "farms", "scenario choice", ge=1, le=5_000_000)
    start_year: int = P(2020, "year", "scenario choice", ge=1800, le=2200)
    end_year: int = P(
        2050, "year", "scenario choice (2030 and 2050 are reporting years)", ge=1800, le=2200
    )
    seed: int = P(42, "-", "root seed; run_model(seed=...) overrides it", ge=0)
    landscape: Landscape = Field(default_factory=Landscape)
    climate: Climate = Field(default_factory=Climate)
    soil: Soil = Field(default_factory=Soil)
    network: Network = Field(default_factory=Network)
    farmer: Farmer = Field(default_factory=Farmer)
    policy: Policy = Field(default_factory=Policy)
    market: Market = Field(default_factory=Market)
    advice: Advice = Field(default_factory=Advice)
    practices: Practices = Field(default_factory=Practices)  # type: ignore[valid-type]
    biomass: Biomass = Field(default_factory=Biomass)
    manure: Manure = Field(default_factory=Manure)
    accounting: Accounting = Field(default_factory=Accounting)
    potential: Potential = Field(default_factory=Potential)

    @model_validator(mode="after")
    def _years(self) -> Params:
        if self.end_year < self.start_year:
            raise ValueError(
                f"end_year ({self.end_year}) must be >= start_year ({self.start_year})"
            )
        if self.soil.model == "icbm" and self.soil.saturation != "none":
            raise ValueError(
                "soil.saturation: saturation is a RothC option; with soil.model = 'icbm' it "
                "must be 'none'"
            )
        for name, items in (
            ("market.premium_practices", self.market.premium_practices),
            ("potential.practices", self.potential.practices),
        ):
            bad = sorted(set(items) - set(PRACTICE_IDS))
            if bad:
                raise ValueError(f"{name}: unknown {bad}; allowed: {', '.join(PRACTICE_IDS)}")
        return self
