"""Mesa SolaraViz page for one :class:`~abm.model.SoilCarbonModel` (``abm dashboard``, page /).

The sidebar is Mesa's: step, play (``render_interval`` years per redraw), reset, and the model
parameters. A parameter change takes effect on **Reset** (Mesa builds a new model from them).
The policy levers are *added to the chosen scenario's own values* during its policy years, so
the scenarios stay what they are with every lever at 0 (e.g. ``subsidy`` + 20 EUR/ha = 83.72).

Every view is matplotlib (a PNG sent to the browser), so the page renders offline; each view
redraws once per Mesa update (every ``render_interval`` steps).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from abm.exchanges import KINDS
from abm.model import SoilCarbonModel
from abm.practices import PRACTICE_IDS
from abm.report import KIND_COLORS, PALETTE, TARGET_PERMILLE
from abm.scenario import Params, builtin_scenarios, resolve_params

#: Levers: model keyword → (dotted parameter path, label, slider max, step). Added to the
#: scenario's value; slider ranges cover the parameters' sensitivity ranges and beyond.
LEVERS: dict[str, tuple[str, str, float, float]] = {
    "extra_subsidy_eur_per_ha": (
        "policy.subsidy_eur_per_ha",
        "Per-ha subsidy, added (EUR/ha/yr)",
        200.0,
        5.0,
    ),
    "extra_carbon_price_eur_per_tco2e": (
        "policy.carbon_price_eur_per_tco2e",
        "Carbon price, added (EUR/t CO2e)",
        200.0,
        5.0,
    ),
    "extra_premium_eur_per_ha": (
        "market.premium_eur_per_ha",
        "Market premium, added (EUR/ha/yr)",
        150.0,
        5.0,
    ),
    "extra_advice_eur_per_yr": (
        "policy.ngo_funding_eur_per_yr",
        "Advice funding, added (EUR/yr)",
        1_000_000.0,
        20_000.0,
    ),
}
NO_MANDATE = "none"
MAX_FARMS = 5000


def dashboard_params(
    scenario: str = "baseline", n_farms: int = 1000, *, mandate: str = NO_MANDATE, **extra: float
) -> Params:
    """The scenario's parameters with ``n_farms`` and the levers added to its values.

    Parameters
    ----------
    scenario
        A built-in scenario name (or a scenario file).
    n_farms
        Number of farms.
    mandate
        A practice id to mandate (added to the scenario's mandates), or ``"none"``.
    **extra
        Keywords of :data:`LEVERS`: amounts added to the scenario's values (a per-practice
        subsidy rate gets the added subsidy too).

    Raises
    ------
    abm.errors.UserInputError
        Unknown scenario, lever or practice; a value out of range.
    """
    from abm.errors import UserInputError

    base = resolve_params(scenario, {"n_farms": int(n_farms)}, source="dashboard")
    flat = {
        "policy.subsidy_eur_per_ha": base.policy.subsidy_eur_per_ha,
        "policy.carbon_price_eur_per_tco2e": base.policy.carbon_price_eur_per_tco2e,
        "market.premium_eur_per_ha": base.market.premium_eur_per_ha,
        "policy.ngo_funding_eur_per_yr": base.policy.ngo_funding_eur_per_yr,
    }
    overrides: dict[str, Any] = {"n_farms": int(n_farms)}
    for key, amount in extra.items():
        if key not in LEVERS:
            raise UserInputError(
                f"unknown lever {key!r}; allowed: {', '.join(LEVERS)}", source="dashboard"
            )
        path = LEVERS[key][0]
        if amount:
            overrides[path] = flat[path] + float(amount)
    added = float(extra.get("extra_subsidy_eur_per_ha", 0.0))
    if added and base.policy.subsidy_by_practice:
        overrides["policy.subsidy_by_practice"] = {
            k: v + added for k, v in base.policy.subsidy_by_practice.items()
        }
    if mandate != NO_MANDATE:
        if mandate not in PRACTICE_IDS:
            raise UserInputError(
                f"mandate {mandate!r}; allowed: none, {', '.join(PRACTICE_IDS)}", source="dashboard"
            )
        mandates = list(base.policy.regulation.mandate)
        if mandate not in mandates:
            mandates.append(mandate)
        overrides["policy.regulation.mandate"] = mandates
    return resolve_params(scenario, overrides, source="dashboard")


class DashboardModel(SoilCarbonModel):
    """The model with the dashboard's keywords; keeps each year's outputs for the views.

    Parameters
    ----------
    scenario, n_farms, mandate, extra_*
        See :func:`dashboard_params`.
    seed
        Root seed of the run.
    """

    def __init__(
        self,
        scenario: str = "baseline",
        n_farms: int = 1000,
        extra_subsidy_eur_per_ha: float = 0.0,
        extra_carbon_price_eur_per_tco2e: float = 0.0,
        extra_premium_eur_per_ha: float = 0.0,
        extra_advice_eur_per_yr: float = 0.0,
        mandate: str = NO_MANDATE,
        seed: int = 42,
    ) -> None:
        params = dashboard_params(
            scenario,
            n_farms,
            mandate=mandate,
            extra_subsidy_eur_per_ha=extra_subsidy_eur_per_ha,
            extra_carbon_price_eur_per_tco2e=extra_carbon_price_eur_per_tco2e,
            extra_premium_eur_per_ha=extra_premium_eur_per_ha,
            extra_advice_eur_per_yr=extra_advice_eur_per_yr,
        )
        super().__init__(params, seed=int(seed))
        self.scenario = scenario
        self.history: list[dict[str, float]] = []

    def _wrapped_step(self, *args: Any, **kwargs: Any) -> None:
        # Mesa's SolaraViz calls step() render_interval times without looking at `running`, and
        # Mesa counts every call in `steps` (shown on the page): a finished run stays as it is.
        if self.running:
            super()._wrapped_step(*args, **kwargs)

    def step(self) -> None:
        """One year; stops (``running`` False) after ``end_year``."""
        super().step()
        self.history.append(dict(self.obs))
        self.running = self.year <= self.params.end_year

    def frame(self) -> pd.DataFrame:
        """The years simulated so far, one row each (columns of ``model.obs``)."""
        return pd.DataFrame(self.history)


def model_params() -> dict[str, Any]:
    """Mesa ``model_params``: scenario, levers, mandate, farms and seed."""
    out: dict[str, Any] = {
        "scenario": {
            "type": "Select",
            "value": "baseline",
            "values": list(builtin_scenarios()),
            "label": "Scenario",
        }
    }
    for key, (_path, label, high, step) in LEVERS.items():
        out[key] = {
            "type": "SliderFloat",
            "value": 0.0,
            "min": 0.0,
            "max": high,
            "step": step,
            "label": label,
        }
    out["mandate"] = {
        "type": "Select",
        "value": NO_MANDATE,
        "values": [NO_MANDATE, *PRACTICE_IDS],
        "label": "Regulation: mandate a practice (added)",
    }
    out["n_farms"] = {
        "type": "SliderInt",
        "value": 1000,
        "min": 100,
        "max": MAX_FARMS,
        "step": 100,
        "label": "Farms",
    }
    out["seed"] = {
        "type": "SliderInt",
        "value": 42,
        "min": 0,
        "max": 999,
        "step": 1,
        "label": "Seed",
    }
    return out


# -- views -----------------------------------------------------------------------------------

#: What the headline card shows: obs column → (label, scale, unit, decimals).
HEADLINE: dict[str, tuple[str, float, str, int]] = {
    "adoption_share": ("Adoption", 100.0, "% of area", 1),
    "soc_mean_t_ha": ("Mean SOC", 1.0, "t C/ha", 2),
    "soc_equilibrium_mean_t_ha": ("Equilibrium SOC of this year's practices", 1.0, "t C/ha", 2),
    "saturation_ratio_mean": ("Mineral-associated C / capacity", 100.0, "%", 1),
    "soc_change_permille_5yr": ("SOC change, last 5 yr", 1.0, "‰/yr", 2),
    "net_ghg_tco2e_cum": ("Net GHG since start", 1e-3, "kt CO2e", 2),
    "public_spend_eur": ("Public spend this year", 1e-3, "k€", 1),
    "premiums_eur": ("Premiums this year", 1e-3, "k€", 1),
}


def headline_values(model: DashboardModel) -> dict[str, str]:
    """Formatted values of :data:`HEADLINE` for the last simulated year ("—" before any)."""
    last = model.history[-1] if model.history else {}
    out = {"year": str(int(last["year"])) if last else "—"}
    for key, (_label, scale, _unit, dec) in HEADLINE.items():
        v = last.get(key, math.nan)
        out[key] = f"{v * scale:,.{dec}f}" if np.isfinite(v) else "—"
    return out


@solara.component
def Headline(model: DashboardModel) -> None:
    """The last simulated year's key figures (each value carries ``data-kpi`` for tests)."""
    update_counter.get()
    values = headline_values(model)
    with solara.Card(f"Scenario: {model.scenario}"):
        p = model.params
        solara.v.Html(
            tag="div",
            attributes={"data-kpi": "year"},
            children=[f"Year: {values['year']}"],
            style_="font-weight: bold",
        )
        solara.Text(
            f"{p.n_farms:,} farms, seed {model.root_seed}; years {p.start_year}–{p.end_year}; "
            f"levers from {p.policy.start_year}: subsidy {p.policy.subsidy_eur_per_ha:g} EUR/ha, "
            f"carbon {p.policy.carbon_price_eur_per_tco2e:g} EUR/t, premium "
            f"{p.market.premium_eur_per_ha:g} EUR/ha, advice {p.policy.ngo_funding_eur_per_yr:,.0f}"
            f" EUR/yr, mandates: {', '.join(p.policy.regulation.mandate) or 'none'}"
        )
        for key, (label, _scale, unit, _dec) in HEADLINE.items():
            solara.v.Html(
                tag="div", attributes={"data-kpi": key}, children=[f"{label}: {values[key]} {unit}"]
            )


def _figure(width: float = 6.0, height: float = 3.4) -> Figure:
    fig = Figure(figsize=(width, height), dpi=80)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.9, wspace=0.3)
    return fig


def _empty(fig: Figure, title: str) -> None:
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.5, "press Step or ▶", ha="center", va="center", color="#666")


def _show(fig: Figure, model: DashboardModel, *deps: Any) -> None:
    solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), len(model.history), *deps])


def network_layout(model: SoilCarbonModel) -> np.ndarray:
    """(N, 2) positions: one ring per zone, farms in the order of the zone's lattice.

    The within-zone ties are a Watts–Strogatz ring over the zone's farms in index order
    (:func:`abm.network.farmer_network`), so on this ring they are short chords and the rewired
    and cross-zone ties are the long lines.
    """
    zone = model.farms.zone
    pos = np.zeros((zone.size, 2))
    for z in np.unique(zone):
        members = np.flatnonzero(zone == z)
        angle = 2 * np.pi * np.arange(members.size) / max(members.size, 1)
        pos[members, 0] = 2.6 * z + np.cos(angle)
        pos[members, 1] = np.sin(angle)
    return pos


COLOUR_BY_COUNT = "number of practices"


def network_figure(model: SoilCarbonModel, colour_by: str = COLOUR_BY_COUNT) -> Figure:
    """The farmer network, one ring per zone; farms coloured by a practice or their count."""
    pos = network_layout(model)
    fig = Figure(figsize=(6.0, 3.2), dpi=80)
    ax = fig.add_axes((0.0, 0.0, 0.86, 0.9))
    edges = model.network.edges
    if edges.size:
        segs = np.stack([pos[edges[:, 0]], pos[edges[:, 1]]], axis=1)
        ax.add_collection(LineCollection(list(segs), colors="#999999", linewidths=0.3, alpha=0.25))
    adopted = model.farms.adopted
    if colour_by == COLOUR_BY_COUNT:
        sc = ax.scatter(
            pos[:, 0], pos[:, 1], c=adopted.sum(axis=1), s=6, cmap="viridis", vmin=0, vmax=4
        )
        fig.colorbar(sc, cax=fig.add_axes((0.88, 0.15, 0.025, 0.6)), label="practices used")
    else:
        j = PRACTICE_IDS.index(colour_by)
        use = adopted[:, j].astype(bool)
        ax.scatter(pos[~use, 0], pos[~use, 1], s=5, color="#cccccc", label="not using")
        ax.scatter(pos[use, 0], pos[use, 1], s=7, color=PALETTE[j % len(PALETTE)], label="using")
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    for z, name in enumerate(model.zone_names):
        ax.text(2.6 * z, -1.3, name.replace("_", " "), ha="center", va="top", fontsize=8)
    ax.set_xlim(-1.15, 2.6 * (len(model.zone_names) - 1) + 1.15)
    ax.set_ylim(-1.55, 1.1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.suptitle(f"Farmer network by zone, {model.year - 1}: {colour_by}", fontsize=10)
    return fig


@solara.component
def NetworkView(model: DashboardModel) -> None:
    """The farmer network with a picker of what colours the farms."""
    update_counter.get()
    colour_by, set_colour_by = solara.use_state(COLOUR_BY_COUNT)
    with solara.Column():
        solara.Select(
            "Colour farms by",
            value=colour_by,
            values=[COLOUR_BY_COUNT, *PRACTICE_IDS],
            on_value=set_colour_by,
        )
        _show(network_figure(model, colour_by), model, colour_by)


def _lines(ax: Any, frame: pd.DataFrame, cols: dict[str, str], scale: float = 1.0) -> None:
    for i, (col, label) in enumerate(cols.items()):
        ax.plot(
            frame["year"], frame[col] * scale, ".-", label=label, color=PALETTE[i % len(PALETTE)]
        )
    ax.grid(alpha=0.3)


def adoption_figure(model: DashboardModel) -> Figure:
    """Adoption by practice and in all, % of the farmed area."""
    fig = _figure()
    title = "Adoption by practice (% of farmed area)"
    if not model.history:
        _empty(fig, title)
        return fig
    frame = model.frame()
    ax = fig.subplots()
    _lines(ax, frame, {f"adoption_share_{p}": p.replace("_", " ") for p in PRACTICE_IDS}, 100)
    ax.plot(frame["year"], frame["adoption_share"] * 100, ".-", color="k", lw=2, label="all")
    ax.set_ylabel("% of area")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=6, ncol=2, frameon=False)
    return fig


def soc_figure(model: DashboardModel) -> Figure:
    """Mean SOC (t C/ha) with the equilibrium this year's practices lead to (the Lal curve,
    :mod:`abm.equilibrium`), and the 5-year annualised change (‰/yr) against the 4 ‰ target."""
    fig = _figure()
    if not model.history:
        _empty(fig, "Soil organic carbon and the 4 ‰ indicator")
        return fig
    frame = model.frame()
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(frame["year"], frame["soc_mean_t_ha"], ".-", color=PALETTE[0], label="SOC")
    if "soc_equilibrium_mean_t_ha" in frame:
        ax1.plot(
            frame["year"],
            frame["soc_equilibrium_mean_t_ha"],
            "--",
            color=PALETTE[0],
            label="equilibrium of the year's practices",
        )
    ax1.set_title("Mean SOC (t C/ha)", fontsize=10)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, frameon=False)
    ax2.plot(frame["year"], frame["soc_change_permille_5yr"], ".-", color=PALETTE[2], label="5-yr")
    ax2.axhline(TARGET_PERMILLE, color="#d62728", ls="--", label="4 ‰ target")
    ax2.axhline(0, color="#666", lw=0.5)
    ax2.set_title("SOC change, last 5 years (‰/yr)", fontsize=10)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7, frameon=False)
    return fig


def carbon_figure(model: DashboardModel) -> Figure:
    """Cumulative sequestration, storage, N2O and net GHG, kt CO2e since the start."""
    fig = _figure()
    title = "Carbon since the start (kt CO2e)"
    if not model.history:
        _empty(fig, title)
        return fig
    ax = fig.subplots()
    cols = {
        "sequestration_tco2e_cum": "sequestration",
        "storage_tco2e_cum": "storage (C brought in)",
        "n2o_tco2e_cum": "N2O of added N",
        "net_ghg_tco2e_cum": "net GHG",
    }
    _lines(ax, model.frame(), cols, 1e-3)
    ax.axhline(0, color="#666", lw=0.5)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return fig


def money_figure(model: DashboardModel) -> Figure:
    """Public spend (and its subsidies and carbon payments) and market premiums, k€/yr."""
    fig = _figure()
    title = "Public spend and premiums (k€/yr)"
    if not model.history:
        _empty(fig, title)
        return fig
    ax = fig.subplots()
    cols = {
        "public_spend_eur": "public spend",
        "subsidies_eur": "subsidies",
        "carbon_payments_eur": "carbon payments",
        "premiums_eur": "market premiums",
    }
    _lines(ax, model.frame(), cols, 1e-3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return fig


def exchange_figure(model: SoilCarbonModel) -> Figure:
    """Exchanges by kind per year: counts, stacked, from the model's ledger."""
    fig = _figure()
    title = "Exchanges by kind (count per year)"
    ledger = model.ledger.to_frame()
    if ledger.empty:
        _empty(fig, title)
        return fig
    ax = fig.subplots()
    table = ledger.pivot_table(index="year", columns="kind", values="count", aggfunc="sum")
    bottom = np.zeros(len(table))
    for kind in KINDS:
        if kind in table.columns:
            v = table[kind].fillna(0.0).to_numpy()
            ax.bar(table.index, v, bottom=bottom, color=KIND_COLORS[kind], label=kind)
            bottom += v
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return fig


def _view(make: Any, doc: str) -> Any:
    @solara.component
    def View(model: DashboardModel) -> None:
        update_counter.get()
        _show(make(model), model)

    View.__doc__ = doc
    return View


AdoptionView = _view(adoption_figure, "Adoption by practice.")
SocView = _view(soc_figure, "SOC and the 4 ‰ indicator.")
CarbonView = _view(carbon_figure, "Sequestration, storage, N2O and net GHG.")
MoneyView = _view(money_figure, "Public spend and premiums.")
ExchangeView = _view(exchange_figure, "Exchanges by kind.")


VIEWS = (Headline, NetworkView, AdoptionView, SocView, CarbonView, MoneyView, ExchangeView)


@solara.component
def ModelPage() -> None:
    """The SolaraViz page (one model per browser session)."""
    model = solara.use_memo(DashboardModel, [])
    SolaraViz(
        model,
        components=[(view, 0) for view in VIEWS],
        model_params=model_params(),
        name="Soil carbon (4 per 1000): one model",
        play_interval=50,
        render_interval=1,
    )
