"""``decisions._solve_intercepts`` on the masked rows only: the same doubles as on (N, P)."""

from __future__ import annotations

import numpy as np
import pytest

from abm import decisions


def _reference(z, mask, target, start=None):
    """The former whole-matrix form: means of logistic·mask/n over all N rows."""
    n = mask.sum(axis=0)
    w = mask / np.maximum(n, 1)

    def mean(c):
        return (decisions.logistic(c[None, :] + z) * w).sum(axis=0)

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
    for _ in range(5):
        q = decisions.logistic(c[None, :] + z)
        f = (q * w).sum(axis=0) - target
        slope = (q * (1.0 - q) * w).sum(axis=0)
        step = np.divide(f, slope, out=np.zeros_like(f), where=slope > 0)
        c = np.clip(c - step, lo, hi)
    return np.where(n > 0, c, 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("warm", [False, True])
def test_solve_intercepts_matches_whole_matrix_form(seed: int, warm: bool) -> None:
    rng = np.random.default_rng(seed)
    n, p = 3001, 9
    z = rng.normal(0, 2, (n, p))
    mask = rng.random((n, p)) < rng.uniform(0.01, 0.9, p)
    mask[:, 4] = False  # a practice nobody may use
    target = rng.uniform(0.01, 0.99, p)
    start = rng.normal(0, 1, p) if warm else None
    got = decisions._solve_intercepts(z, mask, target, start)
    want = _reference(z, mask, target, start)
    assert got[4] == 0.0
    assert np.array_equal(got, want)
