"""The peer signal on a hand-made graph: farmer i's signal is the share of i's peers using a
practice (``weights @ adopted`` with row-normalised weights), not the transpose."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from abm.model import SoilCarbonModel
from abm.network import FarmerNetwork
from abm.practices import PRACTICE_IDS
from abm.scenario import resolve_params


def star(n_leaves: int) -> FarmerNetwork:
    """Farm 0 tied to farms 1..n_leaves, the leaves to nobody else."""
    edges = np.array([[0, i] for i in range(1, n_leaves + 1)], dtype=np.int64)
    n = n_leaves + 1
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    deg = np.asarray(adj.sum(axis=1)).ravel()
    return FarmerNetwork(
        weights=sp.csr_matrix(sp.diags(1.0 / deg) @ adj), degree=deg.astype(np.int64), edges=edges
    )


def test_peer_signal_on_a_star_is_the_share_of_each_farmers_peers() -> None:
    model = SoilCarbonModel(resolve_params(None, {"n_farms": 5, "end_year": 2021}), seed=1)
    model.network = star(4)
    adopted = np.zeros((5, len(PRACTICE_IDS)), dtype=bool)
    adopted[0, 0] = True  # the hub uses practice 0
    adopted[1, 1] = adopted[2, 1] = adopted[3, 1] = True  # three of four leaves use practice 1
    adopted[4, 2] = True  # one leaf uses practice 2
    model.farms.adopted[:] = adopted

    signal = model.peer_signal()

    assert signal.shape == (5, len(PRACTICE_IDS))
    # the hub's peers are the four leaves: 0/4 use practice 0, 3/4 practice 1, 1/4 practice 2
    np.testing.assert_array_equal(signal[0, :3], [0.0, 0.75, 0.25])
    # a leaf's only peer is the hub, which uses practice 0 only (a leaf's own use does not count)
    for leaf in range(1, 5):
        np.testing.assert_array_equal(signal[leaf, :3], [1.0, 0.0, 0.0])
    assert np.all(signal[:, 3:] == 0.0)
    # W.T @ adopted would give the hub 3.0 for practice 1 and each leaf 0.25 for practice 0
    assert np.all((signal >= 0.0) & (signal <= 1.0))


def test_isolated_farmer_gets_no_signal() -> None:
    """A farmer without ties sees no peers (0, not NaN), whatever the others do."""
    model = SoilCarbonModel(resolve_params(None, {"n_farms": 3, "end_year": 2021}), seed=2)
    edges = np.array([[0, 1]], dtype=np.int64)
    adj = sp.csr_matrix((np.ones(2), ([0, 1], [1, 0])), shape=(3, 3))
    model.network = FarmerNetwork(
        weights=adj, degree=np.array([1, 1, 0], dtype=np.int64), edges=edges
    )
    model.farms.adopted[:] = True
    signal = model.peer_signal()
    np.testing.assert_array_equal(signal[2], 0.0)
    np.testing.assert_array_equal(signal[:2], 1.0)
