"""The dashboard's Solara app: the routes ``/`` (one model) and ``/results`` (a results folder).

Solara imports this module by name (``SOLARA_APP``, set by :func:`abm.dashboard.launcher.serve`);
the results folder comes from the environment variable :data:`RESULTS_ENV`, set by the launcher
after checking it.
"""

from __future__ import annotations

import os

import solara

from abm.dashboard.app import ModelPage
from abm.dashboard.results import ResultsPage

#: Environment variable naming the results folder of the /results page.
RESULTS_ENV = "ABM_DASHBOARD_RESULTS"


@solara.component
def Results() -> None:
    """The /results page for the folder the dashboard was started with."""
    ResultsPage(os.environ.get(RESULTS_ENV) or None)


routes = [
    solara.Route(path="/", component=ModelPage, label="Model"),
    solara.Route(path="results", component=Results, label="Results"),
]
