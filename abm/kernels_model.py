"""Compiled (numba) helpers of the model year outside the soil engine: copies only.

The kernels here move values without arithmetic, so they return exactly what the numpy code
they replace returns. Like :mod:`abm.soil.kernels`, numba is imported on the first call (so
``import abm.model`` stays light), compiled code is cached on disk, and every kernel is serial.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_KERNELS = ("put_rows",)


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
