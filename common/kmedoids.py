"""Shared pieces of the k-medoids algorithms (fastpam, fasterpam): dissimilarities, assignment caches, loss, initialisation.

Notation of Schubert & Rousseeuw (SISAP 2019): ``diss`` is an ``[n, n]`` dissimilarity matrix with zero
diagonal, assumed symmetric (any metric, or any symmetric dissimilarity), so ``d(x_o, x_c) = diss[c, o]``
and the candidate's row is read contiguously. ``medoids`` is an ``[k]`` int32 vector of point indices.
For every point o the *caches* hold the nearest medoid ``n(o)`` (an index into ``medoids``), its distance
``d_n(o)`` and the distance to the second-nearest medoid ``d_s(o)`` (Section 3 of the paper).

All functions are pure JAX and keep the dtype of ``diss`` (float32 or float64).
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

METRICS = ("euclidean", "sqeuclidean", "manhattan", "cosine", "chebyshev")


class Caches(NamedTuple):
    """Per-point nearest/second-nearest medoid caches. Shapes: [n] each; ``dm`` is [n, k]."""
    dm: jax.Array        # dm[o, i] = d(x_o, m_i)
    nearest: jax.Array   # index i in [0, k) of the nearest medoid of o (int32)
    dn: jax.Array        # d_n(o) = d(x_o, m_{n(o)})
    ds: jax.Array        # d_s(o): distance to the second-nearest medoid (+inf when k == 1)


class KMedoidsResult(NamedTuple):
    """Result of a k-medoids run: medoids [k], labels [n], loss TD, iterations and swaps performed."""
    medoids: np.ndarray
    labels: np.ndarray
    loss: float
    n_iter: int
    n_swap: int


def pairwise_dissimilarity(x, metric: str = "euclidean", dtype=None) -> jax.Array:
    """Dense dissimilarity matrix of feature vectors x: [n, d] -> [n, n] (zero diagonal).

    Euclidean distances are computed from explicit differences in blocks of rows (not the
    ||a||^2 + ||b||^2 - 2ab expansion), so they are exact to the working precision.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {METRICS}")
    x = jnp.asarray(x, dtype=dtype) if dtype is not None else jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    return _pairwise(x, metric)


@partial(jax.jit, static_argnums=1)
def _pairwise(x, metric):
    if metric == "cosine":
        xn = x / jnp.maximum(jnp.linalg.norm(x, axis=1, keepdims=True), jnp.finfo(x.dtype).tiny)
        d = jnp.clip(1.0 - xn @ xn.T, 0.0, 2.0)
        return d * (1.0 - jnp.eye(x.shape[0], dtype=x.dtype))

    def row(xi):
        diff = x - xi[None, :]
        if metric == "euclidean":
            return jnp.sqrt(jnp.sum(diff * diff, axis=1))
        if metric == "sqeuclidean":
            return jnp.sum(diff * diff, axis=1)
        if metric == "manhattan":
            return jnp.sum(jnp.abs(diff), axis=1)
        return jnp.max(jnp.abs(diff), axis=1)  # chebyshev

    return jax.lax.map(row, x, batch_size=64)


def as_dissimilarity(data, metric: str | None = "precomputed", dtype=None) -> jax.Array:
    """A square dissimilarity matrix from either a precomputed matrix or feature vectors."""
    if metric in (None, "precomputed"):
        d = jnp.asarray(data, dtype=dtype) if dtype is not None else jnp.asarray(data)
        if d.ndim != 2 or d.shape[0] != d.shape[1]:
            raise ValueError(f"a precomputed dissimilarity matrix must be square, got shape {d.shape}")
        if not jnp.issubdtype(d.dtype, jnp.floating):
            d = d.astype(jnp.float32)
        check_dissimilarity(np.asarray(d))
        return d
    return pairwise_dissimilarity(data, metric, dtype)


def check_dissimilarity(d: np.ndarray) -> None:
    """Raises ValueError unless d is a finite, symmetric [n, n] matrix with a zero diagonal.

    Every SWAP kernel reads row c as the distances d(x_o, x_c) of candidate c (symmetry), and a medoid's own
    distance d(m, m) as 0; a matrix that breaks either gives wrong swaps without any error, so it is refused.
    """
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"a precomputed dissimilarity matrix must be square, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("the dissimilarity matrix has NaN or infinite entries")
    scale = float(np.max(np.abs(d))) if d.size else 0.0
    tol = 1e-5 * scale if d.dtype == np.float32 else 1e-12 * scale
    if np.any(np.abs(np.diagonal(d)) > tol):
        raise ValueError("the dissimilarity matrix must have a zero diagonal (d(x, x) = 0)")
    if np.max(np.abs(d - d.T), initial=0.0) > tol:
        raise ValueError("the dissimilarity matrix is not symmetric; k-medoids here needs d(x, y) = d(y, x): "
                         "symmetrise it, e.g. (D + D.T) / 2, or pass feature vectors with a metric")


@jax.jit
def assign(diss: jax.Array, medoids: jax.Array) -> Caches:
    """Nearest and second-nearest medoid of every point (O(nk)). A medoid is its own nearest medoid."""
    dm = jnp.take(diss, medoids, axis=1)                               # [n, k]
    return caches_from_dm(dm, medoids)


def caches_from_dm(dm: jax.Array, medoids: jax.Array) -> Caches:
    """Caches from the [n, k] point-to-medoid distances (ties: lowest medoid index; self first).

    Written with plain min-reductions (no argmin): XLA's variadic argmin reduction is not vectorised
    on CPU and was ~4x slower here; this refresh runs after every swap of FasterPAM.
    """
    n, k = dm.shape
    cols = jnp.arange(k, dtype=jnp.int32)
    key = jnp.where(jnp.arange(n)[:, None] == medoids[None, :], -jnp.inf, dm)
    nearest = jnp.min(jnp.where(key == jnp.min(key, axis=1, keepdims=True), cols[None, :], k), axis=1)
    hit = cols[None, :] == nearest[:, None]
    dn = jnp.sum(jnp.where(hit, dm, 0.0), axis=1)
    ds = jnp.min(jnp.where(hit, jnp.inf, dm), axis=1)          # +inf when k == 1
    return Caches(dm, nearest.astype(jnp.int32), dn, ds)


# ------------------------------------------------------------------ incremental caches (after one swap)

def nearest_two(dm: jax.Array, points: jax.Array, medoids: jax.Array):
    """nearest, second (medoid indices) and d_n, d_s of the given points from their [p, k] distances
    to the medoids; the same tie rules as :func:`common.kmedoids.caches_from_dm` (lowest index, a
    medoid is its own nearest). Plain min-reductions, no variadic argmin (not vectorised on CPU)."""
    k = dm.shape[1]
    cols = jnp.arange(k, dtype=jnp.int32)[None, :]
    key = jnp.where(points[:, None] == medoids[None, :], -jnp.inf, dm)
    nearest = jnp.min(jnp.where(key == jnp.min(key, axis=1, keepdims=True), cols, k), axis=1)
    hit = cols == nearest[:, None]
    dn = jnp.sum(jnp.where(hit, dm, 0.0), axis=1)
    rest = jnp.where(hit, jnp.inf, dm)
    ds = jnp.min(rest, axis=1)
    second = jnp.min(jnp.where(rest == ds[:, None], cols, k), axis=1)
    return nearest.astype(jnp.int32), jnp.minimum(second, k - 1).astype(jnp.int32), dn, ds


def initial_caches(diss: jax.Array, medoids: jax.Array):
    """(Caches with an empty dm, second-nearest index [n]) of all points, O(nk)."""
    n = diss.shape[0]
    dm = jnp.take(diss, medoids, axis=0).T      # rows of the symmetric matrix: a contiguous gather
    nearest, second, dn, ds = nearest_two(dm, jnp.arange(n), medoids)
    return Caches(jnp.zeros((n, 0), diss.dtype), nearest, dn, ds), second


def update_caches(diss, medoids, caches: Caches, second, b, d_c, cap: int | None = None):
    """Caches after medoid slot b was replaced by the point whose distances are d_c [n]
    (``medoids`` already holds the new medoid); Algorithm 3's update of n(o), d_n, d_s.

    Points for which neither the nearest nor the second-nearest medoid was slot b (and no distance
    tie with the new medoid) are updated in O(1) each: the new medoid becomes the nearest, the second
    or neither. The others (about 2n/k on average) need their third-nearest medoid and are recomputed
    from all k distances: a fixed-size gather of at most ``cap`` points, O(cap k), with a full O(nk)
    recomputation only when more points are affected. Equal to recomputing all caches from scratch.
    """
    n, k = diss.shape[0], medoids.shape[0]
    b = jnp.asarray(b, jnp.int32)
    dn, ds, nearest = caches.dn, caches.ds, caches.nearest
    closer = d_c < dn
    fast_nearest = jnp.where(closer, b, nearest)
    fast_second = jnp.where(closer, nearest, jnp.where(d_c < ds, b, second))
    fast_dn = jnp.where(closer, d_c, dn)
    fast_ds = jnp.where(closer, dn, jnp.where(d_c < ds, d_c, ds))
    affected = (nearest == b) | (second == b) | (d_c == dn) | (d_c == ds)
    cap = min(n, 64 + 4 * (n // k)) if cap is None else cap
    count = jnp.sum(affected)

    def few(_):
        idx = jnp.nonzero(affected, size=cap, fill_value=n)[0]
        safe = jnp.minimum(idx, n - 1)
        sub = diss[safe[:, None], medoids[None, :]]                         # [cap, k]
        nr, sc, a, b2 = nearest_two(sub, safe, medoids)
        put = lambda full, part: full.at[idx].set(part, mode="drop")
        return put(fast_nearest, nr), put(fast_second, sc), put(fast_dn, a), put(fast_ds, b2)

    def all_points(_):
        return nearest_two(jnp.take(diss, medoids, axis=0).T, jnp.arange(n), medoids)

    nearest, second, dn, ds = jax.lax.cond(count <= cap, few, all_points, None)
    return Caches(caches.dm, nearest, dn, ds), second


@jax.jit
def total_deviation(diss: jax.Array, medoids: jax.Array) -> jax.Array:
    """TD = sum_o min_i d(x_o, m_i) (Eq. (2) of the paper), accumulated in the dtype of diss."""
    return jnp.sum(jnp.min(jnp.take(diss, medoids, axis=1), axis=1))


def labels_of(diss, medoids) -> np.ndarray:
    """Cluster label (index into medoids) of every point."""
    return np.asarray(assign(jnp.asarray(diss), jnp.asarray(medoids, jnp.int32)).nearest)


# ------------------------------------------------------------------ initialisation

@partial(jax.jit, static_argnums=1)
def build(diss: jax.Array, k: int) -> jax.Array:
    """PAM BUILD (Algorithm 1, BUILD part; Kaufman & Rousseeuw): greedy, O(n^2 k).

    The first medoid minimises the sum of dissimilarities; each further medoid is the candidate c
    with the largest TD reduction sum_o min(d(x_o, x_c) - d_n(o), 0), i.e. the new TD
    sum_o min(d(x_o, x_c), d_n(o)) of the paper's Algorithm 1 (the candidate's own term included, as in
    the kmedoids package; Kaufman & Rousseeuw's book leaves it out). Ties: lowest index.
    Returns medoids [k] int32.
    """
    n = diss.shape[0]
    first = jnp.argmin(jnp.sum(diss, axis=1)).astype(jnp.int32)
    medoids = jnp.zeros((k,), jnp.int32).at[0].set(first)
    dn = diss[first]
    is_med = jnp.zeros((n,), bool).at[first].set(True)

    def step(l, carry):
        medoids, dn, is_med = carry
        gain = jnp.sum(jnp.minimum(diss - dn[None, :], 0.0), axis=1)
        gain = jnp.where(is_med, jnp.inf, gain)
        c = jnp.argmin(gain).astype(jnp.int32)
        return medoids.at[l].set(c), jnp.minimum(dn, diss[c]), is_med.at[c].set(True)

    medoids, _, _ = jax.lax.fori_loop(1, k, step, (medoids, dn, is_med))
    return medoids


def lab_sample_size(n: int) -> int:
    """LAB's subsample size 10 + ceil(sqrt(n)) (Section 4.3 of the paper), at most n."""
    return int(min(n, 10 + int(np.ceil(np.sqrt(n)))))


@partial(jax.jit, static_argnums=(1, 3))
def _lab(diss, k, key, m):
    n = diss.shape[0]

    def step(l, carry):
        medoids, dn, is_med = carry
        # Draw m distinct non-medoids: the m smallest of random keys, medoids pushed to the end.
        u = jax.random.uniform(jax.random.fold_in(key, l), (n,))
        u = jnp.where(is_med, 2.0, u)
        sample = jnp.argsort(u)[:m]                                        # [m]
        sub = diss[sample][:, sample]                                      # [m, m]
        dn_s = dn[sample]
        # TD change on the sample as in BUILD; the first medoid minimises the row sum.
        change = jnp.sum(jnp.minimum(sub - dn_s[None, :], 0.0), axis=1)
        gain = jnp.where(l == 0, jnp.sum(sub, axis=1), change)
        c = sample[jnp.argmin(gain)].astype(jnp.int32)
        return medoids.at[l].set(c), jnp.minimum(dn, diss[c]), is_med.at[c].set(True)

    carry = (jnp.zeros((k,), jnp.int32), jnp.full((n,), jnp.inf, diss.dtype), jnp.zeros((n,), bool))
    medoids, _, _ = jax.lax.fori_loop(0, k, step, carry)
    return medoids


def lab(diss: jax.Array, k: int, key: jax.Array) -> jax.Array:
    """LAB, Linear Approximative BUILD (Section 4.3): BUILD evaluated on a fresh random subsample of
    10 + ceil(sqrt(n)) non-medoids for each of the k medoids, O(k n) instead of O(k n^2).
    Returns medoids [k] int32."""
    return _lab(diss, k, key, lab_sample_size(diss.shape[0]))


def random_init(n: int, k: int, key: jax.Array) -> jax.Array:
    """k distinct uniformly random points as medoids [k] int32."""
    return jax.random.choice(key, n, (k,), replace=False).astype(jnp.int32)


def initial_medoids(diss, k: int, init, key) -> jax.Array:
    """Medoids from init: 'build', 'lab', 'random', or an explicit index array."""
    if isinstance(init, str):
        if init == "build":
            return build(diss, k)
        if init == "lab":
            return lab(diss, k, key)
        if init == "random":
            return random_init(diss.shape[0], k, key)
        raise ValueError(f"unknown init {init!r}; choose 'build', 'lab', 'random' or pass medoid indices")
    med = jnp.asarray(init, jnp.int32)
    if med.shape != (k,) or len(set(np.asarray(med).tolist())) != k:
        raise ValueError(f"explicit initial medoids must be {k} distinct indices, got {np.asarray(med)}")
    return med


def check_k(n: int, k: int) -> None:
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, n={n}], got {k}")
