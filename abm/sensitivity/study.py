"""``abm sensitivity FILE``: validate a study, run its design as a batch, analyse it with SALib.

The flow: read the study file → refuse a plug-in model without ``--allow-plugin`` (before
anything is imported) → round a Sobol' ``n`` to a power of two (with a warning) →
:func:`abm.batch.spec.load_study` → check ``[sensitivity]`` (methods against the design,
outputs against what the model produces) → ``--dry-run``: a short pilot and the estimate, or
→ :func:`abm.batch.runner.run_batch` (resumable results folder) → :func:`analyse_study`
writes ``sensitivity.parquet``, ``convergence.parquet``, ``sensitivity.json`` and the figures
and ``report.md`` in ``DIR/sensitivity/``. Every check happens before anything is written.

``[sensitivity]`` keys
----------------------
``method`` or ``methods`` (``sobol``, ``morris``, ``fast``/``efast``, ``rbd_fast``, ``pawn``,
``delta``; default: the design's method, ``delta`` for other designs), ``outputs`` (KPIs or
timeseries columns; a timeseries column is analysed per year), ``years`` (subset of years for
timeseries outputs), ``num_resamples`` (bootstrap, default 100), ``conf_level`` (0.95),
``convergence_tolerance`` (0.05), ``model`` (as ``experiment.model``).
"""

from __future__ import annotations

import copy
import difflib
import math
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError
from abm.sensitivity.analysis import GIVEN_DATA, METHODS

ALIASES = {"efast": "fast", "rbd-fast": "rbd_fast", "rbdfast": "rbd_fast"}
KEYS = {
    "method",
    "methods",
    "outputs",
    "model",
    "years",
    "num_resamples",
    "conf_level",
    "convergence_tolerance",
}
PILOT_RUNS = 3


@dataclass(frozen=True)
class SensitivitySpec:
    """The validated ``[sensitivity]`` table (see the module docstring)."""

    methods: tuple[str, ...]
    outputs: tuple[str, ...]
    years: tuple[int, ...] | None = None
    num_resamples: int = 100
    conf_level: float = 0.95
    tolerance: float = 0.05


def model_of(raw: Mapping[str, Any]) -> str:
    """The model a raw study names (``experiment.model`` or ``sensitivity.model``)."""
    exp = raw.get("experiment") if isinstance(raw.get("experiment"), Mapping) else {}
    sens = raw.get("sensitivity") if isinstance(raw.get("sensitivity"), Mapping) else {}
    model = (exp or {}).get("model") or (sens or {}).get("model") or "abm"
    return str(model)


def check_consent(raw: Mapping[str, Any], allow_plugin: bool, source: str) -> None:
    """A plug-in model is code: run it only with ``--allow-plugin`` (nothing imported first)."""
    from abm.batch.plugins import TRUSTED_MODELS

    model = model_of(raw)
    if model not in TRUSTED_MODELS and not allow_plugin:
        raise UserInputError(
            f"experiment.model: {model!r} is a plug-in (code named by the study file); it runs "
            "only with your consent: add --allow-plugin if you trust it",
            source=source,
        )


def round_sobol_n(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """The study with a Sobol' design's ``n`` rounded to the nearest power of two (warning)."""
    design = raw.get("design")
    if not isinstance(design, Mapping) or design.get("method") != "sobol":
        return raw
    n = design.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or not n & (n - 1):
        return raw
    rounded = 2 ** round(math.log2(n))
    warnings.warn(
        f"{source}: design.n = {n} rounded to {rounded}: Sobol' sampling needs a power of 2",
        UserWarning,
        stacklevel=2,
    )
    out = copy.deepcopy(raw)
    out["design"]["n"] = rounded
    return out


def parse_sensitivity(
    raw: Mapping[str, Any] | None, design_method: str | None, source: str
) -> SensitivitySpec:
    """Validate ``[sensitivity]``: keys, methods against the design, numbers."""
    if raw is None:
        raise UserInputError("missing [sensitivity] table (method and outputs)", source=source)
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise UserInputError(
            f"unknown key {unknown[0]!r} in sensitivity; allowed: {', '.join(sorted(KEYS))}",
            source=source,
        )
    given = raw.get("methods", raw.get("method"))
    if given is None:
        given = design_method if design_method in ("sobol", "morris", "fast") else "delta"
    methods = tuple(
        ALIASES.get(str(m), str(m)) for m in ([given] if isinstance(given, str) else given)
    )
    for m in methods:
        check_method(m, design_method, source)
    outputs = raw.get("outputs")
    if isinstance(outputs, str):
        outputs = [outputs]
    if not outputs or not all(isinstance(o, str) for o in outputs):
        raise UserInputError(
            "sensitivity.outputs: give a list of KPI or timeseries column names", source=source
        )
    years = raw.get("years")
    num = raw.get("num_resamples", 100)
    conf = raw.get("conf_level", 0.95)
    tol = raw.get("convergence_tolerance", 0.05)
    if not isinstance(num, int) or num < 10:
        raise UserInputError("sensitivity.num_resamples: an integer ≥ 10", source=source)
    if not isinstance(conf, float) or not 0.5 < conf < 1:
        raise UserInputError("sensitivity.conf_level: a number in (0.5, 1)", source=source)
    if not isinstance(tol, int | float) or not 0 < tol < 1:
        raise UserInputError("sensitivity.convergence_tolerance: in (0, 1)", source=source)
    return SensitivitySpec(
        methods=tuple(dict.fromkeys(methods)),
        outputs=tuple(outputs),
        years=tuple(int(y) for y in years) if years else None,
        num_resamples=num,
        conf_level=conf,
        tolerance=float(tol),
    )


def check_method(method: str, design_method: str | None, source: str) -> None:
    """An unknown method, or one whose design the study does not have, is a user error."""
    if method not in METHODS:
        raise UserInputError(
            f"sensitivity.method: unknown method {method!r}; allowed: "
            f"{', '.join(METHODS)} (efast = fast)",
            source=source,
        )
    needs = METHODS[method]
    if needs is not None and design_method not in needs:
        raise UserInputError(
            f"sensitivity.method: {method!r} needs [design] method = {needs[0]!r}, the study has "
            f"{design_method!r}; {', '.join(GIVEN_DATA)} work on any design",
            source=source,
        )


def abm_outputs() -> tuple[set[str], set[str]]:
    """KPI names and timeseries columns of the ``abm`` model (DESIGN.md §6)."""
    from abm import reporters

    cols = [c for c in reporters.COLUMNS if c != "year"]
    dummy = pd.DataFrame({c: [1.0, 2.0] for c in cols})
    dummy["year"] = [2030, 2050]
    return set(reporters.kpis(dummy)), set(cols)


def outcome_outputs(outcome: Any) -> tuple[set[str], set[str]]:
    """KPI and timeseries names a pilot run produced (a plug-in model's outputs)."""
    ident = {"run_id", "scenario", "design_point", "replicate", "seed"}
    kpis = set(outcome.runs.column_names) - ident if outcome.runs is not None else set()
    ts = outcome.timeseries
    series = set(ts.column_names) - {"run_id", "year"} if ts is not None else set()
    return kpis, series


def check_outputs(
    outputs: tuple[str, ...], known: tuple[set[str], set[str]], model: str, source: str
) -> None:
    """Every output must be a KPI or a timeseries column the model produces."""
    kpis, series = known
    for out in outputs:
        if out not in kpis and out not in series:
            close = difflib.get_close_matches(out, sorted(kpis | series), n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise UserInputError(
                f"sensitivity.outputs: model {model!r} does not produce {out!r}{hint}",
                source=source,
            )


def pilot(plan: Any, k: int) -> list[Any]:
    """Run ``k`` tasks spread over the plan in this process (nothing is written).

    The model is imported before the clock starts; each outcome carries its wall time.
    """
    from abm.batch.worker import resolve_model, run_task

    resolve_model(plan.model)
    tasks = list(plan.tasks())
    picks = sorted({round(i * (len(tasks) - 1) / max(k - 1, 1)) for i in range(k)})
    return [run_task(tasks[i]) for i in picks]


def prepare(study: Path, allow_plugin: bool) -> tuple[Any, SensitivitySpec, list[Any]]:
    """Everything checked, nothing written: the plan, the spec and any pilot outcomes."""
    from abm.batch.spec import load_study, read_toml

    source = str(study)
    raw = read_toml(study)
    check_consent(raw, allow_plugin, source)
    if "design" not in raw:
        raise UserInputError("missing [design] table (the uncertain parameters)", source=source)
    if "sensitivity" not in raw:
        raise UserInputError("missing [sensitivity] table (method and outputs)", source=source)
    raw = round_sobol_n(raw, source)
    plan = load_study(study, data=raw, allow_plugin=allow_plugin)
    design = plan.spec.design
    sens = parse_sensitivity(plan.spec.sensitivity, design.method if design else None, source)
    outcomes: list[Any] = []
    if plan.model == "abm":
        known = abm_outputs()
    else:
        outcomes = pilot(plan, 1)
        if not outcomes[0].ok:
            raise UserInputError(
                f"the pilot run of model {plan.model!r} failed: {outcomes[0].error}", source=source
            )
        known = outcome_outputs(outcomes[0])
    check_outputs(sens.outputs, known, plan.model, source)
    return plan, sens, outcomes


def dry_run(plan: Any, workers: int | None, k: int = PILOT_RUNS) -> dict[str, float]:
    """Print the number of runs and an estimated time from a pilot of ``k`` runs."""
    from abm.batch.executors import default_workers

    t0 = time.perf_counter()
    outcomes = pilot(plan, min(k, plan.n_runs))
    wall = [o.wall_s for o in outcomes]
    per_run = float(np.mean(wall))
    slots = workers if workers else default_workers()
    estimate = plan.n_runs * per_run / max(slots, 1)
    print(
        f"{plan.name}: {plan.n_runs} runs = {len(plan.scenarios)} scenario(s) × "
        f"{len(plan.design)} design points × {len(plan.seeds)} replicate(s)\n"
        f"pilot: {len(outcomes)} runs, {per_run:.2f} s/run (took {time.perf_counter() - t0:.1f} s)"
        f"\nestimated time on {slots} worker(s): {_duration(estimate)}"
    )
    return {"runs": plan.n_runs, "s_per_run": per_run, "estimate_s": estimate}


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


def run_sensitivity(
    study: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out: Path | str | None = None,
    resume: bool = False,
    dry_run_only: bool = False,
    allow_plugin: bool = False,
    quiet: bool = False,
    posterior: Path | str | None = None,
) -> Path | None:
    """Run and analyse a sensitivity study; returns the results folder (None for a dry run).

    Raises
    ------
    UserInputError
        For anything wrong in the study file or the flags; nothing is written then.
    """
    from abm.batch.runner import default_out, run_batch
    from abm.sensitivity.report import analyse_study

    study = Path(study)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        plan, sens, _ = prepare(study, allow_plugin)
    if posterior is not None:  # replicates draw calibrated parameter sets
        from abm.calibration.posterior import apply_to_plan

        apply_to_plan(plan, posterior)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if dry_run_only:
        dry_run(plan, workers)
        return None
    out_dir = Path(out) if out is not None else default_out(plan)
    run_batch(
        study,
        workers=workers,
        scheduler=scheduler,
        out=out_dir,
        resume=resume,
        quiet=quiet,
        plan=plan,
    )
    analyse_study(out_dir, plan, sens, quiet=quiet)
    return out_dir
