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
(:func:`deltas_fastpam1`). Both delta functions loop over the points o (one row of the symmetric
matrix per step, the candidates vectorised): PAM does a [k, n] update per point, FastPAM1 two [n]
updates (Delta+ and the row of the nearest medoid n(o)), so FastPAM1's work does not grow with k.

FastPAM2 (Section 4.2) keeps the best candidate of every medoid and, after the best swap, performs the
other ones that still improve the loss, in order of their original gain (:func:`fastpam2_loop`).
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from common.kmedoids import Caches, caches_from_dm, initial_caches, update_caches

UNROLL = 8  # points per step of the row loops below (amortises the loop overhead) ...
UNROLL_MIN_N = 256  # ... for n >= 256; smaller problems use 1 (faster to compile, run time negligible)


def _unroll(n: int, unroll):
    return (UNROLL if n >= UNROLL_MIN_N else 1) if unroll is None else unroll


class SwapState(NamedTuple):
    medoids: jax.Array   # [k] int32
    caches: Caches       # nearest, d_n, d_s; caches.dm is an empty [n, 0] placeholder
    second: jax.Array    # [n] int32 index of the second-nearest medoid
    n_iter: jax.Array    # int32
    n_swap: jax.Array    # int32
    done: jax.Array      # bool


# ------------------------------------------------------------------ swap deltas

def deltas_pam(diss: jax.Array, caches: Caches, k: int, unroll: int | None = None) -> jax.Array:
    """Original PAM: dTD(m_i, x_c) for all candidates and medoids, [n, k]; O(k n^2)."""
    return _deltas_pam_kn(diss, caches, k, unroll).T


def _deltas_pam_kn(diss, caches, k, unroll=None):
    """:func:`deltas_pam` as [k, n] (medoid-major, the layout of the accumulator).

    dTD(m_i, x_c) = sum_o min(d(x_o, x_c), d_rem_i(o)) - TD (Algorithm 1, SWAP, all k (n-k) pairs).
    Loop over the points o; for every o one [k, n] update adds min(d(x_o, .), d_rem_i(o)) for all
    medoids i and all candidates at once. Each row of ``diss`` is read from memory once and the
    k-fold work happens on the cache-resident [k, n] accumulator (measured 2-4x faster than one
    fused min+sum pass over the whole matrix per medoid, which streams it k times).
    """
    n = diss.shape[0]
    d_rem = jnp.where(caches.nearest[:, None] == jnp.arange(k)[None, :],
                      caches.ds[:, None], caches.dn[:, None])                      # [n, k]

    def body(o, acc):
        row = jax.lax.dynamic_index_in_dim(diss, o, 0, keepdims=False)           # d(x_o, .) [n]
        dr = jax.lax.dynamic_index_in_dim(d_rem, o, 0, keepdims=False)           # [k]
        return acc + jnp.minimum(row[None, :], dr[:, None])

    acc = jax.lax.fori_loop(0, n, body, jnp.zeros((k, n), diss.dtype), unroll=_unroll(n, unroll))
    return acc - jnp.sum(caches.dn)


def candidate_deltas(d_c: jax.Array, caches: Caches, k: int) -> jax.Array:
    """FastPAM1 deltas of one candidate x_c for all k medoids, [k], in O(n + k) (Algorithm 2).

    d_c: [n] = d(x_o, x_c) for all o.
    """
    shared = jnp.sum(jnp.minimum(d_c, caches.dn)) - jnp.sum(caches.dn)                # Delta+(c)
    corr = jnp.clip(d_c, caches.dn, caches.ds) - caches.dn                             # [n]
    return shared + jax.ops.segment_sum(corr, caches.nearest, num_segments=k)


def deltas_fastpam1(diss: jax.Array, caches: Caches, k: int, unroll: int | None = None) -> jax.Array:
    """FastPAM1: dTD(m_i, x_c) for all candidates and medoids, [n, k]; O(n^2 + nk) (Algorithm 2)."""
    return _deltas_fastpam1_kn(diss, caches, k, unroll).T


def _deltas_fastpam1_kn(diss, caches, k, unroll=None):
    """:func:`deltas_fastpam1` as [k, n].

    The paper's double loop over (x_c, x_o) with the loop over candidates vectorised: for every
    point o (the matrix is symmetric, so row o holds d(x_o, x_c) for all c)
        Delta+[c]          += min(d(x_o, x_c), d_n(o)) - d_n(o)                   (all medoids)
        acc[n(o), c]       += min(d(x_o, x_c), d_s(o)) - min(d(x_o, x_c), d_n(o))  (medoid n(o) only)
    i.e. two [n] vector updates per point, independent of k: every matrix element is touched a
    constant number of times (a dynamic-row update, not a scatter, so it stays vectorised).
    """
    n = diss.shape[0]

    def body(o, carry):
        acc, shared = carry
        row = jax.lax.dynamic_index_in_dim(diss, o, 0, keepdims=False)           # [n]
        dn, ds, i = caches.dn[o], caches.ds[o], caches.nearest[o]
        shared = shared + jnp.minimum(row, dn)
        cur = jax.lax.dynamic_index_in_dim(acc, i, 0, keepdims=False)
        acc = jax.lax.dynamic_update_index_in_dim(acc, cur + (jnp.clip(row, dn, ds) - dn), i, 0)
        return acc, shared

    init = (jnp.zeros((k, n), diss.dtype), jnp.zeros((n,), diss.dtype))
    acc, shared = jax.lax.fori_loop(0, n, body, init, unroll=_unroll(n, unroll))
    return acc + (shared - jnp.sum(caches.dn))[None, :]


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


def swap_medoid(diss: jax.Array, medoids: jax.Array, caches: Caches, second: jax.Array, i, c):
    """Replaces medoid i by point c; caches updated incrementally (O(n) for the points whose nearest
    and second-nearest medoid stay, O(k) for the others; :func:`common.kmedoids.update_caches`)."""
    medoids = medoids.at[i].set(c)
    caches, second = update_caches(diss, medoids, caches, second, i, diss[c])
    return medoids, caches, second


def medoid_mask(n: int, medoids: jax.Array) -> jax.Array:
    return jnp.zeros((n,), bool).at[medoids].set(True)


def best_pair(deltas_kn: jax.Array, medoids: jax.Array):
    """The best swap (i, c) among non-medoid candidates from [k, n] deltas, ties broken by the first
    candidate, then the first medoid (candidate-major order, as the kmedoids package). Two plain
    min-reductions instead of a variadic argmin (which XLA does not vectorise on CPU).
    Returns (i, c, delta)."""
    k, n = deltas_kn.shape
    d = jnp.where(medoid_mask(n, medoids)[None, :], jnp.inf, deltas_kn)
    best = jnp.min(d)
    code = jnp.arange(n, dtype=jnp.int32)[None, :] * k + jnp.arange(k, dtype=jnp.int32)[:, None]
    flat = jnp.min(jnp.where(d == best, code, n * k))
    return (flat % k).astype(jnp.int32), (flat // k).astype(jnp.int32), best


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
    deltas_fn = {"pam": _deltas_pam_kn, "fastpam1": _deltas_fastpam1_kn}[method]
    max_iter = jnp.asarray(max_iter, jnp.int32)   # traced: one compilation for any max_iter

    def cond(s):
        return (~s.done) & (s.n_iter < max_iter)

    def body(s):
        i, c, best = best_pair(deltas_fn(diss, s.caches, k), s.medoids)
        improve = best < 0

        def do(args):
            return swap_medoid(diss, *args, i, c)

        medoids, caches, second = jax.lax.cond(improve, do, lambda a: a, (s.medoids, s.caches, s.second))
        return SwapState(medoids, caches, second, s.n_iter + 1, s.n_swap + improve.astype(jnp.int32), ~improve)

    caches, second = initial_caches(diss, medoids)
    init = SwapState(medoids, caches, second, jnp.int32(0), jnp.int32(0), jnp.bool_(k >= n))
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
            med, caches, second, swaps = carry
            i = order[r]
            c = cand[i]
            old = gain[i]
            new = pair_delta(diss[c], caches, i)
            free = ~jnp.any(med == c)
            ok = free & (old < 0) & (new < 0) & ((r == 0) | (new <= (1 - tau) * old))

            def do(args):
                return swap_medoid(diss, *args, i, c)

            med, caches, second = jax.lax.cond(ok, do, lambda a: a, (med, caches, second))
            return med, caches, second, swaps + ok.astype(jnp.int32)

        med, caches, second, swaps = jax.lax.fori_loop(0, k, try_one, (s.medoids, s.caches, s.second, jnp.int32(0)))
        return SwapState(med, caches, second, s.n_iter + 1, s.n_swap + swaps, swaps == 0)

    caches, second = initial_caches(diss, medoids)
    init = SwapState(medoids, caches, second, jnp.int32(0), jnp.int32(0), jnp.bool_(k >= n))
    return jax.lax.while_loop(cond, body, init)
