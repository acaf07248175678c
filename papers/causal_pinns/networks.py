"""Networks of the paper (Sec. 4 "architecture" choices): a tanh MLP, the modified MLP of Wang et al.
(2021, Eq. (2.34)-(2.37) there; Sec. 4 here), and the exact periodic embedding of x (Sec. 4, Eq. (4.1)).

Parameters are plain pytrees (dicts of arrays) so that train states stay simple dataclasses.

  periodic_embedding(t, x, period, num_modes)   -> [2 + 2M]  : (t, 1, cos(w k x), sin(w k x)), w = 2 pi / period
  init_mlp(key, d_in, widths, d_out, modified)  -> params
  apply_mlp(params, h)                          -> [d_out]   (h: [d_in], one point; vmap for batches)
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def periodic_embedding(t: jax.Array, x: jax.Array, period: float, num_modes: int) -> jax.Array:
    """v(t, x) = [t, 1, cos(w x), ..., cos(M w x), sin(w x), ..., sin(M w x)], w = 2 pi / period.

    Any network of this embedding is exactly periodic in x with the given period (Sec. 4, Eq. (4.1)),
    so the periodic boundary conditions need no loss term. Scalars t, x -> [2 + 2 M].
    """
    k = jnp.arange(1, num_modes + 1, dtype=jnp.result_type(x))
    w = 2.0 * jnp.pi / period
    one = jnp.ones((1,), jnp.result_type(x))
    return jnp.concatenate([jnp.reshape(t, (1,)), one, jnp.cos(k * w * x), jnp.sin(k * w * x)])


def _glorot(key, d_in, d_out, dtype):
    std = jnp.sqrt(2.0 / (d_in + d_out)).astype(dtype)
    return std * jax.random.normal(key, (d_in, d_out), dtype)


def init_mlp(key: jax.Array, d_in: int, widths: tuple[int, ...], d_out: int, modified: bool = False,
             dtype=jnp.float32) -> dict:
    """Glorot-normal weights, zero biases. ``modified`` adds the two encoders U, V of the modified MLP."""
    dims = (d_in, *widths, d_out)
    keys = jax.random.split(key, len(dims) + 1)
    params = {"layers": [{"W": _glorot(keys[i], dims[i], dims[i + 1], dtype), "b": jnp.zeros((dims[i + 1],), dtype)}
                         for i in range(len(dims) - 1)]}
    if modified:
        if len(set(widths)) != 1:
            raise ValueError(f"the modified MLP needs equal hidden widths, got {widths}")
        params["U"] = {"W": _glorot(keys[-2], d_in, widths[0], dtype), "b": jnp.zeros((widths[0],), dtype)}
        params["V"] = {"W": _glorot(keys[-1], d_in, widths[0], dtype), "b": jnp.zeros((widths[0],), dtype)}
    return params


def apply_mlp(params: dict, h: jax.Array) -> jax.Array:
    """tanh MLP; with encoders U, V the modified MLP: z_l = tanh(W_l h + b_l), h <- z_l * U + (1 - z_l) * V."""
    layers = params["layers"]
    if "U" in params:
        u = jnp.tanh(h @ params["U"]["W"] + params["U"]["b"])
        v = jnp.tanh(h @ params["V"]["W"] + params["V"]["b"])
        for layer in layers[:-1]:
            z = jnp.tanh(h @ layer["W"] + layer["b"])
            h = z * u + (1.0 - z) * v
    else:
        for layer in layers[:-1]:
            h = jnp.tanh(h @ layer["W"] + layer["b"])
    return h @ layers[-1]["W"] + layers[-1]["b"]
