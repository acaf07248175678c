"""Contractive compressors C: R^d -> R^d used by EF21 / EF21-W.

A compressor is *contractive* with parameter alpha in (0, 1] if
    E ||C(x) - x||^2 <= (1 - alpha) ||x||^2     for all x            (paper, Definition 1).
Top-k (greedy, deterministic) has alpha = k/d. Rand-k (keep k random coordinates, no rescaling)
has alpha = k/d in expectation. The unbiased Rand-k, (d/k) * Rand-k, has variance parameter
omega = d/k - 1 and is not contractive; scaling it by 1/(omega + 1) = k/d gives back Rand-k.
All compressors here are positively homogeneous, C(t x) = t C(x) for t > 0 (with the same
randomness), which is why EF21-W coincides with EF21 for them (paper, Section 2.4).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def top_k(x: jnp.ndarray, k: int) -> jnp.ndarray:
    """Top-k: keeps the k entries of largest magnitude of x [d] (ties: lowest index), zeros the rest."""
    _, idx = jax.lax.top_k(jnp.abs(x), k)
    return jnp.zeros_like(x).at[idx].set(x[idx])


def rand_k(x: jnp.ndarray, key: jax.Array, k: int, unbiased: bool = False) -> jnp.ndarray:
    """Rand-k of x [d]: k coordinates drawn uniformly without replacement.

    unbiased=False: the contractive form (alpha = k/d); unbiased=True: multiplied by d/k so that
    E C(x) = x (variance parameter omega = d/k - 1).
    """
    d = x.shape[-1]
    _, idx = jax.lax.top_k(jax.random.uniform(key, (d,)), k)   # k distinct uniform indices
    out = jnp.zeros_like(x).at[idx].set(x[idx])
    return out * (d / k) if unbiased else out


def contraction_alpha(kind: str, k: int, d: int) -> float:
    """alpha of Definition 1 for 'top_k' and (contractive) 'rand_k'; 1 for 'identity'."""
    if kind in ("top_k", "rand_k"):
        if not 1 <= k <= d:
            raise ValueError(f"k={k} must lie in [1, d={d}]")
        return k / d
    if kind == "identity":
        return 1.0
    raise ValueError(f"unknown compressor {kind!r}; use 'top_k', 'rand_k' or 'identity'")


def compress(kind: str, x: jnp.ndarray, key: jax.Array, k: int) -> jnp.ndarray:
    """Dispatches on ``kind`` ('top_k', 'rand_k' contractive, 'identity'); x is [d]."""
    if kind == "top_k":
        return top_k(x, k)
    if kind == "rand_k":
        return rand_k(x, key, k, unbiased=False)
    if kind == "identity":
        return x
    raise ValueError(f"unknown compressor {kind!r}; use 'top_k', 'rand_k' or 'identity'")


def bits_per_message(kind: str, k: int, d: int, float_bits: int = 64) -> int:
    """Bits one client sends per round: k values plus k indices of ceil(log2 d) bits each.

    Rand-k with a seed shared with the server needs no indices; we still count them to keep the
    comparison with Top-k conservative. 'identity' sends d values and no indices.
    """
    if kind == "identity":
        return d * float_bits
    return k * (float_bits + max(1, math.ceil(math.log2(d))))
