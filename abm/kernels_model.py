"""Compiled (numba) helpers of the model year outside the soil engine, bit-identical to numpy.

The kernels here move values, or do the element-wise arithmetic of a numpy expression in the
same operation order (numba compiles without fast-math: no re-association, no fused
multiply-add), so they return exactly what the numpy code they replace returns; reductions and
transcendental functions stay in numpy. Like :mod:`abm.soil.kernels`, numba is imported on the
first call (so ``import abm.model`` stays light), compiled code is cached on disk, and every
kernel is serial.
"""

from __future__ import annotations

import numpy as np

from abm.soil.lazyjit import LazyKernels

_KERNELS = (
    "put_rows",
    "plant_drivers",
    "rate_drivers",
    "net_benefit_terms",
    "adoption_utility",
    "retention_utility",
)


_lazy = LazyKernels(globals(), _KERNELS)


@_lazy
def put_rows(src: np.ndarray, rows: np.ndarray, out: np.ndarray, start: int) -> None:
    """``out[start : start + rows.size] = src[rows]`` for 2-D ``src`` and ``out`` of any order.

    Row by row (contiguous reads of a C-ordered ``src``), so writing into a Fortran-ordered
    ``out`` costs one pass over ``src`` instead of numpy's strided transposing copy.
    """
    n_cols = src.shape[1]
    for r in range(rows.size):
        i = rows[r]
        for j in range(n_cols):
            out[start + r, j] = src[i, j]


def stack_rows(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``np.concatenate([src[rows] for src, rows in parts])`` as a Fortran-ordered array.

    Every ``src`` has the same dtype and column count; the result is what the RothC engine
    reads one month (column) at a time.
    """
    first = parts[0][0]
    m = sum(rows.size for _, rows in parts)
    out = np.empty((m, first.shape[1]), dtype=first.dtype, order="F")
    start = 0
    for src, rows in parts:
        put_rows(np.ascontiguousarray(src), rows, out, start)
        start += rows.size
    return out


@_lazy
def plant_drivers(
    base: np.ndarray,
    pattern: np.ndarray,
    extra_dot: np.ndarray,
    dpm_dot: np.ndarray,
    res_in: np.ndarray,
    dpm_crop: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(plant, dpm_rpm)`` of :func:`abm.resources.drivers`, fused (same operation order).

    ``extra_dot`` and ``dpm_dot`` are the (N, 12) products of the extra input (and its DPM
    part) with the practices' months, ``res_in`` the (N,) returned residues, ``pattern`` the
    farm's harvest pattern, ``dpm_crop`` the crop DPM/RPM ratio.
    """
    n, n_m = base.shape
    k = dpm_crop / (1 + dpm_crop)
    k_base = dpm_crop / (1.0 + dpm_crop)
    plant = np.empty((n, n_m))
    ratio = np.empty((n, n_m))
    for i in range(n):
        r = res_in[i]
        for j in range(n_m):
            rp = r * pattern[i, j]
            b = base[i, j]
            p = b + (extra_dot[i, j] + rp)
            dpm = b * k_base + (dpm_dot[i, j] + rp * k)
            rpm = p - dpm
            plant[i, j] = p
            ratio[i, j] = dpm / rpm if rpm > 1e-12 else dpm_crop
    return plant, ratio


@_lazy
def rate_drivers(rate: np.ndarray, cover_share: np.ndarray, partly: np.ndarray) -> np.ndarray:
    """(N, 12) decomposition modifier: ``rate × (1 − 0.4 × cover share)`` in partly bare months."""
    n, n_m = partly.shape
    out = np.empty((n, n_m))
    for i in range(n):
        x = rate[i]
        xc = x * (1.0 - 0.4 * cover_share[i])
        for j in range(n_m):
            out[i, j] = xc if partly[i, j] else x
    return out


@_lazy
def net_benefit_terms(
    per_farm: tuple, per_cell: tuple, per_practice: tuple, crowding_out: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(NB_new, NB_keep, sd)`` of :func:`abm.economics.net_benefits` from its numpy parts.

    ``per_farm``: (N,) ``gov``, ``inset`` (insetting EUR/t C or 0), ``access``, ``is_open``,
    ``tier_new`` and ``tier_keep`` (marginal per-hectare levels); ``per_cell``: (N, P)
    ``rate``, ``rate_sd``, ``carbon_new``, ``carbon_keep``, ``cost_dev``, ``last_paid``,
    ``adopted``, ``ramp`` (benefit reached) and the (G, P) ``subsidy``; ``per_practice``: (P,)
    ``premium``, ``tier_practices``, ``annual_cost``, ``mandate``, ``ban``, ``mean_benefit``,
    ``establishment`` (annualised), ``benefit``, ``uncertainty``. Same operation order as the
    numpy expressions; every ``max``/``clip`` is done by the caller with numpy.
    """
    gov, inset, access, is_open, tier_new, tier_keep = per_farm
    rate, rate_sd, c_new, c_keep, cost_dev, last_paid, adopted, rmp, subsidy = per_cell
    premium, tier_p, annual, mandate, ban, mean_benefit, establishment, benefit, unc = per_practice
    n, n_p = rate.shape
    nb_new = np.empty((n, n_p))
    nb_keep = np.empty((n, n_p))
    sd = np.empty((n, n_p))
    for i in range(n):
        g = gov[i]
        ins_i = inset[i]
        for p in range(n_p):
            other = (subsidy[g, p] + ins_i * rate[i, p]) + (premium[p] if access[i] else 0.0)
            t_new = tier_new[i] if tier_p[p] else 0.0
            t_keep = tier_keep[i] if tier_p[p] else 0.0
            pay_new = (other + t_new) + c_new[i, p] if is_open[i] else 0.0
            pay_keep = (other + t_keep) + c_keep[i, p] if is_open[i] else 0.0
            base = (-(annual[p] + cost_dev[i, p]) + mandate[p]) - ban[p]
            nb_new[i, p] = ((base + pay_new) + mean_benefit[p]) - establishment[p]
            paid = last_paid[i, p]
            stopped = paid > 0 and (pay_keep if adopted[i, p] else pay_new) <= 0
            lost = crowding_out * paid if stopped else 0.0
            nb_keep[i, p] = ((base + pay_keep) + benefit[p] * rmp[i, p]) - lost
            sd[i, p] = unc[p] + (ins_i if is_open[i] else 0.0) * rate_sd[i, p]
    return nb_new, nb_keep, sd


@_lazy
def adoption_utility(cells: tuple, farms: tuple, practices: tuple, w: tuple) -> np.ndarray:
    """:func:`abm.decisions.adoption_utility` fused, in the numpy expression's order.

    ``cells`` (N, P): ``nb_new``, ``sd``, ``norm``, ``knowledge``; ``farms`` (N,):
    ``attitude``, ``risk_aversion``, ``n_used``; ``practices`` (P,): ``complexity``, ``duty``;
    ``w``: ``(w_economic, w_attitude, w_norm, w_control, w_load)``.
    """
    nb, sd, norm, kn = cells
    att, risk, n_used = farms
    cx, duty = practices
    w_e, w_a, w_n, w_c, w_l = w
    n, n_p = nb.shape
    out = np.empty((n, n_p))
    for i in range(n):
        b = w_a * (att[i] - 0.5)
        f = w_l * n_used[i]
        for p in range(n_p):
            a = ((w_e * kn[i, p]) * nb[i, p]) / 100.0
            e = (risk[i] * sd[i, p]) / 100.0
            out[i, p] = ((((a + b) + w_n * norm[i, p]) + w_c * (kn[i, p] - cx[p])) - e) - f
            out[i, p] += duty[p]
    return out


@_lazy
def retention_utility(
    nb_keep: np.ndarray,
    attitude: np.ndarray,
    norm: np.ndarray,
    years_capped: np.ndarray,
    duty: np.ndarray,
    w: tuple,
) -> np.ndarray:
    """:func:`abm.decisions.retention_utility` fused (``years_capped`` = min(years, 10))."""
    w_e, w_a, w_n, w_h = w
    n, n_p = nb_keep.shape
    out = np.empty((n, n_p))
    for i in range(n):
        b = w_a * (attitude[i] - 0.5)
        for p in range(n_p):
            a = (w_e * nb_keep[i, p]) / 100.0
            h = (w_h * years_capped[i, p]) / 10.0
            out[i, p] = (((a + b) + w_n * norm[i, p]) + h) + duty[p]
    return out
