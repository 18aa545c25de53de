"""The calibration's tables and manifest (DESIGN.md §8).

* ``posterior.parquet``: one row per accepted particle of the last complete generation:
  ``generation, particle``, one column per parameter, ``weight`` (sums to 1), ``distance``.
* ``fit.parquet``: ``target, output, year, observed, median, low, high, fitted`` — the
  posterior-predictive median and 90 % band (5th-95th percentiles of the predictive runs) per
  target and year; ``fitted`` is false for held-out years (``until``) and ``fit = false``.
* ``summary.parquet``: per parameter: ``default`` (the model's current value), prior 5/50/95 %
  quantiles, posterior weighted ``median``, ``low`` (5 %), ``high`` (95 %) and ``shrinkage``
  (1 − posterior 90 % width / prior 90 % width: near 0 = the data did not inform it).
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.calibration.abc import prior_quantiles
from abm.calibration.study import CalibrationPlan

FORMAT_VERSION = 1


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (interpolated on the weights' midpoints)."""
    order = np.argsort(values)
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cum, v))


def summary_frame(
    posterior: pd.DataFrame, priors: dict[str, Any], defaults: dict[str, Any]
) -> pd.DataFrame:
    """Default, prior and posterior quantiles and shrinkage, one row per parameter."""
    rows = []
    w = posterior["weight"].to_numpy(dtype=float)
    for path, dist in priors.items():
        lo, mid, hi = prior_quantiles(dist, (0.05, 0.5, 0.95))
        x = posterior[path].to_numpy(dtype=float)
        med, plo, phi = (weighted_quantile(x, w, q) for q in (0.5, 0.05, 0.95))
        width = hi - lo
        default = defaults.get(path)
        rows.append(
            {
                "parameter": path,
                "default": float(default) if isinstance(default, int | float) else np.nan,
                "prior_low": lo,
                "prior_median": mid,
                "prior_high": hi,
                "median": med,
                "low": plo,
                "high": phi,
                "shrinkage": 1.0 - (phi - plo) / width if width > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def fit_frame(cp: CalibrationPlan, predictive: list[Any]) -> pd.DataFrame:
    """Observed vs posterior-predictive median and 90 % band, per target and year."""
    rows = []
    for t in cp.targets:
        sims = np.array([series[t.name] for _, series in predictive], dtype=float)
        for j, year in enumerate(t.years):
            col = sims[:, j] if len(sims) else np.array([np.nan])
            col = col[np.isfinite(col)]
            qs = np.quantile(col, [0.5, 0.05, 0.95]) if len(col) else [np.nan] * 3
            rows.append(
                {
                    "target": t.name,
                    "output": t.output,
                    "year": int(year),
                    "observed": t.observed[j],
                    "median": float(qs[0]),
                    "low": float(qs[1]),
                    "high": float(qs[2]),
                    "fitted": t.fitted[j],
                }
            )
    return pd.DataFrame(rows)


def write_outputs(
    out_dir: Path, cp: CalibrationPlan, history: Any, predictive: list[Any]
) -> pd.DataFrame:
    """Write ``posterior``, ``fit`` and ``summary`` parquet files; return the posterior."""
    from abm.calibration.run import posterior_frame

    posterior = posterior_frame(history)
    cols = ["generation", "particle", *cp.priors, "weight", "distance"]
    posterior = posterior[cols].copy()
    for path in cp.simulator.int_paths & set(cp.priors):  # the values the runs used
        posterior[path] = posterior[path].round().astype("int64")
    posterior.to_parquet(out_dir / "posterior.parquet", index=False)
    fit_frame(cp, predictive).to_parquet(out_dir / "fit.parquet", index=False)
    summary_frame(posterior, cp.priors, cp.defaults).to_parquet(
        out_dir / "summary.parquet", index=False
    )
    return posterior


def manifest(cp: CalibrationPlan, previous: dict[str, Any] | None, executor: str) -> dict:
    """The calibration's manifest (``status`` running until the end)."""
    import json

    from abm.batch.store import git_commit, now, versions

    started = now()
    sessions = list(previous.get("sessions", [])) if previous else []
    commit = git_commit()
    sessions.append(
        {
            "started": started,
            "executor": executor,
            "command": " ".join(sys.argv),
            "git_commit": commit,
        }
    )
    try:
        text = cp.study.read_text()
    except OSError:  # pragma: no cover - it was just read
        text = ""
    spec = json.loads(json.dumps(cp.spec(), default=str))
    return {
        "format_version": FORMAT_VERSION,
        "kind": "calibration",
        "experiment": cp.name,
        "description": cp.plan.spec.experiment.description,
        "study_file": str(cp.study),
        "study_toml": text,
        "model": cp.plan.model,
        "root_seed": cp.seed,
        "method": "ABC-SMC (pyabc)",
        "parameters": list(cp.priors),
        "targets": [
            {"name": t.name, "file": t.file, "output": t.output, "scale": t.scale}
            for t in cp.targets
        ],
        "fixed_by_set": cp.fixed_by_cli,
        "config": cp.config.__dict__,
        "spec": spec,
        "versions": versions(),
        "git_commit": commit,
        "host": platform.node(),
        "started": previous.get("started", started) if previous else started,
        "finished": None,
        "status": "running",
        "sessions": sessions,
        "wall_s": previous.get("wall_s", 0) if previous else 0,
    }
