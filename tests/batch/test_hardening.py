"""Hostile and faulty inputs to batches (issue 14): each test is one defect that must not return.

Plug-in code runs only with consent and after all other validation; queries cannot leave the
results folder; a local Dask cluster listens on loopback only; a dying worker costs only its
own runs; every design point is validated before anything is written; SIGTERM leaves a correct
manifest; shares get intervals inside 0-100 %.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from abm.batch.query import query
from abm.batch.runner import run_batch
from abm.batch.spec import load_study
from abm.batch.store import LOCK, read_table
from abm.errors import UserInputError
from abm.report import bounded_interval, build_report, mean_ci

from .conftest import ROOT, run_cli, toy_study, write

# -- 1. no code runs from a data file ----------------------------------------------------------

EVIL_MODULE = """
from pathlib import Path
Path({marker!r}).write_text("imported")   # top-level code: must not run without consent

def f(params, seed):
    return {{"y": 1.0}}
"""


def _plugin_study(folder: Path, model: str, extra: str = "") -> Path:
    return write(
        folder / "s.toml",
        f"""
        [experiment]
        name = "plug"
        model = "{model}"
        [base]
        x = 1
        {extra}
        """,
    )


def test_stdlib_callable_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    victim = tmp_path / "pwned"
    study = write(
        tmp_path / "s.toml",
        f"""
        [experiment]
        name = "evil"
        model = "subprocess:run"
        [base]
        "touch" = 1
        "{victim}" = 1
        """,
    )
    proc = run_cli("batch", str(study), "--allow-plugin", "--workers", "0", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "standard-library" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not victim.exists() and not (tmp_path / "results").exists()
    for model in ("os:system", "builtins:exec", "shutil:rmtree"):
        with pytest.raises(UserInputError, match="standard-library"):
            load_study(_plugin_study(tmp_path, model), allow_plugin=True)


def test_plugin_is_not_imported_without_consent(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    write(tmp_path / "evilmod.py", EVIL_MODULE.format(marker=str(marker)))
    study = _plugin_study(tmp_path, "evilmod:f")
    proc = run_cli("batch", str(study), "--workers", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "--allow-plugin" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not marker.exists() and not (tmp_path / "results").exists()


def test_plugin_is_imported_only_after_all_other_validation(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    write(tmp_path / "evilmod.py", EVIL_MODULE.format(marker=str(marker)))
    bad_design = _plugin_study(tmp_path, "evilmod:f", "[design]\nmethod = 'lhs'\n")
    with pytest.raises(UserInputError, match="needs n"):
        run_batch(bad_design, workers=0, out=tmp_path / "o1", quiet=True, allow_plugin=True)
    good = _plugin_study(tmp_path, "evilmod:f")
    with pytest.raises(UserInputError, match="cannot write"):
        run_batch(good, workers=0, out=Path("/proc/abm-x"), quiet=True, allow_plugin=True)
    assert not marker.exists()
    s = run_batch(good, workers=0, out=tmp_path / "o2", quiet=True, allow_plugin=True)
    assert marker.exists() and (s.done, s.failed) == (1, 0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("def f(params):\n    return {}\n", "cannot be called as f(params: dict, seed: int)"),
        ("def f(a, b, c):\n    return {}\n", "cannot be called as f(params: dict, seed: int)"),
        ("from os import system as f\n", "not a Python function of your own"),
        ("from subprocess import run as f\n", "not a Python function of your own"),
        ("class f:\n    def __init__(self, p, s):\n        pass\n", "not a Python function"),
        ("f = 3\n", "has no function 'f'"),
    ],
)
def test_plugin_must_have_the_documented_form(tmp_path: Path, body: str, expected: str) -> None:
    name = f"plug{abs(hash(body)) % 10**8}"
    write(tmp_path / f"{name}.py", body)
    with pytest.raises(UserInputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_study(_plugin_study(tmp_path, f"{name}:f"), allow_plugin=True)


# -- 2. queries read the results folder's tables and nothing else -------------------------------


@pytest.fixture(scope="module")
def small_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("q")
    run_batch(toy_study(folder, replicates=1, points=1), workers=0, out=folder / "out", quiet=True)
    return folder / "out"


@pytest.mark.parametrize(
    "sql",
    [
        "COPY runs TO '{tmp}/leak.csv'",
        "COPY (SELECT 1) TO '{out}/inside.csv'",
        "ATTACH '{tmp}/new.db'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('{tmp}/*')",
        "SELECT * FROM read_parquet('{tmp}/*.parquet')",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SELECT 1; COPY runs TO '{tmp}/leak2.csv'",
        "CREATE TABLE t AS SELECT 1",
        "EXPORT DATABASE '{tmp}/exp'",
        "",
        "  ;  ",
    ],
)
def test_forbidden_query_is_one_line_and_writes_nothing(
    small_batch: Path, tmp_path: Path, sql: str
) -> None:
    text = sql.format(tmp=tmp_path, out=small_batch)
    before = sorted(p.name for p in small_batch.rglob("*"))
    with pytest.raises(UserInputError) as info:
        query(small_batch, text)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert sorted(p.name for p in small_batch.rglob("*")) == before


def test_allowed_queries_still_work(small_batch: Path) -> None:
    n = query(small_batch, "SELECT count(*) AS n FROM runs")["n"].iloc[0]
    assert n == 2  # baseline and subsidy; the third scenario always fails
    joined = query(
        small_batch,
        "WITH r AS (SELECT run_id FROM runs) SELECT count(*) AS n FROM timeseries JOIN r "
        "USING (run_id)",
    )
    assert joined["n"].iloc[0] == 2 * 16  # 2020-2035


def test_corrupt_part_file_is_one_line(tmp_path: Path, small_batch: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(small_batch, copy)
    part = next((copy / "runs.parquet").glob("*.parquet"))
    part.write_bytes(b"not parquet at all")
    proc = run_cli("query", str(copy), "SELECT * FROM runs", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# -- 3. a local Dask cluster listens on loopback only ------------------------------------------


def test_local_dask_cluster_listens_on_loopback_only() -> None:
    psutil = pytest.importorskip("psutil")
    pytest.importorskip("distributed")
    from abm.batch.executors import DaskExecutor

    with DaskExecutor("local", workers=1) as ex:
        assert ex.workers == 1
        procs = [psutil.Process(), *psutil.Process().children(recursive=True)]
        listening = [
            c.laddr.ip
            for p in procs
            for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
    assert len(listening) >= 2  # scheduler + dashboard (+ worker and nanny ports)
    assert set(listening) <= {"127.0.0.1", "::1"}, listening


# -- 4. a dead worker costs one run ------------------------------------------------------------

CRASH_STUDY = """
[experiment]
name = "crash"
replicates = 3
model = "abm.batch.toy:model"
[base]
n_farms = 20
end_year = 2025
"toy.sleep_s" = 0.05
[[scenarios]]
name = "ok"
[[scenarios]]
name = "crash"
set = {{ "toy.crash" = {crash} }}
"""


def test_a_run_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    study = write(tmp_path / "s.toml", CRASH_STUDY.format(crash="true"))
    s = run_batch(study, workers=2, out=tmp_path / "out", quiet=True)
    runs, failures = read_table(s.out_dir, "runs"), read_table(s.out_dir, "failures")
    assert sorted(runs["scenario"]) == ["ok"] * 3  # every innocent run finished
    assert sorted(failures["scenario"]) == ["crash"] * 3
    assert set(failures["error_type"]) == {"WorkerDied"}
    assert failures["error_message"].str.contains("killed its worker process twice").all()
    # The innocent runs' results do not depend on having been rerun.
    ref = run_batch(
        write(tmp_path / "r.toml", CRASH_STUDY.format(crash="false")),
        workers=0,
        out=tmp_path / "ref",
        quiet=True,
    )
    ref_runs = read_table(ref.out_dir, "runs")
    ok = ref_runs[ref_runs["scenario"] == "ok"].reset_index(drop=True)
    kpi = "soc_change_permille_mean"
    assert np.array_equal(ok[kpi].to_numpy(), runs[kpi].to_numpy())


# -- 5. every design point is validated before anything is written ----------------------------


def test_factorial_with_an_impossible_combination_is_refused(tmp_path: Path) -> None:
    study = write(
        tmp_path / "s.toml",
        """
        [experiment]
        name = "years"
        [base]
        n_farms = 5
        [design]
        method = "factorial"
        [design.parameters]
        start_year = { values = [2020, 2030] }
        end_year = { values = [2025, 2035] }
        """,
    )
    with pytest.raises(UserInputError) as info:
        run_batch(study, workers=0, out=tmp_path / "out", quiet=True)
    msg = str(info.value)
    assert msg.startswith(str(study)) and "design point 2" in msg and "end_year" in msg, msg
    assert not (tmp_path / "out").exists()


def test_csv_row_with_all_zone_shares_zero_is_refused(tmp_path: Path) -> None:
    zones = ["temperate_oceanic", "continental", "mediterranean", "tropical"]
    header = ",".join(f"landscape.zone_shares.{z}" for z in zones)
    (tmp_path / "points.csv").write_text(f"{header}\n0.5,0.5,0,0\n0,0,0,0\n")
    study = write(
        tmp_path / "s.toml",
        """
        [experiment]
        name = "zones"
        [base]
        n_farms = 5
        [design]
        method = "csv"
        file = "points.csv"
        """,
    )
    with pytest.raises(UserInputError) as info:
        run_batch(study, workers=0, out=tmp_path / "out", quiet=True)
    assert "design point 1" in str(info.value) and "zone_shares" in str(info.value)
    assert not (tmp_path / "out").exists()


# -- 8. SIGTERM: a message, a correct manifest, no stale lock; the report says "incomplete" ------


def test_sigterm_leaves_a_correct_manifest_and_an_incomplete_report(tmp_path: Path) -> None:
    study = toy_study(tmp_path, replicates=20, points=1, sleep=0.3)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "abm.cli", "batch", str(study), "--workers", "1"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)], env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = list((out / "runs.parquet").glob("*.parquet")) if out.exists() else []
        if len(parts) >= 3:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "interrupted after" in err and "--resume" in err, err
    manifest = json.loads((out / "manifest.json").read_text())
    done = len(read_table(out, "runs"))
    failed = len(read_table(out, "failures"))
    assert manifest["status"] == "interrupted"
    assert manifest["counts"] == {"planned": 60, "done": done, "failed": failed}
    assert f"incomplete: {done} of 60 runs done, {failed} failed" in err
    assert not (out / LOCK).exists()
    build_report(out)
    text = (out / "report" / "report.md").read_text()
    assert f"incomplete: {done} of 60 runs" in text
    assert "replicates**: " in text and " of 20" in text


def test_finished_batch_leaves_no_lock(tmp_path: Path) -> None:
    s = run_batch(toy_study(tmp_path, replicates=1, points=1), workers=0, out=tmp_path / "o")
    assert not (s.out_dir / LOCK).exists()
    build_report(s.out_dir)
    assert "incomplete" not in (s.out_dir / "report" / "report.md").read_text()


# -- 9. intervals of bounded outputs stay inside their bounds ----------------------------------


def test_share_interval_stays_within_0_and_100_percent() -> None:
    x = np.array([100.0, 100.0, 34.6])  # three runs: the t interval reaches 200 %
    mean, _, hi, _ = mean_ci(x)
    assert hi > 100  # the defect this guards against
    mean_b, lo_b, hi_b, _ = mean_ci(x, bounds=(0.0, 100.0))
    assert mean_b == pytest.approx(mean) and 0.0 < lo_b < mean_b < hi_b < 100.0
    # Hand computation: logit-scale delta-method t interval.
    from scipy import stats

    p = mean / 100
    w = stats.t.ppf(0.975, 2) * x.std(ddof=1) / np.sqrt(3) / (100 * p * (1 - p))
    expit = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert lo_b == pytest.approx(100 * expit(np.log(p / (1 - p)) - w))
    assert hi_b == pytest.approx(100 * expit(np.log(p / (1 - p)) + w))


def test_bounded_interval_is_the_t_interval_for_many_runs_and_a_point_on_a_bound() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(40, 60, size=4000)
    _, lo_t, hi_t, _ = mean_ci(x)
    _, lo_b, hi_b, _ = mean_ci(x, bounds=(0.0, 100.0))
    assert lo_b == pytest.approx(lo_t, abs=0.01) and hi_b == pytest.approx(hi_t, abs=0.01)
    assert mean_ci(np.zeros(5), bounds=(0.0, 100.0))[1:3] == (0.0, 0.0)
    lo, hi = bounded_interval(
        np.array([1.0, 0.5]), np.array([3.0, 0.0]), np.array([3, 3]), bounds=(0.0, None)
    )
    assert lo[0] > 0 and lo[1] == hi[1] == 0.5  # log scale keeps a total above 0


def test_report_tells_a_killed_batch_from_a_running_one(tmp_path: Path) -> None:
    from abm.batch.store import ResultStore, writer_alive

    s = run_batch(toy_study(tmp_path, replicates=2, points=1), workers=0, out=tmp_path / "o")
    manifest = json.loads((s.out_dir / "manifest.json").read_text())
    manifest.update(status="running", counts={"planned": 9, "done": 4, "failed": 2})
    (s.out_dir / "manifest.json").write_text(json.dumps(manifest))  # as after kill -9
    (s.out_dir / LOCK).write_text("12345\n")  # a stale lock nobody holds
    assert not writer_alive(s.out_dir)
    with ResultStore(s.out_dir):
        assert writer_alive(s.out_dir)
    build_report(s.out_dir)
    text = (s.out_dir / "report" / "report.md").read_text()
    assert "incomplete: 4 of 9 runs; batch stopped without finishing (killed)" in text


def test_killing_one_of_two_workers_costs_no_run(tmp_path: Path) -> None:
    """The issue's reproduction: ``kill -9`` of one worker in the middle of a batch."""
    psutil = pytest.importorskip("psutil")
    study = toy_study(tmp_path, replicates=4, points=1, sleep=1.0)  # 12 runs, 4 always fail;
    # each run sleeps 1 s so that a busy machine still leaves time to kill a worker mid-batch
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "abm.cli", "batch", str(study), "--workers", "2"]
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env, cwd=tmp_path, text=True)
    deadline = time.monotonic() + 60
    victim = None
    while time.monotonic() < deadline and victim is None:
        done = list((out / "runs.parquet").glob("*.parquet")) if out.exists() else []
        workers = [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())  # pool workers, not the resource tracker
        ]
        if len(done) >= 1 and len(workers) >= 2:
            victim = workers[-1]
        time.sleep(0.05)
    assert victim is not None, "the batch never got going"
    victim.kill()
    assert proc.wait(timeout=120) == 0
    failures = read_table(out, "failures")
    assert set(failures["scenario"]) == {"broken"}  # only the runs that always fail
    assert len(read_table(out, "runs")) == 8


def test_dask_a_run_that_kills_its_worker_fails_and_the_others_finish(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    text = CRASH_STUDY.format(crash="true").replace("replicates = 3", "replicates = 2")
    study = write(tmp_path / "s.toml", text)
    s = run_batch(study, scheduler="local", out=tmp_path / "out", quiet=True)
    runs, failures = read_table(s.out_dir, "runs"), read_table(s.out_dir, "failures")
    assert sorted(runs["scenario"]) == ["ok"] * 2
    assert sorted(failures["scenario"]) == ["crash"] * 2
    assert set(failures["error_type"]) == {"WorkerDied"}


def test_workers_are_capped_by_runs_and_refused_far_above_the_cores() -> None:
    from abm.batch.executors import MAX_OVERSUBSCRIBE, check_workers, default_workers

    cores = default_workers()
    assert check_workers(None, 1) == 1  # no idle processes for a one-run batch
    assert check_workers(None, 10**6) == cores
    assert check_workers(cores, 2) == min(cores, 2)
    assert check_workers(0, 5) == 0  # in-process
    with pytest.raises(UserInputError, match="--workers"):
        check_workers(MAX_OVERSUBSCRIBE * cores + 1, 10**6)
    with pytest.raises(UserInputError, match="--workers"):
        check_workers(-1, 5)
