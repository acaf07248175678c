"""The SWAP phase of the k-medoids algorithms: original PAM, FastPAM1 and FastPAM2 (Schubert & Rousseeuw, SISAP 2019).

For a swap of medoid m_i with a non-medoid candidate x_c the change of the total deviation is

    dTD(m_i, x_c) = sum_o min(d(x_o, x_c), d_rem_i(o)) - d_n(o),   d_rem_i(o) = d_s(o) if n(o) = i else d_n(o)

which is the case analysis of PAM (Algorithm 1, SWAP, the K_jih terms). Evaluating it for all (i, c)
pairs costs O(k (n-k)^2) per iteration (:func:`deltas_pam`).

FastPAM1 (Section 4.1, Algorithm 2) splits it into a term shared by all medoids and a correction that
only the nearest medoid n(o) of each point receives:

    dTD(m_i, x_c) = Delta+(c) + sum_{o: n(o)=i} [min(d(x_o,x_c), d_s(o)) - min(d(x_o,x_c), d_n(o))]
    Delta+(c)    = sum_o min(d(x_o, x_c) - d_n(o), 0)

so one O(n) pass over the points gives all k deltas of a candidate: O((n-k)^2) per iteration
(:func:`deltas_fastpam1`). The bucket sums over ``n(o)`` are a segment sum (a scatter-add), so every
matrix element is touched a constant number of times, independent of k.

FastPAM2 (Section 4.2) keeps the best candidate of every medoid and, after the best swap, performs the
other ones that still improve the loss, in order of their original gain (:func:`fastpam2_loop`).
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from common.kmedoids import Caches, assign, caches_from_dm

BLOCK = 16  # candidate rows per block in FastPAM1: the [B, n] temporaries stay in cache


class SwapState(NamedTuple):
    medoids: jax.Array   # [k] int32
    caches: Caches
    n_iter: jax.Array    # int32
    n_swap: jax.Array    # int32
    done: jax.Array      # bool


# ------------------------------------------------------------------ swap deltas

def deltas_pam(diss: jax.Array, caches: Caches, k: int) -> jax.Array:
    """Original PAM: dTD(m_i, x_c) for all candidates and medoids, [n, k]; O(k n^2).

    One pass over the matrix per medoid i (Algorithm 1, SWAP, lines "for each m_i, for each x_c").
    """
    td = jnp.sum(caches.dn)

    def per_medoid(i):
        d_rem = jnp.where(caches.nearest == i, caches.ds, caches.dn)          # [n]
        return jnp.sum(jnp.minimum(diss, d_rem[None, :]), axis=1) - td         # [n] over candidates

    return jax.lax.map(per_medoid, jnp.arange(k)).T


def candidate_deltas(d_c: jax.Array, caches: Caches, k: int) -> jax.Array:
    """FastPAM1 deltas of one candidate x_c for all k medoids, [k], in O(n + k) (Algorithm 2).

    d_c: [n] = d(x_o, x_c) for all o.
    """
    shared = jnp.sum(jnp.minimum(d_c, caches.dn)) - jnp.sum(caches.dn)                # Delta+(c)
    corr = jnp.clip(d_c, caches.dn, caches.ds) - caches.dn                             # [n]
    return shared + jax.ops.segment_sum(corr, caches.nearest, num_segments=k)


def deltas_fastpam1(diss: jax.Array, caches: Caches, k: int, block: int = BLOCK) -> jax.Array:
    """FastPAM1: dTD(m_i, x_c) for all candidates and medoids, [n, k]; O(n^2 + nk).

    Candidates are processed in blocks of rows; per block one pass computes the shared term
    Delta+(c) and the per-nearest-medoid corrections (segment sum over n(o)).
    """
    n = diss.shape[0]
    b = min(block, n)
    n_blocks = -(-n // b)
    td = jnp.sum(caches.dn)

    def body(j, out):
        start = jnp.minimum(j * b, n - b)                 # the last block overlaps the previous one
        rows = jax.lax.dynamic_slice_in_dim(diss, start, b, axis=0)                  # [b, n]
        shared = jnp.sum(jnp.minimum(rows, caches.dn[None, :]), axis=1) - td         # [b]
        corr = jnp.clip(rows, caches.dn[None, :], caches.ds[None, :]) - caches.dn[None, :]
        per_medoid = jax.ops.segment_sum(corr.T, caches.nearest, num_segments=k).T    # [b, k]
        return jax.lax.dynamic_update_slice(out, shared[:, None] + per_medoid, (start, 0))

    return jax.lax.fori_loop(0, n_blocks, body, jnp.zeros((n, k), diss.dtype))


def pair_delta(d_c: jax.Array, caches: Caches, i) -> jax.Array:
    """dTD(m_i, x_c) of a single pair in O(n) (used by FastPAM2's re-check and CLARANS)."""
    d_rem = jnp.where(caches.nearest == i, caches.ds, caches.dn)
    return jnp.sum(jnp.minimum(d_c, d_rem)) - jnp.sum(caches.dn)


# ------------------------------------------------------------------ applying a swap

def apply_swap(diss: jax.Array, medoids: jax.Array, caches: Caches, i, c) -> tuple[jax.Array, Caches]:
    """Replaces medoid i by point c and updates the caches in O(nk) (column i of dm <- d(., x_c))."""
    medoids = medoids.at[i].set(c)
    dm = jax.lax.dynamic_update_slice_in_dim(caches.dm, diss[c][:, None], i, axis=1)
    return medoids, caches_from_dm(dm, medoids)


def medoid_mask(n: int, medoids: jax.Array) -> jax.Array:
    return jnp.zeros((n,), bool).at[medoids].set(True)


# ------------------------------------------------------------------ PAM / FastPAM1 SWAP loop

@partial(jax.jit, static_argnames=("method",))
def best_swap_loop(diss: jax.Array, medoids: jax.Array, *, method: str = "fastpam1",
                   max_iter=100) -> SwapState:
    """PAM's SWAP: each iteration performs the single best swap of all k(n-k) (Algorithm 1 / 2).

    method='pam' evaluates the deltas with :func:`deltas_pam` (O(k n^2) per iteration),
    method='fastpam1' with :func:`deltas_fastpam1` (O(n^2)); both choose the same swap (the first
    minimum in candidate-major order) and so return the same medoids.
    """
    n, k = diss.shape[0], medoids.shape[0]
    deltas_fn = {"pam": deltas_pam, "fastpam1": deltas_fastpam1}[method]
    max_iter = jnp.asarray(max_iter, jnp.int32)   # traced: one compilation for any max_iter

    def cond(s):
        return (~s.done) & (s.n_iter < max_iter)

    def body(s):
        deltas = deltas_fn(diss, s.caches, k)
        deltas = jnp.where(medoid_mask(n, s.medoids)[:, None], jnp.inf, deltas)
        flat = jnp.argmin(deltas)
        c, i = (flat // k).astype(jnp.int32), (flat % k).astype(jnp.int32)
        improve = deltas[c, i] < 0

        def do(args):
            med, caches = args
            return apply_swap(diss, med, caches, i, c)

        medoids, caches = jax.lax.cond(improve, do, lambda a: a, (s.medoids, s.caches))
        return SwapState(medoids, caches, s.n_iter + 1, s.n_swap + improve.astype(jnp.int32), ~improve)

    init = SwapState(medoids, assign(diss, medoids), jnp.int32(0), jnp.int32(0), jnp.bool_(k >= n))
    return jax.lax.while_loop(cond, body, init)


# ------------------------------------------------------------------ FastPAM2

@jax.jit
def fastpam2_loop(diss: jax.Array, medoids: jax.Array, *, tau: float = 1.0, max_iter=100) -> SwapState:
    """FastPAM2 (Section 4.2): up to k swaps per iteration.

    Per iteration: the FastPAM1 deltas give the best candidate x_{c_i} of every medoid m_i. The overall
    best swap is performed (PAM's choice); then, in order of their gain, each other pair (m_i, x_{c_i})
    is re-evaluated with the updated caches and performed if it still improves:
    dTD_new < 0 and dTD_new <= (1 - tau) * dTD_old (tau = 1: any improvement; tau = 0: only swaps
    whose gain did not shrink, i.e. that look independent of the earlier ones).
    """
    n, k = diss.shape[0], medoids.shape[0]
    tau = jnp.asarray(tau, diss.dtype)
    max_iter = jnp.asarray(max_iter, jnp.int32)

    def cond(s):
        return (~s.done) & (s.n_iter < max_iter)

    def body(s):
        deltas = deltas_fastpam1(diss, s.caches, k)
        deltas = jnp.where(medoid_mask(n, s.medoids)[:, None], jnp.inf, deltas)
        cand = jnp.argmin(deltas, axis=0).astype(jnp.int32)               # [k] best candidate per medoid
        gain = deltas[cand, jnp.arange(k)]                                 # [k]
        order = jnp.argsort(gain, stable=True)

        def try_one(r, carry):
            med, caches, swaps = carry
            i = order[r]
            c = cand[i]
            old = gain[i]
            new = pair_delta(diss[c], caches, i)
            free = ~jnp.any(med == c)
            ok = free & (old < 0) & (new < 0) & ((r == 0) | (new <= (1 - tau) * old))

            def do(args):
                return apply_swap(diss, args[0], args[1], i, c)

            med, caches = jax.lax.cond(ok, do, lambda a: a, (med, caches))
            return med, caches, swaps + ok.astype(jnp.int32)

        med, caches, swaps = jax.lax.fori_loop(0, k, try_one, (s.medoids, s.caches, jnp.int32(0)))
        return SwapState(med, caches, s.n_iter + 1, s.n_swap + swaps, swaps == 0)

    init = SwapState(medoids, assign(diss, medoids), jnp.int32(0), jnp.int32(0), jnp.bool_(k >= n))
    return jax.lax.while_loop(cond, body, init)
