"""How the installed Mesa takes the model's seed, decided once at import time.

Mesa ≥ 3.1 takes ``mesa.Model(rng=...)``; from Mesa 3.5 the older ``seed=`` keyword raises a
``FutureWarning`` ("deprecated, use rng"). For an integer both build the same
``random.Random(seed)`` and ``numpy.random.default_rng(seed)``, so results do not depend on which
keyword is used: the keyword follows the installed Mesa's signature so that no deprecation
warning reaches users on any supported version.
"""

from __future__ import annotations

import inspect

import mesa

#: The keyword of ``mesa.Model.__init__`` that takes the seed in the installed Mesa.
MESA_SEED_KEYWORD = "rng" if "rng" in inspect.signature(mesa.Model.__init__).parameters else "seed"


def mesa_seed_kwargs(seed: int) -> dict[str, int]:
    """Keyword arguments that give ``mesa.Model.__init__`` the integer ``seed``.

    Parameters
    ----------
    seed
        The model's root seed.

    Returns
    -------
    dict of str to int
        ``{"rng": seed}`` where the installed Mesa takes ``rng``, else ``{"seed": seed}``.
    """
    return {MESA_SEED_KEYWORD: int(seed)}
