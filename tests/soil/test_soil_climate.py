"""Agro-pedo-climatic zones, warming pathways and climate series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from abm.errors import UserInputError
from abm.soil import climate, rothc
from abm.soil.rothc_io import read_input_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "data" / "rothc" / "python_v1_clay13" / "RothC_input.dat"


def test_temperate_oceanic_is_the_official_average_year() -> None:
    d = read_input_file(EXAMPLE)
    z = climate.ZONES["temperate_oceanic"]
    np.testing.assert_array_equal(z.temp12, d.temp[:12])
    np.testing.assert_array_equal(z.rain12, d.rain[:12])
    np.testing.assert_array_equal(z.evap12, d.evap[:12])
    assert z.temp[0] == 3.73 and z.temp[-1] == 4.09


@pytest.mark.parametrize("name", ["temperate_oceanic", "mediterranean", "continental", "tropical"])
def test_zones_are_complete_and_plausible(name: str) -> None:
    z = climate.ZONES[name]
    assert z.name == name and z.source and z.notes
    assert len(z.temp) == len(z.rain) == len(z.evap) == 12
    assert 0 < z.clay_mean < 100 and z.clay_sd > 0 and 0 <= z.silt_mean < 100
    assert z.clay_mean + z.silt_mean <= 100
    assert z.depth_cm == climate.MODELLED_DEPTH_CM == 30.0
    assert 0.8 < z.bulk_density < 1.8 and z.soc_mean > 0 and z.soc_sd > 0
    assert z.hemisphere in ("N", "S")
    assert min(z.rain) >= 0 and min(z.evap) >= 0
    # a typical cropland input gives a positive equilibrium with a periodic deficit
    normals = (z.temp12, z.rain12, z.evap12)
    pools, smd = rothc.equilibrium(3.0, z.clay_mean, z.depth_cm, *normals, 0.25, 0.0, True, 1.44)
    assert np.all(pools > 0) and smd[0] <= 0


def test_zone_climates_differ_as_their_koppen_class() -> None:
    z = climate.ZONES
    assert z["tropical"].temp12.min() > 18.0  # Köppen A: every month > 18 °C
    assert z["tropical"].hemisphere == "S" and z["tropical"].rain12[5:8].sum() < 60
    assert z["continental"].temp12.min() < -3.0 + 1e-9  # Köppen D: coldest month ≤ −3 °C
    assert z["mediterranean"].rain12[6] < z["mediterranean"].rain12[9]  # dry summer, wet autumn
    assert z["mediterranean"].evap12.sum() > z["mediterranean"].rain12.sum()


def test_thornthwaite_pan_evaporation_against_the_measured_pan() -> None:
    """The approximation used for the other zones, on the Rothamsted normals: +19 %."""
    z = climate.ZONES["temperate_oceanic"]
    pet = climate.thornthwaite_pet(z.temp12, z.latitude_deg)
    assert pet.sum() / (0.75 * z.evap12.sum()) == pytest.approx(1.19, abs=0.02)
    assert np.all(climate.thornthwaite_pet(np.full(12, -2.0), 50.0) == 0.0)


def test_climate_series_deterministic_and_warming() -> None:
    t, r, e = climate.climate_series("mediterranean", 5)
    z = climate.ZONES["mediterranean"]
    np.testing.assert_array_equal(t, np.tile(z.temp12, (5, 1)))
    np.testing.assert_array_equal(r, np.tile(z.rain12, (5, 1)))
    np.testing.assert_allclose(e, np.tile(z.evap12, (5, 1)), atol=1e-12)
    rate = climate.WARMING_PATHWAYS["rcp85"]
    t, _, e = climate.climate_series(z, 30, warming_c_per_yr=rate)
    np.testing.assert_allclose(
        t - z.temp12, np.repeat(rate * np.arange(30.0)[:, None], 12, 1), atol=1e-12
    )
    assert np.all(np.diff(e.sum(axis=1)) > 0)  # warming raises evaporation
    assert climate.warming_pathways is climate.WARMING_PATHWAYS
    with pytest.raises(TypeError):
        climate.warming_pathways["rcp45"] = 1.0  # type: ignore[index]
    assert climate.WARMING_PATHWAYS["none"] == 0.0
    assert 0 < climate.WARMING_PATHWAYS["rcp45"] < climate.WARMING_PATHWAYS["rcp85"] < 0.1


def test_climate_series_noise_is_seeded() -> None:
    kw = {"warming_c_per_yr": 0.02, "temp_noise_sd": 0.8, "rain_cv": 0.25}
    a = climate.climate_series("continental", 200, **kw, rng=np.random.default_rng(3))
    b = climate.climate_series("continental", 200, **kw, rng=np.random.default_rng(3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    z = climate.ZONES["continental"]
    anomaly = (a[0] - z.temp12)[:, 0] - 0.02 * np.arange(200)
    assert abs(anomaly.mean()) < 0.25 and anomaly.std() == pytest.approx(0.8, rel=0.2)
    factor = a[1][:, 6] / z.rain[6]
    assert np.all(factor > 0) and factor.std() == pytest.approx(0.25, rel=0.25)
    with pytest.raises(UserInputError, match="rng"):
        climate.climate_series("continental", 3, temp_noise_sd=0.5)
    with pytest.raises(UserInputError, match="zone"):
        climate.climate_series("arctic", 3)
