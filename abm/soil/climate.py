"""Agro-pedo-climatic zones: monthly climate normals, typical cropland soils, warming.

Each :class:`Zone` carries 12 monthly values of mean air temperature (°C), rainfall (mm) and
open-pan evaporation (mm) — the RothC drivers — and typical cropland soil properties of the
modelled layer. **The modelled layer is 0–30 cm in every zone** (the default layer of the
"4 per 1000" reporting, SCIENCE.md §1); the official RothC examples use 23 and 25 cm.

Where the numbers come from
---------------------------
``temperate_oceanic`` (Köppen Cfb)
    Climate: exactly the average-year rows (year 1) of the official RothC example input
    (Rothamsted, Harpenden, UK; RothC_Py / RothC_Code / RothC_R ``RothC_input.dat``),
    including the measured open-pan evaporation.
    Soil: clay between the two official examples (13 % and 23.4 %), silt 58.6 % and bulk
    density 1.27 g/cm³ from the v2 example's soil line; SOC from the examples' equilibria
    (37.2 t C/ha in 0–25 cm at 13 % clay; 42.5 t C/ha in 0–23 cm at 23.4 % clay) scaled to
    30 cm — judgement (sensitivity ±25 %).
``mediterranean`` (Köppen Csa, Montpellier–Fréjorgues, France, 43.6 °N)
    Climate: monthly means shaped on the Météo-France normals of the station; anchors
    Jan 7.1 °C, Jul 23.4 °C, annual rain ≈ 630 mm (climatestotravel.com/climate/france/montpellier,
    travelshelper.com summary of Météo-France data). The other monthly values are a
    judgement interpolation of the published seasonal cycle (autumn rain maximum, dry July):
    sensitivity ±1 °C per month, ±25 % per month of rain.
``continental`` (Köppen Dfb, Kyiv, Ukraine, 50.4 °N)
    Climate: anchors from climatic norms quoted by the Boris Sreznevsky Central Geophysical
    Observatory in its monthly bulletins (Jan −3.2, Feb −2.3, May 15.8, Jun 19.5, Jul 21.3,
    Sep 14.9 °C; May 65 mm, Aug 56 mm); other months are judgement interpolation
    (sensitivity ±1.5 °C, ±25 % rain).
``tropical`` (Köppen Aw, Brasília, Brazil, 15.8 °S, 1,172 m; the Cerrado cropland frontier)
    Climate: INMET 1961–1990 normals as tabulated at travelguide-en.org/brasilia-climate
    (monthly mean low/high and rain); the mean temperature is taken as (low + high)/2,
    a standard approximation (≈ ±0.5 °C).

Open-pan evaporation of the three zones other than ``temperate_oceanic`` is approximated:
Thornthwaite (1948) potential evapotranspiration from the monthly temperatures, with day
length for the station latitude (FAO-56 eqs. 24, 25, 34), divided by 0.75 — the inverse of
RothC's pan coefficient, as the RothC-26.3 manual advises when only PET is available. On the
Rothamsted normals this method gives 621 mm PET against 0.75 × 697 = 523 mm from the measured
pan (+19 %), and Thornthwaite is known to underestimate PET in dry summers: treat these
evaporation values as ±30 % (judgement).

Soil values other than those stated above are judgement for cropland topsoils of each zone
(sensitivity ranges in each zone's ``notes``): SOC stock = %C × bulk density × depth, e.g.
1 % C × 1.35 g/cm³ × 30 cm = 40.5 t C/ha.

References
----------
Thornthwaite, C. W. (1948). An approach toward a rational classification of climate.
Geogr. Rev. 38:55–94. doi:10.2307/210739
Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998). Crop evapotranspiration (FAO
Irrigation and Drainage Paper 56), eqs. 24, 25, 34.
Coleman, K. & Jenkinson, D. S. RothC-26.3 users guide (pan coefficient 0.75).
IPCC (2013). Climate Change 2013: The Physical Science Basis, WG I, Summary for
Policymakers, Table SPM.2 (global mean surface warming 2081–2100 vs 1986–2005).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abm.errors import UserInputError

__all__ = [
    "MODELLED_DEPTH_CM",
    "WARMING_PATHWAYS",
    "ZONES",
    "Zone",
    "climate_series",
    "pan_evaporation_from_temperature",
    "thornthwaite_pet",
    "warming_pathways",
]

FloatArray = NDArray[np.float64]

#: Depth of the modelled layer (cm) used for every zone (SCIENCE.md §1).
MODELLED_DEPTH_CM = 30.0
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def _day_length_h(latitude_deg: float) -> FloatArray:
    """Mean daylight hours of each month at mid-month (FAO-56 eqs. 24, 25, 34)."""
    doy = np.cumsum(_DAYS) - _DAYS / 2.0
    decl = 0.409 * np.sin(2.0 * np.pi * doy / 365.0 - 1.39)
    phi = np.radians(latitude_deg)
    ws = np.arccos(np.clip(-np.tan(phi) * np.tan(decl), -1.0, 1.0))
    return 24.0 * ws / np.pi


def thornthwaite_pet(
    temp12: ArrayLike, latitude_deg: float, heat_index: float | None = None
) -> FloatArray:
    """Monthly potential evapotranspiration after Thornthwaite (1948), mm/month.

    ``PET = 16·(10·T/I)^a·(L/12)·(days/30)`` for ``0 < T < 26.5 °C`` and
    ``−415.85 + 32.24·T − 0.43·T²`` (Willmott et al. 1985) above; 0 at or below 0 °C. ``I`` is
    the annual heat index ``Σ (T/5)^1.514`` and ``a`` its cubic.

    Parameters
    ----------
    temp12
        Monthly mean temperature (°C), ``(..., 12)``.
    latitude_deg
        Latitude (°, south negative), for the day length.
    heat_index
        Heat index ``I``; computed from ``temp12`` when omitted (pass the climatological one
        when evaluating warmed years, as Thornthwaite's ``I`` is a climate constant).

    Returns
    -------
    numpy.ndarray
        PET (mm/month), same shape as ``temp12``.
    """
    t = np.asarray(temp12, dtype=float)
    tp = np.maximum(t, 0.0)
    i_heat = float(np.sum((tp / 5.0) ** 1.514, axis=-1)) if heat_index is None else heat_index
    if i_heat <= 0:
        return np.zeros_like(t)
    a = 6.75e-7 * i_heat**3 - 7.71e-5 * i_heat**2 + 1.792e-2 * i_heat + 0.49239
    hot = -415.85 + 32.24 * t - 0.43 * t**2
    pet = np.where(t <= 0, 0.0, np.where(t < 26.5, 16.0 * (10.0 * tp / i_heat) ** a, hot))
    return pet * (_day_length_h(latitude_deg) / 12.0) * (_DAYS / 30.0)


def pan_evaporation_from_temperature(temp12: ArrayLike, latitude_deg: float) -> FloatArray:
    """Open-pan evaporation approximated as Thornthwaite PET / 0.75 (mm/month), rounded to 0.1."""
    return np.round(thornthwaite_pet(temp12, latitude_deg) / 0.75, 1)


@dataclass(frozen=True)
class Zone:
    """An agro-pedo-climatic zone: monthly normals and typical cropland soil (0–30 cm).

    Attributes
    ----------
    name
        Zone id.
    temp, rain, evap
        12 monthly values, January first: mean air temperature (°C), rainfall (mm),
        open-pan evaporation (mm).
    clay_mean, clay_sd
        Clay content (%) of cropland soils: mean and standard deviation across farms.
    silt_mean
        Silt content (%).
    depth_cm
        Modelled layer depth (cm).
    bulk_density
        Bulk density (g/cm³).
    soc_mean, soc_sd
        Initial cropland SOC stock of the layer (t C/ha): mean and standard deviation.
    source
        Where the numbers come from (see the module docstring).
    hemisphere
        ``"N"`` or ``"S"``. Months are calendar months in both; the spin-up starts the deficit
        at 0 in January either way and cycles it to its periodic state, so the start matters not.
    latitude_deg
        Station latitude (°, south negative).
    notes
        Judgement values and their sensitivity ranges.
    """

    name: str
    temp: tuple[float, ...]
    rain: tuple[float, ...]
    evap: tuple[float, ...]
    clay_mean: float
    clay_sd: float
    silt_mean: float
    depth_cm: float
    bulk_density: float
    soc_mean: float
    soc_sd: float
    source: str
    hemisphere: str = "N"
    latitude_deg: float = 0.0
    notes: str = ""

    def __post_init__(self) -> None:
        for key in ("temp", "rain", "evap"):
            if len(getattr(self, key)) != 12:
                raise ValueError(f"Zone {self.name}: {key} needs 12 monthly values")

    @property
    def temp12(self) -> FloatArray:
        """Monthly temperature (°C) as an array."""
        return np.array(self.temp, dtype=float)

    @property
    def rain12(self) -> FloatArray:
        """Monthly rainfall (mm) as an array."""
        return np.array(self.rain, dtype=float)

    @property
    def evap12(self) -> FloatArray:
        """Monthly open-pan evaporation (mm) as an array."""
        return np.array(self.evap, dtype=float)


def _tuple(x: ArrayLike) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(x, dtype=float))


_MONTPELLIER_T = (7.1, 8.0, 10.8, 13.4, 17.1, 21.1, 23.4, 23.2, 19.7, 15.8, 10.8, 7.9)
_MONTPELLIER_R = (56.0, 50.0, 37.0, 55.0, 43.0, 28.0, 17.0, 33.0, 80.0, 97.0, 67.0, 67.0)
_KYIV_T = (-3.2, -2.3, 2.3, 9.4, 15.8, 19.5, 21.3, 20.4, 14.9, 8.6, 2.6, -1.6)
_KYIV_R = (42.0, 40.0, 38.0, 45.0, 65.0, 75.0, 80.0, 56.0, 58.0, 45.0, 45.0, 45.0)
_BRASILIA_LOW = (17.4, 17.4, 17.5, 16.8, 15.0, 13.3, 12.9, 14.6, 16.0, 17.4, 17.5, 17.5)
_BRASILIA_HIGH = (26.9, 26.7, 27.1, 26.6, 25.7, 25.2, 25.1, 27.3, 28.3, 27.5, 26.6, 26.2)
_BRASILIA_R = (247.4, 217.5, 180.6, 123.8, 38.6, 8.7, 11.1, 13.8, 55.2, 166.6, 231.1, 246.0)
_BRASILIA_T = _tuple((np.array(_BRASILIA_LOW) + np.array(_BRASILIA_HIGH)) / 2.0)

ZONES: dict[str, Zone] = {
    "temperate_oceanic": Zone(
        name="temperate_oceanic",
        temp=(3.73, 3.08, 5.49, 7.4, 10.94, 14.4, 16.28, 16.24, 13.78, 9.51, 6.22, 4.09),
        rain=(52.2, 42.9, 35.2, 52.0, 64.9, 46.3, 63.5, 60.6, 58.8, 63.4, 72.5, 60.9),
        evap=(6.6, 17.3, 40.7, 70.5, 103.5, 117.3, 130.1, 106.9, 61.9, 29.5, 8.8, 3.9),
        clay_mean=18.0,
        clay_sd=6.0,
        silt_mean=58.6,
        depth_cm=MODELLED_DEPTH_CM,
        bulk_density=1.27,
        soc_mean=48.0,
        soc_sd=10.0,
        source=(
            "Climate: official RothC example average year (Rothamsted, RothC_input.dat rows of "
            "year 1). Silt, bulk density: the v2 example's soil line. Clay, SOC: judgement from "
            "the two official examples (see abm.soil.climate)."
        ),
        hemisphere="N",
        latitude_deg=51.8,
        notes="judgement: clay 18 ± 6 % (range 10–35); SOC 48 ± 10 t C/ha (range 35–65).",
    ),
    "mediterranean": Zone(
        name="mediterranean",
        temp=_MONTPELLIER_T,
        rain=_MONTPELLIER_R,
        evap=_tuple(pan_evaporation_from_temperature(_MONTPELLIER_T, 43.6)),
        clay_mean=25.0,
        clay_sd=8.0,
        silt_mean=35.0,
        depth_cm=MODELLED_DEPTH_CM,
        bulk_density=1.35,
        soc_mean=40.0,
        soc_sd=12.0,
        source=(
            "Climate: Montpellier–Fréjorgues (Köppen Csa), Météo-France normals; anchors Jan "
            "7.1 °C, Jul 23.4 °C, ≈630 mm/yr, other months judgement interpolation. Pan "
            "evaporation: Thornthwaite PET / 0.75 (approximation). Soil: judgement."
        ),
        hemisphere="N",
        latitude_deg=43.6,
        notes=(
            "judgement: monthly T ±1 °C, rain ±25 %, evap ±30 %; clay 25 ± 8 % (range 10–45); "
            "bulk density 1.35 (1.2–1.5); SOC ≈ 1 % C: 40 ± 12 t C/ha (range 25–60)."
        ),
    ),
    "continental": Zone(
        name="continental",
        temp=_KYIV_T,
        rain=_KYIV_R,
        evap=_tuple(pan_evaporation_from_temperature(_KYIV_T, 50.4)),
        clay_mean=30.0,
        clay_sd=8.0,
        silt_mean=50.0,
        depth_cm=MODELLED_DEPTH_CM,
        bulk_density=1.2,
        soc_mean=70.0,
        soc_sd=20.0,
        source=(
            "Climate: Kyiv (Köppen Dfb), norms quoted by the Boris Sreznevsky Central "
            "Geophysical Observatory (Jan, Feb, May, Jun, Jul, Sep temperature; May, Aug rain), "
            "other months judgement interpolation. Pan evaporation: Thornthwaite PET / 0.75 "
            "(approximation). Soil (grey forest soils to chernozems): judgement."
        ),
        hemisphere="N",
        latitude_deg=50.4,
        notes=(
            "judgement: monthly T ±1.5 °C, rain ±25 %, evap ±30 %; clay 30 ± 8 % (15–45); "
            "bulk density 1.2 (1.05–1.4); SOC ≈ 2 % C: 70 ± 20 t C/ha (range 40–120, "
            "chernozems at the top)."
        ),
    ),
    "tropical": Zone(
        name="tropical",
        temp=_BRASILIA_T,
        rain=_BRASILIA_R,
        evap=_tuple(pan_evaporation_from_temperature(_BRASILIA_T, -15.8)),
        clay_mean=45.0,
        clay_sd=15.0,
        silt_mean=15.0,
        depth_cm=MODELLED_DEPTH_CM,
        bulk_density=1.1,
        soc_mean=45.0,
        soc_sd=12.0,
        source=(
            "Climate: Brasília (Köppen Aw), INMET 1961–1990 normals via "
            "travelguide-en.org/brasilia-climate, mean T = (low + high)/2. Pan evaporation: "
            "Thornthwaite PET / 0.75 (approximation). Soil (Cerrado Oxisols, low-activity "
            "clays): judgement."
        ),
        hemisphere="S",
        latitude_deg=-15.8,
        notes=(
            "judgement: evap ±30 %; clay 45 ± 15 % (15–70); bulk density 1.1 (0.95–1.3); "
            "SOC ≈ 1.4 % C: 45 ± 12 t C/ha (range 25–70). Use mineral='low' for Georgiou "
            "saturation."
        ),
    ),
}

#: Warming rates (°C/yr), approximate: global-mean warming of IPCC AR5 WG I Table SPM.2
#: (2081–2100 vs 1986–2005: RCP2.6 1.0, RCP4.5 1.8, RCP8.5 3.7 °C) spread over ~85 yr and
#: rounded up slightly for land. Land and regional rates are often higher (×1.2–1.6):
#: treat as approximate, sensitivity ±50 %. Read-only mapping.
warming_pathways: Mapping[str, float] = MappingProxyType(
    {"none": 0.0, "rcp26": 0.012, "rcp45": 0.025, "rcp85": 0.045}
)
#: Alias of :data:`warming_pathways`.
WARMING_PATHWAYS = warming_pathways


def climate_series(
    zone: Zone | str,
    years: int,
    *,
    warming_c_per_yr: float = 0.0,
    temp_noise_sd: float = 0.0,
    rain_cv: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Monthly climate for ``years`` years: normals + linear warming + inter-annual noise.

    Year ``y`` (0-based) gets ``T = T_normal + warming·y + ε_y`` with one anomaly
    ``ε_y ~ N(0, temp_noise_sd)`` per year, and ``rain = rain_normal·g_y`` with one gamma factor
    per year (mean 1, coefficient of variation ``rain_cv``). Open-pan evaporation changes by
    the change of Thornthwaite PET between the year's temperatures and the normals (heat index
    kept at the climatological value), divided by the pan coefficient 0.75 — a judgement so that
    warming also dries the soil.
    With both noise terms 0 the result is deterministic and ``rng`` is not needed.

    Parameters
    ----------
    zone
        A :class:`Zone` or the name of one in :data:`ZONES`.
    years
        Number of years (≥ 0).
    warming_c_per_yr
        Linear warming (°C/yr), e.g. from :data:`warming_pathways`.
    temp_noise_sd
        Standard deviation of the annual temperature anomaly (°C).
    rain_cv
        Coefficient of variation of the annual rainfall factor.
    rng
        Random generator; required when any noise is > 0.

    Returns
    -------
    temp, rain, evap
        ``(years, 12)`` arrays (°C, mm, mm).
    """
    z = ZONES.get(zone) if isinstance(zone, str) else zone
    if z is None:
        raise UserInputError(f"zone: {zone!r} is not one of {', '.join(ZONES)}")
    if years < 0:
        raise UserInputError("years: must be ≥ 0")
    if temp_noise_sd < 0 or rain_cv < 0:
        raise UserInputError("temp_noise_sd, rain_cv: must be ≥ 0")
    if (temp_noise_sd > 0 or rain_cv > 0) and rng is None:
        raise UserInputError(
            "rng: a numpy.random.Generator is required when temp_noise_sd or rain_cv > 0"
        )
    t_norm, r_norm, e_norm = z.temp12, z.rain12, z.evap12
    shift = warming_c_per_yr * np.arange(years, dtype=float)
    if temp_noise_sd > 0 and rng is not None:
        shift = shift + rng.normal(0.0, temp_noise_sd, size=years)
    temp = t_norm[np.newaxis, :] + shift[:, np.newaxis]
    factor = np.ones(years)
    if rain_cv > 0 and rng is not None:
        k = 1.0 / rain_cv**2
        factor = rng.gamma(k, 1.0 / k, size=years)
    rain = r_norm[np.newaxis, :] * factor[:, np.newaxis]
    heat = float(np.sum((np.maximum(t_norm, 0.0) / 5.0) ** 1.514))
    pet_norm = thornthwaite_pet(t_norm, z.latitude_deg, heat)
    pet_year = thornthwaite_pet(temp, z.latitude_deg, heat) if heat > 0 else np.zeros_like(temp)
    evap = np.maximum(0.0, e_norm[np.newaxis, :] + (pet_year - pet_norm) / 0.75)
    return temp, rain, evap


def weather_quadrature(
    zone: Zone | str,
    *,
    offset_c: float = 0.0,
    temp_noise_sd: float = 0.0,
    rain_cv: float = 0.0,
    nodes: int = 3,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Representative weather years of :func:`climate_series`'s noise, with their probabilities.

    The annual temperature anomaly ``ε ~ N(0, temp_noise_sd)`` is represented by the
    ``nodes``-point Gauss–Hermite rule and the rain factor (gamma, mean 1, cv ``rain_cv``) by
    ``nodes`` equal-probability quantiles (the medians of equal-probability bins); their
    product gives ``nodes²`` years. Evaporation follows temperature as in
    :func:`climate_series`. Deterministic: no generator is needed, so the equilibrium a
    landscape starts from does not depend on the seed.

    Returns
    -------
    temp, rain, evap
        ``(K, 12)`` arrays (°C, mm, mm), ``K = nodes²`` (1 without noise).
    weights
        ``(K,)`` probabilities summing to 1.
    """
    # scipy.stats.gamma.ppf(q, k, scale=1/k) is gammaincinv(k, q)·(1/k), the same doubles;
    # scipy.special imports in a fraction of scipy.stats' second
    from scipy.special import gammaincinv

    z = ZONES.get(zone) if isinstance(zone, str) else zone
    if z is None:
        raise UserInputError(f"zone: {zone!r} is not one of {', '.join(ZONES)}")
    if temp_noise_sd > 0:
        x, w = np.polynomial.hermite_e.hermegauss(nodes)
        t_shift, t_w = temp_noise_sd * x, w / w.sum()
    else:
        t_shift, t_w = np.zeros(1), np.ones(1)
    if rain_cv > 0:
        k = 1.0 / rain_cv**2
        q = (np.arange(nodes) + 0.5) / nodes
        r_fac, r_w = gammaincinv(k, q) * (1.0 / k), np.full(nodes, 1.0 / nodes)
        r_fac = r_fac / r_fac.mean()  # keep the mean rain exactly
    else:
        r_fac, r_w = np.ones(1), np.ones(1)
    shift = np.repeat(t_shift, r_fac.size)
    factor = np.tile(r_fac, t_shift.size)
    weights = np.repeat(t_w, r_fac.size) * np.tile(r_w, t_shift.size)
    temp = z.temp12[np.newaxis, :] + shift[:, np.newaxis]
    rain = z.rain12[np.newaxis, :] * factor[:, np.newaxis]
    heat = float(np.sum((np.maximum(z.temp12, 0.0) / 5.0) ** 1.514))
    pet_norm = thornthwaite_pet(z.temp12, z.latitude_deg, heat)
    pet_year = thornthwaite_pet(temp, z.latitude_deg, heat) if heat > 0 else np.zeros_like(temp)
    evap = np.maximum(0.0, z.evap12[np.newaxis, :] + (pet_year - pet_norm) / 0.75)
    # as the model's first year: the offset shifts temperature, evaporation follows the anomaly
    return temp + offset_c, rain, evap, weights
