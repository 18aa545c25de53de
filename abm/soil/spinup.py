"""RothC-26.3 spin-up: the exact equilibrium, its parts, and the inverse mode.

The 12 monthly maps of the average year are affine in the active pools, ``P' = A·P + u``; their
composition is solved for the fixed point ``(I − A)·P = u`` (:func:`equilibrium`), optionally
averaged over weather years (:class:`Weather`); :func:`equilibrium_parts` gives the parts of
several inputs at once; :func:`inputs_for_stock` inverts the equilibrium for the plant input
that gives a measured stock; :func:`official_spinup_months` counts the months the official
1e-6 t C/ha criterion would take. Public names are re-exported by :mod:`abm.soil.rothc`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abm.errors import UserInputError
from abm.soil import kernels
from abm.soil.rothc_core import (
    _K,
    BIO_SHARE,
    DT,
    FYM_SPLIT,
    HUM_SHARE,
    FloatArray,
    _check_nonneg,
    _monthly,
    _n_farms,
    _per_farm,
    _Soil,
    _soil,
    rate_cover,
    rate_temperature,
)

if TYPE_CHECKING:
    from abm.soil.saturation import Saturation

COMPOSE_BLOCK = 16384
"""Farms whose monthly maps are composed together (bounds the ``(B, 12, 4)`` decay factors;
no effect on the result)."""


# --------------------------------------------------------------------------------------------
# Spin-up: annual affine maps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Year:
    """Drivers of one average year, normalised to per-farm ``(N, 12)`` / ``(N,)`` arrays."""

    n: int
    iom: FloatArray
    soil: _Soil
    temp: FloatArray
    rain: FloatArray
    evap: FloatArray
    plant: FloatArray
    fym: FloatArray
    cov: NDArray[np.bool_]
    ratio: FloatArray
    rmod: FloatArray | None


def _year(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    rate_mod: ArrayLike | None,
    extra_farm_shapes: tuple[tuple[int, ...], ...] = (),
) -> _Year:
    arrs = [np.asarray(v) for v in (temp12, rain12, evap12, plant_c12, fym12, covered12)]
    for name, a in zip(("temp12", "rain12", "evap12"), arrs[:3], strict=True):
        if a.ndim not in (1, 2) or a.shape[-1] != 12:
            raise ValueError(f"{name}: expected shape (12,) or (N, 12), got {a.shape}")
    for name, a in zip(("plant_c12", "fym12", "covered12"), arrs[3:], strict=True):
        if a.ndim > 2:
            raise ValueError(f"{name}: expected a scalar, (12,) or (N, 12), got {a.shape}")
    shapes: list[tuple[int, ...]] = [np.shape(iom), np.shape(clay), np.shape(depth_cm)]
    shapes += [a.shape[:-1] for a in arrs if a.ndim == 2]
    ratio = np.asarray(dpm_rpm, dtype=float)
    if ratio.ndim >= 1:
        shapes.append(ratio.shape[:1])
    if rate_mod is not None and np.ndim(rate_mod) >= 1:
        shapes.append(np.shape(rate_mod)[:1])
    shapes += list(extra_farm_shapes)
    n = _n_farms(*shapes)

    def full(x: ArrayLike, name: str, per_farm_1d: bool = False) -> NDArray[np.generic]:
        return np.ascontiguousarray(
            np.broadcast_to(_monthly(x, n, 12, name, per_farm_1d=per_farm_1d), (n, 12))
        )

    plant = full(plant_c12, "plant_c12").astype(float)
    fym = full(fym12, "fym12").astype(float)
    _check_nonneg(plant, "plant_c12")
    _check_nonneg(fym, "fym12")
    cov_raw = np.asarray(covered12)
    cov = full(cov_raw if cov_raw.dtype == bool else cov_raw != 0, "covered12").astype(bool)
    ratio_f = full(ratio, "dpm_rpm", per_farm_1d=True).astype(float)
    _check_nonneg(ratio_f, "dpm_rpm")
    rmod = None if rate_mod is None else full(rate_mod, "rate_mod", per_farm_1d=True).astype(float)
    if rmod is not None:
        _check_nonneg(rmod, "rate_mod")
    iom_a = np.array(_per_farm(iom, n, "iom"), dtype=float)
    _check_nonneg(iom_a, "iom")
    return _Year(
        n=n,
        iom=iom_a,
        soil=_soil(
            np.array(_per_farm(clay, n, "clay")), np.array(_per_farm(depth_cm, n, "depth_cm"))
        ),
        temp=full(temp12, "temp12").astype(float),
        rain=full(rain12, "rain12").astype(float),
        evap=full(evap12, "evap12").astype(float),
        plant=plant,
        fym=fym,
        cov=cov,
        ratio=ratio_f,
        rmod=rmod,
    )


def _smd_year(y: _Year, smd0: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Run the deficit through one year from ``smd0``: returns ``(smd (N, 12), b (N, 12))``."""
    s = y.soil
    smd = np.empty((y.n, 12))
    b = np.empty((y.n, 12))
    cur = smd0
    for j in range(12):
        wet = np.minimum(0.0, cur + (y.rain[:, j] - 0.75 * y.evap[:, j]))
        lower = np.where(y.cov[:, j], s.smd_max, np.minimum(s.smd_bare, cur))
        cur = np.maximum(lower, wet)
        smd[:, j] = cur
        b[:, j] = np.where(cur > s.smd_1bar, 1.0, 0.2 + (s.smd_max - cur) * s.b_slope)
    return smd, b


def _periodic_smd(y: _Year, max_years: int = 5000) -> tuple[FloatArray, FloatArray, int]:
    """Cycle the deficit from 0 in January until its December value repeats exactly.

    The deficit depends only on climate and cover, so it reaches a periodic state (usually in
    one or two years). Returns ``(smd (N, 12), b (N, 12), years)`` of the periodic year.
    """
    smd0 = np.zeros(y.n)
    for year in range(1, max_years + 1):
        smd, b = _smd_year(y, smd0)
        if np.array_equal(smd[:, -1], smd0):
            return smd, b, year
        smd0 = smd[:, -1].copy()
    return smd, b, max_years  # practically periodic; the official run would be no closer


def _rates(y: _Year, b: FloatArray) -> FloatArray:
    """Combined rate modifier ``a·b·c(·rate_mod)`` for the 12 months, ``(N, 12)``."""
    rate = rate_temperature(y.temp) * b * rate_cover(y.cov)
    if y.rmod is not None:
        rate = rate * y.rmod
    return rate


def _input_vectors(y: _Year) -> tuple[FloatArray, FloatArray]:
    """Monthly input vectors ``(N, 12, 4)`` of plant C and of FYM (official split)."""
    zero = np.zeros_like(y.plant)
    up = np.stack([y.plant * y.ratio / (y.ratio + 1.0), y.plant / (y.ratio + 1.0), zero, zero], -1)
    f = y.fym
    uf = np.stack([FYM_SPLIT[0] * f, FYM_SPLIT[1] * f, zero, FYM_SPLIT[2] * f], axis=-1)
    return up, uf


def _month_apply(y: _Year, e: FloatArray, x: FloatArray) -> FloatArray:
    """Apply a month's linear map (decay, then BIO/HUM formation) to ``x`` (N, 4, …).

    The map is ``diag(e) + f ⊗ (1 − e)`` with ``e = exp(−k·rate·dt)`` (N, 4) and
    ``f = (0, 0, 0.46, 0.54)/(x + 1)``: decay keeps ``e·x`` and what decayed,
    ``Σ (1 − e)·x``, forms BIO and HUM. Applied to the columns of a matrix it composes the
    monthly maps without building them.
    """
    tail = (1,) * (x.ndim - 2)
    e = e.reshape((y.n, 4, *tail))
    decayed = np.sum((1.0 - e) * x, axis=1)
    out = e * x
    out[:, 2] += y.soil.frac_bio.reshape((y.n, *tail)) * decayed
    out[:, 3] += y.soil.frac_hum.reshape((y.n, *tail)) * decayed
    return out


def _compose(y: _Year, rate: FloatArray, *us: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
    """Compose the 12 monthly affine maps ``P ← M_j·P + u_j`` into ``P ← A·P + u`` per farm.

    The monthly decay factors come from numpy's ``exp``; the composition (the operations of
    :func:`_month_apply`, same order) runs in the compiled :mod:`abm.soil.kernels`, in blocks
    of :data:`COMPOSE_BLOCK` farms so no ``(N, 12, 4)`` temporary is built at once.
    """
    a_mat = np.empty((y.n, 4, 4))
    acc = [np.empty((y.n, 4)) for _ in us]
    k_dt = -(_K * DT)[np.newaxis, :]
    fb, fh = y.soil.frac_bio, y.soil.frac_hum
    for lo in range(0, y.n, COMPOSE_BLOCK):
        sl = slice(lo, min(lo + COMPOSE_BLOCK, y.n))
        r = rate[sl]
        # month by month, as the (N, 4) exponent arrays of the former loop
        decay = np.stack([np.exp(k_dt * r[:, j, np.newaxis]) for j in range(12)], axis=1)
        a_mat[sl] = kernels.compose_map(decay, fb[sl], fh[sl])
        for out, u in zip(acc, us, strict=True):
            out[sl] = kernels.compose_input(decay, fb[sl], fh[sl], np.ascontiguousarray(u[sl]))
    return a_mat, acc


@dataclass(frozen=True)
class _Affine:
    """The periodic average year: monthly rates, inputs and the composed affine map."""

    rate: FloatArray  # (N, 12)
    smd_dec: FloatArray  # (N,)
    up: FloatArray  # (N, 12, 4) plant input per month
    uf: FloatArray  # (N, 12, 4) manure input per month
    a_mat: FloatArray  # (N, 4, 4)
    u_p: FloatArray  # (N, 4) annual plant-input term
    u_f: FloatArray  # (N, 4) annual manure term


def _prepare(y: _Year) -> _Affine:
    smd, b, _ = _periodic_smd(y)
    rate = _rates(y, b)
    up, uf = _input_vectors(y)
    a_mat, (u_p, u_f) = _compose(y, rate, up, uf)
    return _Affine(rate, smd[:, -1].copy(), up, uf, a_mat, u_p, u_f)


@dataclass(frozen=True)
class Weather:
    """Weather years with probabilities, for the equilibrium under a variable climate.

    ``temp``, ``rain``, ``evap``: ``(K, 12)`` or ``(K, N, 12)`` monthly temperature (°C),
    rainfall (mm, incl. any irrigation) and open-pan evaporation (mm) of ``K`` years;
    ``weights``: ``(K,)`` probabilities summing to 1 (e.g. a quadrature of the inter-annual
    noise, :func:`abm.soil.climate.weather_quadrature`).
    """

    temp: FloatArray
    rain: FloatArray
    evap: FloatArray
    weights: FloatArray


def _weather_years(y: _Year, w: Weather) -> list[tuple[float, _Year]]:
    """``y`` under each weather year of ``w``, with the year's probability."""

    def per_farm(x: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.broadcast_to(x, (y.n, 12)), dtype=float)

    return [
        (
            float(wk),
            replace(
                y, temp=per_farm(w.temp[k]), rain=per_farm(w.rain[k]), evap=per_farm(w.evap[k])
            ),
        )
        for k, wk in enumerate(np.asarray(w.weights, dtype=float))
    ]


def _mean_affine(aff: _Affine, y: _Year, w: Weather) -> _Affine:
    """``aff`` with its annual map replaced by the weighted mean over the weather years."""
    a_mat = np.zeros_like(aff.a_mat)
    u_p = np.zeros_like(aff.u_p)
    u_f = np.zeros_like(aff.u_f)
    for wk, yk in _weather_years(y, w):
        ak = _prepare(yk)
        a_mat += wk * ak.a_mat
        u_p += wk * ak.u_p
        u_f += wk * ak.u_f
    return replace(aff, a_mat=a_mat, u_p=u_p, u_f=u_f)


def equilibrium_parts(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12s: list[ArrayLike],
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    weather: Weather | None = None,
) -> tuple[FloatArray, list[FloatArray], FloatArray]:
    """Equilibrium pools of the plant input alone and of each manure input alone (no saturation).

    Without saturation RothC is affine in its inputs for fixed climate, cover and rates, so the
    equilibrium of any combination is the sum of these parts plus IOM — one composition of the
    year's (or the weather years' mean) map serves the plant input, the farm's manure and any
    tracer's manure at once. Arguments as in :func:`equilibrium`; ``fym12s`` is a list of manure
    inputs ``(12,)`` or ``(N, 12)``.

    Returns
    -------
    plant_pools, fym_pools, smd_dec
        ``(N, 4)`` equilibrium of ``plant_c12`` alone, a list of ``(N, 4)`` equilibria of each
        manure input alone, and the periodic December deficit of the normals (mm).
    """
    y = _year(
        iom,
        clay,
        depth_cm,
        temp12,
        rain12,
        evap12,
        plant_c12,
        fym12s[0],
        covered12,
        dpm_rpm,
        rate_mod,
    )
    zero = np.zeros_like(y.plant)
    ufs = []
    for fym in fym12s:
        f = np.ascontiguousarray(np.broadcast_to(np.asarray(fym, dtype=float), (y.n, 12)))
        _check_nonneg(f, "fym12s")
        ufs.append(np.stack([FYM_SPLIT[0] * f, FYM_SPLIT[1] * f, zero, FYM_SPLIT[2] * f], -1))
    up, _ = _input_vectors(y)
    smd, b, _ = _periodic_smd(y)
    samples: list[tuple[float, _Year, FloatArray]] = [(1.0, y, b)]
    if weather is not None:
        samples = [(wk, yk, _periodic_smd(yk)[1]) for wk, yk in _weather_years(y, weather)]
    a_mat = np.zeros((y.n, 4, 4))
    us = [np.zeros((y.n, 4)) for _ in range(1 + len(ufs))]
    for wk, yk, bk in samples:
        ak, uk = _compose(yk, _rates(yk, bk), up, *ufs)
        a_mat += wk * ak
        for acc, u in zip(us, uk, strict=True):
            acc += wk * u
    parts = _solve_fixed_point(a_mat, *us)
    return parts[0], parts[1:], smd[:, -1].copy()


def _solve_fixed_point(a_mat: FloatArray, *us: FloatArray) -> list[FloatArray]:
    """Solve ``(I − A)·P = u`` per farm for each right-hand side."""
    lhs = np.eye(4)[np.newaxis] - a_mat
    rhs = np.stack(us, axis=-1)  # (N, 4, K)
    sol = np.linalg.solve(lhs, rhs)
    return [np.asarray(sol[:, :, k], dtype=np.float64) for k in range(len(us))]


# --- saturation: non-linear annual map ------------------------------------------------------


def _sat_year_map(
    y: _Year, rate: FloatArray, cap: FloatArray, p: FloatArray, u_in: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One average year with saturation: ``F(P)`` and its Jacobian ``dF/dP`` (N, 4, 4).

    Mirrors the month of :func:`run` (including the two capacity guards), with the Jacobian
    propagated month by month by the chain rule.
    """
    n = y.n
    cur = p.copy()
    jac = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    kdt = _K * DT
    fs = y.soil.frac_stab
    for j in range(12):
        e = np.exp(-kdt[None, :] * rate[:, j, None])  # (N, 4)
        lost = 1.0 - e
        d_tot = np.sum(cur * lost, axis=1)
        c_ma0 = cur[:, 2] + cur[:, 3] + y.iom
        s_raw = 1.0 - c_ma0 / cap
        s = np.maximum(0.0, s_raw)
        ds = np.where(s_raw > 0, -1.0 / cap, 0.0)  # d s / d(BIO or HUM)
        dec = cur * e
        room_raw = cap - (dec[:, 2] + dec[:, 3] + y.iom)
        room = np.maximum(0.0, room_raw)
        want = s * d_tot * fs
        clip = want > room
        formed = np.where(clip, room, want)
        # d formed / d P  (N, 4)
        g_want = (s * fs)[:, None] * lost
        g_want[:, 2] += d_tot * fs * ds
        g_want[:, 3] += d_tot * fs * ds
        g_room = np.zeros((n, 4))
        pos = room_raw > 0
        g_room[:, 2] = np.where(pos, -e[:, 2], 0.0)
        g_room[:, 3] = np.where(pos, -e[:, 3], 0.0)
        g_formed = np.where(clip[:, None], g_room, g_want)
        # month Jacobian M (N, 4, 4)
        mj = np.zeros((n, 4, 4))
        idx = np.arange(4)
        mj[:, idx, idx] = e
        mj[:, 2, :] += BIO_SHARE * g_formed
        mj[:, 3, :] += HUM_SHARE * g_formed
        nxt = dec.copy()
        nxt[:, 2] += BIO_SHARE * formed
        nxt[:, 3] += HUM_SHARE * formed
        # inputs; humified manure only into the remaining room, the rest to RPM
        u = u_in[:, j]
        nxt[:, 0] += u[:, 0]
        nxt[:, 1] += u[:, 1]
        f_hum = u[:, 3]
        room2_raw = cap - (nxt[:, 2] + nxt[:, 3] + y.iom)
        room2 = np.maximum(0.0, room2_raw)
        to_hum = np.minimum(f_hum, room2)
        nxt[:, 3] += to_hum
        nxt[:, 1] += f_hum - to_hum
        clip2 = (f_hum > room2) & (room2_raw > 0)
        if np.any(clip2):
            # to_hum = cap − BIO' − HUM' − IOM: derivative through the pre-input BIO', HUM'
            g2 = -(mj[:, 2, :] + mj[:, 3, :])
            mj[:, 3, :] += np.where(clip2[:, None], g2, 0.0)
            mj[:, 1, :] -= np.where(clip2[:, None], g2, 0.0)
        cur = nxt
        jac = np.matmul(mj, jac)
    return cur, jac


def _sat_equilibrium(
    y: _Year,
    rate: FloatArray,
    cap: FloatArray,
    u_in: FloatArray,
    start: FloatArray,
    tol: float = 1e-12,
) -> FloatArray:
    """Newton's method with backtracking on ``F(P) − P = 0`` (saturated annual map).

    Each farm's iterates depend on its own row only, so the annual map is evaluated for the
    farms not yet converged alone (the result is the same as iterating every farm).
    """
    p = start.copy()
    eye = np.eye(4)[np.newaxis]
    f, jac = _sat_year_map(y, rate, cap, p, u_in)
    res = f - p
    norm = np.max(np.abs(res), axis=1)
    for _ in range(200):
        todo = np.flatnonzero(norm > tol)
        if todo.size == 0:
            return p
        sub = _year_rows(y, todo)
        step = np.linalg.solve(jac[todo] - eye, -res[todo][:, :, None])[:, :, 0]
        p_t, norm_0 = p[todo], norm[todo]
        lam = np.ones(todo.size)
        # backtracking: accept the largest λ in 1, 1/2, ... that lowers the residual
        for _ in range(30):
            trial = np.maximum(p_t + lam[:, None] * step, 0.0)
            f_t, jac_t = _sat_year_map(sub, rate[todo], cap[todo], trial, u_in[todo])
            res_t = f_t - trial
            norm_t = np.max(np.abs(res_t), axis=1)
            ok = (norm_t < norm_0) | (lam < 1e-6)
            if np.all(ok):
                break
            lam = np.where(ok, lam, lam * 0.5)
        p[todo], res[todo], jac[todo], norm[todo] = trial, res_t, jac_t, norm_t
    if np.any(norm > 1e-8):
        raise RuntimeError(
            f"saturated spin-up did not converge for {int(np.sum(norm > 1e-8))} farm(s); "
            f"largest annual residual {float(np.max(norm)):.3g} t C/ha"
        )
    return p


def _year_rows(y: _Year, rows: NDArray[np.intp]) -> _Year:
    """The farms ``rows`` of ``y``."""
    soil = _Soil(**{f.name: getattr(y.soil, f.name)[rows] for f in fields(_Soil)})
    per_farm = {
        f.name: getattr(y, f.name)[rows]
        for f in fields(_Year)
        if f.name not in ("n", "soil") and getattr(y, f.name) is not None
    }
    return replace(y, n=rows.size, soil=soil, **per_farm)


def _sat_solve(
    y: _Year,
    aff: _Affine,
    saturation: Saturation,
    scale: FloatArray,
    eq_p: FloatArray,
    eq_f: FloatArray,
) -> FloatArray:
    """Saturated equilibrium with the plant input times ``scale``, by Newton's method."""
    cap = np.array(_per_farm(saturation.capacity, y.n, "saturation.capacity"), dtype=float)
    u_in = scale[:, None, None] * aff.up + aff.uf
    start = scale[:, None] * eq_p + eq_f
    start[:, 2:] = 0.0  # from below the capacity: Newton then approaches monotonically
    return _sat_equilibrium(y, aff.rate, cap, u_in, start)


def equilibrium(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    saturation: Saturation | None = None,
    weather: Weather | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Exact spin-up: the periodic equilibrium of the average year, at the end of December.

    The deficit is first cycled from 0 in January (northern-hemisphere convention of the
    official code) to its periodic state, which depends only on climate and cover. The 12
    monthly maps of the active pools are then affine, ``P ← M_j·P + u_j``; they are composed
    into ``P ← A·P + u`` per farm (batched 4×4 matrices) and ``(I − A)·P = u`` is solved. This
    is the limit the official spin-up (repeat the year until the annual change of the active
    pools is < 1e-6 t C/ha) approaches; the two differ by that stopping error (~1e-4 t C/ha).
    With ``saturation`` the annual map is non-linear and Newton's method (analytic Jacobian,
    backtracking) is iterated until the annual residual is < 1e-12 t C/ha.

    Parameters
    ----------
    iom, clay, depth_cm
        Inert organic matter (t C/ha), clay (%), layer depth (cm): scalar or ``(N,)``.
    temp12, rain12, evap12
        Average-year temperature (°C), rainfall (mm), open-pan evaporation (mm): ``(12,)`` or
        ``(N, 12)``.
    plant_c12, fym12
        Plant and manure C input per month (t C/ha/month): ``(12,)`` or ``(N, 12)``.
    covered12
        Plant cover per month (bool or 0/1): ``(12,)`` or ``(N, 12)``.
    dpm_rpm
        DPM/RPM ratio of the plant input: scalar, ``(N,)`` or ``(N, 12)``.
    rate_mod
        Optional multiplier on every decay rate: scalar, ``(N,)`` or ``(N, 12)``.
    saturation
        Optional :class:`abm.soil.saturation.Saturation`.
    weather
        Optional :class:`Weather`: the fixed point is then that of the probability-weighted
        mean of the annual maps of the weather years it holds — the mean state of a soil under
        a stationary, year-to-year variable climate (exact in expectation: each year's map is
        independent of the state it acts on). Not combined with ``saturation`` (which then
        uses the normals ``temp12``/``rain12``/``evap12``).

    Returns
    -------
    pools, smd_dec
        ``(N, 4)`` DPM, RPM, BIO, HUM (t C/ha) at the end of December, and the periodic
        December deficit ``(N,)`` (mm) from which a forward :func:`run` continues.
    """
    y = _year(
        iom, clay, depth_cm, temp12, rain12, evap12, plant_c12, fym12, covered12, dpm_rpm, rate_mod
    )
    aff = _prepare(y)
    if weather is not None and saturation is None:
        aff = _mean_affine(aff, y, weather)
    (pools,) = _solve_fixed_point(aff.a_mat, aff.u_p + aff.u_f)
    if saturation is not None:
        eq_p, eq_f = _solve_fixed_point(aff.a_mat, aff.u_p, aff.u_f)
        pools = _sat_solve(y, aff, saturation, np.ones(y.n), eq_p, eq_f)
    return pools, aff.smd_dec


def inputs_for_stock(
    soc_target: ArrayLike,
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12_ref: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    saturation: Saturation | None = None,
    weather: Weather | None = None,
    min_scale: ArrayLike | None = None,
) -> FloatArray:
    """Inverse mode: the plant-input multiplier that makes the equilibrium SOC equal a target.

    Without saturation the model is affine in the inputs for fixed climate and cover, so
    ``SOC_eq(s) = IOM + Σ P_fym + s·Σ P_plant`` where ``P_fym`` is the equilibrium of the manure
    alone and ``P_plant`` that of the reference plant input alone (SCIENCE.md §2, with the
    manure's share kept apart so the result is exact): ``s = (SOC − IOM − ΣP_fym) / ΣP_plant``.
    With saturation, ``SOC_eq(s)`` is increasing in ``s``; it is bracketed and solved by a
    safeguarded secant (Illinois) iteration until ``|SOC_eq(s) − SOC| < 1e-9`` t C/ha.

    Parameters
    ----------
    soc_target
        Measured total SOC of the layer incl. IOM (t C/ha), scalar or ``(N,)``.
    iom, clay, depth_cm, temp12, rain12, evap12, fym12, covered12, dpm_rpm, rate_mod, saturation
    weather
        As in :func:`equilibrium`.
    min_scale
        Optional lower bound on the scale, scalar or ``(N,)``: a target that needs less plant
        input (or is unreachable because the manure alone sustains more) is replaced by the
        equilibrium at ``min_scale`` instead of raising; the caller reads the stock it gets
        from :func:`equilibrium`.
    plant_c12_ref
        Reference monthly plant input pattern (t C/ha/month), ``(12,)`` or ``(N, 12)``.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` scale ≥ 0 such that ``scale·plant_c12_ref`` gives the target at equilibrium.

    Raises
    ------
    UserInputError
        If a target is not above the equilibrium without plant input (IOM + the manure-only
        equilibrium), i.e. unreachable with non-negative inputs, or the reference input is zero.
    """
    target_raw = np.asarray(soc_target, dtype=float)
    y = _year(
        iom,
        clay,
        depth_cm,
        temp12,
        rain12,
        evap12,
        plant_c12_ref,
        fym12,
        covered12,
        dpm_rpm,
        rate_mod,
        extra_farm_shapes=(target_raw.shape[:1],) if target_raw.ndim else (),
    )
    target = np.array(_per_farm(target_raw, y.n, "soc_target"), dtype=float)
    aff = _prepare(y)
    if weather is not None and saturation is None:
        aff = _mean_affine(aff, y, weather)
    eq_p, eq_f = _solve_fixed_point(aff.a_mat, aff.u_p, aff.u_f)
    per_unit = eq_p.sum(axis=1)
    if saturation is None:
        base = y.iom + eq_f.sum(axis=1)
    else:
        zero = np.zeros(y.n)
        base = y.iom + _sat_solve(y, aff, saturation, zero, eq_p, eq_f).sum(axis=1)
    if min_scale is not None:
        floor = base + np.asarray(min_scale, dtype=float) * per_unit
        target = np.where(np.isfinite(target) & (per_unit > 0), np.maximum(target, floor), target)
    bad = ~np.isfinite(target) | (target <= base) | (per_unit <= 0)
    if np.any(bad):
        idx = np.flatnonzero(bad)
        shown = ", ".join(str(i) for i in idx[:5]) + (" ..." if idx.size > 5 else "")
        raise UserInputError(
            f"soc_target: {idx.size} of {y.n} farm(s) have a target at or below the equilibrium "
            f"without plant input (IOM + manure-only equilibrium) or a zero reference input, so it "
            f"cannot be reached with non-negative inputs (farm index {shown})"
        )
    scale_lin = (
        (target - base) / per_unit
        if saturation is None
        else (target - y.iom - eq_f.sum(axis=1)) / per_unit
    )
    if saturation is None:
        return scale_lin

    def soc_at(s: FloatArray) -> FloatArray:
        assert saturation is not None  # narrowed above
        return _sat_solve(y, aff, saturation, s, eq_p, eq_f).sum(axis=1) + y.iom

    # Saturation only lowers BIO + HUM, so the linear answer is a lower bracket.
    lo = np.maximum(scale_lin, 0.0)
    f_lo = soc_at(lo) - target
    above = f_lo > 0  # not expected; fall back to the certain lower bracket s = 0
    lo = np.where(above, 0.0, lo)
    f_lo = np.where(above, base - target, f_lo)
    hi = np.maximum(2.0 * lo, 1e-3)
    f_hi = soc_at(hi) - target
    for _ in range(200):
        low = f_hi < 0
        if not np.any(low):
            break
        lo = np.where(low, hi, lo)
        f_lo = np.where(low, f_hi, f_lo)
        hi = np.where(low, hi * 2.0, hi)
        f_hi = np.where(low, soc_at(hi) - target, f_hi)
    side = np.zeros(y.n)
    s = lo
    for _ in range(200):
        s = np.where(f_hi != f_lo, (lo * f_hi - hi * f_lo) / (f_hi - f_lo), 0.5 * (lo + hi))
        s = np.clip(s, np.minimum(lo, hi), np.maximum(lo, hi))
        f_s = soc_at(s) - target
        if np.all(np.abs(f_s) < 1e-9):
            return s
        right = f_s > 0  # root in [lo, s]
        # Illinois modification: halve the retained end's value when it is kept twice
        f_lo = np.where(right & (side == 1), f_lo / 2.0, f_lo)
        f_hi = np.where(~right & (side == -1), f_hi / 2.0, f_hi)
        hi = np.where(right, s, hi)
        f_hi = np.where(right, f_s, f_hi)
        lo = np.where(right, lo, s)
        f_lo = np.where(right, f_lo, f_s)
        side = np.where(right, 1, -1)
    raise RuntimeError("inputs_for_stock: the saturated inverse did not converge")


def official_spinup_months(
    iom: ArrayLike,
    clay: ArrayLike,
    depth_cm: ArrayLike,
    temp12: ArrayLike,
    rain12: ArrayLike,
    evap12: ArrayLike,
    plant_c12: ArrayLike,
    fym12: ArrayLike,
    covered12: ArrayLike,
    dpm_rpm: ArrayLike,
    *,
    rate_mod: ArrayLike | None = None,
    tol: float = 1e-6,
    max_years: int = 1_000_000,
) -> NDArray[np.int64]:
    """Number of months the official spin-up runs before it stops.

    The official code starts from empty pools and SMD = 0 in January, repeats the average year
    and stops at the end of the first year whose change of total active C (DPM+RPM+BIO+HUM) is
    below ``tol`` = 1e-6 t C/ha (the first year is compared with 0). This reproduces that count
    cheaply: the first years are run with their actual (not yet periodic) deficit, then the
    composed annual affine map is iterated. Used only for the ``Month`` of the equilibrium row
    of the output files (19872 for the RothC_Py example, 20916 for the v2 examples).

    Returns
    -------
    numpy.ndarray
        ``(N,)`` integer month counts (a multiple of 12).
    """
    y = _year(
        iom, clay, depth_cm, temp12, rain12, evap12, plant_c12, fym12, covered12, dpm_rpm, rate_mod
    )
    up, uf = _input_vectors(y)
    u_all = up + uf
    p = np.zeros((y.n, 4))
    toc_prev = np.zeros(y.n)
    months = np.zeros(y.n, dtype=np.int64)
    done = np.zeros(y.n, dtype=bool)
    smd0 = np.zeros(y.n)
    periodic = False
    a_mat = np.empty((y.n, 4, 4))
    u = np.empty((y.n, 4))
    for year in range(1, max_years + 1):
        if not periodic:
            smd, b = _smd_year(y, smd0)
            a_mat, (u,) = _compose(y, _rates(y, b), u_all)
            periodic = bool(np.array_equal(smd[:, -1], smd0))
            smd0 = smd[:, -1].copy()
        p = np.einsum("nij,nj->ni", a_mat, p) + u
        toc = p.sum(axis=1)
        stop = ~done & (np.abs(toc - toc_prev) < tol)
        months[stop] = 12 * year
        done |= stop
        toc_prev = toc
        if np.all(done):
            return months
    months[~done] = 12 * max_years
    return months
