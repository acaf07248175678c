"""Exact velocity b, score s and denoiser for Gaussian-mixture endpoints (the ground truth).

With rho0 = sum_i w0_i N(m0_i, C0_i), rho1 = sum_j w1_j N(m1_j, C1_j), x0, x1, z independent and
x_t = alpha x0 + beta x1 + gamma z, the pair (V, x_t) with V = dalpha x0 + dbeta x1 + dgamma z
(= d/dt x_t, the regression target of the b objective) is, given the component pair (i, j), jointly Gaussian:

  x_t | ij ~ N(mu_ij, S_ij),  mu_ij = alpha m0_i + beta m1_j,  S_ij = alpha^2 C0_i + beta^2 C1_j + gamma^2 I,
  Cov(V, x_t | ij) = A_ij = alpha dalpha C0_i + beta dbeta C1_j + gamma dgamma I.

So rho_t is the mixture over (i, j) with weights w0_i w1_j, and with responsibilities r_ij(x):
  b(t, x) = E[V | x_t = x] = sum_ij r_ij (dalpha m0_i + dbeta m1_j + A_ij S_ij^{-1} (x - mu_ij))  
  s(t, x) = grad log rho_t(x) = -sum_ij r_ij S_ij^{-1} (x - mu_ij) = -E[z | x_t = x] / gamma   
Only gamma * dgamma enters, so b is finite at t = 0, 1 for gamma = sqrt(a t (1-t)).
One-sided interpolants are the case rho0 = N(0, I), gamma = 0.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from common.data import GaussianMixture


def _pairs(rho0: GaussianMixture, rho1: GaussianMixture):
    """Flattened (i, j) component pairs: weights [K], means0/1 [K, d], covs0/1 [K, d, d]."""
    k0, k1 = rho0.weights.shape[0], rho1.weights.shape[0]
    i, j = jnp.repeat(jnp.arange(k0), k1), jnp.tile(jnp.arange(k1), k0)
    return rho0.weights[i] * rho1.weights[j], rho0.means[i], rho1.means[j], rho0.covs[i], rho1.covs[j]


def marginal(rho0: GaussianMixture, rho1: GaussianMixture, c: dict) -> GaussianMixture:
    """rho_t as a GaussianMixture with K0*K1 components, for the coefficients ``c`` at a scalar t."""
    w, m0, m1, c0, c1 = _pairs(rho0, rho1)
    eye = jnp.eye(rho0.dim, dtype=rho0.means.dtype)
    return GaussianMixture(w, c["alpha"] * m0 + c["beta"] * m1,
                           c["alpha"] ** 2 * c0 + c["beta"] ** 2 * c1 + c["gamma"] ** 2 * eye)


def fields(rho0: GaussianMixture, rho1: GaussianMixture, c: dict, x: jnp.ndarray):
    """(b, s) at x [n, d] for the coefficients ``c`` of one scalar time (Interpolant.coefficients)."""
    w, m0, m1, c0, c1 = _pairs(rho0, rho1)
    d = rho0.dim
    eye = jnp.eye(d, dtype=x.dtype)
    mu = c["alpha"] * m0 + c["beta"] * m1                                          # [K, d]
    cov = c["alpha"] ** 2 * c0 + c["beta"] ** 2 * c1 + c["gamma"] ** 2 * eye        # [K, d, d]
    cross = c["alpha"] * c["dalpha"] * c0 + c["beta"] * c["dbeta"] * c1 + c["ggdot"] * eye
    # Factor the K covariances once (not per point: batched tiny solves are slow on CPU).
    chol = jnp.linalg.cholesky(cov)
    prec = jax.scipy.linalg.cho_solve((chol, True), jnp.broadcast_to(eye, cov.shape))          # [K, d, d]
    logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), -1)
    diff = x[:, None, :] - mu                                                        # [n, K, d]
    prec_diff = jnp.einsum("kij,nkj->nki", prec, diff)
    logits = jnp.log(w) - 0.5 * (jnp.sum(diff * prec_diff, -1) + logdet)             # [n, K]
    r = jax.nn.softmax(logits, axis=-1)
    mean_v = c["dalpha"] * m0 + c["dbeta"] * m1                                       # [K, d]
    b_comp = mean_v + jnp.einsum("kij,nkj->nki", cross, prec_diff)
    b = jnp.einsum("nk,nki->ni", r, b_comp)
    s = -jnp.einsum("nk,nki->ni", r, prec_diff)
    return b, s


def make_exact_fields(interpolant, rho0: GaussianMixture, rho1: GaussianMixture):
    """Functions b(t, x), s(t, x) for scalar t and x [n, d] (the exact drift and score)."""
    def b(t, x):
        return fields(rho0, rho1, interpolant.coefficients(t), x)[0]

    def s(t, x):
        return fields(rho0, rho1, interpolant.coefficients(t), x)[1]

    return b, s


def standard_normal(d: int, dtype=jnp.float32) -> GaussianMixture:
    """N(0, I_d) as a one-component mixture (the base of one-sided interpolants)."""
    return GaussianMixture(jnp.ones((1,), dtype), jnp.zeros((1, d), dtype), jnp.eye(d, dtype=dtype)[None])
