"""World reuse: what a run shares with an earlier run of the same seed, built once per process.

Batches run thousands of runs on a few replicate seeds (common random numbers: replicate ``r``
has the same seed in every scenario and design point). Building the world — landscape
(:func:`abm.landscape.build_farms`), network (:func:`abm.network.farmer_network`), the
scientists' prior, the behavioural burn-in
(:meth:`abm.model.SoilCarbonModel._calibrate_behaviour`) and the soil spin-up
(:func:`abm.landscape.equilibrate`) — is about a quarter of a 1,000-farm 2020–2050 run. A stage
whose inputs are the same as in an earlier run of this process is not built again: its result
is copied from a small cache.

Never a different result
------------------------
* **Keys.** Each stage's cache is keyed by the root seed and the values of exactly the
  parameters that stage (and every stage before it) reads, listed below as dotted paths or
  whole sections (:data:`BEHAVIOUR_READS`, :data:`SOIL_READS`, :data:`EFFECT_RATE_READS`).
  Sections are taken whole where most of them is read; the sections that carry scenario
  levers (``policy``, ``advice``, ``market``, ``potential``) are listed field by field, so
  scenarios that differ only in levers the world does not read share it, and a scenario that
  differs in one it does read never does. The burn-in runs under "no policy": it reads no
  policy lever except the buffer and deduction shares and the *number* of subsidy tiers (the
  shape of the no-policy instruments), and none of ``market`` or ``potential``; it does read
  the whole ``farmer`` and ``practices`` sections (behaviour and economics).
  ``tests/test_world.py`` records every parameter each stage reads, under several scenarios and
  options, and fails if one is missing from its key.
* **Streams.** The model spawns 9 generators from the root seed; a restored stage also
  restores the bit-generator state of every stream it draws from, so the run continues with
  exactly the numbers a fresh build would draw. The climate (its own stream, cheap) is always
  drawn afresh.
* **Copies.** The cache stores copies and every run gets its own copy: a run cannot change
  the cache or another run.
* **Memory.** Each cache is a small LRU (:data:`MAX_ENTRIES` entries, at most
  :data:`MAX_BYTES` bytes), so memory stays flat over a batch of any length.

Task order
----------
Batches hand out tasks replicate-major (:meth:`abm.batch.spec.Study.tasks`), so the runs of
one seed come one after another and a few entries suffice. Each free worker takes the next
task, so with ``W`` workers a seed's world may be built up to ``W`` times. Pinning a
replicate's runs to one worker would need chunked tasks, which would coarsen progress, resume
and the isolation of a run that kills its worker, to save at most ``W − 1`` builds per seed and
world; it is not done.

The switch: ``ABM_WORLD_REUSE=0`` in the environment (worker processes inherit it), or
:func:`set_reuse` in a process. Results are byte-identical either way
(``tests/test_world.py``); only the time differs.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from abm.scenario import Params, flatten

if TYPE_CHECKING:  # pragma: no cover
    from abm.landscape import Farms
    from abm.model import SoilCarbonModel
    from abm.network import FarmerNetwork

#: Environment variable that switches reuse off when set to ``0`` (or ``false``, ``no``, ``off``).
ENV_VAR = "ABM_WORLD_REUSE"
#: Entries kept per cache (least recently used dropped first).
MAX_ENTRIES = 8
#: Bytes of arrays kept per cache; a larger world is built, not cached.
MAX_BYTES = 128 * 2**20

BEHAVIOUR_READS: tuple[str, ...] = (
    "n_farms",
    "start_year",
    "landscape",
    "network",
    "farmer",
    "practices",
    "manure",
    "biomass",
    "soil.saturation",  # the farms' saturation capacity is drawn with the landscape
    "advice.trust_mean",
    "advice.prior_rel_sd",
    "advice.knowledge_gain",
    "advice.ngo_capacity_share",
    "advice.scientist_capacity_share",
    "advice.cost_per_advice_eur",
    "policy.buffer_share",  # carried by the no-policy instruments
    "policy.uncertainty_deduction",
    "policy:n_subsidy_tiers",  # derived: the no-policy instruments' shape
)
"""What the landscape, network, scientists' prior and behavioural burn-in read (the first
stage: the farms, the network, the database and the intercepts after the burn-in)."""

SOIL_READS: tuple[str, ...] = (*BEHAVIOUR_READS, "soil", "climate", "end_year")
"""What the soil spin-up reads: the first stage's key (it starts from the burn-in's practice
use), the soil options, and the climate normals and weather noise of the start year (the whole
climate stage, ``end_year`` included, to be conservative)."""

EFFECT_RATE_READS: tuple[str, ...] = ("practices", "biomass", "manure", "landscape.zone_shares")
"""What :func:`abm.landscape.practice_effect_rates` reads (no seed: no randomness)."""


def _n_subsidy_tiers(flat: Mapping[str, Any]) -> int:
    """Length of :func:`abm.agents.government.policy_tiers` (its values are not read)."""
    return len(flat["policy.subsidy_tiers_eur_per_ha"] or [None])


DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "policy:n_subsidy_tiers": _n_subsidy_tiers
}
"""Key entries computed from the parameters (``section:name``), and what they cover."""

DERIVED_COVERS: dict[str, tuple[str, ...]] = {
    "policy:n_subsidy_tiers": ("policy.subsidy_tiers_eur_per_ha", "policy.subsidy_eur_per_ha")
}
"""Parameters a derived entry stands for: read, but only through the derived value."""

_override: bool | None = None


def set_reuse(enabled: bool | None) -> None:
    """Switch world reuse on or off in this process (``None``: back to :data:`ENV_VAR`)."""
    global _override
    _override = enabled
    if enabled is False:
        clear()


def reuse_enabled() -> bool:
    """Whether world reuse is on: :func:`set_reuse`, else :data:`ENV_VAR` (default on)."""
    if _override is not None:
        return _override
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def covered(path: str, reads: tuple[str, ...]) -> bool:
    """Whether parameter ``path`` is in a key made of ``reads`` (a path or a section of it)."""
    for entry in reads:
        if entry in DERIVED:
            if path in DERIVED_COVERS[entry]:
                return True
        elif path == entry or path.startswith(entry + "."):
            return True
    return False


def stage_key(flat: Mapping[str, Any], seed: int | None, reads: tuple[str, ...]) -> str:
    """The cache key: the seed and the values of the parameters in ``reads``, exactly.

    Values are JSON with ``repr`` floats, so ``0.1`` and ``0.1000000001`` (or ``0.0`` and
    ``-0.0``) are different keys.
    """
    plain = tuple(entry for entry in reads if entry not in DERIVED)
    chosen: dict[str, Any] = {k: v for k, v in flat.items() if covered(k, plain)}
    for entry in reads:
        if entry in DERIVED:
            chosen[entry] = DERIVED[entry](flat)
    return json.dumps([seed, chosen], sort_keys=True, default=repr)


class _LRU:
    """A few entries, least recently used dropped first, bounded in entries and bytes."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()  # a Dask worker may run several threads
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(key)
            return item[0]

    def fits(self, nbytes: int) -> bool:
        """Whether an entry of ``nbytes`` may be kept (checked before copying it)."""
        return nbytes <= self.max_bytes

    def put(self, key: str, value: Any, nbytes: int) -> None:
        if not self.fits(nbytes):
            return
        with self._lock:
            self._items[key] = (value, nbytes)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries or self.nbytes > self.max_bytes:
                self._items.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(n for _, n in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


_BEHAVIOUR = _LRU()
_SOIL = _LRU()
_EFFECT_RATES = _LRU(max_entries=16)


def clear() -> None:
    """Empty every cache of this process."""
    for cache in (_BEHAVIOUR, _SOIL, _EFFECT_RATES):
        cache.clear()


def stats() -> dict[str, dict[str, int]]:
    """Hits, misses, entries and bytes of each cache in this process (for benchmarks)."""
    return {
        name: {"hits": c.hits, "misses": c.misses, "entries": len(c), "bytes": c.nbytes}
        for name, c in (("behaviour", _BEHAVIOUR), ("soil", _SOIL), ("effect_rates", _EFFECT_RATES))
    }


def _nbytes(obj: Any) -> int:
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(_nbytes(getattr(obj, k)) for k in obj.__dataclass_fields__)
    if hasattr(obj, "data") and hasattr(obj, "indices"):  # scipy sparse
        return int(obj.data.nbytes + obj.indices.nbytes + obj.indptr.nbytes)
    if isinstance(obj, tuple | list):
        return sum(_nbytes(x) for x in obj)
    return 64


@dataclass(frozen=True)
class BehaviourState:
    """The first stage's result: the world after the behavioural burn-in."""

    farms: Farms
    network: FarmerNetwork
    rate_mean: np.ndarray
    rate_sd: np.ndarray
    farm_rate_var: float
    alpha: np.ndarray
    gamma: np.ndarray
    norm: np.ndarray
    streams: tuple[Mapping[str, Any] | None, ...]
    """Bit-generator state of each of the model's 9 streams after the stage (None: climate)."""


#: Index of the climate stream in the model's 9 spawned streams (drawn afresh every run).
CLIMATE_STREAM = 2


class Reuse:
    """The world-reuse caches as one model build sees them (keys computed once).

    ``SoilCarbonModel.__init__`` asks :meth:`behaviour` and :meth:`soil` for a stage's saved
    result (``None``: build it, then :meth:`save_behaviour` / :meth:`save_soil`).
    ``enabled=False`` (the model passes it for subclasses, which may build the world
    differently) bypasses the caches whatever the switch says.
    """

    def __init__(self, params: Params, seed: int, *, enabled: bool = True) -> None:
        self.enabled = enabled and reuse_enabled()
        if not self.enabled:
            return
        flat = flatten(params)
        self._k_behaviour = stage_key(flat, seed, BEHAVIOUR_READS)
        self._k_soil = stage_key(flat, seed, SOIL_READS)
        self._k_rates = stage_key(flat, None, EFFECT_RATE_READS)

    # -- the first stage: landscape, network, prior, burn-in ------------------------------
    def behaviour(self) -> BehaviourState | None:
        """The saved first stage of this seed and these parameters, or None."""
        return _BEHAVIOUR.get(self._k_behaviour) if self.enabled else None

    def save_behaviour(self, model: SoilCarbonModel, streams: list[np.random.Generator]) -> None:
        """Save the first stage's result (a copy) once the burn-in is done."""
        nbytes = _nbytes(model.farms) + _nbytes(model.network.weights) + _nbytes(model.norm)
        if not self.enabled or not _BEHAVIOUR.fits(nbytes):
            return
        state = BehaviourState(
            farms=copy.deepcopy(model.farms),
            network=copy.deepcopy(model.network),
            rate_mean=model.rate_mean.copy(),
            rate_sd=model.rate_sd.copy(),
            farm_rate_var=model.farm_rate_var,
            alpha=model.alpha.copy(),
            gamma=model.gamma.copy(),
            norm=model.norm.copy(),
            streams=tuple(
                None if i == CLIMATE_STREAM else copy.deepcopy(g.bit_generator.state)
                for i, g in enumerate(streams)
            ),
        )
        _BEHAVIOUR.put(self._k_behaviour, state, nbytes)

    @staticmethod
    def restore_streams(state: BehaviourState, streams: list[np.random.Generator]) -> None:
        """Put every stream the first stage drew from in its state after that stage."""
        for g, saved in zip(streams, state.streams, strict=True):
            if saved is not None:
                g.bit_generator.state = copy.deepcopy(saved)

    # -- the second stage: the soil spin-up ------------------------------------------------
    def soil(self) -> Farms | None:
        """The farms after the spin-up for this seed and these parameters (a copy), or None."""
        if not self.enabled:
            return None
        farms = _SOIL.get(self._k_soil)
        return None if farms is None else copy.deepcopy(farms)

    def save_soil(self, farms: Farms) -> None:
        """Save the farms after the spin-up (a copy)."""
        nbytes = _nbytes(farms)
        if self.enabled and _SOIL.fits(nbytes):
            _SOIL.put(self._k_soil, copy.deepcopy(farms), nbytes)

    # -- seed-free: the practices' effect rates (the scientists' truth) --------------------
    def effect_rates(self, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """:func:`abm.landscape.practice_effect_rates` for these parameters (a copy)."""
        if not self.enabled:
            return compute()
        rates = _EFFECT_RATES.get(self._k_rates)
        if rates is None:
            rates = compute()
            _EFFECT_RATES.put(self._k_rates, rates.copy(), int(rates.nbytes))
        return np.array(rates, copy=True)


def restore_behaviour(model: SoilCarbonModel, state: BehaviourState) -> None:
    """Set the model's first-stage attributes from a saved state (copies)."""
    model.farms = copy.deepcopy(state.farms)
    model.network = copy.deepcopy(state.network)
    model.rate_mean = state.rate_mean.copy()
    model.rate_sd = state.rate_sd.copy()
    model.farm_rate_var = state.farm_rate_var
    model.alpha = state.alpha.copy()
    model.gamma = state.gamma.copy()
    model.norm = state.norm.copy()
