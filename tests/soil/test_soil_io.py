"""Official RothC input/output files and the ``abm rothc`` command."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from abm.errors import UserInputError
from abm.soil import rothc_io

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "rothc"
PY_V1 = DATA / "python_v1_clay13" / "RothC_input.dat"
R_V2 = DATA / "r_v2_clay23.4" / "RothC_input.dat"
FORTRAN_V2 = DATA / "fortran_v2_clay23.4" / "RothC_input.dat"


def read_csv(path: Path) -> tuple[list[str], NDArray[np.float64]]:
    with path.open(newline="") as fh:
        rows = [[c.strip().strip('"') for c in row] for row in csv.reader(fh) if row]
    return rows[0], np.array([[float(c) for c in row] for row in rows[1:]])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "abm.cli", "rothc", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


# --- reading -----------------------------------------------------------------------------------


def test_reads_v1_and_v2_formats() -> None:
    v1 = rothc_io.read_input_file(PY_V1)
    assert v1.version == "v1"
    assert (v1.clay, v1.depth, v1.iom, v1.nsteps) == (13.0, 25.0, 3.0041, 840)
    assert v1.silt is None and v1.opt_rmmoist is None
    assert list(v1.month[:13]) == [*range(1, 13), 1] and v1.year[12] == 1939 and v1.year[-1] == 2007
    assert v1.c_inp[7] == 1.74 and v1.pc[8] == 0 and v1.dpm_rpm[0] == 1.44
    for path in (R_V2, FORTRAN_V2):
        v2 = rothc_io.read_input_file(path)
        assert v2.version == "v2" and (v2.clay, v2.depth, v2.nsteps) == (23.4, 23.0, 840)
        assert (v2.silt, v2.bulk_density, v2.oc, v2.min_rm_moist) == (58.6, 1.27, 0.94, 0.2)
        assert (v2.opt_rmmoist, v2.opt_smdbare) == (1, 1)
        np.testing.assert_array_equal(v2.temp, v1.temp)
    assert float(np.min(v1.evap)) < 0  # measured pan evaporation can be negative: accepted


def test_write_input_file_round_trip(tmp_path: Path) -> None:
    for src in (PY_V1, R_V2):
        data = rothc_io.read_input_file(src)
        out = rothc_io.write_input_file(tmp_path / "copy.dat", data)
        back = rothc_io.read_input_file(out)
        assert back.version == "v1"
        for key in ("clay", "depth", "iom"):
            assert getattr(back, key) == getattr(data, key)
        for key in rothc_io.RothCInput.__dataclass_fields__:
            if key in ("clay", "depth", "iom") or not isinstance(getattr(data, key), np.ndarray):
                continue
            np.testing.assert_array_equal(getattr(back, key), getattr(data, key))
        assert rothc_io.simulate(back).year_rows == rothc_io.simulate(data).year_rows
    assert [p.name for p in tmp_path.iterdir()] == ["copy.dat"]  # no temporary file left


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def malformed(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken copies of the official files: name → (file, text the one-line error must hold)."""
    v1 = _lines(PY_V1)
    v2 = _lines(R_V2)
    cases: dict[str, tuple[list[str], str]] = {}
    bad = v1.copy()
    bad[19] = bad[19].replace("3.99", "3,99x")  # line 20: January 1939
    cases["bad_number"] = (bad, "line 20: Tmp: '3,99x' is not a number")
    cases["missing_rows"] = (v1[:-5], "line 5: nsteps is 840 but the file has 835 monthly rows")
    extra = v1.copy()
    extra[30] += "\t7"
    cases["column_count"] = (extra, "line 31: expected 10 values")
    missing = v1.copy()
    missing[4] = "13.0\t25.0\t3.0041"
    cases["missing_value"] = (missing, "line 5: expected 4 values (clay depth iom nsteps), found 3")
    cases["no_header"] = (v1[:3] + v1[4:], "no soil header line")
    month = v1.copy()
    month[25] = month[25].replace("1939\t7", "1939\t9")
    cases["month_order"] = (month, "line 26: month: 9 does not follow")
    pc = v1.copy()
    pc[40] = "\t".join([*pc[40].split("\t")[:8], "2", "1.44"])
    cases["pc_value"] = (pc, "line 41: PC: 2 must be 0 (bare) or 1 (covered)")
    option = v2.copy()
    option[4] = "    2          1"
    cases["unsupported_option"] = (option, "line 5: opt_RMmoist=2 opt_SMDbare=1 is not supported")
    min_rm = v2.copy()
    min_rm[7] = min_rm[7].replace("0.2", "0.1")
    cases["unsupported_min_moist"] = (min_rm, "line 8: minRM_Moist: 0.1 is not supported")
    out = {k: (_write(tmp_path, f"{k}.dat", lines), msg) for k, (lines, msg) in cases.items()}
    out["missing_file"] = (tmp_path / "nope.dat", "nope.dat: file not found")
    return out


def test_malformed_files_raise_one_line_naming_the_line(tmp_path: Path) -> None:
    for name, (path, message) in malformed(tmp_path).items():
        out = tmp_path / f"out_{name}"
        with pytest.raises(UserInputError) as err:
            rothc_io.run_file(path, out)
        text = str(err.value)
        assert "\n" not in text, name
        assert text.startswith(str(path)), name
        assert message in text, (name, text)
        assert not out.exists(), name


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(UserInputError, match="not a folder"):
        rothc_io.run_file(PY_V1, target)


# --- the command -------------------------------------------------------------------------------


def test_cli_runs_the_python_example(tmp_path: Path) -> None:
    out = tmp_path / "res"
    proc = cli(str(PY_V1), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1 and "year_results.csv" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["month_results.csv", "year_results.csv"]
    header, got = read_csv(out / "year_results.csv")
    assert header == list(rothc_io.YEAR_COLUMNS)
    off_header, official = read_csv(DATA / "python_v1_clay13" / "year_results.csv")
    assert got.shape[0] == official.shape[0] == 70
    assert got[0, 0] == 1 and got[0, 1] == 19872
    np.testing.assert_array_equal(got[1:, :2], official[1:, :2])
    np.testing.assert_allclose(got[:, 2:8], official[:, 2:8], rtol=0, atol=1e-3)
    assert got[0, 8] == 0.0 and np.all(np.diff(got[:, 8]) > 0)  # cumulative CO2
    m_header, months = read_csv(out / "month_results.csv")
    assert m_header == list(rothc_io.MONTH_COLUMNS)
    _, official_m = read_csv(DATA / "python_v1_clay13" / "month_results.csv")
    assert months.shape[0] == 828
    names = ("DPM_t_C_ha", "RPM_t_C_ha", "BIO_t_C_ha", "HUM_t_C_ha", "SOC_t_C_ha")
    cols = [m_header.index(c) for c in names]
    ocols = [off_header.index(c) for c in names]
    np.testing.assert_allclose(months[:, cols], official_m[:, ocols], rtol=0, atol=1e-3)


def test_cli_v2_example_matches_r_at_equilibrium_count(tmp_path: Path) -> None:
    data = rothc_io.read_input_file(R_V2)
    out = rothc_io.simulate(data)
    assert out.spinup_months == 20916
    _, official = read_csv(DATA / "r_v2_clay23.4" / "year_results.out")
    got = np.array(out.year_rows, dtype=float)
    np.testing.assert_allclose(got[:, 2:9], official[:, 2:9], rtol=0, atol=1e-3)


@pytest.mark.parametrize("name", ["bad_number", "missing_file", "unsupported_option"])
def test_cli_malformed_exit_2_one_line_nothing_written(tmp_path: Path, name: str) -> None:
    path, message = malformed(tmp_path)[name]
    out = tmp_path / "out"
    proc = cli(str(path), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and message in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_import_soil_does_not_import_mesa_or_pandas() -> None:
    code = (
        "import sys, abm.soil, abm.soil.rothc_io, abm.soil.icbm, abm.soil.climate;"
        "print(sorted(m for m in ('mesa', 'pandas', 'scipy') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
