"""The practice catalogue: the eight "4 per 1000" practices, their costs and RothC drivers.

Each practice is a :class:`Practice` record. Economic figures are in EUR per hectare and year
(EUR/ha/yr) unless said otherwise; carbon figures in t C/ha/yr. Every number carries its source in
``sources``; where a value is a modelling judgement it says so and its sensitivity range is in
``abm params`` (the ``low``/``high`` of the matching parameter path ``practices.<id>.<field>``).

US-dollar figures from ``data/parameters/parameters_economics_behaviour.csv`` are converted at
**0.893 EUR/USD** (ECB euro reference rate, 2019 annual average 1.1195 USD/EUR) and from per-acre
to per-hectare with 2.471 acres/ha.

How practices act on RothC (SCIENCE.md §5). RothC has no management terms besides its drivers, so
each practice changes drivers: extra plant carbon (``extra_input_t_c_ha_yr``, entering in the months
``input_months``), soil cover in otherwise bare months (``covers_bare_months``), a multiplier on all
decomposition rates (``rate_modifier``; only conservation agriculture, standing for reduced soil
disturbance), the DPM/RPM ratio of its extra input (``dpm_rpm``; woody agroforestry litter 0.25),
imported farmyard manure or compost carbon (``fym_t_c_ha_yr``: *storage*, not sequestration),
biochar carbon into its own stable pool (``biochar_t_c_ha_yr``), and irrigation water in the growing
season (``irrigation_mm_yr``). The carbon inputs are **derived**: chosen so that the sequestration
that *emerges from RothC* over the first 20 years in the reference climate lands inside the
meta-analysis range of SCIENCE.md §5 (checked by ``tests/test_practices.py``); see the
``extra_input_t_c_ha_yr`` source of each practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EUR_PER_USD = 0.893
"""ECB reference rate 2019 average (1.1195 USD per EUR)."""
ACRES_PER_HA = 2.471
C_TO_CO2 = 44.0 / 12.0
"""t CO2e per t C (molar masses)."""

SYSTEMS = ("arable", "grassland", "mixed")
"""Production systems: arable crops, livestock on grassland, mixed crop-livestock."""

PRACTICE_IDS = (
    "cover_crops",
    "conservation_agriculture",
    "agroforestry",
    "organic_fertilisation",
    "integrated_soil_fertility",
    "improved_grazing",
    "water_management",
    "biochar",
)
"""Practice ids (DESIGN.md §6 contract), in the order of every (N, P) array."""


@dataclass(frozen=True)
class Practice:
    """One practice: economics, behaviour-relevant traits and RothC driver changes.

    Attributes
    ----------
    id
        Practice id (one of :data:`PRACTICE_IDS`).
    systems
        Production systems it applies to.
    zones
        Agro-pedo-climatic zones it applies to (``None`` = all).
    annual_cost_eur_per_ha
        Running cost minus running savings, EUR/ha/yr, before yield effects.
    establishment_cost_eur_per_ha
        One-off cost when adopting, EUR/ha (annualised by the farmer over ``horizon_yr``).
    benefit_eur_per_ha
        Yield/input benefit once established, EUR/ha/yr, reached after ``years_to_benefit``.
    years_to_benefit
        Years until the benefit is reached (linear ramp).
    complexity
        0–1, how hard the practice is to learn (ADOPT's learnability; Kuehne et al. 2017).
    uncertainty_eur_per_ha
        Standard deviation of the farmer's net-benefit expectation, EUR/ha/yr, before scientists'
        evidence reduces it.
    initial_share
        Share of the eligible farmed area using the practice at the start year (2020).
    disadoption_rate
        Yearly share of adopters who drop the practice under unchanged conditions.
    cost_sd_eur_per_ha
        Standard deviation between farms of the practice's net cost, EUR/ha/yr: each farm draws
        its own persistent deviation once (:func:`abm.landscape.build_farms`), which gives it
        its own willingness to accept a payment.
    extra_input_t_c_ha_yr, input_months, covers_bare_months, rate_modifier, dpm_rpm,
    fym_t_c_ha_yr, biochar_t_c_ha_yr, irrigation_mm_yr, residue_return_share
        RothC driver changes, see module docstring.
    draws_on
        The limited resource its carbon comes from (:mod:`abm.resources`): ``"growth"`` (extra
        plant growth on the farm, capped per farm), ``"residues"`` (crop residues that were
        removed before), ``"manure"`` (the regional manure and compost pool) or ``None``.
    n_mineral_kg_ha_yr
        Mineral fertiliser N the practice adds, kg N/ha/yr (for N2O, :mod:`abm.accounting`).
    input_c_to_n
        C:N ratio of the practice's extra plant input (its N enters the N2O accounting as
        crop-residue N, IPCC 2019 F_CR).
    yield_effect
        Relative change of the farm's output on the area under the practice (production index).
    other_emissions_tco2e_ha_yr
        Other emissions the practice causes, t CO2e/ha/yr (irrigation pumping energy).
    sources
        Source (or "judgement" with its range) of every figure, by attribute name.
    """

    id: str
    systems: tuple[str, ...]
    annual_cost_eur_per_ha: float
    establishment_cost_eur_per_ha: float
    benefit_eur_per_ha: float
    years_to_benefit: float
    complexity: float
    uncertainty_eur_per_ha: float
    initial_share: float
    disadoption_rate: float
    cost_sd_eur_per_ha: float = 0.0
    extra_input_t_c_ha_yr: float = 0.0
    input_months: tuple[int, ...] = tuple(range(12))
    covers_bare_months: bool = False
    rate_modifier: float = 1.0
    dpm_rpm: float | None = None
    fym_t_c_ha_yr: float = 0.0
    biochar_t_c_ha_yr: float = 0.0
    irrigation_mm_yr: float = 0.0
    residue_return_share: float = 0.0
    n_mineral_kg_ha_yr: float = 0.0
    input_c_to_n: float = 25.0
    yield_effect: float = 0.0
    other_emissions_tco2e_ha_yr: float = 0.0
    draws_on: str | None = None
    zones: tuple[str, ...] | None = None
    sources: dict[str, str] = field(default_factory=dict)


_DERIVED_INPUT = (
    "derived by calibration/derive_practice_inputs.py: the RothC gain over the first 20 yr in the "
    "reference zone's typical farm hits the meta-analysis figure {rng} ({ref}); "
    "tests/test_practices.py checks it"
)

CATALOGUE: dict[str, Practice] = {
    "cover_crops": Practice(
        id="cover_crops",
        systems=("arable", "mixed"),
        annual_cost_eur_per_ha=round(91 * EUR_PER_USD),
        establishment_cost_eur_per_ha=0.0,
        benefit_eur_per_ha=round(0.7 * 91 * EUR_PER_USD),
        years_to_benefit=3.0,
        complexity=0.3,
        uncertainty_eur_per_ha=40.0,
        initial_share=0.04,
        disadoption_rate=0.15,
        cost_sd_eur_per_ha=42.0,
        extra_input_t_c_ha_yr=0.75,
        input_months=(9, 10, 11, 0, 1, 2),
        covers_bare_months=True,
        draws_on="growth",
        input_c_to_n=20.0,
        yield_effect=-0.04,
        sources={
            "input_c_to_n": "judgement: C:N of cover-crop residues 12-30 (legume mixes low, "
            "cereals high)",
            "yield_effect": "Abdalla et al. 2019 Glob. Change Biol. 25:2530 (?): main-crop yield "
            "-4 % on average after cover crops (range -10..+5 %)",
            "cost_sd_eur_per_ha": "SARE 2019 cost range 37-193 USD/ha read as 5-95 % of a "
            "normal: (193-37)/3.29 x 0.893 EUR/USD",
            "annual_cost_eur_per_ha": "SARE 2019 median 37 USD/acre = 91 USD/ha (range 37-193)",
            "benefit_eur_per_ha": "judgement: 70 % of the cost recovered (range 30-120 %); "
            "SARE ~3 yr pay-back for those who keep it",
            "years_to_benefit": "Myers (SARE) 2021: ~3 yr break-even",
            "initial_share": "US Census 2017: 3.9 % of cropland (farmdoc 9:135)",
            "disadoption_rate": "ERS EIB-222: only 19-32 % of cover-cropped acres kept 3-4 yr "
            "of 4 (range 0.05-0.3/yr)",
            "extra_input_t_c_ha_yr": _DERIVED_INPUT.format(
                rng="0.32 +- 0.08 t C/ha/yr", ref="Poeplau & Don 2015"
            ),
            "complexity": "judgement (0.1-0.6)",
            "uncertainty_eur_per_ha": "judgement (10-100)",
        },
    ),
    "conservation_agriculture": Practice(
        id="conservation_agriculture",
        systems=("arable", "mixed"),
        annual_cost_eur_per_ha=-round(19.05 * ACRES_PER_HA * EUR_PER_USD),
        establishment_cost_eur_per_ha=150.0,
        benefit_eur_per_ha=-30.0,
        years_to_benefit=5.0,
        complexity=0.6,
        uncertainty_eur_per_ha=60.0,
        initial_share=0.05,
        disadoption_rate=0.10,
        extra_input_t_c_ha_yr=0.0,
        cost_sd_eur_per_ha=40.0,
        input_months=(7, 8),
        rate_modifier=0.93,
        residue_return_share=1.0,
        draws_on="residues",
        input_c_to_n=70.0,
        yield_effect=-0.05,
        sources={
            "residue_return_share": "CA keeps crop residues on the field: the share of the "
            "residues removed under conventional management that it returns (judgement 0.5-1)",
            "input_c_to_n": "judgement: cereal straw C:N 60-100",
            "yield_effect": "Pittelkow et al. 2015 Nature 517:365: no-till -5.1 % on average",
            "cost_sd_eur_per_ha": "judgement (20-80): machinery, soils and weed pressure differ",
            "annual_cost_eur_per_ha": "Univ. Illinois (Schnitkey): no-till saves 19.05 USD/acre "
            "machine+fuel+labour (negative cost)",
            "establishment_cost_eur_per_ha": "judgement: direct drill and learning (50-300)",
            "benefit_eur_per_ha": "judgement: small yield penalty kept after transition (-80..+20)",
            "initial_share": "judgement for Europe (~5 % of cropland; global 14.7 % in 2018, "
            "Kassam et al. 2022)",
            "disadoption_rate": "Sawadgo & Plastina 2022: 40 % of gross no-till adoption "
            "dis-adopted 2012-17 (~0.1/yr; range 0.05-0.2)",
            "rate_modifier": "derived: with the residues it returns, the 20-yr gain in the "
            "reference zone is ~0.16 t C/ha/yr, inside the whole-profile evidence 0-0.3 "
            "(Luo et al. 2010; Powlson et al. 2014; Ogle et al. 2019); the topsoil figure "
            "0.57 +- 0.14 (West & Post 2002) is the upper sensitivity value (rate_modifier 0.5); "
            "no extra plant input (SCIENCE.md §5)",
            "complexity": "judgement (0.3-0.8)",
            "uncertainty_eur_per_ha": "judgement (20-120)",
        },
    ),
    "agroforestry": Practice(
        id="agroforestry",
        systems=("arable", "grassland", "mixed"),
        annual_cost_eur_per_ha=20.0,
        establishment_cost_eur_per_ha=3250.0 * (1 - 0.8),
        benefit_eur_per_ha=-20.0,
        years_to_benefit=10.0,
        complexity=0.7,
        uncertainty_eur_per_ha=80.0,
        initial_share=0.01,
        disadoption_rate=0.01,
        cost_sd_eur_per_ha=40.0,
        extra_input_t_c_ha_yr=1.25,
        input_months=(9, 10, 11),
        dpm_rpm=0.25,
        draws_on="growth",
        input_c_to_n=30.0,
        yield_effect=-0.10,
        sources={
            "input_c_to_n": "judgement: tree leaf litter and fine roots C:N 20-50",
            "yield_effect": "judgement: tree rows take 5-15 % of the plot and shade the crop "
            "(range -0.2..0)",
            "cost_sd_eur_per_ha": "judgement (20-80): establishment 2,000-4,500 EUR/ha (La "
            "France Agricole 2016) net of 80 % aid and annualised, plus land lost",
            "establishment_cost_eur_per_ha": "La France Agricole 2016: 2,000-4,500 EUR/ha, "
            "net of the CAP 80 % investment aid",
            "annual_cost_eur_per_ha": "judgement: maintenance and pruning (0-60)",
            "benefit_eur_per_ha": "judgement: crop area lost, timber later (-80..+40)",
            "initial_share": "judgement (0-0.03)",
            "disadoption_rate": "judgement: trees are rarely removed (0-0.03)",
            "extra_input_t_c_ha_yr": _DERIVED_INPUT.format(
                rng="stock change factor 1.25 +- 0.04 ~ 0.3-0.7 t C/ha/yr",
                ref="Cardinael et al. 2018",
            ),
            "dpm_rpm": "RothC woodland DPM/RPM ratio 0.25 (Coleman & Jenkinson)",
            "complexity": "judgement (0.4-0.9)",
            "uncertainty_eur_per_ha": "judgement (20-150)",
        },
    ),
    "organic_fertilisation": Practice(
        id="organic_fertilisation",
        systems=("arable", "grassland", "mixed"),
        annual_cost_eur_per_ha=60.0,
        establishment_cost_eur_per_ha=0.0,
        benefit_eur_per_ha=round(16 * 8 * 1.15),
        years_to_benefit=1.0,
        complexity=0.2,
        uncertainty_eur_per_ha=30.0,
        initial_share=0.10,
        disadoption_rate=0.05,
        cost_sd_eur_per_ha=25.0,
        fym_t_c_ha_yr=1.38,
        input_months=(2, 3),
        draws_on="manure",
        input_c_to_n=15.0,
        sources={
            "input_c_to_n": "judgement: C:N of farmyard manure and compost 10-20",
            "cost_sd_eur_per_ha": "judgement (10-50): ADAS 7-10 GBP/t nutrient value x 16 t/ha "
            "and haulage distance",
            "annual_cost_eur_per_ha": "judgement: haulage and spreading of 16 t/ha (30-120)",
            "benefit_eur_per_ha": "WRAP/Defra DC-Agri 16 t/ha x ADAS 8 GBP/t nutrient value "
            "(x1.15 EUR/GBP, judgement)",
            "initial_share": "judgement (0.05-0.2)",
            "disadoption_rate": "Agence Bio: ~5 %/yr exits from organic farming (4-5.6 %)",
            "fym_t_c_ha_yr": _DERIVED_INPUT.format(
                rng="0.41 t C/ha/yr (range 0.3-0.55)", ref="Bolinder et al. 2020"
            )
            + "; manure is drawn from the regional pool, moved not created, and manure C "
            "brought onto a farm is storage (SCIENCE.md §5, §7). Retention: RothC keeps 39 / 30 "
            "/ 19 % of the applied C after 10 / 20 / 50 yr on the reference farm, more than the "
            "12 +- 4 % long-term retention of Maillard & Angers 2014 (Glob. Change Biol. "
            "20:666); the conformant RothC governs the dynamics and Bolinder's 0.41 the rate per "
            "hectare served, so per tonne of manure the model may overstate the long-term gain "
            "(up to ~2x at 50 yr); keep fym_t_c_ha_yr's low sensitivity value for that case",
            "complexity": "judgement (0.1-0.4)",
            "uncertainty_eur_per_ha": "judgement (10-60)",
        },
    ),
    "integrated_soil_fertility": Practice(
        id="integrated_soil_fertility",
        systems=("arable", "mixed"),
        annual_cost_eur_per_ha=40.0,
        establishment_cost_eur_per_ha=0.0,
        benefit_eur_per_ha=30.0,
        years_to_benefit=3.0,
        complexity=0.4,
        uncertainty_eur_per_ha=40.0,
        initial_share=0.05,
        disadoption_rate=0.08,
        cost_sd_eur_per_ha=25.0,
        fym_t_c_ha_yr=0.75,
        input_months=(7, 8),
        draws_on="manure",
        n_mineral_kg_ha_yr=40.0,
        input_c_to_n=15.0,
        yield_effect=0.05,
        sources={
            "n_mineral_kg_ha_yr": "judgement: mineral N combined with the organic input (0-80)",
            "input_c_to_n": "judgement: compost and manure C:N 10-20",
            "yield_effect": "judgement (0-0.15): organic + mineral inputs raise yields where "
            "soils are poor (Chivenge et al. 2011; a sub-Saharan meta-analysis, not transferred)",
            "cost_sd_eur_per_ha": "judgement (10-50)",
            "annual_cost_eur_per_ha": "judgement (10-80)",
            "benefit_eur_per_ha": "judgement (0-80)",
            "initial_share": "judgement (0.02-0.1)",
            "disadoption_rate": "judgement (0.03-0.15)",
            "fym_t_c_ha_yr": _DERIVED_INPUT.format(
                rng="0.1-0.3 t C/ha/yr",
                ref="Chivenge et al. 2011 (+12 % SOC over decades "
                "with organic inputs; sub-Saharan Africa: its transfer to temperate farms is a "
                "judgement)",
            )
            + "; drawn from the regional manure and compost pool (abm.resources)",
            "complexity": "judgement (0.2-0.6)",
            "uncertainty_eur_per_ha": "judgement (10-80)",
        },
    ),
    "improved_grazing": Practice(
        id="improved_grazing",
        systems=("grassland", "mixed"),
        annual_cost_eur_per_ha=30.0,
        establishment_cost_eur_per_ha=round(150 * (1 - 0.75)),
        benefit_eur_per_ha=15.0,
        years_to_benefit=3.0,
        complexity=0.4,
        uncertainty_eur_per_ha=40.0,
        initial_share=0.10,
        disadoption_rate=0.05,
        cost_sd_eur_per_ha=20.0,
        extra_input_t_c_ha_yr=0.97,
        input_months=tuple(range(3, 10)),
        draws_on="growth",
        input_c_to_n=20.0,
        sources={
            "input_c_to_n": "judgement: grass litter and roots C:N 15-30",
            "cost_sd_eur_per_ha": "judgement (10-40); EQIP 528 pays 4-12 USD/acre",
            "annual_cost_eur_per_ha": "judgement: labour and moves (10-60); EQIP 528 pays "
            "4-12 USD/acre (farmersnavigator 2026)",
            "establishment_cost_eur_per_ha": "judgement 150 EUR/ha fencing and water, net of the "
            "NRCS 75 % cost share (Ozarks Farm & Neighbor 2016)",
            "benefit_eur_per_ha": "judgement (0-50)",
            "initial_share": "judgement (0.05-0.2)",
            "disadoption_rate": "judgement (0.02-0.1)",
            "extra_input_t_c_ha_yr": _DERIVED_INPUT.format(
                rng="~0.28 t C/ha/yr (range 0.1-0.5)",
                ref="Conant, Cerri, Osborne & Paustian 2017 Ecol. Appl. 27:662 (grazing "
                "management; strongly climate-dependent, Abdalla et al. 2018 Agric. Ecosyst. "
                "Environ. 253:62); the 0.28 figure is seen only in secondary summaries: keep the "
                "wide range",
            ),
            "complexity": "judgement (0.2-0.6)",
            "uncertainty_eur_per_ha": "judgement (10-80)",
        },
    ),
    "water_management": Practice(
        id="water_management",
        systems=("arable", "mixed"),
        annual_cost_eur_per_ha=150.0,
        establishment_cost_eur_per_ha=1500.0,
        benefit_eur_per_ha=200.0,
        years_to_benefit=1.0,
        complexity=0.5,
        uncertainty_eur_per_ha=80.0,
        initial_share=0.03,
        disadoption_rate=0.02,
        cost_sd_eur_per_ha=60.0,
        extra_input_t_c_ha_yr=1.65,
        input_months=(7, 8),
        irrigation_mm_yr=150.0,
        zones=("mediterranean", "continental", "tropical"),
        draws_on="growth",
        input_c_to_n=50.0,
        yield_effect=0.20,
        other_emissions_tco2e_ha_yr=0.11,
        sources={
            "input_c_to_n": "judgement: extra crop residues C:N 40-80",
            "yield_effect": "judgement: deficit irrigation in dry climates (0.05-0.5)",
            "other_emissions_tco2e_ha_yr": "judgement: pumping 1,500 m3/ha x 0.3 kWh/m3 x "
            "0.25 kg CO2/kWh = 0.11 t CO2/ha/yr (range 0.03-0.3)",
            "cost_sd_eur_per_ha": "judgement (30-120): water access and energy prices differ",
            "annual_cost_eur_per_ha": "judgement: water and energy (50-300)",
            "establishment_cost_eur_per_ha": "judgement: equipment (500-4000)",
            "benefit_eur_per_ha": "judgement: yield gain in dry climates (50-400)",
            "initial_share": "judgement (0.01-0.1)",
            "disadoption_rate": "judgement (0.01-0.05)",
            "irrigation_mm_yr": "judgement: deficit irrigation Apr-Sep (50-400)",
            "extra_input_t_c_ha_yr": _DERIVED_INPUT.format(
                rng="0.15-0.35 t C/ha/yr",
                ref="judgement: the +10.9 % SOC of irrigation in semi-arid soils quoted from a "
                "2024 meta-analysis (Sci. Total Environ.) could not be traced to its authors and "
                "DOI, so the figure is a judgement with a wide range",
            ),
            "complexity": "judgement (0.3-0.7)",
            "uncertainty_eur_per_ha": "judgement (20-150)",
        },
    ),
    "biochar": Practice(
        id="biochar",
        systems=("arable", "mixed"),
        annual_cost_eur_per_ha=250.0,
        establishment_cost_eur_per_ha=0.0,
        benefit_eur_per_ha=20.0,
        years_to_benefit=2.0,
        complexity=0.5,
        uncertainty_eur_per_ha=60.0,
        initial_share=0.0,
        disadoption_rate=0.05,
        cost_sd_eur_per_ha=85.0,
        biochar_t_c_ha_yr=0.5,
        input_months=(3,),
        sources={
            "cost_sd_eur_per_ha": "biochar 100-200 USD/t traded (Quantum 2023-24; some to 525) x "
            "0.7 t/ha: judgement 85 (40-150)",
            "annual_cost_eur_per_ha": "judgement: 0.7 t biochar/ha/yr at ~350 EUR/t (100-500)",
            "benefit_eur_per_ha": "judgement (0-60)",
            "biochar_t_c_ha_yr": "judgement: 0.5 t C/ha/yr applied (0.2-2); 97 % stable, "
            "MRT ~556 yr (Wang, Xiong & Kuzyakov 2016)",
            "initial_share": "judgement: negligible in 2020",
            "disadoption_rate": "judgement (0.02-0.15)",
            "complexity": "judgement (0.3-0.7)",
            "uncertainty_eur_per_ha": "judgement (20-120)",
        },
    ),
}
"""The catalogue, keyed by practice id, in :data:`PRACTICE_IDS` order."""

assert tuple(CATALOGUE) == PRACTICE_IDS  # internal consistency, not user input

SENSITIVITY: dict[tuple[str, str], tuple[float, float]] = {
    # conservation agriculture: 0.5 reproduces the topsoil 0.57 t C/ha/yr of West & Post 2002
    # (the upper value), 1.0 leaves decomposition unchanged (no whole-profile effect)
    ("conservation_agriculture", "rate_modifier"): (0.5, 1.0),
    ("conservation_agriculture", "residue_return_share"): (0.5, 1.0),
    ("conservation_agriculture", "yield_effect"): (-0.10, 0.0),
    ("conservation_agriculture", "input_c_to_n"): (60.0, 100.0),
    ("cover_crops", "yield_effect"): (-0.10, 0.05),
    ("cover_crops", "input_c_to_n"): (12.0, 30.0),
    ("agroforestry", "yield_effect"): (-0.20, 0.0),
    ("agroforestry", "input_c_to_n"): (20.0, 50.0),
    ("organic_fertilisation", "input_c_to_n"): (10.0, 20.0),
    ("integrated_soil_fertility", "input_c_to_n"): (10.0, 20.0),
    ("integrated_soil_fertility", "n_mineral_kg_ha_yr"): (0.0, 80.0),
    ("integrated_soil_fertility", "yield_effect"): (0.0, 0.15),
    ("improved_grazing", "input_c_to_n"): (15.0, 30.0),
    ("water_management", "input_c_to_n"): (40.0, 80.0),
    ("water_management", "yield_effect"): (0.05, 0.5),
    ("water_management", "other_emissions_tco2e_ha_yr"): (0.03, 0.3),
}
"""Sensitivity ranges (``abm params``) of practice figures whose range is stated in their source
or judgement; every other non-zero figure gets ±50 % of its default."""
