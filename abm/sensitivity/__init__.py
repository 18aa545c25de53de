"""Global sensitivity analysis with SALib on top of the batch machinery (``abm sensitivity``).

A sensitivity study is a batch study (DESIGN.md §7a) with a sampled ``[design]`` and a
``[sensitivity]`` table. :func:`~abm.sensitivity.study.run_sensitivity` runs it as a resumable
batch and analyses it; :func:`~abm.sensitivity.report.analyze_folder` screens any batch folder
with the given-data methods. Modules: :mod:`~abm.sensitivity.analysis` (SALib analysers, seed
share, convergence), :mod:`~abm.sensitivity.study` (validation, pilot, the run),
:mod:`~abm.sensitivity.report` (tables), :mod:`~abm.sensitivity.figures` (figures, report.md).

References
----------
Saltelli et al. (2010), https://doi.org/10.1016/j.cpc.2009.09.018 (Sobol' indices).
Morris (1991), https://doi.org/10.1080/00401706.1991.10484804; Campolongo et al. (2007),
https://doi.org/10.1016/j.envsoft.2006.10.004 (μ*).
Saltelli, Tarantola & Chan (1999), https://doi.org/10.1080/00401706.1999.10485594 (eFAST).
Tarantola et al. (2006), https://doi.org/10.1016/j.ress.2005.06.003 (RBD-FAST).
Pianosi & Wagener (2015), https://doi.org/10.1016/j.envsoft.2015.01.004 (PAWN).
Borgonovo (2007), https://doi.org/10.1016/j.ress.2006.04.015 (delta).
Herman & Usher (2017), https://doi.org/10.21105/joss.00097 (SALib).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from abm.sensitivity.report import analyze_folder
    from abm.sensitivity.study import run_sensitivity

__all__ = ["analyze_folder", "run_sensitivity"]

_HOME = {"analyze_folder": "abm.sensitivity.report", "run_sensitivity": "abm.sensitivity.study"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        import importlib

        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'abm.sensitivity' has no attribute {name!r}")
