"""Model-data feedback loop for density estimation: a full-covariance Gaussian fit by maximum likelihood.

Each generation fits G_i on D_i, samples S_i with |S_i| = |real| and builds D_{i+1}:
* replace:               D_{i+1} = S_i
* accumulate:            D_{i+1} = D_i U S_i (grows by |real| per generation)
* accumulate_subsample:  a fixed-budget mixed variant (the "accumulate-subsample" workflow of the follow-up
                         Kazdan et al. 2024, "Collapse or Thrive?"; this paper compares only the two above):
                         the pool accumulates, but G_{i+1} is fit on |real| points drawn uniformly (with
                         replacement) from the pool.
The data live in a pre-allocated pool [m G, d] with a count, so one jitted scan runs all generations.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

REGIMES = ("replace", "accumulate", "accumulate_subsample")


def fit_gaussian(x: jax.Array, weights: jax.Array):
    """Weighted MLE of a Gaussian: x [N, d], weights [N] (0/1 mask) -> mean [d], cov [d, d]."""
    w = weights / jnp.sum(weights)
    mean = w @ x
    xc = x - mean
    cov = (xc * w[:, None]).T @ xc
    return mean, cov


def gaussian_nll(x: jax.Array, mean: jax.Array, cov: jax.Array) -> jax.Array:
    """Mean negative log-likelihood (nats per point) of x [N, d] under N(mean, cov)."""
    d = x.shape[-1]
    chol = jnp.linalg.cholesky(cov)
    z = jax.scipy.linalg.solve_triangular(chol, (x - mean).T, lower=True)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(chol)))
    return 0.5 * (jnp.mean(jnp.sum(z**2, axis=0)) + logdet + d * jnp.log(2.0 * jnp.pi))


def gaussian_cross_entropy(mean_p, cov_p, mean_q, cov_q) -> jax.Array:
    """E_{x~p}[-log q(x)] for Gaussians p, q (nats): the held-out real-data NLL in the limit of an infinite
    test set, 0.5 [tr(S_q^-1 S_p) + (m_q - m_p)^T S_q^-1 (m_q - m_p) + log det(2 pi S_q)]."""
    d = mean_p.shape[-1]
    chol = jnp.linalg.cholesky(cov_q)
    inv = jax.scipy.linalg.cho_solve((chol, True), jnp.eye(d, dtype=cov_q.dtype))
    diff = mean_q - mean_p
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(chol)))
    return 0.5 * (jnp.trace(inv @ cov_p) + diff @ inv @ diff + logdet + d * jnp.log(2.0 * jnp.pi))


def sample_gaussian(key, mean, cov, n: int):
    chol = jnp.linalg.cholesky(cov)
    return mean + jax.random.normal(key, (n, mean.shape[0]), mean.dtype) @ chol.T


def _subsample_mask(key, count, size: int, n: int):
    """Multiplicity weights [size] of n rows drawn uniformly with replacement from the first ``count`` pool
    rows (a cheap stand-in for a subsample without replacement: no sort of the pool per generation)."""
    idx = jax.random.randint(key, (n,), 0, count)
    return jnp.zeros((size,)).at[idx].add(1.0)


def regime_flags(regime: str):
    """(accumulate, subsample) 0/1 flags of a regime name."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {REGIMES}")
    return float(regime != "replace"), float(regime == "accumulate_subsample")


def run_chain(key, real: jax.Array, true_mean: jax.Array, true_cov: jax.Array, n_generations: int, regime):
    """One feedback loop. real [m, d]; ``regime`` a name or traced (accumulate, subsample) flags (one
    compilation for all regimes). Returns (real-data NLL = cross-entropy to the true Gaussian [G], log det [G])."""
    acc, sub = regime_flags(regime) if isinstance(regime, str) else regime
    m, d = real.shape
    size = m * n_generations
    pool = jnp.zeros((size, d), real.dtype).at[:m].set(real)

    def step(carry, k):
        pool, count = carry
        k_sub, k_sample = jax.random.split(k)
        full = (jnp.arange(size) < count).astype(real.dtype)
        # generation 1 fits all real points in every regime; later, subsample |real| points of the pool
        valid = jnp.where((sub > 0) & (count > m), _subsample_mask(k_sub, count, size, m).astype(real.dtype), full)
        mean, cov = fit_gaussian(pool, valid)
        nll = gaussian_cross_entropy(true_mean, true_cov, mean, cov)
        logdet = jnp.linalg.slogdet(cov)[1]
        synth = sample_gaussian(k_sample, mean, cov, m)
        start = jnp.where(acc > 0, jnp.minimum(count, size - m), 0)   # replace overwrites rows [0, m)
        pool = jax.lax.dynamic_update_slice(pool, synth, (start, 0))
        count = jnp.where(acc > 0, jnp.minimum(count + m, size), m)
        return (pool, count), (nll, logdet)

    _, (nll, logdet) = jax.lax.scan(step, (pool, jnp.asarray(m)), jax.random.split(key, n_generations))
    return nll, logdet


def true_gaussian(key, dim: int, dtype=jnp.float64):
    """The 'real' distribution: a random mean and a random well-conditioned covariance."""
    k1, k2 = jax.random.split(key)
    mean = jax.random.normal(k1, (dim,), dtype)
    a = jax.random.normal(k2, (dim, dim), dtype) / jnp.sqrt(dim)
    return mean, a @ a.T + 0.5 * jnp.eye(dim, dtype=dtype)


def monte_carlo(key, *, dim: int, n_real: int, n_generations: int, reps: int, regime: str):
    """Vmapped repeats of the loop, each with its own real sample; one fixed true Gaussian.
    Returns (NLL [reps, G], logdet [reps, G], entropy of the true density (its own NLL) scalar)."""
    flags = jnp.asarray(regime_flags(regime))
    return _monte_carlo(key, flags, dim=dim, n_real=n_real, n_generations=n_generations, reps=reps)


@functools.partial(jax.jit, static_argnames=("dim", "n_real", "n_generations", "reps"))
def _monte_carlo(key, flags, *, dim, n_real, n_generations, reps):
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    k_true, k_reps = jax.random.split(key)
    mean, cov = true_gaussian(k_true, dim, dtype)

    def one(k):
        k_real, k_loop = jax.random.split(k)
        real = sample_gaussian(k_real, mean, cov, n_real)
        return run_chain(k_loop, real, mean, cov, n_generations, (flags[0], flags[1]))

    nll, logdet = jax.vmap(one)(jax.random.split(k_reps, reps))
    return nll, logdet, gaussian_cross_entropy(mean, cov, mean, cov)
