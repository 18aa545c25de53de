"""RothC-26.3 against the three official Rothamsted example runs and the SCIENCE.md §2 checks."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from abm.soil import rothc
from abm.soil.rothc_io import RothCInput, read_input_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "rothc"  # official examples, see tests/data/rothc/PROVENANCE.md
PY_V1 = DATA / "python_v1_clay13"
FORTRAN_V2 = DATA / "fortran_v2_clay23.4"
R_V2 = DATA / "r_v2_clay23.4"

OFFICIAL_FILES = {
    PY_V1: ("RothC_input.dat", "year_results.csv", "month_results.csv"),
    FORTRAN_V2: ("RothC_input.dat", "year_results.out", "month_results.out"),
    R_V2: ("RothC_input.dat", "year_results.out", "month_results.out"),
}


def test_official_example_files_ship_with_the_repository() -> None:
    """A missing conformance file is a failure, never a skip (the suite must run in any clone)."""
    files = [f / n for f, names in OFFICIAL_FILES.items() for n in names]
    missing = [str(p) for p in files if not p.is_file()]
    assert not missing, f"official RothC example files missing: {missing}"
    assert (DATA / "NOTICE").is_file() and (DATA / "PROVENANCE.md").is_file()


def read_table(path: Path) -> dict[str, NDArray[np.float64]]:
    """An official output table (CSV with optional quotes and padding) as float columns."""
    with path.open(newline="") as fh:
        rows = [[c.strip() for c in row] for row in csv.reader(fh) if row]
    header = rows[0]
    data = np.array([[float(c) if c else np.nan for c in row] for row in rows[1:]])
    return {name: data[:, i] for i, name in enumerate(header)}


def col(table: dict[str, NDArray[np.float64]], *names: str) -> NDArray[np.float64]:
    """The first of ``names`` present (the releases spell BIO/Bio, RM_TMP/RM_Temp)."""
    for name in names:
        if name in table:
            return table[name]
    raise KeyError(names)


def spin_args(d: RothCInput) -> tuple[object, ...]:
    return (
        d.iom,
        d.clay,
        d.depth,
        d.temp[:12],
        d.rain[:12],
        d.evap[:12],
        d.c_inp[:12],
        d.fym[:12],
        d.pc[:12],
        d.dpm_rpm[:12][None, :],
    )


def forward(
    d: RothCInput, pools: NDArray[np.float64], smd: float
) -> dict[str, NDArray[np.float64]]:
    res = rothc.run(
        pools,
        d.iom,
        smd,
        d.clay,
        d.depth,
        d.temp[12:],
        d.rain[12:],
        d.evap[12:],
        d.c_inp[12:][None],
        d.fym[12:][None],
        d.pc[12:][None],
        d.dpm_rpm[12:][None],
        record=True,
    )
    assert res.monthly is not None
    return {k: v[:, 0] for k, v in res.monthly.items()}


POOL_COLS = (
    ("DPM", ("DPM_t_C_ha",)),
    ("RPM", ("RPM_t_C_ha",)),
    ("BIO", ("BIO_t_C_ha", "Bio_t_C_ha")),
    ("HUM", ("HUM_t_C_ha", "Hum_t_C_ha")),
    ("SOC", ("SOC_t_C_ha",)),
)

CASES = [
    pytest.param(PY_V1, "year_results.csv", 19872, id="python_v1_clay13"),
    pytest.param(FORTRAN_V2, "year_results.out", 20916, id="fortran_v2_clay23.4"),
    pytest.param(R_V2, "year_results.out", 20916, id="r_v2_clay23.4"),
]


def equilibrium_row(table: dict[str, NDArray[np.float64]]) -> int:
    """Index of the spin-up row (Year 1; the Fortran file starts with a Year 0 row)."""
    return int(np.flatnonzero(table["Year"] == 1)[0])


@pytest.mark.parametrize(("folder", "year_file", "months"), CASES)
def test_equilibrium_and_spinup_months(folder: Path, year_file: str, months: int) -> None:
    d = read_input_file(folder / "RothC_input.dat")
    table = read_table(folder / year_file)
    i = equilibrium_row(table)
    pools, smd = rothc.equilibrium(*spin_args(d))
    official = np.array([col(table, *names)[i] for _, names in POOL_COLS[:4]])
    # exact fixed point vs the official 1e-6 criterion: equal to the stopping error
    np.testing.assert_allclose(pools[0], official, rtol=0, atol=1e-3)
    assert smd[0] == 0.0
    assert table["Month"][i] == months
    assert int(rothc.official_spinup_months(*spin_args(d))[0]) == months


@pytest.mark.parametrize(("folder", "year_file", "months"), CASES)
def test_every_december_from_exact_equilibrium(folder: Path, year_file: str, months: int) -> None:
    d = read_input_file(folder / "RothC_input.dat")
    table = read_table(folder / year_file)
    pools, smd = rothc.equilibrium(*spin_args(d))
    mon = forward(d, pools, float(smd[0]))
    dec = np.flatnonzero(d.month[12:] == 12)
    rows = np.flatnonzero(table["Year"] > 1)
    assert len(rows) == len(dec) == 69
    for key, names in POOL_COLS:
        # 1e-3: the official stopping error (1.3e-4) plus the Fortran file's 4-decimal rounding
        np.testing.assert_allclose(mon[key][dec], col(table, *names)[rows], rtol=0, atol=1e-3)
    if "CO2_t_C_ha" in table:
        np.testing.assert_allclose(mon["CO2"][dec], table["CO2_t_C_ha"][rows], rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    ("folder", "year_file", "month_file"),
    [
        pytest.param(PY_V1, "year_results.csv", "month_results.csv", id="python_v1_clay13"),
        pytest.param(R_V2, "year_results.out", "month_results.out", id="r_v2_clay23.4"),
    ],
)
def test_every_month_from_official_equilibrium(
    folder: Path, year_file: str, month_file: str
) -> None:
    """Started from the official full-precision equilibrium, every month agrees to 1e-9."""
    d = read_input_file(folder / "RothC_input.dat")
    year = read_table(folder / year_file)
    month = read_table(folder / month_file)
    i = equilibrium_row(year)
    start = np.array([[col(year, *names)[i] for _, names in POOL_COLS[:4]]])
    mon = forward(d, start, 0.0)
    assert len(month["Year"]) == d.nsteps - 12 == 828
    np.testing.assert_array_equal(month["Month"], d.month[12:])
    for key, names in POOL_COLS:
        np.testing.assert_allclose(mon[key], col(month, *names), rtol=0, atol=1e-9)


def test_rate_modifiers_and_co2_against_r_month_by_month() -> None:
    """RM_Temp, SMD, RM_Moist, RM_PC and cumulative CO2 of the R release, full precision."""
    d = read_input_file(R_V2 / "RothC_input.dat")
    year = read_table(R_V2 / "year_results.out")
    month = read_table(R_V2 / "month_results.out")
    start = np.array([[col(year, *names)[0] for _, names in POOL_COLS[:4]]])
    mon = forward(d, start, 0.0)
    np.testing.assert_allclose(mon["a"], month["RM_Temp"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(mon["smd"], month["SMD_mm"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(mon["b"], month["RM_Moist"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(mon["c"], month["RM_PC"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(mon["CO2"], month["CO2_t_C_ha"], rtol=0, atol=1e-9)
    assert np.any(mon["b"] < 1.0) and np.any(mon["c"] == 1.0)  # dry and bare months occur


def test_fortran_month_file_at_its_printed_precision() -> None:
    d = read_input_file(FORTRAN_V2 / "RothC_input.dat")
    month = read_table(FORTRAN_V2 / "month_results.out")
    rows = np.flatnonzero(month["Year"] > 1)
    pools, smd = rothc.equilibrium(*spin_args(d))
    mon = forward(d, pools, float(smd[0]))
    for key, names in POOL_COLS:
        np.testing.assert_allclose(mon[key], col(month, *names)[rows], rtol=0, atol=1e-3)
    np.testing.assert_allclose(mon["a"], month["RM_TMP"][rows], rtol=0, atol=6e-5)
    np.testing.assert_allclose(mon["smd"], month["SMD_mm"][rows], rtol=0, atol=6e-3)
    np.testing.assert_allclose(mon["b"], month["RM_Moist"][rows], rtol=0, atol=6e-5)


@pytest.mark.parametrize(
    ("folder", "year_file"),
    [
        pytest.param(PY_V1, "year_results.csv", id="python_v1_clay13"),
        pytest.param(R_V2, "year_results.out", id="r_v2_clay23.4"),
    ],
)
def test_brute_force_official_spinup_reproduces_official_equilibrium(
    folder: Path, year_file: str
) -> None:
    """Repeating the average year from zero for the official month count gives its pools."""
    d = read_input_file(folder / "RothC_input.dat")
    year = read_table(folder / year_file)
    months = int(year["Month"][0])
    reps = months // 12
    res = rothc.run(
        np.zeros((1, 4)),
        d.iom,
        0.0,
        d.clay,
        d.depth,
        np.tile(d.temp[:12], reps),
        np.tile(d.rain[:12], reps),
        np.tile(d.evap[:12], reps),
        np.tile(d.c_inp[:12], reps),
        np.tile(d.fym[:12], reps),
        np.tile(d.pc[:12], reps),
        float(d.dpm_rpm[0]),
    )
    official = np.array([col(year, *names)[0] for _, names in POOL_COLS[:4]])
    np.testing.assert_allclose(res.pools[0], official, rtol=0, atol=1e-9)
    exact, _ = rothc.equilibrium(*spin_args(d))
    assert 1e-5 < np.max(np.abs(exact[0] - official)) < 1e-3  # the official stopping error


# --- SCIENCE.md §2 checks --------------------------------------------------------------------


def test_temperature_modifier_table() -> None:
    temps = np.array([-5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 30.0])
    table = np.array([0.0162, 0.1439, 0.4971, 1.0990, 1.8984, 2.8215, 4.7910])
    np.testing.assert_allclose(rothc.rate_temperature(temps), table, rtol=0, atol=5e-5)
    assert rothc.rate_temperature(-5.01) == 0.0
    assert rothc.rate_temperature(-30.0) == 0.0


def test_rothamsted_topsoil_moisture_deficit_table() -> None:
    rain = [74, 59, 62, 51, 52, 57, 34, 55, 58, 56, 75, 71]
    evap = [8, 10, 27, 49, 83, 99, 103, 91, 69, 34, 16, 8]
    smd_table = [0, 0, 0, 0, -10.25, -27.50, -44.94, -44.94, -38.69, -8.19, 0, 0]
    b_table = [1, 1, 1, 1, 1, 0.758, 0.2, 0.2, 0.4, 1, 1, 1]
    smd = 0.0
    got_smd, got_b = [], []
    for r, e in zip(rain, evap, strict=True):
        b, smd_arr = rothc.moisture_step(r, e, 23.4, 23.0, True, smd)
        smd = float(smd_arr)
        got_smd.append(smd)
        got_b.append(float(b))
    np.testing.assert_allclose(got_smd, smd_table, rtol=0, atol=5e-3)
    np.testing.assert_allclose(got_b, b_table, rtol=0, atol=5e-4)


def test_bare_soil_deficit_stops_at_smd_bare() -> None:
    smd_max = -(20 + 1.3 * 23.4 - 0.01 * 23.4**2)
    b, smd = rothc.moisture_step(0.0, 400.0, 23.4, 23.0, False, 0.0)
    assert float(smd) == pytest.approx(0.556 * smd_max)
    b, smd = rothc.moisture_step(0.0, 400.0, 23.4, 23.0, True, 0.0)
    assert float(smd) == pytest.approx(smd_max) and float(b) == pytest.approx(0.2)
    assert rothc.rate_cover(True) == 0.6 and rothc.rate_cover(False) == 1.0


def test_hoosfield_single_step() -> None:
    """Hoosfield, 31 Jan 1852: abc = 0.3561, clay 23.4, no input (SCIENCE.md §2)."""
    pools = np.array([[0.1533, 4.4852, 0.6671, 25.8576]])
    a10 = float(rothc.rate_temperature(10.0))
    climate = ([10.0], [100.0], [0.0])  # a(10 °C), b = 1 (wet), c = 1 (bare) …
    rate_mod = 0.3561 / a10  # … scaled to a·b·c = 0.3561
    res = rothc.run(pools, 0.0, 0.0, 23.4, 23.0, *climate, 0.0, 0.0, False, 1.44, rate_mod=rate_mod)
    np.testing.assert_allclose(res.pools[0], [0.1140, 4.4455, 0.6651, 25.8551], rtol=0, atol=1e-4)


def test_co2_ratio_and_falloon_iom() -> None:
    assert float(rothc.co2_ratio(0.0)) == pytest.approx(1.67 * 3.45)
    assert float(rothc.co2_ratio(23.4)) == pytest.approx(
        1.67 * (1.85 + 1.6 * np.exp(-0.0786 * 23.4))
    )
    assert float(rothc.falloon_iom(37.0)) == pytest.approx(0.049 * 37.0**1.139)
    assert float(rothc.falloon_iom(37.0)) == pytest.approx(3.0, abs=0.05)  # the examples' IOM
