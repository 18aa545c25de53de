"""``abm sensitivity``: analytic indices, sampler order, seed share, convergence, bad input.

The analytic tests sample with the project's design code (:mod:`abm.batch.designs`, SALib's
samplers), evaluate the plug-in test functions of :mod:`abm.testfunctions` and analyse with
:func:`abm.sensitivity.analysis.analyse` (SALib's analysers); the end-to-end tests run the
same functions through the whole pipeline (study file → batch → store → analysis), at smaller
sizes. Tolerances: the largest error over 5 seeds was ≤ 0.03 at these sizes; the tests allow 0.06.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from abm import testfunctions as tf
from abm.batch.designs import sample_design, unit_sample
from abm.batch.spec import DesignSpec
from abm.cli import app
from abm.sensitivity.analysis import (
    ConstantOutputWarning,
    Problem,
    analyse,
    convergence,
    point_means,
    seed_share,
)
from abm.sensitivity.study import run_sensitivity

PI = math.pi
ISHIGAMI = {f"x{i}": [-PI, PI] for i in (1, 2, 3)}
G_A = tf.SOBOL_G_A[:6]
G_PARAMS = {f"x{i}": [0.0, 1.0] for i in range(1, 7)}
TOL = 0.06


def _design(method: str, n: int, params: dict, seed: int, **kw: object) -> tuple:
    spec = DesignSpec.model_validate({"method": method, "n": n, "parameters": params, **kw})
    frame = sample_design(spec, seed=seed, base_dir=Path("."))
    names = list(params)
    problem = Problem(
        names,
        unit_sample(spec, names, seed),
        levels=int(kw.get("levels", 4)),  # type: ignore[call-overload]
    )
    return frame, problem


def _evaluate(func, frame: pd.DataFrame, **extra: float) -> np.ndarray:
    return np.array([func({**row, **extra}, 0)["y"] for row in frame.to_dict("records")])


# -- analytic indices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "design", "n"),
    [("sobol", "sobol", 1024), ("fast", "fast", 1000), ("rbd_fast", "lhs", 2000)],
)
@pytest.mark.parametrize("function", ["ishigami", "sobol_g"])
def test_analytic_indices(method: str, design: str, n: int, function: str) -> None:
    """S1 (and ST where the method has it) within 0.06 of the analytic values."""
    if function == "ishigami":
        func, params, exact = tf.ishigami, ISHIGAMI, tf.ishigami_indices()
    else:
        func, params, exact = tf.sobol_g, G_PARAMS, tf.sobol_g_indices(G_A)
    frame, problem = _design(design, n, params, seed=11)
    res = analyse(method, problem, _evaluate(func, frame), num_resamples=20, seed=1)
    for idx in ("S1", "ST"):
        got = res[res["index"] == idx].set_index("parameter")["value"]
        if idx == "ST" and method == "rbd_fast":
            assert got.empty
            continue
        np.testing.assert_allclose(got.to_numpy(), exact[idx], atol=TOL, err_msg=idx)


def test_ishigami_second_order() -> None:
    """S2(x1, x3) = 0.244 is the only interaction of the Ishigami function."""
    frame, problem = _design("sobol", 1024, ISHIGAMI, seed=3)
    res = analyse("sobol", problem, _evaluate(tf.ishigami, frame), num_resamples=20)
    s2 = res[res["index"] == "S2"].set_index("parameter")["value"]
    exact = tf.ishigami_indices()["S2"]
    assert set(s2.index) == {"x1,x2", "x1,x3", "x2,x3"}
    for pair, value in exact.items():
        assert s2[",".join(pair)] == pytest.approx(value, abs=0.1)


def test_morris_ranks_the_g_function() -> None:
    """μ* ranks G's inputs by their coefficient a = 0 < 1 < 4.5 < 9 < 99."""
    frame, problem = _design("morris", 40, G_PARAMS, seed=5, levels=4)
    res = analyse("morris", problem, _evaluate(tf.sobol_g, frame), num_resamples=20)
    mu = res[res["index"] == "mu_star"].set_index("parameter")["value"]
    assert list(mu.sort_values(ascending=False).index[:4]) == ["x1", "x2", "x3", "x4"]
    assert mu["x5"] < 0.1 * mu["x1"] and mu["x6"] < 0.1 * mu["x1"]


def test_analytic_formulas() -> None:
    """The analytic indices themselves: published values (Saltelli et al. 2008, Table 4.1)."""
    ish = tf.ishigami_indices()
    np.testing.assert_allclose(ish["S1"], [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(ish["ST"], [0.5576, 0.4424, 0.2437], atol=1e-4)
    g = tf.sobol_g_indices([0.0, 99.0])
    assert g["S1"][0] > 0.999 and sum(g["S1"]) <= 1.0


# -- sampler order -----------------------------------------------------------------------------


def _runs_frame(y: np.ndarray, reps: int = 1) -> pd.DataFrame:
    rows = [
        {"design_point": d, "replicate": r, "y": float(v) + r * 0.01}
        for d, v in enumerate(y)
        for r in range(reps)
    ]
    return pd.DataFrame(rows)


def test_point_means_reorders_shuffled_runs() -> None:
    """Runs in any order give the same sampler-ordered means; the wrong order would not."""
    frame, problem = _design("sobol", 64, ISHIGAMI, seed=2)
    y = _evaluate(tf.ishigami, frame)
    runs = _runs_frame(y, reps=2)
    shuffled = runs.sample(frac=1.0, random_state=4)
    a, _ = point_means(runs, "y", len(y))
    b, _ = point_means(shuffled, "y", len(y))
    np.testing.assert_array_equal(a, b)
    res_a = analyse("sobol", problem, a, num_resamples=20, seed=0)
    res_b = analyse("sobol", problem, b, num_resamples=20, seed=0)
    pd.testing.assert_frame_equal(res_a, res_b)
    wrong = analyse(
        "sobol",
        problem,
        shuffled.groupby("design_point", sort=False)["y"].mean().to_numpy(),
        num_resamples=20,
        seed=0,
    )
    assert not np.allclose(wrong["value"], res_a["value"], equal_nan=True)


# -- the pipeline ------------------------------------------------------------------------------

STUDY = """
[experiment]
name = "{name}"
replicates = {replicates}
seed = 9
model = "{model}"

[base]
{base}

[design]
method = "{design}"
n = {n}
{design_extra}
[design.parameters]
{parameters}

[sensitivity]
methods = {methods}
outputs = {outputs}
num_resamples = 20
"""


def study_file(
    folder: Path,
    *,
    name: str = "sa",
    model: str = "abm.testfunctions:sobol_g",
    design: str = "sobol",
    n: int = 32,
    replicates: int = 1,
    parameters: str = "\n".join(f"x{i} = [0.0, 1.0]" for i in range(1, 5)),
    methods: str = '["sobol"]',
    outputs: str = '["y"]',
    base: str = "",
    design_extra: str = "",
) -> Path:
    text = STUDY.format(**locals())
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_pipeline_recovers_g_function(tmp_path: Path) -> None:
    """Study file → batch → sensitivity.parquet with the contract columns and G's indices."""
    path = study_file(tmp_path, n=128, methods='["sobol", "rbd_fast"]')
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", allow_plugin=True, quiet=True)
    assert out is not None
    table = pd.read_parquet(out / "sensitivity.parquet")
    for col in ("output", "year", "parameter", "index", "value", "conf", "method", "scenario"):
        assert col in table.columns
    assert table["year"].isna().all()  # KPIs only
    s1 = table[(table["method"] == "sobol") & (table["index"] == "S1")].set_index("parameter")
    np.testing.assert_allclose(s1["value"].to_numpy(), tf.sobol_g_indices(G_A[:4])["S1"], atol=0.15)
    assert (s1["conf"] > 0).all()
    conv = pd.read_parquet(out / "convergence.parquet")
    assert sorted(conv[conv["method"] == "sobol"]["n"].unique()) == [32, 64, 128]
    assert (out / "sensitivity" / "report.md").is_file()
    assert (out / "sensitivity" / "indices_sobol.png").is_file()
    assert (out / "sensitivity" / "convergence.png").is_file()


class _Shuffled:
    """An executor that returns the runs in a shuffled order (as parallel runs may)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.workers = 1
        self.description = "shuffled in-process"
        self.order: list[str] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap_unordered(self, fn, tasks, window=1):
        items = list(tasks)
        rng = np.random.default_rng(0)
        for i in rng.permutation(len(items)):
            self.order.append(items[i].run_id)
            yield items[i], fn(items[i])


def test_runs_finishing_out_of_order_give_the_same_indices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = study_file(tmp_path, n=32, methods='["sobol"]')
    a = run_sensitivity(path, workers=0, out=tmp_path / "a", allow_plugin=True, quiet=True)
    import abm.batch.runner as runner

    made: list[_Shuffled] = []

    def make(**kw):
        made.append(_Shuffled(None))
        return made[-1]

    monkeypatch.setattr(runner, "make_executor", make)
    b = run_sensitivity(path, workers=0, out=tmp_path / "b", allow_plugin=True, quiet=True)
    assert made and made[0].order != sorted(made[0].order)  # really out of order
    assert a is not None and b is not None
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "sensitivity.parquet"), pd.read_parquet(b / "sensitivity.parquet")
    )


def test_seed_share_of_a_known_noise(tmp_path: Path) -> None:
    """Ishigami + N(0, V) noise: half of one run's variance is the seed's; with R = 3
    replicates averaged, (V/3) / (V + V/3) = 1/4 of the means' variance is left."""
    sd = math.sqrt(tf.ishigami_variance())
    path = study_file(
        tmp_path,
        model="abm.testfunctions:ishigami",
        design="lhs",
        n=150,
        replicates=3,
        parameters="\n".join(f"x{i} = [{-PI}, {PI}]" for i in (1, 2, 3)),
        methods='["rbd_fast"]',
        base=f"noise_sd = {sd}",
    )
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", allow_plugin=True, quiet=True)
    assert out is not None
    table = pd.read_parquet(out / "sensitivity.parquet")
    seed = table[table["method"] == "replicates"].set_index("index")
    assert seed.loc["seed_share", "value"] == pytest.approx(0.5, abs=0.15)
    assert seed.loc["seed_share_of_mean", "value"] == pytest.approx(0.25, abs=0.1)
    assert seed.loc["seed_share", "conf"] > 0


def test_seed_share_is_zero_without_noise_and_nan_without_replicates() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 1))
    assert seed_share(np.repeat(base, 3, axis=1))["seed_share"][0] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(seed_share(base)["seed_share"][0])


def test_constant_output_gives_nan_with_a_warning(tmp_path: Path) -> None:
    frame, problem = _design("sobol", 32, ISHIGAMI, seed=1)
    with pytest.warns(ConstantOutputWarning, match="constant"):
        res = analyse("sobol", problem, np.zeros(len(frame)), label="zero")
    assert res["value"].isna().all() and len(res) == 3 + 3 + 3
    path = study_file(
        tmp_path,
        model="abm.testfunctions:ishigami",
        n=16,
        parameters="\n".join(f"x{i} = [{-PI}, {PI}]" for i in (1, 2, 3)),
        outputs='["y", "zero"]',
    )
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", allow_plugin=True, quiet=True)
    assert out is not None
    table = pd.read_parquet(out / "sensitivity.parquet")
    zero = table[(table["output"] == "zero") & (table["method"] == "sobol")]
    assert zero["value"].isna().all()
    assert table[(table["output"] == "y") & (table["method"] == "sobol")]["value"].notna().any()


def test_convergence_flags() -> None:
    """A converged index is settled; pure noise never is."""
    frame, problem = _design("sobol", 1024, ISHIGAMI, seed=8)
    good = convergence("sobol", problem, _evaluate(tf.ishigami, frame), num_resamples=20)
    x2 = good[(good["parameter"] == "x2") & (good["index"] == "S1")]
    assert list(x2["n"]) == [256, 512, 1024] and x2["settled"].all()
    noise = np.random.default_rng(1).normal(size=len(frame))
    small, problem = _design("sobol", 32, ISHIGAMI, seed=8)
    bad = convergence("sobol", problem, noise[: len(small)], num_resamples=20)
    assert not bad["settled"].any()


def test_groups(tmp_path: Path) -> None:
    """Grouped Sobol': the group {x1, x2} of G has S1 = (V1 + V2 + V1·V2) / V."""
    path = study_file(tmp_path, n=128, design_extra='[design.groups]\nfirst = ["x1", "x2"]\n')
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", allow_plugin=True, quiet=True)
    assert out is not None
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 128 * (2 * 3 + 2)  # 3 groups: first, x3, x4
    s1 = pd.read_parquet(out / "sensitivity.parquet")
    s1 = s1[(s1["index"] == "S1") & (s1["method"] == "sobol")].set_index("parameter")["value"]
    assert list(s1.index) == ["first", "x3", "x4"]
    v = [1 / (3 * (1 + a) ** 2) for a in G_A[:4]]
    total = np.prod([1 + vi for vi in v]) - 1
    assert s1["first"] == pytest.approx((v[0] + v[1] + v[0] * v[1]) / total, abs=0.12)


def test_sobol_n_rounded_with_a_warning(tmp_path: Path) -> None:
    path = study_file(tmp_path, n=100)
    with pytest.warns(UserWarning, match="rounded to 128"):
        from abm.sensitivity.study import prepare

        plan, _, _ = prepare(path, allow_plugin=True)
    assert len(plan.design) == 128 * (2 * 4 + 2)


def test_resume_gives_the_same_tables(tmp_path: Path) -> None:
    path = study_file(tmp_path, n=16)
    a = run_sensitivity(path, workers=0, out=tmp_path / "a", allow_plugin=True, quiet=True)
    b = run_sensitivity(path, workers=0, out=tmp_path / "b", allow_plugin=True, quiet=True)
    assert a is not None and b is not None
    parts = sorted((b / "runs.parquet").glob("*.parquet"))
    for part in parts[::3]:  # "killed": a third of the runs lost
        part.unlink()
    (b / "sensitivity.parquet").unlink()
    run_sensitivity(path, workers=0, out=b, resume=True, allow_plugin=True, quiet=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "sensitivity.parquet"), pd.read_parquet(b / "sensitivity.parquet")
    )


# -- command line ------------------------------------------------------------------------------

CLI = CliRunner()


def test_dry_run_prints_runs_and_estimate(tmp_path: Path) -> None:
    path = study_file(tmp_path, n=16)
    res = CLI.invoke(
        app,
        ["sensitivity", str(path), "--dry-run", "--allow-plugin", "--out", str(tmp_path / "res")],
    )
    assert res.exit_code == 0, res.output
    assert "160 runs" in res.output and "estimated time" in res.output
    assert not (tmp_path / "res").exists()


def test_analyze_any_batch_folder(tmp_path: Path) -> None:
    """--analyze: PAWN, delta, RBD-FAST on a plain batch folder find G's leading input."""
    path = study_file(tmp_path, design="lhs", n=150, methods='["delta"]')
    res = CLI.invoke(app, ["batch", str(path), "--workers", "0", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    res = CLI.invoke(app, ["sensitivity", "--analyze", str(tmp_path / "r"), "--output", "y"])
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(tmp_path / "r" / "sensitivity.parquet")
    assert set(table["method"]) == {"rbd_fast", "pawn", "delta", "replicates"}
    for method, idx in (("rbd_fast", "S1"), ("pawn", "median"), ("delta", "delta")):
        sub = table[(table["method"] == method) & (table["index"] == idx)]
        assert sub.sort_values("value")["parameter"].iloc[-1] == "x1", method


def _bad(tmp_path: Path, args: list[str]) -> str:
    res = CLI.invoke(app, ["sensitivity", *args, "--out", str(tmp_path / "res")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip() and "rounded" not in ln]
    assert len(lines) == 1, res.output
    assert not (tmp_path / "res").exists()
    return lines[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": '["sobolx"]'}, "unknown method 'sobolx'"),
        ({"methods": '["morris"]'}, "needs [design] method = 'morris'"),
        ({"outputs": '["nope"]'}, "does not produce 'nope'"),
        ({"parameters": "x1 = [1.0, 0.0]\nx2 = [0.0, 1.0]"}, "must be below high"),
        ({"design_extra": '[design.groups]\ng = ["x1", "x9"]\n'}, "'x9', which is not in"),
        ({"model": "no_such_pkg.mod:f"}, "cannot import 'no_such_pkg.mod'"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = study_file(tmp_path, **kwargs)
    assert message in _bad(tmp_path, [str(path), "--allow-plugin"])


def test_plugin_needs_consent_and_is_not_imported(tmp_path: Path) -> None:
    (tmp_path / "spy_model.py").write_text(
        "from pathlib import Path\nPath(__file__).with_name('IMPORTED').touch()\n"
        "def f(params, seed):\n    return {'y': 1.0}\n"
    )
    path = study_file(tmp_path, model="spy_model:f")
    assert "--allow-plugin" in _bad(tmp_path, [str(path)])
    assert not (tmp_path / "IMPORTED").exists()


def test_analyze_refuses_design_bound_methods(tmp_path: Path) -> None:
    path = study_file(tmp_path, design="lhs", n=20, methods='["delta"]')
    CLI.invoke(app, ["batch", str(path), "--workers", "0", "--out", str(tmp_path / "r")])
    res = CLI.invoke(app, ["sensitivity", "--analyze", str(tmp_path / "r"), "--method", "sobol"])
    assert res.exit_code == 2 and "rbd_fast, pawn, delta" in res.output
    res = CLI.invoke(app, ["sensitivity", "--analyze", str(tmp_path / "r"), "--output", "q"])
    assert res.exit_code == 2 and "'q'" in res.output
    assert not (tmp_path / "r" / "sensitivity.parquet").exists()


def test_default_study_is_valid() -> None:
    """experiments/sensitivity.toml: ≥ 12 parameters, Morris, outputs the model produces."""
    from abm.sensitivity.study import prepare

    root = Path(__file__).resolve().parents[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan, sens, _ = prepare(root / "experiments" / "sensitivity.toml", allow_plugin=False)
    assert len(plan.design.columns) >= 12
    assert sens.methods == ("morris",)
    assert plan.n_runs <= 600


@pytest.mark.slow
def test_real_model_tiny_morris_and_report(tmp_path: Path) -> None:
    """The abm model through the pipeline (tiny), a timeseries output per year, abm report."""
    from abm.report import build_report

    path = tmp_path / "tiny.toml"
    path.write_text(
        textwrap.dedent(
            """
            [experiment]
            name = "tiny"
            replicates = 2
            seed = 1
            [base]
            n_farms = 20
            end_year = 2024
            [design]
            method = "morris"
            n = 2
            [design.parameters]
            "policy.subsidy_eur_per_ha" = [0.0, 150.0]
            "soil.saturation" = { values = ["none", "hassink"] }
            [sensitivity]
            method = "morris"
            outputs = ["soc_change_permille_mean", "soc_change_permille"]
            """
        )
    )
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", quiet=True)
    assert out is not None
    table = pd.read_parquet(out / "sensitivity.parquet")
    years = table[table["output"] == "soc_change_permille"]["year"]
    assert sorted(years.dropna().unique()) == list(range(2020, 2025))
    mu = table[(table["index"] == "mu_star") & table["year"].isna()]
    assert set(mu["parameter"]) == {"policy.subsidy_eur_per_ha", "soil.saturation"}
    assert mu["value"].notna().all()
    report = build_report(out)
    assert "Sensitivity analysis" in report.read_text()
    assert (out / "sensitivity" / "indices_over_time.png").is_file()


def test_sobol_follow_up_study_is_valid() -> None:
    """experiments/sensitivity_sobol.toml: 8 parameters, N = 512 → 18,432 runs (docs)."""
    from abm.sensitivity.study import prepare

    root = Path(__file__).resolve().parents[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan, sens, _ = prepare(root / "experiments" / "sensitivity_sobol.toml", False)
    assert len(plan.design.columns) == 8 and sens.methods == ("sobol",)
    assert plan.n_runs == 512 * (2 * 8 + 2) * 2


def test_timeseries_output_per_year(tmp_path: Path) -> None:
    """A timeseries column is analysed per year (``years`` restricts them); KPIs get null."""
    path = study_file(
        tmp_path,
        model="abm.batch.toy:model",
        design="lhs",
        n=60,
        parameters='"policy.subsidy_eur_per_ha" = [0.0, 150.0]\n"farmer.peer_weight" = [0.1, 0.8]',
        methods='["rbd_fast", "pawn"]',
        outputs='["adoption_share", "soc_change_permille_mean"]',
        base="n_farms = 30\nend_year = 2032",
    )
    text = path.read_text().replace(
        "num_resamples = 20", "num_resamples = 20\nyears = [2025, 2030]"
    )
    path.write_text(text)
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", allow_plugin=True, quiet=True)
    assert out is not None
    table = pd.read_parquet(out / "sensitivity.parquet")
    ts = table[table["output"] == "adoption_share"]
    assert sorted(ts["year"].unique()) == [2025, 2030]
    assert table[table["output"] == "soc_change_permille_mean"]["year"].isna().all()
    s1 = ts[(ts["method"] == "rbd_fast") & (ts["index"] == "S1")]
    assert len(s1) == 2 * 2 and s1["value"].notna().all()


def test_each_scenario_is_analysed_on_its_own(tmp_path: Path) -> None:
    """Scenarios (levers) are analysed separately: switching x1 off (a1 = 99) in one makes
    x1 unimportant there only."""
    path = study_file(
        tmp_path, n=64, parameters="x1 = [0.0, 1.0]\nx2 = [0.0, 1.0]\nx3 = [0.0, 1.0]"
    )
    text = path.read_text().replace(
        "[design]",
        '[[scenarios]]\nname = "default"\n[[scenarios]]\nname = "x1_off"\n'
        "set = { a1 = 99.0 }\n\n[design]",
    )
    path.write_text(text)
    out = run_sensitivity(path, workers=0, out=tmp_path / "res", allow_plugin=True, quiet=True)
    assert out is not None
    table = pd.read_parquet(out / "sensitivity.parquet")
    st = table[(table["method"] == "sobol") & (table["index"] == "ST")]
    st = st.set_index(["scenario", "parameter"])["value"]
    assert st["default", "x1"] > 0.5
    assert st["x1_off", "x1"] < 0.1 and st["x1_off", "x2"] > 0.5


def test_reduced_sobol_study_is_valid() -> None:
    """experiments/sensitivity_sobol_n64.toml: the reduced study of the docs, 640 runs."""
    from abm.sensitivity.study import prepare

    root = Path(__file__).resolve().parents[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan, sens, _ = prepare(root / "experiments" / "sensitivity_sobol_n64.toml", False)
    full, _, _ = prepare(root / "experiments" / "sensitivity_sobol.toml", False)
    assert list(plan.design.columns) == list(full.design.columns)
    assert sens.methods == ("sobol",) and plan.n_runs == 64 * (8 + 2)
