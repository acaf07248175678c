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

from common.kmedoids import Caches, caches_from_dm


class EagerState(NamedTuple):
    medoids: jax.Array   # [k] int32
    caches: Caches
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


@jax.jit
def fasterpam_loop(diss: jax.Array, medoids: jax.Array, order: jax.Array, max_iter=100) -> EagerState:
    """FasterPAM's eager SWAP as one XLA while loop (Algorithm 3).

    diss: [n, n]; medoids: [k] initial medoids; order: [n] visiting order of the candidates
    (``arange(n)`` reproduces the kmedoids package's ``fasterpam``; a permutation randomises it).
    max_iter bounds the number of passes over the candidates.
    """
    n, k = diss.shape[0], medoids.shape[0]
    max_t = jnp.asarray(max_iter, jnp.int32) * n

    def cond(s):
        return (s.t - s.last < n) & (s.t < max_t)

    def body(s):
        c = order[s.t % n]
        d_c = diss[c]
        is_medoid = s.medoids[s.caches.nearest[c]] == c
        deltas = swap_deltas(d_c, s.caches, s.removal)
        b = jnp.argmin(deltas).astype(jnp.int32)
        improve = (deltas[b] < 0) & ~is_medoid

        def do(args):
            med, caches, _ = args
            med = med.at[b].set(c)
            dm = jax.lax.dynamic_update_slice_in_dim(caches.dm, d_c[:, None], b, axis=1)
            caches = caches_from_dm(dm, med)
            return med, caches, removal_loss(caches, k)

        med, caches, removal = jax.lax.cond(improve, do, lambda a: a, (s.medoids, s.caches, s.removal))
        return EagerState(med, caches, removal, s.t + 1, jnp.where(improve, s.t, s.last),
                          s.n_swap + improve.astype(jnp.int32))

    dm = jnp.take(diss, medoids, axis=1)
    caches = caches_from_dm(dm, medoids)
    init = EagerState(medoids, caches, removal_loss(caches, k), jnp.int32(0), jnp.int32(0), jnp.int32(0))
    return jax.lax.while_loop(cond, body, init)


def passes(t_end: int, n: int, n_swap: int, max_iter: int) -> int:
    """Number of passes over the candidates as the kmedoids package counts its iterations."""
    return 1 if n_swap == 0 else min(t_end // n + 1, max_iter)


def _np_caches(dm: np.ndarray, medoids: np.ndarray):
    n, k = dm.shape
    key = np.where(np.arange(n)[:, None] == medoids[None, :], -np.inf, dm)
    nearest = np.argmin(key, axis=1)
    rows = np.arange(n)
    dn = dm[rows, nearest]
    key[rows, nearest] = np.inf
    ds = dm[rows, np.argmin(key, axis=1)] if k > 1 else np.full(n, np.inf)
    return nearest, dn, ds


def fasterpam_numpy(diss: np.ndarray, medoids: np.ndarray, order: np.ndarray, max_iter: int = 100):
    """The same eager loop as :func:`fasterpam_loop`, as a Python loop with numpy vector ops.

    Returns (medoids [k], candidates visited, swaps).
    """
    diss = np.asarray(diss)
    n = diss.shape[0]
    medoids = np.asarray(medoids, np.int64).copy()
    k = len(medoids)
    dm = diss[:, medoids].copy()
    nearest, dn, ds = _np_caches(dm, medoids)
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
                dm[:, b] = d_c
                nearest, dn, ds = _np_caches(dm, medoids)
                removal = np.bincount(nearest, ds - dn, minlength=k)
                last, n_swap = t, n_swap + 1
        t += 1
    return medoids, t, n_swap
