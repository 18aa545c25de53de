"""Designs: sizes, stratification, distributions, determinism, the CSV reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from abm.batch.designs import expected_points, salib_problem, sample_design
from abm.batch.spec import DesignSpec


def design(**kw: object) -> DesignSpec:
    return DesignSpec.model_validate(kw)


def sample(d: DesignSpec, seed: int = 1, **kw: object):
    return sample_design(d, seed=seed, base_dir=Path("."), **kw)  # type: ignore[arg-type]


def test_no_design_is_one_empty_point() -> None:
    frame = sample_design(None, seed=0, base_dir=Path("."))
    assert len(frame) == 1 and list(frame.columns) == []


def test_factorial_levels_and_order() -> None:
    d = design(method="factorial", levels=3, parameters={"a": [0, 10], "b": {"values": ["x", "y"]}})
    frame = sample(d)
    assert len(frame) == expected_points(d) == 6
    assert frame["a"].tolist() == [0, 0, 5, 5, 10, 10]  # first parameter varies slowest
    assert frame["b"].tolist() == ["x", "y"] * 3


def test_factorial_integer_levels_deduplicate() -> None:
    d = design(method="factorial", levels=5, parameters={"n": [1, 2]})
    frame = sample(d, integer_paths={"n"})
    assert frame["n"].tolist() == [1, 2]
    assert frame["n"].dtype == "int64"


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_lhs_is_stratified_in_every_dimension(seed: int) -> None:
    n = 20
    d = design(method="lhs", n=n, parameters={"a": [0, 1], "b": [10, 30]})
    frame = sample(d, seed=seed)
    assert len(frame) == n
    for col, lo, hi in (("a", 0, 1), ("b", 10, 30)):
        bins = np.floor((frame[col].to_numpy() - lo) / (hi - lo) * n).astype(int)
        assert sorted(bins) == list(range(n))


def test_designs_are_deterministic_in_the_seed() -> None:
    d = design(method="lhs", n=8, parameters={"a": [0, 1]})
    assert sample(d, seed=3).equals(sample(d, seed=3))
    assert not sample(d, seed=3).equals(sample(d, seed=4))


def test_sobol_sizes() -> None:
    d = design(method="sobol", n=16, parameters={"a": [0, 1], "b": [0, 2], "c": [1, 3]})
    assert len(sample(d)) == expected_points(d) == 16 * (2 * 3 + 2)
    d1 = design(method="sobol", n=16, second_order=False, parameters={"a": [0, 1], "b": [0, 2]})
    assert len(sample(d1)) == expected_points(d1) == 16 * (2 + 2)


def test_sobol_matches_salib_on_uniform_ranges() -> None:
    from SALib.sample import sobol

    d = design(method="sobol", n=8, parameters={"a": [0, 1], "b": [-2, 2]})
    ours = sample(d, seed=5).to_numpy()
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [-2, 2]]}
    np.testing.assert_allclose(ours, sobol.sample(problem, 8, seed=5), rtol=1e-12, atol=1e-12)


def test_morris_trajectories_on_the_grid() -> None:
    d = design(
        method="morris", n=5, levels=4, parameters={"a": [0, 3], "b": {"values": [1, 2, 3, 4]}}
    )
    frame = sample(d)
    assert len(frame) == expected_points(d) == 5 * 3
    assert set(frame["a"]).issubset({0.0, 1.0, 2.0, 3.0})
    assert set(frame["b"]).issubset({1, 2, 3, 4})


def test_fast_size() -> None:
    d = design(method="fast", n=65, parameters={"a": [0, 1], "b": [0, 1]})
    assert len(sample(d)) == expected_points(d) == 130


def test_distributions_respect_their_support() -> None:
    d = design(
        method="lhs",
        n=400,
        parameters={
            "tri": {"dist": "triangular", "low": 0, "mode": 1, "high": 4},
            "tn": {"dist": "normal", "mean": 0, "sd": 1, "low": -0.5, "high": 2},
            "ln": {"dist": "lognormal", "mu": 0, "sigma": 0.5},
            "k": {"low": 0.6, "high": 9.4, "integer": True},
        },
    )
    frame = sample(d)
    assert frame["tri"].between(0, 4).all() and abs(frame["tri"].mean() - 5 / 3) < 0.05
    assert frame["tn"].between(-0.5, 2).all()
    assert (frame["ln"] > 0).all() and abs(np.log(frame["ln"]).mean()) < 0.05
    assert frame["k"].dtype == "int64" and set(frame["k"]) <= set(range(1, 10))


def test_csv_points_in_file_order(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("a, b,c\n1,0.5,x\n3,1.5,y\n")
    d = design(method="csv", file="p.csv")
    frame = sample_design(d, seed=0, base_dir=tmp_path)
    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["a"].tolist() == [1, 3] and frame["a"].dtype == "int64"
    assert frame["b"].tolist() == [0.5, 1.5]
    assert frame["c"].tolist() == ["x", "y"]


def test_salib_problem() -> None:
    d = design(
        method="sobol",
        n=8,
        parameters={"a": [0, 1], "t": {"dist": "triangular", "low": 0, "mode": 1, "high": 4}},
    )
    p = salib_problem(d)
    assert p["names"] == ["a", "t"] and p["num_vars"] == 2
    assert p["bounds"][0] == [0, 1] and p["dists"] == ["unif", "triang"]
    assert p["bounds"][1] == [0, 4, 0.25]
