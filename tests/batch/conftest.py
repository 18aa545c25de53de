"""Shared helpers of the batch tests: toy studies, table readers, the CLI as a subprocess.

Most tests use the toy model shipped in the package (``abm.batch.toy:model``, milliseconds per
run, same output contract as ``abm.run.run_model``) so executors, store, resume, query and
report are tested fast and independently of the real model; ``test_real_model.py`` runs the
real one at tiny size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from abm.batch.store import TABLES, read_table

ROOT = Path(__file__).resolve().parents[2]

TOY_STUDY = """
[experiment]
name = "toy"
replicates = {replicates}
seed = 7
model = "abm.batch.toy:model"

[base]
n_farms = 40
end_year = 2035
"toy.sleep_s" = {sleep}

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy"
set = {{ "policy.subsidy_eur_per_ha" = 120 }}

[[scenarios]]
name = "broken"
set = {{ "toy.fail" = true }}

[design]
method = "lhs"
n = {points}
[design.parameters]
"farmer.peer_weight" = [0.1, 0.8]
"""


def write(path: Path, text: str) -> Path:
    """Write dedented text to ``path`` (creating folders); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def toy_study(
    folder: Path,
    *,
    replicates: int = 3,
    points: int = 2,
    sleep: float = 0.0,
    name: str = "study.toml",
) -> Path:
    """A toy study: 3 scenarios (one always fails) × ``points`` LHS points × ``replicates``."""
    text = TOY_STUDY.format(replicates=replicates, points=points, sleep=sleep)
    return write(folder / name, text)


def tables(results: Path) -> dict[str, pd.DataFrame]:
    """The four tables of a results folder, sorted (as every reader sees them)."""
    return {name: read_table(results, name) for name in TABLES}


def assert_same_tables(a: Path, b: Path) -> None:
    """Two results folders hold identical tables."""
    ta, tb = tables(a), tables(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m abm.cli ARGS`` in ``cwd``; returns the completed process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "abm.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """The default toy study in a temporary folder."""
    return toy_study(tmp_path)
