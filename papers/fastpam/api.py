"""Public functions: pam, fastpam1, fastpam2, clara, clarans -> KMedoidsResult.

Each takes either a precomputed dissimilarity matrix (``metric="precomputed"``, the default) or feature
vectors with a metric name (euclidean, sqeuclidean, manhattan, cosine, chebyshev), in float32 or float64
(``dtype``; float64 needs ``jax.enable_x64`` to be on, e.g. ``with jax.enable_x64(True): ...``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from papers.fastpam import sampling
from common import kmedoids_loops
from common.kmedoids import (KMedoidsResult, as_dissimilarity, assign, check_k, initial_medoids,
                                 total_deviation)
from common.kmedoids_swap import best_swap_loop, fastpam2_loop


def _result(diss, medoids, n_iter, n_swap) -> KMedoidsResult:
    medoids = jnp.asarray(medoids, jnp.int32)
    return KMedoidsResult(np.asarray(medoids), np.asarray(assign(diss, medoids).nearest),
                          float(total_deviation(diss, medoids)), int(n_iter), int(n_swap))


def _key(key, seed=0):
    return jax.random.PRNGKey(seed) if key is None else key


def _one_medoid(diss) -> KMedoidsResult:
    m = jnp.argmin(jnp.sum(diss, axis=1)).astype(jnp.int32)[None]
    return _result(diss, m, 1, 0)


def _swap_api(method, data, k, *, metric, init, max_iter, key, dtype, backend="jax", **kw) -> KMedoidsResult:
    if backend not in ("jax", "loops"):
        raise ValueError(f"unknown backend {backend!r}; choose 'jax' or 'loops'")
    diss = as_dissimilarity(data, metric, dtype)
    check_k(diss.shape[0], k)
    if k == 1:
        return _one_medoid(diss)
    start = initial_medoids(diss, k, init, _key(key))
    if backend == "loops":
        # check=False: as_dissimilarity has checked (or built) the matrix
        return _result(diss, *kmedoids_loops.best_swap(np.asarray(diss), np.asarray(start), method=method,
                                                        max_iter=max_iter, check=False))
    if method == "fastpam2":
        s = fastpam2_loop(diss, start, max_iter=max_iter, **kw)
    else:
        s = best_swap_loop(diss, start, method=method, max_iter=max_iter)
    return _result(diss, s.medoids, s.n_iter, s.n_swap)


def pam(data, k: int, *, metric: str = "precomputed", init="build", max_iter: int = 100, key=None,
        dtype=None, backend: str = "jax") -> KMedoidsResult:
    """Original PAM: BUILD + SWAP with O(k (n-k)^2) per iteration (Algorithm 1).

    backend: 'jax' (array code, :mod:`common.kmedoids_swap`) or 'loops' (scalar loops compiled with numba,
    the papers' code style, :mod:`common.kmedoids_loops`); the same swaps."""
    return _swap_api("pam", data, k, metric=metric, init=init, max_iter=max_iter, key=key, dtype=dtype,
                     backend=backend)


def fastpam1(data, k: int, *, metric: str = "precomputed", init="build", max_iter: int = 100, key=None,
             dtype=None, backend: str = "jax") -> KMedoidsResult:
    """FastPAM1: the same swaps as PAM, O((n-k)^2) per iteration (Algorithm 2); backend as in :func:`pam`."""
    return _swap_api("fastpam1", data, k, metric=metric, init=init, max_iter=max_iter, key=key, dtype=dtype,
                     backend=backend)


def fastpam2(data, k: int, *, metric: str = "precomputed", init="lab", max_iter: int = 100, key=None,
             dtype=None, tau: float = 1.0) -> KMedoidsResult:
    """FastPAM2: FastPAM1 deltas with up to k swaps per iteration (Section 4.2), LAB init by default."""
    return _swap_api("fastpam2", data, k, metric=metric, init=init, max_iter=max_iter, key=key, dtype=dtype,
                     tau=tau)


def clara(data, k: int, *, metric: str = "precomputed", n_samples: int = 5, sample_size: int | None = None,
          fast: bool = True, max_iter: int = 100, key=None, dtype=None) -> KMedoidsResult:
    """CLARA (fast=False) or FastCLARA (fast=True); n_iter sums the SWAP iterations over samples."""
    diss = as_dissimilarity(data, metric, dtype)
    check_k(diss.shape[0], k)
    med, _, iters, swaps = sampling.clara(diss, k, _key(key), n_samples=n_samples, sample_size=sample_size,
                                          fast=fast, max_iter=max_iter)
    return _result(diss, med, iters, swaps)


def clarans(data, k: int, *, metric: str = "precomputed", num_local: int = 2, max_neighbor: int | None = None,
            fast: bool = True, init: str = "random", key=None, dtype=None) -> KMedoidsResult:
    """CLARANS (fast=False) or FastCLARANS (fast=True); n_iter counts the randomized draws."""
    diss = as_dissimilarity(data, metric, dtype)
    check_k(diss.shape[0], k)
    med, _, steps, swaps = sampling.clarans(diss, k, _key(key), num_local=num_local, max_neighbor=max_neighbor,
                                            fast=fast, init=init)
    return _result(diss, med, steps, swaps)
