"""``soil.model = "icbm"``: ICBM as the model's soil engine (SCIENCE.md §3)."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import freeze, use

from abm.errors import UserInputError
from abm.landscape import icbm_reference_rate
from abm.model import SoilCarbonModel
from abm.practices import C_TO_CO2, PRACTICE_IDS
from abm.run import run_model
from abm.scenario import resolve_params
from abm.soil import icbm, icbm_farm

STILL = {"climate.warming_c_per_yr": 0.0, "climate.temp_noise_sd": 0.0, "climate.rain_cv": 0.0}


def test_yearly_step_is_the_papers_difference_equation() -> None:
    """Plant input alone follows :func:`abm.soil.icbm.run` (h = 0.125, dt = 1) exactly."""
    rng = np.random.default_rng(1)
    n = 5
    rates = rng.uniform(0.3, 1.5, (n, 12))
    r_ref = icbm_reference_rate()
    r = rates.mean(axis=1) / r_ref
    y0, o0 = rng.uniform(0, 2, n), rng.uniform(20, 60, n)
    pools = np.zeros((n, 4))
    pools[:, 0], pools[:, 2] = y0, o0
    i = rng.uniform(1, 4, n)
    new, _, co2 = icbm_farm.step(pools, np.zeros(n), rates, i, np.zeros(n), np.zeros(n), r_ref)
    ref = icbm.run(np.stack([y0, o0], axis=1), i, r, icbm_farm.H_PLANT, 1)
    np.testing.assert_allclose(new[:, 0], ref.pools[:, 0], rtol=1e-12)
    np.testing.assert_allclose(new[:, 2], ref.pools[:, 1], rtol=1e-12)
    np.testing.assert_allclose(co2, ref.co2, rtol=1e-10)
    # manure alone: the same with h = 0.31
    new_m, _, _ = icbm_farm.step(
        np.zeros((n, 4)), np.zeros(n), rates, np.zeros(n), i, np.zeros(n), r_ref
    )
    ref_m = icbm.run(np.zeros((n, 2)), i, r, icbm_farm.H_MANURE, 1)
    np.testing.assert_allclose(new_m[:, [1, 2]], ref_m.pools, rtol=1e-12)


def test_reference_farm_has_r_one_and_its_steady_state_matches_the_paper() -> None:
    """At r = 1 the steady state is the paper's (``Oss = h·i/k2``), in its yearly form."""
    maps = [(1.0, icbm_farm.year_map(np.ones(1)))]
    eq = icbm_farm.equilibrium(maps, np.array([2.85]), np.zeros(1))
    # the yearly (input at the start of the year) form: Y after decay = i·e1/(1 − e1)
    e1 = np.exp(-icbm.K1)
    assert eq[0, 0] == pytest.approx(2.85 * e1 / (1 - e1), rel=1e-12)
    e2 = np.exp(-icbm.K2)
    c = icbm.K1 * (e1 - e2) / (icbm.K2 - icbm.K1)
    y_in = 2.85 / (1 - e1)  # the young pool right after the year's input, at steady state
    assert eq[0, 2] == pytest.approx(icbm_farm.H_PLANT * c * y_in / (1 - e2), rel=1e-12)
    # and the yearly form is within 0.1 % of the continuous steady state h·i/k2
    assert eq[0, 2] == pytest.approx(icbm_farm.H_PLANT * 2.85 / icbm.K2, rel=1e-3)


@pytest.mark.parametrize("seed", [1, 2])
def test_icbm_landscape_starts_at_equilibrium_and_balances_its_mass(seed: int) -> None:
    p = resolve_params("baseline", {"n_farms": 150, "soil.model": "icbm", **STILL})
    m = SoilCarbonModel(p, seed=seed)
    assert (m.farms.iom == 0).all()
    np.testing.assert_allclose(m.farms.soc(), m.farms.soc0, rtol=1e-9)
    freeze(m)
    start = m.farms.soc().copy()
    for _ in range(4):
        m.step()
    np.testing.assert_allclose(m.farms.soc(), start, rtol=1e-8)


def test_icbm_run_mass_balance_and_split() -> None:
    p = resolve_params(
        "technical_potential", {"n_farms": 150, "end_year": 2035, "soil.model": "icbm"}
    )
    ts = run_model(p, seed=3).timeseries
    stock0 = ts["soc_stock_t"].iloc[0] / (1 + ts["soc_change_permille"].iloc[0] / 1000)
    change = ts["soc_stock_t"].to_numpy() - stock0
    flows = (ts["carbon_inputs_t_cum"] - ts["co2_respired_t_cum"]).to_numpy()
    np.testing.assert_allclose(flows, change, rtol=1e-6, atol=1e-6 * stock0)
    np.testing.assert_allclose(
        ts["sequestration_tco2e_cum"] + ts["storage_tco2e_cum"],
        change * C_TO_CO2,
        rtol=1e-9,
        atol=1e-6,
    )
    assert ts["soc_change_permille"].iloc[-10:].mean() > 0  # the practices raise the stock


def test_icbm_moved_manure_is_zero_sum_for_sequestration() -> None:
    over = {
        "n_farms": 150,
        "soil.model": "icbm",
        "farmer.burn_in_yr": 0,
        "manure.exportable_share": 0.6,
        **{f"practices.{q}.initial_share": 0.0 for q in PRACTICE_IDS},
        **STILL,
    }
    m = freeze(SoilCarbonModel(resolve_params(None, over), seed=4))
    k = PRACTICE_IDS.index("organic_fertilisation")
    use(m, k, m.farms.eligible[:, k] & (m.farms.system == 0))
    for _ in range(5):
        m.step()
    assert m.obs["manure_moved_t_c_cum"] > 0
    np.testing.assert_allclose(m.farms.soc() - m.soc_start, m.storage_per_ha(), atol=1e-9)


def test_icbm_with_saturation_is_refused() -> None:
    with pytest.raises(UserInputError, match="saturation"):
        resolve_params(None, {"soil.model": "icbm", "soil.saturation": "hassink"})
