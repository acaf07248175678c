"""Model-data feedback loop for a small VAE on 8x8 digits (stand-in for the paper's CelebA VAE, Sec. 4).

Generation i trains a fresh VAE (new init) on D_i for a fixed number of Adam steps, then samples
|S_i| = |real| images x = sigmoid(decoder(z)), z ~ N(0, I) (decoder means). D_{i+1} = S_i (replace) or
D_i U S_i (accumulate). Data live in a pre-allocated pool [N G, 64] with a count; minibatches are drawn
uniformly from the first ``count`` rows, so one jitted function trains every generation.
Metric: the negative ELBO (Bernoulli cross-entropy on grey levels + KL, nats per image) on held-out
real digits. It is bounded below by the grey levels' own binary entropy (``grey_level_entropy``), a floor
no model can go under, which eval reports next to it.
"""
from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from papers.model_collapse_accumulate import feedback

REGIMES = feedback.REGIMES


class VAE(nn.Module):
    hidden: int = 256
    latent: int = 8
    pixels: int = 64

    def setup(self):
        self.enc = nn.Dense(self.hidden)
        self.enc_out = nn.Dense(2 * self.latent)
        self.dec = nn.Dense(self.hidden)
        self.dec_out = nn.Dense(self.pixels)

    def encode(self, x):
        h = nn.relu(self.enc(x))
        mu, log_var = jnp.split(self.enc_out(h), 2, axis=-1)
        return mu, log_var

    def decode(self, z):
        return self.dec_out(nn.relu(self.dec(z)))          # logits [.., 64]

    def __call__(self, x, key):
        mu, log_var = self.encode(x)
        z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(key, mu.shape)
        return self.decode(z), mu, log_var


def gaussian_kl(mu, log_var):
    """KL(N(mu, diag exp(log_var)) || N(0, I)) in closed form, summed over the last axis [..]."""
    return 0.5 * jnp.sum(jnp.exp(log_var) + mu**2 - 1.0 - log_var, axis=-1)


def negative_elbo(model: VAE, params, x, key):
    """Per-image negative ELBO [B]: BCE(x, decoder logits) at one reparameterised z + KL(q(z|x) || N(0, I))."""
    logits, mu, log_var = model.apply({"params": params}, x, key)
    rec = jnp.sum(optax.sigmoid_binary_cross_entropy(logits, x), axis=-1)
    return rec + gaussian_kl(mu, log_var)


def grey_level_entropy(x) -> np.ndarray:
    """Per-image sum of the binary entropies H(x_p) of the grey levels x [B, P] in [0, 1] (nats) [B]: the
    minimum over decoder outputs of the Bernoulli cross-entropy, hence a lower bound of every negative ELBO."""
    x = np.asarray(x, np.float64)
    inner = (x > 0) & (x < 1)
    p = np.where(inner, x, 0.5)
    return np.sum(np.where(inner, -(p * np.log(p) + (1 - p) * np.log1p(-p)), 0.0), axis=-1)


@functools.partial(jax.jit, static_argnames=("model", "samples"))
def heldout_nelbo(model: VAE, params, x, key, samples: int = 8):
    """Mean negative ELBO over held-out images, averaged over ``samples`` reparameterised draws."""
    vals = jax.vmap(lambda k: negative_elbo(model, params, x, k).mean())(jax.random.split(key, samples))
    return vals.mean()


@functools.partial(jax.jit, static_argnames=("model", "steps", "batch", "lr"))
def train_generation(model: VAE, key, pool, count, *, steps: int, batch: int, lr: float):
    """Fresh init, ``steps`` Adam steps on minibatches from pool[:count]. Returns (params, training loss
    [steps], gradient norm [steps])."""
    k_init, k_loop = jax.random.split(key)
    params = model.init(k_init, pool[:1], k_init)["params"]
    opt = optax.adam(lr)
    opt_state = opt.init(params)

    def step(carry, k):
        params, opt_state = carry
        k_idx, k_z = jax.random.split(k)
        idx = jax.random.randint(k_idx, (batch,), 0, count)
        loss, grads = jax.value_and_grad(lambda p: negative_elbo(model, p, pool[idx], k_z).mean())(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (loss, optax.global_norm(grads))

    (params, _), (losses, grad_norms) = jax.lax.scan(step, (params, opt_state), jax.random.split(k_loop, steps))
    return params, losses, grad_norms


@functools.partial(jax.jit, static_argnames=("model", "n"))
def sample_images(model: VAE, params, key, n: int):
    """n synthetic images [n, 64]: decoder means at z ~ N(0, I)."""
    z = jax.random.normal(key, (n, model.latent))
    return jax.nn.sigmoid(model.apply({"params": params}, z, method=VAE.decode))


def run_chain(model: VAE, key, real, test, n_generations: int, regime: str, *, steps: int, batch: int, lr: float):
    """The feedback loop for one regime. real [N, 64], test [M, 64]. Returns held-out NELBO [G] (list);
    a non-finite training loss or gradient norm stops the chain (NonFiniteError naming generation and step)."""
    def fit_and_score(g, pool, count):
        k_train, k_eval, _ = feedback.generation_keys(key, g, 3)
        params, losses, grad_norms = train_generation(model, k_train, pool, count, steps=steps, batch=batch, lr=lr)
        feedback.check_training(f"vae/{regime}", g, losses, grad_norms)
        return params, heldout_nelbo(model, params, test, k_eval)

    return feedback.run_chain(real, n_generations, regime, fit_and_score,
                              lambda g, params: sample_images(model, params, feedback.generation_keys(key, g, 3)[2],
                                                              real.shape[0]))
