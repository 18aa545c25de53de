"""Benchmark of the vectorised RothC engine against the naive per-farm loop.

``run(quick=False)`` returns

* ``soil_farm_months_per_s`` — farm-months per second of :func:`abm.soil.rothc.run` on
  100,000 farms × 360 months (30 years), heterogeneous clay, depth, inputs and cover;
* ``soil_naive_farm_months_per_s`` — the same for the pure-Python per-farm reference
  (:mod:`benchmarks.naive_soil`) on a subset (200 farms × 360 months);
* ``soil_ratio_vs_naive`` — the ratio of the two (goal ≥ 60);
* ``soil_peak_mem_bytes_per_farm`` — peak memory traced (``tracemalloc``) during the engine
  call divided by the number of farms;
* ``soil_naive_max_abs_diff`` — largest pool difference (t C/ha) between engine and naive
  on the checked farms (must be < 1e-9);
* ``soil_farm_months_per_s_c_order`` — the engine with the per-farm monthly drivers in
  farm-major (C-order ``(N, M)``) memory instead of month-major: each month then gathers a
  strided column, which costs about 3 ns per farm and driver on the reference machine.

Throughputs are medians of ≥ 3 repeats, both measured in the same process. ``quick=True``
shrinks the sizes so the whole benchmark takes a few seconds. ``python benchmarks/bench_soil.py``
prints the JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from naive_soil import run_naive

from abm.soil import rothc
from abm.soil.climate import ZONES


def _inputs(n: int, years: int, seed: int = 20240601) -> dict[str, Any]:
    """Heterogeneous farms on the temperate_oceanic climate (seeded)."""
    rng = np.random.default_rng(seed)
    zone = ZONES["temperate_oceanic"]
    m = 12 * years
    clay = rng.uniform(5.0, 50.0, n)
    depth = rng.uniform(20.0, 30.0, n)
    iom = rng.uniform(2.0, 5.0, n)
    pools = np.column_stack(
        [
            rng.uniform(0.05, 0.3, n),
            rng.uniform(3, 8, n),
            rng.uniform(0.5, 1.2, n),
            rng.uniform(20, 40, n),
        ]
    )
    pattern = np.zeros(12)
    pattern[[3, 4, 5, 6, 7]] = [0.1, 0.15, 0.2, 0.25, 0.3]  # spring-summer input, t C/ha/month
    scale = rng.uniform(0.5, 3.0, n)
    plant = scale[:, None] * np.tile(pattern, years)[None, :]
    fym = np.zeros((n, m))
    manured = rng.random(n) < 0.2
    fym[manured, 2::12] = rng.uniform(0.5, 2.0, int(manured.sum()))[:, None]
    bare_from = rng.integers(8, 11, n)  # bare from Sep/Oct/Nov to March for some farms
    month_of = np.tile(np.arange(12), years)[None, :]
    winter_bare = rng.random(n) < 0.5
    covered = ~(winter_bare[:, None] & ((month_of >= bare_from[:, None]) | (month_of < 3)))
    # Monthly per-farm drivers are laid out month-major ((M, N) memory, passed as the (N, M)
    # transpose view) so each month is one contiguous row; see soil_farm_months_per_s_c_order.
    plant, fym, covered = (np.ascontiguousarray(v.T).T for v in (plant, fym, covered))
    return {
        "pools": pools,
        "iom": iom,
        "smd": np.zeros(n),
        "clay": clay,
        "depth_cm": depth,
        "temp": np.tile(zone.temp12, years),
        "rain": np.tile(zone.rain12, years),
        "evap": np.tile(zone.evap12, years),
        "plant_c": plant,
        "fym": fym,
        "covered": covered,
        "dpm_rpm": rng.choice([1.44, 0.67], n),
    }


def _engine(inp: dict[str, Any]) -> rothc.RothCResult:
    return rothc.run(
        inp["pools"],
        inp["iom"],
        inp["smd"],
        inp["clay"],
        inp["depth_cm"],
        inp["temp"],
        inp["rain"],
        inp["evap"],
        inp["plant_c"],
        inp["fym"],
        inp["covered"],
        inp["dpm_rpm"],
    )


def _subset(inp: dict[str, Any], k: int) -> dict[str, Any]:
    out = {}
    for key, v in inp.items():
        out[key] = v[:k] if key not in ("temp", "rain", "evap") else v
    return out


def _naive(inp: dict[str, Any]) -> tuple[list[list[float]], list[float], list[float]]:
    return run_naive(
        inp["pools"],
        inp["iom"],
        inp["smd"],
        inp["clay"],
        inp["depth_cm"],
        inp["temp"],
        inp["rain"],
        inp["evap"],
        inp["plant_c"],
        inp["fym"],
        inp["covered"],
        inp["dpm_rpm"],
    )


def _as_lists(inp: dict[str, Any]) -> dict[str, Any]:
    """Plain Python lists, so the naive loop does not pay for numpy scalar indexing."""
    return {k: np.asarray(v).tolist() for k, v in inp.items()}


def run(quick: bool = False) -> dict[str, float]:
    """Run the benchmark; see the module docstring for the returned keys."""
    n_engine, years = (5_000, 5) if quick else (100_000, 30)
    n_naive = 20 if quick else 200
    repeats = 3
    inp = _inputs(n_engine, years)
    m = 12 * years

    # correctness: engine and naive agree on the checked farms
    sub = _subset(inp, n_naive)
    sub_lists = _as_lists(sub)
    eng_sub = _engine(sub)
    naive_pools, _, naive_co2 = _naive(sub_lists)
    diff = float(np.max(np.abs(eng_sub.pools - np.array(naive_pools))))
    diff = max(diff, float(np.max(np.abs(eng_sub.co2 - np.array(naive_co2)))))
    if diff > 1e-9:
        raise AssertionError(f"engine and naive disagree by {diff:.3g} t C/ha")

    engine_times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _engine(inp)
        engine_times.append(time.perf_counter() - t0)
    naive_times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _naive(sub_lists)
        naive_times.append(time.perf_counter() - t0)

    tracemalloc.start()
    tracemalloc.reset_peak()
    _engine(inp)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # the same inputs in farm-major (C-order) layout: each month gathers strided columns
    inp_c = {k: (np.ascontiguousarray(v) if np.ndim(v) == 2 else v) for k, v in inp.items()}
    c_times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _engine(inp_c)
        c_times.append(time.perf_counter() - t0)
    del inp_c

    engine_rate = n_engine * m / statistics.median(engine_times)
    naive_rate = n_naive * m / statistics.median(naive_times)
    return {
        "soil_ratio_vs_naive": engine_rate / naive_rate,
        "soil_farm_months_per_s": engine_rate,
        "soil_naive_farm_months_per_s": naive_rate,
        "soil_farm_months_per_s_c_order": n_engine * m / statistics.median(c_times),
        "soil_peak_mem_bytes_per_farm": peak / n_engine,
        "soil_naive_max_abs_diff": diff,
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
