"""Every bad input to the command line is one line (issue 14, DESIGN.md §7).

Table-driven: each case sets up files, runs ``python -m abm.cli ...`` in a fresh folder and
asserts exit status 2, exactly one line on stderr that names the file or option and the key,
no traceback, and nothing written (the folder's tree is unchanged).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TOY_HEAD = """
[experiment]
name = "t"
model = "abm.batch.toy:model"
[base]
n_farms = 10
end_year = 2022
"""

ROTHC_LINES = [
    "# RothC input written by the bad-input test",
    "# two years of made-up monthly drivers",
    "#",
    "clay depth iom nsteps",
    "23.4 25 2.7 24",
    "(%) (cm) (t C/ha) (-)",
    "year month modern Tmp Rain Evap C_inp FYM PC DPM_RPM",
] + [f"{1 if k < 12 else 2} {k % 12 + 1} 100 {5 + k % 12} 60 40 0.3 0 1 1.44" for k in range(24)]


def _rothc(path: Path, big_year: bool = False) -> None:
    lines = list(ROTHC_LINES)
    if big_year:
        lines[-1] = lines[-1].replace("2 12 ", "1e30 12 ", 1)
    path.write_text("\n".join(lines) + "\n")


def _results(folder: Path) -> Path:
    """A minimal finished results folder (one toy run), written in-process."""
    from abm.batch.runner import run_batch

    (folder / "s.toml").write_text(TOY_HEAD)
    run_batch(folder / "s.toml", workers=0, out=folder / "res", quiet=True)
    (folder / "s.toml").unlink()
    return folder / "res"


@dataclass
class Case:
    """One bad input: how to set it up, the command, and what the line must contain."""

    id: str
    args: list[str]
    expect: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: Callable[[Path], object] | None = None


CASES = [
    Case("seed-negative", ["run", "--seed", "-1"], ["--seed", "2**63-1"]),
    Case("seed-too-big", ["run", "--seed", str(2**63)], ["--seed"]),
    Case("farms-not-int", ["run", "--farms", "abc"], ["--farms"]),
    Case("set-farms-not-int", ["run", "--set", "n_farms=abc"], ["n_farms"]),
    Case("set-farms-bool", ["run", "--set", "n_farms=true"], ["n_farms", "number"]),
    Case("set-and-flag", ["run", "--farms", "3", "--set", "n_farms=5"], ["n_farms", "--farms"]),
    Case("set-start-and-flag", ["run", "--start", "2021", "--set", "start_year=2022"], ["--start"]),
    Case(
        "subsidy-by-practice-huge",
        ["run", "--set", "policy.subsidy_by_practice={cover_crops=1e308}"],
        ["subsidy_by_practice", "100000"],
    ),
    Case(
        "policy-window-inverted",
        ["run", "--set", "policy.start_year=2040", "--set", "policy.end_year=2030"],
        ["start_year", "end_year"],
    ),
    Case(
        "mandated-and-banned",
        [
            "run",
            "--set",
            'policy.regulation.mandate=["cover_crops"]',
            "--set",
            'policy.regulation.ban=["cover_crops"]',
        ],
        ["cover_crops", "mandated and banned"],
    ),
    Case(
        "scenario-not-utf8",
        ["run", "bad.toml"],
        ["bad.toml", "UTF-8"],
        files={"bad.toml": b"n_farms = 3\n# caf\xe9\n"},
    ),
    Case(
        "error-in-file-names-the-file",
        ["run", "w.toml"],
        ["w.toml", "start_year"],
        files={"w.toml": "[policy]\nstart_year = 2040\nend_year = 2030\n"},
    ),
    Case("run-out-proc", ["run", "--farms", "3", "--out", "/proc/abm-x"], ["--out"]),
    Case(
        "run-out-under-a-file",
        ["run", "--farms", "3", "--out", "f.txt/sub"],
        ["--out", "f.txt"],
        files={"f.txt": "x"},
    ),
    Case(
        "run-out-not-empty",
        ["run", "--farms", "3", "--out", "full"],
        ["full", "--out"],
        files={"full/x.txt": "x"},
    ),
    Case("params-format", ["params", "--format", "xml"], ["--format", "json"]),
    Case("unknown-command", ["bogus"], ["bogus"]),
    Case("batch-missing-file", ["batch", "nope.toml"], ["nope.toml"]),
    Case(
        "batch-workers-absurd",
        ["batch", "s.toml", "--workers", "100000"],
        ["--workers"],
        files={"s.toml": TOY_HEAD},
    ),
    Case(
        "batch-plugin-without-consent",
        ["batch", "s.toml"],
        ["s.toml", "experiment.model", "--allow-plugin"],
        files={
            "s.toml": TOY_HEAD.replace("abm.batch.toy:model", "mine:f"),
            "mine.py": "open('IMPORTED', 'w')\ndef f(params, seed):\n    return {}\n",
        },
    ),
    Case(
        "batch-combination-invalid",
        ["batch", "y.toml"],
        ["y.toml", "design point", "end_year"],
        files={
            "y.toml": "[experiment]\nname = 'y'\n[base]\nn_farms = 3\n[design]\n"
            "method = 'factorial'\n[design.parameters]\nstart_year = {values = [2020, 2030]}\n"
            "end_year = {values = [2025]}\n"
        },
    ),
    Case(
        "batch-out-proc",
        ["batch", "s.toml", "--out", "/proc/abm-x"],
        ["--out"],
        files={"s.toml": TOY_HEAD},
    ),
    Case("query-empty-sql", ["query", "res", " "], ["SQL", "empty"], setup=_results),
    Case("query-copy", ["query", "res", "COPY runs TO 'x.csv'"], ["COPY"], setup=_results),
    Case(
        "query-read-outside",
        ["query", "res", "SELECT * FROM read_csv('/etc/passwd')"],
        ["SQL", "/etc/passwd"],
        setup=_results,
    ),
    Case("query-missing-folder", ["query", "nope", "SELECT 1"], ["nope"]),
    Case(
        "report-unwritable",
        ["report", "res"],
        ["res", "report"],
        setup=lambda d: (_results(d) / "report").write_text("a file where the folder goes"),
    ),
    Case(
        "rothc-year-huge",
        ["rothc", "big.dat", "--out", "o"],
        ["big.dat"],
        setup=lambda d: _rothc(d / "big.dat", big_year=True),
    ),
    Case(
        "rothc-would-overwrite",
        ["rothc", "ok.dat", "--out", "o"],
        ["--out", "year_results.csv"],
        files={"o/year_results.csv": "Year\n"},
        setup=lambda d: _rothc(d / "ok.dat"),
    ),
]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (``abm.cli.main`` with ``sys.argv``): the console script's own path."""
    from abm.cli import main

    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup is not None:
        case.setup(tmp_path)
    before = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["abm", *case.args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main()
    stderr = capsys.readouterr().err
    lines = stderr.strip().splitlines()
    assert info.value.code == 2, (info.value.code, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for word in case.expect:
        assert word in lines[0], (word, lines[0])
    assert _tree(tmp_path) == before


def test_memory_estimate_refuses_a_landscape_that_cannot_fit(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    from abm.cli import BYTES_PER_FARM

    n = 5_000_000
    if n * BYTES_PER_FARM <= psutil.virtual_memory().available:
        pytest.skip("this machine could hold 5 M farms")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "abm.cli", "run", "--farms", str(n)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "GiB" in proc.stderr and "n_farms" in proc.stderr


def test_scenario_from_is_relative_to_its_file(tmp_path: Path) -> None:
    from abm.scenario import resolve_params

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "parent.toml").write_text("[policy]\nsubsidy_eur_per_ha = 77\n")
    (tmp_path / "sub" / "child.toml").write_text('[scenario]\nfrom = "parent.toml"\n')
    params = resolve_params(tmp_path / "sub" / "child.toml")  # cwd is elsewhere
    assert params.policy.subsidy_eur_per_ha == 77


def test_params_shows_an_open_bound_for_a_value_that_refuses_it() -> None:
    from abm.cli import _allowed

    assert _allowed("practices.cover_crops.rate_modifier", 0.0, 2.0) == "(0.0, 2.0]"
    assert _allowed("policy.buffer_share", 0.0, 1.0) == "[0.0, 1.0]"
