"""The farm landscape as arrays, and how its soils start (no Mesa).

:func:`build_farms` draws zones, systems, areas, soils and farmers. :func:`equilibrate` then
starts every soil in the state its management history implies (SCIENCE.md §7, "a stable
start"): each farm's plant input is set by RothC's inverse mode so that the equilibrium under its
*current* management — conventional management plus the practices it uses at the start, with
the resource limits of :mod:`abm.resources` — reproduces its drawn SOC stock, and its pools start
at that equilibrium. A landscape whose management does not change then stays where it is: its
trend comes from weather and warming only.

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
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from abm import resources
from abm.network import assign_ties
from abm.practices import CATALOGUE, PRACTICE_IDS, SYSTEMS
from abm.scenario import Params
from abm.soil import climate, rothc
from abm.soil.saturation import Saturation, make_saturation

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

DPM_RPM_CROP = resources.DPM_RPM_CROP
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

MIN_INPUT_SHARE = 0.25
"""Floor on a farm's base plant input, share of ``B_ref`` (judgement): a farm whose drawn stock
is below what the manure it receives sustains alone starts at the stock this floor gives."""

REFERENCE_ZONE = "temperate_oceanic"
"""The zone whose typical farm defines "average productivity" (``B_ref``, :mod:`abm.resources`)."""


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
    """(N, 4) carbon received from elsewhere (manure, compost; biochar's labile part) still in
    DPM, RPM, BIO, HUM, t C/ha: the inward tracer (storage, :mod:`abm.resources`)."""
    tracer_out: FloatArray
    """(N, 4) carbon of the own manure given away that the soil would hold, t C/ha: the outward
    tracer (negative storage of donors)."""
    productivity: FloatArray
    """(N,) base plant input ÷ that of the reference farm of the system (B/B_ref)."""
    residues_removed: FloatArray
    """(N,) crop-residue C removed under conventional management, t C/ha/yr."""
    own_manure: FloatArray
    """(N,) manure C produced and spread on the farm, t C/ha/yr."""
    exportable: FloatArray
    """(N,) the part of the own manure that may leave the farm, t C/ha/yr."""
    dseq_last: FloatArray
    """(N,) sequestration part of last year's measured SOC change (carbon brought in
    excluded), t C/ha/yr."""
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

    def soc_sampled(self) -> FloatArray:
        """SOC as a soil sample measures it, t C/ha: without the fresh plant litter (DPM).

        RothC's DPM is decomposable plant material, mostly this year's litter, which sampling
        (sieving at 2 mm, sampling before incorporation) largely leaves out; counting it would
        credit a new practice's first-year litter as a soil gain (judgement). Used for each
        farm's measured change (MRV, the per-farm 4 ‰ indicator); landscape stocks keep RothC's
        total. With ICBM the plant young pool plays DPM's part.
        """
        out: FloatArray = self.pools[:, 1:].sum(axis=1) + self.iom + self.biochar
        return out


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
    """Draw the landscape, its soils and farmers; soils are started by :func:`equilibrate`."""
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

    bare = SYSTEM_BARE[system]
    own = own_manure(params, system)
    fym = np.zeros((n, 12))
    fym[:, resources.MANURE_MONTH] = own
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
        feasible = rng.random(n) < params.landscape.feasible_share.get(pid, 1.0)
        eligible[:, k] = ok_sys & ok_zone & feasible
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
        pools=np.zeros((n, 4)),
        smd=zeros.copy(),
        biochar=zeros.copy(),
        tracer=np.zeros((n, 4)),
        tracer_out=np.zeros((n, 4)),
        productivity=np.ones(n),
        residues_removed=zeros.copy(),
        own_manure=own,
        exportable=own * params.manure.exportable_share,
        dseq_last=zeros.copy(),
        base_plant=np.zeros((n, 12)),
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
        prior_share=area_share.copy(),
        enrolled=false.copy(),
        contract_left=zeros.copy(),
        carbon_balance_t=zeros.copy(),
        findings=zeros.copy(),
        open_to_schemes=open_to_schemes,
    )


def own_manure(params: Params, system: IntArray) -> FloatArray:
    """Manure C produced and spread on each farm, t C/ha/yr (``manure.own_t_c_ha_yr_*``)."""
    m = params.manure
    per_system = np.array([0.0, m.own_t_c_ha_yr_grassland, m.own_t_c_ha_yr_mixed])
    out: FloatArray = per_system[system]
    return out


def residue_removed_share(params: Params, system: IntArray) -> FloatArray:
    """Residue C removed per unit of plant C returned, by farm (``biomass.*``)."""
    b = params.biomass
    per_system = np.array([b.residue_removed_share_arable, 0.0, b.residue_removed_share_mixed])
    out: FloatArray = per_system[system]
    return out


def reference_inputs(params: Params) -> FloatArray:
    """(3,) ``B_ref`` per system: base plant input of the reference zone's typical farm, t C/ha/yr.

    The typical farm of :data:`REFERENCE_ZONE` (mean clay and SOC, the zone's normals without
    warming) under conventional management of each system, by inverse mode. A farm whose base
    input equals ``B_ref`` has productivity 1 (:mod:`abm.resources`).
    """
    z = climate.ZONES[REFERENCE_ZONE]
    systems = np.arange(len(SYSTEMS))
    fym = np.zeros((3, 12))
    fym[:, resources.MANURE_MONTH] = own_manure(params, systems)
    soc = np.full(3, z.soc_mean)
    scale = rothc.inputs_for_stock(
        soc,
        rothc.falloon_iom(soc),
        np.full(3, z.clay_mean),
        np.full(3, z.depth_cm),
        np.tile(z.temp12, (3, 1)),
        np.tile(z.rain12, (3, 1)),
        np.tile(z.evap12, (3, 1)),
        SYSTEM_INPUT_PATTERN,
        fym,
        ~SYSTEM_BARE,
        DPM_RPM_CROP,
    )
    out: FloatArray = scale  # the patterns sum to 1 over the year
    return out


def endowment(farms: Farms) -> resources.Endowment:
    """The farms' resources for :func:`abm.resources.allocate` (a view on their arrays)."""
    return resources.Endowment(
        base_plant=farms.base_plant,
        productivity=farms.productivity,
        residues_removed=farms.residues_removed,
        own_manure=farms.own_manure,
        exportable=farms.exportable,
        base_bare=farms.base_bare,
        zone=farms.zone,
        area=farms.area,
    )


def equilibrate(
    farms: Farms,
    params: Params,
    shapes: resources.PracticeShapes,
    use: FloatArray,
    normals: tuple[FloatArray, FloatArray, FloatArray],
    saturation: Saturation | None,
    n_zones: int,
) -> None:
    """Start every soil at equilibrium with its current management (in place).

    The farm's plant input ``B`` is unknown, but every practice effect that depends on it is
    proportional to it (growth practices scale with ``B/B_ref``, their cap with ``B``, returned
    residues with ``B``) while manure is not: the drivers for ``B = 1`` are computed once and
    RothC's inverse mode (:func:`abm.soil.rothc.inputs_for_stock`) gives the ``B`` that
    reproduces the drawn stock ``soc0``. The two imported-carbon tracers start at the
    equilibrium of the manure the farm receives and gives away (by linearity of RothC), so the
    storage counted from the start is what changes after it.
    """
    f = farms
    if params.soil.model == "icbm":
        _equilibrate_icbm(f, params, shapes, use, normals, n_zones)
        return
    b_ref, d = _unit_drivers(f, params, shapes, use, n_zones)
    temp, rain, evap = (x[f.zone] for x in normals)
    rain = rain + d.irrigation
    floor = MIN_INPUT_SHARE * b_ref
    if saturation is None:
        unit, own, t_in, t_out, f.smd = _linear_parts(f, params, d, temp, rain, evap)
        per_unit = unit.sum(axis=1)
        scale = np.maximum((f.soc0 - f.iom - own.sum(axis=1)) / per_unit, floor)
        f.pools = scale[:, None] * unit + own
        f.tracer, f.tracer_out = t_in, t_out
    else:
        weather = start_weather(params, f.zone, d.irrigation)
        scale = rothc.inputs_for_stock(
            f.soc0,
            f.iom,
            f.clay,
            f.depth,
            temp,
            rain,
            evap,
            d.plant,
            d.fym,
            d.covered,
            d.dpm_rpm,
            rate_mod=d.rate_mod,
            saturation=saturation,
            weather=weather,
            min_scale=floor,
        )
        d = _scaled(d, scale)
        common = (f.clay, f.depth, temp, rain, evap)
        f.pools, f.smd = rothc.equilibrium(
            f.iom,
            *common,
            d.plant,
            d.fym,
            d.covered,
            d.dpm_rpm,
            rate_mod=d.rate_mod,
            saturation=saturation,
            weather=weather,
        )
        zero, no_iom = np.zeros_like(d.plant), np.zeros(f.n)
        for name, fym in (("tracer", d.fym_in), ("tracer_out", d.fym_out)):
            pools, _ = rothc.equilibrium(
                no_iom,
                *common,
                zero,
                fym,
                d.covered,
                d.dpm_rpm,
                rate_mod=d.rate_mod,
                weather=weather,
            )
            setattr(f, name, pools)
    _set_base_input(f, params, scale, b_ref)
    f.biochar = np.zeros(f.n)  # biochar is new: no farm holds any at the start
    f.soc0 = f.soc()  # the drawn stock, except where the floor on plant input lifted it


SPINUP_BLOCK = 32768
"""Farms whose start equilibrium is solved together: the spin-up's temporaries (weather years
per farm, monthly inputs per pool, composed maps) then stay bounded whatever the number of
farms. Each farm's equilibrium depends on its own row only, so the block size does not change
the result."""


def _linear_parts(
    f: Farms,
    params: Params,
    d: resources.Drivers,
    temp: FloatArray,
    rain: FloatArray,
    evap: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The parts of the linear (no cap) start equilibrium, block by block of farms.

    Plant input per unit ``B``, the farm's own manure, the manure received and given away
    (:func:`abm.soil.rothc.equilibrium_parts`), ``(N, 4)`` each, and the December deficit.
    """
    unit, own, t_in, t_out = (np.empty((f.n, 4)) for _ in range(4))
    smd = np.empty(f.n)
    for lo in range(0, f.n, SPINUP_BLOCK):
        sl = slice(lo, min(lo + SPINUP_BLOCK, f.n))
        unit[sl], (own[sl], t_in[sl], t_out[sl]), smd[sl] = rothc.equilibrium_parts(
            f.iom[sl],
            f.clay[sl],
            f.depth[sl],
            temp[sl],
            rain[sl],
            evap[sl],
            d.plant[sl],
            [d.fym[sl], d.fym_in[sl], d.fym_out[sl]],
            d.covered[sl],
            d.dpm_rpm[sl],
            rate_mod=d.rate_mod[sl],
            weather=start_weather(params, f.zone[sl], d.irrigation[sl]),
        )
    return unit, own, t_in, t_out, smd


def _unit_drivers(
    f: Farms, params: Params, shapes: resources.PracticeShapes, use: FloatArray, n_zones: int
) -> tuple[FloatArray, resources.Drivers]:
    """Set the farms' base input to ``B = 1`` and return ``(B_ref, the drivers for B = 1)``."""
    b_ref = reference_inputs(params)[f.system]
    _set_base_input(f, params, np.ones(f.n), b_ref)
    f.base_fym = np.zeros((f.n, 12))
    f.base_fym[:, resources.MANURE_MONTH] = f.own_manure
    return b_ref, _year_drivers(f, params, shapes, use, n_zones)


def _set_base_input(f: Farms, params: Params, scale: FloatArray, b_ref: FloatArray) -> None:
    """Base plant input ``B = scale`` (t C/ha/yr) and what follows from it, in place."""
    f.base_plant = scale[:, None] * SYSTEM_INPUT_PATTERN[f.system]
    f.productivity = scale / b_ref
    f.residues_removed = scale * residue_removed_share(params, f.system)


def _equilibrate_icbm(
    f: Farms,
    params: Params,
    shapes: resources.PracticeShapes,
    use: FloatArray,
    normals: tuple[FloatArray, FloatArray, FloatArray],
    n_zones: int,
) -> None:
    """:func:`equilibrate` with ICBM: the same steps on ICBM's yearly map (no IOM)."""
    from abm.soil import icbm_farm

    b_ref, d = _unit_drivers(f, params, shapes, use, n_zones)
    weather = start_weather(params, f.zone, d.irrigation)
    temp, rain, evap = (x[f.zone] for x in normals)
    years = (
        [(1.0, (temp, rain + d.irrigation, evap))]
        if weather is None
        else [
            (float(w), (weather.temp[k], weather.rain[k], weather.evap[k]))
            for k, w in enumerate(weather.weights)
        ]
    )
    maps = []
    smd_dec = np.zeros(f.n)
    for w, (t, r, e) in years:
        smd = np.zeros(f.n)
        for _ in range(3):  # cycle the deficit from field capacity to its periodic state
            rates, smd = icbm_farm.monthly_rates(
                t, r, e, f.clay, f.depth, d.covered, d.rate_mod, smd
            )
        smd_dec = smd_dec + w * smd
        maps.append((w, icbm_farm.year_map(rates.mean(axis=1) / icbm_reference_rate())))
    scale = icbm_farm.plant_for_stock(
        maps, f.soc0, d.plant.sum(axis=1), d.fym.sum(axis=1), MIN_INPUT_SHARE * b_ref
    )
    _set_base_input(f, params, scale, b_ref)
    d = _year_drivers(f, params, shapes, use, n_zones)
    f.iom = np.zeros(f.n)  # ICBM has no inert pool: its old pool holds all old carbon
    f.pools = icbm_farm.equilibrium(maps, d.plant.sum(axis=1), d.fym.sum(axis=1))
    zero = np.zeros(f.n)
    f.tracer = icbm_farm.equilibrium(maps, zero, d.fym_in.sum(axis=1))
    f.tracer_out = icbm_farm.equilibrium(maps, zero, d.fym_out.sum(axis=1))
    f.smd = np.minimum(smd_dec, 0.0)
    f.biochar = np.zeros(f.n)
    f.soc0 = f.soc()


@lru_cache(maxsize=1)
def icbm_reference_rate() -> float:
    """ICBM's ``R_REF``: RothC's mean monthly modifier of :data:`REFERENCE_ZONE`'s typical
    arable farm under its normals (:func:`abm.soil.icbm_farm.reference_rate`); its ``r`` is 1."""
    from abm.soil import icbm_farm

    return icbm_farm.reference_rate(REFERENCE_ZONE, ~SYSTEM_BARE[SYSTEMS.index("arable")])


def start_weather(params: Params, zone: IntArray, irrigation: FloatArray) -> rothc.Weather | None:
    """The weather years the start equilibrium averages over (None without weather noise).

    The soils start at the mean state of the start-year climate *with* its year-to-year noise
    (:func:`abm.soil.climate.weather_quadrature`), not at the equilibrium of the normals: RothC
    responds non-linearly to weather (moisture is capped at field capacity), so a soil at the
    normals' equilibrium would drift under variable weather although nothing changes.
    """
    c = params.climate
    if c.temp_noise_sd == 0 and c.rain_cv == 0:
        return None
    offset = c.warming_c_per_yr * (params.start_year - c.reference_year)
    per_zone = [
        climate.weather_quadrature(
            z, offset_c=offset, temp_noise_sd=c.temp_noise_sd, rain_cv=c.rain_cv
        )
        for z in zone_list(params)
    ]
    temp, rain, evap = (np.stack([q[i] for q in per_zone], axis=1)[:, zone] for i in range(3))
    return rothc.Weather(temp=temp, rain=rain + irrigation[None], evap=evap, weights=per_zone[0][3])


def _scaled(d: resources.Drivers, scale: FloatArray) -> resources.Drivers:
    """The drivers with every plant input scaled by ``scale`` (all of it is ∝ the base input)."""
    from dataclasses import replace

    return replace(d, plant=d.plant * scale[:, None])


def _year_drivers(
    f: Farms, params: Params, shapes: resources.PracticeShapes, use: FloatArray, n_zones: int
) -> resources.Drivers:
    endow = endowment(f)
    alloc = resources.allocate(
        use,
        endow,
        shapes,
        cap_share=params.biomass.extra_input_cap_share,
        import_t_c_ha_yr=params.manure.import_t_c_ha_yr,
        n_zones=n_zones,
    )
    return resources.drivers(use, alloc, endow, shapes, f.base_fym)


def practice_effect_rates(
    params: Params, names: list[str], *, years: int = 20, system: str = "arable"
) -> FloatArray:
    """(Z, P) extra SOC gain, t C/ha/yr over the first ``years``, of each practice alone.

    A typical farm of each zone (mean clay and SOC, ``system`` management — or the first system
    a practice applies to) starts at equilibrium with conventional management and runs
    ``years`` under the zone's normals with the practice on its whole area and without it; the
    rate is the difference in SOC divided by ``years``. Resource limits apply as on any farm,
    except that the manure a practice asks for is assumed available (the rate *per hectare
    served*). This is the scientists' prior (:mod:`abm.agents.scientist`) and what
    ``tests/test_practices.py`` compares with the meta-analyses.
    """
    shapes = resources.practice_shapes(params)
    n_z, n_p = len(names), len(PRACTICE_IDS)
    zs = [climate.ZONES[z] for z in names]
    rows_zone = np.repeat(np.arange(n_z), n_p + 1)
    n = rows_zone.size
    sys_idx = np.full(n, SYSTEMS.index(system))
    use = np.zeros((n, n_p))
    for k, pid in enumerate(PRACTICE_IDS):
        spec = CATALOGUE[pid]
        sel = np.arange(n_z) * (n_p + 1) + k + 1
        use[sel, k] = 1.0
        if system not in spec.systems:
            sys_idx[sel] = SYSTEMS.index(spec.systems[0])
    soc0 = np.array([z.soc_mean for z in zs])[rows_zone]
    clay = np.array([z.clay_mean for z in zs])[rows_zone]
    depth = np.array([z.depth_cm for z in zs])[rows_zone]
    temp, rain, evap = (x[rows_zone] for x in zone_normals(names, 0.0))
    iom = rothc.falloon_iom(soc0)
    pattern = SYSTEM_INPUT_PATTERN[sys_idx]
    bare = SYSTEM_BARE[sys_idx]
    own = own_manure(params, sys_idx)
    fym = np.zeros((n, 12))
    fym[:, resources.MANURE_MONTH] = own
    scale = rothc.inputs_for_stock(
        soc0, iom, clay, depth, temp, rain, evap, pattern, fym, ~bare, DPM_RPM_CROP
    )
    base_plant = scale[:, None] * pattern
    pools, smd = rothc.equilibrium(iom, clay, depth, temp, rain, evap, base_plant, fym, ~bare, 1.44)
    endow = resources.Endowment(
        base_plant=base_plant,
        productivity=scale / reference_inputs(params)[sys_idx],
        residues_removed=scale * residue_removed_share(params, sys_idx),
        own_manure=own,
        exportable=np.zeros(n),
        base_bare=bare,
        zone=np.zeros(n, dtype=np.int64),
        area=np.ones(n),
    )
    socs = []
    for u in (use, np.zeros_like(use)):
        alloc = resources.allocate(
            u,
            endow,
            shapes,
            cap_share=params.biomass.extra_input_cap_share,
            import_t_c_ha_yr=1e3,
            n_zones=1,
        )
        d = resources.drivers(u, alloc, endow, shapes, fym)
        res = rothc.run(
            pools,
            iom,
            smd,
            clay,
            depth,
            np.tile(temp, years),
            np.tile(rain + d.irrigation, years),
            np.tile(evap, years),
            np.tile(d.plant, years),
            np.tile(d.fym, years),
            np.tile(d.covered, years),
            np.tile(d.dpm_rpm, years),
            rate_mod=np.tile(d.rate_mod, years),
            biochar=np.zeros(n),
            biochar_c=np.tile(d.biochar, years),
        )
        socs.append(res.pools.sum(axis=1) + res.biochar)
    gain = (socs[0] - socs[1]) / years
    out = np.zeros((n_z, n_p))
    for k in range(n_p):
        out[:, k] = gain[np.arange(n_z) * (n_p + 1) + k + 1]
    return out
