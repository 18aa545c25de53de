"""Benchmark of the saturation and new-equilibrium outputs (issue 15): their cost per model year.

``run(quick=False)`` returns, for 10,000 farms (default parameters otherwise):

* ``equilibrium_year_ratio`` — median CPU time of a model year *with* the outputs
  (:mod:`abm.equilibrium`) ÷ median *without* them (``abm.equilibrium.ENABLED = False``), with
  ``equilibrium_year_s_on`` / ``_off`` and their spread (``_iqr``). Two models with the same
  seed are stepped alternately, one with and one without, 7 timed years each after one untimed
  year, so both see the same load; each keeps its own cache; ``equilibrium_year_ratio_iqr``
  is the spread of the year-by-year ratios of these pairs. Times are the process's CPU
  time (``time.process_time``): on a shared machine the wall time also counts the waits for
  the other jobs. Goal ≤ 1.10.
  Under the default warming every farm's climate normals move each year, so every farm is
  solved every year (the cache keeps only its moisture modifiers);
* ``equilibrium_year_ratio_no_warming`` — the same with ``climate.warming_c_per_yr = 0``: only
  the farms whose drivers changed are solved again;
* ``equilibrium_year_ratio_hassink`` — the same with ``soil.saturation = hassink`` (the capped
  equilibrium is Newton's method of :func:`abm.soil.rothc.equilibrium`, started from last
  year's fixed point).

``quick=True`` uses 1,000 farms and 3 timed years (the keys keep their names).
``python benchmarks/bench_equilibrium.py`` prints the JSON (``--quick`` for the small size).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from abm import equilibrium
from abm.model import SoilCarbonModel


def _iqr(x: list[float]) -> float:
    q = statistics.quantiles(x, n=4)
    return q[2] - q[0]


def compare(params: dict, years: int, seed: int = 1) -> dict[str, float]:
    """Median wall time of a model year with and without the outputs, interleaved."""
    models = {flag: SoilCarbonModel(params, seed=seed) for flag in (True, False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    solved = 0
    try:
        for k in range(years + 1):
            for flag, m in models.items():
                equilibrium.ENABLED = flag
                t0 = time.process_time()
                m.step()
                if k > 0:
                    times[flag].append(time.process_time() - t0)
        tracker = getattr(models[True], "_equilibrium_tracker", None)
        solved = 0 if tracker is None else tracker.cache.solved_rows
    finally:
        equilibrium.ENABLED = True
    on, off = statistics.median(times[True]), statistics.median(times[False])
    pairs = [a / b for a, b in zip(times[True], times[False], strict=True)]
    return {
        "ratio": on / off,
        "ratio_iqr": _iqr(pairs),
        "s_on": on,
        "s_off": off,
        "s_on_iqr": _iqr(times[True]),
        "s_off_iqr": _iqr(times[False]),
        "solved_share": solved / ((years + 1) * models[True].farms.n),
    }


def run(quick: bool = False) -> dict[str, float]:
    """The figures described in the module docstring."""
    n, years = (1_000, 3) if quick else (10_000, 7)
    out: dict[str, float] = {}
    cases = {
        "": {},
        "_no_warming": {"climate.warming_c_per_yr": 0.0},
        "_hassink": {"soil.saturation": "hassink"},
    }
    for suffix, extra in cases.items():
        res = compare({"n_farms": n, **extra}, years)
        out[f"equilibrium_year_ratio{suffix}"] = res["ratio"]
        for key in ("ratio_iqr", "s_on", "s_off", "s_on_iqr", "s_off_iqr", "solved_share"):
            out[f"equilibrium_year_{key}{suffix}"] = res[key]
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, sort_keys=True))
