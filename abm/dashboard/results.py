"""Results page of the dashboard (``abm dashboard --results DIR``, page /results).

The report's comparison (:mod:`abm.report`), interactive: pick scenarios and KPIs, see each
scenario's mean with its 95 % confidence interval of the mean, and the paired (common random
numbers) differences to the baseline; the sensitivity indices when the folder has
``sensitivity.parquet``. The statistics are the report's own functions (``kpi_table``,
``diff_table``, ``mean_ci``), so the page and ``abm report`` never disagree.

Safety: the folder is read through DuckDB's Parquet reader and ``manifest.json`` through the
JSON parser; nothing loaded is unpickled or evaluated, and every string from the folder is
HTML-escaped before it is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure

from abm import report
from abm.errors import UserInputError
from abm.report import METRICS, Metric

#: KPIs shown before the user picks (report labels).
DEFAULT_KPIS = 4


@dataclass
class Results:
    """What the page shows of one results folder (all read once, then closed)."""

    root: Path
    runs: pd.DataFrame
    scenarios: list[str]
    metrics: list[Metric]
    baseline: str | None
    n_failed: int
    note: str
    sensitivity: pd.DataFrame | None


def label(m: Metric) -> str:
    """The KPI's row label, as in the report's tables: ``label (unit)``."""
    return f"{m.label} ({m.unit})"


def load_results(root: Path | str) -> Results:
    """Read a results folder (DESIGN.md §8) with the report's loader.

    Raises
    ------
    abm.errors.UserInputError
        Not a folder, or no finished runs.
    """
    from abm.batch.store import read_table, table_files

    data = report._load(Path(root))
    try:
        note = report.incomplete(data)
        sens = None
        if table_files(data.root, "sensitivity"):
            sens = read_table(data.root, "sensitivity")
        return Results(
            root=data.root,
            runs=data.runs,
            scenarios=list(data.scenarios),
            metrics=[m for m in METRICS if m.column in data.runs.columns],
            baseline=report._baseline(data.scenarios),
            n_failed=data.n_failed,
            note=note,
            sensitivity=sens,
        )
    finally:
        data.con.close()


def intervals(res: Results, metrics: list[Metric], scenarios: list[str]) -> pd.DataFrame:
    """Per KPI and scenario: mean, low, high (95 % CI of the mean, report scale), n."""
    rows = []
    for m in metrics:
        for name in scenarios:
            x = res.runs.loc[res.runs["scenario"] == name, m.column].to_numpy(dtype=float)
            mean, lo, hi, n = report.mean_ci(x * m.scale, bounds=m.bounds)
            rows.append(
                {"kpi": label(m), "scenario": name, "mean": mean, "low": lo, "high": hi, "n": n}
            )
    return pd.DataFrame(rows, columns=["kpi", "scenario", "mean", "low", "high", "n"])


def paired_differences(res: Results, metrics: list[Metric], scenarios: list[str]) -> pd.DataFrame:
    """Per KPI and scenario: paired difference to the baseline, mean and 95 % CI, n pairs."""
    rows: list[dict[str, Any]] = []
    if res.baseline is None:
        return pd.DataFrame(rows, columns=["kpi", "scenario", "mean", "low", "high", "n"])
    for name in scenarios:
        if name == res.baseline:
            continue
        p = report._pairs(res.runs, name, res.baseline)
        for m in metrics:
            d = p[m.column].to_numpy(dtype=float) - p[f"{m.column}__base"].to_numpy(dtype=float)
            mean, lo, hi, n = report.mean_ci(d * m.scale, bounds=report._diff_bounds(m))
            rows.append(
                {"kpi": label(m), "scenario": name, "mean": mean, "low": lo, "high": hi, "n": n}
            )
    return pd.DataFrame(rows, columns=["kpi", "scenario", "mean", "low", "high", "n"])


def interval_figure(
    frame: pd.DataFrame, title: str, zero: bool = False, colors: dict[str, str] | None = None
) -> Figure:
    """One panel per KPI: each scenario's mean with its 95 % interval (horizontal bars).

    ``colors`` maps scenarios to colours (default: the report's, from the scenarios shown).
    """
    palette = colors or report._colors(list(dict.fromkeys(frame["scenario"])))
    kpis = list(dict.fromkeys(frame["kpi"]))
    fig = Figure(figsize=(7.0, 0.6 + 1.2 * max(len(kpis), 1)), dpi=80, layout="constrained")
    if not kpis:
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "nothing selected", ha="center")
        return fig
    axes = np.atleast_1d(fig.subplots(len(kpis), 1))
    for ax, kpi in zip(axes, kpis, strict=True):
        sub = frame[frame["kpi"] == kpi].reset_index(drop=True)
        y = np.arange(len(sub))
        err = np.vstack([sub["mean"] - sub["low"], sub["high"] - sub["mean"]])
        err = np.where(np.isfinite(err), err, 0.0)
        for i, scenario in enumerate(sub["scenario"]):
            color = palette.get(scenario, "#333333")
            ax.errorbar(
                sub["mean"][i], y[i], xerr=err[:, i : i + 1], fmt="o", color=color, capsize=3
            )
        if zero:
            ax.axvline(0, color="#666", lw=0.8)
        ax.set_yticks(y, sub["scenario"].tolist(), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(kpi, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return fig


def sensitivity_view(sens: pd.DataFrame, output: str) -> tuple[pd.DataFrame, Figure]:
    """First-order/total (or the method's) indices of one output: table and bar chart."""
    sub = sens[(sens["output"] == output) & sens["parameter"].notna()].copy()
    if "year" in sub.columns:
        years = sub["year"].dropna()
        if not years.empty:  # the last year of a per-year analysis
            sub = sub[sub["year"] == years.max()]
    table = sub.pivot_table(index="parameter", columns="index", values="value", aggfunc="first")
    order = next((c for c in ("ST", "mu_star", "delta", "S1") if c in table.columns), None)
    if order is not None:
        table = table.sort_values(order, ascending=False)
    fig = Figure(figsize=(7.0, 0.8 + 0.35 * max(len(table), 1)), dpi=80, layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))
    width = 0.8 / max(len(table.columns), 1)
    for i, col in enumerate(table.columns):
        ax.barh(y + i * width, table[col].fillna(0.0), height=width, label=str(col))
    ax.set_yticks(y + 0.4 - width / 2, [str(p) for p in table.index], fontsize=8)
    ax.invert_yaxis()
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"Sensitivity of {output}", fontsize=10)
    return table, fig


def _table(frame: pd.DataFrame, index_label: str) -> None:
    # report._html_table escapes every cell, header and index (strings come from the folder).
    solara.HTML(tag="div", unsafe_innerHTML=report._html_table(frame, index_label))


@solara.component
def ResultsPage(root: str | None) -> None:
    """The results page for the folder ``root`` (None: say how to give one)."""
    if not root:
        solara.Markdown("No results folder: start the dashboard with `--results DIR`.")
        return
    ResultsBody(root)


@solara.component
def ResultsBody(root: str) -> None:
    """Load the folder once per session; show the error line if it cannot be read."""
    res = solara.use_memo(lambda: _safe_load(root), [root])
    if isinstance(res, str):
        solara.Error(res)
        return
    ResultsView(res)


@solara.component
def ResultsView(res: Results) -> None:
    """Pickers, KPI table and intervals, paired differences, sensitivity."""
    picked, set_picked = solara.use_state(list(res.scenarios))
    kpis, set_kpis = solara.use_state([label(m) for m in res.metrics[:DEFAULT_KPIS]])
    chosen = [m for m in res.metrics if label(m) in kpis]
    palette = report._colors(res.scenarios)  # one colour per scenario, whatever is picked
    scen = [s for s in res.scenarios if s in picked]
    solara.Title("abm results")
    solara.Style(".abm-results td, .abm-results th { padding: 2px 12px; }")
    with solara.Column(classes=["abm-results"]):
        solara.Markdown(f"## Results: `{res.root.name}`")
        solara.Text(
            f"{len(res.runs)} runs of {len(res.scenarios)} scenarios"
            + (f"; {res.n_failed} failed" if res.n_failed else "")
            + (f"; {res.note}" if res.note else "")
        )
        with solara.Row():
            solara.SelectMultiple("Scenarios", picked, res.scenarios, on_value=set_picked)
            solara.SelectMultiple("KPIs", kpis, [label(m) for m in res.metrics], on_value=set_kpis)
        solara.Markdown("### KPIs: mean [95 % CI of the mean] over runs")
        table = report.kpi_table(res.runs, scen) if scen else pd.DataFrame()
        rows = ["runs (n)", *[label(m) for m in chosen]]
        _table(table.loc[[r for r in rows if r in table.index]], "KPI")
        solara.FigureMatplotlib(
            interval_figure(
                intervals(res, chosen, scen), "Scenario means, 95 % CI", colors=palette
            ),
            format="png",
            dependencies=[tuple(scen), tuple(kpis)],
        )
        _differences(res, chosen, scen, palette)
        if res.sensitivity is not None and not res.sensitivity.empty:
            SensitivitySection(res.sensitivity)


def _differences(
    res: Results, chosen: list[Metric], scen: list[str], palette: dict[str, str]
) -> None:
    if res.baseline is None:
        solara.Info("No scenario named baseline: no paired differences.")
        return
    solara.Markdown(f"### Paired differences to `{res.baseline}` (same seeds; mean [95 % CI])")
    diff = report.diff_table(
        res.runs, [res.baseline, *[s for s in scen if s != res.baseline]], res.baseline
    )
    if diff is None:
        solara.Text("Pick a scenario besides the baseline.")
        return
    rows = ["pairs (n)", *[f"Δ {label(m)}" for m in chosen]]
    _table(diff.loc[[r for r in rows if r in diff.index]], "Δ KPI")
    solara.FigureMatplotlib(
        interval_figure(
            paired_differences(res, chosen, scen), "Δ to baseline, 95 % CI", True, palette
        ),
        format="png",
        dependencies=[tuple(scen), tuple(label(m) for m in chosen)],
    )


@solara.component
def SensitivitySection(sens: pd.DataFrame) -> None:
    """Pick an output; its indices as a table and bars."""
    outputs = sorted(map(str, sens["output"].dropna().unique()))
    output, set_output = solara.use_state(outputs[0] if outputs else "")
    solara.Markdown("### Sensitivity")
    if not outputs:
        solara.Text("sensitivity.parquet has no outputs")
        return
    solara.Select("Output", value=output, values=outputs, on_value=set_output)
    table, fig = sensitivity_view(sens, output)
    _table(table.map(lambda v: "—" if not math.isfinite(v) else f"{v:.3f}"), "parameter")
    solara.FigureMatplotlib(fig, format="png", dependencies=[output])


def _safe_load(root: str) -> Results | str:
    try:
        return load_results(Path(root))
    except UserInputError as exc:
        return f"error: {exc}"
