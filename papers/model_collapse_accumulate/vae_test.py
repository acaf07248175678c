"""The VAE's ELBO terms against independent references, the entropy floor, and the fail-fast check."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from common.training import NonFiniteError
from papers.model_collapse_accumulate import vae


def test_gaussian_kl_matches_monte_carlo():
    """Closed-form KL(q || N(0, I)) vs the Monte Carlo mean of log q(z) - log p(z), z ~ q (scipy densities)."""
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=(3, 4)), rng.normal(scale=0.7, size=(3, 4))
    std = np.exp(0.5 * log_var)
    z = mu + std * rng.normal(size=(100000, 3, 4))
    mc = (stats.norm(mu, std).logpdf(z) - stats.norm().logpdf(z)).sum(-1).mean(0)
    np.testing.assert_allclose(vae.gaussian_kl(jnp.asarray(mu), jnp.asarray(log_var)), mc, rtol=0.02, atol=0.01)


def test_negative_elbo_is_bernoulli_cross_entropy_plus_kl_above_the_floor():
    model = vae.VAE(hidden=8, latent=2, pixels=6)
    x = jnp.asarray(np.r_[np.random.default_rng(1).uniform(size=(4, 6)), np.zeros((1, 6)), np.ones((1, 6))], jnp.float32)
    key = jax.random.PRNGKey(0)
    params = model.init(key, x, key)["params"]
    logits, mu, log_var = model.apply({"params": params}, x, key)
    p, xn = jax.nn.sigmoid(np.asarray(logits, np.float64)), np.asarray(x, np.float64)
    bce = -(xn * np.log(p) + (1 - xn) * np.log(1 - p)).sum(-1)
    kl = 0.5 * (np.exp(log_var) + np.asarray(mu) ** 2 - 1 - np.asarray(log_var)).sum(-1)
    nelbo = np.asarray(vae.negative_elbo(model, params, x, key))
    np.testing.assert_allclose(nelbo, bce + kl, rtol=1e-5)
    floor = vae.grey_level_entropy(x)
    assert np.all(nelbo > floor) and np.all(floor[-2:] == 0)
    ref = [sum(stats.bernoulli(v).entropy() for v in row) for row in xn[:4]]
    np.testing.assert_allclose(floor[:4], ref, rtol=1e-10)


def test_non_finite_training_stops_the_chain_naming_the_generation():
    model = vae.VAE(hidden=4, latent=2, pixels=3)
    real = jnp.full((4, 3), jnp.nan)
    with pytest.raises(NonFiniteError, match="step 1 of generation 1"):
        vae.run_chain(model, jax.random.PRNGKey(0), real, real, 2, "replace", steps=2, batch=2, lr=1e-3)
