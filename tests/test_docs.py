"""The documentation stays true to the code: generated reference pages match it, every command
is documented, the README keeps its quick start and points to the docs."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_reference_pages_match_the_code(gen: ModuleType) -> None:
    """Changed a parameter, a farm field, the step order or an output? Rerun the generator."""
    pages = gen.pages()
    assert set(pages) == {
        "state-variables.md",
        "parameters.md",
        "process-order.md",
        "outputs.md",
        "scenarios.md",
    }
    stale = [n for n, text in pages.items() if (DOCS / "reference" / n).read_text() != text]
    assert not stale, f"run `python docs/gen_reference.py`: {stale} differ from the code"


def test_reference_pages_cover_every_parameter_field_and_step(gen: ModuleType) -> None:
    import dataclasses
    import inspect

    from abm.landscape import Farms
    from abm.model import SoilCarbonModel
    from abm.reporters import COLUMNS
    from abm.scenario import param_paths

    pages = gen.pages()
    for path in param_paths():
        assert f"| `{path}` |" in pages["parameters.md"], path
    for field in dataclasses.fields(Farms):
        assert f"| `{field.name}` |" in pages["state-variables.md"], field.name
    for column in COLUMNS:
        assert f"| `{column}` |" in pages["outputs.md"], column
    step_doc = inspect.getdoc(SoilCarbonModel.step) or ""
    numbered = [line for line in step_doc.splitlines() if re.match(r"\d\. ", line)]
    assert len(numbered) >= 5
    for line in numbered:
        assert gen.rst_to_md(line) in pages["process-order.md"]


def test_an_undocumented_state_variable_stops_the_generator(
    gen: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = dict(gen.FARM_FIELD_NOTES)
    del notes["soc0"]
    monkeypatch.setattr(gen, "FARM_FIELD_NOTES", notes)
    monkeypatch.setattr(gen, "attribute_docstrings", lambda cls: {})
    with pytest.raises(SystemExit, match="soc0"):
        gen.state_variables_page()


def test_units_of_outputs_follow_the_naming_rule(gen: ModuleType) -> None:
    assert gen.unit_of("soc_change_permille") == "‰ per year"
    assert gen.unit_of("sequestration_tco2e_cum") == "t CO2e, cumulative since the start"
    assert gen.unit_of("adopted_area_ha_biochar") == "ha"
    assert gen.unit_of("adoption_share_biochar") == "share 0–1"
    assert gen.unit_of("public_spend_eur") == "EUR per year"
    assert gen.unit_of("soc_mean_t_ha") == "t C/ha"
    assert gen.unit_of("soc_stock_t") == "t C"


def test_every_cli_command_is_in_the_user_guide_with_an_example() -> None:
    from abm.cli import app

    guide = (DOCS / "guide.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert {"run", "batch", "report", "rothc", "scenarios"} <= set(names)
    for name in names:
        assert re.search(rf"`abm {name}( [^`]+)?`", guide), f"abm {name} has no example in guide.md"
    assert "abm --version" in guide


def test_user_guide_covers_the_cluster_and_reproduction() -> None:
    guide = (DOCS / "guide.md").read_text()
    for needle in ("dask scheduler", "dask worker", "SLURMCluster", "--resume", "manifest.json"):
        assert needle in guide


def test_readme_keeps_the_quick_start_and_links_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/abm batch "
        "experiments/incentive_schemes.toml && .venv/bin/abm report results/incentive-schemes"
    ) in readme
    assert (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && '
        ".venv/bin/python -m pytest -q"
    ) in readme
    assert "docs/index.md" in readme


def test_docs_nav_lists_every_page() -> None:
    """mkdocs --strict warns on pages missing from the nav; check the same without mkdocs."""
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    missing = [p for p in pages if p not in nav]
    assert not missing, missing
