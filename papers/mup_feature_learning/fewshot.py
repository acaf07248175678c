"""Few-shot tasks and first-order MAML (Finn et al. 2017; the paper's Sec. 9.1 uses first-order MAML).

Tasks are tuples ``(xs [B, n_way*k_shot, d], ys [B, n_way*k_shot], xq [B, n_way*q, d], yq [B, n_way*q])``
with labels 0..n_way-1 assigned at random to the task's classes.

Two task families:
* ``class_pool_tasks``: N-way K-shot tasks from a labelled pool (digits, Omniglot).
* ``synthetic_tasks``: a family with unboundedly many classes sharing a low-dimensional representation:
  every class has a prototype mu ~ N(0, I_r) in an r-dim latent space; an example is
  x = P (mu + s_w eps) + s_n eps' in R^d with a fixed random orthonormal P [d, r] shared by all tasks.
  The isotropic noise in the d - r other directions hides the classes from any fixed kernel on raw
  inputs; a learned projection onto span(P) removes it, so learning features is what transfers.
"""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from papers.mup_feature_learning import parametrization as pz


@functools.lru_cache(maxsize=1)
def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """sklearn digits (images [1797, 8, 8] in [0, 1], labels), read once per process (read-only arrays)."""
    from common import data as data_lib
    imgs, labels = data_lib.load_digits()
    imgs.setflags(write=False), labels.setflags(write=False)
    return imgs, labels


def digits_by_class(per_class: int = 170, standardize: bool = True) -> np.ndarray:
    """sklearn digits as [10, per_class, 64] float32, standardized with the global pixel mean/std."""
    imgs, labels = raw_digits()
    x = imgs.reshape(len(imgs), -1).astype(np.float64)
    if standardize:
        x = (x - x.mean(0)) / (x.std() + 1e-8)
    return np.stack([x[labels == c][:per_class] for c in range(10)]).astype(np.float32)


def class_pool_tasks(key, pool, classes, n_way: int, k_shot: int, q_query: int, num_tasks: int):
    """Samples ``num_tasks`` tasks from ``pool`` [C, P, d] restricted to class ids ``classes``."""
    classes = jnp.asarray(classes)
    P = pool.shape[1]

    def one(k):
        kc, ke = jax.random.split(k)
        cls = jax.random.permutation(kc, classes)[:n_way]                        # [n_way]
        idx = jax.vmap(lambda kk: jax.random.permutation(kk, P)[:k_shot + q_query])(jax.random.split(ke, n_way))
        x = pool[cls[:, None], idx]                                               # [n_way, k+q, d]
        y = jnp.broadcast_to(jnp.arange(n_way)[:, None], (n_way, k_shot + q_query))
        xs, xq = x[:, :k_shot].reshape(-1, x.shape[-1]), x[:, k_shot:].reshape(-1, x.shape[-1])
        return xs, y[:, :k_shot].reshape(-1), xq, y[:, k_shot:].reshape(-1)

    return jax.vmap(one)(jax.random.split(key, num_tasks))


def synthetic_projection(seed: int, d: int, r: int) -> np.ndarray:
    """Fixed orthonormal P [d, r] shared by the whole synthetic family."""
    g = np.random.default_rng([seed, 4646]).standard_normal((d, r))
    q, _ = np.linalg.qr(g)
    return q.astype(np.float32)


def synthetic_tasks(key, proj, n_way: int, k_shot: int, q_query: int, num_tasks: int,
                    within_std: float, noise_std: float):
    """Samples tasks of the synthetic family (new class prototypes in every task)."""
    d, r = proj.shape

    def one(k):
        km, kz, kn = jax.random.split(k, 3)
        mu = jax.random.normal(km, (n_way, 1, r))
        z = mu + within_std * jax.random.normal(kz, (n_way, k_shot + q_query, r))
        x = z @ proj.T + noise_std * jax.random.normal(kn, (n_way, k_shot + q_query, d))
        y = jnp.broadcast_to(jnp.arange(n_way)[:, None], (n_way, k_shot + q_query))
        xs, xq = x[:, :k_shot].reshape(-1, d), x[:, k_shot:].reshape(-1, d)
        return xs, y[:, :k_shot].reshape(-1), xq, y[:, k_shot:].reshape(-1)

    return jax.vmap(one)(jax.random.split(key, num_tasks))


# ----------------------------------------------------------------------------- first-order MAML

def adapt(params, xs, ys, apply_fn: Callable, lr_scales, inner_lr, inner_steps: int):
    """Inner loop: ``inner_steps`` SGD steps (per-layer learning rates inner_lr * lr_scales) on the support set."""
    loss = lambda p: pz.softmax_xent(apply_fn(p, xs), ys)
    for _ in range(inner_steps):
        params = pz.sgd_update(params, jax.grad(loss)(params), inner_lr, lr_scales)
    return params


def fomaml_step(params, tasks, apply_fn: Callable, lr_scales, inner_lr, inner_steps: int, outer_lr):
    """One first-order MAML step: theta <- theta - outer_lr * mean_tau grad L_q(adapt(theta)) (grad at adapted)."""

    def per_task(xs, ys, xq, yq):
        p = adapt(params, xs, ys, apply_fn, lr_scales, inner_lr, inner_steps)
        loss, g = jax.value_and_grad(lambda p_: pz.softmax_xent(apply_fn(p_, xq), yq))(p)
        return g, loss

    grads, losses = jax.vmap(per_task)(*tasks)
    grads = jax.tree.map(lambda g: jnp.mean(g, 0), grads)
    return pz.sgd_update(params, grads, outer_lr, lr_scales), jnp.mean(losses)


def fewshot_accuracy(params, tasks, apply_fn: Callable, lr_scales, inner_lr, inner_steps: int):
    """Mean query accuracy after adapting on each task's support set."""

    def per_task(xs, ys, xq, yq):
        p = adapt(params, xs, ys, apply_fn, lr_scales, inner_lr, inner_steps)
        return jnp.mean(jnp.argmax(apply_fn(p, xq), -1) == yq)

    return jnp.mean(jax.vmap(per_task)(*tasks))


def linear_model_apply(params, x):
    """f(xi) = xi M: the NTK/GP limit of the linear network (see linear_limits)."""
    return x @ params["M"]
