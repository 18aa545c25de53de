"""ICBM: the Introductory Carbon Balance Model, two pools (Andrén & Kätterer 1997).

The fast alternative to RothC. A young pool ``Y`` receives the input ``i`` and decays at
``k1·r``; a fraction ``h`` (humification coefficient) of what leaves ``Y`` enters the old pool
``O``, which decays at ``k2·r``; the rest, and everything leaving ``O``, is CO2::

    dY/dt = i − k1·r·Y
    dO/dt = h·k1·r·Y − k2·r·O

Units follow the paper: pools in kg C/m², input in kg C/m²/yr, rates yr⁻¹, time in yr.
Multiply stocks by 10 to get t C/ha (1 kg/m² = 10 t/ha).

Parameters (Andrén & Kätterer 1997): ``k1 = 0.8``, ``k2 = 0.00605`` yr⁻¹; ``h = 0.125`` straw,
0.31 pure manure, 0.47 sewage sludge; ``r = 1`` reference (0.97–1.32 across the Ultuna
treatments; 5.36 in a hot humid climate). Check: ``i = 0.285``, ``r = 1``, ``h = 0.125`` gives
``Yss = 0.356``, ``Oss = 5.89`` kg C/m².

References
----------
Andrén, O. & Kätterer, T. (1997). ICBM: the Introductory Carbon Balance Model for exploration
of soil carbon balances. Ecol. Appl. 7:1226–1236.
doi:10.1890/1051-0761(1997)007[1226:ITICBM]2.0.CO;2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abm.errors import UserInputError

__all__ = ["K1", "K2", "KG_M2_TO_T_HA", "ICBMResult", "analytic", "run", "steady_state"]

FloatArray = NDArray[np.float64]

#: Decay rate of the young pool (yr⁻¹), Andrén & Kätterer (1997).
K1 = 0.8
#: Decay rate of the old pool (yr⁻¹), Andrén & Kätterer (1997).
K2 = 0.00605
#: kg C/m² → t C/ha.
KG_M2_TO_T_HA = 10.0


@dataclass(frozen=True)
class ICBMResult:
    """Outcome of :func:`run` (kg C/m²).

    Attributes
    ----------
    pools
        ``(N, 2)`` young and old pool at the end.
    co2
        ``(N,)`` CO2-C released over the run.
    """

    pools: FloatArray
    co2: FloatArray


def _check_rates(k1: float, k2: float) -> None:
    if not (k1 > 0 and k2 > 0) or k1 == k2:
        raise UserInputError(
            "k1, k2: must be > 0 and differ (the analytic solution divides by k2 − k1)"
        )


def steady_state(
    i: ArrayLike, r: ArrayLike, h: ArrayLike, k1: float = K1, k2: float = K2
) -> tuple[FloatArray, FloatArray]:
    """Steady state ``Yss = i/(k1·r)``, ``Oss = h·i/(k2·r)`` (kg C/m²).

    Parameters
    ----------
    i
        Annual input (kg C/m²/yr).
    r
        External (climate, soil) rate modifier (dimensionless).
    h
        Humification coefficient (dimensionless).
    k1, k2
        Decay rates of the young and old pool (yr⁻¹).

    Returns
    -------
    yss, oss
        Steady-state pools (kg C/m²).
    """
    i_a, r_a, h_a = (np.asarray(v, dtype=float) for v in (i, r, h))
    return i_a / (k1 * r_a), h_a * i_a / (k2 * r_a)


def analytic(
    y0: ArrayLike,
    o0: ArrayLike,
    i: ArrayLike,
    r: ArrayLike,
    h: ArrayLike,
    t: ArrayLike,
    k1: float = K1,
    k2: float = K2,
) -> tuple[FloatArray, FloatArray]:
    """Analytic solution for constant input (Andrén & Kätterer 1997, eqs. 3–4).

    ``Y(t) = Yss + (Y0 − Yss)·e^(−k1 r t)``;
    ``O(t) = Oss + (O0 − Oss − A)·e^(−k2 r t) + A·e^(−k1 r t)``,
    ``A = h·k1·(Y0 − Yss)/(k2 − k1)``.

    Parameters
    ----------
    y0, o0
        Initial young and old pools (kg C/m²).
    i, r, h
        Input (kg C/m²/yr), rate modifier, humification coefficient.
    t
        Time (yr); broadcasts with the other arguments.
    k1, k2
        Decay rates (yr⁻¹).

    Returns
    -------
    y, o
        Pools at ``t`` (kg C/m²).
    """
    _check_rates(k1, k2)
    y0_a, o0_a, r_a, h_a, t_a = (np.asarray(v, dtype=float) for v in (y0, o0, r, h, t))
    yss, oss = steady_state(i, r, h, k1, k2)
    big_a = h_a * k1 * (y0_a - yss) / (k2 - k1)
    e1 = np.exp(-k1 * r_a * t_a)
    e2 = np.exp(-k2 * r_a * t_a)
    return yss + (y0_a - yss) * e1, oss + (o0_a - oss - big_a) * e2 + big_a * e1


def run(
    state: ArrayLike,
    i: ArrayLike,
    r: ArrayLike,
    h: ArrayLike,
    n_steps: int,
    dt: float = 1.0,
    *,
    k1: float = K1,
    k2: float = K2,
) -> ICBMResult:
    """Stepped ICBM over ``N`` farms: the input of each step enters at its start.

    The difference-equation form of Andrén & Kätterer (1997) for varying inputs: each step adds
    ``i·dt`` to ``Y`` and then decays both pools exactly over ``dt`` (the analytic solution with
    no input over the step). For constant inputs it converges to :func:`analytic` as
    ``dt → 0`` (error O(dt)); with ``dt = 1`` it is the annual model of the paper.

    Parameters
    ----------
    state
        ``(N, 2)`` young and old pool at the start (kg C/m²). Not modified.
    i
        Input (kg C/m²/yr): scalar, ``(N,)`` or ``(N, n_steps)``.
    r
        Rate modifier: scalar, ``(N,)`` or ``(N, n_steps)``.
    h
        Humification coefficient: scalar or ``(N,)``.
    n_steps
        Number of steps.
    dt
        Step length (yr).
    k1, k2
        Decay rates (yr⁻¹).

    Returns
    -------
    ICBMResult
        Pools at the end and the CO2-C released (kg C/m²); ``Σ i·dt − co2 = Δ(Y + O)``.
    """
    _check_rates(k1, k2)
    s0 = np.asarray(state, dtype=float)
    if s0.ndim != 2 or s0.shape[1] != 2:
        raise ValueError(f"state: expected shape (N, 2), got {s0.shape}")
    if n_steps < 0 or dt <= 0:
        raise UserInputError("n_steps must be ≥ 0 and dt > 0")
    n = s0.shape[0]

    def per_step(x: ArrayLike, name: str) -> FloatArray:
        a = np.asarray(x, dtype=float)
        if a.ndim == 1:
            a = a[:, np.newaxis]
        try:
            return np.broadcast_to(a, (n, n_steps)) if n_steps else np.zeros((n, 0))
        except ValueError:
            raise ValueError(
                f"{name}: shape {np.shape(x)} does not broadcast to ({n}, {n_steps})"
            ) from None

    i_a = per_step(i, "i")
    r_a = per_step(r, "r")
    h_a = np.broadcast_to(np.asarray(h, dtype=float), (n,))
    y = s0[:, 0].copy()
    o = s0[:, 1].copy()
    co2 = np.zeros(n)
    for j in range(n_steps):
        rj = r_a[:, j]
        y_in = y + i_a[:, j] * dt
        e1 = np.exp(-k1 * rj * dt)
        e2 = np.exp(-k2 * rj * dt)
        big_a = h_a * k1 * y_in / (k2 - k1)  # free decay: Yss = Oss = 0 over the step
        y_new = y_in * e1
        o_new = (o - big_a) * e2 + big_a * e1
        co2 += (y_in + o) - (y_new + o_new)
        y, o = y_new, o_new
    return ICBMResult(pools=np.stack([y, o], axis=1), co2=co2)
