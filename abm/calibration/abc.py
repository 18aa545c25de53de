"""The pieces pyabc's ABC-SMC needs: priors, the simulator, the distance, and a sampler on the
project's executors with a hard bound on model runs.

Nothing here is an ABC algorithm: :class:`pyabc.ABCSMC` proposes, weights, adapts the
threshold and stores its history; this module supplies

* :func:`make_prior`: ``[design.parameters]`` as a :class:`pyabc.Distribution`;
* :class:`Simulator`: parameters → the model's series at the targets' years (one model run);
* :class:`Distance`: root mean square of the per-target relative errors, each target
  normalised by its mean observed value and weighted equally whatever its number of years;
* :class:`ExecutorSampler`: pyabc's ``simulate_one`` (propose, simulate, accept) on the
  batch executors (local processes, Dask). Evaluation ``i`` of generation ``t`` runs with its
  own seed ``SeedSequence([root, t + 1, i])`` wherever it runs, and a generation keeps the
  first ``n`` accepted evaluations *in index order*: the posterior is the same for any number
  of workers. No evaluation starts once the budget (``--max-simulations``) is spent — inside a
  generation too; the generation is then incomplete and pyabc stops at the previous one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from abm.batch.schema import ParamDist

#: Tag of the evaluation seeds ("ABCS").
EVAL_TAG = 0x41424353
#: Initial threshold: every prior draw is accepted in generation 0, a failed run is not.
INITIAL_EPSILON = 1e12


def make_prior(priors: Mapping[str, ParamDist]) -> Any:
    """``[design.parameters]`` as a pyabc ``Distribution`` (scipy.stats random variables)."""
    import pyabc

    rvs = {}
    for path, dist in priors.items():
        kind = dist.kind
        if kind == "uniform":
            assert dist.low is not None and dist.high is not None
            rv = pyabc.RV("uniform", dist.low, dist.high - dist.low)
        elif kind == "triangular":
            lo, mode, hi = dist.low or 0.0, dist.mode or 0.0, dist.high or 0.0
            rv = pyabc.RV("triang", (mode - lo) / (hi - lo), lo, hi - lo)
        elif kind == "normal":
            mean, sd = dist.mean or 0.0, dist.sd or 1.0
            if dist.low is None and dist.high is None:
                rv = pyabc.RV("norm", mean, sd)
            else:
                a = -math.inf if dist.low is None else (dist.low - mean) / sd
                b = math.inf if dist.high is None else (dist.high - mean) / sd
                rv = pyabc.RV("truncnorm", a, b, mean, sd)
        else:  # lognormal
            rv = pyabc.RV("lognorm", dist.sigma, 0.0, math.exp(dist.mu or 0.0))
        rvs[path] = rv
    return pyabc.Distribution(**rvs)


def prior_quantiles(dist: ParamDist, qs: tuple[float, ...]) -> list[float]:
    """Quantiles of a prior (for the shrinkage figure and the summary)."""
    rv = make_prior({"x": dist})["x"]
    return [float(rv.distribution.ppf(q)) for q in qs]


def eval_seed(root: int, t: int, i: int) -> int:
    """Seed of evaluation ``i`` of generation ``t`` (t = -1 for a calibration sample)."""
    state = np.random.SeedSequence([EVAL_TAG, root, t + 1, i]).generate_state(1)[0]
    return int(state)


@dataclass(frozen=True)
class Simulator:
    """One model run → ``{target name: values at its years}`` (picklable; runs in workers).

    ``fixed`` are the run's overrides (``[base]``, the scenario's ``set``, ``--set``), the
    parameters are added on top; integer paths are rounded. The run's seed is drawn from
    NumPy's global generator, which the sampler seeds per evaluation. A failed run gives NaN,
    which the distance turns into ``inf`` (rejected).
    """

    model: str
    scenario: str
    scenario_from: str | None
    fixed: Mapping[str, Any]
    outputs: tuple[tuple[str, str, tuple[int, ...]], ...]  # (name, column, years)
    int_paths: frozenset[str] = frozenset()
    sys_path: tuple[str, ...] = ()

    def overrides(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(self.fixed)
        for key, value in params.items():
            value = float(value)
            out[key] = round(value) if key in self.int_paths else value
        return out

    def series(self, params: Mapping[str, Any], seed: int) -> dict[str, np.ndarray]:
        """The targets' series for one run (NaN where the run failed or lacks a year)."""
        from abm.batch.worker import Task, resolve_model

        task = Task(
            run_id="calibration",
            scenario=self.scenario,
            scenario_from=self.scenario_from,
            design_point=0,
            replicate=0,
            seed=seed,
            overrides=self.overrides(params),
            model=self.model,
            sys_path=self.sys_path,
        )
        try:
            result = resolve_model(self.model)(task)
            ts = result.timeseries.set_index("year")
            return {
                name: ts[col].reindex(list(years)).to_numpy(dtype=float)
                for name, col, years in self.outputs
            }
        except Exception:  # a failed run is a rejected particle, not a failed calibration
            return {name: np.full(len(years), np.nan) for name, _, years in self.outputs}

    def __call__(self, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        seed = int(np.random.randint(0, 2**62))  # noqa: NPY002 (pyabc draws from it)
        return self.series(params, seed)


@dataclass(frozen=True)
class Distance:
    """RMS over targets of each target's RMS relative error (NaN → ``inf``)."""

    norms: Mapping[str, float]

    def __call__(self, x: Mapping[str, Any], x0: Mapping[str, Any]) -> float:
        parts = []
        for name, norm in self.norms.items():
            sim = np.asarray(x[name], dtype=float)
            obs = np.asarray(x0[name], dtype=float)
            if sim.shape != obs.shape or not np.all(np.isfinite(sim)):
                return math.inf
            parts.append(float(np.mean(((sim - obs) / norm) ** 2)))
        return math.sqrt(float(np.mean(parts)))


@dataclass
class Budget:
    """Model runs allowed and used (``--max-simulations``)."""

    total: int
    used: int = 0
    on_run: Callable[[], None] | None = None

    @property
    def left(self) -> int:
        return max(0, self.total - self.used)


_CACHE: dict[str, Callable[[], Any]] = {}


def evaluate(job: tuple[bytes, str, int, int]) -> tuple[int, Any]:
    """Worker side: ``(pickled simulate_one, its digest, seed, index)`` → ``(index, particle)``."""
    import cloudpickle

    blob, digest, seed, index = job
    fn = _CACHE.get(digest)
    if fn is None:
        _CACHE.clear()
        fn = _CACHE[digest] = cloudpickle.loads(blob)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (pyabc's proposals use it)
    return index, fn()


def _sampler_base() -> type:
    from pyabc.sampler import Sampler

    return Sampler


class ExecutorSampler(_sampler_base()):  # type: ignore[misc]
    """A pyabc sampler on an :mod:`abm.batch.executors` executor (see the module docstring)."""

    def __init__(self, executor: Any, root_seed: int, budget: Budget) -> None:
        super().__init__()
        self.executor = executor
        self.root_seed = root_seed
        self.budget = budget
        self.exhausted = False

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        import cloudpickle

        blob = cloudpickle.dumps(simulate_one)
        digest = hashlib.sha256(blob).hexdigest()
        state = _Round(n=n)
        limit = min(max_eval, self.budget.left)

        def jobs() -> Iterator[tuple[bytes, str, int, int]]:
            i = 0
            while state.accepted < n and i < limit:
                self.budget.used += 1
                yield blob, digest, eval_seed(self.root_seed, t, i), i
                i += 1

        for _job, result in self.executor.imap_unordered(evaluate, jobs()):
            if self.budget.on_run is not None:
                self.budget.on_run()
            if isinstance(result, BaseException):
                continue  # infrastructure failure (dead worker): counted, no particle
            index, particle = result
            state.particles[index] = particle
            state.accepted += bool(particle.accepted)
        return self._sample(state, n)

    def _sample(self, state: _Round, n: int) -> Any:
        sample = self._create_empty_sample()
        accepted = 0
        last = -1
        for index in sorted(state.particles):
            if accepted >= n:
                break
            particle = state.particles[index]
            sample.append(particle)
            accepted += bool(particle.accepted)
            last = index
        self.nr_evaluations_ = last + 1
        if accepted < n:
            sample.ok = False
            self.exhausted = True
        return sample


@dataclass
class _Round:
    n: int
    accepted: int = 0
    particles: dict[int, Any] = field(default_factory=dict)
