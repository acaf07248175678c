"""Exact noise predictors (no training) and a closed-form diffusion-ODE solution for tests and claims.

For data p_0 = GMM(w_k, mu_k, Sigma_k), q_t = GMM(w_k, alpha_t mu_k, alpha_t^2 Sigma_k + sigma_t^2 I)
stays a mixture, so the exact noise prediction is eps*(x, t) = -sigma_t grad log q_t(x)
(the identity eps = -sigma_t score of Sec. 2). ``common.data.GaussianMixture.noised_score`` gives the score
for full covariances; :func:`isotropic_mixture_noise_pred` is the same quantity written for isotropic
components (no Cholesky factors, ~20x cheaper on CPU), used by the exact-score study.
For a single Gaussian N(mu, s^2 I) the diffusion ODE has the closed-form flow
    x_t = alpha_t mu + sqrt(alpha_t^2 s^2 + sigma_t^2) / sqrt(alpha_s^2 s^2 + sigma_s^2) (x_s - alpha_s mu).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from common.data import GaussianMixture


def mixture_noise_pred(mixture: GaussianMixture, schedule):
    """eps*(x, t) = -sigma_t * score of the noised mixture; x [B, d], t scalar."""
    def eps_fn(x, t):
        alpha, sigma = schedule.alpha(t), schedule.sigma(t)
        return -sigma * mixture.noised_score(x, alpha, sigma)
    return eps_fn


def isotropic_mixture_noise_pred(mixture: GaussianMixture, schedule):
    """eps*(x, t) for a mixture whose covariances are s_k^2 I (checked), in closed form.

    With v_k = alpha_t^2 s_k^2 + sigma_t^2, d_k = x - alpha_t mu_k and responsibilities
    r_k = softmax_k(log w_k - |d_k|^2 / (2 v_k) - (dim/2) log v_k):  eps* = sigma_t sum_k r_k d_k / v_k.
    """
    covs = np.asarray(mixture.covs)
    var = np.asarray([c[0, 0] for c in covs])
    if not np.allclose(covs, var[:, None, None] * np.eye(covs.shape[-1])[None]):
        raise ValueError("isotropic_mixture_noise_pred needs covariances s_k^2 I; use mixture_noise_pred")
    means, logw, dim = mixture.means, jnp.log(mixture.weights), mixture.dim
    var = jnp.asarray(var, means.dtype)

    def eps_fn(x, t):
        alpha, sigma = schedule.alpha(t), schedule.sigma(t)
        v = alpha ** 2 * var + sigma ** 2                                   # [K]
        d = x[:, None, :] - alpha * means                                   # [B, K, d]
        logits = logw - 0.5 * jnp.sum(d ** 2, -1) / v - 0.5 * dim * jnp.log(v)
        r = jax.nn.softmax(logits, axis=-1)
        return sigma * jnp.sum((r / v)[..., None] * d, axis=1)
    return eps_fn


def gaussian_noise_pred(mu, s, schedule):
    """eps*(x, t) for isotropic Gaussian data N(mu, s^2 I)."""
    def eps_fn(x, t):
        alpha, sigma = schedule.alpha(t), schedule.sigma(t)
        return sigma * (x - alpha * mu) / (alpha ** 2 * s ** 2 + sigma ** 2)
    return eps_fn


def gaussian_ode_flow(mu, s, schedule, x_s, t_s, t):
    """Exact solution at t of the diffusion ODE started at x_s at time t_s, Gaussian data N(mu, s^2 I)."""
    a_s, sg_s = schedule.alpha(t_s), schedule.sigma(t_s)
    a_t, sg_t = schedule.alpha(t), schedule.sigma(t)
    scale = jnp.sqrt(a_t ** 2 * s ** 2 + sg_t ** 2) / jnp.sqrt(a_s ** 2 * s ** 2 + sg_s ** 2)
    return a_t * mu + scale * (x_s - a_s * mu)
