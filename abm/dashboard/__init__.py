"""Browser dashboard (``abm dashboard``): Mesa's SolaraViz page for one model and a results page.

Needs the optional extra ``pip install -e ".[dashboard]"`` (solara with its bundled assets,
ipyvuetify/ipyvue < 2, altair). Nothing here is imported by the model, batches or reports.

* :mod:`abm.dashboard.app` — the SolaraViz page: scenario, policy levers, farms and seed;
  step, play and reset; views of the farm network, adoption, SOC against the 4 ‰ line, carbon,
  money and exchanges (all matplotlib, so the page renders offline).
* :mod:`abm.dashboard.results` — an existing results folder: KPIs with 95 % intervals, paired
  differences to the baseline, sensitivity indices. Reads Parquet through DuckDB only: nothing
  loaded is unpickled or evaluated.
* :mod:`abm.dashboard.server` — the Solara routes and :func:`~abm.dashboard.server.serve`.
"""
