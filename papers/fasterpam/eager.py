"""FasterPAM: eager swapping with O(k) removal-loss bookkeeping (Schubert & Rousseeuw, Inf. Syst. 2021).

For every point o the caches hold the nearest medoid n(o), d_n(o) and d_s(o) (second nearest). With the
removal loss of every medoid (Eq. (9) of the journal version; Algorithm 3, "initial removal loss")

    DeltaTD-_i = sum_{o: n(o) = i} (d_s(o) - d_n(o))                                              [k]

the change of TD for swapping medoid m_i with candidate x_c is (Eq. (10)-(12), Algorithm 3 lines 7-17)

    DeltaTD(m_i, x_c) = DeltaTD-_i + Delta_i(c) + Delta+(c)
    Delta+(c)  = sum_o min(d(x_o, x_c) - d_n(o), 0)                            (shared by all medoids)
    Delta_i(c) = sum_{o: n(o) = i} { d_n(o) - d_s(o)    if d(x_o, x_c) < d_n(o)
                                    d(x_o, x_c) - d_s(o) elif d(x_o, x_c) < d_s(o)
                                    0                    otherwise }

which is O(n + k) per candidate. FasterPAM visits the candidates in a fixed (or shuffled) order and
performs the best swap of a candidate as soon as it improves TD ("eager"), updating the caches and the
removal loss; it stops once n consecutive candidates gave no improving swap (a full pass without a swap).

Two implementations of the sequential loop are provided and cross-checked in the tests:
:func:`fasterpam_loop` (one ``lax.while_loop`` compiled by XLA) and :func:`fasterpam_numpy` (a Python loop
over candidates with numpy vector ops). The README reports which one is faster and why.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.kmedoids import Caches, initial_caches, update_caches


class EagerState(NamedTuple):
    medoids: jax.Array   # [k] int32
    caches: Caches       # nearest, d_n, d_s ([n] each); caches.dm is an empty [n, 0] placeholder
    second: jax.Array    # [n] int32 index of the second-nearest medoid
    removal: jax.Array   # [k] removal loss DeltaTD-_i
    t: jax.Array         # candidates visited so far (position t mod n of the order)
    last: jax.Array      # t of the last swap (0 before any)
    n_swap: jax.Array


def removal_loss(caches: Caches, k: int) -> jax.Array:
    """DeltaTD-_i = sum over the cluster of medoid i of (d_s - d_n), [k] (Algorithm 3, line 4)."""
    return jax.ops.segment_sum(caches.ds - caches.dn, caches.nearest, num_segments=k)


def swap_deltas(d_c: jax.Array, caches: Caches, removal: jax.Array) -> jax.Array:
    """DeltaTD(m_i, x_c) for all k medoids of one candidate, [k], O(n + k) (Algorithm 3, lines 7-17).

    d_c: [n] = d(x_o, x_c).
    """
    k = removal.shape[0]
    dn, ds = caches.dn, caches.ds
    shared = jnp.sum(jnp.minimum(d_c - dn, 0.0))                                        # Delta+(c)
    per_point = jnp.where(d_c < dn, dn - ds, jnp.where(d_c < ds, d_c - ds, 0.0))        # -> Delta_i(c)
    return removal + jax.ops.segment_sum(per_point, caches.nearest, num_segments=k) + shared


def first_argmin(v: jax.Array):
    """(index of the first minimum, minimum) of a vector with two plain reductions; XLA's variadic
    argmin reduction is not vectorised on CPU and cost ~20 us per candidate at k = 100."""
    best = jnp.min(v)
    return jnp.min(jnp.where(v == best, jnp.arange(v.shape[0], dtype=jnp.int32), v.shape[0])), best


@jax.jit
def fasterpam_loop(diss: jax.Array, medoids: jax.Array, order: jax.Array, max_iter=100) -> EagerState:
    """FasterPAM's eager SWAP as XLA while loops (Algorithm 3).

    diss: [n, n]; medoids: [k] initial medoids; order: [n] visiting order of the candidates
    (``arange(n)`` reproduces the kmedoids package's ``fasterpam``; a permutation randomises it).
    max_iter bounds the number of passes over the candidates.

    Two nested loops: the inner one scans candidates (O(n + k) each) until one has an improving swap,
    carrying only counters; the outer one performs that swap and refreshes the caches. So the [n, k]
    caches pass through a conditional once per swap, not once per candidate.
    """
    n, k = diss.shape[0], medoids.shape[0]
    max_t = jnp.asarray(max_iter, jnp.int32) * n

    def running(t, last):
        return (t - last < n) & (t < max_t)

    def outer_body(s):
        def scan_cond(carry):
            t, _, found = carry
            return ~found & running(t, s.last)

        def scan_body(carry):
            t, _, _ = carry
            c = order[t % n]
            d_c = jax.lax.dynamic_index_in_dim(diss, c, 0, keepdims=False)
            deltas = swap_deltas(d_c, s.caches, s.removal)
            b, best = first_argmin(deltas)
            improve = (best < 0) & (s.medoids[s.caches.nearest[c]] != c)
            return jnp.where(improve, t, t + 1), b, improve

        t, b, found = jax.lax.while_loop(scan_cond, scan_body, (s.t, jnp.int32(0), jnp.bool_(False)))

        def do(args):
            med, caches, second, _ = args
            c = order[t % n]
            med = med.at[b].set(c)
            caches, second = update_caches(diss, med, caches, second, b, diss[c])
            return med, caches, second, removal_loss(caches, k)

        med, caches, second, removal = jax.lax.cond(found, do, lambda a: a,
                                                    (s.medoids, s.caches, s.second, s.removal))
        return EagerState(med, caches, second, removal, t + found.astype(jnp.int32),
                          jnp.where(found, t, s.last), s.n_swap + found.astype(jnp.int32))

    caches, second = initial_caches(diss, medoids)
    init = EagerState(medoids, caches, second, removal_loss(caches, k), jnp.int32(0), jnp.int32(0),
                      jnp.int32(0))
    return jax.lax.while_loop(lambda s: running(s.t, s.last), outer_body, init)


def passes(t_end: int, n: int, n_swap: int, max_iter: int) -> int:
    """Number of passes over the candidates as the kmedoids package counts its iterations."""
    return 1 if n_swap == 0 else min(t_end // n + 1, max_iter)


def _np_nearest_two(dm: np.ndarray, points: np.ndarray, medoids: np.ndarray):
    """numpy twin of :func:`common.kmedoids.nearest_two`: nearest, second, d_n, d_s of points from [p, k] distances."""
    p, k = dm.shape
    rows = np.arange(p)
    key = np.where(points[:, None] == medoids[None, :], -np.inf, dm)
    nearest = np.argmin(key, axis=1)
    dn = dm[rows, nearest]
    key[rows, nearest] = np.inf
    second = np.argmin(key, axis=1) if k > 1 else np.zeros(p, np.int64)
    ds = dm[rows, second] if k > 1 else np.full(p, np.inf)
    return nearest, second, dn, ds


def fasterpam_numpy(diss: np.ndarray, medoids: np.ndarray, order: np.ndarray, max_iter: int = 100):
    """The same eager loop as :func:`fasterpam_loop` (same incremental cache update), as a Python loop
    with numpy vector ops.

    Returns (medoids [k], candidates visited, swaps).
    """
    diss = np.asarray(diss)
    n = diss.shape[0]
    medoids = np.asarray(medoids, np.int64).copy()
    k = len(medoids)
    nearest, second, dn, ds = _np_nearest_two(diss[:, medoids], np.arange(n), medoids)
    removal = np.bincount(nearest, ds - dn, minlength=k)
    t, last, n_swap = 0, 0, 0
    while t - last < n and t < max_iter * n:
        c = order[t % n]
        if medoids[nearest[c]] != c:
            d_c = diss[c]
            shared = np.minimum(d_c - dn, 0.0).sum()
            per_point = np.where(d_c < dn, dn - ds, np.where(d_c < ds, d_c - ds, 0.0))
            deltas = removal + np.bincount(nearest, per_point, minlength=k) + shared
            b = int(np.argmin(deltas))
            if deltas[b] < 0:
                medoids[b] = c
                affected = (nearest == b) | (second == b) | (d_c == dn) | (d_c == ds)
                closer, nearer2 = d_c < dn, d_c < ds
                second = np.where(closer, nearest, np.where(nearer2, b, second))
                ds = np.where(closer, dn, np.where(nearer2, d_c, ds))
                nearest = np.where(closer, b, nearest)
                dn = np.where(closer, d_c, dn)
                idx = np.flatnonzero(affected)
                nearest[idx], second[idx], dn[idx], ds[idx] = _np_nearest_two(
                    diss[np.ix_(idx, medoids)], idx, medoids)
                removal = np.bincount(nearest, ds - dn, minlength=k)
                last, n_swap = t, n_swap + 1
        t += 1
    return medoids, t, n_swap
