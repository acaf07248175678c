"""The computable part of the paper's approximate-sparsity bound (Theorem 1, Sec. 5) on assignment problems.

Theorem 1: if the OT linear program has a unique solution and eta > (1 + 2 log n) / Delta, the Sinkhorn plan
P_t after t steps is (lambda*, eps_t)-sparse with eps_t = 6 n^2 exp(-eta Delta) + sqrt(q / t), where Delta is
the vertex optimality gap: the smallest excess cost <C, V> - <C, P*> over the vertices V != P* of the
transportation polytope. Only the first term is computed here (q is not); it is a lower bound on eps_t.

For uniform marginals 1/n (random assignment) the vertices are the permutation matrices divided by n, so
Delta = (second-best assignment cost - best assignment cost) / n.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def vertex_optimality_gap(cost) -> float:
    """Delta of Theorem 1 for an [n, n] cost with uniform marginals 1/n (0 if the optimum is not unique).

    Any permutation differs from the optimal one sigma by disjoint cycles, each with a non-negative cost
    change, so the second-best one differs by a single cycle. Row i taking column sigma(j) instead of
    sigma(i) costs W_ij = C[i, sigma(j)] - C[i, sigma(i)]; the cheapest cycle of length >= 2 in the graph
    with weights W (no negative cycles, as sigma is optimal) comes from Floyd-Warshall in O(n^3).
    """
    cost = np.asarray(cost, np.float64)
    n = cost.shape[0]
    if cost.shape != (n, n) or n < 2:
        raise ValueError(f"need a square cost with n >= 2, got shape {cost.shape}")
    _, sigma = linear_sum_assignment(cost)
    dist = cost[:, sigma] - cost[np.arange(n), sigma][:, None]
    np.fill_diagonal(dist, np.inf)            # a cycle must move at least two rows
    for k in range(n):
        np.minimum(dist, dist[:, k:k + 1] + dist[k:k + 1, :], out=dist)
    return float(max(np.diag(dist).min(), 0.0) / n)


def first_term(n: int, eta, delta: float):
    """6 n^2 exp(-eta Delta), the eta-dependent term of Theorem 1's eps_t (a lower bound on eps_t)."""
    return 6.0 * n * n * np.exp(-np.asarray(eta, np.float64) * delta)


def min_eta(n: int, delta: float) -> float:
    """(1 + 2 log n) / Delta: Theorem 1 assumes eta above this (inf when Delta = 0)."""
    return float(np.inf) if delta <= 0 else float((1.0 + 2.0 * np.log(n)) / delta)
