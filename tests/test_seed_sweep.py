"""Seed sweep: properties that must hold for any seed, checked over 30 seeds (slow).

The model tests elsewhere run a few seeds each; this sweep is the wider net that catches a
property holding only for the seeds a test happens to use.
"""

from __future__ import annotations

import numpy as np
import pytest

from abm.run import run_model
from abm.scenario import resolve_params

SEEDS = range(100, 130)


@pytest.mark.slow
def test_thirty_seeds_keep_the_model_inside_its_bounds() -> None:
    base = resolve_params("baseline", {"n_farms": 1000})
    subsidy = resolve_params("subsidy", {"n_farms": 1000})
    top = resolve_params("technical_potential", {"n_farms": 1000})
    for seed in SEEDS:
        b = run_model(base, seed=seed)
        s = run_model(subsidy, seed=seed)
        t = run_model(top, seed=seed)
        ts = b.timeseries
        # the no-new-policy world stays near its start (1,000 farms: on a few hundred, a handful
        # of large farms moves the area share by more), and its stock balances its flows
        assert abs(ts["adoption_share"].iloc[-1] - ts["adoption_share"].iloc[0]) < 0.1, seed
        stock0 = ts["soc_stock_t"].iloc[0] / (1 + ts["soc_change_permille"].iloc[0] / 1000)
        flows = ts["carbon_inputs_t_cum"].iloc[-1] - ts["co2_respired_t_cum"].iloc[-1]
        assert flows == pytest.approx(ts["soc_stock_t"].iloc[-1] - stock0, rel=1e-6), seed
        # a voluntary scheme saturates below the whole area and moves it gradually
        share = s.timeseries["adoption_share"].to_numpy()
        assert share.max() < 0.99, seed
        assert np.diff(share).max() <= 0.2 + 1e-9, seed
        # the technical potential is inside the published range and above the schemes
        rate = t.kpis["soc_change_permille_policy"]
        assert 0.5 <= rate <= 7.2, (seed, rate)
        assert s.kpis["soc_change_permille_policy"] < rate, seed
        assert b.kpis["soc_change_permille_policy"] < rate, seed
