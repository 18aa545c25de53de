"""Batches on local processes: determinism across worker counts, failures, the folder rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abm.batch.runner import run_batch
from abm.batch.store import read_manifest, read_table
from abm.errors import UserInputError

from .conftest import assert_same_tables, tables, toy_study, write


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy study run with one worker process (shared by several tests)."""
    folder = tmp_path_factory.mktemp("one")
    study = toy_study(folder)
    run_batch(study, workers=1, out=folder / "out", quiet=True)
    return folder


def test_one_and_two_workers_and_serial_give_identical_tables(
    one_worker: Path, tmp_path: Path
) -> None:
    study = toy_study(tmp_path)
    s2 = run_batch(study, workers=2, out=tmp_path / "w2", quiet=True)
    s0 = run_batch(study, workers=0, out=tmp_path / "w0", quiet=True)
    assert s2.workers == 2 and s2.ran == 18
    assert_same_tables(one_worker / "out", tmp_path / "w2")
    assert_same_tables(one_worker / "out", tmp_path / "w0")
    assert s0.ran == 18


def test_a_failing_run_is_recorded_and_the_batch_goes_on(one_worker: Path) -> None:
    t = tables(one_worker / "out")
    runs, failures = t["runs"], t["failures"]
    assert len(runs) == 12 and set(runs["scenario"]) == {"baseline", "subsidy"}
    assert len(failures) == 6 and set(failures["scenario"]) == {"broken"}
    assert set(failures["error_type"]) == {"RuntimeError"}
    assert failures["error_message"].str.contains("toy.fail").all()
    assert failures["traceback"].str.contains("toy.py").all()
    params = json.loads(failures["parameters"].iloc[0])
    assert params["toy.fail"] is True and params["n_farms"] == 40
    manifest = read_manifest(one_worker / "out")
    assert manifest is not None
    assert manifest["counts"] == {"planned": 18, "done": 12, "failed": 6}
    assert manifest["status"] == "complete with failures"


def test_runs_table_columns_and_common_random_numbers(one_worker: Path) -> None:
    runs = read_table(one_worker / "out", "runs")
    head = ["run_id", "scenario", "design_point", "replicate", "seed"]
    assert list(runs.columns[:8]) == [
        *head,
        "policy.subsidy_eur_per_ha",
        "toy.fail",
        "farmer.peer_weight",
    ]
    assert {"adoption_share_2030", "soc_change_permille_mean", "public_cost_eur_per_tco2e"} <= set(
        runs.columns
    )
    assert runs["run_id"].is_monotonic_increasing
    # the same seed for every scenario and design point of a replicate
    per_rep = runs.groupby("replicate")["seed"].nunique()
    assert (per_rep == 1).all() and runs["seed"].nunique() == 3
    ts = read_table(one_worker / "out", "timeseries")
    assert len(ts) == 12 * 16 and list(ts.columns[:2]) == ["run_id", "year"]
    ledger = read_table(one_worker / "out", "ledger")
    assert list(ledger.columns[:4]) == ["run_id", "year", "kind", "count"]
    assert set(ledger["run_id"]) == set(runs["run_id"])


def test_manifest(one_worker: Path) -> None:
    m = read_manifest(one_worker / "out")
    assert m is not None
    assert m["kind"] == "batch" and m["experiment"] == "toy" and m["root_seed"] == 7
    assert m["replicates"] == 3 and len(m["replicate_seeds"]) == 3
    assert m["scenarios"] == ["baseline", "subsidy", "broken"]
    assert {"python", "numpy", "pandas", "pyarrow"} <= set(m["versions"])
    assert "git_commit" in m and m["started"] and m["finished"]
    assert m["spec"]["study"]["experiment"]["name"] == "toy"
    assert "[experiment]" in m["study_toml"]


def test_refuses_a_non_empty_folder_without_resume(one_worker: Path) -> None:
    before = sorted(p.name for p in (one_worker / "out" / "runs.parquet").iterdir())
    with pytest.raises(UserInputError, match="exists and is not empty; use --resume"):
        run_batch(one_worker / "study.toml", workers=1, out=one_worker / "out", quiet=True)
    assert sorted(p.name for p in (one_worker / "out" / "runs.parquet").iterdir()) == before


def test_resume_refuses_a_different_study(one_worker: Path, tmp_path: Path) -> None:
    other = toy_study(tmp_path, replicates=4)
    with pytest.raises(
        UserInputError, match=r"study differs .* at experiment.replicates \(stored 3, now 4\)"
    ):
        run_batch(other, workers=1, out=one_worker / "out", resume=True, quiet=True)


def test_resume_of_a_finished_batch_reruns_only_failures(tmp_path: Path) -> None:
    study = toy_study(tmp_path, replicates=2, points=1)
    first = run_batch(study, workers=0, out=tmp_path / "out", quiet=True)
    assert (first.done, first.failed, first.ran) == (4, 2, 6)
    again = run_batch(study, workers=0, out=tmp_path / "out", resume=True, quiet=True)
    assert (again.skipped, again.ran, again.done, again.failed) == (4, 2, 4, 2)
    m = read_manifest(tmp_path / "out")
    assert m is not None and len(m["sessions"]) == 2


def test_resume_into_an_empty_folder_starts_fresh(tmp_path: Path) -> None:
    study = toy_study(tmp_path, replicates=1, points=1)
    (tmp_path / "out").mkdir()
    s = run_batch(study, workers=0, out=tmp_path / "out", resume=True, quiet=True)
    assert s.ran == 3


def test_resume_refuses_a_folder_that_is_not_a_batch(tmp_path: Path) -> None:
    study = toy_study(tmp_path, replicates=1, points=1)
    write(tmp_path / "out" / "notes.txt", "hello")
    with pytest.raises(UserInputError, match="not a batch results folder"):
        run_batch(study, workers=0, out=tmp_path / "out", resume=True, quiet=True)


def test_default_out_is_results_slash_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = toy_study(tmp_path, replicates=1, points=1)
    monkeypatch.chdir(tmp_path)
    s = run_batch(study, workers=0, quiet=True)
    assert s.out_dir == Path("results/toy") and (tmp_path / "results/toy/manifest.json").is_file()


USER_MODEL = """
import os

def f(params, seed):
    if params.get("die"):
        os._exit(3)                      # a worker that dies (segfault, OOM kill)
    return {"y": params["x"] * 2 + seed % 7, "x_seen": params["x"]}
"""


def test_user_model_next_to_the_study_runs_in_spawned_workers(tmp_path: Path) -> None:
    write(tmp_path / "mymodel.py", USER_MODEL)
    study = write(
        tmp_path / "s.toml",
        """
        [experiment]
        name = "user"
        replicates = 2
        model = "mymodel:f"
        [design]
        method = "factorial"
        [design.parameters]
        x = {values = [1, 2, 3]}
        """,
    )
    s = run_batch(study, workers=2, out=tmp_path / "out", quiet=True, allow_plugin=True)
    assert (s.done, s.failed) == (6, 0)
    runs = read_table(tmp_path / "out", "runs")
    assert (runs["y"] == runs["x"] * 2 + runs["seed"] % 7).all()
    assert read_table(tmp_path / "out", "timeseries").empty


def test_a_worker_that_dies_costs_only_its_own_runs(tmp_path: Path) -> None:
    """Runs that kill their worker fail (after a rerun alone); every other run finishes,
    including those in flight on the same pool when it broke."""
    write(tmp_path / "mymodel.py", USER_MODEL)
    study = write(
        tmp_path / "s.toml",
        """
        [experiment]
        name = "dying"
        replicates = 3
        model = "mymodel:f"
        [base]
        x = 1
        [[scenarios]]
        name = "ok"
        [[scenarios]]
        name = "dies"
        set = { die = true }
        """,
    )
    s = run_batch(study, workers=1, out=tmp_path / "out", quiet=True, allow_plugin=True)
    failures = read_table(tmp_path / "out", "failures")
    assert sorted(failures["scenario"]) == ["dies"] * 3
    assert set(failures["error_type"]) == {"WorkerDied"}
    assert failures["error_message"].str.contains("killed its worker process twice").all()
    assert (s.done, s.failed) == (3, 3)
