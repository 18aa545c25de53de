"""RothC-26.3, monthly, vectorised over farms.

One row per farm: every state and driver is an array with the farm on the first axis, so a
month is a handful of numpy operations over all farms (no Python loop over farms). The month
follows the official order of the Rothamsted releases (RothC_Py, RothC_Code v2, RothC_R,
see SCIENCE.md §2):

1. temperature modifier ``a`` (:func:`rate_temperature`);
2. topsoil moisture deficit and moisture modifier ``b`` (:func:`moisture_step`);
3. plant-cover modifier ``c`` (:func:`rate_cover`);
4. first-order decay of DPM, RPM, BIO, HUM over ``dt = 1/12`` yr at ``k·a·b·c``;
5. what decayed is split into CO2 and new BIO (46 %) / HUM (54 %) with the clay-dependent
   ratio ``x`` (:func:`co2_ratio`);
6. plant and farmyard-manure inputs are added at the end of the month.

Pools are t C/ha in the modelled layer; IOM is inert. Extensions (all off by default, so the
default is the official model): ``rate_mod`` (an extra multiplier on every decay rate, e.g.
for tillage), a separate stable biochar pool, and a saturation term (:mod:`abm.soil.saturation`).

The spin-up is exact: the 12 monthly maps of the average year are affine in the active pools,
``P' = A·P + u``; their composition is solved for the fixed point ``(I − A)·P = u``
(:func:`equilibrium`). :func:`official_spinup_months` counts the months the official
1e-6 t C/ha criterion would take, for the output files. :func:`inputs_for_stock` inverts the
equilibrium for the plant input that gives a measured stock.

Numerics: results equal the official code to ~1e-13 t C/ha month by month (tested against the
full-precision RothC_Py and RothC_R outputs). The month computes one exponential per farm: the
rate constants are 500, 15, 33 and 1 × K_HUM, so the four decay factors are integer powers
of ``exp(−rate·K_HUM·dt)``. Radiocarbon (``deltaC``) is not modelled.

References
----------
Coleman, K. & Jenkinson, D. S. (1996, revised 2014). RothC-26.3 — A model for the turnover of
carbon in soil. Model description and users guide. Rothamsted Research.
Rothamsted Research, RothC_Py / RothC_Code / RothC_R (Apache-2.0), github.com/Rothamsted-Models.
Falloon, P., Smith, P., Coleman, K. & Marshall, S. (1998). Estimating the size of the inert
organic matter pool from total soil organic carbon content for use in the Rothamsted carbon
model. Soil Biol. Biochem. 30:1207–1211.
Wang, J., Xiong, Z. & Kuzyakov, Y. (2016). Biochar stability in soil: meta-analysis of
decomposition and priming effects. GCB Bioenergy 8:512–523. doi:10.1111/gcbb.12266
Stewart, C. E., Paustian, K., Conant, R. T., Plante, A. F. & Six, J. (2007). Soil carbon
saturation: concept, evidence and evaluation. Biogeochemistry 86:19–31.
doi:10.1007/s10533-007-9140-0
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abm.errors import UserInputError

if TYPE_CHECKING:
    from abm.soil.saturation import Saturation

__all__ = [
    "BIOCHAR_LABILE_FRACTION",
    "BIOCHAR_MRT_YR",
    "DT",
    "FYM_SPLIT",
    "K_BIO",
    "K_BIOCHAR",
    "K_DPM",
    "K_HUM",
    "K_RPM",
    "POOLS",
    "RothCResult",
    "Weather",
    "co2_ratio",
    "equilibrium",
    "equilibrium_parts",
    "falloon_iom",
    "inputs_for_stock",
    "moisture_step",
    "official_spinup_months",
    "rate_cover",
    "rate_temperature",
    "run",
]

FloatArray = NDArray[np.float64]

#: Decay rate constants (yr⁻¹), RothC-26.3 (Coleman & Jenkinson).
K_DPM = 10.0
K_RPM = 0.3
K_BIO = 0.66
K_HUM = 0.02
#: Pool order of every ``(N, 4)`` pool array.
POOLS = ("DPM", "RPM", "BIO", "HUM")
#: Monthly time step (yr), as ``tstep = 1/timeFact`` in the official code.
DT = 1.0 / 12.0
#: Split of farmyard manure C into DPM, RPM, HUM (RothC-26.3).
FYM_SPLIT = (0.49, 0.49, 0.02)
#: Shares of the stabilised (non-CO2) part of decayed C that go to BIO and HUM.
BIO_SHARE = 0.46
HUM_SHARE = 0.54
#: Mean residence time (yr) of the stable biochar pool, Wang, Xiong & Kuzyakov (2016).
BIOCHAR_MRT_YR = 556.0
#: Decay rate of the stable biochar pool (yr⁻¹) = 1 / mean residence time.
K_BIOCHAR = 1.0 / BIOCHAR_MRT_YR
#: Labile share of added biochar C (added to DPM), Wang, Xiong & Kuzyakov (2016).
BIOCHAR_LABILE_FRACTION = 0.03

_K = np.array([K_DPM, K_RPM, K_BIO, K_HUM])
# run() builds the decay factors from powers of exp(−rate·K_HUM·dt): the ratios must be 500, 15, 33.
_POWERS = (500, 15, 33, 1)
if tuple(round(k / K_HUM, 9) for k in _K) != _POWERS:  # pragma: no cover - constants are fixed
    raise ImportError("RothC rate constants must be 500, 15, 33 and 1 × K_HUM")


@dataclass(frozen=True)
class RothCResult:
    """Outcome of :func:`run`.

    Attributes
    ----------
    pools
        ``(N, 4)`` active pools DPM, RPM, BIO, HUM at the end of the last month (t C/ha).
    smd
        ``(N,)`` topsoil moisture deficit at the end of the last month (mm, ≤ 0).
    biochar
        ``(N,)`` stable biochar pool (t C/ha); zeros when biochar is not used.
    co2
        ``(N,)`` CO2-C respired over the call (t C/ha), biochar decay included.
    monthly
        With ``record=True``: ``(M, N)`` arrays ``DPM, RPM, BIO, HUM, biochar``, ``SOC``
        (active + IOM + biochar), ``CO2`` (cumulative within the call), ``a`` (RM_TMP),
        ``smd`` (mm), ``b`` (RM_Moist), ``c`` (RM_PC), ``rate`` (``a·b·c·rate_mod``).
        ``None`` otherwise.
    """

    pools: FloatArray
    smd: FloatArray
    biochar: FloatArray
    co2: FloatArray
    monthly: dict[str, FloatArray] | None = None


# --------------------------------------------------------------------------------------------
# Rate modifiers
# --------------------------------------------------------------------------------------------


def rate_temperature(temp_c: ArrayLike) -> FloatArray:
    """Temperature rate modifier ``a`` of RothC-26.3.

    ``a = 47.91 / (1 + exp(106.06 / (T + 18.27)))`` for ``T ≥ −5 °C``, else 0.

    Parameters
    ----------
    temp_c
        Mean monthly air temperature (°C), any shape.

    Returns
    -------
    numpy.ndarray
        ``a`` (dimensionless, 1 at about 9.25 °C), same shape as ``temp_c``.

    References
    ----------
    Coleman & Jenkinson, RothC-26.3 manual, eq. for RM_TMP; official ``RMF_Tmp``.
    """
    t = np.asarray(temp_c, dtype=float)
    cold = t < -5.0
    safe = np.where(cold, 0.0, t)
    a = 47.91 / (np.exp(106.06 / (safe + 18.27)) + 1.0)
    return np.where(cold, 0.0, a)


def _smd_limits(
    clay: FloatArray, depth_cm: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(SMDmax, SMD1bar, SMDbare)`` (mm, ≤ 0) for clay (%) and depth (cm), official order."""
    smd15 = -(20.0 + 1.3 * clay - 0.01 * (clay * clay))
    smd_max = smd15 * depth_cm / 23.0
    return smd_max, 0.444 * smd_max, 0.556 * smd_max


def moisture_step(
    rain_mm: ArrayLike,
    evap_mm: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    covered: ArrayLike,
    smd: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """One month of the topsoil moisture deficit and the moisture rate modifier ``b``.

    ``SMDmax = −(20 + 1.3·clay − 0.01·clay²)·depth/23``, ``SMD1bar = 0.444·SMDmax``,
    ``SMDbare = 0.556·SMDmax``, ``DF = rain − 0.75·evap``. Covered soil:
    ``SMD = max(SMDmax, min(0, SMD + DF))``; bare soil cannot dry beyond ``SMDbare`` unless it
    already is: ``SMD = max(min(SMDbare, SMD), min(0, SMD + DF))``. ``b = 1`` above ``SMD1bar``,
    else ``0.2 + 0.8·(SMDmax − SMD)/(SMDmax − SMD1bar)``.

    Parameters
    ----------
    rain_mm
        Monthly rainfall (mm).
    evap_mm
        Monthly open-pan evaporation (mm); 0.75 × pan = potential evapotranspiration.
    clay
        Clay content (%).
    depth_cm
        Depth of the modelled layer (cm).
    covered
        Soil covered by plants (bool or 0/1).
    smd
        Deficit at the start of the month (mm, ≤ 0).

    Returns
    -------
    b, smd_new
        Moisture modifier (0.2–1) and the deficit at the end of the month (mm), broadcast
        over the inputs.

    References
    ----------
    Coleman & Jenkinson, RothC-26.3 manual; official ``RMF_Moist`` with ``opt_RMmoist = 1``,
    ``opt_SMDbare = 1``.
    """
    clay_a = np.asarray(clay, dtype=float)
    smd_max, smd_1bar, smd_bare = _smd_limits(clay_a, np.asarray(depth_cm, dtype=float))
    cov = np.asarray(covered) != 0
    s = np.asarray(smd, dtype=float)
    df = np.asarray(rain_mm, dtype=float) - 0.75 * np.asarray(evap_mm, dtype=float)
    wet = np.minimum(0.0, s + df)
    lower = np.where(cov, smd_max, np.minimum(smd_bare, s))
    smd_new = np.maximum(lower, wet)
    b = np.where(
        smd_new > smd_1bar, 1.0, 0.2 + (1.0 - 0.2) * (smd_max - smd_new) / (smd_max - smd_1bar)
    )
    return b, smd_new


def rate_cover(covered: ArrayLike) -> FloatArray:
    """Plant-cover rate modifier ``c``: 0.6 when covered, 1.0 when bare (RothC-26.3)."""
    return np.where(np.asarray(covered) != 0, 0.6, 1.0)


def co2_ratio(clay: ArrayLike) -> FloatArray:
    """Ratio ``x = CO2 / (BIO + HUM)`` of decomposed C: ``1.67·(1.85 + 1.60·exp(−0.0786·clay))``.

    Parameters
    ----------
    clay
        Clay content (%).

    Returns
    -------
    numpy.ndarray
        ``x`` (dimensionless); the stabilised fraction of decayed C is ``1/(x + 1)``.
    """
    return 1.67 * (1.85 + 1.60 * np.exp(-0.0786 * np.asarray(clay, dtype=float)))


def falloon_iom(soc: ArrayLike) -> FloatArray:
    """Inert organic matter from total SOC, Falloon et al. (1998): ``IOM = 0.049·SOC^1.139``.

    Parameters
    ----------
    soc
        Total soil organic carbon of the layer (t C/ha).

    Returns
    -------
    numpy.ndarray
        IOM (t C/ha).
    """
    return 0.049 * np.asarray(soc, dtype=float) ** 1.139


# --------------------------------------------------------------------------------------------
# Input normalisation
# --------------------------------------------------------------------------------------------


def _per_farm(x: ArrayLike, n: int, name: str) -> FloatArray:
    """Broadcast a scalar or ``(N,)`` value to ``(N,)`` (read-only view)."""
    a = np.asarray(x, dtype=float)
    if a.ndim > 1 or (a.ndim == 1 and a.shape[0] not in (1, n)):
        raise ValueError(f"{name}: expected a scalar or shape ({n},), got {a.shape}")
    return np.broadcast_to(a, (n,))


def _climate(x: ArrayLike, n: int, name: str) -> FloatArray:
    """Climate series: ``(M,)`` (same for every farm) or ``(N, M)``; returned as given (2-D)."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        return a[np.newaxis, :]
    if a.ndim == 2 and a.shape[0] in (1, n):
        return a
    raise ValueError(f"{name}: expected shape (M,) or ({n}, M), got {a.shape}")


def _monthly(x: ArrayLike, n: int, m: int, name: str, *, per_farm_1d: bool) -> NDArray[Any]:
    """A monthly driver broadcast (as a view) to ``(N, M)`` or ``(1, M)``.

    With ``per_farm_1d`` a 1-D array is one value per farm (``(N,)``), otherwise one value per
    month (``(M,)``, numpy broadcasting).
    """
    a = np.asarray(x)
    if a.ndim == 1 and per_farm_1d:
        a = a[:, np.newaxis]
    try:
        shape = np.broadcast_shapes(a.shape, (n, m))
    except ValueError:
        raise ValueError(f"{name}: shape {a.shape} does not broadcast to ({n}, {m})") from None
    if shape != (n, m):
        raise ValueError(f"{name}: shape {a.shape} does not broadcast to ({n}, {m})")
    if a.ndim == 0 or (a.ndim == 2 and a.shape[0] == 1):
        return np.broadcast_to(a, (1, m))
    if a.ndim <= 1 and not per_farm_1d:
        return np.broadcast_to(a, (1, m))
    return np.broadcast_to(a, (n, m))


def _check_nonneg(x: NDArray[np.generic], name: str) -> None:
    """Finite and ≥ 0, by two reductions (no temporaries the size of ``x``)."""
    if x.size == 0:
        return
    low, high = np.min(x), np.max(x)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise UserInputError(f"{name}: values must be finite numbers")
    if low < 0:
        raise UserInputError(f"{name}: values must be ≥ 0")


def _n_farms(*shapes: tuple[int, ...]) -> int:
    """Number of farms implied by per-farm shapes (first axis); 1 when all are shared."""
    n = 1
    for s in shapes:
        if len(s) >= 1 and s[0] != 1:
            if n not in (1, s[0]):
                raise ValueError(f"inconsistent numbers of farms: {n} and {s[0]}")
            n = s[0]
    return n


@dataclass(frozen=True)
class _Soil:
    """Per-farm constants derived from clay and depth."""

    smd_max: FloatArray
    smd_1bar: FloatArray
    smd_bare: FloatArray
    b_slope: FloatArray  # 0.8 / (SMDmax − SMD1bar)
    frac_bio: FloatArray  # 0.46 / (x + 1)
    frac_hum: FloatArray  # 0.54 / (x + 1)
    frac_stab: FloatArray  # 1 / (x + 1)


def _soil(clay: FloatArray, depth_cm: FloatArray) -> _Soil:
    if np.any(~np.isfinite(clay)) or np.any((clay < 0) | (clay > 100)):
        raise UserInputError("clay: values must be within 0–100 %")
    if np.any(~np.isfinite(depth_cm)) or np.any(depth_cm <= 0):
        raise UserInputError("depth_cm: values must be > 0 cm")
    smd_max, smd_1bar, smd_bare = _smd_limits(clay, depth_cm)
    x = co2_ratio(clay)
    return _Soil(
        smd_max=smd_max,
        smd_1bar=smd_1bar,
        smd_bare=smd_bare,
        b_slope=(1.0 - 0.2) / (smd_max - smd_1bar),
        frac_bio=BIO_SHARE / (x + 1.0),
        frac_hum=HUM_SHARE / (x + 1.0),
        frac_stab=1.0 / (x + 1.0),
    )


#: Largest |x| for which :func:`_exp_small` uses the Padé form (truncation < 2e-17 relative).
_PADE_MAX = 0.02


def _exp_small(x: FloatArray, out: FloatArray, w1: FloatArray, w2: FloatArray) -> None:
    """``out = exp(x)`` for ``x ≤ 0``; Padé [3/3] when every ``|x| ≤ 0.02``, else ``numpy.exp``.

    ``exp(x) ≈ (120 + 60x + 12x² + x³) / (120 − 60x + 12x² − x³)``, truncation error
    ``x⁷/100800`` (< 1.3e-17 relative at |x| = 0.02, below double rounding). RothC's monthly
    HUM exponent ``rate·K_HUM/12`` stays below 0.02 for any rate ≤ 12 (the temperature
    modifier is 4.8 at 30 °C), and this costs 8 array operations instead of one ``exp`` — about
    2.5× cheaper. ``w1``, ``w2`` are scratch buffers; ``out`` may not alias ``x``.
    """
    if x.size == 0 or float(np.min(x)) < -_PADE_MAX:
        np.exp(x, out=out)
        return
    np.multiply(x, x, out=w1)  # x²
    np.add(w1, 60.0, out=w2)
    np.multiply(w2, x, out=w2)  # odd part x·(60 + x²)
    np.multiply(w1, 12.0, out=w1)
    np.add(w1, 120.0, out=w1)  # even part 120 + 12x²
    np.subtract(w1, w2, out=out)  # denominator
    np.add(w1, w2, out=w1)  # numerator
    np.divide(w1, out, out=out)


def _col(x: NDArray[Any], m: int) -> NDArray[Any]:
    """Column ``m`` of a ``(N, M)`` or ``(1, M)`` driver: ``(N,)`` or ``(1,)``."""
    return x[:, m]


# --------------------------------------------------------------------------------------------
# Forward run
# --------------------------------------------------------------------------------------------


def run(
    pools: ArrayLike,
    iom: ArrayLike,
    smd: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp: ArrayLike,
    rain: ArrayLike,
    evap: ArrayLike,
    plant_c: ArrayLike,
    fym: ArrayLike,
    covered: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    biochar: ArrayLike | None = None,
    biochar_c: ArrayLike | None = None,
    saturation: Saturation | None = None,
    sat_ref: ArrayLike | None = None,
    record: bool = False,
) -> RothCResult:
    """Run RothC-26.3 for ``M`` consecutive months on ``N`` farms at once.

    Parameters
    ----------
    pools
        ``(N, 4)`` DPM, RPM, BIO, HUM at the start (t C/ha). Not modified.
    iom
        Inert organic matter (t C/ha), scalar or ``(N,)``.
    smd
        Topsoil moisture deficit at the start (mm, ≤ 0), scalar or ``(N,)``.
    clay
        Clay content (%), scalar or ``(N,)``.
    depth_cm
        Depth of the modelled layer (cm), scalar or ``(N,)``.
    temp, rain, evap
        Monthly mean air temperature (°C), rainfall (mm) and open-pan evaporation (mm):
        ``(M,)`` shared by all farms or ``(N, M)``.
    plant_c, fym
        Plant C input and farmyard-manure C input (t C/ha/month), broadcastable to ``(N, M)``
        (a 1-D array is per month). Added at the end of each month, as official.
    covered
        Soil covered by plants (bool or 0/1), broadcastable to ``(N, M)``.
    dpm_rpm
        DPM/RPM ratio of the plant input: scalar, ``(N,)`` or ``(N, M)``. 1.44 crops and
        improved grassland, 0.67 unimproved grassland and savanna, 0.25 woodland.
    rate_mod
        Optional extra multiplier on every decay rate (scalar, ``(N,)`` or ``(N, M)``;
        1 = official), e.g. for tillage.
    biochar
        Optional ``(N,)`` stable biochar pool at the start (t C/ha).
    biochar_c
        Optional biochar C added per month (t C/ha/month), broadcastable to ``(N, M)``: 97 %
        enters the stable pool (mean residence 556 yr, Wang et al. 2016), 3 % enters DPM.
        The stable pool decays at ``K_BIOCHAR·a·b·c·rate_mod`` — the same climate and cover
        modifiers as the soil pools (a documented choice: biochar mineralisation is microbial
        and responds to temperature and moisture like other SOC); decayed biochar is CO2.
    saturation
        Optional :class:`abm.soil.saturation.Saturation`: the stabilised fraction ``1/(x+1)``
        is scaled by ``max(0, 1 − C_MA/C_sat)``, ``C_MA = BIO + HUM + IOM`` at the start of
        the month; the unstabilised remainder is CO2. See :mod:`abm.soil.saturation`.
    sat_ref
        Optional ``(N,)`` row index: with ``saturation``, row ``i`` takes its deficit and its
        remaining capacity from row ``sat_ref[i]`` (default: its own). Tracer rows that follow
        a part of a farm's carbon point to the farm's row, so the part is stabilised with the
        farm's efficiency and the tracer stays an exact share of the farm's stock.
    record
        Keep ``(M, N)`` monthly arrays in ``RothCResult.monthly``.

    Returns
    -------
    RothCResult
        Final pools, SMD, biochar, CO2 respired during the call, and optionally the months.

    Notes
    -----
    Mass balance holds to rounding: ``Σ inputs − co2 = Δ(DPM + RPM + BIO + HUM + biochar)``.
    Results equal the official month (RothC_Py / RothC_R) to ~1e-13 t C/ha: the decay
    factors of DPM, RPM and BIO are exact integer powers of the HUM factor (see the loop), and
    a deficit below ``SMDmax`` — which RothC cannot produce — is raised to ``SMDmax``.

    Performance: every month is a fixed number of array operations over the ``N`` farms.
    ``(N, M)`` drivers are read one month (column) at a time; laying them out month-major in
    memory (an ``(M, N)`` C-order array passed as its ``.T``, or Fortran order) makes that read
    contiguous and is about twice as fast as a farm-major (C-order ``(N, M)``) array for large
    ``N``.
    """
    p0 = np.asarray(pools, dtype=float)
    if p0.ndim != 2 or p0.shape[1] != 4:
        raise ValueError(f"pools: expected shape (N, 4), got {p0.shape}")
    n = p0.shape[0]
    _check_nonneg(p0, "pools")
    iom_a = _per_farm(iom, n, "iom")
    clay_a = _per_farm(clay, n, "clay")
    depth_a = _per_farm(depth_cm, n, "depth_cm")
    smd_a = np.array(_per_farm(smd, n, "smd"), dtype=float)  # own copy, updated in place
    if np.any(~np.isfinite(smd_a)) or np.any(smd_a > 0):
        raise UserInputError("smd: values must be ≤ 0 mm")
    soil = _soil(clay_a, depth_a)

    temp_a = _climate(temp, n, "temp")
    rain_a = _climate(rain, n, "rain")
    evap_a = _climate(evap, n, "evap")
    m = temp_a.shape[1]
    if rain_a.shape[1] != m or evap_a.shape[1] != m:
        raise ValueError("temp, rain and evap must have the same number of months")
    for name, arr in (("temp", temp_a), ("rain", rain_a), ("evap", evap_a)):
        if arr.size and not (np.isfinite(np.min(arr)) and np.isfinite(np.max(arr))):
            raise UserInputError(f"{name}: values must be finite numbers")
    _check_nonneg(np.asarray(iom_a), "iom")
    plant_a = _monthly(plant_c, n, m, "plant_c", per_farm_1d=False).astype(float, copy=False)
    fym_a = _monthly(fym, n, m, "fym", per_farm_1d=False).astype(float, copy=False)
    _check_nonneg(plant_a, "plant_c")
    _check_nonneg(fym_a, "fym")
    cov_raw = np.asarray(covered)
    cov_a = _monthly(
        cov_raw if cov_raw.dtype == bool else cov_raw != 0, n, m, "covered", per_farm_1d=False
    )
    ratio_a = _monthly(dpm_rpm, n, m, "dpm_rpm", per_farm_1d=True).astype(float, copy=False)
    _check_nonneg(ratio_a, "dpm_rpm")
    rmod_a = None
    if rate_mod is not None:
        rmod_a = _monthly(rate_mod, n, m, "rate_mod", per_farm_1d=True).astype(float, copy=False)
        _check_nonneg(rmod_a, "rate_mod")
    use_bc = biochar is not None or biochar_c is not None
    bc = np.zeros(n) if biochar is None else np.array(_per_farm(biochar, n, "biochar"), dtype=float)
    _check_nonneg(bc, "biochar")
    bc_in = None
    if biochar_c is not None:
        bc_in = _monthly(biochar_c, n, m, "biochar_c", per_farm_1d=False).astype(float, copy=False)
        _check_nonneg(bc_in, "biochar_c")
    cap = None if saturation is None else _per_farm(saturation.capacity, n, "saturation.capacity")
    ref = None if sat_ref is None else np.asarray(sat_ref, dtype=np.int64)
    if ref is not None and (ref.shape != (n,) or (n and (ref.min() < 0 or ref.max() >= n))):
        raise ValueError(f"sat_ref: expected {n} row indices in [0, {n})")
    # A deficit below SMDmax cannot arise in RothC; raising it to SMDmax lets the month use
    # one arithmetic threshold for covered and bare soil (identical results otherwise).
    np.maximum(smd_a, soil.smd_max, out=smd_a)
    has_fym = bool(m) and bool(np.max(fym_a) > 0)
    ratio_const = m > 0 and ratio_a.strides[1] == 0
    if ratio_const:  # the same DPM/RPM split every month: precompute it
        to_dpm_c = ratio_a[:, 0] / (ratio_a[:, 0] + 1.0)
        to_rpm_c = 1.0 / (ratio_a[:, 0] + 1.0)
    frac_co2 = 1.0 - soil.frac_bio - soil.frac_hum  # = x / (x + 1)

    # State as (4, N), contiguous per pool; two buffers swapped every month.
    state = np.array(p0.T, dtype=float, order="C", copy=True)  # never alias the caller
    lost = np.empty((4, n))
    e = np.empty((4, n))
    pw = np.empty((9, n))  # q², q⁴, …, q²⁵⁶ in rows 1–8 (see below)
    co2 = np.zeros(n)
    tmp = np.empty(n)
    tmp2 = np.empty(n)
    thr = np.empty(n)
    b = np.empty(n)
    d_tot = np.empty(n)
    arg_buf = np.empty(n)
    cov = np.empty(cov_a.shape[0])  # 1 (covered) / 0 (bare) as floats, (N,) or (1,)
    bare = np.empty(cov_a.shape[0])

    rec: dict[str, FloatArray] | None = None
    if record:
        keys = ("DPM", "RPM", "BIO", "HUM", "biochar", "SOC", "CO2", "a", "smd", "b", "c", "rate")
        rec = {k: np.empty((m, n)) for k in keys}

    for j in range(m):
        # 1. temperature
        a = rate_temperature(_col(temp_a, j))
        # 2. moisture (official order: update the deficit, then b from the new deficit).
        # Covered: max(SMDmax, min(0, SMD+DF)); bare: max(min(SMDbare, SMD), min(0, SMD+DF)).
        # With SMD ≥ SMDmax both are max(min(thr, SMD), min(0, SMD+DF)), thr = SMDmax
        # (covered) or SMDbare (bare); thr is selected exactly by 0/1 arithmetic.
        np.copyto(cov, _col(cov_a, j))
        np.subtract(1.0, cov, out=bare)
        df = _col(rain_a, j) - 0.75 * _col(evap_a, j)
        np.add(smd_a, df, out=tmp)
        np.minimum(tmp, 0.0, out=tmp)
        np.multiply(cov, soil.smd_max, out=thr)
        np.multiply(bare, soil.smd_bare, out=tmp2)
        np.add(thr, tmp2, out=thr)
        np.minimum(thr, smd_a, out=thr)
        np.maximum(thr, tmp, out=smd_a)
        # b = 1 above SMD1bar, else 0.2 + 0.8·(SMDmax − SMD)/(SMDmax − SMD1bar); the linear
        # branch reaches 1 exactly at SMD1bar and exceeds it above, so b = min(1, linear).
        np.subtract(soil.smd_max, smd_a, out=b)
        np.multiply(b, soil.b_slope, out=b)
        np.add(b, 0.2, out=b)  # exactly 0.2 at SMDmax, as official
        np.minimum(b, 1.0, out=b)
        # 3. cover c (0.6 covered, 1 bare) and the combined rate a·b·c(·rate_mod), carried
        # directly as the exponent −rate·K_HUM·dt of step 4.
        arg = arg_buf
        a_k = a * -(K_HUM * DT)
        np.multiply(cov, 0.6 * a_k, out=arg)
        np.multiply(bare, a_k, out=tmp2)
        np.add(arg, tmp2, out=arg)
        np.multiply(arg, b, out=arg)
        if rmod_a is not None:
            np.multiply(arg, _col(rmod_a, j), out=arg)
        need_rate = use_bc or cap is not None or rec is not None
        rate = arg / -(K_HUM * DT) if need_rate else arg
        # 4. decay: exp(−rate·k·dt) for the four pools from one exp. The rate constants are
        # integer multiples of K_HUM (K_DPM = 500, K_RPM = 15, K_BIO = 33 × K_HUM), so with
        # q = exp(−rate·K_HUM·dt) the factors are q⁵⁰⁰, q¹⁵, q³³, q: exact products of the
        # repeated squares of q (rounding ~1e-13 relative; three exps saved per farm-month).
        q = e[3]
        _exp_small(arg, q, tmp, tmp2)
        np.multiply(q, q, out=pw[1])
        for k in range(2, 9):
            np.multiply(pw[k - 1], pw[k - 1], out=pw[k])  # q^(2^k)
        np.multiply(pw[3], pw[2], out=e[1])  # q^12
        np.multiply(e[1], pw[1], out=e[1])  # q^14
        np.multiply(e[1], q, out=e[1])  # q^15 = RPM
        np.multiply(pw[5], q, out=e[2])  # q^33 = BIO
        np.multiply(pw[8], pw[7], out=e[0])  # q^384
        np.multiply(e[0], pw[6], out=e[0])  # q^448
        np.multiply(e[0], pw[5], out=e[0])  # q^480
        np.multiply(e[0], pw[4], out=e[0])  # q^496
        np.multiply(e[0], pw[2], out=e[0])  # q^500 = DPM
        np.multiply(state, e, out=lost)  # what remains after decay
        np.subtract(state, lost, out=state)  # what decayed
        np.sum(state, axis=0, out=d_tot)
        state, lost = lost, state
        dpm, rpm, bio, hum = state[0], state[1], state[2], state[3]
        # 5. partition of what decayed: CO2, BIO, HUM
        if cap is None:
            np.multiply(d_tot, soil.frac_bio, out=tmp)
            bio += tmp
            np.multiply(d_tot, soil.frac_hum, out=tmp)
            hum += tmp
            np.multiply(d_tot, frac_co2, out=tmp)
            co2 += tmp
        else:
            c_ma0 = lost[2] + lost[3] + bio + hum + iom_a  # BIO + HUM + IOM at the start
            c_ma = bio + hum + iom_a
            if ref is not None:
                c_ma0, c_ma = c_ma0[ref], c_ma[ref]
            s = np.maximum(0.0, 1.0 - c_ma0 / cap)
            room = np.maximum(0.0, cap - c_ma)
            formed = np.minimum(s * d_tot * soil.frac_stab, room)
            bio += formed * BIO_SHARE
            hum += formed * HUM_SHARE
            co2 += d_tot - formed
        # biochar decays with the same modifiers; its loss is CO2
        if use_bc:
            bc_new = bc * np.exp(-K_BIOCHAR * DT * rate)
            co2 += bc - bc_new
            bc = bc_new
        # 6. inputs at the end of the month
        pc = _col(plant_a, j)
        if ratio_const:
            to_dpm, to_rpm = to_dpm_c, to_rpm_c
        else:
            r = _col(ratio_a, j)
            to_dpm, to_rpm = r / (r + 1.0), 1.0 / (r + 1.0)
        np.multiply(pc, to_dpm, out=tmp)
        dpm += tmp
        np.multiply(pc, to_rpm, out=tmp)
        rpm += tmp
        if has_fym:
            f = _col(fym_a, j)
            np.multiply(f, FYM_SPLIT[0], out=tmp)
            dpm += tmp
            np.multiply(f, FYM_SPLIT[1], out=tmp)
            rpm += tmp
            if cap is None:
                np.multiply(f, FYM_SPLIT[2], out=tmp)
                hum += tmp
            else:
                # Humified manure C fills only the remaining capacity; the rest stays
                # particulate (RPM), so the cap holds and no C is lost (judgement, see
                # abm.soil.saturation).
                f_hum = FYM_SPLIT[2] * f
                c_ma = bio + hum + iom_a
                to_hum = np.minimum(
                    f_hum, np.maximum(0.0, cap - (c_ma if ref is None else c_ma[ref]))
                )
                hum += to_hum
                rpm += f_hum - to_hum
        if bc_in is not None:
            bcm = _col(bc_in, j)
            bc = bc + (1.0 - BIOCHAR_LABILE_FRACTION) * bcm
            dpm += BIOCHAR_LABILE_FRACTION * bcm
        if rec is not None:
            rec["DPM"][j] = dpm
            rec["RPM"][j] = rpm
            rec["BIO"][j] = bio
            rec["HUM"][j] = hum
            rec["biochar"][j] = bc
            rec["SOC"][j] = dpm + rpm + bio + hum + iom_a + bc
            rec["CO2"][j] = co2
            rec["a"][j] = a
            rec["smd"][j] = smd_a
            rec["b"][j] = b
            rec["c"][j] = 0.6 * cov + bare
            rec["rate"][j] = rate
    return RothCResult(
        pools=np.ascontiguousarray(state.T),
        smd=smd_a,
        biochar=np.array(bc, dtype=float),
        co2=co2,
        monthly=rec,
    )


# --------------------------------------------------------------------------------------------
# Spin-up: annual affine maps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Year:
    """Drivers of one average year, normalised to per-farm ``(N, 12)`` / ``(N,)`` arrays."""

    n: int
    iom: FloatArray
    soil: _Soil
    temp: FloatArray
    rain: FloatArray
    evap: FloatArray
    plant: FloatArray
    fym: FloatArray
    cov: NDArray[np.bool_]
    ratio: FloatArray
    rmod: FloatArray | None


def _year(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    rate_mod: ArrayLike | None,
    extra_farm_shapes: tuple[tuple[int, ...], ...] = (),
) -> _Year:
    arrs = [np.asarray(v) for v in (temp12, rain12, evap12, plant_c12, fym12, covered12)]
    for name, a in zip(("temp12", "rain12", "evap12"), arrs[:3], strict=True):
        if a.ndim not in (1, 2) or a.shape[-1] != 12:
            raise ValueError(f"{name}: expected shape (12,) or (N, 12), got {a.shape}")
    for name, a in zip(("plant_c12", "fym12", "covered12"), arrs[3:], strict=True):
        if a.ndim > 2:
            raise ValueError(f"{name}: expected a scalar, (12,) or (N, 12), got {a.shape}")
    shapes: list[tuple[int, ...]] = [np.shape(iom), np.shape(clay), np.shape(depth_cm)]
    shapes += [a.shape[:-1] for a in arrs if a.ndim == 2]
    ratio = np.asarray(dpm_rpm, dtype=float)
    if ratio.ndim >= 1:
        shapes.append(ratio.shape[:1])
    if rate_mod is not None and np.ndim(rate_mod) >= 1:
        shapes.append(np.shape(rate_mod)[:1])
    shapes += list(extra_farm_shapes)
    n = _n_farms(*shapes)

    def full(x: ArrayLike, name: str, per_farm_1d: bool = False) -> NDArray[np.generic]:
        return np.ascontiguousarray(
            np.broadcast_to(_monthly(x, n, 12, name, per_farm_1d=per_farm_1d), (n, 12))
        )

    plant = full(plant_c12, "plant_c12").astype(float)
    fym = full(fym12, "fym12").astype(float)
    _check_nonneg(plant, "plant_c12")
    _check_nonneg(fym, "fym12")
    cov_raw = np.asarray(covered12)
    cov = full(cov_raw if cov_raw.dtype == bool else cov_raw != 0, "covered12").astype(bool)
    ratio_f = full(ratio, "dpm_rpm", per_farm_1d=True).astype(float)
    _check_nonneg(ratio_f, "dpm_rpm")
    rmod = None if rate_mod is None else full(rate_mod, "rate_mod", per_farm_1d=True).astype(float)
    if rmod is not None:
        _check_nonneg(rmod, "rate_mod")
    iom_a = np.array(_per_farm(iom, n, "iom"), dtype=float)
    _check_nonneg(iom_a, "iom")
    return _Year(
        n=n,
        iom=iom_a,
        soil=_soil(
            np.array(_per_farm(clay, n, "clay")), np.array(_per_farm(depth_cm, n, "depth_cm"))
        ),
        temp=full(temp12, "temp12").astype(float),
        rain=full(rain12, "rain12").astype(float),
        evap=full(evap12, "evap12").astype(float),
        plant=plant,
        fym=fym,
        cov=cov,
        ratio=ratio_f,
        rmod=rmod,
    )


def _smd_year(y: _Year, smd0: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Run the deficit through one year from ``smd0``: returns ``(smd (N, 12), b (N, 12))``."""
    s = y.soil
    smd = np.empty((y.n, 12))
    b = np.empty((y.n, 12))
    cur = smd0
    for j in range(12):
        wet = np.minimum(0.0, cur + (y.rain[:, j] - 0.75 * y.evap[:, j]))
        lower = np.where(y.cov[:, j], s.smd_max, np.minimum(s.smd_bare, cur))
        cur = np.maximum(lower, wet)
        smd[:, j] = cur
        b[:, j] = np.where(cur > s.smd_1bar, 1.0, 0.2 + (s.smd_max - cur) * s.b_slope)
    return smd, b


def _periodic_smd(y: _Year, max_years: int = 5000) -> tuple[FloatArray, FloatArray, int]:
    """Cycle the deficit from 0 in January until its December value repeats exactly.

    The deficit depends only on climate and cover, so it reaches a periodic state (usually in
    one or two years). Returns ``(smd (N, 12), b (N, 12), years)`` of the periodic year.
    """
    smd0 = np.zeros(y.n)
    for year in range(1, max_years + 1):
        smd, b = _smd_year(y, smd0)
        if np.array_equal(smd[:, -1], smd0):
            return smd, b, year
        smd0 = smd[:, -1].copy()
    return smd, b, max_years  # practically periodic; the official run would be no closer


def _rates(y: _Year, b: FloatArray) -> FloatArray:
    """Combined rate modifier ``a·b·c(·rate_mod)`` for the 12 months, ``(N, 12)``."""
    rate = rate_temperature(y.temp) * b * rate_cover(y.cov)
    if y.rmod is not None:
        rate = rate * y.rmod
    return rate


def _input_vectors(y: _Year) -> tuple[FloatArray, FloatArray]:
    """Monthly input vectors ``(N, 12, 4)`` of plant C and of FYM (official split)."""
    zero = np.zeros_like(y.plant)
    up = np.stack([y.plant * y.ratio / (y.ratio + 1.0), y.plant / (y.ratio + 1.0), zero, zero], -1)
    f = y.fym
    uf = np.stack([FYM_SPLIT[0] * f, FYM_SPLIT[1] * f, zero, FYM_SPLIT[2] * f], axis=-1)
    return up, uf


def _month_apply(y: _Year, e: FloatArray, x: FloatArray) -> FloatArray:
    """Apply a month's linear map (decay, then BIO/HUM formation) to ``x`` (N, 4, …).

    The map is ``diag(e) + f ⊗ (1 − e)`` with ``e = exp(−k·rate·dt)`` (N, 4) and
    ``f = (0, 0, 0.46, 0.54)/(x + 1)``: decay keeps ``e·x`` and what decayed,
    ``Σ (1 − e)·x``, forms BIO and HUM. Applied to the columns of a matrix it composes the
    monthly maps without building them.
    """
    tail = (1,) * (x.ndim - 2)
    e = e.reshape((y.n, 4, *tail))
    decayed = np.sum((1.0 - e) * x, axis=1)
    out = e * x
    out[:, 2] += y.soil.frac_bio.reshape((y.n, *tail)) * decayed
    out[:, 3] += y.soil.frac_hum.reshape((y.n, *tail)) * decayed
    return out


def _compose(y: _Year, rate: FloatArray, *us: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
    """Compose the 12 monthly affine maps ``P ← M_j·P + u_j`` into ``P ← A·P + u`` per farm."""
    a_mat = np.broadcast_to(np.eye(4), (y.n, 4, 4)).copy()
    acc = [np.zeros((y.n, 4)) for _ in us]
    for j in range(12):
        e = np.exp(-(_K * DT)[np.newaxis, :] * rate[:, j, np.newaxis])
        a_mat = _month_apply(y, e, a_mat)
        acc = [_month_apply(y, e, v) + u[:, j] for v, u in zip(acc, us, strict=True)]
    return a_mat, acc


@dataclass(frozen=True)
class _Affine:
    """The periodic average year: monthly rates, inputs and the composed affine map."""

    rate: FloatArray  # (N, 12)
    smd_dec: FloatArray  # (N,)
    up: FloatArray  # (N, 12, 4) plant input per month
    uf: FloatArray  # (N, 12, 4) manure input per month
    a_mat: FloatArray  # (N, 4, 4)
    u_p: FloatArray  # (N, 4) annual plant-input term
    u_f: FloatArray  # (N, 4) annual manure term


def _prepare(y: _Year) -> _Affine:
    smd, b, _ = _periodic_smd(y)
    rate = _rates(y, b)
    up, uf = _input_vectors(y)
    a_mat, (u_p, u_f) = _compose(y, rate, up, uf)
    return _Affine(rate, smd[:, -1].copy(), up, uf, a_mat, u_p, u_f)


@dataclass(frozen=True)
class Weather:
    """Weather years with probabilities, for the equilibrium under a variable climate.

    ``temp``, ``rain``, ``evap``: ``(K, 12)`` or ``(K, N, 12)`` monthly temperature (°C),
    rainfall (mm, incl. any irrigation) and open-pan evaporation (mm) of ``K`` years;
    ``weights``: ``(K,)`` probabilities summing to 1 (e.g. a quadrature of the inter-annual
    noise, :func:`abm.soil.climate.weather_quadrature`).
    """

    temp: FloatArray
    rain: FloatArray
    evap: FloatArray
    weights: FloatArray


def _mean_affine(aff: _Affine, y: _Year, w: Weather) -> _Affine:
    """``aff`` with its annual map replaced by the weighted mean over the weather years."""
    a_mat = np.zeros_like(aff.a_mat)
    u_p = np.zeros_like(aff.u_p)
    u_f = np.zeros_like(aff.u_f)
    for k, wk in enumerate(np.asarray(w.weights, dtype=float)):
        yk = replace(
            y,
            temp=np.ascontiguousarray(np.broadcast_to(w.temp[k], (y.n, 12)), dtype=float),
            rain=np.ascontiguousarray(np.broadcast_to(w.rain[k], (y.n, 12)), dtype=float),
            evap=np.ascontiguousarray(np.broadcast_to(w.evap[k], (y.n, 12)), dtype=float),
        )
        ak = _prepare(yk)
        a_mat += wk * ak.a_mat
        u_p += wk * ak.u_p
        u_f += wk * ak.u_f
    return replace(aff, a_mat=a_mat, u_p=u_p, u_f=u_f)


def equilibrium_parts(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12s: list[ArrayLike],
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    weather: Weather | None = None,
) -> tuple[FloatArray, list[FloatArray], FloatArray]:
    """Equilibrium pools of the plant input alone and of each manure input alone (no saturation).

    Without saturation RothC is affine in its inputs for fixed climate, cover and rates, so the
    equilibrium of any combination is the sum of these parts plus IOM — one composition of the
    year's (or the weather years' mean) map serves the plant input, the farm's manure and any
    tracer's manure at once. Arguments as in :func:`equilibrium`; ``fym12s`` is a list of manure
    inputs ``(12,)`` or ``(N, 12)``.

    Returns
    -------
    plant_pools, fym_pools, smd_dec
        ``(N, 4)`` equilibrium of ``plant_c12`` alone, a list of ``(N, 4)`` equilibria of each
        manure input alone, and the periodic December deficit of the normals (mm).
    """
    y = _year(
        iom,
        clay,
        depth_cm,
        temp12,
        rain12,
        evap12,
        plant_c12,
        fym12s[0],
        covered12,
        dpm_rpm,
        rate_mod,
    )
    zero = np.zeros_like(y.plant)
    ufs = []
    for fym in fym12s:
        f = np.ascontiguousarray(np.broadcast_to(np.asarray(fym, dtype=float), (y.n, 12)))
        _check_nonneg(f, "fym12s")
        ufs.append(np.stack([FYM_SPLIT[0] * f, FYM_SPLIT[1] * f, zero, FYM_SPLIT[2] * f], -1))
    up, _ = _input_vectors(y)
    smd, b, _ = _periodic_smd(y)
    samples: list[tuple[float, _Year, FloatArray]] = [(1.0, y, b)]
    if weather is not None:
        samples = []
        for k, wk in enumerate(np.asarray(weather.weights, dtype=float)):
            yk = replace(
                y,
                temp=np.ascontiguousarray(np.broadcast_to(weather.temp[k], (y.n, 12)), dtype=float),
                rain=np.ascontiguousarray(np.broadcast_to(weather.rain[k], (y.n, 12)), dtype=float),
                evap=np.ascontiguousarray(np.broadcast_to(weather.evap[k], (y.n, 12)), dtype=float),
            )
            samples.append((float(wk), yk, _periodic_smd(yk)[1]))
    a_mat = np.zeros((y.n, 4, 4))
    us = [np.zeros((y.n, 4)) for _ in range(1 + len(ufs))]
    for wk, yk, bk in samples:
        ak, uk = _compose(yk, _rates(yk, bk), up, *ufs)
        a_mat += wk * ak
        for acc, u in zip(us, uk, strict=True):
            acc += wk * u
    parts = _solve_fixed_point(a_mat, *us)
    return parts[0], parts[1:], smd[:, -1].copy()


def _solve_fixed_point(a_mat: FloatArray, *us: FloatArray) -> list[FloatArray]:
    """Solve ``(I − A)·P = u`` per farm for each right-hand side."""
    lhs = np.eye(4)[np.newaxis] - a_mat
    rhs = np.stack(us, axis=-1)  # (N, 4, K)
    sol = np.linalg.solve(lhs, rhs)
    return [np.asarray(sol[:, :, k], dtype=np.float64) for k in range(len(us))]


# --- saturation: non-linear annual map ------------------------------------------------------


def _sat_year_map(
    y: _Year, rate: FloatArray, cap: FloatArray, p: FloatArray, u_in: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One average year with saturation: ``F(P)`` and its Jacobian ``dF/dP`` (N, 4, 4).

    Mirrors the month of :func:`run` (including the two capacity guards), with the Jacobian
    propagated month by month by the chain rule.
    """
    n = y.n
    cur = p.copy()
    jac = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    kdt = _K * DT
    fs = y.soil.frac_stab
    for j in range(12):
        e = np.exp(-kdt[None, :] * rate[:, j, None])  # (N, 4)
        lost = 1.0 - e
        d_tot = np.sum(cur * lost, axis=1)
        c_ma0 = cur[:, 2] + cur[:, 3] + y.iom
        s_raw = 1.0 - c_ma0 / cap
        s = np.maximum(0.0, s_raw)
        ds = np.where(s_raw > 0, -1.0 / cap, 0.0)  # d s / d(BIO or HUM)
        dec = cur * e
        room_raw = cap - (dec[:, 2] + dec[:, 3] + y.iom)
        room = np.maximum(0.0, room_raw)
        want = s * d_tot * fs
        clip = want > room
        formed = np.where(clip, room, want)
        # d formed / d P  (N, 4)
        g_want = (s * fs)[:, None] * lost
        g_want[:, 2] += d_tot * fs * ds
        g_want[:, 3] += d_tot * fs * ds
        g_room = np.zeros((n, 4))
        pos = room_raw > 0
        g_room[:, 2] = np.where(pos, -e[:, 2], 0.0)
        g_room[:, 3] = np.where(pos, -e[:, 3], 0.0)
        g_formed = np.where(clip[:, None], g_room, g_want)
        # month Jacobian M (N, 4, 4)
        mj = np.zeros((n, 4, 4))
        idx = np.arange(4)
        mj[:, idx, idx] = e
        mj[:, 2, :] += BIO_SHARE * g_formed
        mj[:, 3, :] += HUM_SHARE * g_formed
        nxt = dec.copy()
        nxt[:, 2] += BIO_SHARE * formed
        nxt[:, 3] += HUM_SHARE * formed
        # inputs; humified manure only into the remaining room, the rest to RPM
        u = u_in[:, j]
        nxt[:, 0] += u[:, 0]
        nxt[:, 1] += u[:, 1]
        f_hum = u[:, 3]
        room2_raw = cap - (nxt[:, 2] + nxt[:, 3] + y.iom)
        room2 = np.maximum(0.0, room2_raw)
        to_hum = np.minimum(f_hum, room2)
        nxt[:, 3] += to_hum
        nxt[:, 1] += f_hum - to_hum
        clip2 = (f_hum > room2) & (room2_raw > 0)
        if np.any(clip2):
            # to_hum = cap − BIO' − HUM' − IOM: derivative through the pre-input BIO', HUM'
            g2 = -(mj[:, 2, :] + mj[:, 3, :])
            mj[:, 3, :] += np.where(clip2[:, None], g2, 0.0)
            mj[:, 1, :] -= np.where(clip2[:, None], g2, 0.0)
        cur = nxt
        jac = np.matmul(mj, jac)
    return cur, jac


def _sat_equilibrium(
    y: _Year,
    rate: FloatArray,
    cap: FloatArray,
    u_in: FloatArray,
    start: FloatArray,
    tol: float = 1e-12,
) -> FloatArray:
    """Newton's method with backtracking on ``F(P) − P = 0`` (saturated annual map)."""
    p = start.copy()
    eye = np.eye(4)[np.newaxis]
    f, jac = _sat_year_map(y, rate, cap, p, u_in)
    res = f - p
    norm = np.max(np.abs(res), axis=1)
    for _ in range(200):
        todo = norm > tol
        if not np.any(todo):
            return p
        step = np.linalg.solve(jac - eye, -res[:, :, None])[:, :, 0]
        step[~todo] = 0.0
        lam = np.ones(y.n)
        # backtracking: accept the largest λ in 1, 1/2, ... that lowers the residual
        for _ in range(30):
            trial = np.maximum(p + lam[:, None] * step, 0.0)
            f_t, jac_t = _sat_year_map(y, rate, cap, trial, u_in)
            res_t = f_t - trial
            norm_t = np.max(np.abs(res_t), axis=1)
            ok = (norm_t < norm) | ~todo | (lam < 1e-6)
            if np.all(ok):
                break
            lam = np.where(ok, lam, lam * 0.5)
        p = np.where(todo[:, None], trial, p)
        res = np.where(todo[:, None], res_t, res)
        jac = np.where(todo[:, None, None], jac_t, jac)
        norm = np.where(todo, norm_t, norm)
    if np.any(norm > 1e-8):
        raise RuntimeError(
            f"saturated spin-up did not converge for {int(np.sum(norm > 1e-8))} farm(s); "
            f"largest annual residual {float(np.max(norm)):.3g} t C/ha"
        )
    return p


def _sat_solve(
    y: _Year,
    aff: _Affine,
    saturation: Saturation,
    scale: FloatArray,
    eq_p: FloatArray,
    eq_f: FloatArray,
) -> FloatArray:
    """Saturated equilibrium with the plant input times ``scale``, by Newton's method."""
    cap = np.array(_per_farm(saturation.capacity, y.n, "saturation.capacity"), dtype=float)
    u_in = scale[:, None, None] * aff.up + aff.uf
    start = scale[:, None] * eq_p + eq_f
    start[:, 2:] = 0.0  # from below the capacity: Newton then approaches monotonically
    return _sat_equilibrium(y, aff.rate, cap, u_in, start)


def equilibrium(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    saturation: Saturation | None = None,
    weather: Weather | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Exact spin-up: the periodic equilibrium of the average year, at the end of December.

    The deficit is first cycled from 0 in January (northern-hemisphere convention of the
    official code) to its periodic state, which depends only on climate and cover. The 12
    monthly maps of the active pools are then affine, ``P ← M_j·P + u_j``; they are composed
    into ``P ← A·P + u`` per farm (batched 4×4 matrices) and ``(I − A)·P = u`` is solved. This
    is the limit the official spin-up (repeat the year until the annual change of the active
    pools is < 1e-6 t C/ha) approaches; the two differ by that stopping error (~1e-4 t C/ha).
    With ``saturation`` the annual map is non-linear and Newton's method (analytic Jacobian,
    backtracking) is iterated until the annual residual is < 1e-12 t C/ha.

    Parameters
    ----------
    iom, clay, depth_cm
        Inert organic matter (t C/ha), clay (%), layer depth (cm): scalar or ``(N,)``.
    temp12, rain12, evap12
        Average-year temperature (°C), rainfall (mm), open-pan evaporation (mm): ``(12,)`` or
        ``(N, 12)``.
    plant_c12, fym12
        Plant and manure C input per month (t C/ha/month): ``(12,)`` or ``(N, 12)``.
    covered12
        Plant cover per month (bool or 0/1): ``(12,)`` or ``(N, 12)``.
    dpm_rpm
        DPM/RPM ratio of the plant input: scalar, ``(N,)`` or ``(N, 12)``.
    rate_mod
        Optional multiplier on every decay rate: scalar, ``(N,)`` or ``(N, 12)``.
    saturation
        Optional :class:`abm.soil.saturation.Saturation`.
    weather
        Optional :class:`Weather`: the fixed point is then that of the probability-weighted
        mean of the annual maps of the weather years it holds — the mean state of a soil under
        a stationary, year-to-year variable climate (exact in expectation: each year's map is
        independent of the state it acts on). Not combined with ``saturation`` (which then
        uses the normals ``temp12``/``rain12``/``evap12``).

    Returns
    -------
    pools, smd_dec
        ``(N, 4)`` DPM, RPM, BIO, HUM (t C/ha) at the end of December, and the periodic
        December deficit ``(N,)`` (mm) from which a forward :func:`run` continues.
    """
    y = _year(
        iom, clay, depth_cm, temp12, rain12, evap12, plant_c12, fym12, covered12, dpm_rpm, rate_mod
    )
    aff = _prepare(y)
    if weather is not None and saturation is None:
        aff = _mean_affine(aff, y, weather)
    (pools,) = _solve_fixed_point(aff.a_mat, aff.u_p + aff.u_f)
    if saturation is not None:
        eq_p, eq_f = _solve_fixed_point(aff.a_mat, aff.u_p, aff.u_f)
        pools = _sat_solve(y, aff, saturation, np.ones(y.n), eq_p, eq_f)
    return pools, aff.smd_dec


def inputs_for_stock(
    soc_target: ArrayLike,
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12_ref: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    saturation: Saturation | None = None,
    weather: Weather | None = None,
    min_scale: ArrayLike | None = None,
) -> FloatArray:
    """Inverse mode: the plant-input multiplier that makes the equilibrium SOC equal a target.

    Without saturation the model is affine in the inputs for fixed climate and cover, so
    ``SOC_eq(s) = IOM + Σ P_fym + s·Σ P_plant`` where ``P_fym`` is the equilibrium of the manure
    alone and ``P_plant`` that of the reference plant input alone (SCIENCE.md §2, with the
    manure's share kept apart so the result is exact): ``s = (SOC − IOM − ΣP_fym) / ΣP_plant``.
    With saturation, ``SOC_eq(s)`` is increasing in ``s``; it is bracketed and solved by a
    safeguarded secant (Illinois) iteration until ``|SOC_eq(s) − SOC| < 1e-9`` t C/ha.

    Parameters
    ----------
    soc_target
        Measured total SOC of the layer incl. IOM (t C/ha), scalar or ``(N,)``.
    iom, clay, depth_cm, temp12, rain12, evap12, fym12, covered12, dpm_rpm, rate_mod, saturation
    weather
        As in :func:`equilibrium`.
    min_scale
        Optional lower bound on the scale, scalar or ``(N,)``: a target that needs less plant
        input (or is unreachable because the manure alone sustains more) is replaced by the
        equilibrium at ``min_scale`` instead of raising; the caller reads the stock it gets
        from :func:`equilibrium`.
    plant_c12_ref
        Reference monthly plant input pattern (t C/ha/month), ``(12,)`` or ``(N, 12)``.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` scale ≥ 0 such that ``scale·plant_c12_ref`` gives the target at equilibrium.

    Raises
    ------
    UserInputError
        If a target is not above the equilibrium without plant input (IOM + the manure-only
        equilibrium), i.e. unreachable with non-negative inputs, or the reference input is zero.
    """
    target_raw = np.asarray(soc_target, dtype=float)
    y = _year(
        iom,
        clay,
        depth_cm,
        temp12,
        rain12,
        evap12,
        plant_c12_ref,
        fym12,
        covered12,
        dpm_rpm,
        rate_mod,
        extra_farm_shapes=(target_raw.shape[:1],) if target_raw.ndim else (),
    )
    target = np.array(_per_farm(target_raw, y.n, "soc_target"), dtype=float)
    aff = _prepare(y)
    if weather is not None and saturation is None:
        aff = _mean_affine(aff, y, weather)
    eq_p, eq_f = _solve_fixed_point(aff.a_mat, aff.u_p, aff.u_f)
    per_unit = eq_p.sum(axis=1)
    if saturation is None:
        base = y.iom + eq_f.sum(axis=1)
    else:
        zero = np.zeros(y.n)
        base = y.iom + _sat_solve(y, aff, saturation, zero, eq_p, eq_f).sum(axis=1)
    if min_scale is not None:
        floor = base + np.asarray(min_scale, dtype=float) * per_unit
        target = np.where(np.isfinite(target) & (per_unit > 0), np.maximum(target, floor), target)
    bad = ~np.isfinite(target) | (target <= base) | (per_unit <= 0)
    if np.any(bad):
        idx = np.flatnonzero(bad)
        shown = ", ".join(str(i) for i in idx[:5]) + (" ..." if idx.size > 5 else "")
        raise UserInputError(
            f"soc_target: {idx.size} of {y.n} farm(s) have a target at or below the equilibrium "
            f"without plant input (IOM + manure-only equilibrium) or a zero reference input, so it "
            f"cannot be reached with non-negative inputs (farm index {shown})"
        )
    scale_lin = (
        (target - base) / per_unit
        if saturation is None
        else (target - y.iom - eq_f.sum(axis=1)) / per_unit
    )
    if saturation is None:
        return scale_lin

    def soc_at(s: FloatArray) -> FloatArray:
        assert saturation is not None  # narrowed above
        return _sat_solve(y, aff, saturation, s, eq_p, eq_f).sum(axis=1) + y.iom

    # Saturation only lowers BIO + HUM, so the linear answer is a lower bracket.
    lo = np.maximum(scale_lin, 0.0)
    f_lo = soc_at(lo) - target
    above = f_lo > 0  # not expected; fall back to the certain lower bracket s = 0
    lo = np.where(above, 0.0, lo)
    f_lo = np.where(above, base - target, f_lo)
    hi = np.maximum(2.0 * lo, 1e-3)
    f_hi = soc_at(hi) - target
    for _ in range(200):
        low = f_hi < 0
        if not np.any(low):
            break
        lo = np.where(low, hi, lo)
        f_lo = np.where(low, f_hi, f_lo)
        hi = np.where(low, hi * 2.0, hi)
        f_hi = np.where(low, soc_at(hi) - target, f_hi)
    side = np.zeros(y.n)
    s = lo
    for _ in range(200):
        s = np.where(f_hi != f_lo, (lo * f_hi - hi * f_lo) / (f_hi - f_lo), 0.5 * (lo + hi))
        s = np.clip(s, np.minimum(lo, hi), np.maximum(lo, hi))
        f_s = soc_at(s) - target
        if np.all(np.abs(f_s) < 1e-9):
            return s
        right = f_s > 0  # root in [lo, s]
        # Illinois modification: halve the retained end's value when it is kept twice
        f_lo = np.where(right & (side == 1), f_lo / 2.0, f_lo)
        f_hi = np.where(~right & (side == -1), f_hi / 2.0, f_hi)
        hi = np.where(right, s, hi)
        f_hi = np.where(right, f_s, f_hi)
        lo = np.where(right, lo, s)
        f_lo = np.where(right, f_lo, f_s)
        side = np.where(right, 1, -1)
    raise RuntimeError("inputs_for_stock: the saturated inverse did not converge")


def official_spinup_months(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    tol: float = 1e-6,
    max_years: int = 1_000_000,
) -> NDArray[np.int64]:
    """Number of months the official spin-up runs before it stops.

    The official code starts from empty pools and SMD = 0 in January, repeats the average year
    and stops at the end of the first year whose change of total active C (DPM+RPM+BIO+HUM) is
    below ``tol`` = 1e-6 t C/ha (the first year is compared with 0). This reproduces that count
    cheaply: the first years are run with their actual (not yet periodic) deficit, then the
    composed annual affine map is iterated. Used only for the ``Month`` of the equilibrium row
    of the output files (19872 for the RothC_Py example, 20916 for the v2 examples).

    Returns
    -------
    numpy.ndarray
        ``(N,)`` integer month counts (a multiple of 12).
    """
    y = _year(
        iom, clay, depth_cm, temp12, rain12, evap12, plant_c12, fym12, covered12, dpm_rpm, rate_mod
    )
    up, uf = _input_vectors(y)
    u_all = up + uf
    p = np.zeros((y.n, 4))
    toc_prev = np.zeros(y.n)
    months = np.zeros(y.n, dtype=np.int64)
    done = np.zeros(y.n, dtype=bool)
    smd0 = np.zeros(y.n)
    periodic = False
    a_mat = np.empty((y.n, 4, 4))
    u = np.empty((y.n, 4))
    for year in range(1, max_years + 1):
        if not periodic:
            smd, b = _smd_year(y, smd0)
            a_mat, (u,) = _compose(y, _rates(y, b), u_all)
            periodic = bool(np.array_equal(smd[:, -1], smd0))
            smd0 = smd[:, -1].copy()
        p = np.einsum("nij,nj->ni", a_mat, p) + u
        toc = p.sum(axis=1)
        stop = ~done & (np.abs(toc - toc_prev) < tol)
        months[stop] = 12 * year
        done |= stop
        toc_prev = toc
        if np.all(done):
            return months
    months[~done] = 12 * max_years
    return months
