"""The compiled kernels (abm.soil.kernels) against the numpy code they replaced: bit for bit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from abm import equilibrium as eq
from abm.equilibrium import SoilDrivers, YearClimate
from abm.soil import rothc

FloatArray = NDArray[np.float64]


# The numpy forms the compiled equilibrium kernels replaced (abm.equilibrium before the kernels),
# kept as references: the kernels must give the same moisture modifiers bit for bit and the
# same fixed points to rounding (numba's exp and the engine's powers of one exp, < 1e-12).


def _reference_moisture(
    clay: FloatArray, depth: FloatArray, clim: YearClimate, d: SoilDrivers
) -> FloatArray:
    """``(12, K, N)`` the RothC rate modifiers other than temperature, ``b·c·rate_mod``.

    ``b`` follows the periodic moisture deficit, cycled from 0 in January until its December
    value repeats exactly, as in :func:`abm.soil.rothc.equilibrium` (same equations,
    month-major arrays). Rain and evaporation do not move with the warming offset
    (:func:`year_climate`), so a farm's modifiers stay valid as long as its cover, irrigation
    and rate modifier do (:class:`EquilibriumCache`).
    """
    zone = clim.zone
    irr = np.ascontiguousarray(d.irrigation.T)[:, None]  # (12, 1, N)
    water = (clim.months[1][:, :, zone] + irr) - 0.75 * clim.months[2][:, :, zone]
    cov = np.ascontiguousarray(d.covered.T)  # (12, N)
    smd_max, smd_1bar, smd_bare = rothc._smd_limits(clay, depth)
    smd = np.empty_like(water)
    start = np.zeros(water.shape[1:])
    for _ in range(5000):
        cur = start
        for j in range(12):
            wet = np.minimum(0.0, cur + water[j])
            lower = np.where(cov[j], smd_max, np.minimum(smd_bare, cur))
            cur = np.maximum(lower, wet)
            smd[j] = cur
        if np.array_equal(cur, start):
            break
        start = cur
    b = np.where(smd > smd_1bar, 1.0, 0.2 + (smd_max - smd) * ((1.0 - 0.2) / (smd_max - smd_1bar)))
    b *= (rothc.rate_cover(cov) * np.ascontiguousarray(d.rate_mod.T))[:, None]
    out: FloatArray = b
    return out


def _linear_fixed_point(
    clay: FloatArray, weights: FloatArray, rate: FloatArray, d: SoilDrivers, rain_nodes: int = 1
) -> FloatArray:
    """``(N, 4)`` DPM, RPM, BIO, HUM at the fixed point of the (weather-mean) annual map.

    ``rate``: ``(12, K, N)`` the full rate modifiers ``a·b·c·rate_mod`` of the ``K`` weather
    years (probabilities ``weights``). RothC's month is ``P ← diag(e)·P + f·Σ(1 − e)·P + u``
    with ``f = (0, 0, fb, fh)``, so the annual map is block-triangular: DPM and RPM decay on
    their own, and their fixed points are scalar (``x = ū/(1 − ā)``, the bars the weather
    years' means). BIO and HUM then see DPM and RPM only through what those pass on, so the
    year is run once from ``(x_DPM, x_RPM, 0, 0)`` with the inputs (the affine part of the
    BIO/HUM map at that point) next to the two unit columns of the BIO/HUM block; the 2×2
    fixed point follows by Cramer's rule. Same maths as :func:`abm.soil.rothc.equilibrium`,
    equal to rounding (tested to 1e-11 relative). The first months in which the weather years
    that differ in rain alone (runs of ``rain_nodes``) have the same rates on every farm — wet
    winters, a full soil — are run once per run and copied (:func:`_month_blocks`).
    """
    k, n = rate.shape[1:]
    x = rothc.co2_ratio(clay)
    fb = rothc.BIO_SHARE / (x + 1.0)
    fh = rothc.HUM_SHARE / (x + 1.0)
    ratio, plant, fym = d.dpm_rpm.T, d.plant.T, d.fym.T
    split = rothc.FYM_SPLIT
    inp = np.stack(  # (2, 12, 1, N): DPM, RPM inputs
        [plant * ratio / (ratio + 1.0) + split[0] * fym, plant / (ratio + 1.0) + split[1] * fym]
    )[:, :, None]
    in_hum = split[2] * fym  # (12, N)
    blocks = _month_blocks(rate, rain_nodes)
    grow = rain_nodes if len(blocks) > 1 else 1

    def wider(a: FloatArray) -> FloatArray:  # a run's shared months copied to each rain node
        out: FloatArray = np.repeat(a, grow, axis=1)
        return out

    x01 = _dpm_rpm_fixed_point(blocks, inp, weights, wider, (2, k // grow, n))
    # BIO (xb) and HUM (xh) of three columns: unit BIO, unit HUM, and the year from x01
    state = np.repeat(x01[:, None], k // grow, axis=1)  # (2, K, N) DPM, RPM
    xb = np.zeros((3, k // grow, n))
    xh = np.zeros((3, k // grow, n))
    xb[0] = 1.0
    xh[1] = 1.0
    for b, (months, e, lost) in enumerate(blocks):
        if b:
            state, xb, xh = wider(state), wider(xb), wider(xh)
        dec = np.empty_like(xb)
        tmp = np.empty_like(xb)
        ext = np.empty_like(state)
        for i, j in enumerate(months):
            np.multiply(lost[:2, i], state, out=ext)
            np.multiply(lost[2, i], xb, out=dec)
            np.multiply(lost[3, i], xh, out=tmp)
            dec += tmp
            dec[2] += ext[0]
            dec[2] += ext[1]
            state *= e[:2, i]
            state += inp[:, j]
            xb *= e[2, i]
            np.multiply(fb, dec, out=tmp)
            xb += tmp
            xh *= e[3, i]
            np.multiply(fh, dec, out=tmp)
            xh += tmp
            xh[2] += in_hum[j]
    b22, b23, r2 = np.tensordot(weights, xb, axes=(0, 1))
    b32, b33, r3 = np.tensordot(weights, xh, axes=(0, 1))
    m11, m12, m21, m22 = 1.0 - b22, -b23, -b32, 1.0 - b33
    det = m11 * m22 - m12 * m21
    out: FloatArray = np.stack(
        [x01[0], x01[1], (r2 * m22 - m12 * r3) / det, (m11 * r3 - m21 * r2) / det], axis=1
    )
    return out


def _dpm_rpm_fixed_point(
    blocks: list[tuple[range, FloatArray, FloatArray]],
    inp: FloatArray,
    weights: FloatArray,
    wider: Callable[[FloatArray], FloatArray],
    shape: tuple[int, int, int],
) -> FloatArray:
    """``(2, N)`` DPM and RPM at the fixed point: ``x ← a·x + u`` over the year per weather
    year, ``x = ū/(1 − ā)`` of the weather years' means."""
    a01 = np.ones(shape)
    u01 = np.zeros(shape)
    for b, (months, e, _) in enumerate(blocks):
        if b:
            a01, u01 = wider(a01), wider(u01)
        for i, j in enumerate(months):
            a01 *= e[:2, i]
            u01 *= e[:2, i]
            u01 += inp[:, j]
    out: FloatArray = np.tensordot(weights, u01, axes=(0, 1)) / (
        1.0 - np.tensordot(weights, a01, axes=(0, 1))
    )
    return out


def _month_blocks(rate: FloatArray, rain_nodes: int) -> list[tuple[range, FloatArray, FloatArray]]:
    """The year in one or two runs of months, each with ``e = exp(−k·rate·dt)`` and ``1 − e``
    ``(4, months, K', N)``.

    When the first months' rates are equal (exactly) across each run of ``rain_nodes``
    weather years on every farm, those months come first with one weather year per run
    (``K' = K / rain_nodes``: the same numbers, computed once), then the rest with all ``K``.
    """
    k, n = rate.shape[1:]
    kdt = (rothc._K * rothc.DT)[:, None, None, None]
    shared = 0
    if rain_nodes > 1:
        runs = rate.reshape(12, k // rain_nodes, rain_nodes, n)
        same = (runs == runs[:, :, :1]).all(axis=(1, 2, 3))
        shared = int(np.argmin(same)) if not same.all() else 12
    parts = [(range(0, shared), rate[:shared, ::rain_nodes]), (range(shared, 12), rate[shared:])]
    out = []
    for months, r in parts:
        if len(months):
            e = np.exp(-kdt * r[None])
            out.append((months, e, 1.0 - e))
    return out


def _random_inputs(seed: int, n: int, noise: bool):
    rng = np.random.default_rng(seed)
    names = ["temperate_oceanic", "continental", "mediterranean", "tropical"]
    zone = rng.integers(0, len(names), n)
    sd, cv = (0.8, 0.2) if noise else (0.0, 0.0)
    clim = eq.year_climate(names, zone, float(rng.uniform(-1, 2)), sd, cv)
    d = eq.SoilDrivers(
        plant=rng.uniform(0, 0.6, (n, 12)) * (rng.random((n, 12)) < 0.7),
        fym=rng.uniform(0, 0.3, (n, 12)) * (rng.random((n, 12)) < 0.2),
        covered=rng.random((n, 12)) < 0.6,
        dpm_rpm=rng.choice([1.44, 0.67, 0.25], (n, 12)),
        rate_mod=rng.uniform(0.7, 1.3, (n, 12)),
        irrigation=rng.uniform(0, 40, (n, 12)) * (rng.random((n, 12)) < 0.1),
    )
    return rng.uniform(5, 45, n), rng.uniform(15, 40, n), clim, d


@pytest.mark.parametrize(
    ("seed", "noise", "pairs"), [(0, True, False), (1, False, True), (2, True, True)]
)
def test_equilibrium_kernels_equal_the_numpy_solver(seed: int, noise: bool, pairs: bool) -> None:
    """Moisture modifiers bit for bit; the fixed points to 1e-12 relative (numba's exp and the
    engine's powers of one exp against numpy's four exps), every farm; shared months used.
    ``pairs``: neighbouring farms alike but in some months (the kernel's reused decay factors)."""
    clay, depth, clim, d = _random_inputs(seed, 400, noise)
    if pairs:
        idx = np.repeat(np.arange(200), 2)
        clay, depth, clim, d = clay[idx], depth[idx], clim.rows(idx), d.rows(idx)
        d.rate_mod[1::2, ::3] *= 1.1  # the second of each pair differs in 4 months
    g = eq.moisture_modifiers(clay, depth, clim, d)
    want_g = _reference_moisture(clay, depth, clim, d)  # (12, K, N)
    assert np.array_equal(g, want_g.transpose(2, 1, 0))
    got = eq.linear_pools(clay, clim, d, g)
    rate = rothc.rate_temperature(clim.months[0])[:, :, clim.zone] * want_g
    want = _linear_fixed_point(clay, clim.weights, rate, d, clim.rain_nodes)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert not noise or len(_month_blocks(rate, clim.rain_nodes)) == 2


def _reference_spinup_compose(y, rate, *us):
    """``spinup._compose`` before the kernels: numpy month by month with ``_month_apply``."""
    from abm.soil import spinup

    a_mat = np.broadcast_to(np.eye(4), (y.n, 4, 4)).copy()
    acc = [np.zeros((y.n, 4)) for _ in us]
    for j in range(12):
        e = np.exp(-(rothc._K * rothc.DT)[np.newaxis, :] * rate[:, j, np.newaxis])
        a_mat = spinup._month_apply(y, e, a_mat)
        acc = [spinup._month_apply(y, e, v) + u[:, j] for v, u in zip(acc, us, strict=True)]
    return a_mat, acc


@pytest.mark.parametrize("block", [7, 16384])
def test_spinup_compose_kernels_are_bit_identical(monkeypatch, block: int) -> None:
    from abm.soil import spinup

    rng = np.random.default_rng(11)
    n = 300
    y = spinup._year(
        np.zeros(n),
        rng.uniform(5, 45, n),
        rng.uniform(15, 40, n),
        rng.uniform(-3, 25, (n, 12)),
        rng.uniform(10, 120, (n, 12)),
        rng.uniform(5, 100, (n, 12)),
        rng.uniform(0, 0.5, (n, 12)),
        rng.uniform(0, 0.3, (n, 12)),
        rng.random((n, 12)) < 0.6,
        rng.choice([1.44, 0.67], n),
        rng.uniform(0.8, 1.2, (n, 12)),
    )
    _, b, _ = spinup._periodic_smd(y)
    rate = spinup._rates(y, b)
    up, uf = spinup._input_vectors(y)
    want_a, want_u = _reference_spinup_compose(y, rate, up, uf)
    monkeypatch.setattr(spinup, "COMPOSE_BLOCK", block)
    got_a, got_u = spinup._compose(y, rate, up, uf)
    assert np.array_equal(got_a, want_a)
    for g, w in zip(got_u, want_u, strict=True):
        assert np.array_equal(g, w)


def _rothc_inputs(seed: int, n: int, m: int, per_row: bool):
    rng = np.random.default_rng(seed)
    rows = n if per_row else 1
    return dict(
        pools=rng.uniform(0, 40, (n, 4)),
        iom=rng.uniform(1, 5, n),
        smd=-rng.uniform(0, 30, n),
        clay=rng.uniform(5, 45, n),
        depth_cm=rng.uniform(15, 40, n),
        temp=np.asfortranarray(rng.uniform(-8, 30, (rows, m))),
        rain=np.asfortranarray(rng.uniform(0, 150, (n, m))),
        evap=rng.uniform(0, 120, (rows, m)),
        plant_c=np.asfortranarray(rng.uniform(0, 0.6, (n, m))),
        fym=np.asfortranarray(rng.uniform(0, 0.3, (n, m)) * (rng.random((n, m)) < 0.3)),
        covered=rng.random((n, m)) < 0.5,
        dpm_rpm=rng.choice([1.44, 0.67], (n, m)) if per_row else 1.44,
        rate_mod=rng.uniform(0.8, 1.2, (n, m)),
        biochar=rng.uniform(0, 3, n),
        biochar_c=rng.uniform(0, 0.1, (n, m)) * (rng.random((n, m)) < 0.1),
    )


@pytest.mark.parametrize(("seed", "per_row"), [(0, True), (1, False), (2, True)])
def test_compiled_rothc_month_is_bit_identical(seed: int, per_row: bool) -> None:
    """rothc.run's compiled month (no cap, no records) against its numpy month (records on)."""
    kw = _rothc_inputs(seed, 500, 36, per_row)
    fast = rothc.run(**kw)
    ref = rothc.run(**kw, record=True)  # records force the whole-array numpy month
    for name in ("pools", "smd", "biochar", "co2"):
        assert np.array_equal(getattr(fast, name), getattr(ref, name)), name
    no_bc = {k: v for k, v in kw.items() if k not in ("biochar", "biochar_c", "rate_mod")}
    fast, ref = rothc.run(**no_bc), rothc.run(**no_bc, record=True)
    for name in ("pools", "smd", "biochar", "co2"):
        assert np.array_equal(getattr(fast, name), getattr(ref, name)), name
