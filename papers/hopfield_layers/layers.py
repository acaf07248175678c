"""Flax (linen) Hopfield layers of Sec. 3 of the paper: ``Hopfield``, ``HopfieldPooling``, ``HopfieldLayer``.

The Hopfield layer (Sec. 3, Eq. (10)) maps raw state patterns R [S, d_r], raw stored patterns
Y [N, d_y] and raw pattern projections V_raw [N, d_v] (by default Y) to

    Z = softmax(beta * R W_Q W_K^T Y^T) V_raw W_V   (then an output projection W_O),

i.e. the update of Eq. (3) in the associative space Q = R W_Q, K = Y W_K. With beta = 1/sqrt(d_k)
and one update step this is transformer attention: the parameters are laid out exactly as in
``flax.linen.MultiHeadDotProductAttention`` (submodules ``query``, ``key``, ``value``, ``out``), so
the same parameter tree can be applied by both. ``update_steps > 1`` first iterates the association
Q <- softmax(beta Q K^T) K (Eq. (3) per head), then reads out the values.
"""
from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def hopfield_association(query, key, value, beta: float, steps: int = 1, mask=None):
    """Multi-head Hopfield retrieval, Eq. (3) per head, ``steps`` updates.

    query: [..., S, H, D]; key: [..., N, H, D]; value: [..., N, H, Dv];
    mask: None or bool [..., N] (True = stored pattern present). Returns [..., S, H, Dv].
    The first ``steps - 1`` updates move the state patterns (Q <- softmax(beta Q K^T) K); the
    last one retrieves the values.
    """
    def probs(q):
        logits = beta * jnp.einsum("...shd,...nhd->...hsn", q, key)
        if mask is not None:
            logits = jnp.where(mask[..., None, None, :], logits, jnp.finfo(logits.dtype).min)
        return jax.nn.softmax(logits, axis=-1)

    for _ in range(steps - 1):
        query = jnp.einsum("...hsn,...nhd->...shd", probs(query), key)
    return jnp.einsum("...hsn,...nhd->...shd", probs(query), value)


class Hopfield(nn.Module):
    """The general Hopfield layer (Sec. 3, 'Hopfield'): stored patterns and state patterns as inputs.

    Attributes:
      num_heads: number of parallel Hopfield nets (heads).
      qkv_features: total size of the associative space (num_heads * d_k); default d_r.
      out_features: size of the output; default d_r.
      beta: inverse temperature; None means 1/sqrt(d_k) (the attention scaling).
      update_steps: number of updates of Eq. (3) (1 = one-step retrieval, as in attention).
      use_projections: False gives the bare Hopfield net of Eq. (3) (no W_Q, W_K, W_V, W_O; one head).
      normalize: layer-normalise raw state, stored and projected patterns first (hflayers' default).
      use_bias: biases in the projections (as in flax attention). The key bias only shifts all logits
        of a query by the same amount, so its gradient is exactly zero; with Adam, rounding noise in
        that zero gradient moves it (use_bias=False avoids that where equivalence is not needed).
    """
    num_heads: int = 1
    qkv_features: int | None = None
    out_features: int | None = None
    beta: float | None = None
    update_steps: int = 1
    use_projections: bool = True
    normalize: bool = False
    use_bias: bool = True
    kernel_init: Any = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, state, stored, projected=None, mask=None):
        """state: [..., S, d_r]; stored: [..., N, d_y]; projected: [..., N, d_v] (default stored);
        mask: bool [..., N] or None. Returns [..., S, out_features]."""
        projected = stored if projected is None else projected
        if self.normalize:
            state = nn.LayerNorm(name="state_norm")(state)
            stored = nn.LayerNorm(name="stored_norm")(stored)
            projected = nn.LayerNorm(name="projected_norm")(projected)
        if not self.use_projections:
            if self.num_heads != 1:
                raise ValueError("a Hopfield layer without projections has one head")
            beta = self.beta if self.beta is not None else 1.0 / jnp.sqrt(state.shape[-1])
            z = hopfield_association(state[..., None, :], stored[..., None, :], projected[..., None, :],
                                     beta, self.update_steps, mask)
            return z[..., 0, :]
        features = self.qkv_features or state.shape[-1]
        if features % self.num_heads:
            raise ValueError(f"qkv_features={features} must divide by num_heads={self.num_heads}")
        head_dim = features // self.num_heads
        dense = functools.partial(nn.DenseGeneral, features=(self.num_heads, head_dim), axis=-1,
                                  use_bias=self.use_bias, kernel_init=self.kernel_init)
        query = dense(name="query")(state)          # R W_Q      [..., S, H, D]
        key = dense(name="key")(stored)             # Y W_K      [..., N, H, D]
        value = dense(name="value")(projected)      # V_raw W_V  [..., N, H, D]
        beta = self.beta if self.beta is not None else 1.0 / jnp.sqrt(head_dim).astype(query.dtype)
        z = hopfield_association(query, key, value, beta, self.update_steps, mask)
        return nn.DenseGeneral(features=self.out_features or state.shape[-1], axis=(-2, -1),
                               use_bias=self.use_bias, kernel_init=self.kernel_init, name="out")(z)


class HopfieldPooling(nn.Module):
    """Hopfield pooling (Sec. 3, 'HopfieldPooling'): learned static state patterns (queries) that
    retrieve from the input set as stored patterns; pools a set [..., N, d] to [..., num_queries * out].

    Attributes as in :class:`Hopfield`, plus ``num_queries`` learned state patterns. Without projections
    (``use_projections=False``) it is Eq. (3) with the learned query as the state pattern.
    """
    num_queries: int = 1
    num_heads: int = 1
    qkv_features: int | None = None
    out_features: int | None = None
    beta: float | None = None
    update_steps: int = 1
    use_projections: bool = True
    normalize: bool = False
    use_bias: bool = True

    @nn.compact
    def __call__(self, stored, mask=None):
        """stored: [..., N, d] (the instances of a set); mask: bool [..., N] or None."""
        d = stored.shape[-1]
        query = self.param("state_pattern", nn.initializers.normal(1.0), (self.num_queries, d))
        state = jnp.broadcast_to(query.astype(stored.dtype), stored.shape[:-2] + query.shape)
        z = Hopfield(num_heads=self.num_heads, qkv_features=self.qkv_features,
                     out_features=self.out_features, beta=self.beta, update_steps=self.update_steps,
                     use_projections=self.use_projections, normalize=self.normalize,
                     use_bias=self.use_bias, name="hopfield")(state, stored, mask=mask)
        return z.reshape(z.shape[:-2] + (-1,))


class HopfieldLayer(nn.Module):
    """Hopfield lookup layer (Sec. 3, 'HopfieldLayer'): the input is the state pattern and the stored
    patterns are either learned parameters (``num_patterns`` of them) or a static array
    (``stored_patterns``, not trained, e.g. a training set). Maps [..., S, d] to [..., S, out].

    Attributes as in :class:`Hopfield`, plus:
      num_patterns: number of learned stored patterns (ignored when ``stored_patterns`` is given).
      stored_patterns: optional static [N, d_y] array used as stored patterns (and projections).
      separate_values: learn the pattern projections separately from the stored patterns.
    """
    num_patterns: int = 1
    stored_patterns: Any = None
    separate_values: bool = False
    num_heads: int = 1
    qkv_features: int | None = None
    out_features: int | None = None
    beta: float | None = None
    update_steps: int = 1
    use_projections: bool = True
    normalize: bool = False
    use_bias: bool = True

    @nn.compact
    def __call__(self, state, mask=None):
        """state: [..., S, d]; mask: bool [N] or None."""
        d = state.shape[-1]
        if self.stored_patterns is not None:
            stored = jax.lax.stop_gradient(jnp.asarray(self.stored_patterns, state.dtype))
            values = stored
        else:
            stored = self.param("stored_patterns", nn.initializers.normal(1.0), (self.num_patterns, d))
            values = (self.param("pattern_projections", nn.initializers.normal(1.0), (self.num_patterns, d))
                      if self.separate_values else stored)
        batch = state.shape[:-2]
        stored = jnp.broadcast_to(stored, batch + stored.shape)
        values = jnp.broadcast_to(values, batch + values.shape)
        return Hopfield(num_heads=self.num_heads, qkv_features=self.qkv_features,
                        out_features=self.out_features, beta=self.beta, update_steps=self.update_steps,
                        use_projections=self.use_projections, normalize=self.normalize,
                        use_bias=self.use_bias, name="hopfield")(state, stored, values, mask=mask)
