"""abm — an agent-based model of soil-carbon practice adoption under the "4 per 1000" initiative.

Layers (imports point down only):

* :mod:`abm.soil` — pure numpy soil-carbon engine (RothC-26.3, ICBM, saturation, climate).
* :mod:`abm.decisions`, :mod:`abm.practices`, :mod:`abm.network` — pure behaviour maths.
* :mod:`abm.agents`, :mod:`abm.model` — the Mesa model.
* :mod:`abm.run` — ``run_model(params, *, seed)``, the one door for everything above.
* :mod:`abm.batch`, :mod:`abm.report` — experiment batches, results store, reports.
"""

from importlib import metadata as _metadata

try:
    __version__: str = _metadata.version("abm-4p1000")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
    __version__ = "0+unknown"
