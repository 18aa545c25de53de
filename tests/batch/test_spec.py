"""Study files: the plan (run ids, common random numbers) and every bad-input case."""

from __future__ import annotations

from pathlib import Path

import pytest

from abm.batch.spec import load_study, replicate_seeds
from abm.errors import UserInputError

from .conftest import run_cli, toy_study, write

LHS = "[design]\nmethod = 'lhs'\nn = 4\n[design.parameters]\n"
HEAD = """
[experiment]
name = "t"
replicates = 2
model = "abm.batch.toy:model"
"""


def test_plan_of_a_toy_study(study: Path) -> None:
    plan = load_study(study)
    assert plan.n_runs == 3 * 2 * 3
    assert [s.name for s in plan.scenarios] == ["baseline", "subsidy", "broken"]
    tasks = list(plan.tasks())
    assert len({t.run_id for t in tasks}) == plan.n_runs
    assert tasks[0].run_id == "baseline-d0000-r000"
    # replicate-major: all of replicate 0 first
    assert [t.replicate for t in tasks[:6]] == [0] * 6
    # common random numbers: one seed per replicate, whatever the scenario or design point
    seeds = {(t.replicate, t.seed) for t in tasks}
    assert len(seeds) == 3 and {r for r, _ in seeds} == {0, 1, 2}
    # overrides: base <- scenario set <- design point
    sub = next(t for t in tasks if t.scenario == "subsidy")
    assert sub.overrides["policy.subsidy_eur_per_ha"] == 120
    assert sub.overrides["n_farms"] == 40
    assert 0.1 <= sub.overrides["farmer.peer_weight"] <= 0.8
    assert dict(plan.columns) == {
        "policy.subsidy_eur_per_ha": "int",
        "toy.fail": "bool",
        "farmer.peer_weight": "float",
    }
    assert next(plan.tasks(skip={t.run_id for t in tasks[:5]})).run_id == tasks[5].run_id


def test_seeds_are_stable_and_distinct() -> None:
    assert replicate_seeds(42, 3) == replicate_seeds(42, 10)[:3]
    assert len(set(replicate_seeds(42, 100))) == 100
    assert replicate_seeds(42, 3) != replicate_seeds(43, 3)
    assert all(0 <= s < 2**63 for s in replicate_seeds(0, 50))


def test_no_scenarios_means_one_named_base(tmp_path: Path) -> None:
    plan = load_study(write(tmp_path / "s.toml", HEAD))
    assert [s.name for s in plan.scenarios] == ["base"]
    assert plan.n_runs == 2
    assert plan.run_id("base", 0, 1) == "base-d0000-r001"


def test_dotted_keys_as_tables(tmp_path: Path) -> None:
    text = (
        HEAD
        + """
[base.policy]
subsidy_eur_per_ha = 10
[[scenarios]]
name = "a"
[scenarios.set.farmer]
peer_weight = 0.5
[design]
method = "factorial"
levels = 2
[design.parameters.policy]
carbon_price_eur_per_tco2e = [0, 100]
"""
    )
    plan = load_study(write(tmp_path / "s.toml", text))
    task = next(iter(plan.tasks()))
    assert task.overrides == {
        "policy.subsidy_eur_per_ha": 10,
        "farmer.peer_weight": 0.5,
        "policy.carbon_price_eur_per_tco2e": 0.0,
    }


BAD = [
    ("[experimnt]\nname = 'x'\n", "unknown key 'experimnt' in the top level; allowed: experiment"),
    (HEAD + "replicate = 3\n", "unknown key 'replicate' in experiment; allowed: name, replicates"),
    (
        HEAD.replace("replicates = 2", "replicates = 0"),
        "experiment.replicates: Input should be greater than or equal to 1",
    ),
    (HEAD.replace("replicates = 2", "replicates = '2'"), "experiment.replicates"),
    (HEAD.replace('name = "t"', 'name = "../evil"'), "experiment.name: '../evil' is not allowed"),
    (HEAD.replace('name = "t"', 'name = "a b"'), "experiment.name: 'a b' is not allowed"),
    ("[experiment]\nreplicates = 2\n", "missing key experiment.name"),
    (HEAD + "[[scenarios]]\nname = 'a/b'\n", "scenarios[1].name: 'a/b' is not allowed"),
    (
        HEAD + "[[scenarios]]\nname = 'a'\nsett = {}\n",
        "unknown key 'sett' in scenarios[1]; allowed: name, from, set",
    ),
    (
        HEAD + "[[scenarios]]\nname = 'a'\n[[scenarios]]\nname = 'a'\n",
        "two scenarios are named 'a'",
    ),
    (
        HEAD + "[[scenarios]]\nname = 'a'\nfrom = 'subsidy'\n",
        "scenarios[1].from: built-in scenarios need model = 'abm'",
    ),
    (HEAD + "[base]\nseed = 3\n", "base: 'seed' is set per replicate"),
    (HEAD + "[base]\nx = [1, 2]\n", 'base."x": must be a number, string or boolean'),
    (
        HEAD + "[design]\nmethod = 'lhs'\n[design.parameters]\nx = [0.8, 0.1]\n",
        "low (0.8) must be below high (0.1)",
    ),
    (
        HEAD + "[design]\nmethod = 'lhs'\n[design.parameters]\nx = [1, 2, 3]\n",
        "give [low, high] or a table",
    ),
    (HEAD + "[design]\nmethod = 'lhs'\n[design.parameters]\nx = [0, 1]\n", "method 'lhs' needs n"),
    (
        HEAD + "[design]\nmethod = 'sobol'\nn = 100\n[design.parameters]\nx = [0, 1]\n",
        "sobol needs n a power of 2 (e.g. 64 or 128), got 100",
    ),
    (
        HEAD + LHS.replace("lhs", "morris") + "x = {dist = 'normal', mean = 0, sd = 1}\n",
        "morris samples the edges",
    ),
    (
        HEAD + "[design]\nmethod = 'fast'\nn = 10\n[design.parameters]\nx = [0, 1]\n",
        "fast needs n > 4·m² = 64",
    ),
    (
        HEAD + "[design]\nmethod = 'latin'\nn = 4\n",
        "design.method: Input should be 'factorial', 'lhs'",
    ),
    (
        HEAD + "[design]\nmethod = 'factorial'\nn = 4\n[design.parameters]\nx = [0, 1]\n",
        "n is not used by method 'factorial'",
    ),
    (HEAD + LHS + "x = {dist = 'normal', mean = 0}\n", "dist 'normal' needs mean, sd; missing sd"),
    (HEAD + LHS + "x = {dist = 'uniform', low = 0, high = 1, sd = 2}\n", "not 'sd'"),
    (HEAD + LHS + "x = {dist = 'beta', low = 0, high = 1}\n", 'design.parameters."x".dist'),
    (
        HEAD + "[[scenarios]]\nname = 'a'\nset = {x = 1}\n" + LHS + "x = [0, 1]\n",
        "is also set by scenario 'a'",
    ),
    (HEAD + "[design]\nmethod = 'csv'\nfile = 'nope.csv'\n", "design.file: 'nope.csv' not found"),
    (HEAD + "[design]\nmethod = 'csv'\n", "method 'csv' needs file"),
    (
        HEAD.replace("abm.batch.toy:model", "no_such_module:f"),
        "experiment.model: cannot import 'no_such_module'",
    ),
    (HEAD.replace("abm.batch.toy:model", "abm.batch.toy:nope"), "has no function 'nope'"),
    (
        HEAD.replace("abm.batch.toy:model", "abm/batch/toy.py"),
        "is not 'abm' or 'package.module:function'",
    ),
    (HEAD + "seed = = 1\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_study_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(UserInputError) as info:
        load_study(path, allow_plugin=True)  # consent given: the file's own faults show
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("x,y\n1,\n", "row 2, column 'y' is empty"),
        ("x,x\n1,2\n", "appears twice"),
        ("", "not a valid CSV"),
        ("x\n", "no design points"),
        (",y\n1,2\n", "needs a parameter path"),
    ],
)
def test_bad_csv_design(tmp_path: Path, csv: str, expected: str) -> None:
    (tmp_path / "points.csv").write_text(csv)
    path = write(tmp_path / "s.toml", HEAD + "[design]\nmethod = 'csv'\nfile = 'points.csv'\n")
    with pytest.raises(UserInputError, match=expected) as info:
        load_study(path)
    assert str(points := tmp_path / "points.csv") in str(info.value) or "design.file" in str(
        info.value
    ), points


def test_missing_study_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="study file not found"):
        load_study(tmp_path / "nope.toml")


def test_cli_bad_study_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", HEAD.replace('name = "t"', 'name = "a/b"'))
    proc = run_cli("batch", str(path), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "experiment.name" in lines[0] and str(path) in lines[0]
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_cli_bad_flags_exit_2(tmp_path: Path) -> None:
    study = toy_study(tmp_path)
    proc = run_cli("batch", str(study), "--scheduler", "nowhere", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--scheduler 'nowhere'" in proc.stderr
    proc = run_cli("batch", str(study), "--workers", "-1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--workers" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.toml"]
