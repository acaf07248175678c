"""Neural SDE trained as a Wasserstein GAN with a neural CDE discriminator (thesis Section 4.3).

Generator and discriminator: :mod:`models` (both solved with the reversible Heun solver and its exact
backward pass, :mod:`reversible`).  Training choices of the thesis (Section 4.3.3 and Kidger et al. 2021b):

* Wasserstein loss  W = E[D(generated)] - E[D(real)]; the critic descends W, the generator ascends it
  (one simultaneous gradient evaluation gives both).
* Lipschitz control by *careful clipping* of the critic's vector field and readout after every step
  (:func:`models.clip_discriminator`), LipSwish activations and tanh-bounded vector fields -- no gradient
  penalty, which would need double backpropagation through the SDE solve.  Deviations from torchsde's
  ``sde_gan`` example: it clips every linear layer of the critic, the initial one included, to
  +-1/out_features (here +-1/fan_in, initial network unclipped) and trains with Adadelta and weight decay
  (here RMSprop, no weight decay).
* Stochastic weight averaging of the generator over the second half of training (the evaluated generator).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from papers.neural_des import models, rand


def init_params(key, cfg):
    kg, kd = rand.split(key)
    gen = models.init_generator(kg, cfg.noise_dim, cfg.init_dim, cfg.hidden, cfg.width, cfg.depth, 1)
    disc = jax.jit(models.clip_discriminator)(models.init_discriminator(kd, 1, cfg.disc_hidden, cfg.width, cfg.depth))
    return gen, disc


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def sample_noise(key, n: int, n_increments: int, noise_dim: int, init_dim: int):
    """The standard normals of n generated paths (path j: :func:`models.generator_noise` with split(key, n)[j]):
    (v [n, init_dim], eps [n, n_increments, noise_dim]).  A compiled program of its own, shared by training
    and evaluation when n agrees (the random draws are a large part of a program's compile time)."""
    return jax.vmap(lambda k: models.generator_noise(k, n_increments, noise_dim, init_dim))(jax.random.split(key, n))


def n_increments(ts, cfg) -> int:
    return cfg.substeps * (ts.shape[0] - 1)


def sample_from_noise(gen, noise, ts, cfg):
    """Generated paths at ts [N] from :func:`sample_noise`'s draws: [n, N, 1]."""
    return jax.vmap(lambda v, eps: models.generator_paths_from_noise(gen, v, eps, ts, cfg.noise_dim, cfg.substeps))(
        *noise)


def sample(gen, key, ts, n: int, cfg):
    """n generated paths at ts [N]: [n, N, 1] (path j: models.generator_paths with split(key, n)[j])."""
    return sample_from_noise(gen, sample_noise(key, n, n_increments(ts, cfg), cfg.noise_dim, cfg.init_dim), ts, cfg)


def wasserstein(gen, disc, noise, ts, real, cfg):
    """W = mean D(generated) - mean D(real), with real [B, N, 1] and the generator's draws ``noise``."""
    fake = sample_from_noise(gen, noise, ts, cfg)
    score = jax.vmap(lambda y: models.discriminator_score(disc, ts, y))
    return jnp.mean(score(fake)) - jnp.mean(score(real))


def make_optimizers(cfg):
    return optax.rmsprop(cfg.gen_lr), optax.rmsprop(cfg.disc_lr)


def make_train_step(cfg, ts):
    """(gen, disc, gen_opt, disc_opt, swa, i, noise, real) -> (..., W); jitted once.  ``noise``: the generator's
    draws for this step (:func:`sample_noise`)."""
    gen_tx, disc_tx = make_optimizers(cfg)
    swa_start = cfg.steps // 2

    @jax.jit
    def step(gen, disc, gen_opt, disc_opt, swa, i, noise, real):
        w, (g_gen, g_disc) = jax.value_and_grad(wasserstein, argnums=(0, 1))(gen, disc, noise, ts, real, cfg)
        g_gen = jax.tree.map(jnp.negative, g_gen)             # generator ascends W
        upd, gen_opt = gen_tx.update(g_gen, gen_opt, gen)
        gen = optax.apply_updates(gen, upd)
        upd, disc_opt = disc_tx.update(g_disc, disc_opt, disc)   # critic descends W
        disc = models.clip_discriminator(optax.apply_updates(disc, upd))
        # SWA: running mean of the generator from step swa_start on (before it: the current weights).
        n = jnp.maximum(i - swa_start + 1, 1).astype(jnp.float32)
        swa = jax.tree.map(lambda a, p: jnp.where(i >= swa_start, a + (p - a) / n, p), swa, gen)
        return gen, disc, gen_opt, disc_opt, swa, w
    return step


def marginal_errors(samples, data):
    """RMS over time of the differences of the marginal mean and variance: samples, data [n, N, 1]."""
    dm = jnp.mean(samples, axis=0) - jnp.mean(data, axis=0)
    dv = jnp.var(samples, axis=0) - jnp.var(data, axis=0)
    return jnp.sqrt(jnp.mean(dm ** 2)), jnp.sqrt(jnp.mean(dv ** 2))
