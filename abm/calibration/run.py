"""``abm calibrate FILE``: ABC-SMC (pyabc) on the project's executors, then the outputs.

The flow: :func:`abm.calibration.study.prepare` (everything checked, nothing written) → the
results folder (new, or ``--resume`` with an unchanged spec) → :class:`pyabc.ABCSMC` with the
history database ``DIR/history.db`` (a resumed calibration continues from its last complete
generation) → posterior-predictive runs → ``posterior.parquet``, ``fit.parquet``,
``summary.parquet``, ``manifest.json`` and ``DIR/report/`` (figures, ``report.md``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from abm.calibration.abc import INITIAL_EPSILON, Budget, ExecutorSampler, make_prior
from abm.calibration.study import CalibrationPlan, prepare
from abm.errors import UserInputError

#: Tag of the posterior-predictive draws ("PRED").
PRED_TAG = 0x50524544
STATE = "calibration_state.json"


def run_calibration(
    study: Path | str,
    *,
    targets: list[str] | None = None,
    sets: list[str] | None = None,
    max_simulations: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: Path | str | None = None,
    resume: bool = False,
    allow_plugin: bool = False,
    quiet: bool = False,
) -> Path:
    """Calibrate a study; returns the results folder.

    Raises
    ------
    UserInputError
        For anything wrong in the study, the targets or the flags; nothing is written then.
    """
    from abm.batch.executors import make_executor

    if workers is not None and scheduler is not None:
        raise UserInputError("use either --workers or --scheduler, not both", source="command line")
    cp = prepare(
        study,
        targets=targets,
        sets=sets,
        max_simulations=max_simulations,
        allow_plugin=allow_plugin,
    )
    out_dir = Path(out) if out is not None else Path("results") / cp.name
    previous = _check_out(out_dir, cp, resume)
    executor = make_executor(
        workers=workers, scheduler=scheduler, model=cp.plan.model, sys_path=cp.plan.sys_path
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    from abm.calibration.outputs import manifest, write_outputs

    t0 = time.perf_counter()
    man = manifest(cp, previous, executor.description)
    _write_json(out_dir / "manifest.json", man)
    budget = Budget(total=cp.config.abc_budget, used=_used(out_dir) if previous else 0)
    from abm.batch.runner import _sigterm_as_interrupt

    try:
        with _sigterm_as_interrupt(), executor:
            history = _abc(cp, out_dir, executor, budget, resume=previous is not None, quiet=quiet)
            predictive = _predictive(cp, history, executor, quiet)
    except KeyboardInterrupt:
        man.update(status="interrupted", finished=None)
        _write_json(out_dir / "manifest.json", man)
        print(
            f"interrupted; continue with: abm calibrate {cp.study} --out {out_dir} --resume",
            file=sys.stderr,
        )
        raise
    posterior = write_outputs(out_dir, cp, history, predictive)
    wall = time.perf_counter() - t0 + float((previous or {}).get("wall_s", 0))
    man.update(_finished(cp, history, budget, len(predictive), wall))
    _write_json(out_dir / "manifest.json", man)
    from abm.calibration.report import build_calibration_report, print_summary

    build_calibration_report(out_dir)
    if not quiet:
        print_summary(out_dir, posterior, man)
    return out_dir


def _finished(
    cp: CalibrationPlan, history: Any, budget: Budget, n_pred: int, wall_s: float
) -> dict[str, Any]:
    """The manifest's entries of a finished calibration."""
    return {
        "status": "finished",
        "finished": _now(),
        "simulations": budget.used + n_pred + cp.config.pilot,
        "abc_simulations": budget.used,
        "predictive_runs": n_pred,
        "pilot_runs": cp.config.pilot,
        "generations": int(history.max_t) + 1,
        "epsilons": _epsilons(history),
        "wall_s": round(wall_s, 1),
    }


def _epsilons(history: Any) -> list[float]:
    pops = history.get_all_populations()
    return [float(e) for t, e in zip(pops["t"], pops["epsilon"], strict=True) if t >= 0]


def _now() -> str:
    from abm.batch.store import now

    return now()


def _write_json(path: Path, obj: Any) -> None:
    from abm.batch.store import write_json

    write_json(path, obj)


def _used(out_dir: Path) -> int:
    try:
        return int(json.loads((out_dir / STATE).read_text())["simulations"])
    except (OSError, ValueError, KeyError):
        return 0


def _check_out(out_dir: Path, cp: CalibrationPlan, resume: bool) -> dict[str, Any] | None:
    """A new folder, or (``--resume``) a calibration folder of the same spec."""
    from abm.batch.runner import first_difference
    from abm.batch.store import ResultStore, check_writable, is_empty_dir, read_manifest

    if not resume or is_empty_dir(out_dir):
        ResultStore.check_new(out_dir)
        return None
    man = read_manifest(out_dir)
    if not man or man.get("kind") != "calibration":
        raise UserInputError(
            f"--resume: {out_dir} is not a calibration results folder", source="command line"
        )
    spec = json.loads(json.dumps(cp.spec(), default=str))
    diff = first_difference(man.get("spec"), spec)
    if diff is not None:
        raise UserInputError(
            f"--resume: the calibration in {out_dir} was made with another spec ({diff[0] or 'top'}"
            f" differs); use the same study, targets and --set, or another --out",
            source="command line",
        )
    check_writable(out_dir, source="command line")
    return man


def _abc(
    cp: CalibrationPlan, out_dir: Path, executor: Any, budget: Budget, *, resume: bool, quiet: bool
) -> Any:
    """Run (or continue) pyabc's ABC-SMC; returns its History."""
    import pyabc

    from abm.batch.runner import _NoProgress, _Progress

    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)
    db = f"sqlite:///{(out_dir / 'history.db').resolve()}"
    sampler = ExecutorSampler(executor, cp.seed, budget)
    abc = pyabc.ABCSMC(
        models=cp.simulator,
        parameter_priors=make_prior(cp.priors),
        distance_function=cp.distance(),
        population_size=cp.config.population,
        sampler=sampler,
        eps=pyabc.epsilon.QuantileEpsilon(
            initial_epsilon=INITIAL_EPSILON, alpha=cp.config.quantile
        ),
    )
    if resume and (out_dir / "history.db").is_file():
        history = abc.load(db, 1)
        done = int(history.max_t) + 1
        if done > 0:  # the next threshold from the last stored generation, as if never killed
            abc.eps = pyabc.epsilon.QuantileEpsilon(
                initial_epsilon="from_sample", alpha=cp.config.quantile
            )
    else:
        (out_dir / "history.db").unlink(missing_ok=True)
        history = abc.new(db, cp.observed())
        done = 0
    left = cp.config.generations - done
    state = out_dir / STATE

    def on_run() -> None:
        bar.advance(True)
        if budget.used % 50 == 0 or budget.left == 0:
            _write_json(state, {"simulations": budget.used})

    label = f"{cp.name}: ABC-SMC, {cp.config.population} particles"
    bar: Any = _NoProgress() if quiet else _Progress(budget.left, label)
    budget.on_run = on_run
    with bar:
        if left > 0 and budget.left > 0:
            history = abc.run(
                minimum_epsilon=cp.config.min_epsilon,
                max_nr_populations=left,
                max_total_nr_simulations=cp.config.abc_budget,
            )
    _write_json(state, {"simulations": budget.used})
    if history.max_t < 0:
        raise UserInputError(
            f"max_simulations = {cp.config.max_simulations} did not complete the first "
            "generation (failed runs are rejected); raise it",
            source=str(cp.study),
        )
    return history


def posterior_frame(history: Any) -> Any:
    """The last complete generation: one row per particle, parameters, weight, distance."""
    import pandas as pd

    t = int(history.max_t)
    pop = history.get_population(t)
    rows = []
    for i, p in enumerate(pop.particles):
        rows.append(
            {
                "generation": t,
                "particle": i,
                **dict(p.parameter),
                "weight": p.weight,
                "distance": p.distance,
            }
        )
    frame = pd.DataFrame(rows)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    return frame


def draw_rows(frame: Any, params: list[str], n: int, seed: int) -> list[dict[str, float]]:
    """``n`` weighted draws (with replacement) of posterior rows, seeded."""
    rng = np.random.default_rng(seed)
    w = frame["weight"].to_numpy(dtype=float)
    idx = rng.choice(len(frame), size=n, replace=True, p=w / w.sum())
    return [{p: float(frame[p].iloc[i]) for p in params} for i in idx]


def _predictive(cp: CalibrationPlan, history: Any, executor: Any, quiet: bool) -> list[Any]:
    """``predictive`` posterior draws run over every target year; their series."""
    from dataclasses import replace

    from abm.batch.runner import _NoProgress, _Progress

    n = cp.config.predictive
    if n == 0:
        return []
    frame = posterior_frame(history)
    seq = np.random.SeedSequence([PRED_TAG, cp.seed])
    draw_seed, run_seed = seq.spawn(2)
    draws = draw_rows(frame, list(cp.priors), n, int(draw_seed.generate_state(1)[0]))
    seeds = [int(s) for s in run_seed.generate_state(n, dtype=np.uint64) >> np.uint64(2)]
    sim = replace(cp.simulator, outputs=tuple((t.name, t.output, t.years) for t in cp.targets))
    jobs = [(sim, d, s, i) for i, (d, s) in enumerate(zip(draws, seeds, strict=True))]
    out: list[Any] = [None] * n
    bar: Any = _NoProgress() if quiet else _Progress(n, f"{cp.name}: posterior predictive")
    with bar:
        for _, result in executor.imap_unordered(predict_one, jobs):
            bar.advance(not isinstance(result, BaseException))
            if not isinstance(result, BaseException):
                i, params, series = result
                out[i] = (params, series)
    return [r for r in out if r is not None]


def predict_one(job: tuple[Any, dict[str, float], int, int]) -> tuple[int, dict, dict]:
    """Worker side of a posterior-predictive run."""
    sim, params, seed, i = job
    return i, params, sim.series(params, seed)
