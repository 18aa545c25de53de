"""The naive per-agent reference (``benchmarks/naive_model.py``) against the vectorised model.

Same state in, same state out: the naive soil update equals the vectorised one to 1e-9 t C/ha,
the naive peer signal equals the sparse product exactly, the naive decisions equal the
vectorised ones given the same uniforms, and unshuffled the naive model reproduces the real
run. Shuffled (Mesa style) it agrees with it statistically over seeds.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from abm.model import SoilCarbonModel
from abm.reporters import kpis, timeseries
from abm.run import run_model
from abm.scenario import resolve_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from naive_model import NaiveSoilCarbonModel  # type: ignore[import-not-found]

ATOL_SOIL = 1e-9  # t C/ha (and mm for the deficit)


def _pair(overrides: dict[str, object], seed: int = 7, scenario: str | None = None):
    p = resolve_params(scenario, overrides)
    return SoilCarbonModel(p, seed=seed), NaiveSoilCarbonModel(p, seed=seed)


def _same_soil(real: SoilCarbonModel, naive: SoilCarbonModel) -> None:
    fr, fn = real.farms, naive.farms
    for name in ("pools", "tracer", "tracer_out", "smd", "biochar", "dsoc_last", "dseq_last"):
        a, b = getattr(fr, name), getattr(fn, name)
        assert np.max(np.abs(a - b)) <= ATOL_SOIL, name
    assert math.isclose(
        real.loss_after_abandonment_t, naive.loss_after_abandonment_t, rel_tol=1e-9, abs_tol=1e-9
    )


@pytest.mark.parametrize("saturation", ["none", "hassink"])
def test_naive_soil_update_equals_vectorised(saturation: str) -> None:
    real, naive = _pair(
        {"n_farms": 60, "start_year": 2020, "end_year": 2026, "soil.saturation": saturation}
    )
    # construction is shared (parent's vectorised world-building): identical start
    assert np.array_equal(real.farms.pools, naive.farms.pools)
    rng = np.random.default_rng(11)
    shape = real.farms.adopted.shape
    for year in range(2020, 2027):
        # the same practices for both on random shares of the area, every practice (biochar,
        # irrigation, manure moved between farms, partial cover, ...) exercised
        share = np.where(rng.random(shape) < 0.4, rng.uniform(0.2, 1.0, shape), 0.0)
        abandoned = rng.random(shape[0]) < 0.2
        for m in (real, naive):
            m.year = year
            m.farms.adopted = share > 0
            m.practice_use = lambda share=share: share  # type: ignore[method-assign]
            m.farms.abandoned = abandoned.copy()
            m.soil_update()
        _same_soil(real, naive)
    assert np.max(naive.farms.biochar) > 0  # the biochar pool was exercised
    assert np.max(naive.farms.tracer) > 0  # and both imported-carbon tracers
    assert np.max(naive.farms.tracer_out) > 0


def test_naive_peer_signal_equals_sparse_product_exactly() -> None:
    naive = NaiveSoilCarbonModel({"n_farms": 200, "end_year": 2021}, seed=5)
    rng = np.random.default_rng(3)
    for share in (0.05, 0.5, 0.95):
        naive.farms.adopted = rng.random(naive.farms.adopted.shape) < share
        sparse = SoilCarbonModel.peer_signal(naive)
        assert np.array_equal(naive.peer_signal(), sparse)
    assert sum(map(len, naive.neighbours)) == 2 * len(naive.network.edges)


def test_naive_decisions_equal_vectorised_with_same_uniforms() -> None:
    real, naive = _pair({"n_farms": 150, "end_year": 2030}, seed=9, scenario="subsidy")
    for m in (real, naive):
        m.year = 2026  # subsidy active
        for gov in m.governments:
            gov.step()
    uniforms = np.random.default_rng(2).random(real.farms.adopted.shape)
    real.decide_farmers(uniforms)
    naive.decide_farmers(uniforms)
    fr, fn = real.farms, naive.farms
    assert np.array_equal(fr.adopted, fn.adopted)
    assert np.array_equal(fr.years, fn.years)
    assert np.array_equal(fr.abandoned, fn.abandoned)
    assert np.max(np.abs(fr.knowledge - fn.knowledge)) <= 1e-12
    assert real.events == naive.events
    assert real.events["adoptions"] > 0


def test_naive_unshuffled_reproduces_the_real_run() -> None:
    p = resolve_params("subsidy", {"n_farms": 100, "end_year": 2030})
    real = SoilCarbonModel(p, seed=4)
    naive = NaiveSoilCarbonModel(p, seed=4, shuffle=False)
    real.run()
    naive.run()
    tr, tn = timeseries(real), timeseries(naive)
    for col in ("adoption_share", "adopters_share", "adoptions", "disadoptions"):
        assert np.array_equal(tr[col].to_numpy(), tn[col].to_numpy()), col
    np.testing.assert_allclose(tn.to_numpy(), tr.to_numpy(), rtol=1e-9, atol=1e-6)


def _z(a: list[float], b: list[float]) -> float:
    """|mean(a) − mean(b)| in units of the standard error of the difference."""
    se = math.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
    diff = abs(float(np.mean(a)) - float(np.mean(b)))
    return diff / se if se > 0 else (0.0 if diff == 0 else math.inf)


def test_naive_model_agrees_statistically() -> None:
    p = resolve_params("subsidy", {"n_farms": 150, "start_year": 2020, "end_year": 2035})
    keys = ("adoption_share_final", "soc_change_permille_mean")
    real: dict[str, list[float]] = {k: [] for k in keys}
    naive: dict[str, list[float]] = {k: [] for k in keys}
    for seed in range(1, 6):
        kr = run_model(p, seed=seed).kpis
        model = NaiveSoilCarbonModel(p, seed=seed)
        model.run()
        kn = kpis(timeseries(model))
        for k in keys:
            real[k].append(kr[k])
            naive[k].append(kn[k])
    for k in keys:
        assert _z(naive[k], real[k]) <= 2.0, (k, naive[k], real[k])
    # the subsidy moved adoption: the comparison is not between two flat lines
    assert np.mean(naive["adoption_share_final"]) > 0.0
