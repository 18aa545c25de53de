"""Experiment batches: study files, designs, executors, the results store, queries.

``abm batch FILE`` runs a study (DESIGN.md §7a) — scenarios (levers) × design points
(uncertainties) × replicates with common random numbers — on local processes or a Dask cluster,
writing each run as it finishes into a resumable results folder (DESIGN.md §8).

Modules: :mod:`~abm.batch.spec` (study schema, validation, the run plan),
:mod:`~abm.batch.designs` (factorial, LHS, Sobol', Morris, FAST, CSV),
:mod:`~abm.batch.executors` (process pool, Dask), :mod:`~abm.batch.worker` (one run, isolated),
:mod:`~abm.batch.store` (part files, manifest, readers), :mod:`~abm.batch.runner`
(:func:`run_batch`), :mod:`~abm.batch.query` (DuckDB), :mod:`~abm.batch.toy` (a fast stand-in
model for tests and benchmarks).

Names are imported lazily: worker processes import :mod:`abm.batch.worker` and must not pay
for pandas, DuckDB or rich before their thread limits are set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from abm.batch.query import query
    from abm.batch.runner import BatchSummary, run_batch
    from abm.batch.spec import Study, load_study
    from abm.batch.store import ResultStore, read_table, write_single_run

__all__ = [
    "BatchSummary",
    "ResultStore",
    "Study",
    "load_study",
    "query",
    "read_table",
    "run_batch",
    "write_single_run",
]

_HOME = {
    "BatchSummary": "abm.batch.runner",
    "run_batch": "abm.batch.runner",
    "Study": "abm.batch.spec",
    "load_study": "abm.batch.spec",
    "query": "abm.batch.query",
    "ResultStore": "abm.batch.store",
    "read_table": "abm.batch.store",
    "write_single_run": "abm.batch.store",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        import importlib

        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'abm.batch' has no attribute {name!r}")
