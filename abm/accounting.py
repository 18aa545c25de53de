"""Greenhouse-gas, nutrient, water and production accounting of one year (pure numpy).

What the initiative asks beside the SOC stock (SCIENCE.md §7): the N2O the practices cause,
the net greenhouse-gas balance, the nitrogen locked in new soil organic matter, the change of
plant-available water, and the production lost (food security) with its leakage.

N2O (IPCC 2019 Refinement, Vol. 4 Ch. 11, Tier 1), per farm and year, from the N the practices
add relative to conventional management (kg N/ha/yr):

* residue N of extra plant input = extra C ÷ the practice's ``input_c_to_n`` (F_CR);
* organic N = manure/compost C received ÷ its C:N, minus the N of the manure given away
  (moving manure within the landscape is zero-sum for N too);
* mineral N = ``n_mineral_kg_ha_yr`` × area share.

``direct = EF1 × N`` (wet climates: ``ef1_wet_organic`` for organic and residue N,
``ef1_wet_synthetic`` for mineral N; dry: ``ef1_dry``); ``indirect = EF4 × (FracGASF ×
mineral + FracGASM × organic) + EF5 × FracLEACH × N`` (leaching only in wet climates);
``t CO2e = N2O-N × 44/28 × GWP100 / 1000``. A zone is *wet* when its annual rainfall exceeds its
potential evapotranspiration, taken as 0.75 × open-pan evaporation (RothC's pan coefficient).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abm.resources import Allocation, PracticeShapes

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

N2O_PER_N2O_N = 44.0 / 28.0
"""kg N2O per kg N2O-N (molar masses)."""


@dataclass(frozen=True)
class N2OFactors:
    """IPCC 2019 Tier 1 factors (``params.accounting``)."""

    ef1_wet_organic: float
    ef1_wet_synthetic: float
    ef1_dry: float
    frac_gas_synthetic: float
    frac_gas_organic: float
    ef4_volatilised: float
    frac_leach: float
    ef5_leached: float
    gwp100_n2o: float

    @classmethod
    def from_params(cls, acc: object) -> N2OFactors:
        """Read the factors from ``params.accounting``."""
        return cls(**{k: float(getattr(acc, k)) for k in cls.__dataclass_fields__})


def wet_zones(rain12: FloatArray, evap12: FloatArray) -> BoolArray:
    """(Z,) whether each zone is wet: annual rain > 0.75 × annual open-pan evaporation."""
    out: BoolArray = rain12.sum(axis=-1) > 0.75 * evap12.sum(axis=-1)
    return out


@dataclass
class NitrogenAdded:
    """(N,) N the practices add this year, kg N/ha/yr, by kind."""

    residue: FloatArray
    organic: FloatArray
    mineral: FloatArray


def nitrogen_added(
    use: FloatArray, alloc: Allocation, shapes: PracticeShapes, manure_c_to_n: float
) -> NitrogenAdded:
    """N added by the practices relative to conventional management (kg N/ha/yr, per farm)."""
    cn = shapes.input_c_to_n[None, :]
    residue = 1000.0 * (alloc.extra / cn).sum(axis=1)
    organic = 1000.0 * ((alloc.organic_in / cn).sum(axis=1) - alloc.organic_out / manure_c_to_n)
    mineral = np.einsum("np,p->n", use, shapes.n_mineral)
    return NitrogenAdded(residue=residue, organic=organic, mineral=mineral)


def n2o_tco2e_per_ha(n: NitrogenAdded, wet: BoolArray, f: N2OFactors) -> FloatArray:
    """(N,) N2O emissions of the added N, t CO2e/ha/yr (negative where N was taken away)."""
    ef_org = np.where(wet, f.ef1_wet_organic, f.ef1_dry)
    ef_syn = np.where(wet, f.ef1_wet_synthetic, f.ef1_dry)
    total_n = n.residue + n.organic + n.mineral
    direct = ef_org * (n.residue + n.organic) + ef_syn * n.mineral
    volatilised = f.ef4_volatilised * (
        f.frac_gas_synthetic * n.mineral + f.frac_gas_organic * n.organic
    )
    leached = np.where(wet, f.ef5_leached * f.frac_leach * total_n, 0.0)
    n2o_n = direct + volatilised + leached  # kg N2O-N/ha/yr
    out: FloatArray = n2o_n * N2O_PER_N2O_N * f.gwp100_n2o / 1000.0
    return out


def output_per_ha(use: FloatArray, shapes: PracticeShapes) -> FloatArray:
    """(N,) farm output relative to conventional management: ``1 + Σ use·yield_effect``."""
    out: FloatArray = 1.0 + np.einsum("np,p->n", use, shapes.yield_effect)
    return out


def awc_change_mm(
    soc_now: FloatArray,
    soc_start: FloatArray,
    bulk_density: FloatArray,
    depth_cm: FloatArray,
    mm_per_m_per_pct: float,
) -> FloatArray:
    """(N,) change of available water capacity from the SOC change, mm (Minasny & McBratney 2018).

    SOC % (mass) = stock (t C/ha) ÷ (bulk density g/cm³ × depth cm); the layer holds
    ``mm_per_m_per_pct × depth/100`` mm more per 1 % more SOC.
    """
    d_pct = (soc_now - soc_start) / (bulk_density * depth_cm)
    out: FloatArray = d_pct * mm_per_m_per_pct * depth_cm / 100.0
    return out
