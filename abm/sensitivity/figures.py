"""Figures and ``report.md`` of a sensitivity folder (``DIR/sensitivity/``).

Figures: index bars with their 95 % intervals (one panel per output), Morris μ*–σ, indices
over time (timeseries outputs), convergence at N/4, N/2, N. Every figure names its source
(experiment, method, design size, replicates) and its units: Sobol', FAST, RBD-FAST, delta
and PAWN indices are dimensionless shares or distances; Morris μ* and σ are in output units
per whole parameter range (elementary effects on the unit hypercube).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.sensitivity.analysis import MAIN_INDEX

#: Parameters shown per panel (the most influential).
TOP = 12
MAX_PANELS = 6


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _source(meta: dict[str, Any], method: str) -> str:
    return (
        f"Source: abm sensitivity, experiment {meta.get('experiment')!s}, model "
        f"{meta.get('model')!s}; SALib {method}; {meta.get('design_points')} design points × "
        f"{meta.get('replicates')} replicates (averaged)."
    )


def _short(name: str, width: int = 38) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def fig_bars(result: pd.DataFrame, meta: dict[str, Any], method: str, out: Path) -> str | None:
    """Headline indices of one method with 95 % intervals, one panel per KPI output."""
    plt = _plt()
    rows = result[(result["method"] == method) & result["year"].isna()]
    rows = rows[rows["index"].isin(MAIN_INDEX[method])]
    scenario = rows["scenario"].iloc[0] if len(rows) else None
    rows = rows[rows["scenario"] == scenario]
    known = rows.groupby("output", sort=False)["value"].apply(lambda v: v.notna().any())
    outputs = [o for o in dict.fromkeys(rows["output"]) if known[o]][:MAX_PANELS]
    if not outputs:
        return None
    fig, axes = plt.subplots(
        1, len(outputs), figsize=(4.2 * len(outputs), 0.35 * TOP + 1.8), squeeze=False
    )
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = rows[rows["output"] == output]
        first = MAIN_INDEX[method][-1]
        order = (
            sub[sub["index"] == first].sort_values("value", ascending=True).tail(TOP)["parameter"]
        )
        ypos = np.arange(len(order))
        for k, idx in enumerate(MAIN_INDEX[method]):
            vals = sub[sub["index"] == idx].set_index("parameter").reindex(order)
            ax.barh(
                ypos + 0.38 * k - 0.19 * (len(MAIN_INDEX[method]) - 1),
                vals["value"].to_numpy(dtype=float),
                height=0.36 if len(MAIN_INDEX[method]) > 1 else 0.7,
                xerr=vals["conf"].to_numpy(dtype=float),
                label=idx,
                capsize=2,
            )
        ax.set_yticks(ypos, [_short(p) for p in order], fontsize=7)
        unit = "output units per range" if method == "morris" else "dimensionless"
        ax.set_xlabel(f"{'/'.join(MAIN_INDEX[method])} ({unit})", fontsize=8)
        ax.set_title(output, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{method} indices with 95 % intervals — scenario {scenario}", fontsize=10)
    fig.text(0.01, 0.005, _source(meta, method), fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    path = out / f"indices_{method}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def fig_morris(result: pd.DataFrame, meta: dict[str, Any], out: Path) -> str | None:
    """Morris μ* against σ (non-linearity / interactions), one panel per KPI output."""
    plt = _plt()
    rows = result[(result["method"] == "morris") & result["year"].isna()]
    if rows.empty:
        return None
    scenario = rows["scenario"].iloc[0]
    rows = rows[rows["scenario"] == scenario]
    outputs = list(dict.fromkeys(rows["output"]))[:MAX_PANELS]
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.4 * len(outputs), 4.2), squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        wide = rows[rows["output"] == output].pivot_table(
            index="parameter", columns="index", values="value"
        )
        if "mu_star" not in wide or "sigma" not in wide:
            continue
        ax.scatter(wide["mu_star"], wide["sigma"], s=18)
        for name, r in wide.sort_values("mu_star").tail(6).iterrows():
            ax.annotate(_short(str(name), 26), (r["mu_star"], r["sigma"]), fontsize=6)
        lim = float(np.nanmax([wide["mu_star"].max(), wide["sigma"].max(), 1e-12]))
        ax.plot([0, lim], [0, lim], color="grey", lw=0.6, ls="--")
        ax.set_xlabel("μ* (output units per range)", fontsize=8)
        ax.set_ylabel("σ (output units per range)", fontsize=8)
        ax.set_title(output, fontsize=9)
    fig.suptitle(f"Morris μ*–σ — scenario {scenario} (dashed: σ = μ*)", fontsize=10)
    fig.text(0.01, 0.005, _source(meta, "morris"), fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    path = out / "morris_mu_sigma.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def fig_over_time(result: pd.DataFrame, meta: dict[str, Any], out: Path) -> str | None:
    """The headline index of the first method over the years, per timeseries output."""
    plt = _plt()
    rows = result[result["year"].notna() & (result["method"] != "replicates")]
    if rows.empty:
        return None
    method = str(rows["method"].iloc[0])
    idx = MAIN_INDEX[method][-1]
    scenario = rows["scenario"].iloc[0]
    rows = rows[(rows["method"] == method) & (rows["index"] == idx)]
    rows = rows[rows["scenario"] == scenario]
    outputs = list(dict.fromkeys(rows["output"]))[:MAX_PANELS]
    fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 3.8), squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = rows[rows["output"] == output]
        top = sub.groupby("parameter")["value"].mean().sort_values().tail(6).index
        for p in top:
            line = sub[sub["parameter"] == p].sort_values("year")
            yr = line["year"].to_numpy(dtype=float)
            v, c = line["value"].to_numpy(dtype=float), line["conf"].to_numpy(dtype=float)
            ax.plot(yr, v, label=_short(p, 30), lw=1.2)
            ax.fill_between(yr, v - c, v + c, alpha=0.15)
        ax.set_xlabel("year", fontsize=8)
        ax.set_ylabel(
            f"{idx} ({'output units' if method == 'morris' else 'dimensionless'})", fontsize=8
        )
        ax.set_title(output, fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(f"{method} {idx} over time (band: 95 % interval) — {scenario}", fontsize=10)
    fig.text(0.01, 0.005, _source(meta, method), fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    path = out / "indices_over_time.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def fig_convergence(conv: pd.DataFrame, meta: dict[str, Any], out: Path) -> str | None:
    """Headline indices at N/4, N/2, N for the most influential parameters."""
    plt = _plt()
    if conv.empty:
        return None
    scenario = conv["scenario"].iloc[0]
    conv = conv[conv["scenario"] == scenario]
    panels = list(conv.groupby(["method", "output", "index"], sort=False))[:MAX_PANELS]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, ((method, output, idx), sub) in zip(axes[0], panels, strict=True):
        n_max = sub["n"].max()
        top = sub[sub["n"] == n_max].sort_values("value").tail(5)["parameter"]
        for p in top:
            line = sub[sub["parameter"] == p].sort_values("n")
            style = "-" if bool(line["settled"].iloc[-1]) else ":"
            ax.errorbar(
                line["n"],
                line["value"],
                yerr=line["conf"],
                ls=style,
                marker="o",
                ms=3,
                capsize=2,
                label=_short(str(p), 28),
            )
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (base samples / trajectories / rows)", fontsize=8)
        ax.set_ylabel(str(idx), fontsize=8)
        year = sub["year"].dropna()
        when = f" {int(year.iloc[0])}" if len(year) else ""
        ax.set_title(f"{method}: {output}{when} ({idx})", fontsize=8)
        ax.legend(fontsize=6)
    fig.suptitle(f"Convergence (dotted: not settled) — {scenario}", fontsize=10)
    fig.text(0.01, 0.005, _source(meta, "analysers"), fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 0.94))
    path = out / "convergence.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _md_table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _top_table(result: pd.DataFrame) -> str:
    parts = []
    kpi = result[result["year"].isna() & (result["method"] != "replicates")]
    for (scenario, output, method), sub in kpi.groupby(
        ["scenario", "output", "method"], sort=False
    ):
        idx = MAIN_INDEX[str(method)][-1]
        top = sub[sub["index"] == idx].sort_values("value", ascending=False).head(8)
        parts.append(f"**{output}** — {method} `{idx}` (scenario {scenario})\n")
        parts.append(_md_table(top[["parameter", "value", "conf"]]) + "\n")
    return "\n".join(parts)


def write_report(
    out_dir: Path, result: pd.DataFrame, conv: pd.DataFrame, meta: dict[str, Any]
) -> Path:
    """Write the figures and ``report.md`` into ``out_dir/sensitivity/``; return the report."""
    folder = out_dir / "sensitivity"
    folder.mkdir(exist_ok=True)
    figures = []
    for method in meta["methods"]:
        figures.append((f"{method} indices", fig_bars(result, meta, method, folder)))
    figures.append(("Morris μ*–σ", fig_morris(result, meta, folder)))
    figures.append(("Indices over time", fig_over_time(result, meta, folder)))
    figures.append(("Convergence", fig_convergence(conv, meta, folder)))
    seed = result[(result["method"] == "replicates") & result["year"].isna()]
    lines = [
        f"# Sensitivity analysis: {meta.get('experiment')}",
        "",
        f"- model: `{meta.get('model')}`; design: {meta.get('design')} "
        f"({meta.get('design_points')} points × {meta.get('replicates')} replicates, averaged "
        "on common random numbers before analysis)",
        f"- methods: {', '.join(meta['methods'])}; outputs: {', '.join(meta['outputs'])}",
        f"- parameters ({len(meta['parameters'])}): {', '.join(meta['parameters'])}",
        "- intervals: SALib bootstrap, 95 % half-width; Morris μ*, σ in output units per "
        "whole parameter range",
        "",
        "## Most influential parameters",
        "",
        _top_table(result),
        "## Share of output variance due to the seed",
        "",
        "`seed_share`: of one run's variance; `seed_share_of_mean`: left in the replicate "
        "means the indices are computed on.",
        "",
        _md_table(seed[["scenario", "output", "index", "value", "conf"]]) if len(seed) else "—",
        "",
    ]
    if not conv.empty:
        bad = conv[~conv["settled"]].drop_duplicates(
            ["scenario", "output", "method", "parameter", "index"]
        )
        lines += ["## Convergence", ""]
        lines.append(
            "All headline indices settled between N/2 and N."
            if bad.empty
            else f"{len(bad)} indices have **not settled** between N/2 and N (moved more than "
            "their 95 % interval and 5 % of the largest index, or an interval wider than a "
            "quarter of the largest index): "
            + ", ".join(f"{r.output}/{r.method}/{r.parameter}" for r in bad.head(20).itertuples())
        )
        lines.append("")
    if meta.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in meta["warnings"]] + [""]
    lines += ["## Figures", ""]
    lines += [f"![{title}]({name})" for title, name in figures if name]
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def rebuild_report(out_dir: Path) -> Path | None:
    """Rebuild ``DIR/sensitivity/`` from the stored tables (``abm report`` on a sensitivity
    folder); ``None`` when the folder has no ``sensitivity.parquet``."""
    import json

    path = out_dir / "sensitivity.parquet"
    meta_path = out_dir / "sensitivity.json"
    if not path.is_file() or not meta_path.is_file():
        return None
    conv_path = out_dir / "convergence.parquet"
    conv = pd.read_parquet(conv_path) if conv_path.is_file() else pd.DataFrame()
    meta = json.loads(meta_path.read_text())
    return write_report(out_dir, pd.read_parquet(path), conv, meta)
