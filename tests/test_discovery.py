"""``abm discover``: PRIM and CART recover a planted box; coverage, density, mass; bad input.

The planted box (:func:`abm.testfunctions.planted_box`) is ``x1 >= 0.6 and x2 <= 0.3`` on
``[0, 1]^4`` (``x3``, ``x4`` irrelevant): 12 % of an LHS sample falls in it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from abm.batch.runner import run_batch
from abm.cli import app
from abm.discovery import _stats, cart_boxes, discover, inside, load_cases

STUDY = """
[experiment]
name = "planted"
seed = {seed}
model = "abm.testfunctions:planted_box"

[design]
method = "lhs"
n = 400
[design.parameters]
x1 = [0.0, 1.0]
x2 = [0.0, 1.0]
x3 = [0.0, 1.0]
x4 = [0.0, 1.0]
"""
CLI = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("discovery")
    path = root / "planted.toml"
    path.write_text(textwrap.dedent(STUDY.format(seed=21)))
    run_batch(path, workers=0, out=root / "res", quiet=True)
    return root / "res"


def _restricted(box) -> dict[str, tuple[float, float]]:
    return {r.parameter: (r.low, r.high) for r in box.limits.itertuples() if r.restricted}


def test_prim_recovers_the_planted_box(folder: Path) -> None:
    """With a noise-free box, peeling to 95 % density recovers its edges within 0.05 (over
    seeds 1-6: ≤ 0.02); at the default 80 % PRIM stops at a looser box (x2 up to 0.4)."""
    box = discover(folder, output="y", above=0.5, density=0.95, n_boot=6, quiet=True)
    lims = _restricted(box)
    assert set(lims) == {"x1", "x2"}
    assert lims["x1"][0] == pytest.approx(0.6, abs=0.05)
    assert lims["x2"][1] == pytest.approx(0.3, abs=0.05)
    assert box.coverage >= 0.9 and box.density >= 0.95
    out = folder / "discovery"
    meta = json.loads((out / "box.json").read_text())
    assert meta["coverage"] == pytest.approx(box.coverage)
    assert meta["mass"] == pytest.approx(box.mass)
    traj = pd.read_csv(out / "peeling_trajectory.csv")
    assert traj["density"].iloc[-1] >= traj["density"].iloc[0]  # peeling concentrates
    assert traj["coverage"].iloc[0] == pytest.approx(1.0)
    assert (out / "peeling_trajectory.png").is_file()
    stab = pd.read_csv(out / "stability.csv").set_index("parameter")
    assert stab.loc["x1", "restricted_share"] >= 0.8
    assert stab.loc["x2", "restricted_share"] >= 0.8
    scores = pd.read_csv(out / "feature_scores.csv")
    assert set(scores["parameter"].iloc[:2]) == {"x1", "x2"}


def test_cart_recovers_the_planted_box(folder: Path) -> None:
    box = discover(folder, output="y", above=0.5, method="cart", quiet=True)
    lims = _restricted(box)
    assert set(lims) == {"x1", "x2"}
    assert lims["x1"][0] == pytest.approx(0.6, abs=0.1)  # splits fall between samples
    assert lims["x2"][1] == pytest.approx(0.3, abs=0.1)
    assert box.density >= 0.8


def test_below_is_the_complement(folder: Path) -> None:
    """``--below 0.5`` looks for the cases outside the box: a box that never is the planted."""
    x, hit, _ = load_cases(folder, "y", None, 0.5)
    x2, hit2, _ = load_cases(folder, "y", 0.5, None)
    np.testing.assert_array_equal(hit, ~hit2)
    assert len(x) == len(x2) == 400


def test_coverage_density_mass_by_hand() -> None:
    """10 cases, 4 of interest; the box holds 5 cases of which 3 of interest."""
    hit = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    box = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    cov, dens, mass = _stats(box, hit)
    assert (cov, dens, mass) == (0.75, 0.6, 0.5)


def test_inside_and_cart_on_data() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.random((500, 3)), columns=["a", "b", "c"])
    hit = ((x["a"] > 0.5) & (x["c"] < 0.5)).to_numpy()
    best = cart_boxes(x, hit)[0]
    assert best.density > 0.9 and best.coverage > 0.8
    assert inside(x, best.limits).sum() == round(best.mass * len(x))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "y"], "exactly one of --above"),
        (["--output", "y", "--above", "1", "--below", "0"], "exactly one of --above"),
        (["--output", "nope", "--above", "0.5"], "'nope' is not a KPI"),
        (["--output", "y", "--above", "5"], "choose a threshold"),
        (["--output", "y", "--above", "0.5", "--method", "tree"], "allowed: prim, cart"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "planted.toml"
    path.write_text(textwrap.dedent(STUDY.format(seed=1)).replace("n = 400", "n = 30"))
    run_batch(path, workers=0, out=tmp_path / "res", quiet=True)
    res = CLI.invoke(app, ["discover", str(tmp_path / "res"), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "res" / "discovery").exists()


def test_not_a_results_folder(tmp_path: Path) -> None:
    res = CLI.invoke(app, ["discover", str(tmp_path), "--output", "y", "--above", "1"])
    assert res.exit_code == 2 and "not a results folder" in res.output
