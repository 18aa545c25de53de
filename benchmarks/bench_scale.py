"""Whole-process benchmarks (issue 13): a France-sized run, the naive Mesa reference, batches.

Every figure is measured on whole processes started the way a user starts them, with the thread
counts fixed (``OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS`` = :data:`THREADS`, reported as
``threads_blas`` and ``threads_numba``). A figure that is a median comes with its spread
``<key>_spread`` = (max − min) / median over the repeats and ``<key>_spread_over_15pct`` (1.0
when the spread exceeds 15 %: the figure is then not stable enough to guard a goal).

``wall_s_390k_farms``, ``peak_rss_mb_390k_farms``
    ``abm run --farms 390000 --out DIR`` (2020–2050, baseline, default seed): wall time of the
    whole process (interpreter start, imports, world, 31 years, tables written) and its peak
    resident memory (``VmHWM``, MiB). Median of ``ABM_BENCH_390K_REPEATS`` (default 1: a run
    takes minutes; the spread is reported from 2 up). Goals < 60 s and < 3072 MiB on 2 cores.
``whole_run_ratio_vs_naive_mesa``
    Wall time of ``python benchmarks/naive_run.py --farms 50000 --out DIR`` (the same model
    written per agent: :mod:`naive_model`) ÷ that of ``abm run --farms 50000 --out DIR``, both
    whole processes, alternated, the median of :data:`REPEATS` ratios of consecutive pairs.
    Goal ≥ 10. ``whole_run_s_abm`` and ``whole_run_s_naive`` are the medians; ``whole_run_farms``
    the farm count (``ABM_BENCH_WHOLE_FARMS`` overrides the 50,000).
``batch_runs_per_s_2_workers``
    Runs per second of ``abm batch --workers 2`` on the main job's landscape (1,000 farms,
    2020–2050, the baseline and subsidy scenarios × :data:`BATCH_REPLICATES`), the batch's own
    wall time including worker start-up; median of :data:`REPEATS`.

``quick=True`` shrinks every size (the keys keep their names) for a smoke test.
``python benchmarks/bench_scale.py [--quick]`` prints the JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
THREADS = 1
"""Threads per process for BLAS, OpenMP and numba (the model's kernels are serial anyway)."""
REPEATS = 5
BATCH_REPLICATES = 20
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

# Run a command-line entry point and write this process's own peak memory (VmHWM: ru_maxrss
# would carry the parent's over exec) to the file named by the first argument.
_WRAP = """
import runpy, sys
stat, sys.argv = sys.argv[1], sys.argv[2:]
try:
    if sys.argv[0] == "abm":
        from abm.cli import main
        main()
    else:
        runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
finally:
    with open("/proc/self/status") as fh:
        hwm = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:"))
    with open(stat, "w") as fh:
        fh.write(str(hwm))
"""


def _env() -> dict[str, str]:
    env = {**os.environ, **dict.fromkeys(_THREAD_VARS, str(THREADS))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def whole_process(argv: list[str]) -> tuple[float, float]:
    """``(wall s, peak RSS MiB)`` of ``argv`` (``abm …`` or a script path …) as a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        stat = Path(tmp) / "hwm"
        argv = [a.replace("{tmp}", tmp) for a in argv]
        cmd = [sys.executable, "-c", _WRAP, str(stat), *argv]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} failed:\n{proc.stderr[-4000:]}")
        return wall, int(stat.read_text()) / 1024


def _summary(key: str, values: list[float]) -> dict[str, float]:
    """The median of ``values`` under ``key``, with its spread and the over-15 % flag."""
    med = statistics.median(values)
    out = {key: med, f"{key}_repeats": float(len(values))}
    if len(values) > 1:
        spread = (max(values) - min(values)) / med if med else 0.0
        out[f"{key}_spread"] = spread
        out[f"{key}_spread_over_15pct"] = float(spread > 0.15)
    return out


def france(farms: int, end: int, repeats: int) -> dict[str, float]:
    """Wall and peak memory of ``abm run --farms <farms>``."""
    walls, rss = [], []
    for _ in range(repeats):
        w, r = whole_process(
            ["abm", "run", "--farms", str(farms), "--end", str(end), "--out", "{tmp}/out"]
        )
        walls.append(w)
        rss.append(r)
    return {**_summary("wall_s_390k_farms", walls), **_summary("peak_rss_mb_390k_farms", rss)}


def versus_naive(farms: int, end: int, repeats: int) -> dict[str, float]:
    """Whole ``abm run`` against the whole naive-model run, alternated, ``repeats`` pairs."""
    fast, naive, ratios = [], [], []
    for _ in range(repeats):
        n, _ = whole_process(
            [str(HERE / "naive_run.py"), "--farms", str(farms), "--end", str(end), "--out",
             "{tmp}/out"]
        )  # fmt: skip
        f, _ = whole_process(
            ["abm", "run", "--farms", str(farms), "--end", str(end), "--out", "{tmp}/out"]
        )
        fast.append(f)
        naive.append(n)
        ratios.append(n / f)
    return {
        **_summary("whole_run_ratio_vs_naive_mesa", ratios),
        **_summary("whole_run_s_abm", fast),
        **_summary("whole_run_s_naive", naive),
    }


_STUDY = """
[experiment]
name = "bench-scale"
replicates = {replicates}
seed = 4000

[base]
n_farms = {farms}
start_year = 2020
end_year = {end}

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy"
"""


def batch(farms: int, end: int, replicates: int, repeats: int) -> dict[str, float]:
    """Runs per second of ``abm batch --workers 2`` (whole process, pool start included)."""
    rates = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            study = Path(tmp) / "study.toml"
            study.write_text(_STUDY.format(replicates=replicates, farms=farms, end=end))
            wall, _ = whole_process(
                ["abm", "batch", str(study), "--workers", "2", "--out", f"{tmp}/res"]
            )
            rates.append(2 * replicates / wall)
    return _summary("batch_runs_per_s_2_workers", rates)


def run(quick: bool = False) -> dict[str, float]:
    """Run the benchmark; see the module docstring for the returned keys.

    Environment overrides (for a busy machine): ``ABM_BENCH_390K_FARMS``,
    ``ABM_BENCH_390K_REPEATS``, ``ABM_BENCH_WHOLE_FARMS`` (the naive comparison's farm count,
    reported as ``whole_run_farms``), ``ABM_BENCH_REPEATS``, ``ABM_BENCH_BATCH_REPLICATES``.
    """
    env = os.environ.get
    big = int(env("ABM_BENCH_390K_FARMS", 20_000 if quick else 390_000))
    whole = int(env("ABM_BENCH_WHOLE_FARMS", 1_000 if quick else 50_000))
    repeats = int(env("ABM_BENCH_REPEATS", 2 if quick else REPEATS))
    replicates = int(env("ABM_BENCH_BATCH_REPLICATES", 4 if quick else BATCH_REPLICATES))
    out: dict[str, float] = {"threads_blas": float(THREADS), "threads_numba": float(THREADS)}
    end = 2025 if quick else 2050
    out["whole_run_farms"] = float(whole)
    out.update(versus_naive(whole, end, repeats))
    out.update(batch(200 if quick else 1_000, end, replicates, repeats))
    out["farms_390k_run"] = float(big)
    out.update(france(big, end, int(env("ABM_BENCH_390K_REPEATS", 1))))
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
