"""Soil-carbon saturation for RothC (optional, contested, switchable).

Default is **none**: the official RothC-26.3 has no saturation term, and its equilibrium rises
linearly with inputs. Whether mineral-associated organic carbon (MAOC) saturates — and at
which capacity — is debated (Stewart et al. 2007; Georgiou et al. 2022; and the critiques of
both); keep this switchable and report results with and without it.

How RothC uses it (SCIENCE.md §4, after Stewart et al. 2007): the stabilised fraction
``1/(x + 1)`` of decomposed C that forms BIO + HUM is scaled by the saturation deficit
``max(0, 1 − C_MA/C_sat)`` with ``C_MA = BIO + HUM + IOM`` at the start of the month; the
unstabilised remainder is respired as CO2, so mass balance still holds. Two guards keep the
explicit monthly step from overshooting the capacity (both inactive in ordinary conditions):
the C formed in a month never exceeds the room left, and the humified 2 % of farmyard manure
enters HUM only up to the room left, the rest staying particulate in RPM (judgement: imported
humified matter is not yet mineral-associated). Starting below the capacity, ``C_MA`` therefore
never exceeds it. Any such term makes RothC non-linear: the spin-up and the inverse mode in
:mod:`abm.soil.rothc` iterate.

Capacities are stocks of the modelled layer:
``t C/ha = g C/kg × bulk density (g/cm³) × depth (cm) / 10``.

References
----------
Hassink, J. (1997). The capacity of soils to preserve organic C and N by their association
with clay and silt particles. Plant Soil 191:77–87. doi:10.1023/A:1004213929699
Georgiou, K., Jackson, R. B., Vindušková, O., et al. (2022). Global stocks and capacity of
mineral-associated soil organic carbon. Nat. Commun. 13:3797. doi:10.1038/s41467-022-31540-9
Stewart, C. E., Paustian, K., Conant, R. T., Plante, A. F. & Six, J. (2007). Soil carbon
saturation: concept, evidence and evaluation. Biogeochemistry 86:19–31.
doi:10.1007/s10533-007-9140-0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abm.errors import UserInputError

__all__ = [
    "GEORGIOU_SLOPE",
    "HASSINK_INTERCEPT",
    "HASSINK_SLOPE",
    "KINDS",
    "Saturation",
    "capacity_georgiou",
    "capacity_hassink",
    "g_per_kg_to_t_per_ha",
    "make_saturation",
]

FloatArray = NDArray[np.float64]

#: Saturation options: ``"none"`` (official RothC), ``"hassink"``, ``"georgiou"``.
KINDS = ("none", "hassink", "georgiou")
#: Hassink (1997): C_sat (g C/kg) = 4.09 + 0.37 × (% particles < 20 µm). Secondary figure (?).
HASSINK_INTERCEPT = 4.09
HASSINK_SLOPE = 0.37
#: Georgiou et al. (2022): MOC_max (g C/kg) per % clay+silt, high / low activity clays.
GEORGIOU_SLOPE = {"high": 0.86, "low": 0.48}


def g_per_kg_to_t_per_ha(
    c_g_per_kg: ArrayLike, bulk_density_g_cm3: ArrayLike, depth_cm: ArrayLike
) -> FloatArray:
    """Concentration (g C/kg soil) to stock (t C/ha) of a layer: ``g/kg × BD × depth / 10``."""
    return (
        np.asarray(c_g_per_kg, dtype=float)
        * np.asarray(bulk_density_g_cm3, dtype=float)
        * np.asarray(depth_cm, dtype=float)
        / 10.0
    )


def _check(name: str, x: FloatArray, low: float, high: float | None = None) -> None:
    if np.any(~np.isfinite(x)) or np.any(x < low) or (high is not None and np.any(x > high)):
        allowed = f"{low}–{high}" if high is not None else f"≥ {low}"
        raise UserInputError(f"{name}: values must be within {allowed}")


def capacity_hassink(
    fine_pct: ArrayLike, bulk_density_g_cm3: ArrayLike, depth_cm: ArrayLike
) -> FloatArray:
    """Mineral-associated C capacity after Hassink (1997), as a stock (t C/ha).

    ``C_sat (g C/kg) = 4.09 + 0.37 × (% particles < 20 µm)``. The coefficients were seen only in
    secondary summaries (marked (?) in SCIENCE.md §4): keep them as a default with a wide
    sensitivity range, never as a test oracle. Contested; switchable.

    Parameters
    ----------
    fine_pct
        Mass share of particles < 20 µm (clay + fine silt), %.
    bulk_density_g_cm3
        Bulk density of the layer (g/cm³).
    depth_cm
        Depth of the modelled layer (cm).

    Returns
    -------
    numpy.ndarray
        Capacity (t C/ha).
    """
    fine = np.asarray(fine_pct, dtype=float)
    _check("fine_pct", fine, 0.0, 100.0)
    _check("bulk_density_g_cm3", np.asarray(bulk_density_g_cm3, dtype=float), 0.0)
    _check("depth_cm", np.asarray(depth_cm, dtype=float), 0.0)
    return g_per_kg_to_t_per_ha(
        HASSINK_INTERCEPT + HASSINK_SLOPE * fine, bulk_density_g_cm3, depth_cm
    )


def capacity_georgiou(
    clay_silt_pct: ArrayLike,
    bulk_density_g_cm3: ArrayLike,
    depth_cm: ArrayLike,
    mineral: Literal["high", "low"] = "high",
) -> FloatArray:
    """Maximum mineral-associated C after Georgiou et al. (2022), as a stock (t C/ha).

    ``MOC_max (g C/kg) = 0.86 × (clay + silt %)`` for high-activity (2:1) clays, ``0.48 ×`` for
    low-activity (1:1, e.g. kaolinitic tropical) clays. Georgiou et al. also find accrual ~3×
    faster at 10 % of capacity than at 50 %; the linear deficit used in RothC here is the
    simpler Stewart et al. (2007) form. Contested; switchable.

    Parameters
    ----------
    clay_silt_pct
        Clay + silt content (%).
    bulk_density_g_cm3
        Bulk density (g/cm³).
    depth_cm
        Depth of the modelled layer (cm).
    mineral
        ``"high"`` or ``"low"`` activity clay mineralogy.

    Returns
    -------
    numpy.ndarray
        Capacity (t C/ha).
    """
    if mineral not in GEORGIOU_SLOPE:
        raise UserInputError(f"mineral: {mineral!r} is not one of 'high', 'low'")
    cs = np.asarray(clay_silt_pct, dtype=float)
    _check("clay_silt_pct", cs, 0.0, 100.0)
    _check("bulk_density_g_cm3", np.asarray(bulk_density_g_cm3, dtype=float), 0.0)
    _check("depth_cm", np.asarray(depth_cm, dtype=float), 0.0)
    return g_per_kg_to_t_per_ha(GEORGIOU_SLOPE[mineral] * cs, bulk_density_g_cm3, depth_cm)


@dataclass(frozen=True)
class Saturation:
    """A saturation option handed to :func:`abm.soil.rothc.run` and friends.

    Attributes
    ----------
    kind
        Where the capacity comes from: ``"hassink"``, ``"georgiou"`` or ``"custom"``.
    capacity
        Mineral-associated C capacity ``C_sat`` per farm (t C/ha), scalar or ``(N,)``.
    """

    kind: str
    capacity: FloatArray = field(repr=False)

    def __post_init__(self) -> None:
        cap = np.asarray(self.capacity, dtype=float)
        if np.any(~np.isfinite(cap)) or np.any(cap <= 0):
            raise UserInputError("saturation capacity: values must be > 0 t C/ha")
        object.__setattr__(self, "capacity", cap)

    def deficit(self, c_ma: ArrayLike) -> FloatArray:
        """Scaling of the stabilised fraction: ``max(0, 1 − C_MA / C_sat)``."""
        return np.maximum(0.0, 1.0 - np.asarray(c_ma, dtype=float) / self.capacity)


def make_saturation(
    kind: str,
    *,
    clay_pct: ArrayLike = 0.0,
    silt_pct: ArrayLike = 0.0,
    fine_pct: ArrayLike | None = None,
    bulk_density_g_cm3: ArrayLike = 1.3,
    depth_cm: ArrayLike = 30.0,
    mineral: Literal["high", "low"] = "high",
) -> Saturation | None:
    """Build the saturation option by name; ``"none"`` returns ``None`` (official RothC).

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    clay_pct, silt_pct
        Clay and silt contents (%); Georgiou uses their sum.
    fine_pct
        Particles < 20 µm (%) for Hassink; when omitted, ``clay + silt/2`` is used as a rough
        stand-in (judgement: about half of the 2–50 µm silt is finer than 20 µm in loams;
        sensitivity range clay … clay + silt).
    bulk_density_g_cm3
        Bulk density (g/cm³); default 1.3 is a judgement value for arable topsoils
        (sensitivity 1.1–1.5).
    depth_cm
        Modelled layer depth (cm); default 30 (the model's layer, SCIENCE.md §1).
    mineral
        Clay activity for Georgiou: ``"high"`` or ``"low"``.
    """
    if kind == "none":
        return None
    if kind == "hassink":
        fine = (
            np.asarray(clay_pct, dtype=float) + 0.5 * np.asarray(silt_pct, dtype=float)
            if fine_pct is None
            else fine_pct
        )
        return Saturation("hassink", capacity_hassink(fine, bulk_density_g_cm3, depth_cm))
    if kind == "georgiou":
        cs = np.asarray(clay_pct, dtype=float) + np.asarray(silt_pct, dtype=float)
        return Saturation("georgiou", capacity_georgiou(cs, bulk_density_g_cm3, depth_cm, mineral))
    raise UserInputError(f"saturation: {kind!r} is not one of {', '.join(KINDS)}")
