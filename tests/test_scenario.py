"""Parameter schema, scenario files, --set parsing, and the command line around them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from abm.errors import UserInputError
from abm.scenario import (
    Params,
    builtin_scenarios,
    flatten,
    param_paths,
    param_specs,
    parse_set,
    resolve_params,
)

BUILTIN = {
    "baseline",
    "subsidy",
    "carbon_payment",
    "regulation",
    "market_premium",
    "advice",
    "policy_mix",
}


def abm(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "abm.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_builtin_scenarios_exist_and_resolve() -> None:
    scen = builtin_scenarios()
    assert BUILTIN <= set(scen)
    for name in scen:
        assert scen[name], f"{name} has no description"
        resolve_params(name)


def test_scenario_values_and_from_chain() -> None:
    mix = resolve_params("policy_mix")
    assert mix.policy.subsidy_eur_per_ha == pytest.approx(46.69)
    assert mix.advice.campaign_intensity > 0  # inherited from `advice`
    assert resolve_params("regulation").policy.regulation.mandate == ["cover_crops"]


def test_every_parameter_has_unit_source_and_default_that_validates() -> None:
    specs = param_specs()
    assert {
        "n_farms",
        "start_year",
        "end_year",
        "seed",
        "policy.subsidy_eur_per_ha",
        "policy.carbon_price_eur_per_tco2e",
        "policy.end_year",
    } <= set(param_paths())
    for s in specs:
        assert s.unit, s.path
        assert s.source, s.path
    Params.model_validate(Params().model_dump())
    flat = flatten(Params())
    assert flat["practices.cover_crops.initial_share"] == pytest.approx(0.04)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"policy.subsidy": 1}, "unknown parameter 'policy.subsidy'"),
        ({"policy.subsidy_eur_per_ha": -5}, "policy.subsidy_eur_per_ha"),
        ({"end_year": 2000}, "end_year"),
        ({"practices.cover_crops.initial_share": 2.0}, "practices.cover_crops.initial_share"),
        ({"policy.regulation.mandate": ["tillage"]}, "allowed: cover_crops"),
        ({"landscape.zone_shares": {"atlantis": 1.0}}, "atlantis"),
        ({"soil.saturation": "maybe"}, "soil.saturation"),
    ],
)
def test_bad_values_name_the_key(overrides: dict, fragment: str) -> None:
    with pytest.raises(UserInputError) as err:
        resolve_params(None, overrides)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_parse_set_types() -> None:
    got = parse_set(["a=1", "b=2.5", "c=true", 'd=["x", "y"]', "e=hello", "f=none"])
    assert got == {"a": 1, "b": 2.5, "c": True, "d": ["x", "y"], "e": "hello", "f": None}
    with pytest.raises(UserInputError):
        parse_set(["novalue"])


def test_scenario_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\nsubsidy_eur_per_ha = 3\n")
    with pytest.raises(UserInputError, match="malformed TOML"):
        resolve_params(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[policy]\nsubsidy = 3\n")
    with pytest.raises(UserInputError, match=r"unknown\.toml.*policy\.subsidy"):
        resolve_params(unknown)
    with pytest.raises(UserInputError, match="file not found"):
        resolve_params(tmp_path / "missing.toml")
    with pytest.raises(UserInputError, match="unknown scenario"):
        resolve_params("nope")


def test_cli_scenarios_and_params() -> None:
    out = abm("scenarios")
    assert out.returncode == 0
    assert all(name in out.stdout for name in BUILTIN)
    js = abm("params", "--format", "json")
    assert js.returncode == 0
    rows = json.loads(js.stdout)
    paths = {r["path"] for r in rows}
    assert "policy.subsidy_eur_per_ha" in paths
    assert all(r["unit"] and r["source"] for r in rows)


def test_cli_run_writes_results_folder(tmp_path: Path) -> None:
    out = tmp_path / "one"
    res = abm(
        "run",
        "--scenario",
        "subsidy",
        "--farms",
        "60",
        "--end",
        "2032",
        "--seed",
        "3",
        "--set",
        "policy.subsidy_eur_per_ha=80",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert "adoption_share_2030" in res.stdout
    assert (out / "manifest.json").is_file()
    listing = {p.name for p in out.iterdir()}
    assert {"runs.parquet", "timeseries.parquet", "ledger.parquet"} <= listing


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--scenario", "nope"),
        ("run", "--set", "policy.subsidy=3"),
        ("run", "--set", "policy.subsidy_eur_per_ha=-3"),
        ("run", "--farms", "0"),
        ("run", "--start", "2040", "--end", "2030"),
        ("run", "--scenario", "missing.toml"),
    ],
)
def test_cli_run_bad_input_exit_2_nothing_written(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = tmp_path / "never"
    res = abm(*args, "--out", str(out))
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert not out.exists()
