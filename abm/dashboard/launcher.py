"""Start the dashboard server (``abm dashboard``): checks first, then uvicorn in this process.

Imports no Solara before the environment is set: Solara reads its settings (telemetry, asset
proxy) when first imported. Telemetry is switched off and the page's assets come from the
``solara-assets`` package installed with the ``[dashboard]`` extra, so nothing leaves the
machine and the page works offline.
"""

from __future__ import annotations

import os
import socket
import sys
import warnings
from pathlib import Path

from abm.errors import UserInputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: The module Solara serves (its ``routes``).
APP_MODULE = "abm.dashboard.server"
EXTRA_HINT = "pip install -e '.[dashboard]' (or 'abm-4p1000[dashboard]')"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def quiet_environment() -> dict[str, str]:
    """Environment for a Solara server that calls no one: no telemetry, no update check."""
    return {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_CHECK_VERSION": "False",
        "MPLBACKEND": "Agg",
    }


def check(host: str, port: int, results: Path | None) -> None:
    """Refuse bad options with one line: port range and use, results folder, the extra.

    Raises
    ------
    abm.errors.UserInputError
        A port outside 1–65535 or taken, a results folder without finished runs, or the
        ``[dashboard]`` extra not installed.
    """
    if not 1 <= port <= 65535:
        raise UserInputError(f"--port {port}: allowed 1 to 65535", source="command line")
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
        import solara_assets  # noqa: F401
    except ImportError as exc:
        raise UserInputError(
            f"the dashboard needs the optional extra ({exc.name} is missing): {EXTRA_HINT}",
            source="abm dashboard",
        ) from None
    if results is not None:
        from abm.dashboard.results import load_results

        if not Path(results).is_dir():
            raise UserInputError(
                f"--results {results}: not a folder (give a results folder of abm batch/run)",
                source="command line",
            )
        load_results(results)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind((host, port))
    except OSError as exc:
        raise UserInputError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
            "choose another port",
            source="command line",
        ) from None


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, results: Path | None = None) -> None:
    """Check the options, then serve the dashboard until interrupted (blocks)."""
    os.environ.update(quiet_environment())
    # Mesa 3.3's ComponentsView (on import) and Solara's cookie fallback on plain http (on every
    # page) warn about their own code.
    warnings.filterwarnings("ignore", message=r".*use_state` found despite early return")
    warnings.filterwarnings("ignore", message=r"Cookies with samesite=none require https")
    check(host, port, results)
    from abm.dashboard.server import RESULTS_ENV

    os.environ["SOLARA_APP"] = APP_MODULE
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    os.environ[RESULTS_ENV] = str(Path(results).resolve()) if results is not None else ""
    import solara.server.settings as settings
    import uvicorn

    settings.telemetry.mixpanel_enable = False
    if host not in LOOPBACK:
        print(
            f"warning: listening on {host}: anyone who can reach this machine can use the "
            "dashboard and run models on it",
            file=sys.stderr,
        )
    print(f"dashboard: http://{host}:{port}/  (results page: /results)", flush=True)
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
