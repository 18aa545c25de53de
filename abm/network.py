"""Seeded graph construction: farmer ties and stakeholder ties (networkx, always ``seed=``).

* Farmer–farmer: a Watts–Strogatz small world within each zone (neighbours are mostly local,
  Ryan & Gross 1943), plus a share of random ties across zones. Stored for the hot path as a
  row-normalised sparse matrix, so the peer signal of every farmer and practice is one sparse
  product ``W @ adopted`` — never a loop over neighbours.
* Farmer–NGO advisory ties, farmer–business supply ties, farmer–government jurisdictions: one
  index per farmer (``-1`` = none).
* Stakeholder graph: scientists tied to every NGO, government and business; NGOs to their
  government; businesses to their government.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


@dataclass
class FarmerNetwork:
    """Row-normalised peer matrix and the edge list it came from."""

    weights: sp.csr_matrix
    """(N, N) row-normalised adjacency: ``weights @ x`` = mean of ``x`` over a farmer's peers."""
    degree: NDArray[np.int64]
    edges: NDArray[np.int64]
    """(E, 2) undirected edges, for inspection and the dashboard."""

    def graph(self) -> nx.Graph:
        """The farmer graph as networkx (built on demand; large for 100k farms)."""
        g = nx.Graph()
        g.add_nodes_from(range(self.weights.shape[0]))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        return g


def farmer_network(
    zone: NDArray[np.int64],
    *,
    degree: int,
    rewire_prob: float,
    cross_zone_share: float,
    rng: np.random.Generator,
) -> FarmerNetwork:
    """Small world within zones plus random cross-zone ties.

    Parameters
    ----------
    zone
        (N,) zone index of every farm.
    degree
        Mean number of ties per farmer in the within-zone lattice (made even; capped below the
        zone's size).
    rewire_prob
        Watts–Strogatz rewiring probability.
    cross_zone_share
        Extra random ties across the whole landscape, as a share of the within-zone ties.
    rng
        Generator; graph seeds are drawn from it.
    """
    n = zone.size
    parts: list[NDArray[np.int64]] = []
    for z in np.unique(zone):
        members = np.flatnonzero(zone == z)
        m = members.size
        if m < 2:
            continue
        k = min(degree + degree % 2, m - 1 - (m - 1) % 2)
        if k < 2:
            g = nx.path_graph(m)
        else:
            g = nx.watts_strogatz_graph(m, k, rewire_prob, seed=int(rng.integers(2**31)))
        local = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
        parts.append(members[local])
    within = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.int64)
    n_cross = round(cross_zone_share * len(within))
    if n_cross and n > 1:
        a = rng.integers(0, n, n_cross)
        b = rng.integers(0, n, n_cross)
        keep = a != b
        parts.append(np.stack([a[keep], b[keep]], axis=1))
    edges = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.int64)
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    weights = sp.diags(inv) @ adj
    return FarmerNetwork(weights=weights.tocsr(), degree=deg.astype(np.int64), edges=edges)


def assign_ties(
    n: int, n_targets: int, share: float, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Tie each of ``n`` farmers to one of ``n_targets`` with probability ``share`` (else -1)."""
    target = rng.integers(0, n_targets, n)
    has = rng.random(n) < share
    return np.where(has, target, -1).astype(np.int64)


def stakeholder_graph(
    governments: list[int], ngos: list[int], businesses: list[int], scientists: list[int]
) -> nx.Graph:
    """Ties among stakeholder agents (node = Mesa ``unique_id``, attribute ``kind``)."""
    g = nx.Graph()
    for kind, ids in (
        ("government", governments),
        ("ngo", ngos),
        ("business", businesses),
        ("scientist", scientists),
    ):
        g.add_nodes_from(ids, kind=kind)
    for s in scientists:
        g.add_edges_from((s, other) for other in (*ngos, *governments, *businesses))
    for gov in governments:
        g.add_edges_from((gov, other) for other in (*ngos, *businesses))
    return g
