"""``--posterior DIR``: replicates draw their parameter sets from a calibration's posterior.

Replicate ``r`` of a study with root seed ``s`` takes one particle of ``DIR/posterior.parquet``,
drawn with probability equal to its weight by a generator seeded with
``SeedSequence([POSTERIOR_TAG, s, r])``: the same seed gives the same draws (and tables), and
adding replicates keeps the earlier draws. Calibrated uncertainty then propagates into every
scenario comparison — each replicate is one plausible parameter set, the same for every
scenario and design point (common random numbers). A calibrated parameter may not also be a
scenario's lever (``set``) or a design parameter: that would silently undo the calibration.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError

#: Tag of the posterior draws' seeds ("POST").
POSTERIOR_TAG = 0x504F5354
NOT_PARAMETERS = ("generation", "particle", "weight", "distance")


def load_posterior(folder: Path | str) -> pd.DataFrame:
    """The posterior table of a calibration folder (parameters, weight)."""
    from abm.calibration.report import is_calibration

    folder = Path(folder)
    if not folder.is_dir():
        raise UserInputError(f"--posterior {folder}: folder not found", source="command line")
    path = folder / "posterior.parquet"
    if not is_calibration(folder) or not path.is_file():
        raise UserInputError(
            f"--posterior {folder}: not a finished calibration folder (no posterior.parquet; "
            "make one with abm calibrate)",
            source="command line",
        )
    return pd.read_parquet(path)


def parameters(frame: pd.DataFrame) -> list[str]:
    """The parameter columns of a posterior table."""
    return [c for c in frame.columns if c not in NOT_PARAMETERS]


def draw(frame: pd.DataFrame, seed: int, replicate: int) -> dict[str, Any]:
    """Replicate ``replicate``'s parameter set (weighted, seeded; module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([POSTERIOR_TAG, seed, replicate]))
    w = frame["weight"].to_numpy(dtype=float)
    i = int(rng.choice(len(frame), p=w / w.sum()))
    return {p: _native(p, frame[p].iloc[i]) for p in parameters(frame)}


def _native(path: str, value: Any) -> Any:
    """A float, or an int where the model's parameter is an integer."""
    try:
        from abm.scenario import Params, flatten

        default = flatten(Params()).get(path)
    except Exception:  # pragma: no cover - a plug-in's parameter
        default = None
    value = float(value)
    return round(value) if isinstance(default, int) and not isinstance(default, bool) else value


def draws(folder: Path | str, seed: int, n: int) -> list[dict[str, Any]]:
    """The parameter sets of replicates ``0..n-1``."""
    frame = load_posterior(folder)
    return [draw(frame, seed, r) for r in range(n)]


def apply_to_plan(plan: Any, folder: Path | str) -> None:
    """Give every replicate of a batch plan its posterior draw (conflicts are user errors)."""
    frame = load_posterior(folder)
    names = parameters(frame)
    source = str(plan.path)
    design = set(plan.design.columns)
    for sc in plan.spec.scenarios:
        clash = sorted(set(sc.set_) & set(names))
        if clash:
            raise UserInputError(
                f"scenario {sc.name!r} sets {clash[0]!r}, which --posterior {folder} calibrated;"
                " a parameter is a lever or calibrated, not both",
                source=source,
            )
    clash = sorted(design & set(names))
    if clash:
        raise UserInputError(
            f"design parameter {clash[0]!r} is calibrated in --posterior {folder}; drop it from "
            "[design.parameters] (the posterior gives its uncertainty)",
            source=source,
        )
    seed = int(plan.spec.experiment.seed)
    plan.posterior = [draw(frame, seed, r) for r in range(len(plan.seeds))]
    plan.posterior_from = str(Path(folder).resolve())
    known = {p for p, _ in plan.columns}
    kinds = {p: "int" if isinstance(v, int) else "float" for p, v in plan.posterior[0].items()}
    plan.columns = tuple(plan.columns) + tuple((p, kinds[p]) for p in names if p not in known)


def overrides_for_run(folder: Path | str, seed: int, given: Mapping[str, Any]) -> dict[str, Any]:
    """``abm run --posterior DIR``: one draw (replicate 0 of ``seed``); ``--set`` may not
    touch a calibrated parameter."""
    frame = load_posterior(folder)
    values = draw(frame, seed, 0)
    clash = sorted(set(given) & set(values))
    if clash:
        raise UserInputError(
            f"--set {clash[0]}: calibrated in --posterior {folder}; a parameter is set or "
            "calibrated, not both",
            source="command line",
        )
    return values
