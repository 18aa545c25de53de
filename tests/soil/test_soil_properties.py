"""Invariants of the RothC engine as property tests (Hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from abm.soil import rothc
from abm.soil.saturation import Saturation

SETTINGS = settings(max_examples=50, deadline=None)


@dataclass
class Case:
    """Random farms × months, with every extension switched on."""

    pools: NDArray[np.float64]
    iom: NDArray[np.float64]
    smd: NDArray[np.float64]
    clay: NDArray[np.float64]
    depth: NDArray[np.float64]
    temp: NDArray[np.float64]
    rain: NDArray[np.float64]
    evap: NDArray[np.float64]
    plant: NDArray[np.float64]
    fym: NDArray[np.float64]
    cov: NDArray[np.bool_]
    ratio: NDArray[np.float64]
    rate_mod: NDArray[np.float64]
    biochar: NDArray[np.float64]
    biochar_c: NDArray[np.float64]

    def args(self) -> tuple[Any, ...]:
        soil = (self.pools, self.iom, self.smd, self.clay, self.depth)
        return (*soil, self.temp, self.rain, self.evap, self.plant, self.fym, self.cov, self.ratio)

    def kwargs(self) -> dict[str, Any]:
        return {"rate_mod": self.rate_mod, "biochar": self.biochar, "biochar_c": self.biochar_c}

    def farm(self, i: int) -> Case:
        """Farm ``i`` alone (all per-farm arrays sliced to one row)."""
        return Case(**{k: v[i : i + 1] for k, v in self.__dict__.items()})


def _f(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 30))

    def arr(shape: tuple[int, ...], lo: float, hi: float) -> NDArray[np.float64]:
        return draw(arrays(np.float64, shape, elements=_f(lo, hi)))

    clay = arr((n,), 0.0, 90.0)
    depth = arr((n,), 5.0, 60.0)
    smd_max = -(20 + 1.3 * clay - 0.01 * clay**2) * depth / 23.0
    smd = smd_max * arr((n,), 0.0, 1.0)
    sparse = draw(arrays(np.bool_, (n, m)))
    return Case(
        pools=arr((n, 4), 0.0, 60.0),
        iom=arr((n,), 0.0, 10.0),
        smd=smd,
        clay=clay,
        depth=depth,
        temp=arr((n, m), -15.0, 40.0),
        rain=arr((n, m), 0.0, 250.0),
        evap=arr((n, m), -1.0, 250.0),
        plant=arr((n, m), 0.0, 3.0),
        fym=np.where(sparse, arr((n, m), 0.0, 8.0), 0.0),
        cov=draw(arrays(np.bool_, (n, m))),
        ratio=arr((n, m), 0.1, 3.0),
        rate_mod=arr((n,), 0.3, 2.0),
        biochar=arr((n,), 0.0, 30.0),
        biochar_c=np.where(~sparse, arr((n, m), 0.0, 4.0), 0.0),
    )


@SETTINGS
@given(cases())
def test_mass_balance(c: Case) -> None:
    """Σ inputs − CO2 = Δ(DPM + RPM + BIO + HUM + biochar), to 1e-9 t C/ha."""
    res = rothc.run(*c.args(), **c.kwargs())
    inputs = c.plant.sum(axis=1) + c.fym.sum(axis=1) + c.biochar_c.sum(axis=1)
    delta = (res.pools.sum(axis=1) + res.biochar) - (c.pools.sum(axis=1) + c.biochar)
    np.testing.assert_allclose(inputs - res.co2, delta, rtol=0, atol=1e-9)
    assert np.all(res.co2 >= -1e-12)


@SETTINGS
@given(cases())
def test_pools_never_negative(c: Case) -> None:
    res = rothc.run(*c.args(), **c.kwargs(), record=True)
    assert res.monthly is not None
    for key in ("DPM", "RPM", "BIO", "HUM", "biochar"):
        assert np.all(res.monthly[key] >= 0.0)
    assert np.all(res.monthly["smd"] <= 0.0)
    assert np.all((res.monthly["b"] >= 0.2) & (res.monthly["b"] <= 1.0))


@SETTINGS
@given(cases(), st.data())
def test_saturation_cap_never_exceeded(c: Case, data: st.DataObject) -> None:
    """Starting at or below capacity, BIO + HUM + IOM stays at or below it every month."""
    c_ma = c.pools[:, 2] + c.pools[:, 3] + c.iom
    headroom = data.draw(arrays(np.float64, c_ma.shape, elements=_f(0.0, 40.0)))
    cap = c_ma + headroom + 1e-3
    res = rothc.run(*c.args(), **c.kwargs(), saturation=Saturation("custom", cap), record=True)
    assert res.monthly is not None
    c_ma_t = res.monthly["BIO"] + res.monthly["HUM"] + c.iom[None, :]
    assert np.all(c_ma_t <= cap[None, :] * (1 + 1e-12))
    # and the unstabilised remainder is CO2: mass balance still holds
    inputs = c.plant.sum(axis=1) + c.fym.sum(axis=1) + c.biochar_c.sum(axis=1)
    delta = (res.pools.sum(axis=1) + res.biochar) - (c.pools.sum(axis=1) + c.biochar)
    np.testing.assert_allclose(inputs - res.co2, delta, rtol=0, atol=1e-9)


@SETTINGS
@given(cases())
def test_vectorised_equals_single_farm_runs(c: Case) -> None:
    together = rothc.run(*c.args(), **c.kwargs())
    for i in range(c.pools.shape[0]):
        one = c.farm(i)
        alone = rothc.run(*one.args(), **one.kwargs())
        np.testing.assert_allclose(alone.pools[0], together.pools[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(alone.co2[0], together.co2[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(alone.biochar[0], together.biochar[i], rtol=1e-12, atol=1e-12)
        assert alone.smd[0] == together.smd[i]


@SETTINGS
@given(cases())
def test_engine_equals_the_official_month_transcription(c: Case) -> None:
    """Against a scalar transcription of the official month (no extensions), to 1e-9."""
    res = rothc.run(*c.args())
    n, m = c.plant.shape
    for i in range(n):
        p = list(c.pools[i])
        s = max(float(c.smd[i]), float(rothc._smd_limits(c.clay[i], c.depth[i])[0]))
        for j in range(m):
            a = float(rothc.rate_temperature(c.temp[i, j]))
            b_arr, s_arr = rothc.moisture_step(
                c.rain[i, j], c.evap[i, j], c.clay[i], c.depth[i], c.cov[i, j], s
            )
            s = float(s_arr)
            rate = a * float(b_arr) * float(rothc.rate_cover(c.cov[i, j]))
            x = float(rothc.co2_ratio(c.clay[i]))
            ks = (10.0, 0.3, 0.66, 0.02)
            kept = [v * np.exp(-rate * k / 12.0) for v, k in zip(p, ks, strict=True)]
            d = sum(p) - sum(kept)
            r = c.ratio[i, j]
            f = c.fym[i, j]
            p = [
                kept[0] + c.plant[i, j] * r / (r + 1) + 0.49 * f,
                kept[1] + c.plant[i, j] / (r + 1) + 0.49 * f,
                kept[2] + d * 0.46 / (x + 1),
                kept[3] + d * 0.54 / (x + 1) + 0.02 * f,
            ]
        np.testing.assert_allclose(res.pools[i], p, rtol=1e-11, atol=1e-9)
        assert res.smd[i] == s
