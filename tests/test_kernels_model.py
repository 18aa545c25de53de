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
