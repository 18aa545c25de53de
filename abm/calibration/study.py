"""A calibration study: the study file plus ``[[targets]]`` and ``[calibration]``, validated.

:func:`prepare` reads the file, applies ``--set`` (fixed parameters, taken out of the priors)
and ``--target`` (replacing the file's targets), validates everything with the batch
machinery (:func:`abm.batch.spec.load_study`: paths, ranges, the model) and the targets (CSV
columns, outputs the model produces, a simulated period that covers every observation), and
returns a :class:`CalibrationPlan`. Nothing is written and nothing runs (a plug-in model gets
one pilot run to learn its outputs).

``[calibration]`` keys
----------------------
``method`` (``"abc-smc"``, the only one), ``population`` (particles per generation, default
50), ``max_simulations`` (hard bound on model runs: ABC-SMC's, the posterior-predictive runs
and a plug-in model's one pilot run; default 1000), ``generations`` (most generations,
default 8), ``min_epsilon`` (stop once the threshold is below it, default 0), ``quantile``
(the next threshold is this weighted quantile of the accepted distances, default 0.5),
``predictive`` (posterior-predictive runs for ``fit.parquet``, default 40), ``model`` (as
``experiment.model``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abm.batch.schema import ParamDist, _flatten_design
from abm.calibration.abc import Distance, Simulator
from abm.calibration.targets import (
    Target,
    check_period,
    check_target_outputs,
    load_targets,
    parse_target_option,
)
from abm.errors import UserInputError

DEFAULTS: dict[str, Any] = {
    "method": "abc-smc",
    "population": 50,
    "max_simulations": 1000,
    "generations": 8,
    "min_epsilon": 0.0,
    "quantile": 0.5,
    "predictive": 40,
    "model": None,
}


@dataclass(frozen=True)
class CalibrationConfig:
    """The validated ``[calibration]`` table (see the module docstring)."""

    population: int = 50
    max_simulations: int = 1000
    generations: int = 8
    min_epsilon: float = 0.0
    quantile: float = 0.5
    predictive: int = 40
    pilot: int = 0

    @property
    def abc_budget(self) -> int:
        """Runs ABC-SMC may use: the bound minus the posterior-predictive runs and the pilot
        run that learns a plug-in model's outputs."""
        return self.max_simulations - self.predictive - self.pilot


@dataclass
class CalibrationPlan:
    """Everything a calibration needs, validated."""

    study: Path
    plan: Any  # abm.batch.spec.Study
    config: CalibrationConfig
    targets: list[Target]
    priors: dict[str, ParamDist]
    simulator: Simulator
    defaults: dict[str, Any]
    fixed_by_cli: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.plan.name)

    @property
    def seed(self) -> int:
        return int(self.plan.spec.experiment.seed)

    def distance(self) -> Distance:
        return Distance({t.name: t.norm for t in self.targets if t.fit_years})

    def observed(self) -> dict[str, Any]:
        """pyabc's observed summary statistics: the fitted years of every target."""
        import numpy as np

        return {
            t.name: np.array([o for o, f in zip(t.observed, t.fitted, strict=True) if f])
            for t in self.targets
            if t.fit_years
        }

    def spec(self) -> dict[str, Any]:
        """What ``--resume`` requires unchanged."""
        return {
            "study": self.plan.manifest_spec(),
            "config": self.config.__dict__,
            "targets": [
                {**t.__dict__, "years": list(t.years), "observed": list(t.observed)}
                for t in self.targets
            ],
            "priors": {p: d.model_dump(exclude_none=True) for p, d in self.priors.items()},
            "fixed": {k: v for k, v in self.simulator.fixed.items()},
        }


def parse_calibration(raw: Mapping[str, Any] | None, source: str) -> CalibrationConfig:
    """Validate ``[calibration]`` (all keys optional)."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise UserInputError(
            f"unknown key {unknown[0]!r} in calibration; allowed: {', '.join(DEFAULTS)}",
            source=source,
        )
    if raw.get("method", "abc-smc") != "abc-smc":
        raise UserInputError(
            f"calibration.method: {raw['method']!r}; allowed: 'abc-smc'", source=source
        )
    vals = {**DEFAULTS, **raw}
    for key, low in (("population", 2), ("max_simulations", 1), ("generations", 1)):
        v = vals[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise UserInputError(f"calibration.{key}: an integer ≥ {low}, got {v!r}", source=source)
    pred = vals["predictive"]
    if isinstance(pred, bool) or not isinstance(pred, int) or pred < 0:
        raise UserInputError(f"calibration.predictive: an integer ≥ 0, got {pred!r}", source=source)
    q = vals["quantile"]
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
        raise UserInputError(f"calibration.quantile: in (0, 1), got {q!r}", source=source)
    eps = vals["min_epsilon"]
    if isinstance(eps, bool) or not isinstance(eps, int | float) or eps < 0:
        raise UserInputError(f"calibration.min_epsilon: ≥ 0, got {eps!r}", source=source)
    return CalibrationConfig(
        population=vals["population"],
        max_simulations=vals["max_simulations"],
        generations=vals["generations"],
        min_epsilon=float(eps),
        quantile=float(q),
        predictive=pred,
    )


def _apply_sets(raw: dict[str, Any], sets: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``--set`` fixes parameters: into ``[base]``, out of the priors; ``[design]`` made a
    small LHS so that :func:`load_study` validates the priors' ranges."""
    raw = copy.deepcopy(raw)
    design = raw.get("design")
    if not isinstance(design, Mapping) or not design.get("parameters"):
        raise UserInputError(
            "missing [design.parameters]: the priors of the calibrated parameters "
            '(e.g. "farmer.w_norm" = [1.0, 8.0])',
            source=source,
        )
    params = _flatten_design(design["parameters"])
    base = raw.setdefault("base", {})
    if not isinstance(base, dict):
        raise UserInputError("[base] must be a table", source=source)
    for path, value in sets.items():
        base[path] = value
        params.pop(path, None)
    if not params:
        raise UserInputError(
            "every parameter of [design.parameters] is fixed by --set: nothing to calibrate",
            source=source,
        )
    keep = {k: v for k, v in design.items() if k == "seed"}
    raw["design"] = {**keep, "method": "lhs", "n": 4, "parameters": params}
    return raw


def prepare(
    study: Path | str,
    *,
    targets: list[str] | None = None,
    sets: list[str] | None = None,
    max_simulations: int | None = None,
    allow_plugin: bool = False,
) -> CalibrationPlan:
    """Read and validate a calibration study (module docstring); nothing written."""
    from abm.batch.spec import load_study, read_toml
    from abm.scenario import parse_set
    from abm.sensitivity.study import check_consent

    study = Path(study)
    source = str(study)
    raw = read_toml(study)
    check_consent(raw, allow_plugin, source)
    calib = raw.get("calibration") if isinstance(raw.get("calibration"), Mapping) else None
    if calib and calib.get("model") and "model" not in raw.get("experiment", {}):
        raw.setdefault("experiment", {})["model"] = calib["model"]
    fixed = parse_set(sets or [])
    raw = _apply_sets(raw, fixed, source)
    plan = load_study(study, data=raw, allow_plugin=allow_plugin)
    config = parse_calibration(
        {k: v for k, v in (plan.spec.calibration or {}).items() if k != "model"}, source
    )
    if max_simulations is not None:
        if max_simulations < 1:
            raise UserInputError(
                f"--max-simulations {max_simulations}: a positive integer", source="command line"
            )
        config = CalibrationConfig(**{**config.__dict__, "max_simulations": max_simulations})
    _check_budget(config, source if max_simulations is None else "command line")
    assert plan.spec.design is not None  # _apply_sets made one
    priors = dict(plan.spec.design.parameters)
    for path, dist in priors.items():
        if dist.kind == "values":
            raise UserInputError(
                f'design.parameters."{path}": calibration needs a distribution (e.g. [low, high])'
                ", not values",
                source=source,
            )
    if len(plan.scenarios) != 1:
        raise UserInputError(
            f"a calibration fits one scenario; the file has {len(plan.scenarios)}: keep one "
            "[[scenarios]] entry (or none: the defaults)",
            source=source,
        )
    entries: list[Mapping[str, Any]] | None = (
        [parse_target_option(t) for t in targets] if targets else list(plan.spec.targets or [])
    )
    tgts = load_targets(entries, study.resolve().parent, source, cli=bool(targets))
    if not any(t.fit_years for t in tgts):
        raise UserInputError(
            "every target is predicted only (fit = false): give at least one fitted target",
            source=source,
        )
    return _finish(study, plan, config, tgts, priors, fixed, source)


def _check_budget(config: CalibrationConfig, source: str) -> None:
    need = config.population + config.predictive + 1
    if config.max_simulations < need:
        raise UserInputError(
            f"max_simulations = {config.max_simulations} is below population + predictive + 1"
            f" = {need} (one generation, the posterior-predictive runs, a plug-in's pilot "
            "run); raise it",
            source=source,
        )


def _finish(
    study: Path,
    plan: Any,
    config: CalibrationConfig,
    targets: list[Target],
    priors: dict[str, ParamDist],
    fixed: dict[str, Any],
    source: str,
) -> CalibrationPlan:
    sc = plan.scenarios[0]
    if plan.model != "abm":  # the pilot run below counts against --max-simulations
        config = CalibrationConfig(**{**config.__dict__, "pilot": 1})
    src = "command line" if fixed else source
    if plan.model == "abm":
        from abm.scenario import Params, flatten
        from abm.sensitivity.study import abm_outputs

        produced = abm_outputs()[1]
        resolved = plan.resolved.get(sc.name, {})
        defaults = {p: flatten(Params()).get(p) for p in priors}
        int_paths = frozenset(p for p in priors if isinstance(defaults.get(p), int))
        check_target_outputs(targets, produced, plan.model, source)
        start = priors.get("start_year")
        check_period(
            targets,
            int(
                start.low if start is not None and start.low is not None else resolved["start_year"]
            ),
            int(resolved["end_year"]),
            src if {"start_year", "end_year"} & set(fixed) else source,
        )
    else:
        from abm.sensitivity.study import outcome_outputs, pilot

        outcome = pilot(plan, 1)[0]
        if not outcome.ok:
            raise UserInputError(
                f"the pilot run of model {plan.model!r} failed: {outcome.error}", source=source
            )
        check_target_outputs(targets, outcome_outputs(outcome)[1], plan.model, source)
        years = outcome.timeseries.column("year").to_pylist()
        check_period(targets, int(min(years)), int(max(years)), src)
        from abm.scenario import Params, flatten

        known = flatten(Params())  # a plug-in on the model's parameters (soil_rates) has them
        defaults = {p: known.get(p) for p in priors}
        int_paths = frozenset(p for p, d in priors.items() if d.integer)
    simulator = Simulator(
        model=plan.model,
        scenario=sc.name,
        scenario_from=sc.source,
        fixed=dict(sc.overrides),
        outputs=tuple((t.name, t.output, t.fit_years) for t in targets if t.fit_years),
        int_paths=int_paths | frozenset(p for p, d in priors.items() if d.integer),
        sys_path=plan.sys_path,
    )
    return CalibrationPlan(
        study=study,
        plan=plan,
        config=config,
        targets=targets,
        priors=priors,
        simulator=simulator,
        defaults=defaults,
        fixed_by_cli=fixed,
    )
