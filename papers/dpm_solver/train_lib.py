"""Training a noise-prediction model eps_theta with the standard eps-loss (DDPM's L_simple):

    L(theta) = E_{t, x_0, eps} || eps_theta(alpha_t x_0 + sigma_t eps, t) - eps ||^2,

t ~ U(t_min, T) for continuous schedules and t = (n+1)/N, n ~ U{0..N-1} for discrete ones.
Pure pieces: data samplers, :func:`init_state`, :func:`loss_fn`, :func:`make_train_step`; the
global batch is sharded along the mesh's 'data' axis, parameters and EMA are replicated.
"""
from __future__ import annotations

import functools
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import data as common_data
from common import sharding
from papers.dpm_solver import models, schedules

MIXTURES = ("ring8", "grid25", "pair")
IMAGE_SETS = ("digits", "fashion_mnist", "mnist", "cifar10")


@flax.struct.dataclass
class TrainState:
    step: jnp.ndarray
    params: Any
    opt_state: Any
    ema: Any
    rng: jnp.ndarray


# ------------------------------------------------------------------ data

def load_images(name: str, data_dir: str = "", split: str = "train") -> np.ndarray:
    """Images as float32 NHWC in [-1, 1]."""
    if name == "digits":
        imgs = common_data.load_digits()[0][..., None]
        n_test = 297                                           # last 297 of 1797 held out
        imgs = imgs[:-n_test] if split == "train" else imgs[-n_test:]
    elif name == "fashion_mnist":
        imgs = common_data.load_fashion_mnist(split, data_dir or None)[0][..., None]
    elif name == "mnist":
        imgs = common_data.load_mnist(data_dir, split)[0][..., None]
    elif name == "cifar10":
        imgs = common_data.load_cifar10(data_dir, split)[0].astype(np.float32) / 255.0
    else:
        raise ValueError(f"unknown image set {name!r}; choose from {IMAGE_SETS}")
    return (2.0 * imgs - 1.0).astype(np.float32)


def make_get_batch(config, mesh):
    """get_batch(step) -> sharded global batch [B, ...]; depends only on (seed, step, process)."""
    sharding.check_batch_divisible(config.train.batch_size, mesh)
    local = config.train.batch_size // jax.process_count()
    base = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(config.seed), 1), jax.process_index())
    if config.data.name in MIXTURES:
        mixture = common_data.mixture_2d(config.data.name)
        sample = jax.jit(lambda k: mixture.sample(k, local))

        def get_batch(step):
            return sharding.shard_batch(np.asarray(sample(jax.random.fold_in(base, step))), mesh)
        return get_batch
    images = load_images(config.data.name, config.data.data_dir, "train")

    def get_batch(step):
        idx = np.asarray(jax.random.randint(jax.random.fold_in(base, step), (local,), 0, images.shape[0]))
        return sharding.shard_batch(images[idx], mesh)
    return get_batch


def data_shape(config) -> tuple[int, ...]:
    if config.data.name in MIXTURES:
        return (2,)
    return {"digits": (8, 8, 1), "fashion_mnist": (28, 28, 1), "mnist": (28, 28, 1),
            "cifar10": (32, 32, 3)}[config.data.name]


def make_schedule(config) -> schedules.VPSchedule:
    c = config.schedule
    if c.name == "continuous_linear":
        return schedules.ContinuousLinear(beta_0=c.beta_0, beta_1=c.beta_1)
    if c.name == "continuous_cosine":
        return schedules.ContinuousCosine()
    if c.name == "discrete_linear":
        return schedules.discrete_linear(c.num_discrete, c.beta_0 / c.num_discrete, c.beta_1 / c.num_discrete)
    if c.name == "discrete_cosine":
        return schedules.discrete_cosine(c.num_discrete)
    raise ValueError(f"unknown schedule {c.name!r}")


# ------------------------------------------------------------------ model, state, step

def make_optimizer(config) -> optax.GradientTransformation:
    lr = optax.warmup_cosine_decay_schedule(0.0, config.train.lr, config.train.warmup_steps,
                                            max(config.train.num_steps, config.train.warmup_steps + 1),
                                            end_value=config.train.lr * config.train.final_lr_frac)
    return optax.chain(optax.clip_by_global_norm(config.train.grad_clip), optax.adam(lr))


def apply_model(model, params, x, t_model, *, train: bool = False, rng=None):
    """eps_theta(x, t) for either network kind (the U-Net takes ``train`` and a dropout rng)."""
    if isinstance(model, models.UNetEps):
        return model.apply(params, x, t_model, train=train, rngs={"dropout": rng} if train else None)
    return model.apply(params, x, t_model)


def init_state(config, model, mesh=None) -> TrainState:
    key = jax.random.PRNGKey(config.seed)
    init_key, state_key = jax.random.split(key)
    x = jnp.zeros((1,) + data_shape(config), jnp.float32)
    params = model.init(init_key, x, jnp.ones((1,), jnp.float32))
    opt_state = make_optimizer(config).init(params)
    state = TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=opt_state,
                       ema=jax.tree.map(jnp.copy, params), rng=state_key)
    if mesh is not None:
        state = sharding.replicate(state, mesh)
    return state


def sample_train_times(key, n: int, schedule, t_min: float):
    if schedule.discrete:
        return (jax.random.randint(key, (n,), 0, schedule.total_n) + 1).astype(jnp.float32) / schedule.total_n
    return jax.random.uniform(key, (n,), jnp.float32, t_min, schedule.T)


def loss_fn(params, model, schedule, x0, key, t_min: float, train: bool = True):
    """The eps-loss (mean over batch and dimensions)."""
    k_t, k_eps, k_drop = jax.random.split(key, 3)
    t = sample_train_times(k_t, x0.shape[0], schedule, t_min)
    eps = jax.random.normal(k_eps, x0.shape, x0.dtype)
    bshape = (-1,) + (1,) * (x0.ndim - 1)
    xt = schedule.alpha(t).reshape(bshape) * x0 + schedule.sigma(t).reshape(bshape) * eps
    pred = apply_model(model, params, xt, schedule.model_time(t), train=train, rng=k_drop)
    return jnp.mean((pred - eps) ** 2)


def make_train_step(config, model, schedule):
    tx = make_optimizer(config)
    decay, t_min = config.train.ema_decay, config.train.t_min

    @functools.partial(jax.jit, donate_argnums=0)
    def train_step(state: TrainState, x0):
        key = jax.random.fold_in(state.rng, state.step)
        loss, grads = jax.value_and_grad(loss_fn)(state.params, model, schedule, x0, key, t_min)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, state.ema, params)
        metrics = {"loss": loss, "grad_norm": optax.global_norm(grads)}
        return state.replace(step=state.step + 1, params=params, opt_state=opt_state, ema=ema), metrics

    return train_step


def learned_noise_pred(model, params, schedule):
    """eps_fn(x, t) for the samplers from trained parameters (x [B, ...], t scalar continuous time)."""
    def eps_fn(x, t):
        t_model = jnp.broadcast_to(schedule.model_time(jnp.asarray(t, jnp.float32)), x.shape[:1])
        return apply_model(model, params, x.astype(jnp.float32), t_model).astype(x.dtype)
    return eps_fn
