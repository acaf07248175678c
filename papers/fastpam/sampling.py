"""CLARA and CLARANS with the paper's improvements (Section 5 of Schubert & Rousseeuw, SISAP 2019).

CLARA (Kaufman & Rousseeuw 1990, ch. 3, "Program CLARA") runs PAM (BUILD + SWAP) on ``n_samples`` random
samples of 40 + 2k points and keeps the medoids with the lowest total deviation on the full data; every
sample after the first contains the best medoids found so far, filled up with random points (as in the
authors' CLARA of R's ``cluster`` package and of ELKI). FastCLARA (Section 5.1) is the same loop with
FastPAM (LAB + FastPAM2) on each sample and samples of 80 + 4k (affordable because the SWAP is O(k)
faster). Neither warm-starts from the kept medoids: each sample is initialised from scratch (BUILD or
LAB), as in ELKI's CLARA and FastCLARA, which run their initializer on every sample.

CLARANS (Ng & Han) is a randomized search: draw a random (medoid, non-medoid) pair, swap when it
improves TD, stop after ``max_neighbor`` consecutive failures; repeat ``num_local`` times from random
starts. FastCLARANS draws only the non-medoid x_c and evaluates the swap with all k medoids at once
with FastPAM1's O(n + k) candidate kernel, then performs the best one; ``max_neighbor`` then counts
candidates instead of pairs (2.5% of n - k by default, see :func:`clarans_max_neighbor`).
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from common.kmedoids import Caches, assign, build, lab, random_init, total_deviation
from common.kmedoids_swap import apply_swap, best_swap_loop, candidate_deltas, fastpam2_loop, pair_delta


def clara_sample_size(k: int, fast: bool) -> int:
    """40 + 2k for CLARA, 80 + 4k for FastCLARA (Section 5.1)."""
    return 80 + 4 * k if fast else 40 + 2 * k


def _draw_sample(key, keep, m, n):
    """m distinct sorted indices of [0, n); the valid entries of keep (-1 = none) are always included."""
    u = jax.random.uniform(key, (n,))
    valid = keep >= 0
    u = u.at[jnp.where(valid, keep, n)].set(-1.0, mode="drop")
    return jnp.sort(jnp.argsort(u)[:m]).astype(jnp.int32)


class SampleRun(NamedTuple):
    medoids: jax.Array   # [k] indices into the full data
    loss: jax.Array      # TD on the full data
    n_iter: jax.Array
    n_swap: jax.Array
    sample: jax.Array    # [m] sorted indices of the sample's points


_draw = jax.jit(_draw_sample, static_argnums=(2, 3))


def sample_keys(key: jax.Array, s: int) -> tuple[jax.Array, jax.Array]:
    """(key of the draw, key of the initialisation) of sample s."""
    k_draw, k_init = jax.random.split(jax.random.fold_in(key, s))
    return k_draw, k_init


def clara_on_sample(diss, idx, k: int, key_init, *, fast: bool, max_iter: int) -> SampleRun:
    """PAM from BUILD (CLARA) or FastPAM2 from LAB (FastCLARA) on the sample ``idx`` [m], scored by TD on the
    full data. Not jitted as a whole: it calls the jitted SWAP loops, whose compilations are shared with
    every other [m, m] problem (e.g. the full data when m == n)."""
    sub = jnp.take(jnp.take(diss, idx, axis=0), idx, axis=1)
    if fast:
        res = fastpam2_loop(sub, lab(sub, k, key_init), max_iter=max_iter)
    else:
        res = best_swap_loop(sub, build(sub, k), method="pam", max_iter=max_iter)
    medoids = idx[res.medoids]
    return SampleRun(medoids, total_deviation(diss, medoids), res.n_iter, res.n_swap, idx)


def clara_runs(diss: jax.Array, k: int, key: jax.Array, *, n_samples: int = 5, sample_size: int | None = None,
               fast: bool = True, max_iter: int = 100):
    """Yields the :class:`SampleRun` of each of the n_samples samples of (Fast)CLARA, in order. Sample s > 0
    holds the best medoids of samples 0..s-1 (Kaufman & Rousseeuw's CLARA; kept by FastCLARA)."""
    n = diss.shape[0]
    m = int(min(n, sample_size or clara_sample_size(k, fast)))
    if m < k:
        raise ValueError(f"sample size {m} < k={k}")
    best_loss, keep = float("inf"), -jnp.ones((k,), jnp.int32)
    for s in range(n_samples):
        k_draw, k_init = sample_keys(key, s)
        run = clara_on_sample(diss, _draw(k_draw, keep, m, n), k, k_init, fast=fast, max_iter=max_iter)
        yield run
        if float(run.loss) < best_loss:
            best_loss, keep = float(run.loss), run.medoids


def clara(diss: jax.Array, k: int, key: jax.Array, *, n_samples: int = 5, sample_size: int | None = None,
          fast: bool = True, max_iter: int = 100):
    """CLARA (fast=False: PAM from BUILD on samples of 40 + 2k) or FastCLARA (fast=True: FastPAM2 from LAB on
    samples of 80 + 4k); both keep the best medoids so far in every later sample (:func:`clara_runs`).
    Returns (medoids [k], loss, total iterations, total swaps)."""
    best, best_loss, iters, swaps = None, jnp.inf, 0, 0
    for run in clara_runs(diss, k, key, n_samples=n_samples, sample_size=sample_size, fast=fast,
                          max_iter=max_iter):
        iters, swaps = iters + int(run.n_iter), swaps + int(run.n_swap)
        if float(run.loss) < float(best_loss):
            best, best_loss = run.medoids, run.loss
    return best, best_loss, iters, swaps


class ClaransState(NamedTuple):
    medoids: jax.Array
    caches: Caches
    fails: jax.Array
    step: jax.Array
    n_swap: jax.Array


@partial(jax.jit, static_argnames=("fast", "max_steps"))
def clarans_local(diss, medoids, key, max_neighbor, *, fast: bool = True, max_steps: int = 1_000_000):
    """One CLARANS local search from ``medoids``; stops after max_neighbor consecutive failures."""
    n, k = diss.shape[0], medoids.shape[0]

    def cond(s):
        return (s.fails < max_neighbor) & (s.step < max_steps)

    def body(s):
        kc, ki = jax.random.split(jax.random.fold_in(key, s.step))
        is_med = jnp.zeros((n,), bool).at[s.medoids].set(True)
        c = jnp.argmax(jnp.where(is_med, -1.0, jax.random.uniform(kc, (n,)))).astype(jnp.int32)
        d_c = diss[c]
        if fast:
            deltas = candidate_deltas(d_c, s.caches, k)          # all k medoids at once, O(n + k)
            i = jnp.argmin(deltas).astype(jnp.int32)
            delta = deltas[i]
        else:
            i = jax.random.randint(ki, (), 0, k, jnp.int32)       # one random pair, O(n)
            delta = pair_delta(d_c, s.caches, i)
        improve = delta < 0
        med, caches = jax.lax.cond(improve, lambda a: apply_swap(diss, a[0], a[1], i, c), lambda a: a,
                                   (s.medoids, s.caches))
        return ClaransState(med, caches, jnp.where(improve, 0, s.fails + 1), s.step + 1,
                            s.n_swap + improve.astype(jnp.int32))

    init = ClaransState(medoids, assign(diss, medoids), jnp.int32(0), jnp.int32(0), jnp.int32(0))
    return jax.lax.while_loop(cond, body, init)


def clarans_max_neighbor(n: int, k: int, fast: bool) -> int:
    """Consecutive failed draws that end a local search.

    CLARANS: Ng & Han's max(250, 1.25% of k(n-k)) (medoid, non-medoid) pairs.
    FastCLARANS: 2.5% of the (n-k) non-medoids (each draw evaluates all k medoids), as in the
    authors' ELKI implementation, whose FastCLARANS default rate is twice CLARANS' 1.25% but counted
    in candidates, not pairs ("sampling fewer non-medoids, we suggest to increase the subsampling
    rate slightly"); at least 250/k candidates (Ng & Han's floor of 250 pairs).
    """
    if fast:
        return max(-(-250 // k), -(-25 * (n - k) // 1000))
    return max(250, int(0.0125 * k * (n - k)))


def clarans(diss: jax.Array, k: int, key: jax.Array, *, num_local: int = 2, max_neighbor: int | None = None,
            fast: bool = True, init: str = "random"):
    """CLARANS / FastCLARANS: best of num_local randomized local searches.
    Returns (medoids [k], loss, total steps, total swaps)."""
    n = diss.shape[0]
    mn = int(max_neighbor or clarans_max_neighbor(n, k, fast))
    best, best_loss, steps, swaps = None, jnp.inf, 0, 0
    for r in range(num_local):
        kr, ks = jax.random.split(jax.random.fold_in(key, r))
        start = lab(diss, k, kr) if init == "lab" else random_init(n, k, kr)
        res = clarans_local(diss, start, ks, mn, fast=fast)
        loss = total_deviation(diss, res.medoids)
        steps, swaps = steps + int(res.step), swaps + int(res.n_swap)
        if float(loss) < float(best_loss):
            best, best_loss = res.medoids, loss
    return best, best_loss, steps, swaps
