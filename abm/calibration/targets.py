"""Calibration targets: observed series in the ``year,value,unit,source`` format.

A target maps a CSV of observations onto a timeseries column of the model, with an optional
``scale`` (observed value × scale = model units; 0.01 turns a percentage into a share).
``until`` (a year) keeps later rows out of the distance: they are predicted, not fitted (a
hold-out); ``fit = false`` predicts the whole series. Every problem is a one-line
:class:`abm.errors.UserInputError` naming the file and the key.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError

TARGET_KEYS = ("file", "output", "scale", "name", "until", "fit")
REQUIRED_COLUMNS = ("year", "value")


@dataclass(frozen=True)
class Target:
    """One observed series, ready to compare with the model.

    Attributes
    ----------
    name
        Label in ``fit.parquet`` and the figures (default: the file's stem).
    file
        The CSV it was read from.
    output
        The timeseries column of the model it is compared with.
    scale
        Observed value × scale = model units.
    years, observed
        The observations (in model units, after ``scale``), sorted by year.
    fitted
        Per observation: whether it enters the distance (False after ``until`` or with
        ``fit = false``).
    """

    name: str
    file: str
    output: str
    scale: float
    years: tuple[int, ...]
    observed: tuple[float, ...]
    fitted: tuple[bool, ...]

    @property
    def fit_years(self) -> tuple[int, ...]:
        """The years that enter the distance."""
        return tuple(y for y, f in zip(self.years, self.fitted, strict=True) if f)

    @property
    def norm(self) -> float:
        """Scale of the target's distance: mean absolute observed value over fitted years."""
        obs = [abs(o) for o, f in zip(self.observed, self.fitted, strict=True) if f]
        m = float(np.mean(obs)) if obs else 0.0
        return m if m > 0 else 1.0


def read_series(path: Path, source: str) -> pd.DataFrame:
    """Read a ``year,value[,unit,source]`` CSV; year integer, value a finite number."""
    if not path.is_file():
        raise UserInputError(f"target file {path} not found", source=source)
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserInputError(
            f"target file {path}: cannot read it as CSV ({exc})", source=source
        ) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise UserInputError(
            f"target file {path}: no {missing[0]!r} column; a target CSV has the columns "
            "year,value,unit,source (year and value required)",
            source=source,
        )
    if frame.empty:
        raise UserInputError(f"target file {path}: no rows", source=source)
    years = pd.to_numeric(frame["year"], errors="coerce")
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame.index[years.isna() | (years % 1 != 0) | values.isna() | ~np.isfinite(values)]
    if len(bad):
        row = int(bad[0]) + 2
        raise UserInputError(
            f"target file {path}, line {row}: year must be an integer and value a finite number",
            source=source,
        )
    if years.duplicated().any():
        dup = int(years[years.duplicated()].iloc[0])
        raise UserInputError(f"target file {path}: year {dup} appears twice", source=source)
    return pd.DataFrame({"year": years.astype(int), "value": values.astype(float)}).sort_values(
        "year"
    )


def make_target(entry: Mapping[str, Any], where: str, base: Path, source: str) -> Target:
    """Validate one ``[[targets]]`` entry (``where`` names it in messages)."""
    unknown = sorted(set(entry) - set(TARGET_KEYS))
    if unknown:
        raise UserInputError(
            f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(TARGET_KEYS)}", source=source
        )
    for key in ("file", "output"):
        if not isinstance(entry.get(key), str) or not entry.get(key):
            raise UserInputError(f"{where}.{key}: missing (a text value)", source=source)
    scale = entry.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise UserInputError(f"{where}.scale: a finite number, got {scale!r}", source=source)
    if scale == 0:
        raise UserInputError(f"{where}.scale: must not be 0", source=source)
    until = entry.get("until")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
        raise UserInputError(f"{where}.until: a year (integer), got {until!r}", source=source)
    fit = entry.get("fit", True)
    if not isinstance(fit, bool):
        raise UserInputError(f"{where}.fit: true or false, got {fit!r}", source=source)
    path = Path(entry["file"])
    if not path.is_absolute():
        path = base / path
    series = read_series(path, f"{source}: {where}.file" if source else f"{where}.file")
    years = tuple(int(y) for y in series["year"])
    fitted = tuple(fit and (until is None or y <= until) for y in years)
    if fit and not any(fitted):
        raise UserInputError(
            f"{where}.until = {until}: before the first observation ({years[0]}); nothing to fit",
            source=source,
        )
    name = str(entry.get("name") or Path(entry["file"]).stem)
    return Target(
        name=name,
        file=str(path),
        output=entry["output"],
        scale=float(scale),
        years=years,
        observed=tuple(float(v) * float(scale) for v in series["value"]),
        fitted=fitted,
    )


def parse_target_option(text: str) -> dict[str, Any]:
    """``CSV:OUTPUT[:SCALE]`` (``--target``) as a ``[[targets]]`` entry."""
    parts = text.rsplit(":", 2)
    where = f"--target {text}"
    if len(parts) == 3:
        try:
            scale = float(parts[2])
        except ValueError:
            parts = [text.rsplit(":", 1)[0], text.rsplit(":", 1)[1]]
        else:
            return {"file": parts[0], "output": parts[1], "scale": scale}
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        raise UserInputError(
            f"{where}: expected CSV:OUTPUT or CSV:OUTPUT:SCALE (e.g. "
            "us_cover_crops_share_cropland.csv:adoption_share_cover_crops:0.01)",
            source="command line",
        )
    return {"file": parts[0], "output": parts[1]}


def load_targets(
    entries: list[Mapping[str, Any]] | None, base: Path, source: str, *, cli: bool = False
) -> list[Target]:
    """Every target, validated; names made unique (``name``, ``name-2``...)."""
    if not entries:
        raise UserInputError(
            "no targets: add [[targets]] (file, output, optional scale) or give "
            "--target CSV:OUTPUT[:SCALE]",
            source=source,
        )
    out: list[Target] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"--target {entry.get('file')}" if cli else f"targets[{i + 1}]"
        tgt = make_target(
            entry, where, Path.cwd() if cli else base, "command line" if cli else source
        )
        name, k = tgt.name, 2
        while name in seen:
            name, k = f"{tgt.name}-{k}", k + 1
        seen.add(name)
        out.append(Target(**{**tgt.__dict__, "name": name}))
    return out


def check_target_outputs(
    targets: list[Target], produced: set[str], model: str, source: str
) -> None:
    """Every target's ``output`` must be a timeseries column the model produces."""
    for tgt in targets:
        if tgt.output not in produced:
            close = difflib.get_close_matches(tgt.output, sorted(produced), n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise UserInputError(
                f"target {tgt.name} ({tgt.file}): output {tgt.output!r} is not a timeseries "
                f"column of model {model!r}{hint}",
                source=source,
            )


def check_period(targets: list[Target], start: int, end: int, source: str) -> None:
    """The simulated period must cover every observation."""
    first = min(t.years[0] for t in targets)
    last = max(t.years[-1] for t in targets)
    if start > first:
        who = next(t for t in targets if t.years[0] == first)
        raise UserInputError(
            f"start_year = {start} is after the first observation ({first}, target "
            f"{who.name}); set start_year ≤ {first} (e.g. --set start_year={first})",
            source=source,
        )
    if end < last:
        who = next(t for t in targets if t.years[-1] == last)
        raise UserInputError(
            f"end_year = {end} is before the last observation ({last}, target {who.name}); "
            f"set end_year ≥ {last}",
            source=source,
        )
