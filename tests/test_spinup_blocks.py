"""The start equilibrium solved block by block of farms equals the one-block solve exactly."""

from __future__ import annotations

import numpy as np
import pytest

from abm import landscape
from abm.model import SoilCarbonModel
from abm.soil import spinup


@pytest.mark.parametrize("scenario", [{}, {"climate.rain_cv": 0.0, "climate.temp_noise_sd": 0.0}])
def test_spinup_blocks_do_not_change_the_start(monkeypatch, scenario) -> None:
    params = {"n_farms": 400, "start_year": 2020, "end_year": 2021, **scenario}
    whole = SoilCarbonModel(params, seed=9)
    monkeypatch.setattr(landscape, "SPINUP_BLOCK", 37)
    monkeypatch.setattr(spinup, "COMPOSE_BLOCK", 11)
    blocks = SoilCarbonModel(params, seed=9)
    for name in ("pools", "tracer", "tracer_out", "smd", "soc0"):
        assert np.array_equal(getattr(whole.farms, name), getattr(blocks.farms, name)), name
