"""The MNIST-style variant (Sec. 5 of the paper) on the offline sklearn digits (8x8, 10 classes).

A two-layer ReLU network f(x) = alpha * (1/N) sum_i a_i relu(w_i . x / sqrt(D)) (10 outputs, both
layers trained), centred output f - f_0, MSE to one-hot labels, full-batch GD with eta = eta0 N / alpha^2,
so alpha again interpolates between rich (small alpha) and lazy (large alpha) training.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from common import data as data_lib


def load_split(n_train: int, seed: int, source: str = "digits", data_dir: str = ""):
    """(X_train [P, D], Y_train [P, 10], X_test, Y_test) with pixels standardised per image, one-hot labels."""
    if source == "digits":
        images, labels = data_lib.load_digits()
    elif source == "mnist":
        images, labels = data_lib.load_mnist(data_dir, "train")
    else:
        raise ValueError(f"digits.source must be 'digits' or 'mnist', got {source!r}")
    X = np.asarray(images, np.float64).reshape(len(images), -1)
    X = (X - X.mean(1, keepdims=True)) / (X.std(1, keepdims=True) + 1e-8)
    Y = np.eye(10)[np.asarray(labels)]
    perm = np.random.default_rng(seed).permutation(len(X))
    tr, te = perm[:n_train], perm[n_train:]
    return X[tr], Y[tr], X[te], Y[te]


def init_params(key, width: int, dim: int, dtype=jnp.float64):
    kw, ka = jax.random.split(key)
    return {"W": jax.random.normal(kw, (width, dim), dtype), "a": jax.random.normal(ka, (width, 10), dtype)}


def forward(params, X, alpha):
    """alpha * mean_i a_i relu(w_i . x / sqrt(D)): X [P, D] -> [P, 10]."""
    h = X @ params["W"].T / jnp.sqrt(X.shape[1])
    return alpha * jax.nn.relu(h) @ params["a"] / params["W"].shape[0]


def centred_loss(params, params0, X, Y, alpha):
    r = forward(params, X, alpha) - forward(params0, X, alpha) - Y
    return jnp.mean(jnp.sum(r * r, axis=1))


def accuracy(params, params0, X, Y, alpha):
    pred = forward(params, X, alpha) - forward(params0, X, alpha)
    return jnp.mean(jnp.argmax(pred, 1) == jnp.argmax(Y, 1))


def gd_step(params, params0, X, Y, alpha, eta0):
    """One GD step with eta = eta0 N / alpha^2; returns (params, train loss before the step)."""
    N = params["W"].shape[0]
    loss, g = jax.value_and_grad(centred_loss)(params, params0, X, Y, alpha)
    eta = eta0 * N / alpha**2
    return jax.tree.map(lambda p, d: p - eta * d, params, g), loss
