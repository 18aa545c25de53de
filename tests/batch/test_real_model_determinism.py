"""The real model (``model = "abm"``), not only the toy: identical tables for 0, 1 and 2 workers,
and after a ``kill -9`` of the batch followed by ``--resume``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from abm.batch.runner import run_batch
from abm.batch.store import part_ids, read_table

from .conftest import ROOT, assert_same_tables, run_cli, write

STUDY = """
[experiment]
name = "real-{name}"
replicates = {replicates}
seed = 17

[base]
n_farms = {farms}
end_year = {end}

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "carbon-60"
from = "carbon_payment"
set = {{ "policy.carbon_price_eur_per_tco2e" = 60 }}
"""


def real_study(folder: Path, *, replicates: int, farms: int, end: int, name: str) -> Path:
    text = STUDY.format(replicates=replicates, farms=farms, end=end, name=name)
    return write(folder / f"{name}.toml", text)


def test_real_model_tables_do_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    study = real_study(tmp_path, replicates=2, farms=40, end=2030, name="workers")
    outs = {w: tmp_path / f"w{w}" for w in (0, 1, 2)}
    for w, out in outs.items():
        s = run_batch(study, workers=w, out=out, quiet=True)
        assert (s.done, s.failed) == (4, 0)
    ts = read_table(outs[0], "timeseries")
    assert len(ts) == 4 * 11 and ts["adoption_share"].notna().all()
    # the two scenarios differ (the comparison is not vacuous), replicates share seeds
    runs = read_table(outs[0], "runs")
    assert runs.groupby("scenario")["adoption_share_2030"].mean().nunique() == 2
    assert_same_tables(outs[0], outs[1])
    assert_same_tables(outs[0], outs[2])


@pytest.mark.slow
def test_real_model_kill_minus_9_then_resume_gives_identical_tables(tmp_path: Path) -> None:
    study = real_study(tmp_path, replicates=16, farms=150, end=2045, name="kill")
    n_runs = 32
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [
        sys.executable,
        "-m",
        "abm.cli",
        "batch",
        str(study),
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while len(part_ids(out, "runs")) < 3:
            assert proc.poll() is None, "batch ended before it could be killed"
            assert time.monotonic() < deadline, "no runs were written"
            time.sleep(0.01)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"workers left running: {alive}"
    done_at_kill = part_ids(out, "runs")
    assert 0 < len(done_at_kill) < n_runs

    resumed = run_cli(
        "batch", str(study), "--workers", "2", "--out", str(out), "--resume", cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(part_ids(out, "runs")) == n_runs and not part_ids(out, "failures")

    reference = tmp_path / "reference"
    run_batch(study, workers=0, out=reference, quiet=True)
    assert_same_tables(out, reference)
    assert not [p for p in out.rglob(".*") if p.name != ".lock"]
