"""RothC behaviours of SCIENCE.md §2, inverse mode, saturation, biochar, input handling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from abm.errors import UserInputError
from abm.soil import rothc
from abm.soil.climate import ZONES
from abm.soil.saturation import Saturation, capacity_georgiou, capacity_hassink, make_saturation

# The SCIENCE.md §2 behaviours: clay 13 %, 25 cm, the Rothamsted example weather and the
# example's average-year inputs (temperate_oceanic zone = the example's year-1 rows).
ZONE = ZONES["temperate_oceanic"]
T, R, E = ZONE.temp12, ZONE.rain12, ZONE.evap12
C_INP = np.array([0, 0, 0, 0, 0, 0, 0, 1.74, 0, 0, 0, 0], dtype=float)
PC = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1])
CLAY, DEPTH, IOM, RATIO = 13.0, 25.0, 3.0041, 1.44
ROOT = Path(__file__).resolve().parents[2]


def _years(x: NDArray[np.float64] | NDArray[np.int64], n: int) -> NDArray[np.float64]:
    return np.tile(np.asarray(x, dtype=float), n)


Arr = NDArray[np.float64]


def _run_years(pools: Arr, smd: Arr, c_inp: Arr, years: int) -> rothc.RothCResult:
    climate = (_years(T, years), _years(R, years), _years(E, years))
    inputs = (_years(c_inp, years), 0.0, _years(PC, years), RATIO)
    return rothc.run(pools, IOM, smd, CLAY, DEPTH, *climate, *inputs, record=True)


def _equilibrium(c_inp: Arr, dtemp: float = 0.0) -> tuple[Arr, Arr]:
    return rothc.equilibrium(IOM, CLAY, DEPTH, T + dtemp, R, E, c_inp, 0.0, PC, RATIO)


def test_zone_is_the_example_weather() -> None:
    from abm.soil.rothc_io import read_input_file

    d = read_input_file(ROOT / "tests/data/rothc/python_v1_clay13/RothC_input.dat")
    np.testing.assert_array_equal(T, d.temp[:12])
    np.testing.assert_array_equal(R, d.rain[:12])
    np.testing.assert_array_equal(E, d.evap[:12])
    np.testing.assert_array_equal(C_INP, d.c_inp[:12])
    np.testing.assert_array_equal(PC, d.pc[:12])


# +1 t C/ha/yr spread evenly over the 12 months reproduces SCIENCE.md §2 within 2 %; spread
# in proportion to the existing input (all in August) misses the 1-year figure by 9 %.
EXTRA = np.full(12, 1.0 / 12.0)


def test_extra_input_gains_and_new_equilibrium() -> None:
    p0, s0 = _equilibrium(C_INP)
    base = p0.sum()
    res = _run_years(p0, s0, C_INP + EXTRA, 100)
    assert res.monthly is not None
    soc = res.monthly["SOC"][11::12, 0] - IOM
    gains = [soc[y - 1] - base for y in (1, 5, 10, 20, 50, 100)]
    np.testing.assert_allclose(gains, [0.63, 2.23, 3.59, 5.31, 8.38, 11.9], rtol=0.02)
    p_new, _ = _equilibrium(C_INP + EXTRA)
    assert p_new.sum() - base == pytest.approx(19.7, rel=0.02)


def test_stopping_after_20_years_loses_the_gain() -> None:
    p0, s0 = _equilibrium(C_INP)
    on = _run_years(p0, s0, C_INP + EXTRA, 20)
    gain = on.pools.sum() - p0.sum()
    off = _run_years(on.pools, on.smd, C_INP, 20)
    assert off.monthly is not None
    left = off.monthly["SOC"][11::12, 0] - IOM - p0.sum()
    lost = [1.0 - left[y - 1] / gain for y in (1, 5, 10, 20)]
    # the figures are whole percentages: agree to their rounding (±0.5 percentage point);
    # the model gives 9.4 / 30.1 / 45.2 / 59.0 %
    np.testing.assert_allclose(lost, [0.09, 0.30, 0.45, 0.59], rtol=0, atol=0.005)


def test_warming_cuts_equilibrium_active_carbon() -> None:
    p0, _ = _equilibrium(C_INP)
    cuts = [1.0 - _equilibrium(C_INP, dt)[0].sum() / p0.sum() for dt in (1.0, 2.0, 3.0)]
    np.testing.assert_allclose(cuts, [0.125, 0.228, 0.314], rtol=0.02)


# --- equilibrium and inverse mode --------------------------------------------------------------


PATTERN = np.array([0, 0, 0, 0.1, 0.2, 0.3, 0.3, 0.1, 0, 0, 0, 0])


def _farms(n: int = 6) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    iom = rng.uniform(1, 5, n)
    soil = (iom, rng.uniform(5, 60, n), rng.uniform(15, 35, n))
    climate = (T[None, :] + rng.uniform(-3, 12, n)[:, None], R, E)
    plant = rng.uniform(0.5, 2, n)[:, None] * PATTERN
    fym = np.where(rng.random(n) < 0.5, 1.5, 0.0)[:, None] * (np.arange(12) == 2)
    cov = rng.random((n, 12)) < 0.7
    return {"soil": soil, "climate": climate, "plant": plant, "fym": fym, "cov": cov, "iom": iom}


def test_equilibrium_is_a_fixed_point_of_a_year() -> None:
    f = _farms()
    mgmt = (f["plant"], f["fym"], f["cov"], 1.44)
    pools, smd = rothc.equilibrium(*f["soil"], *f["climate"], *mgmt)
    iom, clay, depth = f["soil"]
    res = rothc.run(pools, iom, smd, clay, depth, *f["climate"], *mgmt)
    np.testing.assert_allclose(res.pools, pools, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(res.smd, smd)


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({}, id="linear"),
        pytest.param({"rate_mod": 0.9, "saturation": "custom"}, id="saturation+rate_mod"),
    ],
)
def test_inverse_mode_round_trip(kw: dict[str, Any]) -> None:
    f = _farms()
    if "saturation" in kw:
        kw = {**kw, "saturation": Saturation("custom", f["iom"] + np.linspace(15, 60, 6))}
    target = np.linspace(30, 80, 6)
    rest = (f["fym"], f["cov"], 1.44)
    scale = rothc.inputs_for_stock(target, *f["soil"], *f["climate"], f["plant"], *rest, **kw)
    plant = scale[:, None] * f["plant"]
    pools, _ = rothc.equilibrium(*f["soil"], *f["climate"], plant, *rest, **kw)
    np.testing.assert_allclose(pools.sum(axis=1) + f["iom"], target, rtol=0, atol=1e-6)
    if "saturation" in kw:
        # saturation lowers the stabilised C, so more input is needed than without it
        kw_lin = {"rate_mod": kw["rate_mod"]}
        lin = rothc.inputs_for_stock(target, *f["soil"], *f["climate"], f["plant"], *rest, **kw_lin)
        assert np.all(scale >= lin - 1e-9)


def test_inverse_mode_refuses_unreachable_targets() -> None:
    f = _farms()
    target = f["iom"].copy()
    target[2:] = 60.0
    with pytest.raises(UserInputError, match=r"2 of 6 farm\(s\)"):
        rothc.inputs_for_stock(
            target, *f["soil"], *f["climate"], f["plant"], f["fym"], f["cov"], 1.44
        )


def test_saturated_equilibrium_converges_and_matches_a_long_run() -> None:
    """Newton on the non-linear annual map equals the limit of a long forward run."""
    n = 3
    clay = np.array([10.0, 25.0, 40.0])
    cap = np.array([15.0, 25.0, 60.0])
    sat = Saturation("custom", cap)
    temp = T + 8.0  # warm, so the forward run converges within the test's 1500 years
    fym = np.zeros((n, 12))
    fym[:, 2] = [0.0, 1.0, 3.0]
    mgmt = (3 * C_INP, fym, PC, RATIO)
    pools, smd = rothc.equilibrium(IOM, clay, 25.0, temp, R, E, *mgmt, saturation=sat)
    # the fixed point: one more year changes nothing
    one = rothc.run(pools, IOM, smd, clay, 25.0, temp, R, E, *mgmt, saturation=sat)
    np.testing.assert_allclose(one.pools, pools, rtol=0, atol=1e-10)
    years = 1500
    climate = (_years(temp, years), _years(R, years), _years(E, years))
    mgmt_y = (_years(3 * C_INP, years), np.tile(fym, years), _years(PC, years), RATIO)
    far = rothc.run(np.zeros((n, 4)), IOM, 0.0, clay, 25.0, *climate, *mgmt_y, saturation=sat)
    np.testing.assert_allclose(far.pools, pools, rtol=0, atol=1e-6)
    assert np.all(pools[:, 2] + pools[:, 3] + IOM <= cap)
    linear, _ = rothc.equilibrium(IOM, clay, 25.0, temp, R, E, 3 * C_INP, fym, PC, RATIO)
    assert np.all(pools[:, 2:].sum(axis=1) < linear[:, 2:].sum(axis=1))
    np.testing.assert_allclose(pools[:, :2], linear[:, :2], rtol=1e-12)  # DPM, RPM unaffected


def test_saturation_capacities() -> None:
    # Hassink: 4.09 + 0.37 × 30 % = 15.19 g C/kg; × 1.3 g/cm3 × 30 cm / 10 = 59.241 t C/ha
    assert float(capacity_hassink(30.0, 1.3, 30.0)) == pytest.approx(59.241)
    assert float(capacity_georgiou(60.0, 1.2, 30.0, "high")) == pytest.approx(0.86 * 60 * 3.6)
    assert float(capacity_georgiou(60.0, 1.2, 30.0, "low")) == pytest.approx(0.48 * 60 * 3.6)
    assert make_saturation("none") is None
    sat = make_saturation(
        "georgiou", clay_pct=20.0, silt_pct=40.0, bulk_density_g_cm3=1.2, depth_cm=30.0
    )
    assert sat is not None and sat.kind == "georgiou"
    np.testing.assert_allclose(sat.deficit([0.0, sat.capacity, 2 * sat.capacity]), [1, 0, 0])
    with pytest.raises(UserInputError, match="saturation"):
        make_saturation("stewart")
    with pytest.raises(UserInputError, match="mineral"):
        capacity_georgiou(50.0, 1.2, 30.0, "medium")  # type: ignore[arg-type]
    with pytest.raises(UserInputError, match="capacity"):
        Saturation("custom", np.array([10.0, 0.0]))


# --- biochar ------------------------------------------------------------------------------------


def test_biochar_pool_decays_at_its_mean_residence_time() -> None:
    """One addition: 97 % stable with k = 1/556 yr (at a·b·c = 1), 3 % to DPM."""
    months = 12 * 50
    a10 = float(rothc.rate_temperature(10.0))
    add = np.zeros(months)
    add[0] = 10.0
    climate = (np.full(months, 10.0), np.full(months, 100.0), np.zeros(months))
    kw = {"rate_mod": 1.0 / a10, "biochar": [0.0], "biochar_c": add[None, :], "record": True}
    res = rothc.run(np.zeros((1, 4)), 0.0, 0.0, 20.0, 25.0, *climate, 0.0, 0.0, False, 1.44, **kw)
    assert res.monthly is not None
    assert res.monthly["biochar"][0, 0] == pytest.approx(9.7)
    expected = 9.7 * np.exp(-(months - 1) / 12.0 / rothc.BIOCHAR_MRT_YR)
    assert res.biochar[0] == pytest.approx(expected, rel=1e-12)
    total = res.pools.sum() + res.biochar.sum()
    assert 10.0 - res.co2[0] == pytest.approx(total, abs=1e-12)


def test_run_does_not_modify_its_arguments() -> None:
    pools = np.array([[0.2, 5.0, 0.8, 30.0], [0.1, 4.0, 0.7, 25.0]])
    smd = np.array([-5.0, 0.0])
    bc = np.array([1.0, 2.0])
    keep = (pools.copy(), smd.copy(), bc.copy())
    rothc.run(pools, 3.0, smd, 20.0, 25.0, T, R, E, C_INP, 0.0, PC, 1.44, biochar=bc, biochar_c=0.1)
    for before, after in zip(keep, (pools, smd, bc), strict=True):
        np.testing.assert_array_equal(before, after)


def test_run_input_validation() -> None:
    pools = np.zeros((2, 4))
    with pytest.raises(ValueError, match="pools"):
        rothc.run(np.zeros(4), 3.0, 0.0, 20.0, 25.0, T, R, E, 0.0, 0.0, True, 1.44)
    with pytest.raises(ValueError, match="plant_c"):
        rothc.run(pools, 3.0, 0.0, 20.0, 25.0, T, R, E, np.zeros((3, 12)), 0.0, True, 1.44)
    with pytest.raises(UserInputError, match="plant_c"):
        rothc.run(pools, 3.0, 0.0, 20.0, 25.0, T, R, E, -1.0, 0.0, True, 1.44)
    with pytest.raises(UserInputError, match="clay"):
        rothc.run(pools, 3.0, 0.0, 120.0, 25.0, T, R, E, 0.0, 0.0, True, 1.44)
    with pytest.raises(UserInputError, match="smd"):
        rothc.run(pools, 3.0, 1.0, 20.0, 25.0, T, R, E, 0.0, 0.0, True, 1.44)
    with pytest.raises(UserInputError, match="fym"):
        rothc.run(pools, 3.0, 0.0, 20.0, 25.0, T, R, E, 0.0, np.nan, True, 1.44)


def test_zero_months_and_shared_drivers() -> None:
    pools = np.array([[0.2, 5.0, 0.8, 30.0]])
    res = rothc.run(pools, 3.0, -2.0, 20.0, 25.0, [], [], [], 0.0, 0.0, True, 1.44)
    np.testing.assert_array_equal(res.pools, pools)
    assert res.smd[0] == -2.0 and res.co2[0] == 0.0
    # (12,) and (N, 12) drivers, scalar and per-farm ratio give the same answer
    p2 = np.repeat(pools, 2, axis=0)
    a = rothc.run(p2, 3.0, 0.0, 20.0, 25.0, T, R, E, C_INP, 0.0, PC, 1.44)
    climate = (np.tile(T, (2, 1)), np.tile(R, (2, 1)), np.tile(E, (2, 1)))
    mgmt = (np.tile(C_INP, (2, 1)), np.zeros((2, 12)), np.tile(PC, (2, 1)).astype(bool))
    soil = ([3.0, 3.0], [0.0, 0.0], [20.0, 20.0], [25.0, 25.0])
    b = rothc.run(p2, *soil, *climate, *mgmt, np.full((2, 12), 1.44))
    np.testing.assert_allclose(a.pools, b.pools, rtol=0, atol=1e-13)
    np.testing.assert_allclose(a.co2, b.co2, rtol=0, atol=1e-13)
