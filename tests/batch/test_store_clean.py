"""``ResultStore.clean``: what a killed batch leaves behind is removed before ``--resume``, and
nothing committed is touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa

from abm.batch.runner import run_batch
from abm.batch.store import ResultStore, part_ids, read_table, write_part

from .conftest import assert_same_tables, toy_study


def _table(run_id: str) -> pa.Table:
    return pa.table({"run_id": [run_id], "year": [2020], "value": [1.0]})


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_clean_removes_temporaries_orphans_and_superseded_failures(tmp_path: Path) -> None:
    root = tmp_path / "res"
    with ResultStore(root) as store:
        # r1 committed (its runs part exists) after an earlier failure; r3 failed; r2 was killed
        # between its timeseries/ledger parts and its runs part
        for table in ("timeseries", "ledger", "runs"):
            write_part(root / f"{table}.parquet", "r1", _table("r1"))
        write_part(root / "failures.parquet", "r1", _table("r1"))
        write_part(root / "failures.parquet", "r3", _table("r3"))
        write_part(root / "timeseries.parquet", "r2", _table("r2"))
        write_part(root / "ledger.parquet", "r2", _table("r2"))
        # temporaries of writers killed mid-write (part files and the manifest)
        for rel in (
            "timeseries.parquet/.r4.parquet.tmp-999",
            "runs.parquet/.r5.parquet.tmp-1",
            ".manifest.json.tmp-42",
        ):
            (root / rel).write_bytes(b"half a file")
        before = _files(root)

        removed = store.clean()

        kept = {
            ".lock",
            "runs.parquet/r1.parquet",
            "timeseries.parquet/r1.parquet",
            "ledger.parquet/r1.parquet",
            "failures.parquet/r3.parquet",
        }
        assert _files(root) == kept
        assert removed == len(before - kept) == 6
        assert store.clean() == 0  # idempotent
    assert part_ids(root, "failures") == {"r3"}
    assert list(read_table(root, "timeseries")["run_id"]) == ["r1"]


def test_resume_cleans_a_damaged_folder_and_completes_it(tmp_path: Path) -> None:
    """Resume = clean + rerun the uncommitted runs: same tables as an undisturbed batch."""
    study = toy_study(tmp_path)
    reference, damaged = tmp_path / "reference", tmp_path / "damaged"
    run_batch(study, workers=0, out=reference, quiet=True)
    shutil.copytree(reference, damaged)
    done = sorted(part_ids(damaged, "runs"))
    failed = sorted(part_ids(damaged, "failures"))
    assert done and failed
    # a run killed before its commit: its runs part is gone, its other parts are still there
    (damaged / "runs.parquet" / f"{done[0]}.parquet").unlink()
    # stale files: a failure of a run that since succeeded, an orphan part, temporaries
    shutil.copy(
        damaged / "failures.parquet" / f"{failed[0]}.parquet",
        damaged / "failures.parquet" / f"{done[1]}.parquet",
    )
    shutil.copy(
        damaged / "ledger.parquet" / f"{done[2]}.parquet",
        damaged / "ledger.parquet" / "not-a-run.parquet",
    )
    (damaged / "timeseries.parquet" / f".{done[3]}.parquet.tmp-7").write_bytes(b"x")
    (damaged / ".manifest.json.tmp-7").write_bytes(b"{")

    summary = run_batch(study, workers=0, out=damaged, resume=True, quiet=True)

    assert summary.ran == 1 + len(failed)  # the uncommitted run and the failed ones
    assert not (damaged / "failures.parquet" / f"{done[1]}.parquet").exists()
    assert not (damaged / "ledger.parquet" / "not-a-run.parquet").exists()
    assert not [p for p in damaged.rglob(".*") if p.name != ".lock"]
    assert_same_tables(damaged, reference)
