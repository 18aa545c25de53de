"""A fast stand-in model with the output contract of ``abm.run.run_model`` (DESIGN.md §6).

Used by the batch tests and benchmarks (``model = "abm.batch.toy:model"``) so that executors,
the result store, resume, query and report can be exercised in milliseconds per run, and as a
worked example of the ``model = "package.module:function"`` study key. It is *not* a model of
anything: adoption is a noisy logistic diffusion pushed by the payment parameters, and SOC
moves a fixed amount per adopting farm.

Parameters (flat dotted paths, all optional)
--------------------------------------------
``n_farms`` (100), ``start_year`` (2020), ``end_year`` (2050), ``policy.subsidy_eur_per_ha``
(0), ``policy.carbon_price_eur_per_tco2e`` (0), ``policy.premium_eur_per_ha`` (0),
``farmer.peer_weight`` (0.3), and three knobs for testing the batch machinery:
``toy.work_ms`` (CPU-seconds/1000 burnt per run, output unchanged), ``toy.sleep_s`` (wall
seconds slept per run), ``toy.fail`` (raise ``RuntimeError`` when true), ``toy.crash`` (end
the worker process at once, as a segfault would; refused in the main process).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DEFAULTS: dict[str, Any] = {
    "n_farms": 100,
    "start_year": 2020,
    "end_year": 2050,
    "policy.subsidy_eur_per_ha": 0.0,
    "policy.carbon_price_eur_per_tco2e": 0.0,
    "policy.premium_eur_per_ha": 0.0,
    "farmer.peer_weight": 0.3,
    "toy.work_ms": 0.0,
    "toy.sleep_s": 0.0,
    "toy.fail": False,
    "toy.crash": False,
}

PRACTICES = ("cover_crops", "agroforestry")
FARM_HA = 50.0
CO2_PER_C = 44.0 / 12.0


@dataclass
class ToyResult:
    """RunResult-like: ``timeseries``, ``kpis``, ``ledger``, ``params`` (DESIGN.md §6)."""

    timeseries: pd.DataFrame
    kpis: dict[str, float]
    ledger: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def _burn(cpu_s: float) -> None:
    """Spend ``cpu_s`` seconds of CPU time (a stand-in for model work)."""
    t0 = time.process_time()
    x = np.linspace(0.0, 1.0, 256)
    while time.process_time() - t0 < cpu_s:
        x = np.sin(x) + 1e-3


def model(params: Mapping[str, Any] | None = None, seed: int = 0) -> ToyResult:
    """Run the toy model; unknown parameter paths raise ``KeyError``."""
    p = dict(DEFAULTS)
    for key, value in (params or {}).items():
        if key not in DEFAULTS:
            raise KeyError(f"toy model: unknown parameter {key!r}")
        p[key] = value
    if p["toy.fail"]:
        raise RuntimeError("toy model asked to fail (toy.fail = true)")
    if p["toy.crash"]:
        import multiprocessing
        import os

        if multiprocessing.parent_process() is None:
            raise RuntimeError("toy.crash only ends worker processes, not the main one")
        os._exit(70)
    _burn(float(p["toy.work_ms"]) / 1000.0)
    if p["toy.sleep_s"]:
        time.sleep(float(p["toy.sleep_s"]))
    rng = np.random.default_rng(int(seed))
    n = int(p["n_farms"])
    years = np.arange(int(p["start_year"]), int(p["end_year"]) + 1)
    push = (
        0.004
        + float(p["policy.subsidy_eur_per_ha"]) / 4000.0
        + float(p["policy.carbon_price_eur_per_tco2e"]) / 2500.0
        + float(p["policy.premium_eur_per_ha"]) / 5000.0
    )
    peer = float(p["farmer.peer_weight"])
    practice = rng.integers(0, len(PRACTICES), size=n)
    adopted = np.zeros(n, dtype=bool)
    soc = rng.normal(55.0, 8.0, size=n).clip(20.0) * FARM_HA  # t C per farm
    soc0_total = soc.sum()
    rows, ledger = [], []
    seq_cum = 0.0
    for year in years:
        share = adopted.mean()
        new = ~adopted & (rng.random(n) < push + 0.25 * peer * share)
        quit_ = adopted & (rng.random(n) < 0.01)
        adopted = (adopted | new) & ~quit_
        gain = np.where(adopted, rng.normal(0.35, 0.1, n), rng.normal(-0.03, 0.05, n)) * FARM_HA
        prev = soc.copy()
        soc = soc + gain
        farm_permille = 1000.0 * (soc - prev) / prev
        seq_cum += float(np.clip(gain, 0, None)[adopted].sum()) * CO2_PER_C
        adopters_area = adopted.sum() * FARM_HA
        subsidy = float(p["policy.subsidy_eur_per_ha"]) * adopters_area
        premium = float(p["policy.premium_eur_per_ha"]) * adopters_area
        row: dict[str, Any] = {"year": int(year), "adoption_share": float(adopted.mean())}
        row["adopters_share"] = float(adopted.mean())
        for k, name in enumerate(PRACTICES):
            on = adopted & (practice == k)
            row[f"adoption_share_{name}"] = float(on.mean())
            row[f"adopted_area_ha_{name}"] = float(on.sum() * FARM_HA)
        row.update(
            soc_stock_t=float(soc.sum()),
            soc_mean_t_ha=float(soc.mean() / FARM_HA),
            soc_change_permille=float(1000.0 * (soc.sum() - prev.sum()) / prev.sum()),
            share_farms_4p1000=float((farm_permille >= 4.0).mean()),
            sequestration_tco2e_cum=seq_cum,
            storage_tco2e_cum=float(soc.sum() - soc0_total) * CO2_PER_C,
            public_spend_eur=subsidy,
            premiums_eur=premium,
            mrv_cost_eur=float(adopted.sum() * 20.0),
            disadoptions=int(quit_.sum()),
        )
        rows.append(row)
        n_adopt = int(adopted.sum())
        if subsidy > 0:
            ledger.append((int(year), "incentive", n_adopt, subsidy, 0.0))
        if premium > 0:
            ledger.append((int(year), "market_access", n_adopt, premium, 0.0))
        ledger.append((int(year), "advice", int(rng.integers(5, 15)), 0.0, 0.0))
        ledger.append((int(year), "verification", n_adopt, n_adopt * 20.0, 0.0))
    ts = pd.DataFrame(rows)
    kpis = _kpis(ts)
    led = pd.DataFrame(ledger, columns=["year", "kind", "count", "amount", "tco2e"])
    return ToyResult(timeseries=ts, kpis=kpis, ledger=led, params=p)


def _kpis(ts: pd.DataFrame) -> dict[str, float]:
    by_year = ts.set_index("year")
    kpis: dict[str, float] = {}
    for year in (2030, 2050):
        if year in by_year.index:
            for col in (
                "adoption_share",
                "share_farms_4p1000",
                "sequestration_tco2e_cum",
                "storage_tco2e_cum",
            ):
                kpis[f"{col}_{year}"] = float(by_year[col].loc[year])
    seq = float(ts["sequestration_tco2e_cum"].iloc[-1])
    spend = float(ts["public_spend_eur"].sum())
    kpis.update(
        soc_change_permille_mean=float(ts["soc_change_permille"].mean()),
        public_spend_eur_total=spend,
        premiums_eur_total=float(ts["premiums_eur"].sum()),
        disadoptions_total=float(ts["disadoptions"].sum()),
        public_cost_eur_per_tco2e=spend / seq if seq > 0 else float("nan"),
    )
    return kpis


def kpis_only(params: dict[str, Any], seed: int) -> dict[str, float]:
    """The plain ``f(params, seed) -> dict`` form of the toy model (KPIs only)."""
    return model(params, seed).kpis
