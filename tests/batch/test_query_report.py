"""``abm query`` and ``abm report`` on a small toy batch and on a one-run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from abm.batch.query import print_query, query
from abm.batch.runner import run_batch
from abm.batch.store import read_manifest, read_table, write_single_run
from abm.batch.toy import model as toy_model
from abm.errors import UserInputError
from abm.report import bootstrap_ratio, build_report, mean_ci

from .conftest import run_cli, toy_study, write

FULL = """
[experiment]
name = "report-toy"
replicates = 4
seed = 3
model = "abm.batch.toy:model"
[base]
n_farms = 60
[[scenarios]]
name = "baseline"
[[scenarios]]
name = "subsidy"
set = { "policy.subsidy_eur_per_ha" = 80 }
[[scenarios]]
name = "premium"
set = { "policy.premium_eur_per_ha" = 60 }
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rep")
    study = write(folder / "study.toml", FULL)
    run_batch(study, workers=0, out=folder / "out", quiet=True)
    return folder / "out"


def test_query_over_the_four_tables(batch: Path) -> None:
    frame = query(batch, "SELECT scenario, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1")
    assert frame.to_dict("list") == {"scenario": ["baseline", "premium", "subsidy"], "n": [4, 4, 4]}
    joined = query(
        batch,
        "SELECT r.scenario, t.year, avg(t.adoption_share) AS a FROM timeseries t "
        "JOIN runs r USING (run_id) GROUP BY ALL ORDER BY ALL",
    )
    assert len(joined) == 3 * 31
    assert query(batch, "SELECT count(*) AS n FROM failures")["n"].iloc[0] == 0
    kinds = set(query(batch, "SELECT DISTINCT kind FROM ledger")["kind"])
    assert {"incentive", "market_access", "advice", "verification"} == kinds


def test_query_sees_other_parquet_tables(batch: Path, tmp_path: Path) -> None:
    pq.write_table(pa.table({"output": ["a"], "value": [1.5]}), batch / "sensitivity.parquet")
    try:
        assert query(batch, "SELECT value FROM sensitivity")["value"].tolist() == [1.5]
    finally:
        (batch / "sensitivity.parquet").unlink()


def test_query_errors_are_one_line(batch: Path, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="SQL: Parser Error") as info:
        query(batch, "SELEC 1")
    assert "\n" not in str(info.value)
    with pytest.raises(UserInputError, match="SQL: Catalog Error"):
        query(batch, "SELECT * FROM nope")
    with pytest.raises(UserInputError, match="not found"):
        query(tmp_path / "missing", "SELECT 1")
    with pytest.raises(UserInputError, match="not a results folder"):
        query(tmp_path, "SELECT 1")


def test_print_query(batch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    print_query(batch, "SELECT run_id FROM runs ORDER BY run_id LIMIT 2")
    out = capsys.readouterr().out
    assert "baseline-d0000-r000" in out and "baseline-d0000-r001" in out


def test_cli_query(batch: Path) -> None:
    proc = run_cli("query", str(batch), "SELECT count(*) AS n FROM runs", cwd=batch)
    assert proc.returncode == 0 and "12" in proc.stdout
    bad = run_cli("query", str(batch), "SELECT FROM WHERE", cwd=batch)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_report_of_a_batch(batch: Path) -> None:
    md = build_report(batch)
    assert md == batch / "report" / "report.md"
    text = md.read_text()
    for name in ("baseline", "subsidy", "premium"):
        assert name in text
    for needle in (
        "Adoption 2050 (% of area)",
        "SOC change, mean (‰/yr)",
        "Farms at ≥ 4 ‰, 2050",
        "CO2e sequestered",
        "CO2e stored",
        "Public spend",
        "€/t CO2e",
        "Market premiums",
        "Dis-adoptions",
        "## Difference to baseline",
        "Public cost per additional t CO2e",
    ):
        assert needle in text, needle
    for png in (
        "adoption",
        "soc",
        "four_per_1000",
        "carbon",
        "cost_effectiveness",
        "exchanges",
        "practices",
    ):
        path = batch / "report" / f"{png}.png"
        assert path.is_file() and path.stat().st_size > 10_000, png
        assert f"]({png}.png)" in text
    html = (batch / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 7 and "<table>" in html


def test_report_cells_are_mean_and_t_interval(batch: Path) -> None:
    runs = read_table(batch, "runs")
    x = runs.loc[runs["scenario"] == "subsidy", "soc_change_permille_mean"].to_numpy()
    mean, lo, hi, n = mean_ci(x)
    assert n == 4 and lo < mean < hi
    from scipy import stats

    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert hi - mean == pytest.approx(half)
    assert f"{mean:,.2f} [{lo:,.2f}, {hi:,.2f}]" in (batch / "report" / "report.md").read_text()
    # A share's cell: the logit-scale interval, inside 0-100 % and stated as such.
    share = runs.loc[runs["scenario"] == "subsidy", "adoption_share_2050"].to_numpy() * 100
    m, lo, hi, _ = mean_ci(share, bounds=(0.0, 100.0))
    text = (batch / "report" / "report.md").read_text()
    assert f"{m:,.1f} [{lo:,.1f}, {hi:,.1f}]" in text and "logit" in text


def test_bootstrap_ratio_is_deterministic() -> None:
    num = pd.Series([10.0, 12.0, 9.0, 11.0]).to_numpy()
    den = pd.Series([1.0, 1.2, 0.8, 1.0]).to_numpy()
    a = bootstrap_ratio(num, den)
    assert a == bootstrap_ratio(num, den)
    assert a[0] == pytest.approx(42 / 4.0) and a[1] <= a[0] <= a[2]


def test_single_run_folder_query_and_report(tmp_path: Path) -> None:
    result = toy_model({"policy.subsidy_eur_per_ha": 50}, 9)
    out = tmp_path / "one"
    write_single_run(out, result, scenario="subsidy", seed=9, spec={"scenario": "subsidy"})
    m = read_manifest(out)
    assert m is not None and m["kind"] == "run" and m["root_seed"] == 9
    runs = read_table(out, "runs")
    assert runs["run_id"].tolist() == ["subsidy-d0000-r000"] and runs["seed"].tolist() == [9]
    assert len(read_table(out, "timeseries")) == 31
    md = build_report(out).read_text()
    assert "subsidy" in md and "Difference to" not in md
    assert not list(tmp_path.glob(".*"))  # the temporary folder was renamed into place
    with pytest.raises(UserInputError, match="not empty"):
        write_single_run(out, result, scenario="subsidy", seed=9, spec={})


def test_single_run_label_from_a_scenario_file(tmp_path: Path) -> None:
    result = toy_model({}, 1)
    write_single_run(tmp_path / "x", result, scenario="my dir/My Scen.toml", seed=1, spec={})
    assert read_table(tmp_path / "x", "runs")["run_id"].tolist() == ["My-Scen-d0000-r000"]


def test_report_errors(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not found"):
        build_report(tmp_path / "missing")
    study = toy_study(tmp_path, replicates=1, points=1)
    write(
        study,
        study.read_text()
        .replace('name = "baseline"', 'name = "baseline"\nset = { "toy.fail" = true }')
        .replace('"policy.subsidy_eur_per_ha" = 120', '"toy.fail" = true'),
    )
    run_batch(study, workers=0, out=tmp_path / "allfail", quiet=True)
    with pytest.raises(UserInputError, match="no finished runs"):
        build_report(tmp_path / "allfail")


def test_cli_report(batch: Path) -> None:
    proc = run_cli("report", str(batch), cwd=batch)
    assert proc.returncode == 0, proc.stderr
    assert "report.md" in proc.stdout


def test_kpi_only_batch_reports_tables_without_figures(tmp_path: Path) -> None:
    text = FULL.replace(
        'name = "report-toy"', 'name = "kpis"\nsave_timeseries = false\nsave_ledger = false'
    )
    study = write(tmp_path / "s.toml", text)
    run_batch(study, workers=0, out=tmp_path / "out", quiet=True)
    assert query(tmp_path / "out", "SELECT count(*) AS n FROM timeseries")["n"].iloc[0] == 0
    assert not list((tmp_path / "out" / "timeseries.parquet").iterdir())
    md = build_report(tmp_path / "out").read_text()
    assert "Adoption 2050" in md and "Difference to baseline" in md
    assert "adoption.png" not in md and "exchanges.png" not in md
    assert "cost_effectiveness.png" in md  # drawn from the runs table alone


def _toy_runs() -> pd.DataFrame:
    """Two scenarios x 4 replicates; the baseline rows are shuffled (pairing is by key)."""
    rows = []
    base_t = [100.0, 300.0, 200.0, 400.0]  # sequestration differs a lot between replicates
    for rep, t in enumerate(base_t):
        rows.append(
            dict(
                scenario="baseline",
                design_point=0,
                replicate=rep,
                public_spend_eur_total=0.0,
                social_cost_eur_total=1000.0 + rep,
                sequestration_tco2e_cum_final=t,
                sequestration_permanent_tco2e=t / 10,
                adoption_share_2050=0.2 + 0.1 * rep,
            )
        )
    extra_t = [10.0, 30.0, 20.0, 40.0]  # additional tonnes per pair
    spend = [500.0, 1400.0, 1000.0, 2100.0]
    for rep, t in enumerate(base_t):
        rows.append(
            dict(
                scenario="scheme",
                design_point=0,
                replicate=rep,
                public_spend_eur_total=spend[rep],
                social_cost_eur_total=1000.0 + rep + 300.0,
                sequestration_tco2e_cum_final=t + extra_t[rep],
                sequestration_permanent_tco2e=(t + extra_t[rep]) / 10,
                adoption_share_2050=0.2 + 0.1 * rep + 0.05,
            )
        )
    frame = pd.DataFrame(rows)
    return pd.concat([frame.iloc[[2, 0, 3, 1]], frame.iloc[4:]]).reset_index(drop=True)


def test_report_paired_differences_and_costs_by_hand() -> None:
    from abm.report import diff_table, paired_costs

    runs = _toy_runs()
    costs = paired_costs(runs, ["baseline", "scheme"], "baseline")["scheme"]
    # one definition: mean paired Δcost / mean paired Δt
    est, lo, hi = costs["public_cost_eur_per_additional_tco2e"]
    assert est == pytest.approx((500 + 1400 + 1000 + 2100) / 4 / ((10 + 30 + 20 + 40) / 4))
    assert lo < est < hi  # a bootstrap interval around it
    assert lo >= 45.0 and hi <= 55.0  # ratios per pair are 50, 46.7, 50, 52.5
    assert costs["social_cost_eur_per_additional_tco2e"][0] == pytest.approx(300 / 25)
    assert costs["public_cost_eur_per_additional_permanent_tco2e"][0] == pytest.approx(50 * 10)
    # sign: scenario minus baseline; pairing by replicate makes Δadoption exactly +0.05 each
    table = diff_table(runs, ["baseline", "scheme"], "baseline")
    assert table is not None
    # (pairing by row order would mix replicates and give a wide interval)
    assert table.loc["Δ Adoption 2050 (% of area)", "scheme"] == "5.0 [5.0, 5.0]"
    row = "Public cost per additional t CO2e (€/t CO2e, bootstrap CI)"
    assert table.loc[row, "scheme"].startswith("50 [")


def test_report_costs_are_nan_when_no_tonne_is_added() -> None:
    from abm.report import paired_costs

    runs = _toy_runs()
    sel = runs["scenario"] == "scheme"
    runs.loc[sel, "sequestration_tco2e_cum_final"] = (
        runs.loc[runs["scenario"] == "baseline"]
        .sort_values("replicate")["sequestration_tco2e_cum_final"]
        .to_numpy()
        - 5.0
    )
    est = paired_costs(runs, ["baseline", "scheme"], "baseline")["scheme"]
    assert np.isnan(est["public_cost_eur_per_additional_tco2e"][0])
