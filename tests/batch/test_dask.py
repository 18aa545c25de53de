"""Dask: a scheduler and a worker started by the test on 127.0.0.1, and a LocalCluster."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from abm.batch.runner import run_batch
from abm.errors import UserInputError

from .conftest import ROOT, assert_same_tables, toy_study, write

pytest.importorskip("distributed")

USER_MODEL = """
def f(params, seed):
    return {"y": params["x"] + seed % 11}
"""


def _dask(*args: str, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args],
        cwd=cwd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the nannies' children end with it
    )


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address of a Dask scheduler with two single-threaded workers, all on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("dask")
    sfile = folder / "scheduler.json"
    procs = [
        _dask(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(sfile),
            cwd=folder,
            log=folder / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sfile.is_file():
            assert procs[0].poll() is None, (folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "scheduler did not start"
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        procs.append(
            _dask(
                "worker",
                address,
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                cwd=folder,
                log=folder / "worker.log",
            )
        )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
        with Client(address, timeout="10s") as client:
            client.shutdown()  # scheduler and workers close at once (SIGTERM is slow)
    finally:
        t0 = time.monotonic()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, 3 - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group this test started
            proc.wait()


def test_dask_cluster_gives_the_same_tables_as_local_processes(
    scheduler: str, tmp_path: Path
) -> None:
    study = toy_study(tmp_path, replicates=3, points=2)
    s = run_batch(study, scheduler=scheduler, out=tmp_path / "dask", quiet=True)
    assert (s.done, s.failed, s.workers) == (12, 6, 2)
    assert scheduler in s.executor
    run_batch(study, workers=0, out=tmp_path / "local", quiet=True)
    assert_same_tables(tmp_path / "dask", tmp_path / "local")


def test_dask_workers_import_a_user_model_from_the_study_folder(
    scheduler: str, tmp_path: Path
) -> None:
    write(tmp_path / "usermodel.py", USER_MODEL)
    study = write(
        tmp_path / "s.toml",
        """
        [experiment]
        name = "user"
        replicates = 2
        model = "usermodel:f"
        [design]
        method = "factorial"
        [design.parameters]
        x = {values = [1, 2]}
        """,
    )
    s = run_batch(study, scheduler=scheduler, out=tmp_path / "out", quiet=True, allow_plugin=True)
    assert (s.done, s.failed) == (4, 0)


def test_dask_local_cluster(tmp_path: Path) -> None:
    study = toy_study(tmp_path, replicates=2, points=1)
    s = run_batch(study, scheduler="local", out=tmp_path / "lc", quiet=True)
    assert (s.done, s.failed) == (4, 2) and "LocalCluster" in s.executor
    run_batch(study, workers=0, out=tmp_path / "local", quiet=True)
    assert_same_tables(tmp_path / "lc", tmp_path / "local")


def test_bad_scheduler_address_is_a_user_error(tmp_path: Path) -> None:
    study = toy_study(tmp_path, replicates=1, points=1)
    with pytest.raises(UserInputError, match="--scheduler 'localhost:1'"):
        run_batch(study, scheduler="localhost:1", out=tmp_path / "x", quiet=True)
    assert not (tmp_path / "x").exists()
