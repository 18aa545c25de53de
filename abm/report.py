"""Comparison report of a results folder: tables and figures per scenario.

``abm report DIR`` works on any results folder — a batch (``abm batch``) or a single run
(``abm run --out DIR``) — and writes ``DIR/report/``: ``report.md``, ``report.html`` (the same
content, figures embedded, no extra dependencies) and one PNG per figure.

Statistics
----------
Per scenario, a KPI is summarised over all of the scenario's runs (replicates, and design points
when the study has a design) by its mean and the 95 % confidence interval of that mean,
``mean ± t(0.975, n-1) · sd / √n`` (Student t; :func:`mean_ci`). It says how precisely the
batch pins down each scenario's expected outcome, and shrinks with more replicates; it is not
the spread of single runs. With one run there is no interval. Runs whose KPI is NaN (e.g. cost
per t CO2e when nothing was spent) are left out of that KPI and the count says so.

Because every scenario uses the same replicate seeds (common random numbers), differences to
the baseline are computed *paired*: per (design point, replicate), scenario minus baseline, then
mean and t-interval of those differences, which removes the noise the scenarios share. Costs per
*additional* tonne use the one definition of :data:`abm.reporters.COST_PER_TONNE`
(:func:`abm.reporters.cost_per_tonne`): mean paired Δcost ÷ mean paired Δtonnes, with a 95 %
percentile bootstrap interval over the pairs (2,000 resamples, fixed seed). Public cost = public
spend; social cost = farmers' net private cost of practices + all MRV + advice funding +
inspections (transfers cancel); tonnes = sequestration (not storage) by the end, or permanent
-equivalent tonnes (ton-years over 100 years). Additional hectares and tonnes are the paired
differences of the area under any practice and of sequestration; the additionality share
(payments not going to area the farm already had under the practice) is per run.

Bounded outputs get intervals inside their bounds (:func:`bounded_interval`): for shares
(0–100 %) the t interval is built on the logit scale of the mean and transformed back, for
non-negative totals on the log scale; with many runs this is the plain t interval, with few it
is asymmetric instead of reaching below 0 % or above 100 %.

Figures: adoption curves, SOC trajectories, the 4 ‰ indicator against its target, cumulative
CO2e sequestered vs stored, cost-effectiveness, exchange flows by kind, adoption by practice.
Lines are scenario means; bands are the 95 % CI of the mean (Student t; shares on the logit
scale). A folder with fewer runs than planned says "incomplete: k of n runs" in the report and
in every figure's legend.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from abm.report_equilibrium import fig_equilibrium
from abm.report_figures import (  # noqa: F401 (re-exported)
    _band_note,
    _band_plot,
    _colors,
    _cost_bars,
    _figure,
    _legend,
    _nice_prices,
    _save,
    _style,
    fig_4p1000,
    fig_adoption,
    fig_carbon,
    fig_cost,
    fig_exchanges,
    fig_practices,
    fig_soc,
    incomplete,
    ledger_totals,
)
from abm.report_stats import (  # noqa: F401 (re-exported)
    BASELINE,
    BASELINE_COLOR,
    COST_LABELS,
    DIFF_METRICS,
    DPI,
    KIND_COLORS,
    KINDS,
    METRICS,
    NON_NEGATIVE,
    PALETTE,
    PERCENT,
    SEQ_KPI,
    SPEND_KPI,
    TARGET_PERMILLE,
    Metric,
    _baseline,
    _cell,
    _Data,
    _diff_bounds,
    _fmt,
    _load,
    _pairs,
    bootstrap_ratio,
    bounded_interval,
    diff_table,
    incremental_cost,
    kpi_table,
    mean_ci,
    paired_costs,
    timeseries_stats,
)


def markdown_table(frame: pd.DataFrame, index_label: str = "") -> str:
    """A pipe table (GitHub markdown) of a DataFrame of strings."""
    header = [index_label, *map(str, frame.columns)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["--:"] * len(frame.columns)) + "|",
    ]
    for idx, row in frame.iterrows():
        lines.append("| " + " | ".join([str(idx), *map(str, row.tolist())]) + " |")
    return "\n".join(lines)


FIGURES: tuple[tuple[str, str], ...] = (
    ("adoption", "Adoption curves"),
    ("soc", "SOC trajectories"),
    ("four_per_1000", "The 4 ‰ indicator against its target"),
    ("carbon", "CO2e sequestered vs stored"),
    ("cost_effectiveness", "Cost-effectiveness"),
    ("exchanges", "Exchange flows by kind"),
    ("practices", "Adoption by practice"),
    ("equilibrium", "Saturation and the new equilibrium"),
)


def build_report(results_dir: Path) -> Path:
    """Write ``DIR/report/`` (``report.md``, ``report.html``, PNGs); return ``report.md``.

    Raises
    ------
    UserInputError
        When the folder does not exist or holds no finished run.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # figures are built on Figure objects; no GUI needed

    from abm.calibration.report import build_calibration_report, is_calibration

    if is_calibration(Path(results_dir)):  # posterior, fit and their figures
        return build_calibration_report(Path(results_dir))
    data = _load(Path(results_dir))
    out = data.root / "report"
    out.mkdir(exist_ok=True)
    colors = _colors(data.scenarios)
    makers: dict[str, Callable[[], str | None]] = {
        "adoption": lambda: fig_adoption(data, out, colors),
        "soc": lambda: fig_soc(data, out, colors),
        "four_per_1000": lambda: fig_4p1000(data, out, colors),
        "carbon": lambda: fig_carbon(data, out, colors),
        "cost_effectiveness": lambda: fig_cost(data, out, colors),
        "exchanges": lambda: fig_exchanges(data, out),
        "practices": lambda: fig_practices(data, out),
        "equilibrium": lambda: fig_equilibrium(data, out, colors),
    }
    figures: list[tuple[str, str]] = []
    try:
        for key, title in FIGURES:
            name = makers[key]()
            if name is not None:
                figures.append((title, name))
        kpis = kpi_table(data.runs, data.scenarios)
        base = _baseline(data.scenarios)
        diffs = diff_table(data.runs, data.scenarios, base) if base else None
    finally:
        data.con.close()
    md = _markdown(data, kpis, diffs, base, figures)
    from abm.sensitivity.figures import rebuild_report

    if rebuild_report(data.root) is not None:  # a sensitivity folder: indices, figures
        md += (
            "\n## Sensitivity analysis\n\nSee [sensitivity/report.md](../sensitivity/report.md).\n"
        )
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(_html(data, kpis, diffs, base, figures, out), encoding="utf-8")
    return out / "report.md"


def _header(data: _Data) -> list[tuple[str, str]]:
    m = data.manifest
    runs = data.runs
    items = [
        ("results folder", str(data.root)),
        ("experiment", str(m.get("experiment", data.root.name))),
        ("kind", str(m.get("kind", "unknown"))),
        ("runs", f"{len(runs)} finished, {data.n_failed} failed"),
        ("scenarios", ", ".join(data.scenarios)),
    ]
    missing = incomplete(data)
    if missing:
        from abm.batch.store import writer_alive

        status = str(m.get("status", "unknown"))
        if status == "running" and not writer_alive(data.root):
            status = "stopped without finishing (killed)"
        items.insert(3, ("status", f"{missing}; batch {status}; complete it with --resume"))
    if "replicate" in runs.columns:
        planned = m.get("replicates")
        seen = str(runs["replicate"].nunique())
        items.append(("replicates", f"{seen} of {planned}" if missing and planned else seen))
    if "design_point" in runs.columns and runs["design_point"].nunique() > 1:
        items.append(("design points", str(runs["design_point"].nunique())))
    for key, label in (
        ("root_seed", "root seed"),
        ("model", "model"),
        ("git_commit", "git commit"),
    ):
        if m.get(key) is not None:
            items.append((label, str(m[key])))
    if m.get("finished") or m.get("started"):
        items.append(("finished", str(m.get("finished") or m.get("started"))))
    return items


METHOD_NOTE = (
    "Cells are the mean over a scenario's runs and, in brackets, the 95 % confidence interval "
    "of that mean (Student t: mean ± t·sd/√n; for shares and non-negative totals the same "
    "interval on the logit or log scale, transformed back, so it stays within 0–100 % or "
    "above 0); it measures how precisely the batch estimates "
    "each scenario's expected outcome, not the spread of single runs. “—”: not defined "
    "(e.g. € per t when nothing was spent). All scenarios share the same replicate seeds "
    "(common random numbers)."
)


SINGLE_NOTE = "One run per scenario: the cells are that run's values, without intervals."


def _method_note(data: _Data) -> str:
    many = int(data.runs.groupby("scenario").size().max()) > 1
    return METHOD_NOTE if many else SINGLE_NOTE


DIFF_NOTE = (
    "Differences are paired on common random numbers: for each design point and replicate the "
    "scenario's run minus the baseline's run with the same seed, then mean and 95 % CI of "
    "those differences. An interval that excludes 0 is a difference the batch resolves. "
    "Costs per additional tonne: mean paired Δcost ÷ mean paired Δtonnes (the same definition "
    "as the run KPIs, which are NaN in a single run for lack of a pair), 95 % bootstrap "
    "interval over pairs; “—” when the scenario adds no tonnes. Public cost = public spend "
    "(payments, public MRV, advice funding, inspections); social cost = farmers' net private "
    "cost of practices + all MRV + advice funding + inspections (payments are transfers). "
    "Permanent tonnes: ton-year accounting, a tonne held one year = 1/100 permanent tonne "
    "(Moura Costa & Wilson 2000), counting only the simulated years."
)


def _markdown(
    data: _Data,
    kpis: pd.DataFrame,
    diffs: pd.DataFrame | None,
    base: str | None,
    figures: list[tuple[str, str]],
) -> str:
    lines = [f"# Scenario comparison — {data.manifest.get('experiment', data.root.name)}", ""]
    lines += [f"- **{k}**: {v}" for k, v in _header(data)]
    if incomplete(data):
        lines += [
            "",
            f"> **{incomplete(data)}**: the batch did not finish; figures and "
            "tables show the runs done so far.",
        ]
    if data.n_failed:
        lines += [
            "",
            f"> {data.n_failed} runs failed and are not included; see `failures.parquet`.",
        ]
    lines += ["", "## Key results per scenario", "", _method_note(data), ""]
    lines.append(markdown_table(kpis, "KPI"))
    if diffs is not None:
        lines += ["", f"## Difference to {base}", "", DIFF_NOTE, "", markdown_table(diffs, "KPI")]
    lines += ["", "## Figures", ""]
    for title, name in figures:
        lines += [f"### {title}", "", f"![{title}]({name})", ""]
    return "\n".join(lines).rstrip() + "\n"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:.85em;margin:1em 0;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{background:#f3f3f3}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
.note{color:#555;font-size:.9em}
ul.meta{columns:2;font-size:.9em}
"""


def _html_table(frame: pd.DataFrame, index_label: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [index_label, *frame.columns])
    body = []
    for idx, row in frame.iterrows():
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row.tolist())
        body.append(f"<tr><td>{html.escape(str(idx))}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html(
    data: _Data,
    kpis: pd.DataFrame,
    diffs: pd.DataFrame | None,
    base: str | None,
    figures: list[tuple[str, str]],
    out: Path,
) -> str:
    title = f"Scenario comparison — {data.manifest.get('experiment', data.root.name)}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><ul class='meta'>",
    ]
    parts += [f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in _header(data)]
    parts.append("</ul>")
    if incomplete(data):
        parts.append(
            f"<p class='note'><b>{html.escape(incomplete(data))}</b>: the batch did not "
            "finish; figures and tables show the runs done so far.</p>"
        )
    if data.n_failed:
        parts.append(
            f"<p class='note'>{data.n_failed} runs failed and are not included; see "
            "<code>failures.parquet</code>.</p>"
        )
    parts += [
        "<h2>Key results per scenario</h2>",
        f"<p class='note'>{html.escape(_method_note(data))}</p>",
    ]
    parts.append(_html_table(kpis, "KPI"))
    if diffs is not None:
        parts += [
            f"<h2>Difference to {html.escape(str(base))}</h2>",
            f"<p class='note'>{html.escape(DIFF_NOTE)}</p>",
            _html_table(diffs, "KPI"),
        ]
    parts.append("<h2>Figures</h2>")
    for fig_title, name in figures:
        b64 = base64.b64encode((out / name).read_bytes()).decode()
        parts.append(
            f"<h3>{html.escape(fig_title)}</h3>"
            f"<img alt='{html.escape(fig_title)}' src='data:image/png;base64,{b64}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
