"""The farm landscape as arrays, and how practices turn into RothC drivers (no Mesa).

:func:`build_farms` draws zones, systems, areas and soils, then sets every farm's plant input by
RothC's inverse mode so that its equilibrium reproduces its drawn SOC stock, and starts its pools
at that equilibrium (DESIGN.md §4). :func:`soil_drivers` maps the (N, P) practice matrix to the
(N, 12) monthly drivers of :func:`abm.soil.rothc.run` with matrix products.

Baseline management by production system (judgement, documented here once):

* arable: all plant C enters in August at harvest (as in the official RothC example); soil bare
  in September and October; no own manure.
* grassland (livestock): plant C spread evenly April–November; always covered; own manure
  0.3 t C/ha/yr in March (recycled on the farm, so *not* imported: range 0–1).
* mixed: half of each plant pattern; bare in September; own manure 0.2 t C/ha/yr (range 0–1).

The DPM/RPM ratio of crop and improved-grassland input is 1.44 (Coleman & Jenkinson, RothC-26.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abm.network import assign_ties
from abm.practices import CATALOGUE, PRACTICE_IDS, SYSTEMS
from abm.scenario import Params
from abm.soil import climate, rothc
from abm.soil.saturation import Saturation, make_saturation

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

DPM_RPM_CROP = 1.44
"""DPM/RPM ratio of agricultural crops and improved grassland (RothC-26.3)."""

_PATTERN = np.zeros((3, 12))
_PATTERN[0, 7] = 1.0
_PATTERN[1, 3:11] = 1.0 / 8.0
_PATTERN[2] = 0.5 * _PATTERN[0] + 0.5 * _PATTERN[1]
SYSTEM_INPUT_PATTERN = _PATTERN
"""(3, 12) share of the yearly plant input entering each month, per system."""

_BARE = np.zeros((3, 12), dtype=bool)
_BARE[0, 8:10] = True
_BARE[2, 8] = True
SYSTEM_BARE = _BARE
"""(3, 12) months with bare soil, per system."""

OWN_MANURE_T_C_HA_YR = np.array([0.0, 0.3, 0.2])
"""Own (recycled) manure per system, t C/ha/yr, applied in March (judgement, range 0–1)."""

IRRIGATION_MONTHS = tuple(range(3, 9))
"""Irrigation season April–September (northern-hemisphere calendar)."""


@dataclass
class Farms:
    """All farm state, one row per farm (the model owns it; agents view their row)."""

    zone: IntArray
    system: IntArray
    gov: IntArray
    ngo: IntArray
    business: IntArray
    area: FloatArray
    clay: FloatArray
    silt: FloatArray
    depth: FloatArray
    bulk_density: FloatArray
    iom: FloatArray
    soc0: FloatArray
    capacity: FloatArray
    pools: FloatArray
    smd: FloatArray
    biochar: FloatArray
    tracer: FloatArray
    base_plant: FloatArray
    base_fym: FloatArray
    base_bare: BoolArray
    eligible: BoolArray
    adopted: BoolArray
    years: FloatArray
    knowledge: FloatArray
    attitude: FloatArray
    risk_aversion: FloatArray
    trust: FloatArray
    last_paid: FloatArray
    contract: BoolArray
    enrolled_last: BoolArray
    inset_last: BoolArray
    inset_now: BoolArray
    measured_dsoc: FloatArray
    dsoc_last: FloatArray
    abandoned: BoolArray
    # ---- behaviour and schemes (issue 8) -------------------------------------------------
    area_share: FloatArray
    """(N, P) share of the farm's area under each practice, 0-1 (0 when not used)."""
    cost_dev_eur_per_ha: FloatArray
    """(N, P) the farm's persistent deviation from the practice's net cost, EUR/ha/yr."""
    dseq_last: FloatArray
    """(N,) sequestration part of last year's SOC change, t C/ha/yr (imported C excluded)."""
    prior_share: FloatArray
    """(N, P) area share when the scheme started (payments on it are not additional)."""
    enrolled: BoolArray
    """(N,) in a result-based carbon contract this year."""
    contract_left: FloatArray
    """(N,) years left in the carbon contract."""
    carbon_balance_t: FloatArray
    """(N,) negative verified balance carried forward, t CO2e (<= 0)."""
    findings: FloatArray
    """(N,) conditionality findings of non-compliance so far."""
    open_to_schemes: BoolArray
    """(N,) the farm takes voluntary payments and contracts (drawn once)."""

    @property
    def n(self) -> int:
        """Number of farms."""
        return int(self.zone.size)

    def soc(self) -> FloatArray:
        """SOC of the modelled layer per farm, t C/ha (active pools + IOM + biochar)."""
        out: FloatArray = self.pools.sum(axis=1) + self.iom + self.biochar
        return out


@dataclass
class PracticeDrivers:
    """(P, 12) monthly driver changes per practice, plus per-practice scalars."""

    plant: FloatArray
    plant_dpm: FloatArray
    fym: FloatArray
    biochar: FloatArray
    irrigation: FloatArray
    log_rate_mod: FloatArray
    covers: BoolArray
    _table: CombinationTable | None = None

    def table(self) -> CombinationTable:
        """Driver changes of every combination of practices, indexed by :func:`combination_code`."""
        if self._table is None:
            n_p = self.plant.shape[0]
            combos = ((np.arange(2**n_p)[:, None] >> np.arange(n_p)) & 1).astype(float)
            self._table = CombinationTable(
                plant=combos @ self.plant,
                plant_dpm=combos @ self.plant_dpm,
                fym=combos @ self.fym,
                biochar=combos @ self.biochar,
                irrigation=combos @ self.irrigation,
                rate_mod=np.exp(combos @ self.log_rate_mod),
                covers=(combos @ self.covers.astype(float)) > 0,
            )
        return self._table


@dataclass
class CombinationTable:
    """(2^P, 12) monthly driver changes (and (2^P,) scalars) for every set of practices."""

    plant: FloatArray
    plant_dpm: FloatArray
    fym: FloatArray
    biochar: FloatArray
    irrigation: FloatArray
    rate_mod: FloatArray
    covers: BoolArray


def practice_drivers(params: Params) -> PracticeDrivers:
    """Monthly driver changes of every practice from the parameters and the catalogue."""
    n_p = len(PRACTICE_IDS)
    plant = np.zeros((n_p, 12))
    plant_dpm = np.zeros((n_p, 12))
    fym = np.zeros((n_p, 12))
    bc = np.zeros((n_p, 12))
    irr = np.zeros((n_p, 12))
    log_rm = np.zeros(n_p)
    covers = np.zeros(n_p, dtype=bool)
    for k, pid in enumerate(PRACTICE_IDS):
        spec = CATALOGUE[pid]
        pp = getattr(params.practices, pid)
        months = list(spec.input_months)
        share = 1.0 / len(months)
        ratio = spec.dpm_rpm if spec.dpm_rpm is not None else DPM_RPM_CROP
        plant[k, months] = pp.extra_input_t_c_ha_yr * share
        plant_dpm[k, months] = pp.extra_input_t_c_ha_yr * share * ratio / (1.0 + ratio)
        fym[k, months] = pp.fym_t_c_ha_yr * share
        bc[k, months] = pp.biochar_t_c_ha_yr * share
        irr[k, list(IRRIGATION_MONTHS)] = pp.irrigation_mm_yr / len(IRRIGATION_MONTHS)
        log_rm[k] = np.log(pp.rate_modifier)
        covers[k] = spec.covers_bare_months
    return PracticeDrivers(plant, plant_dpm, fym, bc, irr, log_rm, covers)


@dataclass
class SoilDrivers:
    """(N, 12) monthly RothC drivers for one year."""

    plant: FloatArray
    dpm_rpm: FloatArray
    fym: FloatArray
    fym_imported: FloatArray
    biochar: FloatArray
    irrigation: FloatArray
    covered: BoolArray
    rate_mod: FloatArray


def combination_code(adopted: BoolArray) -> IntArray:
    """Integer code of each farm's set of practices (bit ``p`` set when practice ``p`` is used)."""
    weights = np.left_shift(1, np.arange(adopted.shape[1], dtype=np.int64))
    code: IntArray = (adopted * weights).sum(axis=1)
    return code


def soil_drivers(
    base_plant: FloatArray,
    base_fym: FloatArray,
    base_bare: BoolArray,
    adopted: BoolArray,
    pd: PracticeDrivers,
) -> SoilDrivers:
    """Turn practice use (N, P) into monthly drivers.

    ``base_plant``, ``base_fym`` (t C/ha/month) and ``base_bare`` are the (N, 12) conventional
    management of each farm (:class:`Farms`). The effect of every combination of practices is
    tabulated once (:meth:`PracticeDrivers.table`, 2^P rows) and each farm looks its
    combination up: no matrix product (and no BLAS thread pool) in the yearly path.
    """
    t = pd.table()
    code = combination_code(adopted)
    plant = base_plant + t.plant[code]
    dpm = base_plant * (DPM_RPM_CROP / (1.0 + DPM_RPM_CROP)) + t.plant_dpm[code]
    rpm = plant - dpm
    dpm_rpm = np.divide(dpm, rpm, out=np.full_like(plant, DPM_RPM_CROP), where=rpm > 1e-12)
    fym_imp = t.fym[code]
    covered = ~(base_bare & ~t.covers[code][:, None])
    return SoilDrivers(
        plant=plant,
        dpm_rpm=dpm_rpm,
        fym=base_fym + fym_imp,
        fym_imported=fym_imp,
        biochar=t.biochar[code],
        irrigation=t.irrigation[code],
        covered=covered,
        rate_mod=t.rate_mod[code],
    )


def zone_list(params: Params) -> list[str]:
    """Zones with a positive share, in :data:`abm.scenario.ZONE_IDS` order."""
    from abm.scenario import ZONE_IDS

    return [z for z in ZONE_IDS if params.landscape.zone_shares.get(z, 0.0) > 0]


def zone_normals(names: list[str], offset_c: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(Z, 12) temperature (+ offset), rain and evaporation normals of the zones."""
    zs = [climate.ZONES[z] for z in names]
    temp = np.array([z.temp12 for z in zs]) + offset_c
    rain = np.array([z.rain12 for z in zs])
    evap = np.array([z.evap12 for z in zs])
    return temp, rain, evap


def _normalised(shares: dict[str, float], keys: list[str] | tuple[str, ...]) -> FloatArray:
    p = np.array([max(shares.get(k, 0.0), 0.0) for k in keys], dtype=float)
    out: FloatArray = p / p.sum()
    return out


def build_farms(
    params: Params, rng: np.random.Generator, *, n_ngos: int, n_businesses: int
) -> Farms:
    """Draw the landscape and set every farm's soil at equilibrium with its drawn SOC stock."""
    n = params.n_farms
    land = params.landscape
    names = zone_list(params)
    zone = rng.choice(len(names), n, p=_normalised(land.zone_shares, names)).astype(np.int64)
    system = rng.choice(3, n, p=_normalised(land.system_shares, SYSTEMS)).astype(np.int64)
    area = land.farm_area_ha_median * np.exp(land.farm_area_log_sd * rng.standard_normal(n))
    zs = [climate.ZONES[z] for z in names]
    clay_mean = np.array([z.clay_mean for z in zs])[zone]
    clay_sd = np.array([z.clay_sd for z in zs])[zone]
    clay = np.clip(clay_mean + clay_sd * rng.standard_normal(n), 5.0, 70.0)
    silt = np.array([z.silt_mean for z in zs])[zone]
    depth = np.array([z.depth_cm for z in zs])[zone]
    bd = np.array([z.bulk_density for z in zs])[zone]
    soc_mean = np.array([z.soc_mean for z in zs])[zone]
    soc_sd = np.array([z.soc_sd for z in zs])[zone]
    soc0 = np.clip(soc_mean + soc_sd * rng.standard_normal(n), 0.5 * soc_mean, 3.0 * soc_mean)
    iom = rothc.falloon_iom(soc0)

    offset = params.climate.warming_c_per_yr * (params.start_year - params.climate.reference_year)
    temp_z, rain_z, evap_z = zone_normals(names, offset)
    pattern = SYSTEM_INPUT_PATTERN[system]
    bare = SYSTEM_BARE[system]
    fym = np.zeros((n, 12))
    fym[:, 2] = OWN_MANURE_T_C_HA_YR[system]
    capacity = np.full(n, np.inf)
    sat = make_saturation(
        params.soil.saturation,
        clay_pct=clay,
        silt_pct=np.minimum(silt, 100.0 - clay),
        bulk_density_g_cm3=bd,
        depth_cm=depth,
    )
    if sat is not None:
        # today's stocks exist: a capacity formula below them is lifted 5 % above (judgement)
        capacity = np.maximum(sat.capacity, 1.05 * soc0)
        sat = Saturation(kind=sat.kind, capacity=capacity)
    climate12 = (temp_z[zone], rain_z[zone], evap_z[zone])
    scale = rothc.inputs_for_stock(
        soc0, iom, clay, depth, *climate12, pattern, fym, ~bare, DPM_RPM_CROP, saturation=sat
    )
    base_plant = scale[:, None] * pattern
    pools, smd = rothc.equilibrium(
        iom, clay, depth, *climate12, base_plant, fym, ~bare, DPM_RPM_CROP, saturation=sat
    )

    n_p = len(PRACTICE_IDS)
    eligible = np.zeros((n, n_p), dtype=bool)
    for k, pid in enumerate(PRACTICE_IDS):
        spec = CATALOGUE[pid]
        ok_sys = np.isin(system, [SYSTEMS.index(s) for s in spec.systems])
        ok_zone = (
            np.ones(n, dtype=bool)
            if spec.zones is None
            else np.isin(zone, [i for i, z in enumerate(names) if z in spec.zones])
        )
        eligible[:, k] = ok_sys & ok_zone
    init_share = np.array([getattr(params.practices, p).initial_share for p in PRACTICE_IDS])
    adopted = eligible & (rng.random((n, n_p)) < init_share[None, :])
    years = np.where(adopted, rng.integers(1, 11, (n, n_p)), 0).astype(float)
    knowledge = rng.beta(2.0, 5.0, (n, n_p))
    knowledge = np.where(adopted, np.maximum(knowledge, 0.8), knowledge)
    attitude = rng.beta(2.0, 2.0, n)
    fp = params.farmer
    risk = (
        rng.gamma(2.0, fp.risk_aversion_mean / 2.0, n) if fp.risk_aversion_mean > 0 else np.zeros(n)
    )
    t = params.advice.trust_mean
    trust = rng.beta(max(5.0 * t, 1e-3), max(5.0 * (1.0 - t), 1e-3), n)
    net = params.network
    ngo = assign_ties(n, n_ngos, net.advisory_share, rng)
    business = assign_ties(n, n_businesses, net.supply_share, rng)
    gov = (zone % net.n_governments).astype(np.int64)
    # behaviour heterogeneity, drawn last so the soil and network draws are unchanged
    cost_sd = np.array([getattr(params.practices, p).cost_sd_eur_per_ha for p in PRACTICE_IDS])
    cost_dev = rng.standard_normal((n, n_p)) * cost_sd[None, :]
    cost_dev += fp.farm_cost_sd_eur_per_ha * rng.standard_normal(n)[:, None]
    open_to_schemes = rng.random(n) >= fp.closed_share
    ramp_share = fp.trial_share + fp.expand_share_per_yr * (years - 1.0)
    area_share = np.where(adopted, np.clip(ramp_share, 0.0, 1.0), 0.0)
    zeros = np.zeros(n)
    false = np.zeros(n, dtype=bool)
    return Farms(
        zone=zone,
        system=system,
        gov=gov,
        ngo=ngo,
        business=business,
        area=area,
        clay=clay,
        silt=silt,
        depth=depth,
        bulk_density=bd,
        iom=iom,
        soc0=soc0,
        capacity=capacity,
        pools=pools,
        smd=smd,
        biochar=zeros.copy(),
        tracer=np.zeros((n, 4)),
        base_plant=base_plant,
        base_fym=fym,
        base_bare=bare,
        eligible=eligible,
        adopted=adopted,
        years=years,
        knowledge=knowledge,
        attitude=attitude,
        risk_aversion=risk,
        trust=trust,
        last_paid=np.zeros((n, n_p)),
        contract=false.copy(),
        enrolled_last=false.copy(),
        inset_last=false.copy(),
        inset_now=false.copy(),
        measured_dsoc=zeros.copy(),
        dsoc_last=zeros.copy(),
        abandoned=false.copy(),
        area_share=area_share,
        cost_dev_eur_per_ha=cost_dev,
        dseq_last=zeros.copy(),
        prior_share=area_share.copy(),
        enrolled=false.copy(),
        contract_left=zeros.copy(),
        carbon_balance_t=zeros.copy(),
        findings=zeros.copy(),
        open_to_schemes=open_to_schemes,
    )


def practice_effect_rates(
    params: Params, names: list[str], *, years: int = 20, system: str = "arable"
) -> FloatArray:
    """(Z, P) extra SOC gain, t C/ha/yr over the first ``years``, of each practice alone.

    A typical farm of each zone (mean clay and SOC, ``system`` management — grassland for
    practices that only apply there) is spun up, then run ``years`` under the zone's normals with
    and without the practice; the rate is the difference in SOC divided by ``years``. This is
    both the scientists' prior (:mod:`abm.agents.scientist`) and what ``tests/test_practices.py``
    compares with the meta-analyses.
    """
    pd = practice_drivers(params)
    n_z, n_p = len(names), len(PRACTICE_IDS)
    zs = [climate.ZONES[z] for z in names]
    rows_zone = np.repeat(np.arange(n_z), n_p + 1)
    n = rows_zone.size
    sys_idx = np.full(n, SYSTEMS.index(system))
    use = np.zeros((n, n_p), dtype=bool)
    for k, pid in enumerate(PRACTICE_IDS):
        spec = CATALOGUE[pid]
        sel = np.arange(n_z) * (n_p + 1) + k + 1
        use[sel, k] = True
        if system not in spec.systems:
            sys_idx[sel] = SYSTEMS.index(spec.systems[0])
    # each row is run with and without its practice (same farm, same system)
    soc0 = np.array([z.soc_mean for z in zs])[rows_zone]
    clay = np.array([z.clay_mean for z in zs])[rows_zone]
    depth = np.array([z.depth_cm for z in zs])[rows_zone]
    temp, rain, evap = zone_normals(names, 0.0)
    iom = rothc.falloon_iom(soc0)
    pattern = SYSTEM_INPUT_PATTERN[sys_idx]
    bare = SYSTEM_BARE[sys_idx]
    fym = np.zeros((n, 12))
    fym[:, 2] = OWN_MANURE_T_C_HA_YR[sys_idx]
    args = (temp[rows_zone], rain[rows_zone], evap[rows_zone])
    scale = rothc.inputs_for_stock(soc0, iom, clay, depth, *args, pattern, fym, ~bare, DPM_RPM_CROP)
    base_plant = scale[:, None] * pattern
    pools, smd = rothc.equilibrium(iom, clay, depth, *args, base_plant, fym, ~bare, DPM_RPM_CROP)
    with_p = soil_drivers(base_plant, fym, bare, use, pd)
    without = soil_drivers(base_plant, fym, bare, np.zeros_like(use), pd)
    out = np.zeros((n_z, n_p))
    socs = []
    for drivers in (with_p, without):
        res = rothc.run(
            pools,
            iom,
            smd,
            clay,
            depth,
            np.tile(args[0], years),
            np.tile(args[1] + drivers.irrigation, years),
            np.tile(args[2], years),
            np.tile(drivers.plant, years),
            np.tile(drivers.fym, years),
            np.tile(drivers.covered, years),
            np.tile(drivers.dpm_rpm, years),
            rate_mod=drivers.rate_mod,
            biochar=np.zeros(n),
            biochar_c=np.tile(drivers.biochar, years),
        )
        socs.append(res.pools.sum(axis=1) + res.biochar)
    gain = (socs[0] - socs[1]) / years
    for k in range(n_p):
        out[:, k] = gain[np.arange(n_z) * (n_p + 1) + k + 1]
    return out
