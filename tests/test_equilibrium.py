"""Saturation and the new equilibrium (abm.equilibrium, issue 15)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from abm import equilibrium as eq
from abm.batch.store import read_table, write_single_run
from abm.model import SoilCarbonModel
from abm.report import build_report
from abm.run import run_model
from abm.soil import climate, rothc
from abm.soil.saturation import Saturation

STILL = {
    "n_farms": 60,
    "climate.temp_noise_sd": 0.0,
    "climate.rain_cv": 0.0,
    "climate.warming_c_per_yr": 0.0,
    "potential.enabled": True,  # every eligible practice from the policy start: a large change
    "policy.start_year": 2022,
}


def _model_at(params: dict, year: int, seed: int = 4) -> SoilCarbonModel:
    m = SoilCarbonModel(params, seed=seed)
    while m.year <= year:
        m.step()
    return m


def _long_run(m: SoilCarbonModel, years: int, saturation: Saturation | None) -> np.ndarray:
    """(years + 1, N) SOC without biochar (t C/ha) at the end of each year, under the zone
    normals (built here from abm.soil.climate, not from abm.equilibrium) and the model's last
    drivers, from the farms' current state."""
    f, d = m.farms, m._last_drivers
    temp = np.array([climate.ZONES[z].temp12 for z in m.zone_names])[f.zone]
    rain = np.array([climate.ZONES[z].rain12 for z in m.zone_names])[f.zone] + d.irrigation
    evap = np.array([climate.ZONES[z].evap12 for z in m.zone_names])[f.zone]
    pools, smd = f.pools.copy(), f.smd.copy()
    out = [pools.sum(axis=1) + f.iom]
    step = 50  # years per call
    for _ in range(years // step):

        def tile(x: np.ndarray) -> np.ndarray:
            return np.tile(x, (1, step))

        res = rothc.run(
            pools,
            f.iom,
            smd,
            f.clay,
            f.depth,
            tile(temp),
            tile(rain),
            tile(evap),
            tile(d.plant),
            tile(d.fym),
            tile(d.covered),
            tile(d.dpm_rpm),
            rate_mod=tile(d.rate_mod),
            saturation=saturation,
        )
        pools, smd = res.pools, res.smd
        out.append(pools.sum(axis=1) + f.iom)
    return np.array(out)


@pytest.mark.parametrize("kind", ["none", "hassink"])
def test_equilibrium_equals_long_rothc_run_and_progress_tends_to_one(kind: str) -> None:
    m = _model_at({**STILL, "soil.saturation": kind}, 2022)
    f = m.farms
    assert np.all(f.biochar == 0)  # the long run below carries no biochar
    soc_eq = m._equilibrium_tracker.cache.soc_eq
    sat = None if kind == "none" else Saturation(kind, capacity=f.capacity)
    traj = _long_run(m, 3000, sat)
    np.testing.assert_allclose(soc_eq, traj[-1], rtol=1e-6, atol=0)
    # the practices changed a lot: the equilibrium is far from today's stock
    assert np.mean(np.abs(soc_eq - f.soc()) / f.soc()) > 0.05
    # progress from the policy-start stock: 0 at the start, then towards 1, never past it
    soc_p = m._equilibrium_tracker.soc_policy
    path = [eq.progress(s, soc_p, soc_eq, f.area) for s in traj]
    assert path[-1] == pytest.approx(1.0, abs=1e-6)
    assert np.all(np.diff(path) > -1e-9)
    assert 0.0 < path[1] < path[10] < 1.0


def test_progress_is_zero_at_the_policy_start_and_rises_under_constant_management() -> None:
    r = run_model({**STILL, "end_year": 2060}, seed=4)
    by_year = r.timeseries.set_index("year")
    assert by_year.loc[2021, "equilibrium_progress_mean"] == 0.0  # the policy-start snapshot
    prog = by_year.loc[2023:, "equilibrium_progress_mean"].to_numpy()
    assert np.all(np.diff(prog) > 0) and 0 < prog[0] and prog[-1] < 1
    # potential: practices fixed from 2022, so the equilibrium stops moving
    eq_mean = by_year.loc[2023:, "soc_equilibrium_mean_t_ha"].to_numpy()
    np.testing.assert_allclose(eq_mean, eq_mean[0], rtol=1e-12)
    assert eq_mean[0] > by_year.loc[2060, "soc_mean_t_ha"] > by_year.loc[2021, "soc_mean_t_ha"]


def test_progress_function_by_hand() -> None:
    area = np.array([1.0, 3.0])
    soc_p = np.array([50.0, 40.0])
    soc_eq = np.array([60.0, 44.0])  # gaps 10 and 4: area-weighted 10 + 12 = 22
    soc = np.array([55.0, 41.0])  # done 5 + 3 = 8
    assert eq.progress(soc, soc_p, soc_eq, area) == pytest.approx(8 / 22)
    assert eq.progress(soc_p, soc_p, soc_eq, area) == 0.0
    # a gap under 1 permille of the stock: the ratio would be noise
    assert math.isnan(eq.progress(soc_p + 0.01, soc_p, soc_p + 0.02, area))
    assert math.isnan(eq.progress(*(np.zeros(0),) * 4))  # a zone without farms


def test_capacities_and_ratio_by_hand() -> None:
    clay, silt, bd, depth = (np.array([v]) for v in (20.0, 40.0, 1.3, 30.0))
    caps = eq.diagnostic_capacities(clay, silt, bd, depth)
    # Hassink: (4.09 + 0.37 (20 + 40/2)) g/kg x 1.3 x 30 / 10 ; Georgiou: 0.86 x 60 g/kg x 3.9
    assert caps["hassink"][0] == pytest.approx((4.09 + 0.37 * 40) * 3.9)
    assert caps["georgiou"][0] == pytest.approx(0.86 * 60 * 3.9)
    pools = np.array([[1.0, 10.0, 2.0, 30.0]])
    c_ma = eq.mineral_associated(pools, np.array([3.0]))  # BIO + HUM + IOM, not DPM/RPM
    assert c_ma[0] == 35.0
    assert eq.saturation_ratio(c_ma, caps["hassink"])[0] == pytest.approx(35 / 73.671)
    assert eq.remaining_capacity(c_ma, caps["hassink"])[0] == pytest.approx(73.671 - 35)
    assert eq.remaining_capacity(np.array([80.0]), caps["hassink"])[0] == 0.0


@pytest.mark.parametrize("kind", ["hassink", "georgiou"])
def test_ratio_never_exceeds_one_with_a_cap_and_room_falls_as_carbon_rises(kind: str) -> None:
    m = SoilCarbonModel({**STILL, "soil.saturation": kind, "end_year": 2060}, seed=5)
    f = m.farms
    total_cap = float((f.area * f.capacity).sum())
    rows = []
    while m.year <= m.params.end_year:
        m.step()
        c_ma = eq.mineral_associated(f.pools, f.iom)
        assert np.all(c_ma <= f.capacity * (1 + 1e-12))
        mineral_t = float((f.area * c_ma).sum())
        rows.append((m.obs["saturation_ratio_mean"], m.obs["remaining_capacity_t"], mineral_t))
    ratio, room, mineral = np.array(rows).T
    assert np.all(ratio <= 1.0) and np.all(ratio > 0)
    # the room left is exactly the capacity not yet filled: it falls as mineral C rises
    np.testing.assert_allclose(room + mineral, total_cap, rtol=1e-12)
    assert mineral[-1] > mineral[0] and room[-1] < room[0]
    assert np.all(np.sign(np.diff(room)) == -np.sign(np.diff(mineral)))


def test_diagnostics_change_no_other_output(monkeypatch: pytest.MonkeyPatch) -> None:
    params = {"n_farms": 80, "end_year": 2032, "policy.start_year": 2022}
    on = run_model(params, seed=9)
    monkeypatch.setattr(eq, "ENABLED", False)
    off = run_model(params, seed=9)
    new = list(eq.COLUMNS)
    assert off.timeseries[new].isna().all().all()
    assert on.timeseries[new[:-1]].notna().all().all()
    pd.testing.assert_frame_equal(on.timeseries.drop(columns=new), off.timeseries.drop(columns=new))
    pd.testing.assert_frame_equal(on.ledger, off.ledger)
    same = [k for k in on.kpis if not any(k.startswith(c) for c in new)]
    assert {k: on.kpis[k] for k in same} == pytest.approx(
        {k: off.kpis[k] for k in same}, nan_ok=True
    )
    assert {f"{c}_2030" for c in new} <= set(on.kpis)


def test_linear_solver_equals_rothc_equilibrium_with_weather_years() -> None:
    rng = np.random.default_rng(0)
    n = 25
    zones = ["temperate_oceanic", "mediterranean"]
    zone = rng.integers(0, 2, n)
    clim = eq.year_climate(zones, zone, 0.4, temp_noise_sd=0.6, rain_cv=0.2)
    assert clim.weather is not None and clim.weather.temp.shape[0] == 9
    d = eq.SoilDrivers(
        plant=rng.uniform(0.0, 0.8, (n, 12)),
        fym=rng.uniform(0.0, 0.3, (n, 12)) * (rng.random((n, 12)) < 0.2),
        covered=rng.random((n, 12)) < 0.6,
        dpm_rpm=rng.uniform(0.5, 1.6, (n, 12)),
        rate_mod=rng.uniform(0.8, 1.2, (n, 12)),
        irrigation=rng.uniform(0.0, 30.0, (n, 12)),
    )
    iom, clay, depth = rng.uniform(1, 5, n), rng.uniform(5, 60, n), rng.uniform(20, 40, n)
    fast = eq.equilibrium_soc(iom, clay, depth, clim, d)
    # wet winters: the first months, the same in the three rain years, are run once
    g = eq.moisture_modifiers(clay, depth, clim, d)  # (N, K, 12)
    rate = rothc.rate_temperature(clim.months[0]).transpose(2, 1, 0)[zone] * g
    runs = rate.reshape(n, 3, 3, 12)
    assert clim.rain_nodes == 3 and (runs[..., 0] == runs[:, :, :1, 0]).all()
    w = clim.weather
    pools, _ = rothc.equilibrium(
        iom,
        clay,
        depth,
        clim.temp,
        clim.rain + d.irrigation,
        clim.evap,
        d.plant,
        d.fym,
        d.covered,
        d.dpm_rpm,
        rate_mod=d.rate_mod,
        weather=rothc.Weather(w.temp, w.rain + d.irrigation[None], w.evap, w.weights),
    )
    np.testing.assert_allclose(fast, pools.sum(axis=1) + iom, rtol=1e-11)


@pytest.mark.parametrize(
    ("kind", "warming"), [("none", 0.0), ("none", 0.05), ("hassink", 0.0), ("hassink", 0.05)]
)
def test_cache_solves_only_changed_farms_and_changes_nothing(kind: str, warming: float) -> None:
    """Re-solving the changed farms only, the cached moisture modifiers (warming) and Newton
    started from last year's fixed point (a cap) give the numbers of a solve from scratch."""
    params = {
        **STILL,
        "n_farms": 120,
        "policy.start_year": 2021,
        "potential.enabled": False,
        "soil.saturation": kind,
        "climate.warming_c_per_yr": warming,
        "end_year": 2030,
    }
    cached = SoilCarbonModel(params, seed=3)
    fresh = SoilCarbonModel(params, seed=3)
    for _ in range(8):
        cached.step()
        t = getattr(fresh, "_equilibrium_tracker", None)
        if t is not None:
            t.cache = eq.EquilibriumCache()  # forget last year: solve every farm from scratch
        fresh.step()
        got = cached._equilibrium_tracker.cache.soc_eq
        want = fresh._equilibrium_tracker.cache.soc_eq
        if kind == "none":
            np.testing.assert_array_equal(got, want)
        else:  # Newton stops at an annual residual < 1e-12 t C/ha, from either start
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
    cache = cached._equilibrium_tracker.cache
    assert fresh._equilibrium_tracker.cache.solved_rows == 120
    if warming == 0:
        assert cache.solved_rows < 8 * 120
    else:
        assert cache.solved_rows == 8 * 120  # the climate moved: every farm again
    if kind == "none":  # moisture modifiers only where cover, irrigation or rate changed
        assert 120 < cache.moisture_rows < cache.solved_rows
    else:
        assert np.isfinite(cache.pools).all()  # next year's Newton starts


def test_zone_table_adds_up_to_the_landscape_and_reaches_the_results_folder(tmp_path) -> None:
    r = run_model({"n_farms": 90, "end_year": 2024}, seed=2)
    z = r.zones
    assert list(z.columns) == list(eq.ZONE_COLUMNS)
    assert len(z) == 5 * z["zone"].nunique() and z["zone"].nunique() >= 2
    ts = r.timeseries.set_index("year")
    for year, g in z.groupby("year"):
        w = g["area_ha"] / g["area_ha"].sum()
        for col in ("soc_equilibrium_mean_t_ha", "saturation_ratio_mean_georgiou"):
            assert (w * g[col]).sum() == pytest.approx(ts.loc[year, col], rel=1e-12)
        assert g["remaining_capacity_t"].sum() == pytest.approx(
            ts.loc[year, "remaining_capacity_t"], rel=1e-12
        )
    write_single_run(tmp_path / "out", r, scenario="baseline", seed=2, spec={})
    table = read_table(tmp_path / "out", "zones")
    assert len(table) == len(z) and set(table["run_id"]) == {"baseline-d0000-r000"}
    md = build_report(tmp_path / "out").read_text()
    assert "Saturation and the new equilibrium" in md
    assert (tmp_path / "out" / "report" / "equilibrium.png").stat().st_size > 10_000


@pytest.mark.parametrize("kind", ["none", "hassink"])
def test_the_start_state_is_its_own_equilibrium(kind: str) -> None:
    """Before anything changes, each farm sits at the equilibrium of its drivers: the year's
    climate (offset, weather years with noise, normals with a cap) is the spin-up's."""
    m = SoilCarbonModel({"n_farms": 150, "soil.saturation": kind}, seed=6)
    assert m.params.climate.warming_c_per_yr > 0 and m.params.climate.temp_noise_sd > 0
    m._last_drivers = m._year_inputs(m.practice_use())[1]
    out = eq.observe(m)
    np.testing.assert_allclose(m._equilibrium_tracker.cache.soc_eq, m.farms.soc(), rtol=1e-9)
    assert out["equilibrium_progress_mean"] == 0.0
    assert out["soc_equilibrium_mean_t_ha"] == pytest.approx(
        float((m.farms.soc() * m.farms.area).sum() / m.farms.area.sum()), rel=1e-9
    )


def test_icbm_engine_reports_nan_rather_than_rothc_figures() -> None:
    r = run_model({"n_farms": 30, "end_year": 2021, "soil.model": "icbm"}, seed=1)
    assert r.timeseries[list(eq.COLUMNS)].isna().all().all()
    assert r.zones.empty
