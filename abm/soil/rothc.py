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

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from abm.errors import UserInputError
from abm.soil import kernels
from abm.soil.rothc_core import (  # noqa: F401 (re-exported)
    _K,
    _POWERS,
    BIO_SHARE,
    BIOCHAR_LABILE_FRACTION,
    BIOCHAR_MRT_YR,
    DT,
    FYM_SPLIT,
    HUM_SHARE,
    K_BIO,
    K_BIOCHAR,
    K_DPM,
    K_HUM,
    K_RPM,
    POOLS,
    FloatArray,
    RothCResult,
    _check_nonneg,
    _climate,
    _col,
    _exp_small,
    _monthly,
    _per_farm,
    _smd_limits,
    _soil,
    co2_ratio,
    falloon_iom,
    moisture_step,
    rate_cover,
    rate_temperature,
)
from abm.soil.spinup import (
    Weather,
    equilibrium,
    equilibrium_parts,
    inputs_for_stock,
    official_spinup_months,
)

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
    if cap is None and not record and n > 0 and m > 0:  # the compiled month: same numbers
        drivers = (temp_a, rain_a, evap_a, cov_a, plant_a, fym_a, rmod_a, bc_in, ratio_a)
        bc, co2_c = _run_compiled(state, smd_a, bc, soil, drivers, has_fym=has_fym, use_bc=use_bc)
        return RothCResult(
            pools=np.ascontiguousarray(state.T), smd=smd_a, biochar=bc, co2=co2_c, monthly=None
        )
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


def _run_compiled(
    state: FloatArray,
    smd: FloatArray,
    bc: FloatArray,
    soil: Any,
    drivers: tuple[Any, ...],
    *,
    has_fym: bool,
    use_bc: bool,
) -> tuple[FloatArray, FloatArray]:
    """:func:`run`'s month loop without a cap or records, fused per month by numba.

    The exponentials stay numpy's (the temperature modifier, :func:`_exp_small` with its
    whole-array choice between Padé and ``exp``, the biochar decay); everything between them
    runs in :func:`abm.soil.kernels.rothc_moisture` and :func:`~abm.soil.kernels.rothc_decay_inputs`
    in the engine's order of operations, so the results are the same doubles. ``state``
    ``(4, N)`` and ``smd`` are updated in place; returns the biochar pool and the CO2.
    """
    temp_a, rain_a, evap_a, cov_a, plant_a, fym_a, rmod_a, bc_in, ratio_a = drivers
    n = smd.size

    def col(x: Any, j: int) -> Any:
        return np.broadcast_to(x[:, j], (n,))

    zeros = np.zeros(n)
    co2 = np.zeros(n)
    frac_co2 = 1.0 - soil.frac_bio - soil.frac_hum
    arg, q, w1, w2 = (np.empty(n) for _ in range(4))
    ratio_const = ratio_a.strides[1] == 0
    if ratio_const:
        r0 = ratio_a[:, 0]
        to_dpm_c, to_rpm_c = col((r0 / (r0 + 1.0))[:, None], 0), col((1.0 / (r0 + 1.0))[:, None], 0)
    flags = (use_bc, has_fym, bc_in is not None)
    shares = (*FYM_SPLIT, 1.0 - BIOCHAR_LABILE_FRACTION, BIOCHAR_LABILE_FRACTION)
    for j in range(temp_a.shape[1]):
        # as the engine: a from the column as given (its shape decides numpy's exp path)
        a_k = np.broadcast_to(rate_temperature(temp_a[:, j]) * -(K_HUM * DT), (n,))
        rmod = zeros if rmod_a is None else col(rmod_a, j)
        kernels.rothc_moisture(
            smd, col(rain_a, j), col(evap_a, j), col(cov_a, j), soil.smd_max, soil.smd_bare,
            soil.b_slope, a_k, rmod, rmod_a is not None, arg,
        )  # fmt: skip
        _exp_small(arg, q, w1, w2)
        keep = np.exp(-K_BIOCHAR * DT * (arg / -(K_HUM * DT))) if use_bc else zeros
        if ratio_const:
            to_dpm, to_rpm = to_dpm_c, to_rpm_c
        else:
            r = col(ratio_a, j)
            to_dpm, to_rpm = r / (r + 1.0), 1.0 / (r + 1.0)
        kernels.rothc_decay_inputs(
            q, state, co2, soil.frac_bio, soil.frac_hum, frac_co2, bc, keep, col(plant_a, j),
            to_dpm, to_rpm, col(fym_a, j) if has_fym else zeros,
            zeros if bc_in is None else col(bc_in, j), flags, shares,
        )  # fmt: skip
    return bc, co2
