"""Sample-quality measures: sliced Wasserstein-2, the unbiased energy distance, exact NLL under a known
mixture, and FID with a pluggable feature extractor.

FID (Heusel et al.) is the Frechet distance between Gaussians fitted to features of generated and real
images: ||m1 - m2||^2 + tr(C1 + C2 - 2 (C1 C2)^{1/2}). The paper uses Inception-v3 pool features; that
network is not bundled here, so the extractor is named by an import path in the config
(``module:function`` mapping images [N, H, W, C] in [0, 1] to features [N, F]); the default
``pixel_features`` (flattened pixels) runs anywhere but is not comparable with published FIDs.
"""
from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg


def random_directions(key, n_proj: int, dim: int, dtype=jnp.float32):
    """n_proj unit vectors in R^dim, [n_proj, dim]."""
    v = jax.random.normal(key, (n_proj, dim), dtype)
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


def sliced_w2(x, y, directions):
    """Sliced W2 between empirical sets x [n, d] and y [m, d], m = k n (k >= 1 an integer), along ``directions`` [P, d].

    Per direction the exact 1-D W2^2 between uniform empirical measures with n and k n atoms couples the
    i-th smallest projection of x with the i-th block of k sorted projections of y (monotone coupling);
    SW2 = sqrt(mean over directions of W2^2). A larger reference set (k > 1) lowers the estimator's floor.
    """
    return sliced_w2_sorted(x, sorted_projections(y, directions), directions)


def sorted_projections(y, directions):
    """Projections of y [m, d] on ``directions`` [P, d], sorted over the samples: [m, P]."""
    return jnp.sort(y @ directions.T, axis=0)


def sliced_w2_sorted(x, py, directions):
    """sliced_w2(x, y) given py = sorted_projections(y, directions) (sort a fixed reference set once)."""
    n, m = x.shape[0], py.shape[0]
    if m % n:
        raise ValueError(f"sliced_w2 needs len(y) = k len(x) for an integer k, got {n} and {m}")
    px = jnp.sort(x @ directions.T, axis=0)                              # [n, P]
    py = py.reshape(n, m // n, -1)                                       # [n, k, P]
    return jnp.sqrt(jnp.mean((px[:, None, :] - py) ** 2))


def sliced_w2_replicates(x, y, directions, presorted: bool = False):
    """sliced_w2 of each replicate: x [R, n, d], y [R, k n, d] (or, presorted, [R, k n, P]) -> [R]."""
    if not presorted:
        y = jax.vmap(sorted_projections, in_axes=(0, None))(y, directions)
    return jax.vmap(sliced_w2_sorted, in_axes=(0, 0, None))(x, y, directions)


def _mean_pair_distance(a, b, exclude_diagonal: bool):
    sq = jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
    d = jnp.sqrt(jnp.maximum(sq, 0.0))
    n, m = d.shape
    if exclude_diagonal:
        return (jnp.sum(d) - jnp.sum(jnp.diagonal(d))) / (n * (n - 1))
    return jnp.sum(d) / (n * m)


@jax.jit
def energy_distance(x, y):
    """Unbiased squared energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| between samples x [n, d], y [m, d].

    The within-sample means are U-statistics (pairs i != j), so the estimate is zero in expectation when x and
    y come from one distribution and positive in expectation otherwise (Szekely & Rizzo); unlike finite-sample
    sliced W2 it has no bias that depends on how spread out the samples are.
    """
    return (2.0 * _mean_pair_distance(x, y, False) - _mean_pair_distance(x, x, True)
            - _mean_pair_distance(y, y, True))


def energy_distance_sets(x, y_sets):
    """energy_distance(x, y) of one sample set x [n, d] against each held-out set of y_sets [R, m, d]: [R]."""
    return jax.vmap(energy_distance, in_axes=(None, 0))(x, y_sets)


def nearest_centre_msd(z, centres) -> float:
    """Mean squared distance of samples [N, d] to their nearest mixture centre [K, d] (dispersion of the modes)."""
    z, centres = np.asarray(z), np.asarray(centres)
    return float(np.mean(((z[:, None, :] - centres[None]) ** 2).sum(-1).min(1)))


def mean_and_se(values) -> tuple[float, float]:
    """Mean and its standard error (sample std / sqrt(R)) over independent replicates."""
    v = np.asarray(values, np.float64)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def mixture_nll(mixture, x):
    """Mean negative log-likelihood of samples x [n, d] under the true mixture (cross-entropy estimate)."""
    return -jnp.mean(mixture.log_prob(x))


def frechet_distance(feat_a: np.ndarray, feat_b: np.ndarray) -> float:
    """Frechet distance between Gaussian fits of two feature sets [n, F] (float64 numpy)."""
    a, b = np.asarray(feat_a, np.float64), np.asarray(feat_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    covmean, _ = scipy.linalg.sqrtm(cov_a @ cov_b, disp=False)
    covmean = np.real(covmean)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * covmean))


def pixel_features(images) -> np.ndarray:
    """Default FID features: flattened pixels, [N, H*W*C]."""
    images = np.asarray(images, np.float64)
    return images.reshape(images.shape[0], -1)


def load_feature_fn(path: str):
    """Imports ``package.module:function`` (e.g. a user's Inception wrapper)."""
    if ":" not in path:
        raise ValueError(f"feature extractor {path!r} must look like 'package.module:function'")
    module, name = path.split(":", 1)
    return getattr(importlib.import_module(module), name)
