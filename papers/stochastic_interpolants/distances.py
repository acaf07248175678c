"""Sample-quality metrics: sliced 2-Wasserstein, binned KL against the exact target density, and the
relative L2 error of a learned field."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def directions(key, num: int, d: int):
    """num unit vectors in R^d, [num, d]."""
    v = jax.random.normal(key, (num, d))
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


def sliced_w2(x, y, dirs):
    """sqrt(mean over directions of W2^2 between the 1-D projections); x, y: [n, d] (same n)."""
    px, py = jnp.sort(x @ dirs.T, axis=0), jnp.sort(y @ dirs.T, axis=0)
    return jnp.sqrt(jnp.mean((px - py) ** 2))


def bin_masses(log_prob, lo: float, hi: float, bins: int, sub: int = 4):
    """Exact probabilities of a 2-D density on a bins x bins grid over [lo, hi]^2 (midpoint rule with
    sub x sub points per bin), renormalised over the box. [bins, bins]."""
    fine = bins * sub
    centers = lo + (np.arange(fine) + 0.5) * (hi - lo) / fine
    gx, gy = np.meshgrid(centers, centers, indexing="ij")
    dens = np.exp(np.asarray(log_prob(jnp.asarray(np.stack([gx, gy], -1).reshape(-1, 2))))).reshape(fine, fine)
    mass = dens.reshape(bins, sub, bins, sub).sum((1, 3))
    return mass / mass.sum()


def binned_kl(p_exact, samples, lo: float, hi: float, pseudo: float = 0.5):
    """KL(P || Q) between exact bin masses P [bins, bins] (renormalised over the box) and the histogram
    Q of samples [n, 2], Q = (counts + pseudo) / (n + pseudo * bins^2).

    n counts every sample, so samples outside the box are mass that Q misses inside it: they add about
    -log(1 - fraction outside) nats instead of being dropped. The pseudo-counts bias Q towards uniform,
    so even exact samples give a clearly positive value (the Monte-Carlo floor); only the excess over
    that floor measures sampling error.
    """
    bins = p_exact.shape[0]
    samples = np.asarray(samples)
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=bins, range=[[lo, hi], [lo, hi]])
    q = (counts + pseudo) / (len(samples) + pseudo * counts.size)
    p = np.asarray(p_exact)
    keep = p > 0
    return float(np.sum(p[keep] * np.log(p[keep] / q[keep])))


def fraction_outside(samples, lo: float, hi: float) -> float:
    """Fraction of samples [n, 2] outside the box [lo, hi]^2 of :func:`binned_kl`."""
    samples = np.asarray(samples)
    return float(np.mean(np.any((samples < lo) | (samples > hi), axis=-1)))


def relative_l2(pred, exact):
    """||pred - exact|| / ||exact|| over all entries."""
    return jnp.sqrt(jnp.sum((pred - exact) ** 2) / jnp.sum(exact ** 2))
