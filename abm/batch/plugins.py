"""Plug-in models: code named by a study file runs only with the user's consent.

``model = "package.module:function"`` in a study names Python code, and a study file is data
that anyone can send. So (issue 14):

1. :func:`check_consent` — by name only, nothing imported: standard-library and built-in
   modules are refused (``os:system``, ``subprocess:run``, ...), and any other plug-in needs the
   user's consent on the command line (``abm batch --allow-plugin``).
2. :func:`verify_plugin` — only after every other check of the study and the results folder
   has passed: import the module (its top-level code runs now) and check that the callable is a
   Python function of the documented form ``f(params: dict, seed: int) -> dict`` that does not
   come from the standard library (``from os import system as f`` is refused too).

The models shipped with the package (:data:`TRUSTED_MODELS`) need no consent.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from abm.batch.worker import ABM_MODEL
from abm.errors import UserInputError

#: Models that ship with this package and run without ``--allow-plugin``: the model itself, the
#: toy stand-in of the tests and benchmarks (:mod:`abm.batch.toy`) and the sensitivity test
#: functions with known answers (:mod:`abm.testfunctions`), and the soil-rate model of
#: ``calibration/soil_rates.toml`` (:mod:`abm.calibration.soil_rates`).
TRUSTED_MODELS = frozenset(
    {
        ABM_MODEL,
        "abm.batch.toy:model",
        "abm.calibration.soil_rates:model",
        "abm.testfunctions:ishigami",
        "abm.testfunctions:sobol_g",
        "abm.testfunctions:planted_box",
    }
)


def check_consent(model: str, allow_plugin: bool, source: str) -> None:
    """Refuse a plug-in model without the user's consent, and any standard-library callable.

    Nothing is imported: the module is judged by its name only.
    """
    if model in TRUSTED_MODELS:
        return
    module_name = model.partition(":")[0]
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names or top == "builtins":
        raise UserInputError(
            f"experiment.model: {model!r} is a standard-library callable, not a model; a "
            "plug-in model is your own f(params: dict, seed: int) -> dict",
            source=source,
        )
    if not allow_plugin:
        raise UserInputError(
            f"experiment.model: {model!r} is a plug-in model, i.e. code; a study file alone "
            "never runs code: run it with --allow-plugin if you trust that module (README: "
            "'Running your own model')",
            source=source,
        )


def verify_plugin(model: str, sys_path: tuple[str, ...], source: str) -> None:
    """Import a consented plug-in and check it has the form ``f(params: dict, seed: int)``.

    Call only after :func:`check_consent` (the import runs the module's top-level code).
    """
    if model in TRUSTED_MODELS:
        return
    for p in sys_path:
        if p not in sys.path:
            sys.path.append(p)
    module_name, _, func_name = model.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is the user's to fix
        raise UserInputError(
            f"experiment.model: cannot import {module_name!r} ({type(exc).__name__}: {exc}); "
            "it must be importable from the study's folder, the current folder or the "
            "environment",
            source=source,
        ) from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise UserInputError(
            f"experiment.model: {module_name!r} has no function {func_name!r}", source=source
        )
    _check_signature(model, func, source)


def _check_signature(model: str, func: Any, source: str) -> None:
    home = str(getattr(func, "__module__", "") or "").split(".")[0]
    if (
        inspect.isbuiltin(func)
        or home in sys.stdlib_module_names
        or home in ("builtins", "_operator")
        or not (inspect.isfunction(func) or inspect.ismethod(func))
    ):
        raise UserInputError(
            f"experiment.model: {model!r} is not a Python function of your own (it is "
            f"{type(func).__name__} from {home or 'a built-in module'}); a plug-in model is "
            "f(params: dict, seed: int) -> dict",
            source=source,
        )
    try:
        inspect.signature(func).bind({}, 0)
    except (TypeError, ValueError):
        raise UserInputError(
            f"experiment.model: {model!r} cannot be called as f(params: dict, seed: int); its "
            f"signature is {inspect.signature(func)}",
            source=source,
        ) from None
