"""Benchmark of the whole model year: against Mesa's floor, the naive reference, and memory.

``run(quick=False)`` returns

* ``model_year_vs_mesa_floor`` — median wall time of one :meth:`SoilCarbonModel.step` at 10,000
  farms (default parameters, after one untimed warm-up year) ÷ median time of Mesa's bare
  ``model.agents.shuffle_do("step")`` over 10,000 trivial agents with an empty ``step``
  (≥ 20 repeats, interleaved with the model years in the same process). Goal ≤ 10. With
  ``model_year_s_10k`` and ``mesa_floor_s_10k``.
* ``model_ratio_vs_naive_reference`` — one year of :class:`naive_model.NaiveSoilCarbonModel`
  (per-agent peer signal, decisions and pure-Python RothC; median of 2 steps) ÷ one real year
  (``model_year_s_10k``), both at 10,000 farms. Goal ≥ 20. ``naive_year_s`` is the naive year;
  ``naive_scaled_from_farms`` the farm count the naive year was measured at (when a 10,000-farm
  naive year exceeds 60 s it is measured at 2,000 farms and scaled linearly to 10,000).
* ``model_year_vs_mesa_floor_blas1`` (and ``model_year_s_10k_blas1``, ``mesa_floor_s_10k_blas1``)
  — the same measured in a child process with ``OPENBLAS_NUM_THREADS=1`` (full mode only): a
  diagnostic, since OpenBLAS's thread pool makes the model's many tiny matrix products (e.g.
  ``(N, 8) @ (8, 12)`` in :func:`abm.landscape.soil_drivers`) far slower on a busy machine.
* statistical agreement of the naive (shuffled, Mesa style) and the real model: ``subsidy``
  scenario, 300 farms, 2020–2050, seeds 1…8, same seed for both (so both start from the same
  world). For ``adoption_share_2050`` and ``soc_change_permille_mean``:
  ``agree_<kpi>`` = 1.0 when ``|mean_naive − mean_real| ≤ 2·sqrt(se_naive² + se_real²)``, else
  0.0, and ``z_<kpi>`` that difference in units of its standard error; ``agree_seeds`` seeds.
* ``peak_rss_mb_100k_farms`` — peak resident memory (MiB; ``VmHWM`` of ``/proc/self/status``,
  not ``ru_maxrss``, which Linux carries over from the forking parent across ``exec``) of a
  fresh Python process running ``run_model({"n_farms": 100000}, seed=1)``, 2020–2050.
  Goal ≤ 2048. The same for 1,000 and 10,000 farms (``peak_rss_mb_1k_farms``, ...), with
  ``wall_s_<n>_farms`` (build + 31 years + outputs, imports excluded) and ``build_s_<n>_farms``
  (world-building: landscape, spin-up, network, burn-in) of each run.

All timings are in one process except the full runs (one fresh subprocess each, so their memory
is their own). ``quick=True`` shrinks every size (the keys keep their names) and takes < 30 s.
``python benchmarks/bench_model.py`` prints the JSON (``--quick`` for the small sizes).
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from naive_model import NaiveSoilCarbonModel  # type: ignore[import-not-found,unused-ignore]
else:
    from benchmarks.naive_model import NaiveSoilCarbonModel

from abm.model import SoilCarbonModel
from abm.reporters import kpis, timeseries
from abm.run import run_model
from abm.scenario import resolve_params

NAIVE_MAX_STEP_S = 60.0
"""A naive year slower than this at the full size is measured at ``NAIVE_FALLBACK_FARMS``."""
NAIVE_FALLBACK_FARMS = 2_000
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
AGREE_KPIS = ("adoption_share_2050", "soc_change_permille_mean")


@dataclass(frozen=True)
class Sizes:
    """What one benchmark mode runs."""

    year_farms: int  # model year vs floor, and naive vs real
    year_steps: int
    floor_per_year: int
    naive_steps: int
    agree_farms: int
    agree_end: int
    agree_seeds: int
    runs: tuple[tuple[str, int], ...]  # full runs: (label, farms)
    run_end: int


FULL = Sizes(
    year_farms=10_000,
    year_steps=5,
    floor_per_year=6,
    naive_steps=2,
    agree_farms=300,
    agree_end=2050,
    agree_seeds=8,
    runs=(("1k", 1_000), ("10k", 10_000), ("100k", 100_000)),
    run_end=2050,
)
QUICK = Sizes(
    year_farms=1_000,
    year_steps=3,
    floor_per_year=7,
    naive_steps=1,
    agree_farms=100,
    agree_end=2030,
    agree_seeds=5,
    runs=(("1k", 200), ("10k", 500), ("100k", 2_000)),
    run_end=2025,
)


class _Trivial(mesa.Agent):
    """The cheapest possible Mesa agent."""

    def step(self) -> None:
        pass


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def year_vs_floor(n: int, steps: int, floor_per_year: int) -> dict[str, float]:
    """Median model year at ``n`` farms and Mesa's bare ``shuffle_do`` over ``n`` agents."""
    model = SoilCarbonModel({"n_farms": n}, seed=1)
    floor = mesa.Model(seed=1)
    for _ in range(n):
        _Trivial(floor)
    model.step()  # warm-up year, untimed
    floor.agents.shuffle_do("step")
    years, floors = [], []
    for _ in range(steps):  # interleaved, so both see the same machine load
        years.append(_timed(model.step))
        floors.extend(
            _timed(lambda: floor.agents.shuffle_do("step")) for _ in range(floor_per_year)
        )
    year_s = statistics.median(years)
    floor_s = statistics.median(floors)
    return {
        "model_year_vs_mesa_floor": year_s / floor_s,
        "model_year_s_10k": year_s,
        "mesa_floor_s_10k": floor_s,
    }


def naive_year(n: int, steps: int) -> tuple[float, int]:
    """Median naive year at ``n`` farms (scaled from the fallback size when too slow)."""
    gc.collect()
    model = NaiveSoilCarbonModel({"n_farms": n}, seed=1)
    first = _timed(model.step)
    if first <= NAIVE_MAX_STEP_S or n <= NAIVE_FALLBACK_FARMS:
        times = [first] + [_timed(model.step) for _ in range(steps - 1)]
        return statistics.median(times), n
    del model
    small = NaiveSoilCarbonModel({"n_farms": NAIVE_FALLBACK_FARMS}, seed=1)
    times = [_timed(small.step) for _ in range(steps)]
    return statistics.median(times) * n / NAIVE_FALLBACK_FARMS, NAIVE_FALLBACK_FARMS


def z_score(a: list[float], b: list[float]) -> float:
    """|mean(a) − mean(b)| in standard errors of the difference (independent samples)."""
    se = math.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
    diff = abs(float(np.mean(a)) - float(np.mean(b)))
    return diff / se if se > 0 else (0.0 if diff == 0 else math.inf)


def agreement(n: int, end_year: int, seeds: int) -> dict[str, float]:
    """Naive (shuffled) vs real model over ``seeds`` seeds on the subsidy scenario."""
    p = resolve_params("subsidy", {"n_farms": n, "start_year": 2020, "end_year": end_year})
    real: dict[str, list[float]] = {k: [] for k in AGREE_KPIS}
    naive: dict[str, list[float]] = {k: [] for k in AGREE_KPIS}
    # the runs end in end_year (2050 in full mode): the final year's share is the 2050 one
    source = {"adoption_share_2050": "adoption_share_final"}
    for seed in range(1, seeds + 1):
        k_real = run_model(p, seed=seed).kpis
        model = NaiveSoilCarbonModel(p, seed=seed)
        model.run()
        k_naive = kpis(timeseries(model))
        for key in AGREE_KPIS:
            real[key].append(k_real[source.get(key, key)])
            naive[key].append(k_naive[source.get(key, key)])
    out: dict[str, float] = {"agree_seeds": float(seeds)}
    for key in AGREE_KPIS:
        z = z_score(naive[key], real[key])
        out[f"z_{key}"] = z
        out[f"agree_{key}"] = 1.0 if z <= 2.0 else 0.0
        out[f"naive_mean_{key}"] = float(np.mean(naive[key]))
        out[f"real_mean_{key}"] = float(np.mean(real[key]))
    return out


_CHILD = """
import json, resource, time
from abm.model import SoilCarbonModel
from abm.run import run_model
t0 = time.perf_counter()
model = SoilCarbonModel({{"n_farms": {n}, "end_year": {end}}}, seed=1)
t1 = time.perf_counter()
result = run_model(model=model)  # = run_model({{"n_farms": {n}, ...}}, seed=1)
t2 = time.perf_counter()
assert len(result.timeseries) == {end} - 2019
try:  # this process's own peak (ru_maxrss would include the parent's, inherited across exec)
    with open("/proc/self/status") as fh:
        hwm = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:"))
except (OSError, StopIteration):
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"build_s": t1 - t0, "wall_s": t2 - t0, "peak_kib": hwm}}))
"""


def full_run(n: int, end_year: int) -> dict[str, float]:
    """Wall time and peak RSS of a 2020–``end_year`` run in a fresh Python process."""
    code = _CHILD.format(n=n, end=end_year)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=3600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{n}-farm run failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": out["wall_s"], "build_s": out["build_s"], "rss_mb": out["peak_kib"] / 1024}


def year_vs_floor_one_blas_thread(quick: bool) -> dict[str, float]:
    """:func:`year_vs_floor` in a child process with BLAS/OpenMP limited to one thread."""
    env = {**os.environ, **dict.fromkeys(_THREAD_VARS, "1")}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--year-vs-floor"]
    proc = subprocess.run(
        [*cmd, *(["--quick"] if quick else [])],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"one-thread year-vs-floor run failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {f"{k}_blas1": v for k, v in out.items()}


def run(quick: bool = False) -> dict[str, float]:
    """Run the benchmark; see the module docstring for the returned keys."""
    cfg = QUICK if quick else FULL
    out = year_vs_floor(cfg.year_farms, cfg.year_steps, cfg.floor_per_year)
    naive_s, naive_n = naive_year(cfg.year_farms, cfg.naive_steps)
    out["naive_year_s"] = naive_s
    out["naive_scaled_from_farms"] = float(naive_n)
    out["model_ratio_vs_naive_reference"] = naive_s / out["model_year_s_10k"]
    if not quick:
        out.update(year_vs_floor_one_blas_thread(quick))
    out.update(agreement(cfg.agree_farms, cfg.agree_end, cfg.agree_seeds))
    for label, farms in cfg.runs:
        r = full_run(farms, cfg.run_end)
        out[f"wall_s_{label}_farms"] = r["wall_s"]
        out[f"build_s_{label}_farms"] = r["build_s"]
        out[f"peak_rss_mb_{label}_farms"] = r["rss_mb"]
    return out


if __name__ == "__main__":
    if "--year-vs-floor" in sys.argv:  # the one-thread BLAS diagnostic's child
        cfg = QUICK if "--quick" in sys.argv else FULL
        print(json.dumps(year_vs_floor(cfg.year_farms, cfg.year_steps, cfg.floor_per_year)))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
