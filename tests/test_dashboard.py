"""The dashboard's logic without a browser: levers, the model it shows, results-page statistics,
the command's bad input. Needs the ``[dashboard]`` extra (skipped, with the reason, without it).
"""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the [dashboard] extra is not installed")
pytest.importorskip("solara_assets", reason="the [dashboard] extra is not installed")

from abm import report
from abm.dashboard import app, results
from abm.errors import UserInputError
from abm.model import SoilCarbonModel
from abm.scenario import flatten, resolve_params

ROOT = Path(__file__).resolve().parents[1]

TOY_STUDY = """
[experiment]
name = "dash"
replicates = 3
seed = 11
model = "abm.batch.toy:model"

[base]
n_farms = 30
end_year = 2050

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy"
set = { "policy.subsidy_eur_per_ha" = 120 }

[[scenarios]]
name = "broken"
set = { "toy.fail" = true }
"""


def toy_batch(folder: Path) -> Path:
    """A finished toy batch (baseline, subsidy; every 'broken' run fails) in ``folder``."""
    from abm.batch.runner import run_batch

    study = folder / "study.toml"
    study.write_text(textwrap.dedent(TOY_STUDY))
    out = folder / "results"
    run_batch(study, workers=0, out=out, quiet=True, allow_plugin=True)
    return out


# -- levers ----------------------------------------------------------------------------------


def test_levers_at_zero_give_the_scenario_itself() -> None:
    for name in ("baseline", "subsidy", "regulation", "policy_mix"):
        got = flatten(app.dashboard_params(name, 200))
        assert got == flatten(resolve_params(name, {"n_farms": 200})), name


def test_levers_add_to_the_scenario_values() -> None:
    p = app.dashboard_params(
        "policy_mix",
        100,
        extra_subsidy_eur_per_ha=20,
        extra_carbon_price_eur_per_tco2e=8,
        extra_premium_eur_per_ha=15,
        extra_advice_eur_per_yr=100_000,
        mandate="biochar",
    )
    # policy_mix: 46.69 EUR/ha, 72 EUR/t, advice 200,000 EUR/yr (from "advice"), no premium.
    assert p.policy.subsidy_eur_per_ha == pytest.approx(66.69)
    assert p.policy.carbon_price_eur_per_tco2e == pytest.approx(80.0)
    assert p.market.premium_eur_per_ha == pytest.approx(15.0)
    assert p.policy.ngo_funding_eur_per_yr == pytest.approx(300_000.0)
    assert p.policy.regulation.mandate == ["biochar"]
    assert p.n_farms == 100


def test_mandate_is_added_once_to_the_scenario_mandates() -> None:
    assert app.dashboard_params("regulation", mandate="cover_crops").policy.regulation.mandate == [
        "cover_crops"
    ]
    got = app.dashboard_params("regulation", mandate="agroforestry").policy.regulation.mandate
    assert got == ["cover_crops", "agroforestry"]


def test_bad_lever_or_mandate_is_one_clear_error() -> None:
    with pytest.raises(UserInputError, match="unknown lever 'tax'"):
        app.dashboard_params("baseline", tax=3.0)
    with pytest.raises(UserInputError, match="mandate 'tillage'; allowed: none, cover_crops"):
        app.dashboard_params("baseline", mandate="tillage")


def test_slider_keywords_are_the_model_keywords() -> None:
    import inspect

    names = set(inspect.signature(app.DashboardModel.__init__).parameters) - {"self"}
    assert set(app.model_params()) == names
    assert app.model_params()["scenario"]["values"][0] == "advice"  # sorted built-ins
    assert "baseline" in app.model_params()["scenario"]["values"]


# -- the model the page shows ----------------------------------------------------------------


def test_dashboard_model_is_the_model_with_those_parameters() -> None:
    """The page shows the real model: same seed and parameters, same outputs, year by year."""
    dash = app.DashboardModel("subsidy", 120, extra_subsidy_eur_per_ha=10, seed=5)
    ref_params = resolve_params(
        "subsidy", {"n_farms": 120, "policy.subsidy_eur_per_ha": 63.72 + 10}
    )
    ref = SoilCarbonModel(ref_params, seed=5)
    for _ in range(7):
        dash.step()
        ref.step()
        got, want = dash.history[-1], ref.obs
        assert got.keys() == want.keys()
        for key, value in want.items():  # NaN (e.g. compliance without a rule) equals NaN
            assert got[key] == value or (math.isnan(got[key]) and math.isnan(value)), key
    frame = dash.frame()
    assert frame["year"].tolist() == list(range(2020, 2027))


def test_model_stops_after_end_year() -> None:
    m = app.DashboardModel(n_farms=100, seed=3)
    years = m.params.end_year - m.params.start_year + 1
    for _ in range(years):
        assert m.running
        m.step()
    assert not m.running
    m.step()  # Mesa may call step once more within a render interval: nothing happens
    assert len(m.history) == years
    assert m.steps == years  # Mesa's counter, shown on the page
    assert m.history[-1]["year"] == m.params.end_year


def test_headline_values_format_the_last_year() -> None:
    m = app.DashboardModel(n_farms=100, seed=1)
    assert set(app.headline_values(m).values()) == {"—"}
    m.step()
    obs = m.history[-1]
    got = app.headline_values(m)
    assert got["year"] == "2020"
    assert got["adoption_share"] == f"{obs['adoption_share'] * 100:,.1f}"
    assert got["net_ghg_tco2e_cum"] == f"{obs['net_ghg_tco2e_cum'] / 1000:,.2f}"
    # saturation and the new equilibrium (issue 15) are shown too
    assert got["saturation_ratio_mean"] == f"{obs['saturation_ratio_mean'] * 100:,.1f}"
    assert got["soc_equilibrium_mean_t_ha"] == f"{obs['soc_equilibrium_mean_t_ha']:,.2f}"
    assert "—" not in (got["saturation_ratio_mean"], got["soc_equilibrium_mean_t_ha"])


def test_network_layout_puts_each_zone_on_its_ring_in_lattice_order() -> None:
    m = app.DashboardModel(n_farms=150, seed=2)
    pos = app.network_layout(m)
    zone = m.farms.zone
    centre = np.stack([2.6 * zone, np.zeros_like(zone, dtype=float)], axis=1)
    np.testing.assert_allclose(np.hypot(*(pos - centre).T), 1.0)
    # consecutive members of a zone are neighbours on its ring (the lattice's order)
    members = np.flatnonzero(zone == zone[0])
    step = np.hypot(*(pos[members[1]] - pos[members[0]]))
    assert step == pytest.approx(2 * np.sin(np.pi / members.size))


def test_every_view_draws_before_and_after_a_step(tmp_path: Path) -> None:
    m = app.DashboardModel(n_farms=100, seed=4)
    makers = [
        app.adoption_figure,
        app.soc_figure,
        app.carbon_figure,
        app.money_figure,
        app.exchange_figure,
        app.network_figure,
        lambda m: app.network_figure(m, "cover_crops"),
    ]
    for when in ("before", "after"):
        for i, make in enumerate(makers):
            path = tmp_path / f"{when}{i}.png"
            make(m).savefig(path)
            assert path.stat().st_size > 1000
        m.step()


# -- results page ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toy_batch(tmp_path_factory.mktemp("dash"))


def test_results_lists_scenarios_with_runs_and_counts_failures(batch: Path) -> None:
    res = results.load_results(batch)
    assert res.scenarios == ["baseline", "subsidy"]
    assert res.baseline == "baseline"
    assert res.n_failed == 3
    assert len(res.runs) == 6
    assert res.sensitivity is None


def test_intervals_are_the_mean_and_t_interval_of_the_runs(batch: Path) -> None:
    res = results.load_results(batch)
    m = next(m for m in res.metrics if m.column == "public_spend_eur_total")
    frame = results.intervals(res, [m], ["subsidy"])
    x = res.runs.loc[res.runs["scenario"] == "subsidy", m.column].to_numpy() * m.scale
    row = frame.iloc[0]
    assert row["mean"] == pytest.approx(x.mean())
    assert row["n"] == 3
    assert row["low"] < row["mean"] < row["high"]
    # the report's table shows the same numbers
    cell = report.kpi_table(res.runs, ["subsidy"]).loc[results.label(m), "subsidy"]
    assert cell.startswith(f"{x.mean():,.2f}")


def test_paired_differences_match_the_report(batch: Path) -> None:
    res = results.load_results(batch)
    m = next(m for m in res.metrics if m.column == "adoption_share_2050")
    frame = results.paired_differences(res, [m], ["baseline", "subsidy"])
    runs = res.runs.set_index(["scenario", "replicate"])[m.column]
    d = (runs["subsidy"] - runs["baseline"]).to_numpy() * 100
    assert frame["scenario"].tolist() == ["subsidy"]
    assert frame.iloc[0]["mean"] == pytest.approx(d.mean())
    table = report.diff_table(res.runs, res.scenarios, "baseline")
    assert table is not None
    assert table.loc[f"Δ {results.label(m)}", "subsidy"].startswith(f"{d.mean():,.1f}")


def test_results_figures_draw(batch: Path, tmp_path: Path) -> None:
    res = results.load_results(batch)
    frame = results.intervals(res, res.metrics[:3], res.scenarios)
    diff = results.paired_differences(res, res.metrics[:3], res.scenarios)
    for name, fig in (
        ("kpis", results.interval_figure(frame, "t")),
        ("diff", results.interval_figure(diff, "t", zero=True)),
        ("none", results.interval_figure(frame.iloc[:0], "t")),
    ):
        fig.savefig(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert len(frame) == 6 and len(diff) == 3


def test_results_of_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not found"):
        results.load_results(tmp_path / "nope")


def test_sensitivity_view_sorts_by_total_index_of_the_last_year() -> None:
    sens = pd.DataFrame(
        {
            "output": ["a"] * 6 + ["b"],
            "year": [2030, 2030, 2050, 2050, 2050, 2050, None],
            "parameter": ["p", "q", "p", "q", "p", "q", "p"],
            "index": ["ST", "ST", "ST", "ST", "S1", "S1", "ST"],
            "value": [0.9, 0.1, 0.2, 0.7, 0.1, 0.6, 0.5],
            "conf": [0.01] * 7,
        }
    )
    table, _fig = results.sensitivity_view(sens, "a")
    assert table.index.tolist() == ["q", "p"]  # 2050's ST: q 0.7 > p 0.2
    assert table.loc["q", "S1"] == pytest.approx(0.6)


# -- the command -----------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "abm.cli", "dashboard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--port", "0"), "--port 0: allowed 1 to 65535"),
        (("--results", "no/such/folder"), "--results no/such/folder: not a folder"),
        (("--port", "abc"), "dashboard: Invalid value for '--port'"),
    ],
)
def test_bad_options_are_one_line_and_status_2(args: tuple[str, ...], expected: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = run_cli("--port", str(port))
    assert proc.returncode == 2
    assert f"--port {port}: cannot listen there" in proc.stderr


def test_without_the_extra_the_command_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from abm.dashboard import launcher

    monkeypatch.setitem(sys.modules, "solara_assets", None)  # import fails as if not installed
    with pytest.raises(UserInputError, match=r"solara_assets is missing\): pip install -e"):
        launcher.check("127.0.0.1", 8765, None)
