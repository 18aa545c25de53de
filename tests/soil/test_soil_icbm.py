"""ICBM (Andrén & Kätterer 1997): analytic solution, steady state, stepped version."""

from __future__ import annotations

import numpy as np
import pytest

from abm.errors import UserInputError
from abm.soil import icbm


def test_steady_state_of_the_paper() -> None:
    """i = 0.285 kg C/m²/yr (+N+straw), r = 1, h = 0.125 → Yss 0.356, Oss 5.89 kg C/m²."""
    yss, oss = icbm.steady_state(0.285, 1.0, 0.125)
    assert float(yss) == pytest.approx(0.356, abs=5e-4)
    assert float(oss) == pytest.approx(5.89, abs=5e-3)
    assert float(oss) * icbm.KG_M2_TO_T_HA == pytest.approx(58.9, abs=0.05)


def test_analytic_solution_limits_and_ode() -> None:
    y0, o0, i, r, h = 0.3, 4.0, 0.285, 1.1, 0.125
    y, o = icbm.analytic(y0, o0, i, r, h, 0.0)
    assert (float(y), float(o)) == pytest.approx((y0, o0), abs=1e-14)
    y, o = icbm.analytic(y0, o0, i, r, h, 1e5)
    assert (float(y), float(o)) == pytest.approx(
        tuple(map(float, icbm.steady_state(i, r, h))), rel=1e-9
    )
    # the solution satisfies the ODEs (central differences)
    t, dt = np.array([0.5, 3.0, 40.0]), 1e-5
    y, o = icbm.analytic(y0, o0, i, r, h, t)
    yp, op = icbm.analytic(y0, o0, i, r, h, t + dt)
    ym, om = icbm.analytic(y0, o0, i, r, h, t - dt)
    np.testing.assert_allclose((yp - ym) / (2 * dt), i - icbm.K1 * r * y, rtol=1e-6)
    np.testing.assert_allclose(
        (op - om) / (2 * dt), h * icbm.K1 * r * y - icbm.K2 * r * o, rtol=1e-6
    )


def test_stepped_converges_to_analytic_and_conserves_mass() -> None:
    state = np.array([[0.3, 4.0], [0.1, 2.0]])
    i, r, h, years = np.array([0.285, 0.4]), np.array([1.0, 1.3]), np.array([0.125, 0.31]), 30.0
    y_ref, o_ref = icbm.analytic(state[:, 0], state[:, 1], i, r, h, years)
    errors = []
    for dt in (1.0, 1 / 12, 1 / 365):
        n = round(years / dt)
        res = icbm.run(state, i, r, h, n, dt)
        errors.append(np.max(np.abs(res.pools - np.column_stack([y_ref, o_ref]))))
        inputs = i * dt * n
        np.testing.assert_allclose(
            inputs - res.co2, res.pools.sum(axis=1) - state.sum(axis=1), atol=1e-12
        )
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 2e-3  # O(dt) convergence
    assert errors[1] / errors[2] == pytest.approx(365 / 12, rel=0.1)


def test_stepped_with_varying_inputs_and_input_validation() -> None:
    state = np.zeros((2, 2))
    i = np.array([[0.2, 0.0, 0.3], [0.1, 0.1, 0.1]])
    res = icbm.run(state, i, 1.0, 0.125, 3, 1.0)
    assert res.pools.shape == (2, 2) and np.all(res.pools >= 0)
    np.testing.assert_array_equal(state, np.zeros((2, 2)))
    with pytest.raises(UserInputError, match="k1"):
        icbm.analytic(0.1, 1.0, 0.2, 1.0, 0.1, 1.0, k1=0.01, k2=0.01)
    with pytest.raises(ValueError, match="state"):
        icbm.run(np.zeros(2), 0.2, 1.0, 0.1, 1)
