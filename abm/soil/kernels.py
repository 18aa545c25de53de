"""Compiled (numba) inner loops of the soil hot paths, bit-identical to the numpy code they replace.

Each kernel is the element-wise arithmetic of a numpy expression written as a loop over farms
(and weather years), in the **same operation order**, so it returns the same doubles: numba
compiles without fast-math, so there is no re-association and no fused multiply-add. What is
*not* moved here is every transcendental (``exp``): numpy's SIMD ``exp`` and the C library's,
which numba calls, differ in the last bit for a few per cent of arguments, so the callers keep
computing exponentials with numpy and pass them in. Reductions that numpy does with BLAS
(``tensordot``) also stay in numpy.

All kernels are serial (no ``parallel=True``): the results cannot depend on the thread count,
and the model's parallelism is across runs (``abm batch``). Compiled code is cached on disk
(``cache=True``), so a process pays the compilation once per machine and Python version.
numba itself (which imports scipy) is imported on the first call of a kernel, not with this
module: ``import abm.soil`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_KERNELS = (
    "_periodic_deficit",
    "month_rates",
    "_compose_month",
    "compose_year",
    "_decayed",
    "compose_map",
    "compose_input",
    "segment_sums",
    "rothc_moisture",
    "rothc_decay_inputs",
)
"""Every kernel of this module (numba resolves a kernel's calls to the others when compiling)."""


def _compile_all() -> None:
    """Replace every kernel of this module by its numba dispatcher (first call of any)."""
    from numba import njit

    g = globals()
    for name in _KERNELS:
        fn = g[name]
        if isinstance(fn, _Lazy):
            g[name] = njit(cache=True)(fn.py_func)


class _Lazy:
    """A kernel before numba is imported: its first call compiles (or loads) all kernels."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args: Any) -> Any:
        _compile_all()
        return globals()[self.__name__](*args)


def _lazy(fn: Callable[..., Any]) -> Any:
    return _Lazy(fn)


__all__ = [
    "compose_input",
    "compose_map",
    "compose_year",
    "month_rates",
    "rothc_decay_inputs",
    "rothc_moisture",
    "segment_sums",
]


@_lazy
def _periodic_deficit(
    water: FloatArray, cov: NDArray[np.bool_], smd_max: float, smd_bare: float, out: FloatArray
) -> None:
    """``out[j]``: the periodic monthly soil-moisture deficit of one farm and weather year.

    Cycled from 0 in January until December repeats exactly (at most 5000 years), as the
    whole-array loop of :func:`abm.equilibrium._month_rates`: each farm iterates the same map
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
def month_rates(
    temp_a: FloatArray,
    rain: FloatArray,
    evap: FloatArray,
    zone: NDArray[np.intp],
    irrigation: FloatArray,
    covered: NDArray[np.bool_],
    rate_mod: FloatArray,
    smd_max: FloatArray,
    smd_1bar: FloatArray,
    smd_bare: FloatArray,
) -> FloatArray:
    """``(12, K, N)`` RothC rate modifiers ``a·b·c·rate_mod`` of the periodic year.

    ``temp_a``, ``rain``, ``evap``: ``(12, K, Z)`` per zone (``a`` already computed, with numpy's
    ``exp``); ``zone`` ``(N,)``; ``irrigation``, ``covered``, ``rate_mod`` ``(N, 12)``;
    ``smd_*`` ``(N,)``. Same equations and order as :func:`abm.equilibrium._month_rates`.
    """
    k_n = temp_a.shape[1]
    n = zone.size
    out = np.empty((12, k_n, n))
    water = np.empty(12)
    smd = np.empty(12)
    for i in range(n):
        z = zone[i]
        mx, one_bar = smd_max[i], smd_1bar[i]
        slope = (1.0 - 0.2) / (mx - one_bar)
        for k in range(k_n):
            for j in range(12):
                water[j] = (rain[j, k, z] + irrigation[i, j]) - 0.75 * evap[j, k, z]
            _periodic_deficit(water, covered[i], mx, smd_bare[i], smd)
            for j in range(12):
                s = smd[j]
                b = 1.0 if s > one_bar else 0.2 + (mx - s) * slope
                c = 0.6 if covered[i, j] else 1.0
                out[j, k, i] = temp_a[j, k, z] * b * (c * rate_mod[i, j])
    return out


@_lazy
def compose_year(
    decay: FloatArray,
    fb: FloatArray,
    fh: FloatArray,
    in_dpm: FloatArray,
    in_rpm: FloatArray,
    in_hum: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The non-zero entries of RothC's annual map, composed month by month.

    ``decay``: ``(4, 12, K, N)`` monthly decay factors ``exp(−k·dt·rate)`` per pool;
    ``fb``, ``fh``: ``(N,)`` BIO and HUM shares of decayed C; ``in_*``: ``(12, N)`` monthly
    inputs. Returns ``v0``, ``v1`` ``(2, K, N)`` (DPM, RPM rows: diagonal entry, input term) and
    ``v2``, ``v3`` ``(5, K, N)`` (BIO, HUM rows: columns DPM, RPM, BIO, HUM, input term) — the
    loop of :func:`abm.equilibrium._linear_fixed_point` fused over farms, month by month.
    """
    k_n, n = decay.shape[2], decay.shape[3]
    v0 = np.empty((2, k_n, n))
    v1 = np.empty((2, k_n, n))
    v2 = np.zeros((5, k_n, n))
    v3 = np.zeros((5, k_n, n))
    for k in range(k_n):
        v0[0, k] = 1.0
        v0[1, k] = 0.0
        v1[0, k] = 1.0
        v1[1, k] = 0.0
        v2[2, k] = 1.0
        v3[3, k] = 1.0
        for j in range(12):
            _compose_month(
                decay[0, j, k], decay[1, j, k], decay[2, j, k], decay[3, j, k], fb, fh,
                in_dpm[j], in_rpm[j], in_hum[j], v0[:, k], v1[:, k], v2[:, k], v3[:, k],
            )  # fmt: skip
    return v0, v1, v2, v3


@_lazy
def _compose_month(
    e0: FloatArray,
    e1: FloatArray,
    e2: FloatArray,
    e3: FloatArray,
    fb: FloatArray,
    fh: FloatArray,
    in_dpm: FloatArray,
    in_rpm: FloatArray,
    in_hum: FloatArray,
    v0: FloatArray,
    v1: FloatArray,
    v2: FloatArray,
    v3: FloatArray,
) -> None:
    """One month of :func:`compose_year` for one weather year, all farms.

    Unrolled over the pools with the former numpy order: ``dec = (1 − e2)·v2 + (1 − e3)·v3``,
    then the DPM/RPM terms added, then ``v ← v·e + f·dec`` and the inputs.
    """
    for i in range(e0.size):
        x0, x1, x2, x3 = e0[i], e1[i], e2[i], e3[i]
        d0, d1, d2, d3 = 1.0 - x0, 1.0 - x1, 1.0 - x2, 1.0 - x3
        b, h = fb[i], fh[i]
        a00, u0, a11, u1 = v0[0, i], v0[1, i], v1[0, i], v1[1, i]
        p0, p1, p2, p3, p4 = v2[0, i], v2[1, i], v2[2, i], v2[3, i], v2[4, i]
        q0, q1, q2, q3, q4 = v3[0, i], v3[1, i], v3[2, i], v3[3, i], v3[4, i]
        c0 = d2 * p0 + d3 * q0 + d0 * a00
        c1 = d2 * p1 + d3 * q1 + d1 * a11
        c2 = d2 * p2 + d3 * q2
        c3 = d2 * p3 + d3 * q3
        c4 = d2 * p4 + d3 * q4 + (d0 * u0 + d1 * u1)
        v2[0, i] = p0 * x2 + b * c0
        v2[1, i] = p1 * x2 + b * c1
        v2[2, i] = p2 * x2 + b * c2
        v2[3, i] = p3 * x2 + b * c3
        v2[4, i] = p4 * x2 + b * c4
        v3[0, i] = q0 * x3 + h * c0
        v3[1, i] = q1 * x3 + h * c1
        v3[2, i] = q2 * x3 + h * c2
        v3[3, i] = q3 * x3 + h * c3
        v3[4, i] = (q4 * x3 + h * c4) + in_hum[i]
        v0[0, i] = a00 * x0
        v0[1, i] = u0 * x0 + in_dpm[i]
        v1[0, i] = a11 * x1
        v1[1, i] = u1 * x1 + in_rpm[i]


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
        qq = q[i]
        p1 = qq * qq
        p2 = p1 * p1
        p3 = p2 * p2
        p4 = p3 * p3
        p5 = p4 * p4
        p6 = p5 * p5
        p7 = p6 * p6
        p8 = p7 * p7
        e1 = p3 * p2 * p1 * qq
        e2 = p5 * qq
        e0 = p8 * p7 * p6 * p5 * p4 * p2
        r0, r1, r2, r3 = state[0, i] * e0, state[1, i] * e1, state[2, i] * e2, state[3, i] * qq
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
