"""World-reuse benchmarks: batch throughput on 2 workers with and without :mod:`abm.world`.

Figures
-------
``sensitivity_runs_per_s_2_workers``
    Runs per second of the default Morris study (``experiments/sensitivity.toml``: 17
    parameters, 1,000 farms, 2020–2050, 2 replicates) with world reuse, on 2 workers. For time,
    the batch runs the first ``TRAJECTORIES`` of its 16 trajectories (18 points each, in the
    study's order and with its seeds) — the same runs the full study starts with.
``sensitivity_runs_per_s_2_workers_no_reuse``
    The same batch with ``ABM_WORLD_REUSE=0``.
``sensitivity_reuse_speedup``
    The ratio of the two (medians; > 1: reuse is faster).
``batch_runs_per_s_2_workers`` / ``..._no_reuse`` / ``batch_reuse_speedup``
    The same for the main job's shape (``experiments/incentive_schemes.toml``: 9 scenarios on
    the same replicate seeds, 1,000 farms, 2020–2050), with ``REPLICATES`` of its 30 replicates.

Each figure is the median of ``REPEATS`` batches; with and without reuse alternate (which goes
first alternates too) so drifting background load hits both alike. ``*_spread`` is
(max − min) / median of the runs/s over the repeats; a spread over 0.15 means the machine was
busy and the ratio is uncertain. Times are ``run_batch``'s own wall time (pool start, every
run, every part file written).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPEATS = 5
TRAJECTORIES = 1
REPLICATES = 4


def morris_subset(folder: Path, trajectories: int) -> Path:
    """The default Morris study cut to its first ``trajectories`` (a ``csv`` design)."""
    import tomllib

    from abm.batch.spec import load_study

    source = ROOT / "experiments" / "sensitivity.toml"
    plan = load_study(source, verify_model=False)
    n_params = len(plan.design.columns)
    points = plan.design.iloc[: trajectories * (n_params + 1)]
    points.to_csv(folder / "morris_points.csv", index=False)
    doc = tomllib.loads(source.read_text())
    exp, base = doc["experiment"], doc["base"]
    text = f"""
[experiment]
name = "bench-morris"
replicates = {exp["replicates"]}
seed = {exp["seed"]}
save_ledger = false

[base]
{_toml_table(base)}

[design]
method = "csv"
file = "morris_points.csv"
"""
    path = folder / "morris.toml"
    path.write_text(text)
    return path


def main_job_subset(folder: Path, replicates: int) -> Path:
    """``experiments/incentive_schemes.toml`` with ``replicates`` replicates."""
    text = (ROOT / "experiments" / "incentive_schemes.toml").read_text()
    text = text.replace("replicates = 30", f"replicates = {replicates}", 1)
    if f"replicates = {replicates}" not in text:
        raise RuntimeError("incentive_schemes.toml: 'replicates = 30' not found")
    path = folder / "schemes.toml"
    path.write_text(text)
    return path


def _toml_table(table: dict[str, object]) -> str:
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())


def _runs_per_s(study: Path, out: Path, reuse: bool) -> float:
    from abm.batch.runner import run_batch

    os.environ["ABM_WORLD_REUSE"] = "1" if reuse else "0"  # the spawned workers inherit it
    summary = run_batch(study, workers=2, out=out, quiet=True)
    if summary.done != summary.planned:
        raise RuntimeError(f"benchmark batch incomplete: {summary}")
    return summary.ran / summary.wall_s


def compare(name: str, make: Callable[[Path], Path], folder: Path, repeats: int) -> dict:
    """Median runs/s with and without reuse, their ratio and spreads."""
    study = make(folder)
    rates: dict[bool, list[float]] = {True: [], False: []}
    before = os.environ.get("ABM_WORLD_REUSE")
    try:
        for i in range(repeats):
            for reuse in (True, False) if i % 2 == 0 else (False, True):
                out = folder / f"{name}-{reuse}-{i}"
                rates[reuse].append(_runs_per_s(study, out, reuse))
    finally:
        if before is None:
            os.environ.pop("ABM_WORLD_REUSE", None)
        else:
            os.environ["ABM_WORLD_REUSE"] = before
    on, off = statistics.median(rates[True]), statistics.median(rates[False])

    def spread(xs: list[float]) -> float:
        return (max(xs) - min(xs)) / statistics.median(xs)

    return {
        f"{name}_runs_per_s_2_workers": on,
        f"{name}_runs_per_s_2_workers_no_reuse": off,
        f"{name}_reuse_speedup": on / off,
        f"{name}_runs_per_s_spread": spread(rates[True]),
        f"{name}_runs_per_s_no_reuse_spread": spread(rates[False]),
        f"{name}_reuse_repeats": float(repeats),
    }


def run(quick: bool = False, parts: tuple[str, ...] = ("sensitivity", "batch")) -> dict[str, float]:
    """All world-reuse figures (``quick``: one trajectory, two replicates, one repeat)."""
    repeats = 1 if quick else REPEATS
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="abm-bench-reuse-") as tmp:
        folder = Path(tmp)
        if "sensitivity" in parts:
            trajectories = 1 if quick else TRAJECTORIES
            make = lambda f: morris_subset(f, trajectories)  # noqa: E731
            figures.update(compare("sensitivity", make, folder, repeats))
            figures["sensitivity_runs"] = float(2 * trajectories * 18)
        if "batch" in parts:
            replicates = 2 if quick else REPLICATES
            make = lambda f: main_job_subset(f, replicates)  # noqa: E731
            figures.update(compare("batch", make, folder, repeats))
            figures["batch_runs"] = float(9 * replicates)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--part", choices=("sensitivity", "batch"), help="only this comparison")
    args = parser.parse_args(argv)
    parts = (args.part,) if args.part else ("sensitivity", "batch")
    print(json.dumps(run(quick=args.quick, parts=parts), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
