"""Compiled (numba) helpers of the model year outside the soil engine, bit-identical to numpy.

The kernels here move values, or do the element-wise arithmetic of a numpy expression in the
same operation order (numba compiles without fast-math: no re-association, no fused
multiply-add), so they return exactly what the numpy code they replace returns; reductions and
transcendental functions stay in numpy. Like :mod:`abm.soil.kernels`, numba is imported on the
first call (so ``import abm.model`` stays light), compiled code is cached on disk, and every
kernel is serial.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_KERNELS = ("put_rows", "plant_drivers", "rate_drivers")


def _compile_all() -> None:
    """Replace every kernel of this module by its numba dispatcher (first call of any)."""
    from numba import njit

    g = globals()
    for name in _KERNELS:
        fn = g[name]
        if isinstance(fn, _Lazy):
            g[name] = njit(cache=True)(fn.py_func)


class _Lazy:
    """A kernel before numba is imported: its first call compiles (or loads) all kernels."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args: Any) -> Any:
        _compile_all()
        return globals()[self.__name__](*args)


def _lazy(fn: Callable[..., Any]) -> Any:
    return _Lazy(fn)


@_lazy
def put_rows(src: np.ndarray, rows: np.ndarray, out: np.ndarray, start: int) -> None:
    """``out[start : start + rows.size] = src[rows]`` for 2-D ``src`` and ``out`` of any order.

    Row by row (contiguous reads of a C-ordered ``src``), so writing into a Fortran-ordered
    ``out`` costs one pass over ``src`` instead of numpy's strided transposing copy.
    """
    n_cols = src.shape[1]
    for r in range(rows.size):
        i = rows[r]
        for j in range(n_cols):
            out[start + r, j] = src[i, j]


def stack_rows(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``np.concatenate([src[rows] for src, rows in parts])`` as a Fortran-ordered array.

    Every ``src`` has the same dtype and column count; the result is what the RothC engine
    reads one month (column) at a time.
    """
    first = parts[0][0]
    m = sum(rows.size for _, rows in parts)
    out = np.empty((m, first.shape[1]), dtype=first.dtype, order="F")
    start = 0
    for src, rows in parts:
        put_rows(np.ascontiguousarray(src), rows, out, start)
        start += rows.size
    return out


@_lazy
def plant_drivers(
    base: np.ndarray,
    pattern: np.ndarray,
    extra_dot: np.ndarray,
    dpm_dot: np.ndarray,
    res_in: np.ndarray,
    dpm_crop: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(plant, dpm_rpm)`` of :func:`abm.resources.drivers`, fused (same operation order).

    ``extra_dot`` and ``dpm_dot`` are the (N, 12) products of the extra input (and its DPM
    part) with the practices' months, ``res_in`` the (N,) returned residues, ``pattern`` the
    farm's harvest pattern, ``dpm_crop`` the crop DPM/RPM ratio.
    """
    n, n_m = base.shape
    k = dpm_crop / (1 + dpm_crop)
    k_base = dpm_crop / (1.0 + dpm_crop)
    plant = np.empty((n, n_m))
    ratio = np.empty((n, n_m))
    for i in range(n):
        r = res_in[i]
        for j in range(n_m):
            rp = r * pattern[i, j]
            b = base[i, j]
            p = b + (extra_dot[i, j] + rp)
            dpm = b * k_base + (dpm_dot[i, j] + rp * k)
            rpm = p - dpm
            plant[i, j] = p
            ratio[i, j] = dpm / rpm if rpm > 1e-12 else dpm_crop
    return plant, ratio


@_lazy
def rate_drivers(rate: np.ndarray, cover_share: np.ndarray, partly: np.ndarray) -> np.ndarray:
    """(N, 12) decomposition modifier: ``rate × (1 − 0.4 × cover share)`` in partly bare months."""
    n, n_m = partly.shape
    out = np.empty((n, n_m))
    for i in range(n):
        x = rate[i]
        xc = x * (1.0 - 0.4 * cover_share[i])
        for j in range(n_m):
            out[i, j] = xc if partly[i, j] else x
    return out
