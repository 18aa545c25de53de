"""The dashboard in a real browser: Playwright driving the system's Chromium.

One server (``abm dashboard`` as a user starts it) serves both pages for this module. Solara's
CDN is pointed at a closed local port and the browser refuses every request that leaves
127.0.0.1, so the pages are proven to work offline. Screenshots of both pages are saved in the
test's temporary folder and copied to /tmp/dashboard_shots/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/dashboard_shots")
ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("solara", reason="the [dashboard] extra is not installed")
pytest.importorskip("playwright", reason="the [browser-tests] extra is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no /usr/bin/chromium (apt-get install chromium; .ci/run installs it)",
    ),
]

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from abm.dashboard import app  # noqa: E402

TOY_STUDY = """
[experiment]
name = "dash"
replicates = 3
seed = 11
model = "abm.batch.toy:model"

[base]
n_farms = 30
end_year = 2050

[[scenarios]]
name = "baseline"

[[scenarios]]
name = "subsidy"
set = { "policy.subsidy_eur_per_ha" = 120 }

[[scenarios]]
name = "broken"
set = { "toy.fail" = true }
"""
#: Sensitivity rows written by hand (known values the page must show).
SENSITIVITY = pd.DataFrame(
    {
        "output": ["adoption_share_2050"] * 4,
        "year": [None] * 4,
        "parameter": ["farmer.peer_weight", "farmer.peer_weight", "policy.x", "policy.x"],
        "index": ["S1", "ST", "S1", "ST"],
        "value": [0.612, 0.701, 0.123, 0.25],
        "conf": [0.05] * 4,
    }
)
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 30_000
CLI = (sys.executable, "-m", "abm.cli", "dashboard")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from abm.batch.runner import run_batch

    folder = tmp_path_factory.mktemp("dash_browser")
    study = folder / "study.toml"
    study.write_text(textwrap.dedent(TOY_STUDY))
    out = folder / "results"
    run_batch(study, workers=0, out=out, quiet=True, allow_plugin=True)
    SENSITIVITY.to_parquet(out / "sensitivity.parquet")
    return out


@pytest.fixture(scope="module")
def server(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``abm dashboard --results BATCH`` on a free port; its log for the checks."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dash_server") / "server.log"
    env = dict(os.environ, SOLARA_ASSETS_CDN="http://127.0.0.1:9/cdn/")  # no CDN reachable
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [*CLI, "--port", str(port), "--results", str(batch)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"dashboard exited: {log.read_text()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.25)
        else:
            pytest.fail("dashboard did not listen within 120 s")
        yield {"url": f"http://127.0.0.1:{port}", "log": log, "pid": proc.pid}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert "Could not load URL" not in log.read_text(), "an asset was fetched from the CDN"


@pytest.fixture
def page(server: dict[str, Any]) -> Iterator[tuple[Page, list[str]]]:
    """A Chromium page that refuses (and lists) every request leaving 127.0.0.1."""
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(server["url"]):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(TIMEOUT_MS)
        pg.route("**/*", route)
        yield pg, outside
        browser.close()


def _shot(pg: Page, tmp_path: Path, name: str) -> None:
    pg.set_viewport_size({"width": 1400, "height": 2000})  # the views scroll inside the page
    pg.wait_for_timeout(500)
    path = tmp_path / name
    pg.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def _kpi(pg: Page, key: str) -> str:
    return pg.locator(f"[data-kpi={key}]").inner_text().strip()


def _wait_year(pg: Page, year: str) -> None:
    pg.wait_for_function(
        "y => document.querySelector('[data-kpi=year]')?.textContent.trim() === y",
        arg=f"Year: {year}",
    )


def _slider(pg: Page, label: str, key: str) -> None:
    """Move the labelled slider to its end (``Home``/``End``) with the keyboard, as a user can."""
    box = pg.locator(".v-input__slider", has_text=re.compile(f"^{re.escape(label)}"))
    thumb = box.get_by_role("slider")
    thumb.focus()
    thumb.press(key)


def _reset(pg: Page, expect: str) -> None:
    """Press Reset until the new model's card shows ``expect`` (a slider's change travels to
    the server on its own message, which may arrive just after the click)."""
    for _ in range(3):
        pg.get_by_role("button", name="Reset").click()
        try:
            pg.wait_for_function(
                """t => {
                    const y = document.querySelector('[data-kpi=year]');
                    return y && y.textContent.trim() === 'Year: —'
                        && y.closest('.v-card').textContent.includes(t);
                }""",
                arg=expect,
                timeout=10_000,
            )
            return
        except PlaywrightTimeout:
            continue
    pytest.fail(f"after Reset the page never showed {expect!r}")


def _expected(**kw: Any) -> dict[str, str]:
    m = app.DashboardModel(**kw)
    while m.running:
        m.step()
    return app.headline_values(m)


def test_model_page_loads_steps_and_follows_the_sliders(
    page: tuple[Page, list[str]], server: dict[str, Any], tmp_path: Path
) -> None:
    pg, outside = page
    t0 = time.perf_counter()
    pg.goto(server["url"] + "/")
    pg.locator("[data-kpi=adoption_share]").wait_for()
    load_s = time.perf_counter() - t0
    assert _kpi(pg, "year") == "Year: —"
    assert (
        "1,000 farms, seed 42" in pg.locator(".v-card", has_text="Scenario: baseline").inner_text()
    )

    step = pg.get_by_role("button", name="Step")
    step.click()
    _wait_year(pg, "2020")
    t0 = time.perf_counter()
    step.click()  # one year at 1,000 farms, from the click to the redrawn views
    _wait_year(pg, "2021")
    one_s = time.perf_counter() - t0
    _slider(pg, "Render Interval", "ArrowRight")  # 1 -> 3 -> 5 years per redraw
    _slider(pg, "Render Interval", "ArrowRight")
    t0 = time.perf_counter()
    step.click()
    _wait_year(pg, "2026")
    per_year_s = (time.perf_counter() - t0) / 5
    print(
        f"\npage load {load_s:.2f} s; at 1,000 farms: one year per redraw {one_s:.2f} s, "
        f"five years per redraw {per_year_s:.2f} s per year"
    )
    assert load_s < 10
    assert per_year_s < 1

    # Fewer farms, every year per click; Reset applies the parameters (Mesa's way).
    _slider(pg, "Farms", "Home")
    _slider(pg, "Render Interval", "End")
    _reset(pg, "100 farms, seed 42")
    step.click()
    _wait_year(pg, "2050")
    base = {k: _kpi(pg, k) for k in app.HEADLINE}
    want = _expected(n_farms=100, seed=42)
    for key, (label, _s, unit, _d) in app.HEADLINE.items():
        assert base[key] == f"{label}: {want[key]} {unit}", key

    # The subsidy lever at its maximum: the shown values are the model's with that subsidy.
    _slider(pg, "Per-ha subsidy", "End")
    _reset(pg, "subsidy 200 EUR/ha")
    step.click()
    _wait_year(pg, "2050")
    want_sub = _expected(n_farms=100, seed=42, extra_subsidy_eur_per_ha=200.0)
    for key, (label, _s, unit, _d) in app.HEADLINE.items():
        assert _kpi(pg, key) == f"{label}: {want_sub[key]} {unit}", key
    assert _kpi(pg, "adoption_share") != base["adoption_share"]
    assert _kpi(pg, "public_spend_eur") != base["public_spend_eur"]
    assert "subsidy 200 EUR/ha" in pg.locator(".v-card", has_text="Scenario: baseline").inner_text()
    assert pg.locator("img").count() >= 6  # the six matplotlib views
    _shot(pg, tmp_path, "model_page.png")
    assert outside == []


def test_results_page_lists_the_batch_scenarios(
    page: tuple[Page, list[str]], server: dict[str, Any], batch: Path, tmp_path: Path
) -> None:
    from abm.dashboard import results

    pg, outside = page
    pg.goto(server["url"] + "/results")
    pg.get_by_text("Paired differences to").wait_for()
    text = pg.locator(".abm-results").inner_text()
    assert "6 runs of 2 scenarios; 3 failed" in text
    header = pg.locator("table").first.locator("th").all_inner_texts()
    assert [h.strip() for h in header] == ["KPI", "baseline", "subsidy"]
    res = results.load_results(batch)
    table = results.report.kpi_table(res.runs, res.scenarios)
    label = results.label(res.metrics[0])
    assert table.loc[label, "subsidy"] in text  # the report's own cell
    assert "farmer.peer_weight" in text and "0.701" in text  # sensitivity, by hand
    assert "broken" not in pg.locator("table").first.inner_text()
    _shot(pg, tmp_path, "results_page.png")
    assert outside == []


def test_server_listens_on_loopback_only(server: dict[str, Any]) -> None:
    import psutil

    listening = [
        c.laddr
        for c in psutil.Process(server["pid"]).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening, "the dashboard listens nowhere"
    assert {a.ip for a in listening} == {"127.0.0.1"}
