"""The model-year kernels (abm.kernels_model) against the numpy code they replace, exactly."""

from __future__ import annotations

import numpy as np

from abm.kernels_model import stack_rows


def _numpy_stack(farm, inward, outward, t_in, t_out):
    # the former abm.model_soil stack: Fortran-ordered (rows, 12)
    n = farm.shape[0]
    out = np.empty((n + t_in.size + t_out.size, 12), dtype=farm.dtype, order="F")
    out[:n] = farm
    out[n : n + t_in.size] = inward[t_in]
    out[n + t_in.size :] = outward[t_out]
    return out


def test_stack_rows_equals_numpy_float_and_bool() -> None:
    rng = np.random.default_rng(0)
    n = 257
    t_in = np.sort(rng.choice(n, 40, replace=False))
    t_out = np.sort(rng.choice(n, 13, replace=False))
    farm, inward, outward = (rng.standard_normal((n, 12)) for _ in range(3))
    every = np.arange(n)
    got = stack_rows([(farm, every), (inward, t_in), (outward, t_out)])
    want = _numpy_stack(farm, inward, outward, t_in, t_out)
    assert got.flags.f_contiguous
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))  # -0.0, NaN bits too
    cov = rng.random((n, 12)) > 0.5
    got_b = stack_rows([(cov, every), (cov, t_in), (cov, t_out)])
    assert got_b.dtype == np.bool_
    np.testing.assert_array_equal(got_b, _numpy_stack(cov, cov, cov, t_in, t_out))


def test_stack_rows_reads_non_contiguous_sources_and_empty_parts() -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal((30, 24))
    src = base[:, ::2]  # not contiguous
    none = np.zeros(0, dtype=np.int64)
    got = stack_rows([(src, np.arange(30)), (src, none), (src, np.array([29, 0]))])
    np.testing.assert_array_equal(got, np.concatenate([src, src[[29, 0]]]))


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def test_plant_drivers_equals_numpy() -> None:
    from abm.kernels_model import plant_drivers
    from abm.resources import DPM_RPM_CROP, harvest_pattern

    rng = np.random.default_rng(2)
    n = 400
    base = rng.random((n, 12)) * (rng.random((n, 12)) > 0.3)
    base[:5] = 0.0  # farms without base input: pattern 0, rpm 0 → the crop ratio
    extra_dot = rng.random((n, 12)) * (rng.random((n, 12)) > 0.5)
    dpm_dot = extra_dot * rng.random((n, 12))
    res_in = rng.random(n) * (rng.random(n) > 0.5)
    pattern = harvest_pattern(base)
    # the former numpy code of abm.resources.drivers
    extra_m = extra_dot + res_in[:, None] * pattern
    dpm_m = dpm_dot + res_in[:, None] * pattern * (DPM_RPM_CROP / (1 + DPM_RPM_CROP))
    plant = base + extra_m
    dpm = base * (DPM_RPM_CROP / (1.0 + DPM_RPM_CROP)) + dpm_m
    rpm = plant - dpm
    ratio = np.divide(dpm, rpm, out=np.full_like(plant, DPM_RPM_CROP), where=rpm > 1e-12)
    got_plant, got_ratio = plant_drivers(base, pattern, extra_dot, dpm_dot, res_in, DPM_RPM_CROP)
    assert (rpm <= 1e-12).any() and (rpm > 1e-12).any()
    assert _bits_equal(got_plant, plant)
    assert _bits_equal(got_ratio, ratio)


def test_rate_drivers_equals_numpy() -> None:
    from abm.kernels_model import rate_drivers

    rng = np.random.default_rng(3)
    n = 300
    rate = 1.0 + rng.standard_normal(n) * 0.1
    cover = np.clip(rng.random(n) * 1.3, 0.0, 1.0)
    partly = rng.random((n, 12)) > 0.5
    want = np.repeat(rate[:, None], 12, axis=1)
    want = np.where(partly, want * (1.0 - 0.4 * cover[:, None]), want)
    assert _bits_equal(rate_drivers(rate, cover, partly), want)


def test_harvest_pattern_cache_follows_the_base_input() -> None:
    """The cached pattern is refreshed when the base input changes (in place or a new array)."""
    from abm.resources import harvest_pattern

    def fresh(b: np.ndarray) -> np.ndarray:
        s = b.sum(axis=1)[:, None]
        return np.divide(b, s, out=np.zeros_like(b), where=s > 0)

    rng = np.random.default_rng(4)
    base = rng.random((50, 12))
    assert _bits_equal(harvest_pattern(base), fresh(base))
    assert harvest_pattern(base) is harvest_pattern(base)  # reused while unchanged
    base[7] *= 3.0
    base[8, :6] = 0.0  # written in place: the cache must notice
    assert _bits_equal(harvest_pattern(base), fresh(base))
    other = rng.random((50, 12))
    assert _bits_equal(harvest_pattern(other), fresh(other))


def _former_net_benefits(pt, ins, *, zone, gov, area_ha, adopted, years, last_paid, cost_dev,
                         open_to_schemes, crowding_out, horizon, discount_rate):  # fmt: skip
    """abm.economics.net_benefits before the fused kernel (numpy, verbatim)."""
    from abm.economics import C_TO_CO2, capital_recovery, level_at, mean_ramp, ramp

    rate_sd = ins.rate_sd[zone]
    inset_eur_per_tc = np.where(ins.access, ins.insetting_price * C_TO_CO2, 0.0)[:, None]
    rate = np.maximum(ins.rate_mean[zone], 0.0)
    levels = ins.tier_levels[gov]
    n_tier = (adopted & ins.tier_practices[None, :]).sum(axis=1)
    tier_new = np.where(
        ins.tier_practices, (level_at(levels, n_tier + 1) - level_at(levels, n_tier))[:, None], 0.0
    )
    tier_keep = np.where(
        ins.tier_practices, (level_at(levels, n_tier) - level_at(levels, n_tier - 1))[:, None], 0.0
    )
    c = ins.carbon_net_eur_per_tc * rate
    fixed = ins.fixed_cost_farmer / area_ha if ins.carbon_price > 0 else np.zeros_like(area_ha)
    x = (adopted * c).sum(axis=1) - fixed
    pos = np.maximum(x, 0.0)[:, None]
    carbon_new = np.maximum(x[:, None] + c, 0.0) - pos
    carbon_keep = pos - np.maximum(x[:, None] - c, 0.0)
    other = (
        ins.subsidy[gov]
        + inset_eur_per_tc * rate
        + np.where(ins.access[:, None], ins.premium[None, :], 0.0)
    )
    is_open = open_to_schemes[:, None]
    pay_new = np.where(is_open, other + tier_new + carbon_new, 0.0)
    pay_keep = np.where(is_open, other + tier_keep + carbon_keep, 0.0)
    base = -(pt.annual_cost[None, :] + cost_dev) + ins.mandate_penalty - ins.ban_penalty
    crf = capital_recovery(discount_rate, horizon)
    nb_new = (
        base
        + pay_new
        + pt.benefit * mean_ramp(horizon, pt.years_to_benefit)
        - pt.establishment_cost * crf
    )
    stopped = (last_paid > 0) & (np.where(adopted, pay_keep, pay_new) <= 0)
    nb_keep = (
        base
        + pay_keep
        + pt.benefit[None, :] * ramp(years, pt.years_to_benefit[None, :])
        - np.where(stopped, crowding_out * last_paid, 0.0)
    )
    sd = pt.uncertainty[None, :] + np.where(is_open, inset_eur_per_tc, 0.0) * rate_sd
    return nb_new, nb_keep, sd


def test_net_benefits_equal_the_former_numpy_code() -> None:
    from abm.economics import Instruments, PracticeTable, net_benefits

    rng = np.random.default_rng(5)
    n, n_p, n_g, n_z, k = 600, 8, 3, 4, 4

    def r(*shape: int, lo: float = -50.0, hi: float = 50.0) -> np.ndarray:
        return rng.uniform(lo, hi, shape)

    pt = PracticeTable(
        annual_cost=r(n_p, lo=0),
        establishment_cost=r(n_p, lo=0),
        benefit=r(n_p),
        years_to_benefit=rng.integers(0, 6, n_p).astype(float),
        complexity=r(n_p, lo=0, hi=1),
        uncertainty=r(n_p, lo=0),
    )
    for carbon_price in (0.0, 80.0):
        ins = Instruments(
            subsidy=r(n_g, n_p, lo=0) * (rng.random((n_g, n_p)) > 0.5),
            tier_levels=np.cumsum(r(n_g, k + 1, lo=0), axis=1),
            tier_practices=rng.random(n_p) > 0.4,
            carbon_price=carbon_price,
            buffer_share=0.2,
            deduction_share=0.1,
            fixed_cost_farmer=300.0,
            mandate_penalty=r(n_p, lo=0) * (rng.random(n_p) > 0.7),
            ban_penalty=r(n_p, lo=0) * (rng.random(n_p) > 0.7),
            duty=np.zeros(n_p),
            premium=r(n_p, lo=0),
            insetting_price=25.0,
            access=rng.random(n) > 0.5,
            rate_mean=r(n_z, n_p, lo=-0.2, hi=0.6),
            rate_sd=r(n_z, n_p, lo=0, hi=0.3),
        )
        adopted = rng.random((n, n_p)) > 0.6
        kw = dict(
            zone=rng.integers(0, n_z, n),
            gov=rng.integers(0, n_g, n),
            area_ha=r(n, lo=5, hi=300),
            adopted=adopted,
            years=np.where(adopted, rng.integers(1, 9, (n, n_p)), 0).astype(float),
            last_paid=r(n, n_p, lo=0) * (rng.random((n, n_p)) > 0.5),
            cost_dev=r(n, n_p, lo=-10, hi=10),
            open_to_schemes=rng.random(n) > 0.2,
            crowding_out=0.3,
            horizon=10.0,
            discount_rate=0.05,
        )
        got = net_benefits(pt, ins, **kw)
        want = _former_net_benefits(pt, ins, **kw)
        for g, w in zip(got, want, strict=True):
            assert _bits_equal(g, w)


def test_utilities_equal_the_former_numpy_expressions() -> None:
    from abm.decisions import Weights, adoption_utility, retention_utility

    rng = np.random.default_rng(6)
    n, n_p = 500, 8
    w = Weights(w_economic=1.3, w_attitude=0.7, w_norm=2.1, w_control=0.4, w_habit=0.9, w_load=0.35)
    nb_new, nb_keep, sd = (rng.normal(0, 80, (n, n_p)) for _ in range(3))
    norm, knowledge = rng.random((n, n_p)), rng.random((n, n_p))
    attitude, risk, n_used = rng.random(n), rng.random(n), rng.integers(0, 5, n).astype(float)
    complexity, duty = rng.random(n_p), rng.normal(0, 1, n_p) * (rng.random(n_p) > 0.5)
    years = rng.integers(0, 15, (n, n_p)).astype(float)
    want_adopt = (
        w.w_economic * knowledge * nb_new / 100.0
        + w.w_attitude * (attitude[:, None] - 0.5)
        + w.w_norm * norm
        + w.w_control * (knowledge - complexity[None, :])
        - risk[:, None] * sd / 100.0
        - w.w_load * n_used[:, None]
        + duty[None, :]
    )
    want_keep = (
        w.w_economic * nb_keep / 100.0
        + w.w_attitude * (attitude[:, None] - 0.5)
        + w.w_norm * norm
        + w.w_habit * np.minimum(years, 10.0) / 10.0
        + duty[None, :]
    )
    got = adoption_utility(nb_new, sd, attitude, norm, knowledge, complexity, risk, n_used, duty, w)
    assert _bits_equal(got, want_adopt)
    assert _bits_equal(retention_utility(nb_keep, attitude, norm, years, duty, w), want_keep)
