"""Study files (DESIGN.md §7a): schema, loading, validation and the run plan.

A study is data: scenarios (levers) × design points (uncertainties) × replicates.
:func:`load_study` reads and validates a TOML study completely before anything runs — the
schema (pydantic, unknown keys rejected), names, the model reference, every parameter path
(for ``model = "abm"`` through ``abm.scenario``), every scenario and the design's ranges —
and returns a :class:`Study`, the run plan. Any problem raises
:class:`abm.errors.UserInputError` with one line naming the file and the key.

Keys (beyond DESIGN.md §7a)
---------------------------
``[experiment]``: ``name`` (letters, digits, ``-``, ``_``), ``replicates`` (≥ 1), ``seed``
(root seed, ≥ 0), ``description``, ``model`` (``"abm"`` or ``"package.module:function"``; may
also be given as ``[sensitivity].model``), ``save_timeseries`` and ``save_ledger`` (default
true; turn off for very large batches that only need KPIs).

Plug-in models
--------------
``model = "package.module:function"`` names code, and a study file is data: such a study runs
only with the user's consent on the command line (``abm batch --allow-plugin``,
``load_study(..., allow_plugin=True)``), standard-library and built-in callables are refused by
name, and the module is imported only after every other check has passed
(:mod:`abm.batch.plugins`).

``[base]`` and a scenario's ``set``: parameter paths → values; dotted keys may be written
quoted (``"policy.subsidy_eur_per_ha" = 100``) or as TOML tables (``[base.policy]``).

``[[scenarios]]``: ``name``, ``from`` (a built-in scenario or a scenario ``.toml`` relative to
the study file; defaults to ``name`` when that is a built-in scenario), ``set``,
``description``. Without any scenario there is one, named ``base``.

``[design]``: see :mod:`abm.batch.designs`.

Parameters of one run: the scenario's ``from`` ← ``[base]`` ← the scenario's ``set`` ← the
design point (later wins). A path may not be both a scenario's ``set`` and a design
parameter (a lever or an uncertainty, not both); ``seed`` may not be set at all (it comes from
the replicate).

Seeds and run ids
-----------------
Replicate ``r`` uses seed ``SeedSequence(root).spawn(R)[r]`` (as a 63-bit int), the same for
every scenario and design point (common random numbers); a child of a ``SeedSequence`` does not
depend on how many siblings are spawned, so adding replicates keeps the old seeds. Design
sampling uses its own stream, ``SeedSequence([DESIGN_SEED_TAG, root])``, unless
``[design].seed`` is given. Run ids are ``<scenario>-d<design point>-r<replicate>`` with zero
padding (at least 4 and 3 digits): a function of the spec only, so any number of workers and
any completion order gives the same tables.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from abm.batch.plugins import TRUSTED_MODELS, check_consent, verify_plugin
from abm.batch.schema import (  # noqa: F401  (re-exported)
    DIST_KEYS,
    NAME_PATTERN,
    SAMPLED_METHODS,
    DesignSpec,
    ExperimentSpec,
    ParamDist,
    Paths,
    ScenarioSpec,
    StudySpec,
    format_validation_error,
    group_of,
)
from abm.batch.worker import ABM_MODEL, Task
from abm.errors import UserInputError

#: Tag mixed with the root seed for the design sampler's own stream ("DESI").
DESIGN_SEED_TAG = 0x44455349

MODEL_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


# -- seeds -------------------------------------------------------------------------------------


def replicate_seeds(root: int, n: int) -> list[int]:
    """Seeds of replicates ``0..n-1``: ``SeedSequence(root).spawn(n)``, each as a 63-bit int."""
    children = np.random.SeedSequence(root).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def design_seed(root: int) -> int:
    """Seed of the design sampler: a stream independent of the replicate seeds (32-bit)."""
    return int(np.random.SeedSequence([DESIGN_SEED_TAG, root]).generate_state(1)[0])


# -- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioPlan:
    """A scenario ready to run: where its parameters come from, and its overrides."""

    name: str
    source: str | None
    overrides: dict[str, Any]
    description: str = ""


@dataclass
class Study:
    """A validated study: the complete, deterministic plan of a batch.

    Attributes
    ----------
    path
        The study file.
    spec
        The parsed file.
    model
        ``"abm"`` or ``"package.module:function"``.
    scenarios
        One :class:`ScenarioPlan` per scenario, in file order.
    design
        One row per design point, one column per design parameter (one row, no columns
        without ``[design]``).
    seeds
        Replicate seeds (common random numbers).
    columns
        ``(path, type)`` of every varied parameter: the parameter columns of ``runs``.
    sys_path
        Folders the workers append to ``sys.path`` for a user model.
    resolved
        For ``model = "abm"``: every scenario's resolved parameters (flat path -> value).
    posterior, posterior_from
        With ``--posterior DIR``: replicate ``r``'s parameter set drawn from the calibration
        in ``DIR`` (:mod:`abm.calibration.posterior`), applied over ``[base]`` and under the
        scenario and design point; empty otherwise.
    """

    path: Path
    spec: StudySpec
    model: str
    scenarios: list[ScenarioPlan]
    design: pd.DataFrame
    seeds: list[int]
    columns: tuple[tuple[str, str], ...]
    sys_path: tuple[str, ...] = ()
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    posterior: list[dict[str, Any]] = field(default_factory=list)
    posterior_from: str | None = None

    @property
    def name(self) -> str:
        """The experiment name (names the default results folder)."""
        return self.spec.experiment.name

    @property
    def n_runs(self) -> int:
        """Scenarios × design points × replicates."""
        return len(self.scenarios) * len(self.design) * len(self.seeds)

    def run_id(self, scenario: str, design_point: int, replicate: int) -> str:
        """``<scenario>-d<design point>-r<replicate>``, zero padded."""
        dw = max(4, len(str(len(self.design) - 1)))
        rw = max(3, len(str(len(self.seeds) - 1)))
        return f"{scenario}-d{design_point:0{dw}d}-r{replicate:0{rw}d}"

    def tasks(self, skip: set[str] | frozenset[str] = frozenset()) -> Iterator[Task]:
        """Every run not in ``skip``, generated lazily, replicate-major.

        Replicate-major order (all scenarios and design points of replicate 0, then of
        replicate 1, ...) means a batch stopped early has balanced replicates per scenario.
        """
        points = self.design.to_dict("records")
        exp = self.spec.experiment
        defaults = {
            sc.name: {p: self.resolved.get(sc.name, {}).get(p) for p, _ in self.columns}
            for sc in self.scenarios
        }
        for r, seed in enumerate(self.seeds):
            for sc in self.scenarios:
                for d, point in enumerate(points):
                    run_id = self.run_id(sc.name, d, r)
                    if run_id in skip:
                        continue
                    yield Task(
                        run_id=run_id,
                        scenario=sc.name,
                        scenario_from=sc.source,
                        design_point=d,
                        replicate=r,
                        seed=seed,
                        overrides={
                            **sc.overrides,
                            **(self.posterior[r] if self.posterior else {}),
                            **_native(point),
                        },
                        model=self.model,
                        sys_path=self.sys_path,
                        columns=self.columns,
                        save_timeseries=exp.save_timeseries,
                        save_ledger=exp.save_ledger,
                        defaults=defaults[sc.name],
                    )

    def manifest_spec(self) -> dict[str, Any]:
        """The resolved spec stored in the manifest; ``--resume`` requires it unchanged."""
        study = self.spec.model_dump(
            mode="json",
            by_alias=True,
            exclude_none=True,
            exclude={"sensitivity", "calibration", "targets"},
        )
        csv = self.design.to_csv(index=False).encode()
        spec = {
            "study": study,
            "model": self.model,
            "scenarios": [
                {"name": s.name, "from": s.source, "overrides": s.overrides} for s in self.scenarios
            ],
            "design_points": len(self.design),
            "design_sha256": hashlib.sha256(csv).hexdigest(),
            "replicate_seeds": self.seeds,
            "parameter_columns": [list(c) for c in self.columns],
            "resolved_params": self.resolved,
        }
        if self.posterior:  # abm ... --posterior DIR: the draw of every replicate
            spec["posterior"] = {"from": self.posterior_from, "draws": self.posterior}
        return json.loads(json.dumps(spec, default=str))


def _point_text(point: Mapping[str, Any], limit: int = 3) -> str:
    items = [f"{k}={v!r}" for k, v in point.items()]
    more = f", ... {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _native(point: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for key, value in point.items():
        out[str(key)] = value.item() if isinstance(value, np.generic) else value
    return out


# -- loading -----------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; a missing or malformed file is a :class:`UserInputError`."""
    if not path.is_file():
        raise UserInputError("study file not found", source=str(path))
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"not valid TOML: {exc}", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read the file: {exc}", source=str(path)) from None


def parse_study(data: Mapping[str, Any], source: str) -> StudySpec:
    """Validate the study schema; the first problem becomes a one-line :class:`UserInputError`."""
    try:
        return StudySpec.model_validate(dict(data))
    except ValidationError as exc:
        raise UserInputError(format_validation_error(exc), source=source) from None


def load_study(
    path: Path | str,
    *,
    allow_plugin: bool = False,
    verify_model: bool = True,
    data: Mapping[str, Any] | None = None,
) -> Study:
    """Read, validate and plan a study file; nothing runs and nothing is written.

    Parameters
    ----------
    path
        The study file.
    allow_plugin
        The user's consent, given on the command line (``--allow-plugin``), to run the
        plug-in model the file names (``model = "package.module:function"``). A data file
        alone never runs code: without consent such a study is refused, and nothing is
        imported.
    verify_model
        Import a consented plug-in and check its signature here (after every other check).
        :func:`abm.batch.runner.run_batch` passes ``False`` and calls :func:`verify_plugin`
        itself once the results folder is checked too.
    data
        Used instead of the file's content when given (``abm sensitivity`` passes the study
        with its Sobol ``n`` rounded); relative paths still start at ``path``'s folder.

    Raises
    ------
    UserInputError
        Naming the file and the key, for anything wrong in the file.
    """
    path = Path(path)
    source = str(path)
    spec = parse_study(read_toml(path) if data is None else data, source)
    model = _model_ref(spec, source)
    folder = path.resolve().parent
    sys_path: tuple[str, ...] = ()
    if model not in TRUSTED_MODELS:
        sys_path = tuple(dict.fromkeys([str(folder), str(Path.cwd().resolve())]))
    _check_levers(spec, source)
    if model == ABM_MODEL:
        checker = _AbmChecker(spec, folder, source)
        scenarios = checker.scenarios()
        int_paths = checker.int_paths()
    else:
        scenarios = _custom_scenarios(spec, source)
        int_paths = set()
    design = _sample(spec, folder, int_paths, source)
    if model == ABM_MODEL:
        checker.check_design(design, scenarios)
        columns = checker.columns(scenarios, design)
        resolved = checker.resolved
    else:
        columns = _custom_columns(spec, design)
        resolved = {}
    check_consent(model, allow_plugin, source)
    if verify_model:
        verify_plugin(model, sys_path, source)
    return Study(
        path=path,
        spec=spec,
        model=model,
        scenarios=scenarios,
        design=design,
        seeds=replicate_seeds(spec.experiment.seed, spec.experiment.replicates),
        columns=columns,
        sys_path=sys_path,
        resolved=resolved,
    )


def _sample(spec: StudySpec, folder: Path, int_paths: set[str], source: str) -> pd.DataFrame:
    from abm.batch.designs import sample_design

    dseed = spec.design.seed if spec.design and spec.design.seed is not None else None
    return sample_design(
        spec.design,
        seed=design_seed(spec.experiment.seed) if dseed is None else dseed,
        base_dir=folder,
        integer_paths=int_paths,
        source=source,
    )


def _check_levers(spec: StudySpec, source: str) -> None:
    """A path is a lever or an uncertainty, not both; ``seed`` comes from the replicates."""
    conflicts = [
        (sc.name, p)
        for sc in spec.scenarios
        for p in sc.set_
        if spec.design and p in _design_paths(spec)
    ]
    if conflicts:
        name, p = conflicts[0]
        raise UserInputError(
            f"design.parameters.{p!r} is also set by scenario {name!r}; a path is either a "
            "lever (scenario set) or an uncertainty (design), not both",
            source=source,
        )
    for where, paths in [("base", spec.base)] + [
        (f"scenarios[{i + 1}].set", sc.set_) for i, sc in enumerate(spec.scenarios)
    ]:
        if "seed" in paths:
            raise UserInputError(
                f"{where}: 'seed' is set per replicate from experiment.seed; remove it",
                source=source,
            )
    if spec.design is not None and "seed" in spec.design.parameters:
        raise UserInputError(
            "design.parameters: 'seed' is set per replicate from experiment.seed; remove it",
            source=source,
        )


def _design_paths(spec: StudySpec) -> set[str]:
    return set(spec.design.parameters) if spec.design else set()


def _model_ref(spec: StudySpec, source: str) -> str:
    model = spec.experiment.model
    sens = (spec.sensitivity or {}).get("model")
    if model is not None and sens is not None and model != sens:
        raise UserInputError(
            f"experiment.model ({model!r}) and sensitivity.model ({sens!r}) differ; give one",
            source=source,
        )
    model = model or sens or ABM_MODEL
    if not isinstance(model, str) or (model != ABM_MODEL and not MODEL_REF.match(model)):
        raise UserInputError(
            f"experiment.model: {model!r} is not 'abm' or 'package.module:function'", source=source
        )
    return model


def _custom_scenarios(spec: StudySpec, source: str) -> list[ScenarioPlan]:
    plans = []
    for i, sc in enumerate(spec.scenarios):
        if sc.from_ is not None:
            raise UserInputError(
                f"scenarios[{i + 1}].from: built-in scenarios need model = 'abm'; "
                "use set for a user model",
                source=source,
            )
        plans.append(ScenarioPlan(sc.name, None, {**spec.base, **sc.set_}, sc.description))
    return plans or [ScenarioPlan("base", None, dict(spec.base))]


def _kind(values: list[Any]) -> str:
    values = [v for v in values if v is not None]
    if values and all(isinstance(v, bool | np.bool_) for v in values):
        return "bool"
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values):
        return "float"
    return "str"


def _custom_columns(spec: StudySpec, design: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """Varied parameters of a user model: every path in a scenario's set, then the design's."""
    cols: dict[str, str] = {}
    set_paths = sorted({p for sc in spec.scenarios for p in sc.set_})
    for p in set_paths:
        vals = [sc.set_.get(p, spec.base.get(p)) for sc in spec.scenarios]
        cols[p] = _kind(vals)
    for p in design.columns:
        vals = design[p].tolist()
        cols[str(p)] = _kind([*vals, spec.base[p]] if p in spec.base else vals)
    return tuple(cols.items())


class _AbmChecker:
    """Validation of a study against ``abm.scenario`` (paths, scenarios, ranges)."""

    def __init__(self, spec: StudySpec, folder: Path, source: str) -> None:
        from abm import scenario as sc

        self.sc = sc
        self.spec = spec
        self.folder = folder
        self.source = source
        self.known = set(sc.param_paths())
        self.builtins = dict(sc.builtin_scenarios())
        self.defaults = dict(sc.flatten(sc.resolve_params()))
        self.resolved: dict[str, dict[str, Any]] = {}

    def path(self, path: str, where: str) -> None:
        check = getattr(self.sc, "check_path", None)
        if check is not None:  # knows keys inside dict-valued parameters too
            check(path, source=f"{self.source}: {where}")
            return
        if path not in self.known:
            close = difflib.get_close_matches(path, sorted(self.known), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise UserInputError(
                f"{where}: unknown parameter path {path!r}{hint} (`abm params` lists them all)",
                source=self.source,
            )

    def _from(self, i: int, sc: ScenarioSpec) -> str | None:
        origin = sc.from_
        if origin is None:
            return sc.name if sc.name in self.builtins else None
        if origin in self.builtins:
            return origin
        if origin.endswith(".toml"):
            file = (self.folder / origin).resolve()
            if not file.is_file():
                raise UserInputError(
                    f"scenarios[{i + 1}].from: scenario file {origin!r} not found next to the "
                    "study file",
                    source=self.source,
                )
            return str(file)
        raise UserInputError(
            f"scenarios[{i + 1}].from: unknown scenario {origin!r}; allowed: "
            f"{', '.join(self.builtins)} or a scenario .toml file",
            source=self.source,
        )

    def _resolve(self, origin: str | None, overrides: dict[str, Any], where: str) -> Any:
        scenario: str | Path | None = origin
        if origin is not None and origin.endswith(".toml"):
            scenario = Path(origin)
        return self.sc.resolve_params(scenario, overrides, source=f"{self.source}: {where}")

    def scenarios(self) -> list[ScenarioPlan]:
        for p in self.spec.base:
            self.path(p, "base")
        plans = []
        entries = self.spec.scenarios or [ScenarioSpec.model_validate({"name": "base"})]
        for i, sc in enumerate(entries):
            for p in sc.set_:
                self.path(p, f"scenarios[{i + 1}].set")
            origin = self._from(i, sc)
            overrides = {**self.spec.base, **sc.set_}
            params = self._resolve(origin, overrides, f"scenario {sc.name!r}")
            self.resolved[sc.name] = dict(self.sc.flatten(params))
            plans.append(ScenarioPlan(sc.name, origin, overrides, sc.description))
        return plans

    def int_paths(self) -> set[str]:
        design = self.spec.design
        if design is None:
            return set()
        out = set()
        for p, dist in design.parameters.items():
            self.path(p, "design.parameters")
            default = self.defaults.get(p)
            if isinstance(default, bool | str) and dist.kind != "values":
                raise UserInputError(
                    f"design.parameters.{p!r}: a {type(default).__name__} parameter takes "
                    "values = [...], not a range",
                    source=self.source,
                )
            if isinstance(default, int) and not isinstance(default, bool):
                out.add(p)
        return out

    def check_design(self, design: pd.DataFrame, scenarios: list[ScenarioPlan]) -> None:
        """Every design column is a known path, and every design point is valid in every
        scenario (also combinations: ``end_year`` below ``start_year``, zone shares all 0)."""
        from pydantic import ValidationError as PydanticError

        for p in design.columns:
            self.path(str(p), "design")
        if not len(design.columns):
            return
        points = [_native(row) for row in design.to_dict("records")]
        for plan in scenarios:
            base = self.sc._nest(self.resolved[plan.name])
            for d, point in enumerate(points):
                nested = dict(base)
                for path, value in point.items():  # copy on write: only the touched tables
                    node = nested
                    parts = path.split(".")
                    for part in parts[:-1]:
                        node[part] = dict(node.get(part) or {})
                        node = node[part]
                    node[parts[-1]] = value
                try:
                    self.sc.Params.model_validate(nested)
                except PydanticError as exc:  # say why, with the file and the point
                    where = f"design point {d} ({_point_text(point)}) in scenario {plan.name!r}"
                    self._resolve(plan.source, {**plan.overrides, **point}, where)
                    msg = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
                    raise UserInputError(f"{where}: {msg}", source=self.source) from None

    def columns(
        self, scenarios: list[ScenarioPlan], design: pd.DataFrame
    ) -> tuple[tuple[str, str], ...]:
        """Paths whose resolved value differs between scenarios, then the design's paths."""
        varied = []
        names = [s.name for s in scenarios]
        for p in self.defaults:
            vals = [self.resolved[n].get(p) for n in names]
            if any(v != vals[0] for v in vals[1:]):
                varied.append(p)
        varied += [str(p) for p in design.columns if p not in varied]
        cols = []
        for p in varied:
            vals = [self.resolved[n].get(p) for n in names]
            if p in design.columns:
                vals += design[p].tolist()
            default = self.defaults.get(p)
            kind = _kind([default]) if default is not None else _kind(vals)
            if kind == "int" and _kind(vals) == "float":
                kind = "float"
            cols.append((p, kind))
        return tuple(cols)
