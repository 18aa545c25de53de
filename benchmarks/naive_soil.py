"""Naive RothC-26.3 reference: one farm, one month at a time, pure Python (``math``).

The correctness and speed reference for :mod:`abm.soil.rothc` (DESIGN.md §3): the way a
per-agent implementation would run the soil — each farm object steps its own pools month by
month. The month is a direct transcription of the official Rothamsted ``RothC_Py`` routines
(``RMF_Tmp``, ``RMF_Moist``, ``RMF_PC``, ``decomp``; SCIENCE.md §2) with plain floats, without
the radiocarbon bookkeeping (which :mod:`abm.soil.rothc` does not model either). Same inputs as
:func:`abm.soil.rothc.run` without its extensions; same outputs to rounding (~1e-13).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DPM_K = 10.0
RPM_K = 0.3
BIO_K = 0.66
HUM_K = 0.02


def rmf_tmp(temp: float) -> float:
    """Temperature rate modifier (official ``RMF_Tmp``)."""
    if temp < -5.0:
        return 0.0
    return 47.91 / (math.exp(106.06 / (temp + 18.27)) + 1.0)


def rmf_moist(
    rain: float, pevap: float, clay: float, depth: float, pc: int, swc: float
) -> tuple[float, float]:
    """Moisture rate modifier and the new deficit (official ``RMF_Moist``)."""
    rmf_max = 1.0
    rmf_min = 0.2
    smd_max = -(20 + 1.3 * clay - 0.01 * (clay * clay))
    smd_max_adj = smd_max * depth / 23.0
    smd_1bar = 0.444 * smd_max_adj
    smd_bare = 0.556 * smd_max_adj
    df = rain - 0.75 * pevap
    min_swc_df = min(0.0, swc + df)
    min_smd_bare_swc = min(smd_bare, swc)
    swc = max(smd_max_adj, min_swc_df) if pc == 1 else max(min_smd_bare_swc, min_swc_df)
    if swc > smd_1bar:
        rm_moist = 1.0
    else:
        rm_moist = rmf_min + (rmf_max - rmf_min) * (smd_max_adj - swc) / (smd_max_adj - smd_1bar)
    return rm_moist, swc


def rmf_pc(pc: int) -> float:
    """Plant-cover rate modifier (official ``RMF_PC``)."""
    return 1.0 if pc == 0 else 0.6


@dataclass
class Farm:
    """One farm's soil state (t C/ha, mm) as a per-agent model would hold it."""

    dpm: float
    rpm: float
    bio: float
    hum: float
    iom: float
    clay: float
    depth: float
    swc: float = 0.0
    co2: float = 0.0

    def decomp(self, rate_m: float, c_inp: float, fym_inp: float, dpm_rpm: float) -> None:
        """Decomposition, partition and inputs of one month (official ``decomp``)."""
        tstep = 1.0 / 12.0
        dpm1 = self.dpm * math.exp(-rate_m * DPM_K * tstep)
        rpm1 = self.rpm * math.exp(-rate_m * RPM_K * tstep)
        bio1 = self.bio * math.exp(-rate_m * BIO_K * tstep)
        hum1 = self.hum * math.exp(-rate_m * HUM_K * tstep)
        dpm_d = self.dpm - dpm1
        rpm_d = self.rpm - rpm1
        bio_d = self.bio - bio1
        hum_d = self.hum - hum1
        x = 1.67 * (1.85 + 1.60 * math.exp(-0.0786 * self.clay))
        dpm_co2 = dpm_d * (x / (x + 1))
        dpm_bio = dpm_d * (0.46 / (x + 1))
        dpm_hum = dpm_d * (0.54 / (x + 1))
        rpm_co2 = rpm_d * (x / (x + 1))
        rpm_bio = rpm_d * (0.46 / (x + 1))
        rpm_hum = rpm_d * (0.54 / (x + 1))
        bio_co2 = bio_d * (x / (x + 1))
        bio_bio = bio_d * (0.46 / (x + 1))
        bio_hum = bio_d * (0.54 / (x + 1))
        hum_co2 = hum_d * (x / (x + 1))
        hum_bio = hum_d * (0.46 / (x + 1))
        hum_hum = hum_d * (0.54 / (x + 1))
        self.dpm = dpm1
        self.rpm = rpm1
        self.bio = bio1 + dpm_bio + rpm_bio + bio_bio + hum_bio
        self.hum = hum1 + dpm_hum + rpm_hum + bio_hum + hum_hum
        self.co2 += dpm_co2 + rpm_co2 + bio_co2 + hum_co2
        self.dpm += dpm_rpm / (dpm_rpm + 1.0) * c_inp + 0.49 * fym_inp
        self.rpm += 1.0 / (dpm_rpm + 1.0) * c_inp + 0.49 * fym_inp
        self.hum += 0.02 * fym_inp

    def month(
        self,
        temp: float,
        rain: float,
        pevap: float,
        pc: int,
        dpm_rpm: float,
        c_inp: float,
        fym_inp: float,
    ) -> None:
        """One official RothC month (``RothC``): modifiers, then ``decomp``."""
        rm_tmp = rmf_tmp(temp)
        rm_moist, self.swc = rmf_moist(rain, pevap, self.clay, self.depth, pc, self.swc)
        rm_pc = rmf_pc(pc)
        self.decomp(rm_tmp * rm_moist * rm_pc, c_inp, fym_inp, dpm_rpm)


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
    """Step every farm through every month, one farm and one month at a time.

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
    farms = [
        Farm(
            *(float(v) for v in pools[f]),
            iom=float(iom[f]),
            clay=float(clay[f]),
            depth=float(depth[f]),
            swc=float(smd[f]),
        )
        for f in range(len(pools))
    ]
    for f, farm in enumerate(farms):
        for m in range(len(temp)):
            farm.month(
                float(temp[m]),
                float(rain[m]),
                float(evap[m]),
                1 if covered[f][m] else 0,
                float(dpm_rpm[f]),
                float(plant_c[f][m]),
                float(fym[f][m]),
            )
    return (
        [[farm.dpm, farm.rpm, farm.bio, farm.hum] for farm in farms],
        [farm.swc for farm in farms],
        [farm.co2 for farm in farms],
    )
