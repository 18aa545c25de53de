"""Reader and writer of the official RothC input and output files (``abm rothc``).

Input (``RothC_input.dat``), two formats, told apart by content:

* **v1** (RothC_Py): 3 comment lines, the soil header ``clay depth iom nsteps``, its value line,
  a units line, the column header, then ``nsteps`` monthly rows
  ``year month modern Tmp Rain Evap C_inp FYM PC DPM_RPM``.
* **v2** (RothC_Code v2 Fortran, RothC_R): two comment lines, a units line, the option header
  ``opt_RMmoist opt_SMDbare`` and its values, a units line, the soil header
  ``clay depth iom nsteps silt BD OC minRM_Moist`` and its values, a units line, the column
  header (R names the input columns ``Pl_inp OA_inp``), then the monthly rows.

Only options ``1 1`` — the RothC-26.3 moisture function and bare-soil deficit — are run, with
``minRM_Moist = 0.2`` (26.3). Options 2 and 3 (Farina et al. 2013, van Genuchten soil water
after Wösten et al. 1999) are refused with a clear message: the Fortran and R releases differ in
their details and no official output exists here to test an implementation against.

The first 12 rows (year 1) are the average year used for the spin-up; here it is the exact fixed
point of the year's affine map (:func:`abm.soil.rothc.equilibrium`), which the official
iteration approaches to within its 1e-6 t C/ha stopping error. The ``Month`` of the equilibrium
row is the number of months the official iteration would run
(:func:`abm.soil.rothc.official_spinup_months`: 19872 for the RothC_Py example, 20916 for the v2
examples, as in the official outputs). Radiocarbon (``modern``, ``deltaC``) is read but not
modelled: the outputs have no ``deltaC`` column.

Outputs (written atomically, only after the whole file was read and run):
``year_results.csv`` — the equilibrium row then every December;
``month_results.csv`` — every month with its drivers and rate modifiers, as the Fortran file.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from abm.errors import UserInputError
from abm.soil import rothc

__all__ = [
    "MONTH_COLUMNS",
    "YEAR_COLUMNS",
    "RothCInput",
    "RothCOutput",
    "read_input_file",
    "run_file",
    "simulate",
    "write_input_file",
]

YEAR_COLUMNS = (
    "Year",
    "Month",
    "DPM_t_C_ha",
    "RPM_t_C_ha",
    "BIO_t_C_ha",
    "HUM_t_C_ha",
    "IOM_t_C_ha",
    "SOC_t_C_ha",
    "CO2_t_C_ha",
)
MONTH_COLUMNS = (
    "Year",
    "Month",
    "C_Inp_t_C_ha",
    "FYM_Inp_t_C_ha",
    "TEMP_C",
    "RM_TMP",
    "RAIN_mm",
    "PEVAP_mm",
    "SMD_mm",
    "RM_Moist",
    "PC",
    "RM_PC",
    "DPM_t_C_ha",
    "RPM_t_C_ha",
    "BIO_t_C_ha",
    "HUM_t_C_ha",
    "IOM_t_C_ha",
    "SOC_t_C_ha",
    "CO2_t_C_ha",
)
_DATA_COLUMNS = ("year", "month", "modern", "Tmp", "Rain", "Evap", "C_inp", "FYM", "PC", "DPM_RPM")
_SOIL_V1 = ("clay", "depth", "iom", "nsteps")
_SOIL_V2 = ("clay", "depth", "iom", "nsteps", "silt", "BD", "OC", "minRM_Moist")

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RothCInput:
    """The content of an official RothC input file.

    Attributes
    ----------
    clay, depth, iom
        Clay (%), depth of the layer (cm), inert organic matter (t C/ha).
    year, month, modern, temp, rain, evap, c_inp, fym, pc, dpm_rpm
        One value per monthly row: year, month (1–12), % modern 14C, air temperature (°C),
        rainfall (mm), open-pan evaporation (mm), plant C input and FYM C input
        (t C/ha/month), plant cover (0/1), DPM/RPM ratio. The first 12 rows are the average
        year of the spin-up.
    version
        ``"v1"`` or ``"v2"``.
    silt, bulk_density, oc, min_rm_moist, opt_rmmoist, opt_smdbare
        v2 extras (``None`` in v1 files).
    """

    clay: float
    depth: float
    iom: float
    year: IntArray
    month: IntArray
    modern: FloatArray
    temp: FloatArray
    rain: FloatArray
    evap: FloatArray
    c_inp: FloatArray
    fym: FloatArray
    pc: IntArray
    dpm_rpm: FloatArray
    version: str = "v1"
    silt: float | None = None
    bulk_density: float | None = None
    oc: float | None = None
    min_rm_moist: float | None = None
    opt_rmmoist: int | None = None
    opt_smdbare: int | None = None

    @property
    def nsteps(self) -> int:
        """Number of monthly rows."""
        return int(self.year.shape[0])


@dataclass(frozen=True)
class RothCOutput:
    """Rows of the two result tables (see :data:`YEAR_COLUMNS`, :data:`MONTH_COLUMNS`)."""

    year_rows: list[list[float | int]] = field(default_factory=list)
    month_rows: list[list[float | int]] = field(default_factory=list)
    spinup_months: int = 0


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _Lines:
    """The file's lines with 1-based numbers, for messages that name the line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, lineno: int | None, problem: str) -> UserInputError:
        where = f"line {lineno}: " if lineno is not None else ""
        return UserInputError(f"{where}{problem}", source=str(self.path))

    def tokens(self, lineno: int) -> list[str]:
        return self.lines[lineno - 1].split()

    def find(
        self, first_tokens: Sequence[str], start: int = 1, stop: int | None = None
    ) -> int | None:
        """First line number ≥ ``start`` that starts with ``first_tokens`` (case-insensitive)."""
        end = len(self.lines) if stop is None else min(stop, len(self.lines))
        want = [t.lower() for t in first_tokens]
        for no in range(start, end + 1):
            tok = [t.lower() for t in self.tokens(no)[: len(want)]]
            if tok == want:
                return no
        return None


def _number(lines: _Lines, lineno: int, name: str, token: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise lines.fail(lineno, f"{name}: {token!r} is not a number") from None
    if not math.isfinite(value):
        raise lines.fail(lineno, f"{name}: {token!r} is not a finite number")
    return value


def _integer(lines: _Lines, lineno: int, name: str, token: str) -> int:
    value = _number(lines, lineno, name, token)
    if value != int(value):
        raise lines.fail(lineno, f"{name}: {token!r} is not a whole number")
    return int(value)


def _values(lines: _Lines, lineno: int, names: Sequence[str]) -> list[str]:
    if lineno > len(lines.lines):
        raise lines.fail(lineno, f"missing line with the values of {' '.join(names)}")
    tok = lines.tokens(lineno)
    if len(tok) != len(names):
        raise lines.fail(
            lineno, f"expected {len(names)} values ({' '.join(names)}), found {len(tok)}"
        )
    return tok


def read_input_file(path: Path | str) -> RothCInput:
    """Read an official RothC input file (v1 or v2 format, detected from its content).

    Parameters
    ----------
    path
        The ``RothC_input.dat`` file.

    Returns
    -------
    RothCInput
        The validated content.

    Raises
    ------
    UserInputError
        One line naming the file, the line and the problem: missing or unreadable file,
        missing header or value, a value that is not a number or out of range, wrong number
        of columns, a row count different from ``nsteps``, unsupported options.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise UserInputError("file not found", source=str(p)) from None
    except IsADirectoryError:
        raise UserInputError("is a directory, expected a RothC input file", source=str(p)) from None
    except OSError as exc:
        raise UserInputError(f"cannot read the file ({exc.strerror})", source=str(p)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        raise UserInputError("not a text file", source=str(p))
    lines = _Lines(p, text)

    soil_no = lines.find(("clay", "depth"))
    if soil_no is None:
        raise lines.fail(None, "no soil header line 'clay depth iom nsteps ...'")
    opt_no = lines.find(("opt_RMmoist",), 1, soil_no - 1)
    version = "v2" if opt_no is not None else "v1"
    opt_rm = opt_bare = None
    if opt_no is not None:
        tok = _values(lines, opt_no + 1, ("opt_RMmoist", "opt_SMDbare"))
        opt_rm = _integer(lines, opt_no + 1, "opt_RMmoist", tok[0])
        opt_bare = _integer(lines, opt_no + 1, "opt_SMDbare", tok[1])
        if (opt_rm, opt_bare) != (1, 1):
            raise lines.fail(
                opt_no + 1,
                f"opt_RMmoist={opt_rm} opt_SMDbare={opt_bare} is not supported: only '1 1' "
                "(standard RothC-26.3 moisture function and bare-soil deficit) is implemented; "
                "options 2/3 (Farina et al. 2013 van Genuchten soil water) are not",
            )
    names = _SOIL_V2 if version == "v2" else _SOIL_V1
    header = lines.tokens(soil_no)
    if len(header) != len(names):
        raise lines.fail(
            soil_no,
            f"soil header has {len(header)} names, expected {len(names)} ({' '.join(names)})",
        )
    val_no = soil_no + 1
    tok = _values(lines, val_no, names)
    clay = _number(lines, val_no, "clay", tok[0])
    depth = _number(lines, val_no, "depth", tok[1])
    iom = _number(lines, val_no, "iom", tok[2])
    nsteps = _integer(lines, val_no, "nsteps", tok[3])
    if not 0 <= clay <= 100:
        raise lines.fail(val_no, f"clay: {clay} is outside 0–100 %")
    if depth <= 0:
        raise lines.fail(val_no, f"depth: {depth} must be > 0 cm")
    if iom < 0:
        raise lines.fail(val_no, f"iom: {iom} must be ≥ 0 t C/ha")
    if nsteps < 12:
        raise lines.fail(
            val_no, f"nsteps: {nsteps} must be ≥ 12 (the first 12 rows are the average year)"
        )
    extras: dict[str, float | None] = {
        "silt": None,
        "bulk_density": None,
        "oc": None,
        "min_rm_moist": None,
    }
    if version == "v2":
        for key, name, token in zip(
            ("silt", "bulk_density", "oc", "min_rm_moist"), names[4:], tok[4:], strict=True
        ):
            extras[key] = _number(lines, val_no, name, token)
        if extras["min_rm_moist"] != 0.2:
            raise lines.fail(
                val_no,
                f"minRM_Moist: {tok[7]} is not supported: only 0.2 (the RothC-26.3 minimum of the "
                "moisture rate modifier) is implemented",
            )

    col_no = lines.find(("year", "month"), val_no + 1)
    if col_no is None:
        raise lines.fail(None, f"no column header line 'year month modern ...' after line {val_no}")
    cols = lines.tokens(col_no)
    if len(cols) != len(_DATA_COLUMNS):
        raise lines.fail(
            col_no,
            f"column header has {len(cols)} names, expected {len(_DATA_COLUMNS)} "
            f"({' '.join(_DATA_COLUMNS)})",
        )

    rows: list[tuple[int, list[str]]] = []
    for no in range(col_no + 1, len(lines.lines) + 1):
        t = lines.tokens(no)
        if t:
            rows.append((no, t))
    if len(rows) != nsteps:
        where = rows[-1][0] if rows else col_no
        raise lines.fail(
            val_no if len(rows) < nsteps else where,
            f"nsteps is {nsteps} but the file has {len(rows)} monthly rows after the column "
            f"header (line {col_no})",
        )
    year = np.empty(nsteps, dtype=np.int64)
    month = np.empty(nsteps, dtype=np.int64)
    pc = np.empty(nsteps, dtype=np.int64)
    floats = np.empty((nsteps, 7))
    for k, (no, t) in enumerate(rows):
        if len(t) != len(_DATA_COLUMNS):
            raise lines.fail(
                no,
                f"expected {len(_DATA_COLUMNS)} values ({' '.join(_DATA_COLUMNS)}), found {len(t)}",
            )
        year[k] = _integer(lines, no, "year", t[0])
        month[k] = _integer(lines, no, "month", t[1])
        pc[k] = _integer(lines, no, "PC", t[8])
        for c, idx in enumerate((2, 3, 4, 5, 6, 7, 9)):
            floats[k, c] = _number(lines, no, _DATA_COLUMNS[idx], t[idx])
        if not 1 <= month[k] <= 12:
            raise lines.fail(no, f"month: {month[k]} is outside 1–12")
        expected = (k % 12) + 1 if k < 12 else (int(month[k - 1]) % 12) + 1
        if month[k] != expected:
            raise lines.fail(
                no, f"month: {month[k]} does not follow the previous row (expected {expected})"
            )
        if k < 12 and year[k] != year[0]:
            raise lines.fail(
                no,
                f"year: the first 12 rows are the average year and must share one year "
                f"(found {year[k]} after {year[0]})",
            )
        if pc[k] not in (0, 1):
            raise lines.fail(no, f"PC: {pc[k]} must be 0 (bare) or 1 (covered)")
        # Evap may be negative (measured pan evaporation with condensation, as in the official
        # example file); rain and inputs may not.
        for c, idx in ((2, 4), (4, 6), (5, 7), (6, 9)):
            if floats[k, c] < 0:
                raise lines.fail(no, f"{_DATA_COLUMNS[idx]}: {t[idx]} must be ≥ 0")
    return RothCInput(
        clay=clay,
        depth=depth,
        iom=iom,
        year=year,
        month=month,
        modern=floats[:, 0].copy(),
        temp=floats[:, 1].copy(),
        rain=floats[:, 2].copy(),
        evap=floats[:, 3].copy(),
        c_inp=floats[:, 4].copy(),
        fym=floats[:, 5].copy(),
        pc=pc,
        dpm_rpm=floats[:, 6].copy(),
        version=version,
        silt=extras["silt"],
        bulk_density=extras["bulk_density"],
        oc=extras["oc"],
        min_rm_moist=extras["min_rm_moist"],
        opt_rmmoist=opt_rm,
        opt_smdbare=opt_bare,
    )


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def simulate(data: RothCInput) -> RothCOutput:
    """Spin up on the average year (exact fixed point) and run every following month.

    Parameters
    ----------
    data
        A validated input (:func:`read_input_file`).

    Returns
    -------
    RothCOutput
        The rows of ``year_results`` and ``month_results``.
    """
    avg = slice(0, 12)
    spin_args = (
        data.iom,
        data.clay,
        data.depth,
        data.temp[avg],
        data.rain[avg],
        data.evap[avg],
        data.c_inp[avg],
        data.fym[avg],
        data.pc[avg],
        data.dpm_rpm[avg][np.newaxis, :],
    )
    pools, smd = rothc.equilibrium(*spin_args)
    months = int(rothc.official_spinup_months(*spin_args)[0])
    eq = [float(v) for v in pools[0]]
    year_rows: list[list[float | int]] = [
        [int(data.year[0]), months, *eq, data.iom, sum(eq) + data.iom, 0.0]
    ]
    month_rows: list[list[float | int]] = []
    rest = slice(12, data.nsteps)
    if data.nsteps > 12:
        res = rothc.run(
            pools,
            data.iom,
            smd,
            data.clay,
            data.depth,
            data.temp[rest],
            data.rain[rest],
            data.evap[rest],
            data.c_inp[rest][np.newaxis, :],
            data.fym[rest][np.newaxis, :],
            data.pc[rest][np.newaxis, :],
            data.dpm_rpm[rest][np.newaxis, :],
            record=True,
        )
        assert res.monthly is not None  # record=True
        mon = {k: v[:, 0] for k, v in res.monthly.items()}
        for j, i in enumerate(range(12, data.nsteps)):
            pools_j = [float(mon[k][j]) for k in ("DPM", "RPM", "BIO", "HUM")]
            soc = float(mon["SOC"][j])
            co2 = float(mon["CO2"][j])
            yr, mo = int(data.year[i]), int(data.month[i])
            month_rows.append(
                [
                    yr,
                    mo,
                    float(data.c_inp[i]),
                    float(data.fym[i]),
                    float(data.temp[i]),
                    float(mon["a"][j]),
                    float(data.rain[i]),
                    float(data.evap[i]),
                    float(mon["smd"][j]),
                    float(mon["b"][j]),
                    int(data.pc[i]),
                    float(mon["c"][j]),
                    *pools_j,
                    data.iom,
                    soc,
                    co2,
                ]
            )
            if mo == 12:
                year_rows.append([yr, mo, *pools_j, data.iom, soc, co2])
    return RothCOutput(year_rows=year_rows, month_rows=month_rows, spinup_months=months)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _fmt(v: float | int) -> str:
    """Integers as integers, floats at full (round-trip) precision."""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def _csv_text(columns: Sequence[str], rows: Sequence[Sequence[float | int]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_fmt(v) for v in row])
    return buf.getvalue()


def _write_atomically(files: dict[Path, str]) -> None:
    """Write every file to a temporary sibling, then rename them all into place."""
    temps: list[tuple[Path, Path]] = []
    try:
        for target, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            temps.append((Path(tmp), target))
        for tmp_path, target in temps:
            os.replace(tmp_path, target)
    finally:
        for tmp_path, _ in temps:
            if tmp_path.exists():
                tmp_path.unlink()


def run_file(input_path: Path, out_dir: Path) -> tuple[Path, Path]:
    """Run RothC-26.3 on an official input file and write the two result tables.

    The whole file is read, validated and run before anything is written; the two CSV files
    are then written atomically (temporary file + rename), so an error leaves ``out_dir``
    untouched.

    Parameters
    ----------
    input_path
        Official ``RothC_input.dat`` (v1 or v2 format).
    out_dir
        Folder for ``year_results.csv`` and ``month_results.csv`` (created if missing).

    Returns
    -------
    year_path, month_path
        The two written files.

    Raises
    ------
    UserInputError
        A malformed or unsupported input file, or an output folder that cannot be used.
    """
    data = read_input_file(input_path)
    out = simulate(data)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError("exists and is not a folder", source=str(out_dir))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        year_path = out_dir / "year_results.csv"
        month_path = out_dir / "month_results.csv"
        _write_atomically(
            {
                year_path: _csv_text(YEAR_COLUMNS, out.year_rows),
                month_path: _csv_text(MONTH_COLUMNS, out.month_rows),
            }
        )
    except OSError as exc:
        raise UserInputError(
            f"cannot write the results ({exc.strerror})", source=str(out_dir)
        ) from None
    return year_path, month_path


def write_input_file(
    path: Path | str, data: RothCInput, *, comment: str = "written by abm.soil.rothc_io"
) -> Path:
    """Write ``data`` as a v1 (RothC_Py) input file, at full precision.

    Parameters
    ----------
    path
        Target file.
    data
        Content to write; v2 extras are dropped (the v1 format has no place for them).
    comment
        First comment line.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    out = [
        comment.replace("\n", " "),
        "clay and depth are only needed once, other data are monthly jan-dec",
        " (%)     (cm)  (t C/ha)      (-)",
        "clay\tdepth\tiom\tnsteps",
        f"{_fmt(data.clay)}\t{_fmt(data.depth)}\t{_fmt(data.iom)}\t{data.nsteps}",
        "(-)    (-)       (%)    (C)     (mm)    (mm)  (t C/ha) (t C/ha) (-)      (-)",
        "\t".join(_DATA_COLUMNS),
    ]
    for i in range(data.nsteps):
        out.append(
            "\t".join(
                [
                    str(int(data.year[i])),
                    str(int(data.month[i])),
                    _fmt(data.modern[i]),
                    _fmt(data.temp[i]),
                    _fmt(data.rain[i]),
                    _fmt(data.evap[i]),
                    _fmt(data.c_inp[i]),
                    _fmt(data.fym[i]),
                    str(int(data.pc[i])),
                    _fmt(data.dpm_rpm[i]),
                ]
            )
        )
    p = Path(path)
    _write_atomically({p: "\n".join(out) + "\n"})
    return p
