"""Helpers shared by model tests: freeze a model's management, put a practice on farms."""

from __future__ import annotations

import numpy as np

from abm.model import SoilCarbonModel


def freeze(m: SoilCarbonModel) -> SoilCarbonModel:
    """Farmers neither decide nor grow their practices' area: management stays as set."""
    m.decide_farmers = lambda *a, **k: None  # type: ignore[method-assign]
    m.grow_area = lambda before: m.farms.area_share.copy()  # type: ignore[method-assign]
    return m


def use(m: SoilCarbonModel, k: int, where: np.ndarray) -> None:
    """Put practice ``k`` on the whole area of the farms ``where``."""
    m.farms.adopted[:, k] = where
    m.farms.area_share[:, k] = where.astype(float)
