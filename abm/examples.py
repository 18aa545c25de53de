"""Files installed with the package: the example studies (and, next to them, the scenarios).

In a wheel, ``experiments/incentive_schemes.toml`` and ``experiments/examples/`` are installed as
``abm/_experiments/`` and the scenario library ``experiments/scenarios/`` as ``abm/_scenarios/``
(see ``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``); in a source
checkout they are read from ``experiments/``. Copy a study from here to start your own::

    python -c "import abm.examples as r; print(r.experiments_dir())"
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["example_studies", "experiments_dir"]


def experiments_dir() -> Path:
    """The folder holding the example study files (installed copy first, else the source tree).

    Returns
    -------
    pathlib.Path
        ``abm/_experiments`` in an installed wheel, ``<repository>/experiments`` otherwise.
    """
    packaged = Path(__file__).resolve().parent / "_experiments"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "experiments"


def example_studies() -> dict[str, Path]:
    """Every example study file, by its path relative to :func:`experiments_dir`.

    Returns
    -------
    dict of str to pathlib.Path
        E.g. ``{"incentive_schemes.toml": ..., "examples/lhs_uncertainty.toml": ...}``; the
        scenario files of the library are not studies and are left out.
    """
    root = experiments_dir()
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.glob("**/*.toml"))
        if "scenarios" not in p.relative_to(root).parts
    }
