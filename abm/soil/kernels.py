"""Compiled (numba) inner loops of the soil hot paths, bit-identical to the numpy code they replace.

Each kernel is the element-wise arithmetic of a numpy expression written as a loop over farms
(and weather years), in the **same operation order**, so it returns the same doubles: numba
compiles without fast-math, so there is no re-association and no fused multiply-add. What is
*not* moved here is every transcendental (``exp``): numpy's SIMD ``exp`` and the C library's,
which numba calls, differ in the last bit for a few per cent of arguments, so the callers keep
computing exponentials with numpy and pass them in. Reductions that numpy does with BLAS
(``tensordot``) also stay in numpy.

One exception: the new-equilibrium diagnostic (:func:`linear_equilibrium`, with
:func:`moisture_modifiers`), which feeds nothing back into the model. Its moisture modifiers are
the numpy form's doubles, but its decay factors come from numba's ``exp`` of the humus rate and
the engine's powers of it (:func:`_decay_factors`), and its sums run in its own order: it equals
the numpy solver it replaced to rounding (< 1e-12 relative, ``tests/soil/test_kernels.py``),
not bit for bit.

All kernels are serial (no ``parallel=True``): the results cannot depend on the thread count,
and the model's parallelism is across runs (``abm batch``). Compiled code is cached on disk
(``cache=True``), so a process pays the compilation once per machine and Python version.
numba itself (which imports scipy) is imported on the first call of a kernel, not with this
module: ``import abm.soil`` stays light.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from abm.soil.lazyjit import LazyKernels

FloatArray = NDArray[np.float64]

_KERNELS = (
    "_decay_powers",
    "_periodic_deficit",
    "moisture_modifiers",
    "_shared_months",
    "_decay_factors",
    "_dpm_rpm_year",
    "_bio_hum_year",
    "linear_equilibrium",
    "_decayed",
    "compose_map",
    "compose_input",
    "segment_sums",
    "rothc_moisture",
    "rothc_decay_inputs",
)
"""Every kernel of this module (numba resolves a kernel's calls to the others when compiling)."""


_lazy = LazyKernels(globals(), _KERNELS)


__all__ = [
    "compose_input",
    "compose_map",
    "linear_equilibrium",
    "moisture_modifiers",
    "rothc_decay_inputs",
    "rothc_moisture",
    "segment_sums",
]


@_lazy
def _decay_powers(q: float) -> tuple[float, float, float, float]:
    """RothC's four monthly decay factors from ``q = exp(−rate·K_HUM·dt)``: its powers 500
    (DPM), 15 (RPM), 33 (BIO) and 1 (HUM), built from repeated squares in the engine's order
    (:func:`abm.soil.rothc.run` does the same in numpy), so the doubles are the engine's."""
    p1 = q * q
    p2 = p1 * p1
    p3 = p2 * p2
    p4 = p3 * p3
    p5 = p4 * p4
    p6 = p5 * p5
    p7 = p6 * p6
    p8 = p7 * p7
    return p8 * p7 * p6 * p5 * p4 * p2, p3 * p2 * p1 * q, p5 * q, q


@_lazy
def _periodic_deficit(
    water: FloatArray, cov: NDArray[np.bool_], smd_max: float, smd_bare: float, out: FloatArray
) -> None:
    """``out[j]``: the periodic monthly soil-moisture deficit of one farm and weather year.

    Cycled from 0 in January until December repeats exactly (at most 5000 years), as the
    whole-array numpy loop it replaces: each farm iterates the same map
    on its own, so stopping it at its own fixed point gives the same numbers.
    """
    start = 0.0
    for _ in range(5000):
        cur = start
        for j in range(12):
            wet = min(0.0, cur + water[j])
            lower = smd_max if cov[j] else min(smd_bare, cur)
            cur = max(lower, wet)
            out[j] = cur
        if cur == start:
            break
        start = cur


@_lazy
def moisture_modifiers(
    rain: FloatArray,
    evap: FloatArray,
    zone: NDArray[np.intp],
    irrigation: FloatArray,
    covered: NDArray[np.bool_],
    rate_mod: FloatArray,
    smd_max: FloatArray,
    smd_1bar: FloatArray,
    smd_bare: FloatArray,
    out: FloatArray,
) -> None:
    """``out`` ``(N, K, 12)``: the RothC rate modifiers other than temperature, ``b·c·rate_mod``.

    ``rain``, ``evap``: ``(Z, K, 12)`` the weather years per zone; ``zone`` ``(N,)``;
    ``irrigation``, ``covered``, ``rate_mod`` ``(N, 12)``; ``smd_*`` ``(N,)``
    (:func:`abm.soil.rothc._smd_limits`). ``b`` follows the periodic deficit
    (:func:`_periodic_deficit`). The equations and operation order of the whole-array numpy form
    (``b = 0.2 + (SMDmax − SMD)·(0.8/(SMDmax − SMD1bar))`` below 1 bar, times ``c·rate_mod``),
    so the same doubles.
    """
    k_n = rain.shape[1]
    water = np.empty(12)
    smd = np.empty(12)
    for i in range(zone.size):
        z = zone[i]
        mx, one_bar = smd_max[i], smd_1bar[i]
        slope = (1.0 - 0.2) / (mx - one_bar)
        for k in range(k_n):
            for j in range(12):
                water[j] = (rain[z, k, j] + irrigation[i, j]) - 0.75 * evap[z, k, j]
            _periodic_deficit(water, covered[i], mx, smd_bare[i], smd)
            for j in range(12):
                s = smd[j]
                b = 1.0 if s > one_bar else 0.2 + (mx - s) * slope
                c = 0.6 if covered[i, j] else 1.0
                out[i, k, j] = b * (c * rate_mod[i, j])


@_lazy
def _shared_months(rate: FloatArray, rain_nodes: int) -> int:
    """The leading months whose rates ``rate`` ``(K, 12)`` are equal (exactly) across each run
    of ``rain_nodes`` weather years (wet winters: rain alone differs, the soil is full)."""
    k_n = rate.shape[0]
    if rain_nodes == 1:
        return 0
    for j in range(12):
        for k in range(k_n):
            if rate[k, j] != rate[k - k % rain_nodes, j]:
                return j
    return 12


@_lazy
def _decay_factors(
    rate: FloatArray,
    g: FloatArray,
    k_hum_dt: float,
    shared: int,
    step: int,
    memo_g: FloatArray,
    memo_e: FloatArray,
    e: FloatArray,
) -> None:
    """``e[k, j] = exp(−k_p·dt·rate[k, j])`` of the four pools, the shared months only at each
    run's first weather year (``k`` a multiple of ``step``: the others are equal).

    One ``exp`` per month, ``q = exp(−K_HUM·dt·rate)``; the other pools' factors are its powers
    500, 15 and 33 by repeated squares, as the engine's month
    (:func:`rothc_decay_inputs`): equal to ``exp`` to a few hundred ulp (< 1e-13 relative).
    ``rate = a·g`` with ``a`` the zone's temperature modifier: where ``g[k, j]`` equals
    ``memo_g[k, j]`` (the last farm of the zone computed), the factors ``memo_e[k, j]`` are the
    same numbers and are copied (neighbouring farms often share their modifiers).
    """
    for k in range(rate.shape[0]):
        first = 0 if k % step == 0 else shared
        for j in range(first, 12):
            if g[k, j] == memo_g[k, j]:
                for p in range(4):
                    e[k, j, p] = memo_e[k, j, p]
                continue
            e0, e1, e2, e3 = _decay_powers(np.exp(-k_hum_dt * rate[k, j]))
            e[k, j, 0] = e0
            e[k, j, 1] = e1
            e[k, j, 2] = e2
            e[k, j, 3] = e3
            memo_g[k, j] = g[k, j]
            for p in range(4):
                memo_e[k, j, p] = e[k, j, p]


@_lazy
def _dpm_rpm_year(
    e: FloatArray,
    k: int,
    j0: int,
    j1: int,
    in0: FloatArray,
    in1: FloatArray,
    s: tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    """Months ``j0``–``j1 − 1`` of weather year ``k`` on ``s = (a0, u0, a1, u1)``: DPM and RPM
    as ``x ← e·x + u`` (slope ``a``, offset ``u``)."""
    a0, u0, a1, u1 = s
    for j in range(j0, j1):
        e0, e1 = e[k, j, 0], e[k, j, 1]
        a0 = a0 * e0
        u0 = u0 * e0 + in0[j]
        a1 = a1 * e1
        u1 = u1 * e1 + in1[j]
    return a0, u0, a1, u1


@_lazy
def _bio_hum_year(
    e: FloatArray,
    k: int,
    j0: int,
    j1: int,
    fb: float,
    fh: float,
    in0: FloatArray,
    in1: FloatArray,
    in_hum: FloatArray,
    s: tuple[float, float, float, float, float, float, float, float],
) -> tuple[float, float, float, float, float, float, float, float]:
    """Months ``j0``–``j1 − 1`` of weather year ``k`` on ``s``: DPM, RPM, then BIO of the three
    columns (unit BIO, unit HUM, the year from the DPM/RPM state with the inputs), then HUM of
    them. What decays goes to BIO and HUM in the shares ``fb``, ``fh``; numpy's order of
    operations (``(l2·BIO + l3·HUM) + l0·DPM + l1·RPM``)."""
    x0, x1, b0, b1, b2, h0, h1, h2 = s
    for j in range(j0, j1):
        e0, e1, e2, e3 = e[k, j, 0], e[k, j, 1], e[k, j, 2], e[k, j, 3]
        l2, l3 = 1.0 - e2, 1.0 - e3
        m00, m01, m10, m11 = e2 + fb * l2, fb * l3, fh * l2, e3 + fh * l3
        ext = (1.0 - e0) * x0 + (1.0 - e1) * x1
        b0, h0 = m00 * b0 + m01 * h0, m10 * b0 + m11 * h0
        b1, h1 = m00 * b1 + m01 * h1, m10 * b1 + m11 * h1
        b2, h2 = m00 * b2 + m01 * h2 + fb * ext, (m10 * b2 + m11 * h2 + fh * ext) + in_hum[j]
        x0 = x0 * e0 + in0[j]
        x1 = x1 * e1 + in1[j]
    return x0, x1, b0, b1, b2, h0, h1, h2


@_lazy
def linear_equilibrium(
    temp_a: FloatArray,
    zone: NDArray[np.intp],
    moist: FloatArray,
    weights: FloatArray,
    k_hum_dt: float,
    fb: FloatArray,
    fh: FloatArray,
    in_dpm: FloatArray,
    in_rpm: FloatArray,
    in_hum: FloatArray,
    rain_nodes: int,
    out: FloatArray,
) -> None:
    """``out`` ``(N, 4)``: DPM, RPM, BIO, HUM at the fixed point of the weather-mean annual map.

    ``temp_a`` ``(Z, K, 12)`` the temperature modifier per zone and weather year; ``moist``
    ``(N, K, 12)`` :func:`moisture_modifiers`; ``weights`` ``(K,)``; ``k_hum_dt``
    ``K_HUM·dt`` (the other pools' rates are 500, 15 and 33 times it, :func:`_decay_factors`);
    ``fb``, ``fh`` ``(N,)``; ``in_*`` ``(N, 12)`` monthly inputs. Per farm, the algorithm of
    :func:`abm.equilibrium.linear_pools` (its docstring): DPM and RPM scalar fixed points of
    the means ``x = ū/(1 − ā)``, then the year from them with the BIO/HUM unit columns, the
    2×2 fixed point by Cramer's rule. The first months equal across each run of
    ``rain_nodes`` weather years are run once per run and copied.
    """
    k_n = weights.size
    rate = np.empty((k_n, 12))
    e = np.empty((k_n, 12, 4))
    memo_g = np.full((temp_a.shape[0], k_n, 12), np.nan)  # per zone (_decay_factors)
    memo_e = np.empty((temp_a.shape[0], k_n, 12, 4))
    for i in range(zone.size):
        z = zone[i]
        for k in range(k_n):
            for j in range(12):
                rate[k, j] = temp_a[z, k, j] * moist[i, k, j]
        shared = _shared_months(rate, rain_nodes)
        _decay_factors(rate, moist[i], k_hum_dt, shared, rain_nodes, memo_g[z], memo_e[z], e)
        i0, i1, ih = in_dpm[i], in_rpm[i], in_hum[i]
        a0 = a1 = u0 = u1 = 0.0
        for k0 in range(0, k_n, rain_nodes):
            s = _dpm_rpm_year(e, k0, 0, shared, i0, i1, (1.0, 0.0, 1.0, 0.0))
            for k in range(k0, k0 + rain_nodes):
                t = _dpm_rpm_year(e, k, shared, 12, i0, i1, s)
                a0 += weights[k] * t[0]
                u0 += weights[k] * t[1]
                a1 += weights[k] * t[2]
                u1 += weights[k] * t[3]
        x0, x1 = u0 / (1.0 - a0), u1 / (1.0 - a1)
        b22 = b23 = r2 = b32 = b33 = r3 = 0.0  # weighted BIO and HUM rows
        for k0 in range(0, k_n, rain_nodes):
            start = (x0, x1, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
            v = _bio_hum_year(e, k0, 0, shared, fb[i], fh[i], i0, i1, ih, start)
            for k in range(k0, k0 + rain_nodes):
                w = _bio_hum_year(e, k, shared, 12, fb[i], fh[i], i0, i1, ih, v)
                b22 += weights[k] * w[2]
                b23 += weights[k] * w[3]
                r2 += weights[k] * w[4]
                b32 += weights[k] * w[5]
                b33 += weights[k] * w[6]
                r3 += weights[k] * w[7]
        m11, m12, m21, m22 = 1.0 - b22, -b23, -b32, 1.0 - b33
        det = m11 * m22 - m12 * m21
        out[i, 0], out[i, 1] = x0, x1
        out[i, 2] = (r2 * m22 - m12 * r3) / det
        out[i, 3] = (m11 * r3 - m21 * r2) / det


@_lazy
def _decayed(e: FloatArray, x: FloatArray, c: int) -> float:
    """``Σ_r (1 − e_r)·x[r, c]``, summed from the first pool on (numpy's order on 4 terms)."""
    s = (1.0 - e[0]) * x[0, c]
    for r in range(1, 4):
        s += (1.0 - e[r]) * x[r, c]
    return s


@_lazy
def compose_map(decay: FloatArray, fb: FloatArray, fh: FloatArray) -> FloatArray:
    """``(N, 4, 4)`` the 12 monthly linear maps of RothC composed, per farm.

    ``decay``: ``(N, 12, 4)`` monthly decay factors ``exp(−k·dt·rate)``; ``fb``, ``fh``:
    ``(N,)`` BIO and HUM shares of decayed C. Each month applies ``x ← e·x`` and adds
    ``f·Σ(1 − e)·x`` to BIO and HUM — the operations of ``spinup._month_apply`` on the
    identity, in the same order.
    """
    n = decay.shape[0]
    out = np.empty((n, 4, 4))
    x = np.empty((4, 4))
    dec = np.empty(4)
    for i in range(n):
        x[:] = 0.0
        for r in range(4):
            x[r, r] = 1.0
        for j in range(12):
            e = decay[i, j]
            for c in range(4):
                dec[c] = _decayed(e, x, c)
            for r in range(4):
                for c in range(4):
                    x[r, c] = e[r] * x[r, c]
            for c in range(4):
                x[2, c] += fb[i] * dec[c]
                x[3, c] += fh[i] * dec[c]
        out[i] = x
    return out


@_lazy
def compose_input(decay: FloatArray, fb: FloatArray, fh: FloatArray, u: FloatArray) -> FloatArray:
    """``(N, 4)`` the annual input term of the composed map for monthly inputs ``u`` (N, 12, 4).

    ``acc ← month(acc) + u_j`` from zero, month by month, as ``spinup._compose`` does it.
    """
    n = decay.shape[0]
    out = np.empty((n, 4))
    x = np.empty((4, 1))
    for i in range(n):
        x[:] = 0.0
        for j in range(12):
            e = decay[i, j]
            d = _decayed(e, x, 0)
            for r in range(4):
                x[r, 0] = e[r] * x[r, 0]
            x[2, 0] += fb[i] * d
            x[3, 0] += fh[i] * d
            for r in range(4):
                x[r, 0] = x[r, 0] + u[i, j, r]
        out[i] = x[:, 0]
    return out


@_lazy
def segment_sums(x: FloatArray, bounds: NDArray[np.int64]) -> FloatArray:
    """``out[p] = x[bounds[p]] + … + x[bounds[p+1] − 1]``, added one after the other from 0.

    The order numpy uses to reduce an ``(N, P)`` array over its first axis, so the column sums
    of a matrix equal the segment sums of its columns' non-zero entries laid end to end (adding
    the zeros changes nothing).
    """
    out = np.empty(bounds.size - 1)
    for p in range(bounds.size - 1):
        s = 0.0
        for i in range(bounds[p], bounds[p + 1]):
            s += x[i]
        out[p] = s
    return out


@_lazy
def rothc_moisture(
    smd: FloatArray,
    rain: FloatArray,
    evap: FloatArray,
    cov: NDArray[np.bool_],
    smd_max: FloatArray,
    smd_bare: FloatArray,
    b_slope: FloatArray,
    a_k: FloatArray,
    rmod: FloatArray,
    has_rmod: bool,
    arg: FloatArray,
) -> None:
    """One RothC month, steps 2–3 of :func:`abm.soil.rothc.run` for every row (no cap).

    Updates the deficit ``smd`` in place and writes the decay exponent
    ``arg = −rate·K_HUM·dt`` (``rate = a·b·c·rate_mod``); ``a_k = a·(−K_HUM·dt)`` with ``a``
    the temperature modifier (numpy's ``exp``). Same operations, same order as the engine.
    """
    for i in range(smd.size):
        c = 1.0 if cov[i] else 0.0
        bare = 1.0 - c
        df = rain[i] - 0.75 * evap[i]
        wet = min(smd[i] + df, 0.0)
        thr = min(c * smd_max[i] + bare * smd_bare[i], smd[i])
        s = max(thr, wet)
        smd[i] = s
        b = min((smd_max[i] - s) * b_slope[i] + 0.2, 1.0)
        x = (c * (0.6 * a_k[i]) + bare * a_k[i]) * b
        if has_rmod:
            x = x * rmod[i]
        arg[i] = x


@_lazy
def rothc_decay_inputs(
    q: FloatArray,
    state: FloatArray,
    co2: FloatArray,
    frac_bio: FloatArray,
    frac_hum: FloatArray,
    frac_co2: FloatArray,
    bc: FloatArray,
    bc_keep: FloatArray,
    pc: FloatArray,
    to_dpm: FloatArray,
    to_rpm: FloatArray,
    fym: FloatArray,
    bcm: FloatArray,
    flags: tuple[bool, bool, bool],
    shares: tuple[float, float, float, float, float],
) -> None:
    """One RothC month, steps 4–6 of :func:`abm.soil.rothc.run` for every row (no cap).

    ``q = exp(−rate·K_HUM·dt)`` (numpy's ``exp`` or the engine's Padé form); the four decay
    factors are its powers 500, 15, 33, 1 built from repeated squares in the engine's order;
    what decayed is split into BIO, HUM and CO2; the biochar pool keeps ``bc_keep`` of itself;
    then plant C (``pc`` split by ``to_dpm``/``to_rpm``), manure C ``fym`` and biochar C
    ``bcm`` are added. ``flags``: biochar on, manure present, biochar added; ``shares``: FYM
    split to DPM, RPM, HUM, then the stable and labile biochar shares. ``state`` ``(4, N)``,
    ``co2`` and ``bc`` are updated in place.
    """
    use_bc, has_fym, has_bcm = flags
    for i in range(q.size):
        e0, e1, e2, e3 = _decay_powers(q[i])
        r0, r1, r2, r3 = state[0, i] * e0, state[1, i] * e1, state[2, i] * e2, state[3, i] * e3
        d_tot = (state[0, i] - r0) + (state[1, i] - r1) + (state[2, i] - r2) + (state[3, i] - r3)
        bio = r2 + d_tot * frac_bio[i]
        hum = r3 + d_tot * frac_hum[i]
        co2[i] += d_tot * frac_co2[i]
        if use_bc:
            new = bc[i] * bc_keep[i]
            co2[i] += bc[i] - new
            bc[i] = new
        dpm = r0 + pc[i] * to_dpm[i]
        rpm = r1 + pc[i] * to_rpm[i]
        if has_fym:
            f = fym[i]
            dpm += f * shares[0]
            rpm += f * shares[1]
            hum += f * shares[2]
        if has_bcm:
            b = bcm[i]
            bc[i] = bc[i] + shares[3] * b
            dpm += shares[4] * b
        state[0, i], state[1, i], state[2, i], state[3, i] = dpm, rpm, bio, hum
