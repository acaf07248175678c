"""FastCLARA and FastCLARANS (Section 6 of Schubert & Rousseeuw, Information Systems 2021).

FastCLARA: FasterPAM from LAB on ``n_samples`` samples of 80 + 4k points; every sample after the first
contains the best medoids found so far (Kaufman & Rousseeuw's CLARA, kept by the authors' FastCLARA and
FasterCLARA in ELKI), but each sample starts from its own LAB initialisation, not from the kept
medoids (ELKI runs its initializer on every sample); the medoids with the lowest TD on the full data win.
FastCLARANS: draw a random non-medoid x_c, evaluate the swap with all k medoids at once in O(n + k)
(eager.swap_deltas), perform the best if it improves; stop after ``max_neighbor`` consecutive
non-improving draws; best of ``num_local`` restarts from random medoids.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from common.kmedoids import Caches, caches_from_dm, lab, random_init, total_deviation
from papers.fasterpam.eager import fasterpam_loop, removal_loss, swap_deltas


def _draw_sample(key, keep, m, n):
    """m distinct sorted indices of [0, n); the valid entries of keep (-1 = none) are always included."""
    u = jax.random.uniform(key, (n,))
    u = u.at[jnp.where(keep >= 0, keep, n)].set(-1.0, mode="drop")
    return jnp.sort(jnp.argsort(u)[:m]).astype(jnp.int32)


_draw = jax.jit(_draw_sample, static_argnums=(2, 3))


def clara_on_sample(diss, idx, k: int, key, max_iter: int):
    """FasterPAM from LAB on the sample ``idx`` [m] (candidates in a random order), scored by TD on the full
    data: (medoids [k], loss, swaps). Not jitted as a whole: the jitted loops' compilations are shared
    with every other [m, m] problem (e.g. the full data when m == n)."""
    kl, ko = jax.random.split(key)
    m = idx.shape[0]
    sub = jnp.take(jnp.take(diss, idx, axis=0), idx, axis=1)
    res = fasterpam_loop(sub, lab(sub, k, kl), jax.random.permutation(ko, m).astype(jnp.int32), max_iter)
    medoids = idx[res.medoids]
    return medoids, total_deviation(diss, medoids), res.n_swap


def fastclara_samples(diss, k: int, key, *, n_samples: int = 5, sample_size: int | None = None,
                      max_iter: int = 100):
    """Yields (sample [m], medoids [k], loss, swaps) of each FastCLARA sample in order; sample s > 0 holds
    the best medoids of samples 0..s-1."""
    n = diss.shape[0]
    m = int(min(n, sample_size or 80 + 4 * k))
    best_loss, keep = float("inf"), -jnp.ones((k,), jnp.int32)
    for s in range(n_samples):
        ks, kr = jax.random.split(jax.random.fold_in(key, s))
        idx = _draw(ks, keep, m, n)
        med, loss, sw = clara_on_sample(diss, idx, k, kr, max_iter)
        yield idx, med, loss, sw
        if float(loss) < best_loss:
            best_loss, keep = float(loss), med


def fastclara(diss, k: int, key, *, n_samples: int = 5, sample_size: int | None = None, max_iter: int = 100):
    """FastCLARA (:func:`fastclara_samples`). Returns (medoids [k], loss, number of samples, total swaps)."""
    best, best_loss, swaps = None, float("inf"), 0
    for _, med, loss, sw in fastclara_samples(diss, k, key, n_samples=n_samples, sample_size=sample_size,
                                              max_iter=max_iter):
        swaps += int(sw)
        if float(loss) < best_loss:
            best, best_loss = med, float(loss)
    return best, best_loss, n_samples, swaps


class ClaransState(NamedTuple):
    medoids: jax.Array
    caches: Caches
    removal: jax.Array
    fails: jax.Array
    step: jax.Array
    n_swap: jax.Array


@jax.jit
def fastclarans_local(diss, medoids, key, max_neighbor, max_steps=1_000_000):
    """One FastCLARANS local search from ``medoids``."""
    n, k = diss.shape[0], medoids.shape[0]

    def cond(s):
        return (s.fails < max_neighbor) & (s.step < max_steps)

    def body(s):
        is_med = jnp.zeros((n,), bool).at[s.medoids].set(True)
        u = jax.random.uniform(jax.random.fold_in(key, s.step), (n,))
        c = jnp.argmax(jnp.where(is_med, -1.0, u)).astype(jnp.int32)
        d_c = diss[c]
        deltas = swap_deltas(d_c, s.caches, s.removal)
        b = jnp.argmin(deltas).astype(jnp.int32)
        improve = deltas[b] < 0

        def do(args):
            med, caches, _ = args
            med = med.at[b].set(c)
            caches = caches_from_dm(jax.lax.dynamic_update_slice_in_dim(caches.dm, d_c[:, None], b, axis=1), med)
            return med, caches, removal_loss(caches, k)

        med, caches, rem = jax.lax.cond(improve, do, lambda a: a, (s.medoids, s.caches, s.removal))
        return ClaransState(med, caches, rem, jnp.where(improve, 0, s.fails + 1), s.step + 1,
                            s.n_swap + improve.astype(jnp.int32))

    caches = caches_from_dm(jnp.take(diss, medoids, axis=1), medoids)
    init = ClaransState(medoids, caches, removal_loss(caches, k), jnp.int32(0), jnp.int32(0), jnp.int32(0))
    return jax.lax.while_loop(cond, body, init)


def fastclarans(diss, k: int, key, *, num_local: int = 2, max_neighbor: int | None = None):
    """FastCLARANS; max_neighbor defaults to ceil(2.5% of (n - k)) candidates (ELKI's default; at least 250 / k).
    Returns (medoids [k], loss, total draws, total swaps)."""
    n = diss.shape[0]
    mn = int(max_neighbor or max(-(-250 // k), -(-25 * (n - k) // 1000)))
    best, best_loss, steps, swaps = None, float("inf"), 0, 0
    for r in range(num_local):
        kr, ks = jax.random.split(jax.random.fold_in(key, r))
        res = fastclarans_local(diss, random_init(n, k, kr), ks, mn)
        loss = float(total_deviation(diss, res.medoids))
        steps, swaps = steps + int(res.step), swaps + int(res.n_swap)
        if loss < best_loss:
            best, best_loss = res.medoids, loss
    return best, best_loss, steps, swaps
