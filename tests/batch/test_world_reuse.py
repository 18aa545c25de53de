"""World reuse in a batch (abm.world): byte-identical tables with and without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from abm import world
from abm.batch.runner import run_batch

from .conftest import assert_same_tables, tables, write


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    world.set_reuse(None)
    world.clear()
    yield
    world.set_reuse(None)
    world.clear()


# -- a batch: identical tables with and without reuse -----------------------------------------

STUDY = """
[experiment]
name = "reuse"
replicates = 2
seed = 23

[base]
n_farms = 30
end_year = 2026

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "advice"

[[scenarios]]
name = "subsidy"

[design]
method = "csv"
file = "points.csv"
"""


POINTS = """farmer.w_economic,practices.cover_crops.annual_cost_eur_per_ha,climate.warming_c_per_yr
1.0,60.0,0.0
1.0,60.0,0.04
2.0,60.0,0.0
1.0,100.0,0.0
"""


def test_batch_tables_are_identical_with_and_without_reuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = write(tmp_path / "study.toml", STUDY)
    # behaviour, economics, soil: a point sharing the burn-in with the first, two that do not
    write(tmp_path / "points.csv", POINTS)
    monkeypatch.setenv(world.ENV_VAR, "0")
    run_batch(study, workers=0, out=tmp_path / "off", quiet=True)
    assert world.stats()["behaviour"]["misses"] == 0  # off: nothing cached
    monkeypatch.setenv(world.ENV_VAR, "1")
    run_batch(study, workers=0, out=tmp_path / "serial", quiet=True)
    # per replicate: baseline builds 3 first stages (points 0 and 1 share one) and 4 soil
    # starts, advice reuses them all, subsidy (3 tiers) reads a lever the burn-in reads
    stats = world.stats()
    assert (stats["behaviour"]["hits"], stats["behaviour"]["misses"]) == (12, 12), stats
    assert (stats["soil"]["hits"], stats["soil"]["misses"]) == (8, 16), stats
    run_batch(study, workers=2, out=tmp_path / "on", quiet=True)  # spawned workers
    t = tables(tmp_path / "off")
    assert len(t["runs"]) == 24 and t["runs"]["adoption_share_final"].nunique() > 8
    assert_same_tables(tmp_path / "off", tmp_path / "serial")
    assert_same_tables(tmp_path / "off", tmp_path / "on")
