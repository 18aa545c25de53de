"""Historical diffusion drivers: the cost decline from technical change (``market.cost_decline_*``).

The failure it guards against (docs/calibration.md, "Why the first fit failed"): the relative
advantage of a historical curve was entered as a *payment*, which farms closed to schemes
never see, and at full strength from the first year, so a constant advantage strong enough to
lift adoption saturated it within two decades while the data kept rising for 45 years.
"""

from __future__ import annotations

import numpy as np
import pytest

from abm.economics import cost_trend
from abm.errors import UserInputError
from abm.model import SoilCarbonModel
from abm.practices import PRACTICE_IDS
from abm.scenario import as_params

CA = "conservation_agriculture"
K = PRACTICE_IDS.index(CA)


def _share(over: dict, seed: int) -> np.ndarray:
    base = {
        "n_farms": 150,
        "start_year": 2000,
        "end_year": 2015,
        f"practices.{CA}.initial_share": 0.05,
        "landscape.system_shares.grassland": 0.0,
    }
    m = SoilCarbonModel({**base, **over}, seed=seed)
    m.run()
    return m.datacollector.get_model_vars_dataframe()[f"adoption_share_{CA}"].to_numpy()


def test_cost_trend_is_linear_from_the_start_year() -> None:
    p = as_params(
        {
            "start_year": 2000,
            f"market.cost_decline_eur_per_ha.{CA}": 100.0,
            "market.cost_decline_yr": 4.0,
        }
    )
    base = p.practices.conservation_agriculture.annual_cost_eur_per_ha
    got = [cost_trend(p, y)[K] for y in (1999, 2000, 2001, 2003, 2004, 2010)]
    assert got == pytest.approx([base, base, base - 25, base - 75, base - 100, base - 100])
    others = [i for i in range(len(PRACTICE_IDS)) if i != K]
    default = as_params({"start_year": 2000})
    np.testing.assert_array_equal(cost_trend(p, 2010)[others], cost_trend(default, 2010)[others])


def test_unknown_practice_is_rejected() -> None:
    with pytest.raises(UserInputError, match="cost_decline_eur_per_ha"):
        as_params({"market.cost_decline_eur_per_ha.no_such_practice": 10.0})


@pytest.mark.parametrize("seed", [1, 7])
def test_a_strong_advantage_lifts_adoption_far_above_a_weak_one(seed: int) -> None:
    weak = _share({f"market.cost_decline_eur_per_ha.{CA}": 20.0}, seed)
    strong = _share({f"market.cost_decline_eur_per_ha.{CA}": 400.0}, seed)
    assert strong[-1] > weak[-1] + 0.4  # measured over 12 seeds: 0.59-0.86 apart


@pytest.mark.parametrize("seed", [1, 7])
def test_a_phased_in_advantage_starts_slower_than_an_immediate_one(seed: int) -> None:
    decline = {f"market.cost_decline_eur_per_ha.{CA}": 400.0}
    now = _share({**decline, "market.cost_decline_yr": 1.0}, seed)
    later = _share({**decline, "market.cost_decline_yr": 15.0}, seed)
    assert later[4] < now[4] - 0.05  # 2004: a third of the way in


def test_the_cost_decline_reaches_farms_closed_to_schemes_a_payment_does_not() -> None:
    closed = {"farmer.closed_share": 1.0}
    none = _share(closed, 3)
    paid = _share(
        {
            **closed,
            "policy.start_year": 2000,
            "policy.subsidy_eur_per_ha": 400.0,
            "policy.subsidy_practices": [CA],
        },
        3,
    )
    cheaper = _share({**closed, f"market.cost_decline_eur_per_ha.{CA}": 400.0}, 3)
    np.testing.assert_allclose(paid, none)
    assert cheaper[-1] > none[-1] + 0.25
