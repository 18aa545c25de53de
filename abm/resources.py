"""Physical limits: where the carbon of each practice comes from, and how much there is.

No practice creates carbon. Each draws on one limited resource (``Practice.draws_on``,
SCIENCE.md §7), and practices drawing on the same resource compete instead of adding up:

``growth`` — extra plant growth on the farm's own land (cover crops, agroforestry litter,
    better grazing, irrigated crops). A practice's extra input scales with what the farm's land
    grows: ``extra_input_t_c_ha_yr`` is the figure for a farm of average productivity for its
    production system (base plant input ``B_ref``), and a farm whose base input is ``B`` gets
    ``extra·B/B_ref``. Together these practices can add at most
    ``biomass.extra_input_cap_share × B`` per hectare they cover (judgement; Bruni et al. 2021,
    Biogeosciences 18:3981, found that 4 ‰/yr at 14 European sites needs +43 % C input);
    above it every growth practice of the farm is scaled down in proportion.
``residues`` — crop residues that conventional management removes (straw export, bedding):
    ``biomass.residue_removed_share_<system> × B`` t C/ha/yr. Conservation agriculture
    returns ``residue_return_share`` of them. Where nothing was removed, it returns nothing.
``manure`` — the regional pool of manure and compost produced by the landscape's livestock
    (each livestock farm's own manure, ``manure.own_t_c_ha_yr_<system>``), of which
    ``manure.exportable_share`` may leave the farm that produced it. Organic fertilisation and
    integrated soil fertility management receive what the pool of their zone holds, pro rata
    to their demand; donors' own applications fall by what is moved. Carbon from outside the
    landscape enters only through ``manure.import_t_c_ha_yr`` (default none).

Moving manure is zero-sum for the landscape: the receiver's gain is storage and the donor's
loss is negative storage (two imported-carbon tracers, :mod:`abm.model`).

Fractional practice use: ``use`` is the (N, P) share of each farm's area under each practice
(0–1). Inputs are area-weighted; the decomposition modifier of conservation agriculture is the
area-weighted mean ``1 + Σ use·(rate_modifier − 1)``; cover in bare months enters as the
area-weighted cover factor ``c = 1 − 0.4·cover share`` (RothC: 0.6 covered, 1 bare), the
deficit of a partly covered month following the bare rule unless the whole area is covered
(judgement: exact for whole-farm use, an approximation for partial use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abm import kernels_model
from abm.practices import CATALOGUE, PRACTICE_IDS

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

DPM_RPM_CROP = 1.44
"""DPM/RPM ratio of agricultural crops and improved grassland (RothC-26.3)."""

MANURE_MONTH = 2
"""Own manure is spread in March (judgement, northern-hemisphere calendar)."""

IRRIGATION_MONTHS = tuple(range(3, 9))
"""Irrigation season April–September (northern-hemisphere calendar)."""

_IRRIGATION = slice(IRRIGATION_MONTHS[0], IRRIGATION_MONTHS[-1] + 1)
assert tuple(range(12)[_IRRIGATION]) == IRRIGATION_MONTHS  # contiguous: a slice, not a gather

RESOURCES = ("growth", "residues", "manure")


@dataclass(frozen=True)
class PracticeShapes:
    """Per-practice figures as (P,) arrays and (P, 12) monthly shares (sum 1 over the year)."""

    extra_input: FloatArray
    """(P,) extra plant C at average productivity, t C/ha/yr (``growth`` practices)."""
    residue_return: FloatArray
    """(P,) share of removed residues returned (``residues`` practices)."""
    organic: FloatArray
    """(P,) manure/compost C demanded, t C/ha/yr (``manure`` practices)."""
    biochar: FloatArray
    """(P,) biochar C applied, t C/ha/yr."""
    irrigation: FloatArray
    """(P,) irrigation water, mm/yr."""
    rate_modifier: FloatArray
    covers: BoolArray
    months: FloatArray
    """(P, 12) share of the yearly input entering each month."""
    dpm_share: FloatArray
    """(P,) share of the extra plant input that is DPM (from the practice's DPM/RPM ratio)."""
    n_mineral: FloatArray
    input_c_to_n: FloatArray
    yield_effect: FloatArray
    other_emissions: FloatArray
    growth: BoolArray
    residues: BoolArray
    manure: BoolArray


def practice_shapes(params: object) -> PracticeShapes:
    """Per-practice arrays from the parameters (``params.practices``) and the catalogue."""
    n_p = len(PRACTICE_IDS)
    months = np.zeros((n_p, 12))
    dpm_share = np.zeros(n_p)
    vals: dict[str, list[float]] = {
        k: []
        for k in (
            "extra_input_t_c_ha_yr",
            "residue_return_share",
            "fym_t_c_ha_yr",
            "biochar_t_c_ha_yr",
            "irrigation_mm_yr",
            "rate_modifier",
            "n_mineral_kg_ha_yr",
            "input_c_to_n",
            "yield_effect",
            "other_emissions_tco2e_ha_yr",
        )
    }
    for k, pid in enumerate(PRACTICE_IDS):
        spec = CATALOGUE[pid]
        pp = getattr(params.practices, pid)  # type: ignore[attr-defined]
        months[k, list(spec.input_months)] = 1.0 / len(spec.input_months)
        ratio = spec.dpm_rpm if spec.dpm_rpm is not None else DPM_RPM_CROP
        dpm_share[k] = ratio / (1.0 + ratio)
        for name, out in vals.items():
            out.append(float(getattr(pp, name)))
    draws = [CATALOGUE[pid].draws_on for pid in PRACTICE_IDS]
    return PracticeShapes(
        extra_input=np.array(vals["extra_input_t_c_ha_yr"]),
        residue_return=np.array(vals["residue_return_share"]),
        organic=np.array(vals["fym_t_c_ha_yr"]),
        biochar=np.array(vals["biochar_t_c_ha_yr"]),
        irrigation=np.array(vals["irrigation_mm_yr"]),
        rate_modifier=np.array(vals["rate_modifier"]),
        covers=np.array([CATALOGUE[p].covers_bare_months for p in PRACTICE_IDS]),
        months=months,
        dpm_share=dpm_share,
        n_mineral=np.array(vals["n_mineral_kg_ha_yr"]),
        input_c_to_n=np.array(vals["input_c_to_n"]),
        yield_effect=np.array(vals["yield_effect"]),
        other_emissions=np.array(vals["other_emissions_tco2e_ha_yr"]),
        growth=np.array([d == "growth" for d in draws]),
        residues=np.array([d == "residues" for d in draws]),
        manure=np.array([d == "manure" for d in draws]),
    )


@dataclass
class Endowment:
    """What each farm's land and livestock provide, per ha and year (fixed during a run)."""

    base_plant: FloatArray
    """(N, 12) plant C returned to the soil under conventional management, t C/ha/month."""
    productivity: FloatArray
    """(N,) base input ÷ the reference input of the farm's system (``B/B_ref``)."""
    residues_removed: FloatArray
    """(N,) residue C removed under conventional management, t C/ha/yr."""
    own_manure: FloatArray
    """(N,) manure C produced and spread on the farm, t C/ha/yr."""
    exportable: FloatArray
    """(N,) the part of ``own_manure`` that may leave the farm, t C/ha/yr."""
    base_bare: BoolArray
    """(N, 12) months with bare soil under conventional management."""
    zone: IntArray
    area: FloatArray


@dataclass
class Allocation:
    """One year's realised practice effects per farm (t C/ha/yr unless said otherwise)."""

    extra: FloatArray
    """(N, P) extra plant C per practice, after the biomass cap and residue limits."""
    organic_in: FloatArray
    """(N, P) manure/compost C received per practice (moved within the landscape or imported)."""
    imported_share: FloatArray
    """(N,) share of ``organic_in`` that comes from outside the landscape."""
    organic_out: FloatArray
    """(N,) own manure C moved away to other farms."""
    biochar: FloatArray
    """(N, P) biochar C applied per practice."""


def allocate(
    use: FloatArray,
    endow: Endowment,
    shapes: PracticeShapes,
    *,
    cap_share: float,
    import_t_c_ha_yr: float,
    n_zones: int,
) -> Allocation:
    """Share the limited resources among the practices farms use this year.

    Parameters
    ----------
    use
        (N, P) share of each farm's area under each practice (0–1).
    endow
        The farms' :class:`Endowment`.
    shapes
        :func:`practice_shapes`.
    cap_share
        ``biomass.extra_input_cap_share``: growth practices together add at most this share of
        the farm's base plant input on the area they cover.
    import_t_c_ha_yr
        Organic C imported into the landscape from outside, t C per ha of farmland per year,
        offered to each zone in proportion to its farmed area.
    n_zones
        Number of zones (regional manure pools).
    """
    base_in = endow.base_plant.sum(axis=1)
    # growth: proportional to productivity, capped per farm on the covered area
    demand = use * shapes.extra_input[None, :] * endow.productivity[:, None]
    demand = np.where(shapes.growth[None, :], demand, 0.0)
    covered = np.max(np.where(shapes.growth[None, :], use, 0.0), axis=1)
    cap = cap_share * base_in * covered
    total = demand.sum(axis=1)
    scale = np.where(total > cap, cap / np.maximum(total, 1e-300), 1.0)
    extra = demand * scale[:, None]
    # residues: only what conventional management removed
    extra += np.where(
        shapes.residues[None, :],
        use * shapes.residue_return[None, :] * endow.residues_removed[:, None],
        0.0,
    )
    # manure: regional pool per zone, pro rata
    want = np.where(shapes.manure[None, :], use * shapes.organic[None, :], 0.0)  # t C/ha/yr
    want_t = want.sum(axis=1) * endow.area
    supply_t = endow.exportable * endow.area
    zone = endow.zone
    d_z = np.bincount(zone, weights=want_t, minlength=n_zones)
    s_z = np.bincount(zone, weights=supply_t, minlength=n_zones)
    i_z = import_t_c_ha_yr * np.bincount(zone, weights=endow.area, minlength=n_zones)
    from_pool = np.minimum(d_z, s_z)
    from_import = np.minimum(d_z - from_pool, i_z)
    served = from_pool + from_import
    fill = np.divide(served, d_z, out=np.zeros(n_zones), where=d_z > 0)
    taken = np.divide(from_pool, s_z, out=np.zeros(n_zones), where=s_z > 0)
    imp = np.divide(from_import, served, out=np.zeros(n_zones), where=served > 0)
    return Allocation(
        extra=extra,
        organic_in=want * fill[zone][:, None],
        imported_share=imp[zone],
        organic_out=endow.exportable * taken[zone],
        biochar=use * shapes.biochar[None, :],
    )


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a @ b`` for (N, P) × (P[, 12]) without BLAS: P is 8, and BLAS's thread pool costs far
    more than the product on a busy machine (einsum without ``optimize`` uses its own loop)."""
    out: FloatArray = np.einsum("np,p...->n...", a, b)
    return out


_PATTERN_CACHE: list[tuple[FloatArray, FloatArray, FloatArray]] = []
"""The last :func:`harvest_pattern`: ``(base array, a copy of its values, its pattern)``."""


def harvest_pattern(base: FloatArray) -> FloatArray:
    """(N, 12) each farm's base plant input as shares of its year (0 where it has none).

    The base input is fixed during a run, so the pattern is computed once and reused while
    the same array object comes back with the same values (a write into it, or another
    array, recomputes it: comparing the values costs a fraction of the division).
    """
    for arr, key, pattern in _PATTERN_CACHE:
        if arr is base and np.array_equal(key, base):
            return pattern
    base_in = base.sum(axis=1)
    pattern = np.divide(base, base_in[:, None], out=np.zeros_like(base), where=base_in[:, None] > 0)
    _PATTERN_CACHE[:] = [(base, base.copy(), pattern)]
    return pattern


@dataclass
class Drivers:
    """(N, 12) monthly RothC drivers of one year, plus the imported-carbon tracer inputs."""

    plant: FloatArray
    dpm_rpm: FloatArray
    fym: FloatArray
    fym_in: FloatArray
    """Manure C received from other farms or from outside (the inward tracer's input)."""
    fym_out: FloatArray
    """Own manure C given away (the outward tracer's input)."""
    biochar: FloatArray
    irrigation: FloatArray
    covered: BoolArray
    rate_mod: FloatArray


def drivers(
    use: FloatArray,
    alloc: Allocation,
    endow: Endowment,
    shapes: PracticeShapes,
    base_fym: FloatArray,
) -> Drivers:
    """Monthly drivers: conventional management plus the realised practice effects."""
    n = use.shape[0]
    base = endow.base_plant
    pattern = harvest_pattern(base)
    # extra plant input: residues enter with the harvest pattern, the rest in their months
    months = np.where(shapes.residues[:, None], 0.0, shapes.months)  # (P, 12)
    res_in = (alloc.extra * shapes.residues[None, :]).sum(axis=1)
    dpm_share = np.where(shapes.residues, DPM_RPM_CROP / (1 + DPM_RPM_CROP), shapes.dpm_share)
    plant, dpm_rpm = kernels_model.plant_drivers(
        base,
        pattern,
        _dot(alloc.extra, months),
        _dot(alloc.extra * dpm_share[None, :], months),
        res_in,
        DPM_RPM_CROP,
    )
    fym_in = _dot(alloc.organic_in, shapes.months)
    fym_out = np.zeros((n, 12))
    fym_out[:, MANURE_MONTH] = alloc.organic_out
    fym = np.maximum(base_fym - fym_out, 0.0) + fym_in
    cover_share = np.clip(_dot(use, shapes.covers.astype(float)), 0.0, 1.0)  # (N,)
    bare = endow.base_bare & ~(cover_share[:, None] >= 1.0 - 1e-12)
    rate = 1.0 + _dot(use, shapes.rate_modifier - 1.0)
    partly = endow.base_bare & bare  # bare months: area-weighted cover factor
    rate_m = kernels_model.rate_drivers(rate, cover_share, partly)
    irr = np.zeros((n, 12))
    irr[:, _IRRIGATION] = _dot(use, shapes.irrigation)[:, None] / len(IRRIGATION_MONTHS)
    return Drivers(
        plant=plant,
        dpm_rpm=dpm_rpm,
        fym=fym,
        fym_in=fym_in,
        fym_out=fym_out,
        biochar=_dot(alloc.biochar, shapes.months),
        irrigation=irr,
        covered=~bare,
        rate_mod=rate_m,
    )
