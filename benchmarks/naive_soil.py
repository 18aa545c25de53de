"""Naive RothC-26.3 reference: one farm, one month at a time, pure Python (``math``).

The correctness and speed reference for :mod:`abm.soil.rothc` (DESIGN.md §3): a direct
transcription of the official monthly step (Rothamsted RothC_Py, SCIENCE.md §2) with plain
floats, the way a per-agent implementation would run it. Same inputs as
:func:`abm.soil.rothc.run` (without the extensions); same outputs to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def month(
    pools: list[float],
    iom: float,
    smd: float,
    clay: float,
    depth: float,
    temp: float,
    rain: float,
    evap: float,
    plant_c: float,
    fym: float,
    covered: bool,
    dpm_rpm: float,
) -> tuple[list[float], float, float]:
    """One official RothC month for one farm: returns ``(pools, smd, co2)`` (t C/ha, mm)."""
    # temperature
    a = 0.0 if temp < -5.0 else 47.91 / (math.exp(106.06 / (temp + 18.27)) + 1.0)
    # moisture
    smd_max = -(20.0 + 1.3 * clay - 0.01 * (clay * clay)) * depth / 23.0
    smd_1bar = 0.444 * smd_max
    smd_bare = 0.556 * smd_max
    df = rain - 0.75 * evap
    wet = min(0.0, smd + df)
    smd = max(smd_max, wet) if covered else max(min(smd_bare, smd), wet)
    b = 1.0 if smd > smd_1bar else 0.2 + (1.0 - 0.2) * (smd_max - smd) / (smd_max - smd_1bar)
    # cover
    c = 0.6 if covered else 1.0
    rate = a * b * c
    # decay and partition
    x = 1.67 * (1.85 + 1.60 * math.exp(-0.0786 * clay))
    dpm, rpm, bio, hum = pools
    dpm1 = dpm * math.exp(-rate * 10.0 / 12.0)
    rpm1 = rpm * math.exp(-rate * 0.3 / 12.0)
    bio1 = bio * math.exp(-rate * 0.66 / 12.0)
    hum1 = hum * math.exp(-rate * 0.02 / 12.0)
    d = (dpm - dpm1) + (rpm - rpm1) + (bio - bio1) + (hum - hum1)
    co2 = d * x / (x + 1.0)
    bio1 += d * 0.46 / (x + 1.0)
    hum1 += d * 0.54 / (x + 1.0)
    # inputs at the end of the month
    dpm1 += plant_c * dpm_rpm / (dpm_rpm + 1.0) + 0.49 * fym
    rpm1 += plant_c / (dpm_rpm + 1.0) + 0.49 * fym
    hum1 += 0.02 * fym
    return [dpm1, rpm1, bio1, hum1], smd, co2


def run_naive(
    pools: Sequence[Sequence[float]],
    iom: Sequence[float],
    smd: Sequence[float],
    clay: Sequence[float],
    depth: Sequence[float],
    temp: Sequence[float],
    rain: Sequence[float],
    evap: Sequence[float],
    plant_c: Sequence[Sequence[float]],
    fym: Sequence[Sequence[float]],
    covered: Sequence[Sequence[bool]],
    dpm_rpm: Sequence[float],
) -> tuple[list[list[float]], list[float], list[float]]:
    """Run every farm through every month with :func:`month`.

    Parameters
    ----------
    pools
        Per farm ``[DPM, RPM, BIO, HUM]`` (t C/ha).
    iom, smd, clay, depth, dpm_rpm
        Per farm values.
    temp, rain, evap
        Per month values shared by all farms.
    plant_c, fym, covered
        Per farm, per month.

    Returns
    -------
    pools, smd, co2
        Final pools, final deficit and total CO2-C per farm.
    """
    out_pools: list[list[float]] = []
    out_smd: list[float] = []
    out_co2: list[float] = []
    for f in range(len(pools)):
        p = [float(v) for v in pools[f]]
        s = float(smd[f])
        total = 0.0
        for m in range(len(temp)):
            p, s, co2 = month(
                p,
                float(iom[f]),
                s,
                float(clay[f]),
                float(depth[f]),
                float(temp[m]),
                float(rain[m]),
                float(evap[m]),
                float(plant_c[f][m]),
                float(fym[f][m]),
                bool(covered[f][m]),
                float(dpm_rpm[f]),
            )
            total += co2
        out_pools.append(p)
        out_smd.append(s)
        out_co2.append(total)
    return out_pools, out_smd, out_co2
