"""Plug-in model of ``calibration/soil_rates.toml``: practice parameters → 20-year SOC rates.

``model(params, seed)`` resolves the ``abm`` parameters and returns, as a one-row timeseries
(``year`` = 20, the years the rate is averaged over), ``rate_<practice>``: the extra SOC gain
of the practice alone, t C/ha/yr over its first 20 years, on the typical farm of its reference
zone (:func:`abm.landscape.practice_effect_rates`, as ``calibration/derive_practice_inputs.py``
and ``tests/test_practices.py`` use it), plus a Gaussian error with the meta-analysis's
standard deviation (:data:`RATE_SD`): the simulated quantity is a meta-analysis estimate, so
the posterior carries the studies' uncertainty, not only the model's fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Reference zone of each practice's meta-analysis (as calibration/derive_practice_inputs.py).
ZONES = {
    "cover_crops": "temperate_oceanic",
    "conservation_agriculture": "temperate_oceanic",
    "agroforestry": "temperate_oceanic",
    "organic_fertilisation": "temperate_oceanic",
}
#: Standard deviation of each meta-analysis estimate, t C/ha/yr (SCIENCE.md §5): cover crops
#: ±0.08 (Poeplau & Don 2015); conservation agriculture: the whole-profile range 0-0.3 as
#: 0.15 ± 0.075 (Luo et al. 2010; Powlson et al. 2014; Ogle et al. 2019); agroforestry:
#: factor 1.25 ± 0.04 × 40-48 t C/ha over 20 yr ≈ ± 0.09 (Cardinael et al. 2018); organic
#: fertilisation 0.41 with no stated spread: ± 25 % (judgement).
RATE_SD = {
    "cover_crops": 0.08,
    "conservation_agriculture": 0.075,
    "agroforestry": 0.09,
    "organic_fertilisation": 0.10,
}
YEARS = 20


@dataclass
class RatesResult:
    """RunResult-like: a one-row ``timeseries`` and the same figures as ``kpis``."""

    timeseries: pd.DataFrame
    kpis: dict[str, float]
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame)


def model(params: Mapping[str, Any] | None = None, seed: int = 0) -> RatesResult:
    """Rates of the practices in :data:`ZONES` (with meta-analysis error; module docstring)."""
    from abm.landscape import practice_effect_rates
    from abm.practices import PRACTICE_IDS
    from abm.scenario import resolve_params

    p = resolve_params(None, dict(params or {}), source="soil_rates")
    rng = np.random.default_rng(seed)
    row: dict[str, float] = {"year": YEARS}
    zones = sorted(set(ZONES.values()))
    rates = practice_effect_rates(p, zones, years=YEARS)  # (zone, practice), one RothC run
    for pid, zone in ZONES.items():
        rate = float(rates[zones.index(zone), PRACTICE_IDS.index(pid)])
        row[f"rate_{pid}"] = rate + RATE_SD[pid] * float(rng.standard_normal())
    ts = pd.DataFrame([row])
    return RatesResult(timeseries=ts, kpis={k: v for k, v in row.items() if k != "year"})
