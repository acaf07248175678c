"""Public functions: fasterpam, fastclara, fastclarans, and the naive pam baseline -> KMedoidsResult.

Each takes a precomputed dissimilarity matrix (``metric="precomputed"``, default) or feature vectors with
a metric name, in float32 or float64 (float64 needs ``with jax.enable_x64(True):``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from papers.fasterpam import sampling
from common import kmedoids_loops
from common.kmedoids_swap import best_swap_loop
from common.kmedoids import (KMedoidsResult, as_dissimilarity, assign, check_k, initial_medoids,
                                   total_deviation)
from papers.fasterpam.eager import fasterpam_loop, fasterpam_numpy, passes


def _result(diss, medoids, n_iter, n_swap) -> KMedoidsResult:
    medoids = jnp.asarray(medoids, jnp.int32)
    return KMedoidsResult(np.asarray(medoids), np.asarray(assign(diss, medoids).nearest),
                          float(total_deviation(diss, medoids)), int(n_iter), int(n_swap))


def _key(key):
    return jax.random.PRNGKey(0) if key is None else key


def fasterpam(diss, k: int, *, init="lab", max_iter: int = 100, key=None, metric: str = "precomputed",
              shuffle: bool = False, backend: str = "jax", dtype=None) -> KMedoidsResult:
    """FasterPAM (Algorithm 3): eager swaps with the O(k) removal-loss bookkeeping.

    init: 'lab' (default), 'random', 'build' or explicit medoid indices [k]. shuffle=True visits the
    candidates in a random order (from key), else in index order as the kmedoids package does.
    backend: 'jax' (one compiled lax.while_loop), 'numpy' (Python loop over candidates) or 'loops'
    (scalar loops compiled with numba, ``common.kmedoids_loops``); all three give the same swaps.
    n_iter counts passes over the candidates.
    """
    diss = as_dissimilarity(diss, metric, dtype)
    n = diss.shape[0]
    check_k(n, k)
    key = _key(key)
    k_init, k_order = jax.random.split(key)
    if k == 1:
        m = jnp.argmin(jnp.sum(diss, axis=1)).astype(jnp.int32)[None]
        return _result(diss, m, 1, 0)
    start = initial_medoids(diss, k, init, k_init)
    order = jax.random.permutation(k_order, n) if shuffle else jnp.arange(n)
    order = order.astype(jnp.int32)
    if backend == "jax":
        s = fasterpam_loop(diss, start, order, max_iter)
        med, t_end, n_swap = s.medoids, int(s.t), int(s.n_swap)
    elif backend == "numpy":
        med, t_end, n_swap = fasterpam_numpy(np.asarray(diss), np.asarray(start), np.asarray(order), max_iter)
    elif backend == "loops":
        # check=False: as_dissimilarity has checked (or built) the matrix
        med, t_end, n_swap = kmedoids_loops.fasterpam_swap(np.asarray(diss), np.asarray(start), np.asarray(order),
                                                           max_iter, check=False)
    else:
        raise ValueError(f"unknown backend {backend!r}; choose 'jax', 'numpy' or 'loops'")
    return _result(diss, med, passes(t_end, n, n_swap, max_iter), n_swap)


def pam(diss, k: int, *, init="build", max_iter: int = 100, key=None, metric: str = "precomputed",
        dtype=None, method: str = "pam", backend: str = "jax") -> KMedoidsResult:
    """Baseline: PAM (method='pam', O(k n^2) per iteration) or FastPAM1 (method='fastpam1'), best swap each
    iteration; backend 'jax' (array code) or 'loops' (scalar loops, numba), the same swaps."""
    if method not in ("pam", "fastpam1"):
        raise ValueError(f"unknown method {method!r}; choose 'pam' or 'fastpam1'")
    if backend not in ("jax", "loops"):
        raise ValueError(f"unknown backend {backend!r}; choose 'jax' or 'loops'")
    diss = as_dissimilarity(diss, metric, dtype)
    check_k(diss.shape[0], k)
    start = initial_medoids(diss, k, init, _key(key))
    if backend == "loops":
        # check=False: as_dissimilarity has checked (or built) the matrix
        return _result(diss, *kmedoids_loops.best_swap(np.asarray(diss), np.asarray(start), method=method,
                                                        max_iter=max_iter, check=False))
    s = best_swap_loop(diss, start, method=method, max_iter=max_iter)
    return _result(diss, s.medoids, s.n_iter, s.n_swap)


def fastclara(diss, k: int, *, n_samples: int = 5, sample_size: int | None = None, max_iter: int = 100,
              key=None, metric: str = "precomputed", dtype=None) -> KMedoidsResult:
    """FastCLARA: FasterPAM from LAB on samples of 80 + 4k points that include the best medoids so far."""
    diss = as_dissimilarity(diss, metric, dtype)
    check_k(diss.shape[0], k)
    med, _, n_s, swaps = sampling.fastclara(diss, k, _key(key), n_samples=n_samples, sample_size=sample_size,
                                            max_iter=max_iter)
    return _result(diss, med, n_s, swaps)


def fastclarans(diss, k: int, *, num_local: int = 2, max_neighbor: int | None = None, key=None,
                metric: str = "precomputed", dtype=None) -> KMedoidsResult:
    """FastCLARANS: randomized candidates, all k medoid swaps evaluated at once."""
    diss = as_dissimilarity(diss, metric, dtype)
    check_k(diss.shape[0], k)
    med, _, steps, swaps = sampling.fastclarans(diss, k, _key(key), num_local=num_local,
                                                max_neighbor=max_neighbor)
    return _result(diss, med, steps, swaps)
