"""The project stands on its own: licence, version, citation, data with provenance, no path
outside the repository, and no deprecation warning from the installed Mesa."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import tomllib
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import abm

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Folders that are outputs, environments or caches, not the project.
NOT_PROJECT = {".git", "results", "site", "dist", "build", "__pycache__", ".hypothesis"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cff", ".yml", ".yaml", ".txt", ".csv", ".cfg", ""}


def project_text_files() -> list[Path]:
    """Every text file of the project (not virtual environments, results or caches)."""
    out = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(
            p in NOT_PROJECT or p.startswith((".venv", ".mypy", ".ruff", ".pytest"))
            for p in rel.parts
        ):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "data" not in rel.parts[:2]:
            out.append(path)
    return out


def test_nothing_needs_the_development_folder_outside_the_repository() -> None:
    """Code, tests, README and docs never point at the development folder beside the clone."""
    needle = re.compile(r"\.\./" + "shared|" + "shared" + r"/(data|SCIENCE|DESIGN|STYLE)")
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in project_text_files()
        for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if needle.search(line)
    ]
    assert not hits, f"references outside the repository: {hits}"
    assert len(project_text_files()) > 50  # the walk saw the project


def test_version_is_one_number_everywhere() -> None:
    version = PYPROJECT["project"]["version"]
    assert abm.__version__ == metadata.version("abm-4p1000") == version
    cff = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(version)}$", cff, re.M)
    assert re.search(r"^license: Apache-2.0$", cff, re.M)
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


def test_abm_version_prints_the_installed_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "abm.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"abm-4p1000 {abm.__version__}"


def test_licence_file_is_apache_2_as_pyproject_says() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a pointer
    assert (ROOT / "abm" / "py.typed").is_file()


TARGETS = sorted((ROOT / "calibration" / "targets").glob("*.csv"))


def test_calibration_targets_exist() -> None:
    assert len(TARGETS) >= 10


@pytest.mark.parametrize("path", TARGETS, ids=[p.name for p in TARGETS])
def test_calibration_target_has_the_format_and_a_source_per_row(path: Path) -> None:
    """``year,value,unit,source``; each source says STATED or DERIVED (issue 8's reader)."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["year", "value", "unit", "source"]
    assert len(rows) >= 3, "a curve needs at least two points"
    years = [int(r[0]) for r in rows[1:]]
    assert years == sorted(years) and len(set(years)) == len(years)
    assert all(np.isfinite(float(r[1])) for r in rows[1:])
    for row in rows[1:]:
        assert len(row) == 4 and row[2].strip(), row
        assert row[3].startswith(("STATED", "DERIVED")), row
    assert path.name in (ROOT / "calibration" / "targets" / "README.md").read_text()


def test_model_takes_its_seed_without_any_mesa_deprecation() -> None:
    """Mesa ≥ 3.5 warns on ``seed=``: the model passes what the installed Mesa expects."""
    import inspect

    import mesa

    from abm._compat import MESA_SEED_KEYWORD
    from abm.model import SoilCarbonModel
    from abm.scenario import resolve_params

    takes_rng = "rng" in inspect.signature(mesa.Model.__init__).parameters
    assert MESA_SEED_KEYWORD == ("rng" if takes_rng else "seed")
    params = resolve_params(None, {"n_farms": 20, "end_year": 2021})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, Mesa's FutureWarning included, fails
        model = SoilCarbonModel(params, seed=123)
        model.step()
    # the seed reached Mesa (not OS entropy): its generators start from seed 123
    expected = np.random.default_rng(123).bit_generator.state
    assert model._rng == expected


def test_example_studies_are_reachable_and_valid() -> None:
    from abm.batch.spec import load_study
    from abm.examples import example_studies

    studies = example_studies()
    assert "incentive_schemes.toml" in studies
    assert {"examples/lhs_uncertainty.toml", "examples/csv_points.toml"} <= set(studies)
    assert not any(name.startswith("scenarios/") for name in studies)
    for path in studies.values():
        assert load_study(path).n_runs > 0


def test_manifest_versions_include_networkx() -> None:
    """The farmer network comes from networkx generators: its version shapes results."""
    from abm.batch.store import versions

    v = versions()
    assert v["networkx"] == metadata.version("networkx")
    assert {"python", "numpy", "mesa", "abm-4p1000"} <= set(v)
