"""Lazy numba compilation shared by the kernel modules (:mod:`abm.soil.kernels`,
:mod:`abm.kernels_model`).

A module lists its kernels' names and decorates each with ``lazy = LazyKernels(globals(),
NAMES)``: before the first call, a kernel is a plain Python function wrapper; the first call of
any kernel imports numba (which imports scipy) and replaces every listed kernel in the module's
namespace by its ``njit(cache=True)`` dispatcher, so that numba resolves a kernel's calls to the
others as compiled functions. Importing a kernel module therefore stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class LazyKernels:
    """The kernels of one module: a decorator that defers their compilation to the first call."""

    def __init__(self, namespace: dict[str, Any], names: Iterable[str]) -> None:
        self._ns = namespace
        self._names = tuple(names)

    def compile_all(self) -> None:
        """Replace every listed kernel by its numba dispatcher (compiled, or loaded from cache)."""
        from numba import njit

        for name in self._names:
            fn = self._ns[name]
            if isinstance(fn, _Lazy):
                self._ns[name] = njit(cache=True)(fn.py_func)

    def __call__(self, fn: Callable[..., Any]) -> Any:
        return _Lazy(fn, self)


class _Lazy:
    """A kernel before numba is imported: its first call compiles (or loads) all kernels."""

    def __init__(self, fn: Callable[..., Any], owner: LazyKernels) -> None:
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self._owner = owner

    def __call__(self, *args: Any) -> Any:
        self._owner.compile_all()
        return self._owner._ns[self.__name__](*args)
