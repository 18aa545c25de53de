"""Soil-carbon engine: pure numpy, no Mesa, no pandas.

* :mod:`abm.soil.rothc` — RothC-26.3 monthly, vectorised over farms, exact spin-up and
  inverse mode, optional biochar pool and saturation.
* :mod:`abm.soil.icbm` — ICBM two-pool model (Andrén & Kätterer 1997), analytic and stepped.
* :mod:`abm.soil.saturation` — optional, contested saturation capacities (Hassink; Georgiou).
* :mod:`abm.soil.climate` — agro-pedo-climatic zones and warming pathways.
* :mod:`abm.soil.rothc_io` — reader/writer of the official RothC input and output files.
"""

from __future__ import annotations

from abm.soil import climate, icbm, rothc, saturation
from abm.soil.rothc import POOLS, RothCResult, equilibrium, inputs_for_stock, run
from abm.soil.saturation import Saturation

__all__ = [
    "POOLS",
    "RothCResult",
    "Saturation",
    "climate",
    "equilibrium",
    "icbm",
    "inputs_for_stock",
    "rothc",
    "run",
    "saturation",
]
