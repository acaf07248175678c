"""Training and evaluation of the irregular-time-series classifiers of claim 3 (neural CDE vs GRU).

Both models see the same data (values [K, c], channel 0 = observation time), the same optimiser (Adam), batch
size, number of steps and minibatch order (drawn by fold_in(key, step)).  Two classes: one logit and binary
cross-entropy; more: softmax cross-entropy.  The global batch is sharded over the 'data' mesh axis.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import sharding
from papers.neural_des import models

MODELS = ("ncde", "gru")


def n_outputs(n_classes: int) -> int:
    return 1 if n_classes == 2 else n_classes


def init_params(kind: str, key, cfg, in_channels: int):
    n_out = n_outputs(cfg.n_classes)
    if kind == "ncde":
        return models.init_ncde(key, in_channels, cfg.hidden, cfg.width, cfg.depth, n_out)
    if kind == "gru":
        return models.init_gru(key, in_channels + 1, cfg.gru_hidden, n_out)
    raise ValueError(f"unknown model {kind!r}; use one of {MODELS}")


def logits_fn(kind: str, cfg):
    if kind == "ncde":
        return functools.partial(models.ncde_logits, interpolation=cfg.interpolation,
                                 steps_per_knot=cfg.steps_per_knot, solver=cfg.solver)
    return models.gru_logits


def loss_and_correct(out, labels):
    """out [B, n_out] -> (mean cross-entropy, number correct)."""
    if out.shape[-1] == 1:
        out = out[:, 0]
        loss = optax.sigmoid_binary_cross_entropy(out, labels.astype(out.dtype))
        pred = (out > 0).astype(labels.dtype)
    else:
        loss = optax.softmax_cross_entropy_with_integer_labels(out, labels)
        pred = jnp.argmax(out, axis=-1).astype(labels.dtype)
    return jnp.mean(loss), jnp.sum(pred == labels)


def make_optimizer(cfg):
    return optax.adam(cfg.lr)


def make_train_step(kind: str, cfg):
    """(params, opt_state, values [B, K, c], labels [B]) -> (params, opt_state, loss); jitted once."""
    logits = logits_fn(kind, cfg)
    opt = make_optimizer(cfg)

    def loss_fn(params, values, labels):
        return loss_and_correct(jax.vmap(lambda v: logits(params, v))(values), labels)[0]

    @jax.jit
    def step(params, opt_state, values, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, values, labels)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    return step


def make_correct_count(kind: str, cfg):
    logits = logits_fn(kind, cfg)
    return jax.jit(lambda params, values, labels: loss_and_correct(
        jax.vmap(lambda v: logits(params, v))(values), labels)[1])


def accuracy(count_fn, params, values, labels, chunk: int) -> float:
    """Accuracy over a data set in chunks of ``chunk`` series (one compiled shape; the tail is dropped if
    the size is not a multiple, so use multiples)."""
    n = (values.shape[0] // chunk) * chunk
    correct = sum(int(count_fn(params, values[i:i + chunk], labels[i:i + chunk])) for i in range(0, n, chunk))
    return correct / n


def train_classifier(kind: str, cfg, key, train, test, mesh=None):
    """Trains one model for cfg.steps Adam steps; records test accuracy every cfg.eval_every steps.

    Returns dict(test_accuracy, train_accuracy, losses [steps], curve [steps // eval_every] test accuracies).
    """
    values, labels = train
    mesh = mesh or sharding.make_mesh([(sharding.DATA, -1)])
    sharding.check_batch_divisible(cfg.batch_size, mesh)
    k_init, k_data = jax.random.split(key)
    params = sharding.replicate(init_params(kind, k_init, cfg, values.shape[-1]), mesh)
    # Replicated like params: an unplaced optimiser state (count with no sharding) would make the first
    # step compile a second time once its outputs come back replicated.
    opt_state = sharding.replicate(make_optimizer(cfg).init(params), mesh)
    step = make_train_step(kind, cfg)
    count = make_correct_count(kind, cfg)
    losses, curve = [], []
    for i in range(cfg.steps):
        idx = jax.random.choice(jax.random.fold_in(k_data, i), values.shape[0], (cfg.batch_size,), replace=False)
        batch = sharding.shard_batch((np.asarray(values[idx]), np.asarray(labels[idx])), mesh)
        params, opt_state, loss = step(params, opt_state, *batch)
        losses.append(loss)
        if (i + 1) % cfg.eval_every == 0:
            curve.append(accuracy(count, params, *test, cfg.eval_chunk))
    return dict(test_accuracy=accuracy(count, params, *test, cfg.eval_chunk),
                train_accuracy=accuracy(count, params, *train, cfg.eval_chunk),
                losses=np.asarray(jnp.stack(losses)) if losses else np.zeros((0,), np.float32),
                curve=np.asarray(curve, np.float32))
