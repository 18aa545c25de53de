"""Derive each practice's carbon input so that RothC reproduces its meta-analysis rate.

RothC has no management terms, so a practice acts through extra carbon input (plus cover, rate
modifier, DPM/RPM ratio). The rate that emerges over the first 20 years is affine in that input,
so two runs per practice give the input that hits the target exactly in the reference zone. Run:

    python calibration/derive_practice_inputs.py

and copy the printed inputs into ``abm/practices.py`` (rounded). The inputs are derived without
the biomass cap (``biomass.extra_input_cap_share``), which then limits them on every farm, the
reference farm included. Conservation agriculture is not an input: its rate modifier (0.93) is
set so that, with the removed residues it returns, the 20-yr gain is ≈ 0.16 t C/ha/yr, inside the
whole-profile evidence (0–0.3; Luo et al. 2010, Powlson et al. 2014, Ogle et al. 2019).
``tests/test_practices.py``
checks the rates that emerge from the catalogue stay inside the meta-analysis ranges.

Targets (t C/ha/yr over the first 20 yr; SCIENCE.md §5):

=========================  ======  ===================  =======================================
practice                   target  reference zone       source
=========================  ======  ===================  =======================================
cover_crops                0.32    temperate_oceanic    Poeplau & Don 2015 (0.32 ± 0.08)
agroforestry               0.50    temperate_oceanic    Cardinael et al. 2018: factor 1.25 ± 0.04
                                                        ≈ 0.25 × 40-48 t C/ha over ~20 yr
organic_fertilisation      0.41    temperate_oceanic    Bolinder et al. 2020
integrated_soil_fertility  0.20    temperate_oceanic    Chivenge et al. 2011: ≥ 12 % in decades
improved_grazing           0.28    temperate_oceanic    Conant et al. 2017 (?) — grassland
water_management           0.22    mediterranean        STOTEN 2024: +10.9 % of ~40 t C/ha / 20 yr
=========================  ======  ===================  =======================================
"""

from __future__ import annotations

from abm.landscape import practice_effect_rates
from abm.practices import PRACTICE_IDS
from abm.scenario import resolve_params

TARGETS = {
    "cover_crops": (0.32, "temperate_oceanic", "extra_input_t_c_ha_yr"),
    "agroforestry": (0.50, "temperate_oceanic", "extra_input_t_c_ha_yr"),
    "organic_fertilisation": (0.41, "temperate_oceanic", "fym_t_c_ha_yr"),
    "integrated_soil_fertility": (0.20, "temperate_oceanic", "fym_t_c_ha_yr"),
    "improved_grazing": (0.28, "temperate_oceanic", "extra_input_t_c_ha_yr"),
    "water_management": (0.22, "mediterranean", "extra_input_t_c_ha_yr"),
}


def derive() -> dict[str, float]:
    """Input per practice that hits its target rate in its reference zone."""
    out = {}
    for pid, (target, zone, field) in TARGETS.items():
        k = PRACTICE_IDS.index(pid)
        rates = []
        for x in (1.0, 2.0):
            p = resolve_params(
                None,
                {
                    f"practices.{pid}.{field}": x,
                    "landscape.zone_shares": {zone: 1.0},
                    "biomass.extra_input_cap_share": 5.0,  # the input itself, uncapped
                },
            )
            rates.append(practice_effect_rates(p, [zone])[0, k])
        slope = rates[1] - rates[0]
        out[pid] = 1.0 + (target - rates[0]) / slope
        print(
            f"{pid:28s} {field:24s} {out[pid]:.3f}  (rate at 1: {rates[0]:.3f}, slope {slope:.3f})"
        )
    return out


if __name__ == "__main__":
    derive()
