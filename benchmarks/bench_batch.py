"""Batch benchmarks: parallel efficiency on 2 workers, and memory flatness in the number of runs.

Figures
-------
``batch_parallel_efficiency_2_workers``
    ``t(1 worker) / (2 · t(2 workers))`` for the same batch of ≥ 200 short CPU-bound runs
    (the toy model burning ``WORK_MS`` of CPU per run, so the work is identical whatever the
    worker count). Times are the batch's own wall time (``run_batch``: pool start, all runs,
    every part file written), medians of ``REPEATS``. 1.0 is perfect scaling; target ≥ 0.85.
``batch_rss_growth_10x_runs``
    Peak resident memory of the whole ``abm batch`` process tree (parent + workers, summed at
    each sample, sampled every 20 ms with psutil) for 10× more runs ÷ that for 1×. 1.0 is
    perfectly flat; target ≤ 1.3.

Raw figures (seconds, MiB) come along for context. ``python benchmarks/bench_batch.py
[--quick]`` prints the JSON; ``benchmarks/run.py`` collects it with the other suites.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: CPU milliseconds per run in the efficiency benchmark.
WORK_MS = 100.0
REPEATS = 3

STUDY = """
[experiment]
name = "bench"
replicates = {replicates}
seed = 1
model = "abm.batch.toy:model"

[base]
n_farms = 40
end_year = 2030
"toy.work_ms" = {work_ms}

[[scenarios]]
name = "a"

[[scenarios]]
name = "b"
set = {{ "policy.subsidy_eur_per_ha" = 80 }}
"""


def _study(folder: Path, runs: int, work_ms: float) -> Path:
    path = folder / f"study-{runs}-{work_ms:g}.toml"
    path.write_text(STUDY.format(replicates=runs // 2, work_ms=work_ms))
    return path


def _batch_wall(study: Path, workers: int, out: Path) -> float:
    from abm.batch.runner import run_batch

    summary = run_batch(study, workers=workers, out=out, quiet=True)
    if summary.done != summary.planned:
        raise RuntimeError(f"benchmark batch incomplete: {summary}")
    return summary.wall_s


def parallel_efficiency(folder: Path, runs: int, work_ms: float, repeats: int) -> dict[str, float]:
    """Median wall times with 1 and 2 workers and the efficiency figure."""
    study = _study(folder, runs, work_ms)
    t1, t2 = [], []
    for i in range(repeats):
        # alternate so that drifting background load hits both alike
        t1.append(_batch_wall(study, 1, folder / f"w1-{i}"))
        t2.append(_batch_wall(study, 2, folder / f"w2-{i}"))
    m1, m2 = statistics.median(t1), statistics.median(t2)
    return {
        "batch_parallel_efficiency_2_workers": m1 / (2.0 * m2),
        "batch_efficiency_runs": float(runs),
        "batch_wall_s_1_worker": m1,
        "batch_wall_s_2_workers": m2,
    }


def _peak_tree_rss(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; return (peak summed RSS of it and its descendants in MiB, wall seconds)."""
    import psutil

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, total)
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark batch failed: {' '.join(cmd)}")
    return peak / 2**20, wall


def rss_growth(folder: Path, runs: int) -> dict[str, float]:
    """Peak process-tree RSS of ``abm batch`` for ``runs`` and ``10 * runs`` runs."""
    out: dict[str, float] = {"batch_rss_runs_1x": float(runs)}
    for label, n in (("1x", runs), ("10x", 10 * runs)):
        study = _study(folder, n, 0.0)
        cmd = [
            sys.executable, "-m", "abm.cli", "batch", str(study), "--workers", "2",
            "--out", str(folder / f"rss-{n}"),
        ]  # fmt: skip
        peak, wall = _peak_tree_rss(cmd, folder)
        out[f"batch_peak_rss_mib_{label}"] = peak
        out[f"batch_wall_s_{label}_runs"] = wall
    out["batch_rss_growth_10x_runs"] = out["batch_peak_rss_mib_10x"] / out["batch_peak_rss_mib_1x"]
    return out


def run(quick: bool = False) -> dict[str, float]:
    """All batch figures (``quick``: smaller sizes, one repeat — a smoke test)."""
    with tempfile.TemporaryDirectory(prefix="abm-bench-batch-") as tmp:
        folder = Path(tmp)
        figures = parallel_efficiency(
            folder,
            runs=40 if quick else 200,
            work_ms=50.0 if quick else WORK_MS,
            repeats=1 if quick else REPEATS,
        )
        figures.update(rss_growth(folder, runs=30 if quick else 100))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args(argv)
    print(json.dumps(run(quick=args.quick), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
