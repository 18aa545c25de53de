"""Figures, ``report.md`` and the printed summary of a calibration folder.

:func:`build_calibration_report` reads only the folder (``posterior``, ``fit``, ``summary``
parquet files and the manifest), so ``abm report DIR`` rebuilds it at any time:

* ``marginals.png``: weighted posterior histogram per parameter over its prior's 90 % range;
* ``pairs.png``: posterior pairs (points sized by weight);
* ``predictive.png``: observations over the posterior-predictive median and 90 % band, per
  target (held-out observations hollow);
* ``shrinkage.png``: prior vs posterior 90 % intervals per parameter, on the prior's scale,
  so parameters the data did not inform (little shrinkage) are visible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.errors import UserInputError


def is_calibration(folder: Path) -> bool:
    """Whether ``folder`` holds a calibration's results."""
    try:
        man = json.loads((Path(folder) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(man, dict) and man.get("kind") == "calibration"


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    try:
        post = pd.read_parquet(folder / "posterior.parquet")
        fit = pd.read_parquet(folder / "fit.parquet")
        summary = pd.read_parquet(folder / "summary.parquet")
    except (OSError, ValueError) as exc:
        raise UserInputError(
            f"{folder} is a calibration folder without its tables ({exc}); the calibration "
            "did not finish: complete it with abm calibrate ... --resume",
            source=str(folder),
        ) from None
    man = json.loads((folder / "manifest.json").read_text())
    return post, fit, summary, man


def fig_marginals(post: pd.DataFrame, summary: pd.DataFrame, out: Path) -> str:
    import matplotlib.pyplot as plt

    n = len(summary)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    w = post["weight"].to_numpy(dtype=float)
    for ax, (_, s) in zip(axes.flat, summary.iterrows(), strict=False):
        ax.hist(post[s.parameter], bins=20, weights=w, color="tab:blue", alpha=0.7, density=True)
        ax.axvspan(s.prior_low, s.prior_high, color="0.85", zorder=0, label="prior 90 %")
        ax.axvline(s["median"], color="tab:blue", lw=2, label="posterior median")
        if np.isfinite(s.default):
            ax.axvline(s.default, color="tab:red", ls="--", label="current default")
        ax.set_title(s.parameter, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "marginals.png", dpi=110)
    plt.close(fig)
    return "marginals.png"


def fig_pairs(post: pd.DataFrame, summary: pd.DataFrame, out: Path) -> str:
    import matplotlib.pyplot as plt

    names = list(summary["parameter"])
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.2 * k + 1, 2.2 * k + 1), squeeze=False)
    size = 200 * post["weight"].to_numpy(dtype=float) / max(post["weight"].max(), 1e-12)
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(post[xj], bins=15, weights=post["weight"], color="tab:blue", alpha=0.7)
            elif i > j:
                ax.scatter(post[xj], post[yi], s=size, alpha=0.5, color="tab:blue")
            else:
                ax.set_visible(False)
            if i == k - 1:
                ax.set_xlabel(xj, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(yi, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(out / "pairs.png", dpi=100)
    plt.close(fig)
    return "pairs.png"


def fig_predictive(fit: pd.DataFrame, out: Path) -> str:
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(fit["target"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(5 * len(targets), 3.4), squeeze=False)
    for ax, name in zip(axes.flat, targets, strict=True):
        f = fit[fit["target"] == name].sort_values("year")
        ax.fill_between(
            f["year"],
            f["low"],
            f["high"],
            color="tab:blue",
            alpha=0.25,
            label="posterior predictive 90 %",
        )
        ax.plot(f["year"], f["median"], color="tab:blue", label="median")
        used, held = f[f["fitted"]], f[~f["fitted"]]
        ax.plot(used["year"], used["observed"], "ko", label="observed (fitted)")
        if len(held):
            ax.plot(
                held["year"],
                held["observed"],
                "o",
                mfc="white",
                mec="k",
                label="observed (not fitted)",
            )
        ax.set_title(f"{name} ({f['output'].iloc[0]})", fontsize=9)
        ax.set_xlabel("year")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "predictive.png", dpi=110)
    plt.close(fig)
    return "predictive.png"


def fig_shrinkage(summary: pd.DataFrame, out: Path) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.5 * len(summary) + 1.2))
    for i, (_, s) in enumerate(summary.iterrows()):
        span = s.prior_high - s.prior_low or 1.0

        def rel(x: float, s: Any = s, span: float = span) -> float:
            return (x - s.prior_low) / span

        ax.plot([0, 1], [i + 0.15] * 2, color="0.6", lw=6, label="prior 90 %" if i == 0 else None)
        ax.plot(
            [rel(s.low), rel(s.high)],
            [i - 0.15] * 2,
            color="tab:blue",
            lw=6,
            label="posterior 90 %" if i == 0 else None,
        )
        ax.plot(rel(s["median"]), i - 0.15, "k|", ms=12)
        ax.text(1.03, i, f"shrinkage {s.shrinkage:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(summary)), summary["parameter"], fontsize=8)
    ax.set_xlabel("position within the prior's 90 % range")
    ax.set_xlim(-0.05, 1.35)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(out / "shrinkage.png", dpi=110)
    plt.close(fig)
    return "shrinkage.png"


def build_calibration_report(folder: Path | str) -> Path:
    """Figures and ``report.md`` in ``FOLDER/report/``; returns the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    post, fit, summary, man = _read(folder)
    out = folder / "report"
    out.mkdir(exist_ok=True)
    figs = [
        ("Posterior marginals", fig_marginals(post, summary, out)),
        ("Posterior pairs", fig_pairs(post, summary, out)),
        ("Posterior-predictive bands over the observations", fig_predictive(fit, out)),
        ("Prior vs posterior (shrinkage)", fig_shrinkage(summary, out)),
    ]
    lines = [
        f"# Calibration: {man.get('experiment')}",
        "",
        f"ABC-SMC (pyabc), model `{man.get('model')}`, root seed {man.get('root_seed')}; "
        f"{man.get('simulations')} model runs ({man.get('abc_simulations')} ABC, "
        f"{man.get('predictive_runs')} posterior predictive), {man.get('generations')} "
        f"generations, final threshold {_last(man.get('epsilons'))}; "
        f"{man.get('wall_s')} s.",
        "",
        "## Parameters (posterior median and 90 % interval)",
        "",
        summary_markdown(summary),
        "",
        "## Fit (posterior-predictive median and 90 % band)",
        "",
        fit_markdown(fit),
        "",
    ]
    for title, name in figs:
        lines += [f"## {title}", "", f"![{title}]({name})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _last(eps: Any) -> str:
    return f"{eps[-1]:.4g}" if eps else "—"


def summary_markdown(summary: pd.DataFrame) -> str:
    rows = [
        "| parameter | default | prior 90 % | posterior median | posterior 90 % | shrinkage |",
        "|---|---|---|---|---|---|",
    ]
    for _, s in summary.iterrows():
        rows.append(
            f"| {s.parameter} | {s.default:.4g} | {s.prior_low:.4g} – {s.prior_high:.4g} | "
            f"{s['median']:.4g} | {s.low:.4g} – {s.high:.4g} | {s.shrinkage:.2f} |"
        )
    return "\n".join(rows)


def fit_markdown(fit: pd.DataFrame) -> str:
    rows = [
        "| target | year | observed | median | 90 % band | in band | fitted |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, f in fit.iterrows():
        inside = "yes" if f.low <= f.observed <= f.high else "no"
        rows.append(
            f"| {f.target} | {f.year} | {f.observed:.4g} | {f['median']:.4g} | "
            f"{f.low:.4g} – {f.high:.4g} | {inside} | {'yes' if f.fitted else 'no'} |"
        )
    return "\n".join(rows)


def print_summary(folder: Path, posterior: pd.DataFrame, man: dict[str, Any]) -> None:
    """Posterior median and 90 % interval per parameter, and the fit, on stdout."""
    from rich.console import Console
    from rich.table import Table

    summary = pd.read_parquet(folder / "summary.parquet")
    fit = pd.read_parquet(folder / "fit.parquet")
    table = Table(
        title=f"{man['experiment']}: posterior of {len(posterior)} particles, "
        f"{man['simulations']} model runs, {man['wall_s']} s"
    )
    for col in ("parameter", "default", "median", "90 % interval", "shrinkage"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for _, s in summary.iterrows():
        table.add_row(
            s.parameter,
            f"{s.default:.4g}",
            f"{s['median']:.4g}",
            f"{s.low:.4g} – {s.high:.4g}",
            f"{s.shrinkage:.2f}",
        )
    console = Console()
    console.print(table)
    inside = ((fit["low"] <= fit["observed"]) & (fit["observed"] <= fit["high"])).mean()
    console.print(
        f"{100 * inside:.0f} % of {len(fit)} observations inside the 90 % posterior-predictive "
        f"band; results in {folder} (report: {folder / 'report' / 'report.md'})"
    )
