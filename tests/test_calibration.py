"""``abm calibrate`` (issue 10): ABC-SMC with pyabc, real behaviour on models with known answers.

* a Gaussian plug-in with an analytic posterior (normal prior, normal likelihood);
* synthetic recovery on the toy model (data generated with known parameters);
* the hard bound on model runs, counted by the model itself, inside a generation;
* determinism (same seed: same posterior, whatever the number of workers) and resume after a
  kill mid-generation (the same posterior as an uninterrupted calibration);
* ``fit.parquet`` bands over the observations, held-out years flagged;
* ``--posterior DIR`` for batch (same seed, same tables; replicates draw the posterior);
* bad input: one line, exit 2, nothing written.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from abm.calibration.outputs import weighted_quantile
from abm.calibration.run import run_calibration
from abm.cli import app

CLI = CliRunner()

#: Gaussian plug-in: y_year = mu + N(0, 1) for 4 years; with prior mu ~ N(0, 2) and observed
#: mean ybar, the posterior is N(ybar * 4 / (4 + 1/4), 1 / sqrt(4 + 1/4)).
GAUSS = '''
import os
from dataclasses import dataclass
import numpy as np
import pandas as pd

@dataclass
class Result:
    timeseries: pd.DataFrame
    kpis: dict

def model(params, seed):
    count = os.environ.get("CAL_COUNT")
    if count:
        with open(count, "a") as fh:
            fh.write("x\\n")
        kill = os.environ.get("CAL_KILL_AT")
        if kill and sum(1 for _ in open(count)) == int(kill):
            raise KeyboardInterrupt("killed by the test")
    rng = np.random.default_rng(seed)
    mu = float(params.get("mu", 0.0)) + float(params.get("nu", 0.0)) * 0.0
    y = mu + rng.standard_normal(4)
    ts = pd.DataFrame({"year": [2001, 2002, 2003, 2004], "y": y, "z": y * 2})
    return Result(ts, {"y_mean": float(y.mean())})
'''


def gauss_study(
    tmp_path: Path,
    obs: list[float],
    *,
    population: int = 40,
    max_sim: int = 2000,
    generations: int = 4,
    predictive: int = 40,
    seed: int = 3,
    extra: str = "",
) -> Path:
    (tmp_path / "gauss_model.py").write_text(GAUSS)
    rows = "\n".join(f"{2001 + i},{v},u,synthetic" for i, v in enumerate(obs))
    (tmp_path / "obs.csv").write_text("year,value,unit,source\n" + rows + "\n")
    path = tmp_path / "gauss.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            name = "gauss"
            seed = {seed}
            model = "gauss_model:model"
            [design.parameters]
            mu = {{ dist = "normal", mean = 0.0, sd = 2.0 }}
            [calibration]
            population = {population}
            max_simulations = {max_sim}
            generations = {generations}
            predictive = {predictive}
            quantile = 0.3
            [[targets]]
            file = "obs.csv"
            output = "y"
            """
        )
        + extra
    )
    return path


def calibrate(path: Path, out: Path, **kw) -> Path:
    return run_calibration(path, out=out, allow_plugin=True, quiet=True, workers=0, **kw)


def test_gaussian_posterior_matches_the_analytic_one(tmp_path: Path) -> None:
    obs = [1.3, 0.4, 1.9, 0.8]
    out = calibrate(gauss_study(tmp_path, obs), tmp_path / "out")
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 40 and abs(post["weight"].sum() - 1) < 1e-9
    prec = 4 + 1 / 4
    mean, sd = np.mean(obs) * 4 / prec, 1 / np.sqrt(prec)
    w = post["weight"].to_numpy()
    m = float(np.sum(w * post["mu"]))
    s = float(np.sqrt(np.sum(w * (post["mu"] - m) ** 2)))
    # ABC with a finite threshold is a little wider than the exact posterior, never narrower
    assert abs(m - mean) < 0.25, (m, mean)
    assert 0.7 * sd < s < 1.8 * sd, (s, sd)
    # the prior (sd 2) was informed: the posterior is much narrower than it
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary["shrinkage"].iloc[0] > 0.5
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "calibration" and man["status"] == "finished"
    assert man["simulations"] <= 2000 and len(man["epsilons"]) == man["generations"]
    assert man["epsilons"] == sorted(man["epsilons"], reverse=True)
    assert (out / "history.db").is_file()


def test_fit_bands_contain_the_observations_and_flag_held_out_years(tmp_path: Path) -> None:
    obs = [0.9, 1.4, 0.6, 1.1]
    extra = 'until = 2003\n[[targets]]\nfile = "obs.csv"\noutput = "z"\nscale = 2.0\nfit = false\n'
    out = calibrate(gauss_study(tmp_path, obs, extra=extra, predictive=60), tmp_path / "out")
    fit = pd.read_parquet(out / "fit.parquet")
    cols = ["target", "output", "year", "observed", "median", "low", "high", "fitted"]
    assert list(fit.columns) == cols
    assert len(fit) == 8 and set(fit["target"]) == {"obs", "obs-2"}
    first = fit[fit["target"] == "obs"]
    assert list(first["fitted"]) == [True, True, True, False]
    assert not fit[fit["target"] == "obs-2"]["fitted"].any()
    inside = (fit["low"] <= fit["observed"]) & (fit["observed"] <= fit["high"])
    assert inside.mean() >= 0.75, fit
    assert (fit["low"] < fit["median"]).all() and (fit["median"] < fit["high"]).all()
    # a scale maps observed units onto the model's: z = 2 y, so obs-2 holds 2 × the values
    assert np.allclose(fit[fit["target"] == "obs-2"]["observed"], 2 * np.array(obs))
    assert (out / "report" / "report.md").is_file()
    for name in ("marginals", "pairs", "predictive", "shrinkage"):
        assert (out / "report" / f"{name}.png").stat().st_size > 1000


def test_max_simulations_is_a_hard_bound_counted_by_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget binds inside a generation: exactly N model runs, not one more."""
    count = tmp_path / "count.txt"
    monkeypatch.setenv("CAL_COUNT", str(count))
    path = gauss_study(tmp_path, [1.0, 1.0, 1.0, 1.0], population=30, generations=50, predictive=7)
    out = calibrate(path, tmp_path / "out", max_simulations=137)
    calls = len(count.read_text().splitlines())
    man = json.loads((out / "manifest.json").read_text())
    assert calls == 137 == man["simulations"]
    assert man["predictive_runs"] == 7 and man["pilot_runs"] == 1 and man["generations"] >= 1
    # the interrupted generation's particles are not the posterior: the last complete one is
    assert set(pd.read_parquet(out / "posterior.parquet")["generation"]) == {
        man["generations"] - 1
    }


def test_max_simulations_bound_holds_with_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = tmp_path / "count.txt"
    monkeypatch.setenv("CAL_COUNT", str(count))
    path = gauss_study(tmp_path, [1.0, 1.0, 1.0, 1.0], population=20, generations=50, predictive=5)
    out = run_calibration(
        path, out=tmp_path / "out", allow_plugin=True, quiet=True, workers=2, max_simulations=71
    )
    assert len(count.read_text().splitlines()) == 71
    assert json.loads((out / "manifest.json").read_text())["simulations"] == 71


def test_same_seed_same_posterior_whatever_the_workers(tmp_path: Path) -> None:
    obs = [0.5, 1.0, 1.5, 0.7]
    a = calibrate(gauss_study(tmp_path, obs, population=25, generations=3), tmp_path / "a")
    b = run_calibration(
        tmp_path / "gauss.toml", out=tmp_path / "b", allow_plugin=True, quiet=True, workers=2
    )
    pa, pb = (pd.read_parquet(d / "posterior.parquet") for d in (a, b))
    pd.testing.assert_frame_equal(pa, pb)
    fa, fb = (pd.read_parquet(d / "fit.parquet") for d in (a, b))
    pd.testing.assert_frame_equal(fa, fb)
    # another seed: another posterior
    c = calibrate(gauss_study(tmp_path, obs, population=25, generations=3, seed=4), tmp_path / "c")
    assert not pa["mu"].equals(pd.read_parquet(c / "posterior.parquet")["mu"])


def test_a_killed_calibration_resumes_to_the_same_posterior(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    obs = [0.2, 0.9, 1.2, 0.4]
    path = gauss_study(tmp_path, obs, population=20, generations=4, predictive=10)
    whole = calibrate(path, tmp_path / "whole")
    count = tmp_path / "count.txt"
    monkeypatch.setenv("CAL_COUNT", str(count))
    monkeypatch.setenv("CAL_KILL_AT", "70")  # inside generation 2 or 3
    with pytest.raises(KeyboardInterrupt):
        calibrate(path, tmp_path / "killed")
    man = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert man["status"] == "interrupted"
    monkeypatch.delenv("CAL_KILL_AT")
    res = CLI.invoke(
        app, ["calibrate", str(path), "--allow-plugin", "--out", str(tmp_path / "killed")]
    )
    assert res.exit_code == 2 and "not empty" in res.output  # no --resume: refused
    calibrate(path, tmp_path / "killed", resume=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(whole / "posterior.parquet"),
        pd.read_parquet(tmp_path / "killed" / "posterior.parquet"),
    )


def test_synthetic_recovery_on_the_toy_model(tmp_path: Path) -> None:
    """Data generated by the toy model with known parameters: the 90 % credible intervals of
    the three calibrated parameters contain the truth."""
    from abm.batch.toy import model

    truth = {"policy.subsidy_eur_per_ha": 24.0, "farmer.peer_weight": 0.6, "n_farms": 400}
    ts = model({**truth, "start_year": 2000, "end_year": 2020}, seed=11).timeseries
    rows = ts[ts["year"] % 2 == 0]
    for col in ("adoption_share", "share_farms_4p1000"):
        text = "year,value,unit,source\n" + "".join(
            f"{y},{v},share,synthetic\n" for y, v in zip(rows["year"], rows[col], strict=True)
        )
        (tmp_path / f"{col}.csv").write_text(text)
    path = tmp_path / "toy.toml"
    path.write_text(
        textwrap.dedent(
            """
            [experiment]
            name = "toy-recovery"
            seed = 5
            model = "abm.batch.toy:model"
            [base]
            start_year = 2000
            end_year = 2020
            [design.parameters]
            "policy.subsidy_eur_per_ha" = [0.0, 80.0]
            "farmer.peer_weight" = [0.0, 1.0]
            n_farms = { low = 100, high = 800, integer = true }
            [calibration]
            population = 40
            max_simulations = 700
            generations = 6
            predictive = 20
            [[targets]]
            file = "adoption_share.csv"
            output = "adoption_share"
            [[targets]]
            file = "share_farms_4p1000.csv"
            output = "share_farms_4p1000"
            """
        )
    )
    out = calibrate(path, tmp_path / "out")
    summary = pd.read_parquet(out / "summary.parquet").set_index("parameter")
    for name, value in truth.items():
        assert summary.loc[name, "low"] <= value <= summary.loc[name, "high"], (name, summary)
    # the data informed the subsidy (it drives adoption): its interval shrank
    assert summary.loc["policy.subsidy_eur_per_ha", "shrinkage"] > 0.3
    assert (pd.read_parquet(out / "posterior.parquet")["n_farms"] % 1 == 0).all()


@pytest.mark.slow
def test_coverage_of_the_90_percent_intervals_over_synthetic_data_sets(tmp_path: Path) -> None:
    """Truth drawn from the prior, data from the model, 10 calibrations: the 90 % intervals
    contain the truth in most of them (a loose bound: nominally 9 of 10)."""
    rng = np.random.default_rng(2024)
    hits = []
    for k in range(10):
        mu = float(rng.normal(0.0, 2.0))
        obs = list(mu + rng.standard_normal(4))
        folder = tmp_path / f"d{k}"
        folder.mkdir()
        path = gauss_study(folder, obs, population=30, generations=3, predictive=0, seed=k)
        out = calibrate(path, folder / "out")
        post = pd.read_parquet(out / "posterior.parquet")
        w = post["weight"].to_numpy()
        lo, hi = (weighted_quantile(post["mu"].to_numpy(), w, q) for q in (0.05, 0.95))
        hits.append(lo <= mu <= hi)
    assert sum(hits) >= 7, hits


def test_weighted_quantile() -> None:
    x = np.array([3.0, 1.0, 2.0])
    assert weighted_quantile(x, np.ones(3), 0.5) == 2.0
    assert weighted_quantile(x, np.array([0.0, 0.0, 1.0]), 0.5) == 2.0


# -- --posterior DIR ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_posterior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("post")
    (tmp / "obs.csv").write_text(
        "year,value,unit,source\n2005,0.1,share,s\n2010,0.25,share,s\n2015,0.4,share,s\n"
    )
    path = tmp / "toy.toml"
    path.write_text(
        textwrap.dedent(
            """
            [experiment]
            name = "toy-cal"
            seed = 1
            model = "abm.batch.toy:model"
            [base]
            start_year = 2000
            end_year = 2020
            [design.parameters]
            "policy.subsidy_eur_per_ha" = [0.0, 60.0]
            "farmer.peer_weight" = [0.0, 1.0]
            [calibration]
            population = 20
            max_simulations = 200
            generations = 2
            predictive = 10
            [[targets]]
            file = "obs.csv"
            output = "adoption_share"
            """
        )
    )
    return calibrate(path, tmp / "out")


def _batch_study(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "batch.toml"
    path.write_text(
        textwrap.dedent(
            """
            [experiment]
            name = "b"
            seed = 9
            replicates = 6
            model = "abm.batch.toy:model"
            [base]
            n_farms = 50
            end_year = 2030
            [[scenarios]]
            name = "a"
            [[scenarios]]
            name = "b"
            set = { "policy.premium_eur_per_ha" = 50.0 }
            """
        )
        + extra
    )
    return path


def test_batch_replicates_draw_from_the_posterior(tmp_path: Path, toy_posterior: Path) -> None:
    from abm.batch.runner import run_batch

    study = _batch_study(tmp_path)
    for name in ("r1", "r2"):
        run_batch(study, workers=0, out=tmp_path / name, quiet=True, posterior=toy_posterior)
    r1, r2 = (pd.read_parquet(tmp_path / n / "runs.parquet") for n in ("r1", "r2"))
    key = ["run_id"]
    pd.testing.assert_frame_equal(
        r1.sort_values(key).reset_index(drop=True), r2.sort_values(key).reset_index(drop=True)
    )
    post = pd.read_parquet(toy_posterior / "posterior.parquet")
    col = "farmer.peer_weight"
    assert col in r1.columns and set(r1[col]) <= set(post[col])
    assert r1[col].nunique() > 1  # replicates differ ...
    per_rep = r1.groupby("replicate")[col].nunique()
    assert (per_rep == 1).all()  # ... and every scenario of a replicate shares its draw


def test_run_with_posterior_and_conflicts(tmp_path: Path, toy_posterior: Path) -> None:
    lever = '[[scenarios]]\nname = "c"\nset = { "farmer.peer_weight" = 0.1 }\n'
    study = _batch_study(tmp_path, lever)
    res = CLI.invoke(
        app,
        ["batch", str(study), "--workers", "0", "--posterior", str(toy_posterior), "--out",
         str(tmp_path / "x")],
    )
    assert res.exit_code == 2 and "farmer.peer_weight" in res.output, res.output
    assert not (tmp_path / "x").exists()
    res = CLI.invoke(
        app, ["batch", str(study), "--posterior", str(tmp_path), "--out", str(tmp_path / "x")]
    )
    assert res.exit_code == 2 and "not a finished calibration" in res.output


def test_report_knows_calibration_folders(toy_posterior: Path) -> None:
    (toy_posterior / "report" / "report.md").unlink()
    res = CLI.invoke(app, ["report", str(toy_posterior)])
    assert res.exit_code == 0, res.output
    text = (toy_posterior / "report" / "report.md").read_text()
    assert "posterior median" in text.lower() and "predictive.png" in text


# -- bad input: one line, exit 2, nothing written --------------------------------------------


def _bad(tmp_path: Path, args: list[str]) -> str:
    out = tmp_path / "res"
    res = CLI.invoke(app, ["calibrate", *args, "--out", str(out), "--allow-plugin"])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert not out.exists()
    return lines[0]


def test_bad_csv_without_year_or_value(tmp_path: Path) -> None:
    path = gauss_study(tmp_path, [1.0])
    (tmp_path / "obs.csv").write_text("yr,value\n2001,1.0\n")
    line = _bad(tmp_path, [str(path)])
    assert "obs.csv" in line and "'year'" in line and "year,value,unit,source" in line
    (tmp_path / "bad.csv").write_text("year,val\n2001,1.0\n")
    line = _bad(tmp_path, [str(path), "--target", f"{tmp_path / 'bad.csv'}:y"])
    assert "bad.csv" in line and "'value'" in line


def test_bad_output_the_model_does_not_produce(tmp_path: Path) -> None:
    path = gauss_study(tmp_path, [1.0])
    line = _bad(tmp_path, [str(path), "--target", f"{tmp_path / 'obs.csv'}:yy:0.01"])
    assert "'yy'" in line and "did you mean 'y'" in line


def test_bad_output_of_the_abm_model(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text("year,value\n2021,1.0\n")
    path = tmp_path / "abm.toml"
    path.write_text(
        '[experiment]\nname = "a"\n[design.parameters]\n"farmer.w_norm" = [1.0, 8.0]\n'
        '[[targets]]\nfile = "o.csv"\noutput = "adoption_share_cover_crop"\n'
    )
    line = _bad(tmp_path, [str(path)])
    assert str(path) in line and "adoption_share_cover_crops" in line


def test_bad_prior_low_not_below_high(tmp_path: Path) -> None:
    path = gauss_study(tmp_path, [1.0])
    normal = '{ dist = "normal", mean = 0.0, sd = 2.0 }'
    path.write_text(path.read_text().replace(normal, "[3.0, 1.0]"))
    line = _bad(tmp_path, [str(path)])
    assert str(path) in line and "mu" in line and "must be below high" in line


def test_bad_start_year_after_the_first_observation(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text("year,value\n1990,0.01\n2000,0.02\n")
    path = tmp_path / "abm.toml"
    path.write_text(
        '[experiment]\nname = "a"\n[base]\nstart_year = 1995\nend_year = 2001\n'
        '[design.parameters]\n"farmer.w_norm" = [1.0, 8.0]\n'
        '[[targets]]\nfile = "o.csv"\noutput = "adoption_share"\n'
    )
    line = _bad(tmp_path, [str(path)])
    assert "start_year = 1995" in line and "1990" in line and "start_year=1990" in line
    line = _bad(tmp_path, [str(path), "--set", "start_year=1992"])
    assert "start_year = 1992" in line and line.startswith("error: command line")


def test_bad_missing_files(tmp_path: Path) -> None:
    line = _bad(tmp_path, [str(tmp_path / "nope.toml")])
    assert "nope.toml" in line and "not found" in line
    path = gauss_study(tmp_path, [1.0])
    line = _bad(tmp_path, [str(path), "--target", "missing.csv:y"])
    assert "missing.csv" in line and "not found" in line


def test_bad_flags(tmp_path: Path) -> None:
    path = gauss_study(tmp_path, [1.0])
    assert "CSV:OUTPUT" in _bad(tmp_path, [str(path), "--target", "nocolon.csv"])
    assert "below population + predictive" in _bad(tmp_path, [str(path), "--max-simulations", "5"])
    assert "nothing to calibrate" in _bad(tmp_path, [str(path), "--set", "mu=1.0"])
    path.write_text(path.read_text().replace("quantile = 0.3", "quantile = 0.3\npopsize = 3"))
    assert "unknown key 'popsize' in calibration" in _bad(tmp_path, [str(path)])


def test_run_draw_is_seeded_and_refuses_a_set_calibrated_parameter(toy_posterior: Path) -> None:
    from abm.calibration.posterior import overrides_for_run
    from abm.errors import UserInputError

    post = pd.read_parquet(toy_posterior / "posterior.parquet")
    a, b = (overrides_for_run(toy_posterior, 5, {}) for _ in range(2))
    assert a == b and set(a) == {"policy.subsidy_eur_per_ha", "farmer.peer_weight"}
    assert a["farmer.peer_weight"] in set(post["farmer.peer_weight"])
    draws = {overrides_for_run(toy_posterior, s, {})["farmer.peer_weight"] for s in range(20)}
    assert len(draws) > 3  # seeds draw different particles
    with pytest.raises(UserInputError, match=r"farmer\.peer_weight"):
        overrides_for_run(toy_posterior, 5, {"farmer.peer_weight": 0.2})


@pytest.mark.slow
def test_synthetic_recovery_on_the_abm_model(tmp_path: Path) -> None:
    """The model itself generates the data (known peer weight, relative advantage and
    dis-adoption rate); a small-budget calibration's 90 % intervals contain all three."""
    from abm.run import run_model

    base = {"n_farms": 150, "start_year": 2012, "end_year": 2020}
    truth = {
        "policy.subsidy_eur_per_ha": 80.0,
        "farmer.w_norm": 4.0,
        "practices.cover_crops.disadoption_rate": 0.15,
    }
    ts = run_model({**base, "policy.start_year": 2012, **truth}, seed=21).timeseries
    rows = ts[ts["year"] % 2 == 0]
    (tmp_path / "cc.csv").write_text(
        "year,value,unit,source\n"
        + "".join(
            f"{y},{v},share,synthetic\n"
            for y, v in zip(rows["year"], rows["adoption_share_cover_crops"], strict=True)
        )
    )
    path = tmp_path / "abm.toml"
    path.write_text(
        textwrap.dedent(
            """
            [experiment]
            name = "abm-recovery"
            seed = 8
            [base]
            n_farms = 150
            start_year = 2012
            end_year = 2020
            "policy.start_year" = 2012
            [design.parameters]
            "policy.subsidy_eur_per_ha" = [0.0, 150.0]
            "farmer.w_norm" = [1.0, 8.0]
            "practices.cover_crops.disadoption_rate" = [0.05, 0.3]
            [calibration]
            population = 20
            max_simulations = 160
            generations = 4
            predictive = 10
            [[targets]]
            file = "cc.csv"
            output = "adoption_share_cover_crops"
            """
        )
    )
    out = calibrate(path, tmp_path / "out")
    summary = pd.read_parquet(out / "summary.parquet").set_index("parameter")
    for name, value in truth.items():
        assert summary.loc[name, "low"] <= value <= summary.loc[name, "high"], (name, summary)
