"""World reuse (abm.world): never a different result, keys that cover what each stage reads,
bounded caches, the switch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

import abm.model as model_module
from abm import world
from abm.agents import NGO, AgriFoodBusiness, Farmer, Government, Scientist
from abm.run import RunResult, run_model
from abm.scenario import resolve_params


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    world.set_reuse(None)
    world.clear()
    yield
    world.set_reuse(None)
    world.clear()


def _run(scenario: str | None, seed: int, **over: Any) -> RunResult:
    params = resolve_params(scenario, {"n_farms": 60, "end_year": 2030, **over})
    return run_model(params, seed=seed)


def _assert_same(a: RunResult, b: RunResult) -> None:
    for name in ("timeseries", "ledger", "zones"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.kpis.keys() == b.kpis.keys()
    np.testing.assert_array_equal(list(a.kpis.values()), list(b.kpis.values()))


# a run that shares the first stage, the soil stage or nothing with the run before it
CASES: list[tuple[str | None, dict[str, Any]]] = [
    ("baseline", {}),
    ("advice", {}),  # levers the world does not read: everything reused
    ("carbon_payment", {}),  # buffer and deduction shares: the burn-in is rebuilt
    ("subsidy", {}),  # three tiers: the no-policy instruments have another shape
    ("baseline", {"climate.warming_c_per_yr": 0.04}),  # soil stage rebuilt, burn-in reused
    ("baseline", {"soil.saturation": "hassink"}),
    ("baseline", {"farmer.w_economic": 2.5}),  # behaviour
    ("baseline", {"practices.cover_crops.annual_cost_eur_per_ha": 120.0}),  # economics
    ("technical_potential", {}),
    ("baseline", {"soil.model": "icbm"}),
    ("baseline", {"farmer.burn_in_yr": 0}),
]


def test_a_run_after_cached_runs_equals_a_fresh_run() -> None:
    world.set_reuse(False)
    fresh = {(i, s): _run(sc, s, **o) for s in (3, 4) for i, (sc, o) in enumerate(CASES)}
    world.set_reuse(True)
    for s in (3, 4):
        for i, (sc, over) in enumerate(CASES):
            _assert_same(_run(sc, s, **over), fresh[(i, s)])
    # the same runs again, now from the cache, then mutated models do not leak into it
    for i, (sc, over) in enumerate(CASES[:4]):
        m = model_module.SoilCarbonModel(
            resolve_params(sc, {"n_farms": 60, "end_year": 2030, **over}), seed=3
        )
        m.farms.pools *= 2.0
        m.farms.adopted[:] = True
        m.rate_mean += 1.0
        _assert_same(_run(sc, 3, **over), fresh[(i, 3)])
    stats = world.stats()
    assert stats["behaviour"]["hits"] >= 10 and stats["soil"]["hits"] >= 6


def test_restored_streams_continue_as_after_a_fresh_build() -> None:
    p = resolve_params(None, {"n_farms": 50, "end_year": 2022})
    world.set_reuse(False)
    a = model_module.SoilCarbonModel(p, seed=11)
    world.set_reuse(True)
    model_module.SoilCarbonModel(p, seed=11)
    b = model_module.SoilCarbonModel(p, seed=11)  # from the cache
    assert world.stats()["behaviour"]["hits"] == 1
    for name in ("rng_behaviour", "rng_mrv", "rng_inspection", "rng_market", "rng_advice"):
        np.testing.assert_array_equal(getattr(a, name).random(5), getattr(b, name).random(5))


def test_caches_are_bounded() -> None:
    p = resolve_params(None, {"n_farms": 30, "end_year": 2021})
    for seed in range(3 * world.MAX_ENTRIES):
        model_module.SoilCarbonModel(p, seed=seed)
    stats = world.stats()
    assert stats["behaviour"]["entries"] == world.MAX_ENTRIES
    assert stats["soil"]["entries"] == world.MAX_ENTRIES
    assert stats["behaviour"]["misses"] == 3 * world.MAX_ENTRIES
    lru = world._LRU(max_entries=10, max_bytes=100)
    for k in range(5):
        lru.put(str(k), k, 40)
    assert len(lru) == 2 and lru.get("4") == 4 and lru.get("0") is None
    lru.put("big", 0, 101)
    assert lru.get("big") is None


def test_a_world_over_the_byte_bound_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    for cache in (world._BEHAVIOUR, world._SOIL):
        monkeypatch.setattr(cache, "max_bytes", 1000)
    p = resolve_params(None, {"n_farms": 30, "end_year": 2021})
    model_module.SoilCarbonModel(p, seed=1)
    model_module.SoilCarbonModel(p, seed=1)
    stats = world.stats()
    assert stats["behaviour"]["entries"] == stats["soil"]["entries"] == 0
    assert stats["behaviour"]["misses"] == 2


def test_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, on in (("0", False), ("off", False), ("1", True), ("", True)):
        monkeypatch.setenv(world.ENV_VAR, value)
        assert world.reuse_enabled() is on
    monkeypatch.setenv(world.ENV_VAR, "0")
    p = resolve_params(None, {"n_farms": 30, "end_year": 2021})
    model_module.SoilCarbonModel(p, seed=1)
    model_module.SoilCarbonModel(p, seed=1)
    assert world.stats()["behaviour"] == {"hits": 0, "misses": 0, "entries": 0, "bytes": 0}
    world.set_reuse(True)
    assert world.reuse_enabled()


def test_keys_differ_exactly_where_the_read_parameters_differ() -> None:
    def key(reads: tuple[str, ...], seed: int = 1, **over: Any) -> str:
        flat = world.flatten(resolve_params(None, over))
        return world.stage_key(flat, seed, reads)

    b, s = world.BEHAVIOUR_READS, world.SOIL_READS
    assert key(b) == key(b, **{"policy.carbon_price_eur_per_tco2e": 80.0})
    assert key(b) == key(b, **{"policy.subsidy_eur_per_ha": 80.0})  # one tier either way
    assert key(b) != key(b, **{"policy.subsidy_tiers_eur_per_ha": [1.0, 2.0]})
    assert key(b) != key(b, seed=2)
    assert key(b) != key(b, **{"farmer.w_norm": 3.0000000001})
    assert key(b) == key(b, **{"climate.warming_c_per_yr": 0.04})
    assert key(s) != key(s, **{"climate.warming_c_per_yr": 0.04})


# -- every parameter a stage reads is in its key ----------------------------------------------


class _Recorder:
    """A read-only view of the parameters that records every leaf read, by phase."""

    phase: ClassVar[list[str]] = ["behaviour"]
    reads: ClassVar[dict[str, set[str]]] = {}

    def __init__(self, obj: BaseModel, prefix: str = "") -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._obj, name)
        path = self._prefix + name
        if isinstance(value, BaseModel):
            return _Recorder(value, path + ".")
        _Recorder.reads.setdefault(_Recorder.phase[-1], set()).add(path)
        return value


def _in_phase(phase: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _Recorder.phase.append(phase)
        try:
            return func(*args, **kwargs)
        finally:
            _Recorder.phase.pop()

    return wrapped


def _reads_by_phase(monkeypatch: pytest.MonkeyPatch, scenario: str | None, over: dict) -> dict:
    """Build a model on recorded parameters; phases: behaviour (from the start to the end of
    the burn-in), climate, agents (not cached), soil (the spin-up), after (not cached)."""
    p = resolve_params(scenario, {"n_farms": 80, **over})
    _Recorder.reads, _Recorder.phase = {}, ["behaviour"]
    world.set_reuse(False)
    cls = model_module.SoilCarbonModel
    monkeypatch.setattr(model_module, "as_params", lambda x: x)
    monkeypatch.setattr(cls, "_climate", _in_phase("climate", cls._climate))
    monkeypatch.setattr(cls, "_saturation", _in_phase("saturation", cls._saturation))
    for agent in (Government, NGO, Scientist, Farmer, AgriFoodBusiness):
        monkeypatch.setattr(agent, "__init__", _in_phase("agents", agent.__init__))
    monkeypatch.setattr(model_module, "equilibrate", _in_phase("soil", model_module.equilibrate))
    rates = model_module.practice_effect_rates
    monkeypatch.setattr(model_module, "practice_effect_rates", _in_phase("rates", rates))
    burn_in = cls._calibrate_behaviour

    def calibrate(self: Any) -> None:
        burn_in(self)
        _Recorder.phase[-1] = "after"

    monkeypatch.setattr(cls, "_calibrate_behaviour", calibrate)
    cls(_Recorder(p), seed=5)  # type: ignore[arg-type]
    return _Recorder.reads


READ_CASES = [
    (None, {}),
    ("carbon_payment", {}),
    ("subsidy", {}),
    ("policy_mix", {}),
    ("advice", {}),
    ("regulation", {}),
    ("market_premium", {}),
    ("technical_potential", {}),
    (None, {"soil.saturation": "georgiou"}),
    (None, {"soil.model": "icbm"}),
    (None, {"farmer.burn_in_yr": 0, "farmer.risk_aversion_mean": 0.0}),
]


@pytest.mark.parametrize(("scenario", "over"), READ_CASES)
def test_every_parameter_a_stage_reads_is_in_its_key(
    monkeypatch: pytest.MonkeyPatch, scenario: str | None, over: dict
) -> None:
    reads = _reads_by_phase(monkeypatch, scenario, over)
    assert len(reads["behaviour"]) > 50 and reads["soil"]  # the recorder saw the stages
    # the first stage: everything before and in the burn-in, except the climate (its own
    # stream, drawn afresh) and the agents (built afresh: the burn-in does not step
    # governments or businesses, and NGOs do not ask governments while burning in)
    missing = {
        p
        for p in reads["behaviour"] | reads["rates"]
        if not world.covered(p, world.BEHAVIOUR_READS)
    }
    assert not missing, f"the first stage reads {sorted(missing)}, not in BEHAVIOUR_READS"
    # the spin-up: its own reads, the normals (climate) and the saturation it is handed
    soil = reads["soil"] | reads["climate"] | reads.get("saturation", set())
    missing = {p for p in soil if not world.covered(p, world.SOIL_READS)}
    assert not missing, f"the spin-up reads {sorted(missing)}, not in SOIL_READS"
    missing = {p for p in reads["rates"] if not world.covered(p, world.EFFECT_RATE_READS)}
    assert not missing, f"practice_effect_rates reads {sorted(missing)}"


def test_subclasses_do_not_share_the_cache() -> None:
    class Other(model_module.SoilCarbonModel):
        pass

    p = resolve_params(None, {"n_farms": 30, "end_year": 2021})
    model_module.SoilCarbonModel(p, seed=1)
    Other(p, seed=1)
    Other(p, seed=1)
    assert world.stats()["behaviour"]["hits"] == 0
