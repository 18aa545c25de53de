"""Calibration with ABC-SMC (pyabc): fit parameters to observed series (``abm calibrate``).

See :mod:`abm.calibration.study` (the study file), :mod:`abm.calibration.targets` (observed
series), :mod:`abm.calibration.abc` (what pyabc is given), :mod:`abm.calibration.run` (the
flow), :mod:`abm.calibration.outputs` (tables), :mod:`abm.calibration.report` (figures) and
:mod:`abm.calibration.posterior` (``--posterior DIR`` for run, batch and sensitivity).
"""
