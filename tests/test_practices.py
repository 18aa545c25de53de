"""Sequestration that emerges from RothC for each practice lands in the meta-analysis ranges.

Rates are the first-20-year SOC gain of each practice alone on each zone's typical farm
(:func:`abm.landscape.practice_effect_rates`), SCIENCE.md §5.
"""

from __future__ import annotations

import numpy as np
import pytest

from abm.landscape import practice_effect_rates
from abm.practices import CATALOGUE, PRACTICE_IDS
from abm.scenario import ZONE_IDS, Params, resolve_params

# practice: (low, high, reference zone, source); t C/ha/yr over the first 20 years
RANGES = {
    "cover_crops": (0.24, 0.40, "temperate_oceanic", "Poeplau & Don 2015: 0.32 +- 0.08"),
    "conservation_agriculture": (0.43, 0.71, "temperate_oceanic", "West & Post 2002: 0.57 +- 0.14"),
    "agroforestry": (0.3, 0.7, "temperate_oceanic", "Cardinael et al. 2018: x1.25 in ~20 yr"),
    "organic_fertilisation": (0.3, 0.55, "temperate_oceanic", "Bolinder et al. 2020: 0.41"),
    "integrated_soil_fertility": (0.1, 0.3, "temperate_oceanic", "Chivenge et al. 2011: >= 12 %"),
    "improved_grazing": (0.1, 0.5, "temperate_oceanic", "Conant et al. 2017 (?): ~0.28"),
    "water_management": (0.15, 0.35, "mediterranean", "STOTEN 2024: +10.9 % SOC"),
    "biochar": (0.4, 0.5, "temperate_oceanic", "0.5 t C/ha/yr applied, 97 % stable"),
}


@pytest.fixture(scope="module")
def rates() -> np.ndarray:
    return practice_effect_rates(Params(), list(ZONE_IDS))


@pytest.mark.parametrize("pid", PRACTICE_IDS)
def test_rate_in_reference_zone_inside_meta_analysis_range(rates: np.ndarray, pid: str) -> None:
    low, high, zone, source = RANGES[pid]
    rate = rates[ZONE_IDS.index(zone), PRACTICE_IDS.index(pid)]
    assert low <= rate <= high, f"{pid}: {rate:.3f} t C/ha/yr outside {low}-{high} ({source})"


@pytest.mark.parametrize("pid", PRACTICE_IDS)
def test_rate_in_every_eligible_zone_follows_the_long_term_rule(
    rates: np.ndarray, pid: str
) -> None:
    """Cropland practices give 0.1-0.6 t C/ha/yr (SCIENCE.md §5); allow 0.05-0.8 anywhere."""
    spec = CATALOGUE[pid]
    for z, zone in enumerate(ZONE_IDS):
        if spec.zones is not None and zone not in spec.zones:
            continue
        assert 0.05 <= rates[z, PRACTICE_IDS.index(pid)] <= 0.8, (pid, zone)


def test_gains_are_front_loaded() -> None:
    """Rates fall with time without any saturation term (RothC approaches a new equilibrium)."""
    p = Params()
    r10 = practice_effect_rates(p, ["temperate_oceanic"], years=10)
    r40 = practice_effect_rates(p, ["temperate_oceanic"], years=40)
    carbon = [i for i, pid in enumerate(PRACTICE_IDS) if pid != "biochar"]
    assert (r10[0, carbon] > r40[0, carbon]).all()


def test_rates_scale_with_the_practice_input() -> None:
    """The practice's input parameter is live: doubling it roughly doubles the extra gain."""
    k = PRACTICE_IDS.index("cover_crops")
    base = practice_effect_rates(Params(), ["temperate_oceanic"])[0, k]
    more = practice_effect_rates(
        resolve_params(None, {"practices.cover_crops.extra_input_t_c_ha_yr": 1.5}),
        ["temperate_oceanic"],
    )[0, k]
    assert 1.5 < more / base < 2.1
