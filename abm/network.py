"""Seeded graph construction: farmer ties and stakeholder ties (always seeded).

* Farmer–farmer: a Watts–Strogatz small world within each zone (neighbours are mostly local,
  Ryan & Gross 1943), plus a share of random ties across zones. The small world is
  ``networkx.watts_strogatz_graph``'s, edge for edge, drawn without building a networkx graph
  (:func:`watts_strogatz_edges`); :meth:`FarmerNetwork.graph` builds one on demand. Stored
  for the hot path as a row-normalised sparse matrix, so the peer signal of every farmer and
  practice is one sparse product ``W @ adopted`` — never a loop over neighbours.
* Farmer–NGO advisory ties, farmer–business supply ties, farmer–government jurisdictions: one
  index per farmer (``-1`` = none).
* Stakeholder graph: scientists tied to every NGO, government and business; NGOs to their
  government; businesses to their government.
"""

from __future__ import annotations

import random
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
            local = np.stack([np.arange(m - 1), np.arange(1, m)], axis=1)
        else:
            local = watts_strogatz_edges(m, k, rewire_prob, seed=int(rng.integers(2**31)))
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


def watts_strogatz_edges(n: int, k: int, p: float, seed: int) -> NDArray[np.int64]:
    """``(E, 2)`` edges of ``networkx.watts_strogatz_graph(n, k, p, seed=seed)``, much faster.

    The same algorithm and the same random stream (:class:`random.Random` seeded with ``seed``,
    ``random()`` per lattice edge, ``choice`` for the new end), so the same edge set: a ring
    lattice of ``k/2`` neighbours each side, then every edge ``(u, u + j)`` — ``j`` outer, ``u``
    inner — rewired with probability ``p`` to ``(u, w)``, ``w`` uniform, redrawn while it is
    ``u`` or already a neighbour (given up when ``u`` is tied to every other node). Instead of
    a graph of dictionaries it keeps the lattice implicit and only the sets of rewired and new
    edges, so it takes a fraction of networkx's time and memory. Edges are not in networkx's
    order (the caller sorts them).
    """
    half = k // 2
    rnd = random.Random(seed)
    draw, choice = rnd.random, rnd.choice
    nodes = list(range(n))
    removed: set[int] = set()  # lattice edges u → u + j (key u·n + v) rewired away
    added: set[int] = set()  # new edges (key min·n + max)
    deg = [k] * n

    def linked(u: int, w: int) -> bool:
        d = (w - u) % n
        if 1 <= d <= half:  # the lattice edge u → w
            return u * n + w not in removed or min(u, w) * n + max(u, w) in added
        if 1 <= n - d <= half:  # the lattice edge w → u
            return w * n + u not in removed or min(u, w) * n + max(u, w) in added
        return min(u, w) * n + max(u, w) in added

    for j in range(1, half + 1):
        for u in range(n):
            if draw() < p:
                w = choice(nodes)
                while w == u or linked(u, w):
                    w = choice(nodes)
                    if deg[u] >= n - 1:
                        break
                else:
                    v = (u + j) % n
                    removed.add(u * n + v)
                    deg[v] -= 1
                    added.add(min(u, w) * n + max(u, w))
                    deg[w] += 1
    src = np.tile(np.arange(n, dtype=np.int64), half)
    dst = (src + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    alive = ~np.isin(src * n + dst, np.fromiter(removed, dtype=np.int64, count=len(removed)))
    new = np.fromiter(added, dtype=np.int64, count=len(added))
    return np.concatenate(
        [np.stack([src[alive], dst[alive]], axis=1), np.stack([new // n, new % n], axis=1)]
    )


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
