"""A real ``kill -9`` of a running batch, then ``--resume``: tables equal an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from abm.batch.runner import run_batch
from abm.batch.store import part_ids, read_table

from .conftest import ROOT, assert_same_tables, run_cli, toy_study


def test_kill_minus_9_then_resume_gives_identical_tables(tmp_path: Path) -> None:
    # 3 scenarios x 2 points x 6 replicates = 36 runs (24 sleep 0.1 s, 12 fail) on 2 workers
    study = toy_study(tmp_path, replicates=6, points=2, sleep=0.1)
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "abm.cli", "batch", str(study), "--workers", "2", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while len(part_ids(out, "runs")) + len(part_ids(out, "failures")) < 4:
            assert proc.poll() is None, "batch ended before it could be killed"
            assert time.monotonic() < deadline, "no runs were written"
            time.sleep(0.02)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the orphaned workers notice their parent died and exit
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"workers left running: {alive}"

    done_at_kill = part_ids(out, "runs")
    assert 0 < len(done_at_kill) < 24
    # what a killed batch left is readable and consistent
    assert set(read_table(out, "timeseries")["run_id"]) == done_at_kill

    resumed = run_cli(
        "batch", str(study), "--workers", "2", "--out", str(out), "--resume", cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped (resume)" in resumed.stdout

    reference = tmp_path / "reference"
    run_batch(study, workers=0, out=reference, quiet=True)
    assert_same_tables(out, reference)
    # no temporary or orphan part files survive the resume
    leftovers = [p for p in out.rglob(".*") if p.name != ".lock"]
    assert not leftovers
