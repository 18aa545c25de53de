"""The farmer decision rule: a pure, vectorised function of arrays (no Mesa).

Design (SCIENCE.md §6): a Theory-of-Planned-Behaviour intention combined with an economic logit
shift, as a yearly hazard per farmer ``i`` and practice ``p``.

Non-adopter (adoption hazard)::

    V = alpha_p + w_economic * knowledge * NB_new / 100  # net benefit EUR/ha/yr, as far as known
          + w_attitude * (attitude - 0.5)              # TPB attitude
          + w_norm * norm                              # TPB subjective norm: adopting peers
          + w_control * (knowledge - complexity_p)     # TPB perceived behavioural control
          - risk_aversion * sd / 100                   # risk against uncertain returns
          - w_load * n_used                            # practices in use (0 by default)
          + duty_p                                     # obeying a mandate (or ban, negative)
    P(adopt) = logistic(V)

Adopter (dis-adoption hazard)::

    W = gamma_p + w_economic * NB_keep / 100 + w_attitude * (attitude - 0.5) + w_norm * norm
          + w_habit * min(years, 10) / 10 + duty_p
    P(drop) = floor_p + (1 - floor_p) * logistic(-W)

``floor_p`` (``farmer.churn_floor_share`` × the observed dis-adoption rate) is churn from shocks
no payment prevents — rotations, land tenure, weather: observed programmes keep large churn
(ERS EIB-222: cover crops kept 3-4 yr of 4 on only 19-32 % of acres; 21 % of US no-till acres
in continuous no-till 2012-17), so dis-adoption under payments does not fall to zero.

Perceived control enters the intention to adopt only: once a farmer uses a practice, habit
(years of use) stands for it.

``NB_new`` includes the annualised establishment cost (the switching cost); ``NB_keep`` does not.
A non-adopter weighs the economics only as far as it knows the practice (``knowledge`` 0–1):
relative advantage sets how far adoption can go, learnability how fast (ADOPT, Kuehne et al.
2017), and knowledge spreads from adopting peers and advisers — the source of S-shaped
diffusion under a constant incentive (Ryan & Gross 1943: ~5 yr from first hearing to adoption).
The decision is whether to use a practice at all; how much of the farm it covers grows from a
trial on part of it (:meth:`abm.model.SoilCarbonModel.grow_area`).

Persistent heterogeneity: ``NB`` includes the farm's own net-cost deviation drawn once
(:func:`abm.landscape.build_farms`), so farms differ lastingly in what they would accept.
The intercepts ``alpha_p`` and ``gamma_p`` are not free parameters: :func:`calibrate_intercepts`
sets them at the start so that, with no new policy, the mean drop hazard of adopters equals the
observed yearly dis-adoption rate and expected entries equal expected exits at the initial
shares (a stationary baseline, as discrete-choice models calibrate alternative-specific constants
to observed shares). Policies then move ``NB``; peers (``norm``) and learning (``knowledge``) make
diffusion S-shaped; when payments stop ``NB_keep`` falls and farmers dis-adopt.

References
----------
Kaufmann, Stagl & Franks (2009) Ecol. Econ. 68:2580, doi:10.1016/j.ecolecon.2009.04.001.
Kuehne et al. (2017) Agric. Syst. 156:115 (ADOPT), doi:10.1016/j.agsy.2017.06.007.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abm import kernels_model
from abm.soil import kernels

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Weights:
    """Decision weights (units in :class:`abm.scenario.Farmer`)."""

    w_economic: float
    w_attitude: float
    w_norm: float
    w_control: float
    w_habit: float
    w_load: float


def logistic(x: FloatArray) -> FloatArray:
    """Numerically stable logistic function."""
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))
    return out


def adoption_utility(
    nb_new: FloatArray,
    sd: FloatArray,
    attitude: FloatArray,
    norm: FloatArray,
    knowledge: FloatArray,
    complexity: FloatArray,
    risk_aversion: FloatArray,
    n_used: FloatArray,
    duty: FloatArray,
    w: Weights,
) -> FloatArray:
    """Utility of adopting, without the intercept; shapes broadcast to (N, P).

    ``w_economic·knowledge·NB/100 + w_attitude·(attitude − 0.5) + w_norm·norm
    + w_control·(knowledge − complexity) − risk_aversion·sd/100 − w_load·n_used + duty``,
    fused in that order (:func:`abm.kernels_model.adoption_utility`).
    """
    shape = np.broadcast_shapes(np.shape(nb_new), np.shape(sd), np.shape(norm))
    cells = tuple(np.broadcast_to(x, shape) for x in (nb_new, sd, norm, knowledge))
    farms = tuple(np.broadcast_to(x, shape[:1]) for x in (attitude, risk_aversion, n_used))
    practices = tuple(np.broadcast_to(x, shape[1:]) for x in (complexity, duty))
    weights = (w.w_economic, w.w_attitude, w.w_norm, w.w_control, w.w_load)
    out: FloatArray = kernels_model.adoption_utility(cells, farms, practices, weights)
    return out


def retention_utility(
    nb_keep: FloatArray,
    attitude: FloatArray,
    norm: FloatArray,
    years: FloatArray,
    duty: FloatArray,
    w: Weights,
) -> FloatArray:
    """Utility of keeping a practice, without the intercept; shapes broadcast to (N, P).

    ``w_economic·NB/100 + w_attitude·(attitude − 0.5) + w_norm·norm
    + w_habit·min(years, 10)/10 + duty``, fused in that order
    (:func:`abm.kernels_model.retention_utility`).
    """
    capped = np.minimum(years, 10.0)
    shape = np.broadcast_shapes(np.shape(nb_keep), np.shape(norm), capped.shape)
    cells = [np.broadcast_to(x, shape) for x in (nb_keep, norm, capped)]
    out: FloatArray = kernels_model.retention_utility(
        cells[0],
        np.broadcast_to(attitude, shape[:1]),
        cells[1],
        cells[2],
        np.broadcast_to(duty, shape[1:]),
        (w.w_economic, w.w_attitude, w.w_norm, w.w_habit),
    )
    return out


@dataclass
class Decision:
    """Outcome of one year's decisions, all (N, P)."""

    adopted: BoolArray
    adopt: BoolArray
    drop: BoolArray
    p_adopt: FloatArray
    p_drop: FloatArray


def decide(
    adopted: BoolArray,
    eligible: BoolArray,
    u_adopt: FloatArray,
    u_keep: FloatArray,
    alpha: FloatArray,
    gamma: FloatArray,
    uniforms: FloatArray,
    floor: FloatArray | None = None,
) -> Decision:
    """Apply the yearly hazards with pre-drawn uniforms (so a per-agent loop can match it).

    Parameters
    ----------
    adopted, eligible
        (N, P) current practice use and applicability.
    u_adopt, u_keep
        (N, P) utilities from :func:`adoption_utility` / :func:`retention_utility`.
    alpha, gamma
        (P,) intercepts from :func:`calibrate_intercepts`.
    uniforms
        (N, P) uniform(0, 1) draws from the model's behaviour generator.
    floor
        (P,) yearly drop probability no utility removes (default 0).
    """
    p_adopt = logistic(alpha[None, :] + u_adopt)
    p_drop = logistic(-(gamma[None, :] + u_keep))
    if floor is not None:
        p_drop = floor[None, :] + (1.0 - floor[None, :]) * p_drop
    adopt = ~adopted & eligible & (uniforms < p_adopt)
    drop = adopted & (uniforms < p_drop)
    new = (adopted & ~drop) | adopt
    return Decision(adopted=new, adopt=adopt, drop=drop, p_adopt=p_adopt, p_drop=p_drop)


def decide_one(
    adopted: bool,
    eligible: bool,
    u_adopt: float,
    u_keep: float,
    alpha: float,
    gamma: float,
    uniform: float,
    floor: float = 0.0,
) -> bool:
    """Scalar twin of :func:`decide` for one farmer and practice (the per-agent reference)."""
    if adopted:
        p_drop = floor + (1.0 - floor) * 0.5 * (1.0 + math.tanh(-0.5 * (gamma + u_keep)))
        return not uniform < p_drop
    if not eligible:
        return False
    p_adopt = 0.5 * (1.0 + math.tanh(0.5 * (alpha + u_adopt)))
    return uniform < p_adopt


def _solve_intercepts(
    z: FloatArray, mask: BoolArray, target: FloatArray, start: FloatArray | None = None
) -> FloatArray:
    """Per column ``p``: the c with mean over ``mask[:, p]`` of logistic(c + z) == target.

    All columns at once: halvings of a bracket (monotone in c) — [-60, 60], or ``start`` ± 2
    when that brackets every root (a warm start) — then Newton steps kept inside the bracket;
    0 for a column with no row in the mask.
    """
    n = mask.sum(axis=0)
    # Only the rows in the mask count: their z, column by column, end to end. Column sums in
    # numpy's order over the rows (kernels.segment_sums) equal the former (N, P) sums of
    # logistic·mask/n to the last bit, without touching the rows outside the mask.
    zc = z.T[mask.T]
    counts = n.astype(np.int64)
    bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
    w = np.repeat(1.0 / np.maximum(n, 1), counts)

    def mean(c: FloatArray) -> FloatArray:
        return kernels.segment_sums(logistic(np.repeat(c, counts) + zc) * w, bounds)

    halvings = 12
    lo = np.full(z.shape[1], -60.0)
    hi = np.full(z.shape[1], 60.0)
    if start is not None:
        lo_w, hi_w = start - 2.0, start + 2.0
        ok = ((mean(lo_w) <= target) & (mean(hi_w) >= target)) | (n == 0)
        if ok.all():
            lo, hi, halvings = lo_w, hi_w, 4
    for _ in range(halvings):
        mid = 0.5 * (lo + hi)
        below = mean(mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    c = 0.5 * (lo + hi)
    for _ in range(5):  # safeguarded Newton steps inside the bracket
        q = logistic(np.repeat(c, counts) + zc)
        f = kernels.segment_sums(q * w, bounds) - target
        slope = kernels.segment_sums(q * (1.0 - q) * w, bounds)
        step = np.divide(f, slope, out=np.zeros_like(f), where=slope > 0)
        c = np.clip(c - step, lo, hi)
    result: FloatArray = np.where(n > 0, c, 0.0)
    return result


def calibrate_intercepts(
    adopted: BoolArray,
    eligible: BoolArray,
    u_adopt: FloatArray,
    u_keep: FloatArray,
    initial_share: FloatArray,
    disadoption_rate: FloatArray,
    *,
    floor: FloatArray | None = None,
    current_share: FloatArray | None = None,
    pull: float = 0.5,
    start: tuple[FloatArray, FloatArray] | None = None,
    min_entry_rate: float = 1e-4,
) -> tuple[FloatArray, FloatArray]:
    """Intercepts making the no-new-policy start stationary.

    ``gamma_p``: mean drop hazard over current adopters of ``p`` equals
    ``disadoption_rate_p`` (with a churn ``floor``, the utility part is solved for
    ``(d − floor)/(1 − floor)``). ``alpha_p``: mean adoption hazard over eligible
    non-adopters equals the entry rate that balances exits, ``d·s/(1−s)`` (floored at
    ``min_entry_rate`` so a practice nobody uses yet, such as biochar, can still start).
    With ``current_share`` ``c`` (burn-in) the entry rate also closes ``pull`` of the gap to
    the target each year: ``(d·c + pull·(s − c))/(1 − c)`` — flows, not stocks, are matched,
    so the state reaches its target without the decades-long lag of steering on the share.
    ``start``: last year's ``(alpha, gamma)``, a warm start for the solver.
    """
    n_p = adopted.shape[1]
    floor_ = np.zeros(n_p) if floor is None else np.asarray(floor, dtype=float)
    s = np.asarray(initial_share, dtype=float)
    d = np.asarray(disadoption_rate, dtype=float)
    # with no users yet, calibrate retention over the eligible farms instead
    has_users: BoolArray = np.asarray(adopted.any(axis=0), dtype=bool)
    keepers = np.where(has_users[None, :], adopted, eligible)
    d_util = np.maximum(d - floor_, 0.0) / np.maximum(1.0 - floor_, 1e-9)
    a0, g0 = (None, None) if start is None else start
    gamma = _solve_intercepts(u_keep, keepers, 1.0 - d_util, g0)
    if current_share is None:
        entry = d * s / np.maximum(1.0 - s, 1e-9)
    else:
        c = np.asarray(current_share, dtype=float)
        entry = (d * c + pull * (s - c)) / np.maximum(1.0 - c, 1e-9)
    entry = np.minimum(np.maximum(entry, min_entry_rate), 0.999)
    alpha = _solve_intercepts(u_adopt, eligible & ~adopted, entry, a0)
    assert alpha.shape == (n_p,)  # internal consistency
    return alpha, gamma
