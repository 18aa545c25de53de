"""``network.watts_strogatz_edges`` draws networkx's Watts–Strogatz graph, edge for edge."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from abm.network import farmer_network, watts_strogatz_edges


def _canonical(edges) -> np.ndarray:
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    return np.unique(np.sort(e, axis=1), axis=0)


@pytest.mark.parametrize(("n", "k"), [(3, 2), (5, 4), (7, 6), (10, 4), (60, 8), (500, 6)])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 1.0])
def test_same_edges_as_networkx(n: int, k: int, p: float) -> None:
    for seed in range(4):
        want = _canonical(list(nx.watts_strogatz_graph(n, k, p, seed=seed).edges()))
        got = _canonical(watts_strogatz_edges(n, k, p, seed))
        assert np.array_equal(got, want), (n, k, p, seed)
        assert len(watts_strogatz_edges(n, k, p, seed)) == len(want)  # no duplicates


def test_small_world_properties() -> None:
    """Degree kept on average, clustering well above a random graph's, zones mostly local."""
    rng = np.random.default_rng(0)
    zone = rng.integers(0, 3, 6000)
    net = farmer_network(zone, degree=8, rewire_prob=0.1, cross_zone_share=0.05, rng=rng)
    assert abs(net.degree.mean() - 8 * 1.05) < 0.2
    g = net.graph()
    clustering = nx.average_clustering(g)
    assert clustering > 0.4  # lattice 0.64·(1 − p)³ ≈ 0.47; a random graph ≈ 8/6000
    same_zone = (zone[net.edges[:, 0]] == zone[net.edges[:, 1]]).mean()
    assert same_zone > 0.9
