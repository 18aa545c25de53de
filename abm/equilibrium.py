"""Saturation and the new equilibrium, tracked on every farm every year (issue 15).

Two questions of the "4 per 1000" initiative — *is the soil near saturation?* and *which new
equilibrium do its practices lead to?* (the Lal 2004 curve) — answered per farm from the state
the model already has. numpy and numba kernels (no Mesa); :func:`observe` is the one door
the model calls.

Saturation (whatever ``soil.saturation`` is)
    The mineral-associated carbon is ``C_MA = BIO + HUM + IOM`` (t C/ha): the RothC pools that
    stand for humified, mineral-bound matter, the same mapping the engine's saturation term
    uses (:mod:`abm.soil.saturation`, after Stewart et al. 2007); DPM and RPM are particulate
    and the biochar pool is pyrogenic, neither is counted. Its capacity comes from Hassink
    (1997) on clay + silt/2 as the < 20 µm fraction and from Georgiou et al. (2022, high-activity
    clays) on clay + silt, both as stocks of the modelled layer with the farm's bulk density and
    depth — the formulas of :func:`abm.soil.saturation.make_saturation`. Both are always
    reported as *diagnostics* (``saturation_ratio_mean_hassink``, ``..._georgiou``); they may
    exceed 1 where today's stocks lie above a formula. The *active* ratio
    (``saturation_ratio_mean``, the share over 90 % and the remaining capacity) uses the
    capacity the engine applies when a cap is on (``farms.capacity``: the formula, lifted to 1.05
    × the start stock where the formula lies below it), so it never exceeds 1; with
    ``saturation = none`` it is the Hassink diagnostic (judgement: Hassink is the older, more
    widely used capacity; Georgiou is reported next to it).

New equilibrium
    The SOC each farm's current drivers (this year's plant and manure inputs, cover, DPM/RPM,
    rate modifiers, irrigation) lead to under this year's climate normals — start normals plus
    ``warming × (year − reference year)`` — is the exact fixed point of RothC
    (:func:`abm.soil.rothc.equilibrium`, the spin-up's solver, per farm, vectorised). With
    weather noise and no cap it is the mean state under the year-to-year weather (the same
    quadrature as the spin-up), so a farm whose management has not changed sits at its
    equilibrium in the first year. IOM is added; the stable biochar pool (mean residence time
    of centuries) is counted at its current stock, not at its far-off equilibrium (judgement: a
    farm still adding biochar keeps gaining beyond the equilibrium shown, progress > 1).
    With ``soil.model = icbm`` the outputs are NaN (ICBM has neither BIO/HUM pools nor RothC's
    fixed point). ``accounting.n_limit`` (where present) slows the gain but leaves the fixed
    point unchanged.
    Progress towards it: ``(SOC − SOC_p) / (SOC_eq − SOC_p)`` with ``SOC_p`` the stock at the
    policy start (end of the year before ``policy.start_year``, or the start stock).

Cost
    Without a cap the fixed point is solved in closed form (:func:`linear_pools`): DPM and RPM
    have scalar fixed points, BIO/HUM a 2×2 one, composed from two unit columns and one run of
    the year from the DPM/RPM fixed point, in one compiled loop over farms
    (:func:`abm.soil.kernels.linear_equilibrium`, no temporaries across farms): the temperature
    modifier per zone, one ``exp`` per farm, month and weather year (the four decay factors are
    its powers, as in the engine's month) — copied from the zone's previous farm where that
    farm's modifier was the same — and the first months whose rates coincide in the three rain
    quantiles of the weather years (wet winters) run once per temperature node. Its results
    equal the former numpy solver's to rounding (< 1e-12 relative; the moisture modifiers bit
    for bit). A farm is solved again only when its drivers or the year's climate changed; its
    moisture, cover and management modifiers (the periodic deficit, compiled too) only when its
    cover, irrigation or rate modifier changed, since the warming offset moves temperature
    alone (:class:`EquilibriumCache`; all exact). With a cap, Newton starts from last year's
    fixed point of the farm and iterates the farms not yet converged only (numpy). Under warming
    every farm's normals move each year, so every farm is composed every year over the nine
    weather years of the quadrature. At 10,000 farms the model year then costs ×1.32 the CPU
    time of one without these outputs (spread of the yearly ratios 0.03; ×1.73 with the numpy
    solver, ×2.55 before that), ×1.19 without warming (0.03; ×1.36; a fifth of the farms change
    drivers each year) and ×2.96 with a Hassink cap (0.18; ×2.88, unchanged: Newton's
    :func:`abm.soil.spinup._sat_year_map` is numpy) (``benchmarks/bench_equilibrium.py``,
    medians of 7 years, on a loaded machine). The goal of +10 % is not reached: the kernel
    takes about 1.2 µs per farm and year (a model year without the outputs about 5 µs), the
    rest is the cache's copies and comparisons of the drivers. Without warming, the farms
    whose inputs alone changed (three in four of those solved) could skip the composition: the
    fixed point is linear in the inputs, with coefficients an adjoint pass would give (not
    done).

References
----------
Lal, R. (2004). Soil carbon sequestration impacts on global climate change and food security.
Science 304:1623–1627. doi:10.1126/science.1097396
Hassink, J. (1997). Plant Soil 191:77–87. doi:10.1023/A:1004213929699
Georgiou, K., et al. (2022). Nat. Commun. 13:3797. doi:10.1038/s41467-022-31540-9
Stewart, C. E., et al. (2007). Biogeochemistry 86:19–31. doi:10.1007/s10533-007-9140-0
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from abm.soil import climate, rothc, spinup
from abm.soil.saturation import Saturation, capacity_georgiou, capacity_hassink

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from abm.model import SoilCarbonModel

FloatArray = NDArray[np.float64]

ENABLED = True
"""Module switch: with False :func:`observe` reports NaN and solves nothing (for the benchmark
and the test that the diagnostics change no other output)."""

NEAR_SATURATION = 0.9
"""A farm counts as near saturation above this ratio (share of its capacity; judgement, the
issue's 90 %; sensitivity 0.8–0.95)."""

MIN_GAP_SHARE = 1e-3
"""Progress is reported only when the equilibrium differs from the policy-start stock by more
than this share of it (landscape means); below, the ratio of two near-zero numbers is noise and
the output is NaN (judgement: 1 ‰ of the stock, about 0.05 t C/ha)."""

COLUMNS: tuple[str, ...] = (
    "saturation_ratio_mean",
    "saturation_ratio_mean_hassink",
    "saturation_ratio_mean_georgiou",
    "share_farms_over_90pct_saturation",
    "remaining_capacity_t",
    "soc_equilibrium_mean_t_ha",
    "equilibrium_progress_mean",
)
"""Timeseries columns this module adds (see :data:`abm.reporters.COLUMNS`)."""

ZONE_COLUMNS: tuple[str, ...] = ("year", "zone", "area_ha", "soc_mean_t_ha", *COLUMNS)
"""Columns of the per-zone table (``zones.parquet``): the same outputs within each zone."""


# --- pure functions --------------------------------------------------------------------------


def mineral_associated(pools: FloatArray, iom: FloatArray) -> FloatArray:
    """Mineral-associated C ``BIO + HUM + IOM`` (t C/ha) from ``(N, 4)`` DPM, RPM, BIO, HUM."""
    out: FloatArray = pools[:, 2] + pools[:, 3] + iom
    return out


def diagnostic_capacities(
    clay: FloatArray, silt: FloatArray, bulk_density: FloatArray, depth: FloatArray
) -> dict[str, FloatArray]:
    """Hassink (clay + silt/2) and Georgiou (clay + silt, high activity) capacities, t C/ha.

    The formulas the engine uses (:func:`abm.soil.saturation.make_saturation`), without the
    lift to today's stocks: what each cap says of the soil.
    """
    silt = np.minimum(silt, 100.0 - clay)
    return {
        "hassink": capacity_hassink(clay + 0.5 * silt, bulk_density, depth),
        "georgiou": capacity_georgiou(clay + silt, bulk_density, depth),
    }


def saturation_ratio(c_ma: FloatArray, capacity: FloatArray) -> FloatArray:
    """``C_MA / C_sat`` per farm (0 where the capacity is infinite)."""
    out: FloatArray = c_ma / capacity
    return out


def remaining_capacity(c_ma: FloatArray, capacity: FloatArray) -> FloatArray:
    """Room left for mineral-associated C, ``max(0, C_sat − C_MA)`` (t C/ha)."""
    out: FloatArray = np.maximum(capacity - c_ma, 0.0)
    return out


def progress(
    soc: FloatArray, soc_policy: FloatArray, soc_eq: FloatArray, area: FloatArray
) -> float:
    """Area-weighted progress from the policy-start stock towards the equilibrium.

    ``Σ a(SOC − SOC_p) / Σ a(SOC_eq − SOC_p)``: the share of the landscape's way to the stock
    its current practices lead to that is already covered (0 at the policy start, → 1 under
    constant management and climate). 0 when the stock is the policy-start stock; NaN when the
    gap is below :data:`MIN_GAP_SHARE` of the policy-start stock otherwise.
    """
    done = float((area * (soc - soc_policy)).sum())
    gap = float((area * (soc_eq - soc_policy)).sum())
    base = float((area * soc_policy).sum())
    if area.size == 0:
        return math.nan
    if done == 0.0:
        return 0.0  # at the policy start nothing of the way is covered, whatever the gap
    if abs(gap) <= MIN_GAP_SHARE * abs(base):
        return math.nan
    return done / gap


DRIVER_FIELDS = ("plant", "fym", "dpm_rpm", "covered", "rate_mod", "irrigation")
"""The fields of :class:`SoilDrivers`: the inputs, then the three that set the rate modifiers."""

RATE_FIELDS = DRIVER_FIELDS[3:]
"""The fields of :class:`SoilDrivers` that set the moisture, cover and management modifiers."""


@dataclass(frozen=True)
class SoilDrivers:
    """One year's per-farm RothC drivers, ``(N, 12)`` each (the fields of
    :class:`abm.resources.Drivers` the equilibrium needs)."""

    plant: FloatArray
    fym: FloatArray
    covered: NDArray[np.bool_]
    dpm_rpm: FloatArray
    rate_mod: FloatArray
    irrigation: FloatArray

    def copy(self) -> SoilDrivers:
        """A copy that later changes to the model's arrays cannot reach."""
        return SoilDrivers(**{f: np.array(getattr(self, f)) for f in DRIVER_FIELDS})

    def rows(self, idx: NDArray[np.intp] | slice) -> SoilDrivers:
        """The drivers of the farms ``idx``."""
        return SoilDrivers(
            plant=self.plant[idx],
            fym=self.fym[idx],
            covered=self.covered[idx],
            dpm_rpm=self.dpm_rpm[idx],
            rate_mod=self.rate_mod[idx],
            irrigation=self.irrigation[idx],
        )


@dataclass(frozen=True)
class YearClimate:
    """The year's climate by zone, and each farm's zone.

    ``months``: ``(3, 12, K, Z)`` temperature (°C), rain (mm) and evaporation (mm) of the ``K``
    weather years the spin-up averages over (``K = 1``, the normals, without weather noise),
    month-major; ``weights``: ``(K,)`` their probabilities; ``normals``: ``(3, Z, 12)`` the
    normals themselves (used with a cap, as in the spin-up); ``zone``: ``(N,)`` zone per farm;
    ``rain_nodes``: the weather years come in runs of this many that differ in rain alone
    (``k = t·rain_nodes + r``).
    """

    months: FloatArray
    weights: FloatArray
    normals: FloatArray
    zone: NDArray[np.intp]
    rain_nodes: int = 1

    def rows(self, idx: NDArray[np.intp] | slice) -> YearClimate:
        """The climate of the farms ``idx``."""
        return replace(self, zone=self.zone[idx])

    def _normals(self, i: int) -> FloatArray:
        out: FloatArray = self.normals[i][self.zone]
        return out

    @property
    def temp(self) -> FloatArray:
        """``(N, 12)`` normals' temperature per farm (°C)."""
        return self._normals(0)

    @property
    def rain(self) -> FloatArray:
        """``(N, 12)`` normals' rain per farm (mm)."""
        return self._normals(1)

    @property
    def evap(self) -> FloatArray:
        """``(N, 12)`` normals' open-pan evaporation per farm (mm)."""
        return self._normals(2)

    @property
    def weather(self) -> rothc.Weather | None:
        """The weather years per farm, as :func:`abm.soil.rothc.equilibrium` takes them."""
        if self.weights.size == 1:
            return None
        t, r, e = (np.moveaxis(self.months[i], 0, -1)[:, self.zone] for i in range(3))
        return rothc.Weather(temp=t, rain=r, evap=e, weights=self.weights)


def equilibrium_soc(
    iom: FloatArray,
    clay: FloatArray,
    depth: FloatArray,
    clim: YearClimate,
    d: SoilDrivers,
    saturation: Saturation | None = None,
    moisture: FloatArray | None = None,
) -> FloatArray:
    """SOC (t C/ha) at the RothC fixed point of the drivers ``d`` under ``clim``, IOM included.

    Without a cap: the fixed point of the weather years' mean annual map when
    ``clim.weather`` is given (of the normals' map otherwise), by :func:`linear_pools`,
    the same maths as :func:`abm.soil.rothc.equilibrium` in a form many times faster;
    ``moisture`` is :func:`moisture_modifiers` of these farms when already known. With a cap:
    :func:`abm.soil.rothc.equilibrium` itself (Newton on the non-linear map, normals, as in
    the spin-up).
    """
    if iom.size == 0:
        return np.zeros(0)
    if saturation is None:
        g = moisture_modifiers(clay, depth, clim, d) if moisture is None else moisture
        out: FloatArray = linear_pools(clay, clim, d, g).sum(axis=1) + iom
        return out
    pools = capped_pools(iom, clay, depth, clim, d, saturation)
    out = pools.sum(axis=1) + iom
    return out


def capped_pools(
    iom: FloatArray,
    clay: FloatArray,
    depth: FloatArray,
    clim: YearClimate,
    d: SoilDrivers,
    saturation: Saturation,
    start: FloatArray | None = None,
) -> FloatArray:
    """``(N, 4)`` DPM, RPM, BIO, HUM at the capped fixed point (the normals, as the spin-up).

    Newton's method of :func:`abm.soil.rothc.equilibrium`, to the same annual residual
    (< 1e-12 t C/ha). Without ``start`` it is that function itself (started below the
    capacity); with ``start`` — last year's fixed point of the same farms, usually close —
    Newton starts there, which skips the linear composition that only gives the cold start
    and most of the iterations; should it fail, the cold start is used.
    """
    if start is None:
        pools, _ = rothc.equilibrium(
            iom,
            clay,
            depth,
            clim.temp,
            clim.rain + d.irrigation,
            clim.evap,
            d.plant,
            d.fym,
            d.covered,
            d.dpm_rpm,
            rate_mod=d.rate_mod,
            saturation=saturation,
        )
        return pools
    y = spinup._year(
        iom,
        clay,
        depth,
        clim.temp,
        clim.rain + d.irrigation,
        clim.evap,
        d.plant,
        d.fym,
        d.covered,
        d.dpm_rpm,
        d.rate_mod,
    )
    rate = spinup._rates(y, spinup._periodic_smd(y)[1])
    up, uf = spinup._input_vectors(y)
    cap = np.array(np.broadcast_to(saturation.capacity, iom.shape), dtype=float)
    try:
        out: FloatArray = spinup._sat_equilibrium(y, rate, cap, up + uf, start)
    except RuntimeError:  # pragma: no cover - a safeguard; the cold start is the spin-up's
        return capped_pools(iom, clay, depth, clim, d, saturation)
    return out


def moisture_modifiers(
    clay: FloatArray, depth: FloatArray, clim: YearClimate, d: SoilDrivers
) -> FloatArray:
    """``(N, K, 12)`` the RothC rate modifiers other than temperature, ``b·c·rate_mod``.

    ``b`` follows the periodic moisture deficit, cycled from 0 in January until its December
    value repeats exactly, as in :func:`abm.soil.rothc.equilibrium` (same equations, compiled:
    :func:`abm.soil.kernels.moisture_modifiers`). Rain and evaporation do not move with the
    warming offset (:func:`year_climate`), so a farm's modifiers stay valid as long as its
    cover, irrigation and rate modifier do (:class:`EquilibriumCache`).
    """
    from abm.soil import kernels

    out: FloatArray = np.empty((clay.size, clim.months.shape[2], 12))
    smd_max, smd_1bar, smd_bare = rothc._smd_limits(clay, depth)
    rain, evap = (np.ascontiguousarray(clim.months[i].transpose(2, 1, 0)) for i in (1, 2))
    kernels.moisture_modifiers(
        rain,
        evap,
        np.ascontiguousarray(clim.zone, dtype=np.intp),
        np.ascontiguousarray(d.irrigation, dtype=float),
        np.ascontiguousarray(d.covered, dtype=np.bool_),
        np.ascontiguousarray(d.rate_mod, dtype=float),
        smd_max,
        smd_1bar,
        smd_bare,
        out,
    )
    return out


def linear_pools(
    clay: FloatArray, clim: YearClimate, d: SoilDrivers, moisture: FloatArray
) -> FloatArray:
    """``(N, 4)`` DPM, RPM, BIO, HUM at the fixed point of the (weather-mean) annual map.

    ``moisture``: ``(N, K, 12)`` :func:`moisture_modifiers`. RothC's month is
    ``P ← diag(e)·P + f·Σ(1 − e)·P + u`` with ``f = (0, 0, fb, fh)``, so the annual map is
    block-triangular: DPM and RPM decay on their own, and their fixed points are scalar
    (``x = ū/(1 − ā)``, the bars the weather years' means). BIO and HUM then see DPM and RPM
    only through what those pass on, so the year is run once from ``(x_DPM, x_RPM, 0, 0)``
    with the inputs (the affine part of the BIO/HUM map at that point) next to the two unit
    columns of the BIO/HUM block; the 2×2 fixed point follows by Cramer's rule. Same maths as
    :func:`abm.soil.rothc.equilibrium`, equal to rounding (tested to 1e-11 relative). One
    compiled loop over farms (:func:`abm.soil.kernels.linear_equilibrium`): the temperature
    modifier is computed per zone, the decay factors per farm with numba's ``exp``, and the
    first months in which the weather years that differ in rain alone (runs of
    ``clim.rain_nodes``) have the same rates — wet winters, a full soil — once per run.
    """
    from abm.soil import kernels

    x = rothc.co2_ratio(clay)
    fb = rothc.BIO_SHARE / (x + 1.0)
    fh = rothc.HUM_SHARE / (x + 1.0)
    ratio, plant, fym = d.dpm_rpm, d.plant, d.fym
    split = rothc.FYM_SPLIT
    temp_a = rothc.rate_temperature(clim.months[0]).transpose(2, 1, 0)  # (Z, K, 12)
    out: FloatArray = np.empty((clay.size, 4))
    kernels.linear_equilibrium(
        np.ascontiguousarray(temp_a),
        np.ascontiguousarray(clim.zone, dtype=np.intp),
        np.ascontiguousarray(moisture),
        np.ascontiguousarray(clim.weights, dtype=float),
        rothc.K_HUM * rothc.DT,
        fb,
        fh,
        plant * ratio / (ratio + 1.0) + split[0] * fym,
        plant / (ratio + 1.0) + split[1] * fym,
        split[2] * fym,
        clim.rain_nodes,
        out,
    )
    return out


@dataclass
class EquilibriumCache:
    """Solve only for the farms whose drivers (or the year's climate) changed since last time.

    A farm's fixed point depends on its own row alone, so re-solving a subset gives the same
    numbers as solving all farms. The moisture, cover and management rate modifiers
    (:func:`moisture_modifiers`) are kept too: the warming offset moves temperature alone, so
    they are recomputed only for the farms whose cover, irrigation or rate modifier changed
    (or all of them when the weather years' rain or evaporation change).
    """

    drivers: SoilDrivers | None = None
    climate_key: float = math.nan
    soc_eq: FloatArray | None = None
    moisture: FloatArray | None = None
    """``(N, K, 12)`` :func:`moisture_modifiers` of ``drivers`` under ``water``."""
    pools: FloatArray | None = None
    """``(N, 4)`` the capped fixed points (Newton's start next year; NaN where unknown)."""
    water: FloatArray | None = None
    """``(2, 12, K, Z)`` the rain and evaporation ``moisture`` was computed with."""
    solved_rows: int = 0
    """Farm solves done so far (for the benchmark and the tests)."""
    moisture_rows: int = 0
    """Farms whose moisture modifiers were computed so far (for the benchmark and the tests)."""

    def solve(
        self,
        iom: FloatArray,
        clay: FloatArray,
        depth: FloatArray,
        clim: YearClimate,
        climate_key: float,
        d: SoilDrivers,
        saturation: Saturation | None,
    ) -> FloatArray:
        """The equilibrium SOC of every farm, re-solving the changed rows only."""
        d = d.copy()
        changed = _changed(self.drivers, d, RATE_FIELDS)
        if self.soc_eq is None or changed is None or climate_key != self.climate_key:
            idx = np.arange(iom.size)
            soc_eq = np.empty(iom.size)
        else:  # the inputs are compared only when the climate stayed
            inputs = _changed(self.drivers, d, DRIVER_FIELDS[:3])
            idx = np.flatnonzero(changed if inputs is None else changed | inputs)
            soc_eq = self.soc_eq.copy()
        if idx.size and saturation is not None:
            soc_eq[idx] = self._capped(iom, clay, depth, clim, d, saturation, idx)
        elif idx.size:
            g = self._moisture(clay, depth, clim, d, changed)
            rows = _rows(idx, iom.size)
            soc_eq[rows] = equilibrium_soc(
                iom[rows], clay[rows], depth[rows], clim.rows(rows), d.rows(rows), moisture=g[rows]
            )
        self.drivers, self.climate_key, self.soc_eq = d, climate_key, soc_eq
        self.solved_rows += int(idx.size)
        return soc_eq

    def _capped(
        self,
        iom: FloatArray,
        clay: FloatArray,
        depth: FloatArray,
        clim: YearClimate,
        d: SoilDrivers,
        saturation: Saturation,
        idx: NDArray[np.intp],
    ) -> FloatArray:
        """SOC at the capped fixed point of the farms ``idx``, Newton started from last year's
        pools where known."""
        cap = np.broadcast_to(saturation.capacity, iom.shape)[idx]
        pools = self.pools
        if pools is None or pools.shape[0] != iom.size:
            pools = np.full((iom.size, 4), np.nan)
        warm = ~np.isnan(pools[idx, 0])
        new = np.empty((idx.size, 4))
        for sel, start in ((warm, pools[idx[warm]]), (~warm, None)):
            if sel.any():
                rows = idx[sel]
                sat = Saturation(saturation.kind, capacity=cap[sel])
                new[sel] = capped_pools(
                    iom[rows], clay[rows], depth[rows], clim.rows(rows), d.rows(rows), sat, start
                )
        pools[idx] = new
        self.pools = pools
        out: FloatArray = new.sum(axis=1) + iom[idx]
        return out

    def _moisture(
        self,
        clay: FloatArray,
        depth: FloatArray,
        clim: YearClimate,
        d: SoilDrivers,
        changed: NDArray[np.bool_] | None,
    ) -> FloatArray:
        """Every farm's moisture modifiers, recomputed where cover, irrigation, rate modifier
        or the weather years' water changed."""
        water = clim.months[1:]
        g = self.moisture
        same_water = self.water is not None and np.array_equal(water, self.water)
        if g is None or changed is None or not same_water:
            idx = np.arange(clay.size)
            g = np.empty((clay.size, clim.months.shape[2], 12))
        else:
            idx = np.flatnonzero(changed)
        rows = _rows(idx, clay.size)
        if idx.size:
            g[rows] = moisture_modifiers(clay[rows], depth[rows], clim.rows(rows), d.rows(rows))
        self.moisture, self.water = g, water.copy()
        self.moisture_rows += int(idx.size)
        return g


def _rows(idx: NDArray[np.intp], n: int) -> NDArray[np.intp] | slice:
    """``idx``, or a slice when it is every one of ``n`` farms in order (views, not copies)."""
    return slice(None) if idx.size == n else idx


def _changed(
    old: SoilDrivers | None, new: SoilDrivers, names: tuple[str, ...]
) -> NDArray[np.bool_] | None:
    """``(N,)`` the farms whose row of any of the fields ``names`` changed (None: no old)."""
    if old is None or old.plant.shape != new.plant.shape:
        return None
    out = np.zeros(new.plant.shape[0], dtype=bool)
    for f in names:
        out |= (getattr(old, f) != getattr(new, f)).any(axis=1)
    return out


# --- the model's door ------------------------------------------------------------------------


def year_climate(
    zone_names: list[str],
    zone: NDArray[np.intp],
    offset_c: float,
    temp_noise_sd: float,
    rain_cv: float,
) -> YearClimate:
    """This year's climate: start normals + ``offset_c`` °C, with the spin-up's weather years.

    The weather years are those of :func:`abm.landscape.start_weather` (the quadrature of the
    year-to-year noise, :func:`abm.soil.climate.weather_quadrature`) at this year's offset;
    without weather noise, the normals alone (:func:`abm.landscape.zone_normals`).
    """
    from abm.landscape import zone_normals

    normals = np.stack(zone_normals(zone_names, offset_c))  # (3, Z, 12)
    if temp_noise_sd == 0 and rain_cv == 0:
        months = np.moveaxis(normals, -1, 1)[:, :, None, :]  # (3, 12, 1, Z)
        return YearClimate(np.ascontiguousarray(months), np.ones(1), normals, zone)
    base, weights = _quadrature(tuple(zone_names), temp_noise_sd, rain_cv)
    months = base.copy()
    months[0] += offset_c  # as weather_quadrature(offset_c=...): the offset moves temperature
    rain_nodes = 3 if rain_cv > 0 and weights.size % 3 == 0 else 1  # its 3 rain quantiles
    return YearClimate(months, weights, normals, zone, rain_nodes)


@functools.lru_cache(maxsize=8)
def _quadrature(
    zone_names: tuple[str, ...], temp_noise_sd: float, rain_cv: float
) -> tuple[FloatArray, FloatArray]:
    """``(3, 12, K, Z)`` the weather years of the zones at offset 0, and their weights (kept
    from year to year: the offset only adds to the temperature)."""
    per_zone = [
        climate.weather_quadrature(z, temp_noise_sd=temp_noise_sd, rain_cv=rain_cv)
        for z in zone_names
    ]
    stacked = np.stack([np.stack(q[:3]) for q in per_zone], axis=-1)  # (3, K, 12, Z)
    months = np.ascontiguousarray(stacked.transpose(0, 2, 1, 3))  # (3, 12, K, Z)
    weights = np.asarray(per_zone[0][3], dtype=float)
    months.setflags(write=False)
    weights.setflags(write=False)
    return months, weights


@dataclass
class Tracker:
    """What the outputs need from one year to the next: the cache, the policy-start stock, the
    diagnostic capacities and the per-zone rows written so far."""

    soc_policy: FloatArray
    caps: dict[str, FloatArray]
    cache: EquilibriumCache = field(default_factory=EquilibriumCache)
    zone_rows: list[dict[str, Any]] = field(default_factory=list)


def _tracker(model: SoilCarbonModel) -> Tracker:
    t: Tracker | None = getattr(model, "_equilibrium_tracker", None)
    if t is None:
        f = model.farms
        caps = diagnostic_capacities(f.clay, f.silt, f.bulk_density, f.depth)
        t = Tracker(soc_policy=np.asarray(model.soc_start, dtype=float).copy(), caps=caps)
        model._equilibrium_tracker = t
    return t


def _summary(
    area: FloatArray,
    c_ma: FloatArray,
    caps: dict[str, FloatArray],
    active: FloatArray,
    soc: FloatArray,
    soc_eq: FloatArray,
    soc_p: FloatArray,
) -> dict[str, float]:
    """The outputs of a set of farms (the landscape or one zone)."""
    total = float(area.sum())

    def mean(x: FloatArray) -> float:
        return float((area * x).sum() / total) if total > 0 else math.nan

    ratio = saturation_ratio(c_ma, active)
    return {
        "saturation_ratio_mean": mean(ratio),
        "saturation_ratio_mean_hassink": mean(saturation_ratio(c_ma, caps["hassink"])),
        "saturation_ratio_mean_georgiou": mean(saturation_ratio(c_ma, caps["georgiou"])),
        "share_farms_over_90pct_saturation": float((ratio > NEAR_SATURATION).mean())
        if area.size
        else math.nan,
        "remaining_capacity_t": float((area * remaining_capacity(c_ma, active)).sum()),
        "soc_equilibrium_mean_t_ha": mean(soc_eq),
        "equilibrium_progress_mean": progress(soc, soc_p, soc_eq, area),
    }


def observe(model: SoilCarbonModel) -> dict[str, float]:
    """This year's saturation and equilibrium outputs (:data:`COLUMNS`), per-zone rows kept.

    Called by :meth:`abm.model.SoilCarbonModel.observe` after the soil update; reads the
    farms, the year's drivers (``model._last_drivers``) and the saturation option.
    """
    if not ENABLED or getattr(model.params.soil, "model", "rothc") != "rothc":
        return dict.fromkeys(COLUMNS, math.nan)  # ICBM has no BIO/HUM and its own fixed point
    t = _tracker(model)
    f = model.farms
    p = model.params
    soc = f.soc()
    if model.year == p.policy.start_year - 1:
        t.soc_policy = soc.copy()
    d = model._last_drivers
    drivers = SoilDrivers(d.plant, d.fym, d.covered, d.dpm_rpm, d.rate_mod, d.irrigation)
    c = p.climate
    offset = c.warming_c_per_yr * (model.year - c.reference_year)
    clim = year_climate(model.zone_names, f.zone, offset, c.temp_noise_sd, c.rain_cv)
    soc_eq = t.cache.solve(f.iom, f.clay, f.depth, clim, offset, drivers, model.saturation)
    soc_eq = soc_eq + f.biochar
    c_ma = mineral_associated(f.pools, f.iom)
    active = f.capacity if model.saturation is not None else t.caps["hassink"]
    out = _summary(f.area, c_ma, t.caps, active, soc, soc_eq, t.soc_policy)
    for z, name in enumerate(model.zone_names):
        m = f.zone == z
        caps = {k: v[m] for k, v in t.caps.items()}
        row = _summary(f.area[m], c_ma[m], caps, active[m], soc[m], soc_eq[m], t.soc_policy[m])
        area = float(f.area[m].sum())
        soc_mean = float((f.area[m] * soc[m]).sum() / area) if area > 0 else math.nan
        t.zone_rows.append(
            {"year": model.year, "zone": name, "area_ha": area, "soc_mean_t_ha": soc_mean, **row}
        )
    return out


def zone_frame(model: SoilCarbonModel) -> pd.DataFrame:
    """The per-zone table of a run so far: :data:`ZONE_COLUMNS`, one row per year and zone."""
    import pandas as pd

    t: Tracker | None = getattr(model, "_equilibrium_tracker", None)
    rows = [] if t is None else t.zone_rows
    frame = pd.DataFrame(rows, columns=list(ZONE_COLUMNS))
    frame["year"] = frame["year"].astype("int64")
    return frame
