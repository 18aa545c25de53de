"""ICBM as the model's yearly soil engine (``soil.model = "icbm"``), vectorised over farms.

State per farm, t C/ha: a young pool for plant input (humification coefficient
``H_PLANT = 0.125``, straw), a young pool for manure (``H_MANURE = 0.31``, pure manure) and one
old pool, stored in the model's ``(N, 4)`` pool array as ``(Y_plant, Y_manure, O, 0)``; ICBM has
no inert pool, so the farm's IOM is 0 and ``O`` holds all old carbon. The yearly step is the
paper's difference equation (:func:`abm.soil.icbm.run` with ``dt = 1``): the year's input enters
the young pool, then both pools decay exactly over the year.

Climate and management enter through ICBM's single rate modifier ``r`` (Andrén & Kätterer
1997). Here ``r`` is RothC's own monthly modifier ``a·b·c·rate_mod`` (temperature, topsoil
moisture deficit, cover, conservation agriculture) averaged over the year and scaled so that the
typical arable farm of the reference zone under its normals has ``r = 1`` (:data:`R_REF`) — a
judgement that puts both engines on the same climate response; the ICBM site (Ultuna) has
``r ≈ 1`` by definition. Biochar keeps its stable pool (decay ``K_BIOCHAR·a·b·c·rate_mod``, as
in :func:`abm.soil.rothc.run`); its labile 3 % joins the plant young pool. Saturation is a
RothC option only.

References
----------
Andrén, O. & Kätterer, T. (1997). ICBM: the Introductory Carbon Balance Model for exploration
of soil carbon balances. Ecol. Appl. 7:1226–1236.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abm.soil import climate
from abm.soil.icbm import K1, K2
from abm.soil.rothc import (
    BIOCHAR_LABILE_FRACTION,
    K_BIOCHAR,
    moisture_step,
    rate_cover,
    rate_temperature,
)

FloatArray = NDArray[np.float64]

H_PLANT = 0.125
"""Humification coefficient of plant residues (straw), Andrén & Kätterer 1997."""
H_MANURE = 0.31
"""Humification coefficient of farmyard manure, Andrén & Kätterer 1997."""


def monthly_rates(
    temp: FloatArray,
    rain: FloatArray,
    evap: FloatArray,
    clay: FloatArray,
    depth: FloatArray,
    covered: NDArray[np.bool_],
    rate_mod: FloatArray,
    smd: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """(N, 12) RothC rate modifiers ``a·b·c·rate_mod`` of a year, and the deficit at its end."""
    n = temp.shape[0]
    out = np.empty((n, 12))
    s = smd
    for m in range(12):
        b, s = moisture_step(rain[:, m], evap[:, m], clay, depth, covered[:, m], s)
        out[:, m] = rate_temperature(temp[:, m]) * b * rate_cover(covered[:, m]) * rate_mod[:, m]
    return out, np.asarray(s, dtype=float)


def reference_rate(zone: str, covered12: NDArray[np.bool_]) -> float:
    """``R_REF``: mean monthly RothC modifier of a zone's typical farm under the normals.

    ``covered12``: its (12,) months with plant cover. The model uses the reference zone's
    typical arable farm (:func:`abm.landscape.icbm_reference_rate`), so that farm has ``r = 1``.
    """
    z = climate.ZONES[zone]
    one = np.ones((1, 12))
    smd = np.zeros(1)
    for _ in range(3):  # cycle the deficit to its periodic state
        rates, smd = monthly_rates(
            z.temp12[None],
            z.rain12[None],
            z.evap12[None],
            np.array([z.clay_mean]),
            np.array([z.depth_cm]),
            np.asarray(covered12, dtype=bool)[None],
            one,
            smd,
        )
    return float(rates.mean())


@dataclass(frozen=True)
class YearMap:
    """The affine yearly map ``s' = M·s + u_p·i_plant + u_m·i_manure`` of ``s = (Yp, Ym, O)``."""

    m: FloatArray  # (N, 3, 3)
    u_p: FloatArray  # (N, 3)
    u_m: FloatArray  # (N, 3)


def year_map(r: FloatArray) -> YearMap:
    """The yearly map for ICBM rate modifiers ``r`` (N,) (inputs enter at the start)."""
    e1 = np.exp(-K1 * r)
    e2 = np.exp(-K2 * r)
    c = K1 * (e1 - e2) / (K2 - K1)  # old-pool gain per unit young C, before h
    n = r.size
    m = np.zeros((n, 3, 3))
    m[:, 0, 0] = e1
    m[:, 1, 1] = e1
    m[:, 2, 2] = e2
    m[:, 2, 0] = H_PLANT * c
    m[:, 2, 1] = H_MANURE * c
    u_p = np.stack([e1, np.zeros(n), H_PLANT * c], axis=1)
    u_m = np.stack([np.zeros(n), e1, H_MANURE * c], axis=1)
    return YearMap(m, u_p, u_m)


def step(
    pools: FloatArray,
    biochar: FloatArray,
    rates: FloatArray,
    plant: FloatArray,
    manure: FloatArray,
    biochar_in: FloatArray,
    r_ref: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One year for N farms: ``pools`` (N, 4) ``(Yp, Ym, O, 0)``, inputs t C/ha/yr.

    ``r_ref`` is :func:`reference_rate` of the reference farm (its ``r`` is 1). Returns the new
    pools, the new biochar pool and the CO2-C respired (t C/ha).
    """
    r = rates.mean(axis=1) / r_ref
    ym = year_map(r)
    ip = plant + BIOCHAR_LABILE_FRACTION * biochar_in
    s = pools[:, :3]
    new = np.einsum("nij,nj->ni", ym.m, s) + ym.u_p * ip[:, None] + ym.u_m * manure[:, None]
    bc = biochar * np.exp(-K_BIOCHAR * rates.sum(axis=1) / 12.0)
    bc_new = bc + (1.0 - BIOCHAR_LABILE_FRACTION) * biochar_in
    out = np.zeros_like(pools)
    out[:, :3] = new
    co2 = (s.sum(axis=1) + biochar + ip + manure + (1 - BIOCHAR_LABILE_FRACTION) * biochar_in) - (
        new.sum(axis=1) + bc_new
    )
    return out, bc_new, co2


def equilibrium(
    maps: list[tuple[float, YearMap]], plant: FloatArray, manure: FloatArray
) -> FloatArray:
    """(N, 4) fixed point of the probability-weighted mean yearly map (cf. RothC's ``weather``)."""
    m = sum(w * ym.m for w, ym in maps)
    u = sum(w * (ym.u_p * plant[:, None] + ym.u_m * manure[:, None]) for w, ym in maps)
    lhs = np.eye(3)[None] - m
    s = np.linalg.solve(lhs, np.asarray(u)[..., None])[..., 0]
    out = np.zeros((s.shape[0], 4))
    out[:, :3] = s
    return out


def plant_for_stock(
    maps: list[tuple[float, YearMap]],
    soc: FloatArray,
    plant_unit: FloatArray,
    manure: FloatArray,
    min_scale: FloatArray,
) -> FloatArray:
    """Inverse mode: the scale ``B`` of ``plant_unit`` whose equilibrium SOC is ``soc``.

    Linear: ``SOC(B) = B·SOC(plant_unit, 0) + SOC(0, manure)``; a target below what the manure
    alone sustains (or needing less than ``min_scale``) gets ``min_scale``.
    """
    zero = np.zeros_like(plant_unit)
    per_unit = equilibrium(maps, plant_unit, zero).sum(axis=1)
    base = equilibrium(maps, zero, manure).sum(axis=1)
    out: FloatArray = np.maximum((soc - base) / per_unit, min_scale)
    return out
