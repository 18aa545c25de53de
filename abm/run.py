"""``run_model(params, *, seed)`` — the one door to the model for everything above it.

Batches, sensitivity analysis, calibration, reports and the dashboard call this function and
nothing deeper (DESIGN.md §2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from abm import equilibrium, reporters
from abm.model import SoilCarbonModel
from abm.scenario import Params, as_params, flatten


@dataclass
class RunResult:
    """Everything one run produces (DESIGN.md §6).

    Attributes
    ----------
    timeseries
        One row per simulated year, columns :data:`abm.reporters.COLUMNS`.
    kpis
        Scalars: ``<column>_2030``/``_2050``, ``soc_change_permille_mean``,
        ``public_cost_eur_per_tco2e``, totals (see :func:`abm.reporters.kpis`).
    ledger
        Exchanges per year and kind: ``year, kind, count, amount`` (EUR), ``tco2e``.
    params
        The resolved parameters, dotted path → value.
    seed
        The seed the run used.
    zones
        Saturation and equilibrium outputs per year and zone (:data:`abm.equilibrium.ZONE_COLUMNS`).
    """

    timeseries: pd.DataFrame
    kpis: dict[str, float]
    ledger: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    zones: pd.DataFrame = field(default_factory=pd.DataFrame)


def run_model(
    params: Params | Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    model: SoilCarbonModel | None = None,
) -> RunResult:
    """Build the model, run it from ``start_year`` to ``end_year``, and collect the outputs.

    Parameters
    ----------
    params
        :class:`abm.scenario.Params`, a mapping of dotted paths (validated), or None.
    seed
        Root seed (defaults to ``params.seed``). Same seed, same result, on any machine.
    model
        An already built model to run instead (for inspection); ``params``/``seed`` then unused.
    """
    if model is None:
        p = as_params(params)
        model = SoilCarbonModel(p, seed=seed)
    model.run()
    ts = reporters.timeseries(model)
    return RunResult(
        timeseries=ts,
        kpis=reporters.kpis(ts, policy_start=model.params.policy.start_year),
        ledger=model.ledger.to_frame(),
        params=flatten(model.params),
        seed=model.root_seed,
        zones=equilibrium.zone_frame(model),
    )
