"""The real model (``model = "abm"``) at tiny size: validation through abm.scenario, a batch,
the report on real output."""

from __future__ import annotations

from pathlib import Path

import pytest

from abm.batch.spec import load_study
from abm.errors import UserInputError

from .conftest import write

pytest.importorskip("abm.run")
pytest.importorskip("abm.scenario")

TINY = """
[experiment]
name = "tiny"
replicates = 2
seed = 11

[base]
n_farms = 30
end_year = 2030

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy-150"
from = "subsidy"
set = { "policy.subsidy_eur_per_ha" = 150 }
"""


def test_validation_through_abm_scenario(tmp_path: Path) -> None:
    plan = load_study(write(tmp_path / "s.toml", TINY))
    assert [s.source for s in plan.scenarios] == ["baseline", "subsidy"]
    assert "policy.subsidy_eur_per_ha" in dict(plan.columns)
    assert plan.resolved["subsidy-150"]["policy.subsidy_eur_per_ha"] == 150


BAD = [
    ("[base]\nn_farms = 30\nfarmer.peer_wieght = 0.3\n", "unknown parameter 'farmer.peer_wieght'"),
    ("[base]\nn_farms = 0\n", "n_farms"),
    (
        '[[scenarios]]\nname = "x"\nfrom = "subsidies"\n',
        "scenarios[1].from: unknown scenario 'subsidies'; allowed: advice, baseline",
    ),
    ('[[scenarios]]\nname = "x"\nfrom = "nope.toml"\n', "scenario file 'nope.toml' not found"),
    (
        '[[scenarios]]\nname = "x"\nset = { "policy.subsidy_eur_per_hectare" = 1 }\n',
        "unknown parameter 'policy.subsidy_eur_per_hectare'",
    ),
    (
        '[[scenarios]]\nname = "x"\nset = { "policy.subsidy_eur_per_ha" = -5 }\n',
        "policy.subsidy_eur_per_ha",
    ),
    (
        '[design]\nmethod = "lhs"\nn = 4\n[design.parameters]\n"farmer.nope" = [0, 1]\n',
        "unknown parameter 'farmer.nope'",
    ),
    ('[design]\nmethod = "lhs"\nn = 4\n[design.parameters]\n"n_farms" = [-10, 10]\n', "n_farms"),
]


@pytest.mark.parametrize(("extra", "expected"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_parameters_are_caught_before_anything_runs(
    tmp_path: Path, extra: str, expected: str
) -> None:
    head = '[experiment]\nname = "bad"\nreplicates = 1\n'
    path = write(tmp_path / "bad.toml", head + extra)
    with pytest.raises(UserInputError) as info:
        load_study(path)
    assert str(path) in str(info.value) and expected in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_tiny_batch_and_report_on_the_real_model(tmp_path: Path) -> None:
    from abm.batch.runner import run_batch
    from abm.batch.store import read_table
    from abm.report import build_report

    study = write(tmp_path / "s.toml", TINY)
    s = run_batch(study, workers=2, out=tmp_path / "out", quiet=True)
    assert (s.done, s.failed) == (4, 0), read_table(tmp_path / "out", "failures").to_dict("records")
    runs = read_table(tmp_path / "out", "runs")
    assert {"adoption_share_2030", "soc_change_permille_mean", "additionality_share"} <= set(
        runs.columns
    )
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    ts = read_table(tmp_path / "out", "timeseries")
    assert len(ts) == 4 * 11 and "share_farms_4p1000" in ts.columns
    ledger = read_table(tmp_path / "out", "ledger")
    assert set(ledger["kind"]) <= {
        "incentive",
        "regulation",
        "advice",
        "market_access",
        "verification",
    }
    md = build_report(tmp_path / "out").read_text()
    assert "subsidy-150" in md and "Difference to baseline" in md
    assert (tmp_path / "out" / "report" / "adoption.png").is_file()


EXPERIMENTS = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("**/*.toml"))
STUDIES = [p for p in EXPERIMENTS if "scenarios" not in p.parts]


@pytest.mark.parametrize("path", STUDIES, ids=[p.name for p in STUDIES])
def test_shipped_studies_are_valid(path: Path) -> None:
    plan = load_study(path)
    assert plan.n_runs > 0


def test_the_main_job_compares_every_builtin_scenario() -> None:
    from abm.scenario import builtin_scenarios

    path = next(p for p in STUDIES if p.name == "incentive_schemes.toml")
    plan = load_study(path)
    assert {s.name for s in plan.scenarios} == set(builtin_scenarios())
    assert all(s.source == s.name for s in plan.scenarios)
    base = plan.spec.base
    assert (base["n_farms"], base["start_year"], base["end_year"]) == (1000, 2020, 2050)
    assert len(plan.seeds) >= 20
