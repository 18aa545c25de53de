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
