"""Sample-quality measures: sliced Wasserstein-2, exact NLL under a known mixture, and FID with a
pluggable feature extractor.

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
    """Sliced W2 between equal-size empirical sets x, y [n, d] along ``directions`` [P, d].

    For each direction the 1-D W2^2 of equal-size samples is the mean squared gap of the sorted
    projections; SW2 = sqrt(mean over directions).
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"sliced_w2 needs equal sample sizes, got {x.shape[0]} and {y.shape[0]}")
    px = jnp.sort(x @ directions.T, axis=0)
    py = jnp.sort(y @ directions.T, axis=0)
    return jnp.sqrt(jnp.mean((px - py) ** 2))


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
