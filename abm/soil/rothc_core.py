"""RothC-26.3 building blocks shared by the monthly engine and the spin-up (:mod:`abm.soil.rothc`).

Constants, the rate modifiers of the official month (temperature, moisture, cover), the CO2
ratio, Falloon's IOM, and the normalisation and checks of per-farm inputs. Public names are
re-exported by :mod:`abm.soil.rothc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abm.errors import UserInputError

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
