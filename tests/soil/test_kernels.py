"""The compiled kernels (abm.soil.kernels) against the numpy code they replaced: bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from abm import equilibrium as eq
from abm.soil import rothc


def _reference_month_rates(clay, depth, clim, d):
    """The whole-array numpy form of ``equilibrium._month_rates`` (before the kernels)."""
    zone = clim.zone
    temp_a = rothc.rate_temperature(clim.months[0])[:, :, zone]
    irr = np.ascontiguousarray(d.irrigation.T)[:, None]
    water = (clim.months[1][:, :, zone] + irr) - 0.75 * clim.months[2][:, :, zone]
    cov = np.ascontiguousarray(d.covered.T)
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
    other = rothc.rate_cover(cov) * np.ascontiguousarray(d.rate_mod.T)
    return temp_a * b * other[:, None]


def _reference_compose(decay, fb, fh, in_dpm, in_rpm, in_hum):
    """The whole-array month loop of ``equilibrium._linear_fixed_point`` (before the kernels)."""
    k, n = decay.shape[2:]
    v0 = np.stack([np.ones((k, n)), np.zeros((k, n))])
    v1 = v0.copy()
    v2 = np.zeros((5, k, n))
    v3 = np.zeros((5, k, n))
    v2[2] = 1.0
    v3[3] = 1.0
    dec = np.empty_like(v2)
    tmp = np.empty_like(v2)
    for j in range(12):
        e0, e1, e2, e3 = decay[:, j]
        np.multiply(1.0 - e2, v2, out=dec)
        np.multiply(1.0 - e3, v3, out=tmp)
        dec += tmp
        d0, d1 = 1.0 - e0, 1.0 - e1
        dec[0] += d0 * v0[0]
        dec[1] += d1 * v1[0]
        dec[4] += d0 * v0[1] + d1 * v1[1]
        v0 *= e0
        v1 *= e1
        v2 *= e2
        np.multiply(fb, dec, out=tmp)
        v2 += tmp
        v3 *= e3
        np.multiply(fh, dec, out=tmp)
        v3 += tmp
        v0[1] += in_dpm[j]
        v1[1] += in_rpm[j]
        v3[4] += in_hum[j]
    return v0, v1, v2, v3


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
