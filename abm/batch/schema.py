"""The study-file schema (DESIGN.md §7a) as pydantic models, and pydantic errors as one line.

:mod:`abm.batch.spec` loads and validates study files with these models and builds the run
plan; the keys are documented there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

#: Names that become folder names and run-id prefixes.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: Keys that make a table in ``[design.parameters]`` a distribution rather than a namespace.
DIST_KEYS = frozenset(
    {"dist", "low", "high", "mode", "mean", "sd", "mu", "sigma", "values", "integer"}
)
SAMPLED_METHODS = ("lhs", "sobol", "morris", "fast")

# -- schema ------------------------------------------------------------------------------------


def _name(value: str) -> str:
    if not NAME_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not allowed: use 1-64 letters, digits, '-' and '_' "
            "(first a letter or digit; no spaces, dots or slashes)"
        )
    return value


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return value
    raise ValueError(f"must be a number, string or boolean, got {type(value).__name__}")


Name = Annotated[str, AfterValidator(_name)]
Scalar = Annotated[Any, AfterValidator(_scalar)]


def _flatten_paths(value: Any, prefix: str = "") -> Any:
    """``{"policy": {"x": 1}}`` -> ``{"policy.x": 1}`` (TOML dotted keys become nested tables)."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten_paths(item, path + "."))
        else:
            out[path] = item
    return out


def _flatten_design(value: Any, prefix: str = "") -> Any:
    """Like :func:`_flatten_paths`, but a table with a distribution key is a leaf."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping) and not (DIST_KEYS & set(item)):
            out.update(_flatten_design(item, path + "."))
        else:
            out[path] = item
    return out


Paths = Annotated[dict[str, Scalar], BeforeValidator(_flatten_paths)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class ExperimentSpec(_Strict):
    """``[experiment]``: name, replicates, root seed, model."""

    name: Name
    replicates: int = Field(1, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    description: str = ""
    model: str | None = None
    save_timeseries: bool = True
    save_ledger: bool = True


class ScenarioSpec(_Strict):
    """One ``[[scenarios]]`` entry: a named policy package (lever)."""

    name: Name
    from_: str | None = Field(None, alias="from")
    set_: Paths = Field(default_factory=dict, alias="set")
    description: str = ""


def _uniform_pair(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError(
                f"give [low, high] or a table with dist and its arguments, got a list of "
                f"{len(value)}"
            )
        return {"dist": "uniform", "low": value[0], "high": value[1]}
    return value


_DIST_ARGS = {
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("mu", "sigma"), ()),
}


class ParamDist(_Strict):
    """One uncertain parameter: ``[low, high]``, a distribution table, or ``values``.

    ``dist`` is ``uniform`` (``low``, ``high``), ``triangular`` (``low``, ``mode``, ``high``),
    ``normal`` (``mean``, ``sd``; optional ``low``/``high`` truncate it) or ``lognormal``
    (``mu``, ``sigma`` of the underlying normal). ``values`` lists discrete levels (factorial
    uses each; sampling methods pick them with equal probability). ``integer = true`` rounds
    sampled values (automatic for integer parameters of the ``abm`` model).
    """

    dist: Literal["uniform", "triangular", "normal", "lognormal"] | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    mu: float | None = None
    sigma: float | None = Field(None, gt=0)
    values: list[Scalar] | None = Field(None, min_length=1)
    integer: bool = False

    @model_validator(mode="after")
    def _arguments(self) -> ParamDist:
        names = ("low", "high", "mode", "mean", "sd", "mu", "sigma")
        given = {k for k in names if getattr(self, k) is not None}
        if self.values is not None:
            if self.dist is not None or given:
                raise ValueError("give either values or a distribution, not both")
            return self
        dist = self.dist or "uniform"
        required, optional = _DIST_ARGS[dist]
        missing = [k for k in required if k not in given]
        if missing:
            raise ValueError(f"dist {dist!r} needs {', '.join(required)}; missing {missing[0]}")
        extra = sorted(given - set(required) - set(optional))
        if extra:
            raise ValueError(
                f"dist {dist!r} takes {', '.join(required + optional)}; not {extra[0]!r}"
            )
        for key in given:
            if not math.isfinite(getattr(self, key)):
                raise ValueError(f"{key} must be a finite number")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if dist == "triangular":
            if not (self.low or 0.0) <= (self.mode or 0.0) <= (self.high or 0.0):
                raise ValueError(f"mode ({self.mode:g}) must lie within [low, high]")
        return self

    @property
    def kind(self) -> str:
        """``"values"`` or the distribution name."""
        return "values" if self.values is not None else (self.dist or "uniform")

    @property
    def bounded(self) -> bool:
        """Whether the support is a finite interval (or a finite set)."""
        return self.kind in ("values", "uniform", "triangular") or (
            self.kind == "normal" and self.low is not None and self.high is not None
        )


class DesignSpec(_Strict):
    """``[design]``: how design points (uncertainties) are chosen; see :mod:`abm.batch.designs`."""

    method: Literal["factorial", "lhs", "sobol", "morris", "fast", "csv"]
    n: int | None = Field(None, ge=1, le=10_000_000)
    levels: int | None = Field(None, ge=2, le=1000)
    second_order: bool | None = None
    m: int | None = Field(None, ge=1, le=100)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    file: str | None = None
    groups: dict[str, list[str]] | None = None
    parameters: Annotated[
        dict[str, Annotated[ParamDist, BeforeValidator(_uniform_pair)]],
        BeforeValidator(_flatten_design),
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _method_keys(self) -> DesignSpec:
        method = self.method
        if method in SAMPLED_METHODS and self.n is None:
            raise ValueError(f"method {method!r} needs n (number of samples)")
        if method in ("factorial", "csv") and self.n is not None:
            raise ValueError(f"n is not used by method {method!r}; remove it")
        if method == "csv":
            if self.file is None:
                raise ValueError("method 'csv' needs file = 'points.csv' (one column per path)")
            if self.parameters:
                raise ValueError("method 'csv' takes its parameters from the file's columns")
        else:
            if self.file is not None:
                raise ValueError(f"file is only used by method 'csv', not {method!r}")
            if not self.parameters:
                raise ValueError(f"method {method!r} needs [design.parameters]")
        if self.levels is not None and method not in ("factorial", "morris"):
            raise ValueError(f"levels is used by factorial and morris, not {method!r}")
        if self.second_order is not None and method != "sobol":
            raise ValueError(f"second_order is used by sobol, not {method!r}")
        if self.m is not None and method != "fast":
            raise ValueError(f"m is used by fast, not {method!r}")
        if self.groups is not None:
            _check_groups(self.groups, method, list(self.parameters))
        if method == "sobol" and self.n is not None and self.n & (self.n - 1):
            lo = 1 << (self.n.bit_length() - 1)
            raise ValueError(f"sobol needs n a power of 2 (e.g. {lo} or {2 * lo}), got {self.n}")
        if method == "fast" and self.n is not None and self.n <= 4 * (self.m or 4) ** 2:
            raise ValueError(f"fast needs n > 4·m² = {4 * (self.m or 4) ** 2}, got {self.n}")
        if method == "factorial":
            for path, dist in self.parameters.items():
                if dist.kind not in ("uniform", "values"):
                    raise ValueError(
                        f"factorial takes [low, high] (with levels) or values for {path!r}, "
                        f"not dist {dist.kind!r}"
                    )
        if method == "morris":
            for path, dist in self.parameters.items():
                if not dist.bounded:
                    raise ValueError(
                        f"morris samples the edges of each range; {path!r} (dist "
                        f"{dist.kind!r}) has none: give low and high or use uniform"
                    )
        return self


def _check_groups(groups: dict[str, list[str]], method: str, params: list[str]) -> None:
    """``[design.groups]``: group name -> parameter paths (SALib groups; sobol and morris)."""
    if method not in ("sobol", "morris"):
        raise ValueError(f"groups are supported by the sobol and morris designs, not {method!r}")
    seen: dict[str, str] = {}
    for name, paths in groups.items():
        if not paths:
            raise ValueError(f"group {name!r} is empty")
        for p in paths:
            if p not in params:
                raise ValueError(f"group {name!r} names {p!r}, which is not in [design.parameters]")
            if p in seen:
                raise ValueError(f"{p!r} is in groups {seen[p]!r} and {name!r}; one group each")
            seen[p] = name


def group_of(design: DesignSpec) -> list[str] | None:
    """SALib's ``groups`` list (one group name per parameter, ungrouped ones alone), or None."""
    if not design.groups:
        return None
    member = {p: g for g, paths in design.groups.items() for p in paths}
    return [member.get(p, p) for p in design.parameters]


class StudySpec(_Strict):
    """A whole study file. ``[sensitivity]``, ``[calibration]``, ``[[targets]]`` are kept for
    ``abm sensitivity`` / ``abm calibrate`` and not read by ``abm batch``."""

    experiment: ExperimentSpec
    base: Paths = Field(default_factory=dict)
    scenarios: list[ScenarioSpec] = Field(default_factory=list)
    design: DesignSpec | None = None
    sensitivity: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    targets: list[dict[str, Any]] | None = None

    @field_validator("scenarios")
    @classmethod
    def _unique(cls, scenarios: list[ScenarioSpec]) -> list[ScenarioSpec]:
        seen: set[str] = set()
        for sc in scenarios:
            if sc.name in seen:
                raise ValueError(f"two scenarios are named {sc.name!r}; names must be unique")
            seen.add(sc.name)
        return scenarios


# -- pydantic errors as one line -----------------------------------------------------------------

_SECTION_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): StudySpec,
    ("experiment",): ExperimentSpec,
    ("scenarios", "#"): ScenarioSpec,
    ("design",): DesignSpec,
    ("design", "parameters", "*"): ParamDist,
}


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item + 1}]")
        elif (i > 0 and loc[i - 1] in ("parameters", "base", "set")) or "." in str(item):
            parts.append(f'."{item}"' if parts else f'"{item}"')
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts) or "(top level)"


def _section_model(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    shape = tuple(
        "#"
        if isinstance(x, int)
        else ("*" if i == 2 and loc[:2] == ("design", "parameters") else x)
        for i, x in enumerate(loc)
    )
    return _SECTION_MODELS.get(shape)


def format_validation_error(exc: ValidationError) -> str:
    """The first error of a pydantic ``ValidationError`` as one line: key, problem, allowed."""
    errors = exc.errors(include_url=False)
    # An unknown key explains a "missing" one (a typo), so report it first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        model = _section_model(loc[:-1])
        section = _key(loc[:-1]) if loc[:-1] else "the top level"
        allowed = ""
        if model is not None:
            names = [f.alias or n for n, f in model.model_fields.items()]
            allowed = f"; allowed: {', '.join(names)}"
        return f"unknown key {loc[-1]!r} in {section}{allowed}"
    if err["type"] == "missing":
        return f"missing key {_key(loc)}"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] in ("value_error", "assertion_error"):
        return f"{_key(loc)}: {msg}"
    return f"{_key(loc)}: {msg} (got {err.get('input')!r})"
