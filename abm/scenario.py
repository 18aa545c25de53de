"""Parameter schema, scenario files and the built-in scenario library.

Every model parameter has a dotted path (``policy.subsidy_eur_per_ha``), a default that runs, a
unit, an allowed range (validation) and a sensitivity range (``abm params``), and a source.
Parameters are plain data: :class:`Params` is a pydantic model with ``extra="forbid"``, so an
unknown key anywhere is an error that names the key.

Scenario files (TOML) are partial parameter documents::

    # comment lines say what the scenario represents and where its numbers come from
    [scenario]
    description = "Per-hectare subsidy at the French eco-scheme upper level"
    from = "baseline"          # optional: start from another scenario

    [policy]
    subsidy_eur_per_ha = 63.72

Resolution order: defaults → ``from`` chain → the file's values → ``--set`` overrides.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from abm.errors import UserInputError
from abm.practices import CATALOGUE, SENSITIVITY
from abm.schema import (  # noqa: F401 (re-exported)
    _PRACTICE_FIELDS,
    MAX_SUBSIDY,
    ZONE_IDS,
    Advice,
    Climate,
    Farmer,
    Landscape,
    Market,
    Network,
    Params,
    Policy,
    PracticeParams,
    Practices,
    Regulation,
    Soil,
    _practice_default,
)

# --------------------------------------------------------------------------------------------
# Parameter table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One row of ``abm params``."""

    path: str
    default: Any
    unit: str
    low: float | None
    high: float | None
    sensitivity: tuple[float, float] | None
    source: str
    description: str


def _bounds(field: Any) -> tuple[float | None, float | None]:
    low = high = None
    for m in field.metadata:
        low = getattr(m, "ge", getattr(m, "gt", low)) if low is None else low
        high = getattr(m, "le", getattr(m, "lt", high)) if high is None else high
    return low, high


_PRACTICE_UNITS = {
    "annual_cost_eur_per_ha": "EUR/ha/yr",
    "establishment_cost_eur_per_ha": "EUR/ha",
    "benefit_eur_per_ha": "EUR/ha/yr",
    "years_to_benefit": "yr",
    "complexity": "0-1",
    "uncertainty_eur_per_ha": "EUR/ha/yr",
    "initial_share": "share of eligible area",
    "disadoption_rate": "1/yr",
    "cost_sd_eur_per_ha": "EUR/ha/yr",
    "extra_input_t_c_ha_yr": "t C/ha/yr",
    "rate_modifier": "-",
    "fym_t_c_ha_yr": "t C/ha/yr",
    "biochar_t_c_ha_yr": "t C/ha/yr",
    "irrigation_mm_yr": "mm/yr",
    "residue_return_share": "share of removed residues",
    "n_mineral_kg_ha_yr": "kg N/ha/yr",
    "input_c_to_n": "kg C per kg N",
    "yield_effect": "share of output on the area",
    "other_emissions_tco2e_ha_yr": "t CO2e/ha/yr",
}


def _walk(model: type[BaseModel], prefix: str) -> Iterator[ParamSpec]:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if ann is PracticeParams:
                yield from _walk_practice(name, path + ".")
            else:
                yield from _walk(ann, path + ".")
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        low, high = _bounds(field)
        sens = extra.get("sensitivity")
        default = field.get_default(call_default_factory=True)
        yield ParamSpec(
            path=path,
            default=default,
            unit=str(extra.get("unit", "")),
            low=low,
            high=high,
            sensitivity=tuple(sens) if sens else None,  # type: ignore[arg-type]
            source=str(extra.get("source", "")),
            description=field.description or "",
        )


def _walk_practice(pid: str, prefix: str) -> Iterator[ParamSpec]:
    spec = CATALOGUE[pid]
    for name, field in PracticeParams.model_fields.items():
        default = getattr(spec, name)
        low, high = _bounds(field)
        source = spec.sources.get(name, "SCIENCE.md §5 / abm.practices (no effect by default)")
        sens = SENSITIVITY.get((pid, name))
        if sens is None and default:
            lo, hi = sorted((0.5 * default, 1.5 * default))
            sens = (lo, hi)
        yield ParamSpec(
            path=f"{prefix}{name}",
            default=default,
            unit=_PRACTICE_UNITS[name],
            low=low,
            high=high,
            sensitivity=sens,
            source=source,
            description="",
        )


def param_specs() -> list[ParamSpec]:
    """Every parameter: path, default, unit, allowed range, sensitivity range, source."""
    return list(_walk(Params, ""))


def param_paths() -> list[str]:
    """Every valid dotted parameter path."""
    return [s.path for s in param_specs()]


# --------------------------------------------------------------------------------------------
# Resolution: defaults → scenario chain → file → overrides
# --------------------------------------------------------------------------------------------


def flatten(params: BaseModel | Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted path → value for every leaf parameter (dict-valued parameters stay whole)."""
    data = params.model_dump() if isinstance(params, BaseModel) else dict(params)
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_leaf_dict(path):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


_DICT_LEAVES = {
    "landscape.zone_shares",
    "landscape.system_shares",
    "landscape.feasible_share",
    "policy.subsidy_by_practice",
    "market.cost_decline_eur_per_ha",
}


def _is_leaf_dict(path: str) -> bool:
    return path in _DICT_LEAVES


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        node = nested
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def _suggest(path: str, valid: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(path, valid, n=3, cutoff=0.6)
    if close:
        return f"did you mean {', '.join(close)}? (abm params lists all)"
    return "see `abm params` for every valid path"


def check_path(path: str, *, source: str) -> None:
    """Raise :class:`UserInputError` unless ``path`` is a parameter path."""
    valid = param_paths()
    if path in valid:
        return
    # a key inside a dict-valued parameter, e.g. landscape.zone_shares.tropical
    parent = path.rsplit(".", 1)[0]
    if parent in _DICT_LEAVES:
        return
    raise UserInputError(f"unknown parameter {path!r}; {_suggest(path, valid)}", source=source)


def _flatten_doc(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_leaf_dict(path):
            out.update(_flatten_doc(value, path + "."))
        else:
            out[path] = value
    return out


def _scenario_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "_scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "experiments" / "scenarios"


def builtin_scenarios() -> dict[str, str]:
    """Built-in scenario name → one-line description."""
    out: dict[str, str] = {}
    for path in sorted(_scenario_dir().glob("*.toml")):
        doc = _read_toml(path)
        out[path.stem] = str(doc.get("scenario", {}).get("description", ""))
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError("file not found", source=str(path)) from None
    except UnicodeDecodeError:
        raise UserInputError(
            "not a UTF-8 text file (TOML must be UTF-8)", source=str(path)
        ) from None
    except OSError as exc:
        raise UserInputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"malformed TOML: {exc}", source=str(path)) from None


def _scenario_values(scenario: str | Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Flat values of a scenario (built-in name or TOML file), its ``from`` chain applied."""
    name = str(scenario)
    if isinstance(scenario, Path) or name.endswith(".toml"):
        path = Path(scenario)
    else:
        path = _scenario_dir() / f"{name}.toml"
        if not path.is_file():
            allowed = ", ".join(builtin_scenarios())
            raise UserInputError(
                f"unknown scenario {name!r}; built-in scenarios: {allowed} (or a .toml file)",
                source="--scenario",
            )
    if name in seen:
        raise UserInputError(
            f"scenario 'from' chain loops: {' -> '.join((*seen, name))}", source=str(path)
        )
    doc = _read_toml(path)
    meta = doc.pop("scenario", {})
    if not isinstance(meta, dict):
        raise UserInputError("[scenario] must be a table", source=str(path))
    unknown = sorted(set(meta) - {"name", "description", "from"})
    if unknown:
        raise UserInputError(
            f"unknown key(s) in [scenario]: {unknown}; allowed: name, description, from",
            source=str(path),
        )
    values: dict[str, Any] = {}
    if "from" in meta:
        origin = str(meta["from"])
        if origin.endswith(".toml") and not Path(origin).is_absolute():
            origin = str(path.parent / origin)  # relative to this file, not the current folder
        values.update(_scenario_values(origin, (*seen, name)))
    flat = _flatten_doc(doc)
    for key in flat:
        check_path(key, source=str(path))
    values.update(flat)
    return values


def parse_set(items: list[str]) -> dict[str, Any]:
    """Parse ``--set path=value`` items; values are TOML literals, else strings."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UserInputError(f"expected path=value, got {item!r}", source="--set")
        path, raw = (s.strip() for s in item.split("=", 1))
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        if isinstance(value, str) and value.lower() in {"none", "null"}:
            value = None
        out[path] = value
    return out


def resolve_params(
    scenario: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    source: str = "--set",
) -> Params:
    """Build validated :class:`Params` from defaults, a scenario and dotted-path overrides.

    Raises
    ------
    UserInputError
        Unknown scenario or parameter path, malformed file, value out of range.
    """
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if scenario is not None:
        scen = _scenario_values(scenario)
        values.update(scen)
        origin.update(dict.fromkeys(scen, str(scenario)))
    for path, value in (overrides or {}).items():
        check_path(path, source=source)
        values[path] = value
        origin[path] = source
    nested = _nest(flatten(Params()))
    for path, value in values.items():
        node = nested
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    try:
        return Params.model_validate(nested)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        where = origin.get(loc) or _origin_under(origin, loc, source)
        msg = err["msg"]
        if err.get("ctx"):
            ctx = {k: v for k, v in err["ctx"].items() if k != "error"}
            if ctx:
                msg += f" (allowed: {', '.join(f'{k} {v}' for k, v in ctx.items())})"
        msg = msg.removeprefix("Value error, ")
        key = f"{loc}: " if loc and not msg.startswith(loc.split(".")[-1]) else ""
        got = err.get("input")
        tail = "" if isinstance(got, dict) else f"; got {got!r}"
        raise UserInputError(f"{key}{msg}{tail}", source=where) from None


def _origin_under(origin: Mapping[str, str], loc: str, default: str) -> str:
    """Where the values under ``loc`` came from (a section-level error: a file, not --set)."""
    prefix = f"{loc}." if loc else ""
    sources = sorted({o for p, o in origin.items() if p.startswith(prefix) or p == loc})
    if not sources:
        return default
    return sources[0] if len(sources) == 1 else " and ".join(sources)


def as_params(params: Params | Mapping[str, Any] | None) -> Params:
    """Accept a :class:`Params`, a flat dict of dotted paths, a nested dict, or None."""
    if params is None:
        return Params()
    if isinstance(params, Params):
        return params
    flat = _flatten_doc(params)
    return resolve_params(None, flat, source="params")
