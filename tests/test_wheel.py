"""A user's install: build the wheel, install it into a fresh virtual environment outside the
source tree, and use the ``abm`` command from there (scenario library and example studies must
come with the package, not from the checkout)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

import abm

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

TINY_STUDY = """
[experiment]
name = "wheel-check"
replicates = 1
seed = 3

[base]
n_farms = 30
end_year = 2023

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy-120"
from = "subsidy"
set = { "policy.subsidy_eur_per_ha" = 120 }
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["COLUMNS"] = "120"
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the fresh environment's bin folder, a working folder outside the source tree)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(dist)], base
    )
    (wheel,) = dist.glob("abm_4p1000-*.whl")
    env_dir = base / "env"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], base)
    work = base / "work"
    work.mkdir()
    return bin_dir, work


def test_wheel_carries_the_data_files(installed: tuple[Path, Path]) -> None:
    """A wheel without the scenario library or the studies installs fine, then fails at use."""
    (wheel,) = (installed[1].parent / "dist").glob("abm_4p1000-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "abm/py.typed",
        "abm/_scenarios/baseline.toml",
        "abm/_experiments/incentive_schemes.toml",
    } <= names
    assert "abm/_experiments/examples/carbon_prices.csv" in names
    assert not any(n.startswith(("tests/", "abm/_experiments/scenarios/")) for n in names)


def test_installed_package_is_the_wheel_not_the_checkout(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    out = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import abm, abm.examples as r; "
            "print(abm.__file__); print(r.experiments_dir()); print(abm.__version__)",
        ],
        work,
    )
    file, experiments, version = out.stdout.split()
    assert Path(file).is_relative_to(bin_dir.parent) and not Path(file).is_relative_to(ROOT)
    assert Path(experiments) == Path(file).parent / "_experiments"
    assert version == abm.__version__
    site = Path(file).parent
    assert (site / "py.typed").is_file()
    assert (site / "_scenarios" / "baseline.toml").is_file()
    assert (site / "_experiments" / "incentive_schemes.toml").is_file()
    assert (site / "_experiments" / "examples" / "carbon_prices.csv").is_file()
    ver = _run([str(bin_dir / "abm"), "--version"], work)
    assert ver.stdout.strip() == f"abm-4p1000 {abm.__version__}"


def test_commands_work_from_the_installed_package(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    abm_cmd = str(bin_dir / "abm")
    scen = _run([abm_cmd, "scenarios"], work).stdout
    for name in ("baseline", "subsidy", "carbon_payment", "regulation", "policy_mix"):
        assert name in scen
    _run([abm_cmd, "run", "--farms", "50", "--end", "2022"], work)
    # every shipped example study validates against the installed schema and scenario library
    check = (
        "import abm.examples as r, abm.batch.spec as s; "
        "print(sum(s.load_study(p).n_runs > 0 for p in r.example_studies().values()))"
    )
    assert int(_run([str(bin_dir / "python"), "-c", check], work).stdout) >= 4
    study = work / "study.toml"
    study.write_text(textwrap.dedent(TINY_STUDY).lstrip())
    _run([abm_cmd, "batch", str(study), "--workers", "1", "--out", str(work / "res")], work)
    _run([abm_cmd, "report", str(work / "res")], work)
    md = (work / "res" / "report" / "report.md").read_text()
    assert "subsidy-120" in md
    assert (work / "res" / "manifest.json").is_file()
    assert not list(ROOT.glob("results/wheel-check*"))
