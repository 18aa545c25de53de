"""Building blocks of the parameter schema (:mod:`abm.scenario`): the field helper and base."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


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

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data: Any) -> Any:
        """``true``/``false`` is not a number (pydantic's lax mode would read it as 1/0)."""
        if isinstance(data, dict):
            for key, value in data.items():
                if value is True or value is False:  # fast path: most values are not booleans
                    field = cls.__pydantic_fields__.get(key)
                    kind = field.annotation if field is not None else None
                    if kind in (int, float) or kind in (int | None, float | None):
                        raise ValueError(f"{key}: a number is needed, got {str(value).lower()}")
        return data
