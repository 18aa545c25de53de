"""Parameter sections of the carbon limits and the greenhouse-gas accounting (SCIENCE.md §7).

Figures from the IPCC 2019 Refinement (Vol. 4 Ch. 11), AR6, van Groenigen et al. 2017 and
Minasny & McBratney 2018 are STATED values; the rest are judgement with a sensitivity range.
"""

from __future__ import annotations

from abm.schema_base import P, _Section


class Biomass(_Section):
    """How much extra plant carbon each farm's land can give (:mod:`abm.resources`)."""

    extra_input_cap_share: float = P(
        0.5,
        "share of the farm's base plant input",
        "judgement (0.3-1.0): cover crops, trees, better grazing and irrigated crops together "
        "add at most this share of what the land already returns; Bruni et al. 2021 "
        "(Biogeosciences 18:3981) find 4 permille/yr at 14 European sites needs +43 % C input",
        ge=0.0,
        le=5.0,
        sens=(0.3, 1.0),
    )
    residue_removed_share_arable: float = P(
        0.2,
        "residue C removed / plant C returned",
        "judgement (0.05-0.4): straw exported from part of the cereal area",
        ge=0.0,
        le=2.0,
        sens=(0.05, 0.4),
    )
    residue_removed_share_mixed: float = P(
        0.3,
        "residue C removed / plant C returned",
        "judgement (0.1-0.5): straw taken for bedding and feed on crop-livestock farms",
        ge=0.0,
        le=2.0,
        sens=(0.1, 0.5),
    )


class Manure(_Section):
    """The regional manure and compost pool (:mod:`abm.resources`)."""

    own_t_c_ha_yr_grassland: float = P(
        0.3,
        "t C/ha/yr",
        "judgement (0.1-1.0): manure C spread on livestock farms after storage losses "
        "(livestock density ~0.5-1.5 LU/ha x ~0.3-0.7 t C/LU/yr reaching the field)",
        ge=0.0,
        le=10.0,
        sens=(0.1, 1.0),
    )
    own_t_c_ha_yr_mixed: float = P(
        0.2,
        "t C/ha/yr",
        "judgement (0.05-0.6): as for grassland farms, lower stocking",
        ge=0.0,
        le=10.0,
        sens=(0.05, 0.6),
    )
    exportable_share: float = P(
        0.5,
        "share of own manure",
        "judgement (0.2-0.8): manure a livestock farm can spare for others",
        ge=0.0,
        le=1.0,
        sens=(0.2, 0.8),
    )
    import_t_c_ha_yr: float = P(
        0.0,
        "t C per ha of farmland per yr",
        "scenario choice: organic C brought into the landscape from outside (compost, digestate, "
        "sludge); counted as storage, never as sequestration",
        ge=0.0,
        le=10.0,
    )


class Accounting(_Section):
    """Greenhouse-gas, nutrient, water and production accounting (SCIENCE.md §7)."""

    ef1_wet_organic: float = P(
        0.006,
        "kg N2O-N per kg N",
        "IPCC 2019 Refinement Vol. 4 Ch. 11 Table 11.1: wet climate, organic and residue N",
        ge=0.0,
        le=0.1,
        sens=(0.001, 0.011),
    )
    ef1_wet_synthetic: float = P(
        0.016,
        "kg N2O-N per kg N",
        "IPCC 2019 Refinement Table 11.1: wet climate, synthetic fertiliser",
        ge=0.0,
        le=0.1,
        sens=(0.013, 0.019),
    )
    ef1_dry: float = P(
        0.005,
        "kg N2O-N per kg N",
        "IPCC 2019 Refinement Table 11.1: dry climate, all N inputs",
        ge=0.0,
        le=0.1,
        sens=(0.0, 0.011),
    )
    frac_gas_synthetic: float = P(
        0.11, "share of N", "IPCC 2019 Refinement Table 11.3 FracGASF", ge=0.0, le=1.0
    )
    frac_gas_organic: float = P(
        0.21, "share of N", "IPCC 2019 Refinement Table 11.3 FracGASM", ge=0.0, le=1.0
    )
    ef4_volatilised: float = P(
        0.010,
        "kg N2O-N per kg N volatilised",
        "IPCC 2019 Refinement Table 11.3 EF4",
        ge=0.0,
        le=0.1,
    )
    frac_leach: float = P(
        0.24,
        "share of N (wet climates)",
        "IPCC 2019 Refinement Table 11.3 FracLEACH-(H); 0 in dry climates",
        ge=0.0,
        le=1.0,
        sens=(0.01, 0.73),
    )
    ef5_leached: float = P(
        0.011, "kg N2O-N per kg N leached", "IPCC 2019 Refinement Table 11.3 EF5", ge=0.0, le=0.1
    )
    gwp100_n2o: float = P(273.0, "kg CO2e per kg N2O", "IPCC AR6 WGI Table 7.15", ge=0.0, le=1000.0)
    som_c_to_n: float = P(
        11.0,
        "kg C per kg N",
        "van Groenigen et al. 2017 Environ. Sci. Technol. 51:4738 (C:N of SOM 10-12)",
        ge=1.0,
        le=50.0,
        sens=(10.0, 12.0),
    )
    n_limit: bool = P(
        False,
        "-",
        "option: the stabilised carbon a farm gains in a year (RothC BIO + HUM) is limited by the "
        "N available to build it (van Groenigen et al. 2017: new SOM needs N at C:N 10-12)",
    )
    n_available_kg_ha_yr: float = P(
        40.0,
        "kg N/ha/yr",
        "judgement (10-80): N a farm can spare each year to build new SOM (surplus, fixation, "
        "residues) when accounting.n_limit is on",
        ge=0.0,
        le=1000.0,
        sens=(10.0, 80.0),
    )
    awc_mm_per_m_per_pct: float = P(
        17.5,
        "mm water per m soil per 1 % (mass) SOC",
        "Minasny & McBratney 2018 Eur. J. Soil Sci. 69:39 (15-20)",
        ge=0.0,
        le=100.0,
        sens=(15.0, 20.0),
    )
    leakage_tco2e_per_ha_eq: float = P(
        2.0,
        "t CO2e per ha-equivalent of output produced elsewhere per yr",
        "judgement (0.5-5): emissions of producing displaced output on other land, after the "
        "carbon-opportunity-cost idea of Searchinger et al. 2018 Nature 564:249",
        ge=0.0,
        le=100.0,
        sens=(0.5, 5.0),
    )


class Potential(_Section):
    """The technical potential: every eligible farm uses every listed practice (no behaviour)."""

    enabled: bool = P(
        False,
        "-",
        "scenario choice: from policy.start_year every eligible farm uses every practice of "
        "`practices` on its whole area, whatever it would decide (the model's upper bound, "
        "as INRAE's technical potential, Pellerin et al. 2019)",
    )
    practices: list[str] = P(
        [
            "cover_crops",
            "conservation_agriculture",
            "agroforestry",
            "organic_fertilisation",
            "integrated_soil_fertility",
            "improved_grazing",
            "water_management",
        ],
        "practice ids",
        "scenario choice: the practices that act on the farm's own carbon; biochar (carbon made "
        "elsewhere) is left out, as in Pellerin et al. 2019",
    )
