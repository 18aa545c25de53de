"""Building blocks of the parameter schema (:mod:`abm.scenario`): the field helper and base."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def P(
    default: Any,
    unit: str,
    source: str,
    *,
    ge: float | None = None,
    le: float | None = None,
    sens: tuple[float, float] | None = None,
    desc: str = "",
) -> Any:
    """A parameter field: default, unit, source, allowed range and sensitivity range."""
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if sens is not None:
        extra["sensitivity"] = list(sens)
    return Field(default, ge=ge, le=le, description=desc, json_schema_extra=extra)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False, frozen=False)
