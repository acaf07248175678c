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
from papers.neural_des import models, rand

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


@functools.partial(jax.jit, static_argnames=("kind", "interpolation", "steps_per_knot", "solver"))
def batch_logits(params, values, *, kind: str, interpolation: str = "hermite", steps_per_knot: int = 1,
                 solver: str = "scan"):
    """Logits [B, n_out] of a batch of series values [B, K, c]; module-level, so one compiled program per
    model and shape serves every run in a process (the tests compare the neural CDE's solvers with it)."""
    if kind == "ncde":
        logits = functools.partial(models.ncde_logits, interpolation=interpolation, steps_per_knot=steps_per_knot,
                                   solver=solver)
    else:
        logits = models.gru_logits
    return jax.vmap(lambda v: logits(params, v))(values)


def correct_count(out, labels) -> int:
    """Number correct of logits out [B, n_out] (on the host; the rule of :func:`loss_and_correct`)."""
    out, labels = np.asarray(out), np.asarray(labels)
    pred = out[:, 0] > 0 if out.shape[-1] == 1 else np.argmax(out, axis=-1)
    return int(np.sum(pred.astype(labels.dtype) == labels))


def make_batch_logits(kind: str, cfg):
    """(params, values [B, K, c]) -> logits [B, n_out] (:func:`batch_logits` with the config's solver)."""
    static = dict(kind=kind) if kind != "ncde" else dict(
        kind=kind, interpolation=cfg.interpolation, steps_per_knot=cfg.steps_per_knot, solver=cfg.solver)
    return lambda params, values: batch_logits(params, values, **static)


def accuracy(logits_fn, params, values, labels, chunk: int) -> float:
    """Accuracy over every series of a data set, in chunks of min(chunk, n) series: one compiled shape, the
    last chunk padded with copies of its first series whose logits are discarded.  Slices on the host."""
    values, labels = np.asarray(values), np.asarray(labels)
    n = values.shape[0]
    chunk = min(chunk, n)
    correct = 0
    for i in range(0, n, chunk):
        part = values[i:i + chunk]
        m = part.shape[0]
        if m < chunk:
            part = np.concatenate([part, np.repeat(part[:1], chunk - m, axis=0)])
        correct += correct_count(np.asarray(logits_fn(params, part))[:m], labels[i:i + m])
    return correct / n


@functools.partial(jax.jit, static_argnums=(2, 3))
def minibatch(key, i, n: int, batch_size: int):
    """Indices of minibatch i: batch_size of n without replacement, drawn with fold_in(key, i).

    One compiled program for every step (and for claim 4's minibatches when the sizes match); eagerly,
    ``jax.random.choice`` compiles a handful of small programs."""
    return jax.random.choice(jax.random.fold_in(key, i), n, (batch_size,), replace=False)


def train_classifier(kind: str, cfg, key, train, test, mesh=None):
    """Trains one model for cfg.steps Adam steps; records test accuracy every cfg.eval_every steps.

    Returns dict(test_accuracy, train_accuracy, losses [steps], curve [steps // eval_every] test accuracies).
    """
    values, labels = np.asarray(train[0]), np.asarray(train[1])
    test = tuple(np.asarray(x) for x in test)
    mesh = mesh or sharding.make_mesh([(sharding.DATA, -1)])
    sharding.check_batch_divisible(cfg.batch_size, mesh)
    k_init, k_data = rand.split(key)
    opt = make_optimizer(cfg)
    # Eager initialisation: each layer's uniform draw is a small program cached by shape, shared by the
    # layers, models and work units of the same shapes (one jitted init would inline every draw).
    params = sharding.replicate(init_params(kind, k_init, cfg, values.shape[-1]), mesh)
    # Replicated like params: an unplaced optimiser state (count with no sharding) would make the first
    # step compile a second time once its outputs come back replicated.
    opt_state = sharding.replicate(jax.jit(opt.init)(params), mesh)
    step = make_train_step(kind, cfg)
    logits = make_batch_logits(kind, cfg)
    losses, curve = [], []
    for i in range(cfg.steps):
        idx = np.asarray(minibatch(k_data, i, values.shape[0], cfg.batch_size))
        batch = sharding.shard_batch((values[idx], labels[idx]), mesh)
        params, opt_state, loss = step(params, opt_state, *batch)
        losses.append(loss)
        if (i + 1) % cfg.eval_every == 0:
            curve.append(accuracy(logits, params, *test, cfg.eval_chunk))
    return dict(test_accuracy=accuracy(logits, params, *test, cfg.eval_chunk),
                train_accuracy=accuracy(logits, params, values, labels, cfg.eval_chunk),
                losses=np.asarray([np.asarray(l) for l in losses], np.float32).reshape(-1),
                curve=np.asarray(curve, np.float32))
