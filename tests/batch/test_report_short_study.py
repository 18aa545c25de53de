"""A study that ends before 2050: the report reads the final year's KPIs, not "—"."""

from __future__ import annotations

from pathlib import Path

from abm.batch.runner import run_batch
from abm.report import build_report

STUDY = """
[experiment]
name = "short"
replicates = 2
seed = 5

[base]
n_farms = 60
end_year = 2032

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy"
"""


def test_report_of_a_study_ending_before_2050_shows_final_year_values(tmp_path: Path) -> None:
    study = tmp_path / "short.toml"
    study.write_text(STUDY)
    summary = run_batch(study, workers=0, out=tmp_path / "out", quiet=True)
    text = build_report(summary.out_dir).read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("|")}
    seq = rows["CO2e sequestered, cum. final year (kt CO2e)"]
    assert "—" not in seq  # a number for each scenario, not the missing 2050 value
    assert "Net GHG (seq. − N2O − other), cum. final year (kt CO2e)" in rows
    assert "Δ CO2e sequestered, cum. final year (kt CO2e)" in rows
    assert not any("cum. 2050" in key for key in rows)
