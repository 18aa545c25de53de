"""Test functions with analytic Sobol' indices, as plug-in models for ``abm sensitivity``.

Each model has the plug-in signature ``f(params: dict, seed: int) -> dict`` so a study file can
name it (``model = "abm.testfunctions:ishigami"``) and it runs through the same pipeline as the
agent-based model: batch, store, replicate averaging, SALib analysis. The ``*_indices``
functions give the exact first-order (``S1``), total (``ST``) and, for Ishigami, second-order
indices the pipeline must recover.

Parameters are flat names: ``x1, x2, ...`` (the inputs), and optionally ``a``/``b`` (Ishigami),
``a1, a2, ...`` (G-function coefficients) and ``noise_sd`` (standard deviation of additive
Gaussian noise drawn from ``seed``: a model whose seed-driven variance is known exactly).

References
----------
Ishigami & Homma (1990), https://doi.org/10.1109/ISUMA.1990.151285.
Sobol' (1993); Saltelli & Sobol' (1995), https://doi.org/10.1016/0951-8320(95)00099-2
(G-function and its analytic indices).
Saltelli et al. (2010), https://doi.org/10.1016/j.cpc.2009.09.018.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Ishigami's usual constants (Ishigami & Homma 1990; SALib's defaults).
ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1
#: The G-function coefficients of Saltelli & Sobol' (1995): important to unimportant.
SOBOL_G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)


def _noise(params: Mapping[str, Any], seed: int) -> float:
    sd = float(params.get("noise_sd", 0.0))
    if sd == 0.0:
        return 0.0
    return float(np.random.default_rng(int(seed)).normal(0.0, sd))


def ishigami(params: Mapping[str, Any], seed: int = 0) -> dict[str, float]:
    """Ishigami function ``sin x1 + a sin² x2 + b x3⁴ sin x1`` (inputs on ``[-π, π]``).

    Returns ``{"y": value, "zero": 0.0}`` (``zero`` is a constant output, for the tests of
    degenerate outputs); ``noise_sd`` adds ``N(0, noise_sd²)`` noise drawn from ``seed``.
    """
    x1, x2, x3 = (float(params.get(k, 0.0)) for k in ("x1", "x2", "x3"))
    a = float(params.get("a", ISHIGAMI_A))
    b = float(params.get("b", ISHIGAMI_B))
    y = math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)
    return {"y": y + _noise(params, seed), "zero": 0.0}


def ishigami_variance(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> float:
    """Exact variance of the Ishigami function for uniform inputs on ``[-π, π]``."""
    pi = math.pi
    return a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, Any]:
    """Analytic indices of the Ishigami function: ``S1``, ``ST`` (lists over x1..x3) and
    ``S2`` (dict of pairs; only ``(x1, x3)`` is non-zero)."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = ishigami_variance(a, b)
    return {
        "S1": [v1 / v, v2 / v, 0.0],
        "ST": [(v1 + v13) / v, v2 / v, v13 / v],
        "S2": {("x1", "x2"): 0.0, ("x1", "x3"): v13 / v, ("x2", "x3"): 0.0},
    }


def _g_coefficients(params: Mapping[str, Any], k: int) -> list[float]:
    return [
        float(params.get(f"a{i + 1}", SOBOL_G_A[i] if i < len(SOBOL_G_A) else 99.0))
        for i in range(k)
    ]


def sobol_g(params: Mapping[str, Any], seed: int = 0) -> dict[str, float]:
    """Sobol' G-function ``∏ (|4 xᵢ − 2| + aᵢ) / (1 + aᵢ)`` (inputs on ``[0, 1]``).

    The inputs are the parameters ``x1 .. xk`` present in ``params``; ``a1 ..`` override the
    coefficients (default :data:`SOBOL_G_A`, then 99).
    """
    k = sum(1 for key in params if key.startswith("x") and key[1:].isdigit())
    a = _g_coefficients(params, k)
    y = 1.0
    for i in range(k):
        x = float(params[f"x{i + 1}"])
        y *= (abs(4 * x - 2) + a[i]) / (1 + a[i])
    return {"y": y + _noise(params, seed)}


def sobol_g_indices(a: tuple[float, ...] | list[float] = SOBOL_G_A) -> dict[str, list[float]]:
    """Analytic ``S1`` and ``ST`` of the G-function with coefficients ``a``.

    ``Vᵢ = 1 / (3 (1 + aᵢ)²)``, ``V = ∏ (1 + Vᵢ) − 1``, ``S1ᵢ = Vᵢ / V`` and
    ``STᵢ = Vᵢ ∏_{j≠i} (1 + Vⱼ) / V`` (Saltelli & Sobol' 1995).
    """
    vi = [1.0 / (3.0 * (1.0 + ai) ** 2) for ai in a]
    prod = float(np.prod([1.0 + v for v in vi]))
    total = prod - 1.0
    return {"S1": [v / total for v in vi], "ST": [v * prod / (1.0 + v) / total for v in vi]}


#: The planted box of :func:`planted_box`: ``x1 >= 0.6`` and ``x2 <= 0.3`` (inputs on [0, 1]).
PLANTED_BOX = {"x1": (0.6, 1.0), "x2": (0.0, 0.3)}


def planted_box(params: Mapping[str, Any], seed: int = 0) -> dict[str, float]:
    """A scenario-discovery test case: ``y = 1`` inside :data:`PLANTED_BOX`, else 0 (any
    other ``x3 ..`` inputs are irrelevant); ``noise_sd`` adds Gaussian noise from ``seed``."""
    inside = all(lo <= float(params.get(k, -1.0)) <= hi for k, (lo, hi) in PLANTED_BOX.items())
    return {"y": float(inside) + _noise(params, seed)}
