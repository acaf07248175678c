"""abc-parametrisations of MLPs (Tensor Programs IV, Sec. 3, Def. 3.1) relative to a base width.

An abc-parametrisation writes every weight matrix as ``W^l = n^{-a_l} w^l`` with trainable
``w^l ~ N(0, n^{-2 b_l})`` and learning rate ``eta n^{-c}`` (Eq. (1)-(2) of the paper). We measure width
relative to a base width ``n0`` (r = n / n0) and keep all constants of the base model, so that
    multiplier_l = r^{-a_l},   init std_l = sigma_l * r^{-b_l},   learning rate_l = eta * r^{-c_l},
and every parametrisation is *the same network* at n = n0 (tested). Layers are numbered 1..L+1:
layer 1 maps the input (fixed fan-in d) to width n, layers 2..L are n x n, layer L+1 is the readout
(fixed fan-out k).

Exponents (SGD columns are the paper's; Adam columns follow from Adam's scale invariance: the
symmetry a -> a + t, b -> b - t leaves the network invariant if c -> c - 2t for SGD and c -> c - t
for Adam, and give each layer the update size the paper's Table / Sec. 5 asks for):

    name  a (in, hidden, out)   b (in, hidden, out)   c SGD          c Adam (in, hidden, out)
    sp    0,   0,   0           0,  1/2, 1/2           0             0,   0,   0      ("standard practice": one global LR)
    ntk   0,  1/2, 1/2          0,   0,   0            0             1/2, 1,  1/2
    mf    0,  1/2,  1           0,   0,   0           -1             0,  1/2,  0
    mup  -1/2, 0,  1/2          1/2, 1/2, 1/2          0             1/2, 1,  1/2

``mf`` (mean field) is μP moved by the symmetry with t = 1/2, so both train identically (tested);
for one hidden layer this is the paper's statement that μP = mean-field parametrisation.
"""
from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

PARAMETRIZATIONS = ("sp", "ntk", "mf", "mup")
OPTIMIZERS = ("sgd", "adam")


def abc_exponents(parametrization: str, num_layers: int, optimizer: str = "sgd") -> list[tuple[float, float, float]]:
    """Per-layer (a_l, b_l, c_l) for layers 1..num_layers (num_layers = L + 1 >= 2 weight matrices)."""
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"unknown parametrization {parametrization!r}; expected one of {PARAMETRIZATIONS}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {OPTIMIZERS}")
    if num_layers < 2:
        raise ValueError("an MLP needs at least an input and a readout layer")
    table = {  # (first, hidden, last) for a, b, c_sgd, c_adam
        "sp": ((0.0, 0.0, 0.0), (0.0, 0.5, 0.5), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        "ntk": ((0.0, 0.5, 0.5), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.5, 1.0, 0.5)),
        "mf": ((0.0, 0.5, 1.0), (0.0, 0.0, 0.0), (-1.0, -1.0, -1.0), (0.0, 0.5, 0.0)),
        "mup": ((-0.5, 0.0, 0.5), (0.5, 0.5, 0.5), (0.0, 0.0, 0.0), (0.5, 1.0, 0.5)),
    }[parametrization]
    a, b, c_sgd, c_adam = table
    c = c_sgd if optimizer == "sgd" else c_adam
    out = []
    for l in range(num_layers):
        pos = 0 if l == 0 else (2 if l == num_layers - 1 else 1)
        out.append((a[pos], b[pos], c[pos]))
    return out


def layer_scales(parametrization: str, num_layers: int, width: int, base_width: int,
                 optimizer: str = "sgd") -> list[dict]:
    """Per layer: multiplier r^{-a}, init-std factor r^{-b}, learning-rate factor r^{-c}; r = width/base_width."""
    r = float(width) / float(base_width)
    return [{"multiplier": r ** (-a), "init_std": r ** (-b), "lr": r ** (-c)}
            for a, b, c in abc_exponents(parametrization, num_layers, optimizer)]


def base_stds(in_dim: int, base_width: int, num_layers: int, out_scale: float = 1.0) -> list[float]:
    """Init std of every layer's w at the base width: 1/sqrt(fan_in), readout times ``out_scale``."""
    stds = [in_dim ** -0.5] + [base_width ** -0.5] * (num_layers - 2) + [out_scale * base_width ** -0.5]
    return stds


class AbcMLP(nn.Module):
    """MLP ``x -> phi(W^1 x) -> ... -> W^{L+1} h`` in an abc-parametrisation (no biases).

    Params ``w{l}`` have shape [fan_in, fan_out] and are drawn N(0, (sigma_l r^{-b_l})^2); the forward
    pass multiplies by r^{-a_l}. ``__call__(x)`` maps [batch, in_dim] -> [batch, out_dim];
    with ``return_features=True`` it also returns the list of hidden pre-activations [batch, width].
    """
    width: int
    depth: int                   # number of hidden layers L
    out_dim: int
    parametrization: str = "mup"
    base_width: int = 64
    activation: Callable = nn.relu
    out_scale: float = 1.0       # base readout std = out_scale / sqrt(base_width)

    @nn.compact
    def __call__(self, x, return_features: bool = False):
        num_layers = self.depth + 1
        scales = layer_scales(self.parametrization, num_layers, self.width, self.base_width)
        stds = base_stds(x.shape[-1], self.base_width, num_layers, self.out_scale)
        dims = [x.shape[-1]] + [self.width] * self.depth + [self.out_dim]
        h, feats = x, []
        for l in range(num_layers):
            std = stds[l] * scales[l]["init_std"]
            w = self.param(f"w{l}", nn.initializers.normal(std), (dims[l], dims[l + 1]), x.dtype)
            h = (h @ w) * jnp.asarray(scales[l]["multiplier"], x.dtype)
            if l < num_layers - 1:
                feats.append(h)
                h = self.activation(h)
        return (h, feats) if return_features else h


def lr_scale_tree(params, parametrization: str, width: int, base_width: int, optimizer: str):
    """Pytree like ``params`` ({'w0': .., 'w1': ..}) of per-layer learning-rate factors r^{-c_l}."""
    names = sorted(params, key=lambda s: int(s[1:]))
    scales = layer_scales(parametrization, len(names), width, base_width, optimizer)
    return {name: jnp.asarray(scales[i]["lr"], params[name].dtype) for i, name in enumerate(names)}


def sgd_update(params, grads, lr, lr_scales):
    """One SGD step ``w_l <- w_l - lr r^{-c_l} dL/dw_l`` (lr may be a traced scalar, e.g. under vmap)."""
    return jax.tree.map(lambda p, g, s: p - lr * s * g, params, grads, lr_scales)


def adam_init(params):
    return optax.scale_by_adam().init(params)


def adam_update(params, grads, opt_state, lr, lr_scales):
    """One Adam step with per-layer learning rates ``lr r^{-c_l}`` (optax's scale_by_adam direction)."""
    direction, opt_state = optax.scale_by_adam().update(grads, opt_state, params)
    return jax.tree.map(lambda p, d, s: p - lr * s * d, params, direction, lr_scales), opt_state


def effective_weights(params, parametrization: str, width: int, base_width: int) -> dict:
    """W^l = r^{-a_l} w^l for every layer (the matrices the network multiplies with)."""
    names = sorted(params, key=lambda s: int(s[1:]))
    scales = layer_scales(parametrization, len(names), width, base_width)
    return {n: params[n] * scales[i]["multiplier"] for i, n in enumerate(names)}


def init_mlp(model: AbcMLP, key, in_dim: int, dtype=jnp.float32):
    return model.init(key, jnp.zeros((1, in_dim), dtype))["params"]


# ----------------------------------------------------------------------------- traced abc factors
# The per-layer factors as arrays, so that one compiled program serves every parametrisation of a given
# width (they differ only in these numbers). ``init_abc_mlp`` + ``abc_apply`` compute exactly what
# ``AbcMLP`` does (tested).

ACTIVATIONS = {"relu": jax.nn.relu, "linear": lambda h: h}


def abc_arrays(parametrization: str, num_layers: int, width: int, base_width: int, optimizer: str = "sgd",
               dtype=jnp.float32) -> dict:
    """``layer_scales`` as arrays [num_layers]: {'multiplier', 'init_std', 'lr'}."""
    s = layer_scales(parametrization, num_layers, width, base_width, optimizer)
    return {k: jnp.asarray(np.asarray([layer[k] for layer in s], dtype)) for k in ("multiplier", "init_std", "lr")}


def init_abc_mlp(key, in_dim: int, width: int, depth: int, out_dim: int, base_width: int, init_std,
                 out_scale: float = 1.0, dtype=jnp.float32) -> dict:
    """The parameters ``AbcMLP(...).init`` draws, with the init-std factors r^{-b_l} given as an array.

    NTK parametrisation has b = 0 in every layer, so its draws are the base-width ones; the flax rng of
    each ``w{l}`` does not depend on the parametrisation, so scaling them by ``init_std`` gives the same
    numbers as initialising the target parametrisation.
    """
    base = AbcMLP(width=width, depth=depth, out_dim=out_dim, parametrization="ntk", base_width=base_width,
                  out_scale=out_scale)
    params = init_mlp(base, key, in_dim, dtype)
    return {f"w{l}": params[f"w{l}"] * init_std[l].astype(dtype) for l in range(depth + 1)}


def abc_apply(params, x, multipliers, activation: str = "relu", return_features: bool = False):
    """``AbcMLP.__call__`` with the multipliers r^{-a_l} as an array (traced)."""
    num_layers = len(params)
    h, feats = x, []
    for l in range(num_layers):
        h = (h @ params[f"w{l}"]) * multipliers[l].astype(x.dtype)
        if l < num_layers - 1:
            feats.append(h)
            h = ACTIVATIONS[activation](h)
    return (h, feats) if return_features else h


def lr_tree(params, lr_factors) -> dict:
    """{'w{l}': lr_factors[l]}: the per-layer learning-rate factors as a pytree like ``params``."""
    return {f"w{l}": lr_factors[l] for l in range(len(params))}


def softmax_xent(logits, labels):
    """Mean cross-entropy; logits [b, k], integer labels [b]."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def widths_grid(lo: int, hi: int) -> Sequence[int]:
    out, n = [], lo
    while n <= hi:
        out.append(n)
        n *= 2
    return out
