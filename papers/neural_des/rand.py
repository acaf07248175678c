"""Eager random draws with the numbers of ``jax.random`` but one compiled program for every shape.

Every eager ``jax.random.split/uniform/normal`` call compiles a program per distinct shape, and each threefry
program takes ~0.1-0.2 s to compile on CPU -- initialising a few small MLPs compiles a dozen of them, which
was a large part of this subproject's test time.  With ``jax_threefry_partitionable`` (JAX's default) element
j of a draw depends only on the key and on j, so a draw of a fixed block size cut to the first n elements
(reshaped row-major) gives exactly the numbers of the draw of size n.  The functions here draw whole blocks
(one program per block size and dtype) and cut them on the host; inside ``jit``, with typed keys, or with
the partitionable flag off they call ``jax.random`` directly.  ``models_test`` checks the equality.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

KEY_BLOCK = 16        # keys per split program
VALUE_BLOCK = 4096    # smallest block of a uniform/normal draw (larger draws: the next power of two)


def _block(n: int, smallest: int) -> int:
    return max(smallest, 1 << max(n - 1, 0).bit_length())


def _shareable(key) -> bool:
    return (bool(jax.config.jax_threefry_partitionable) and not isinstance(key, jax.core.Tracer)
            and str(getattr(key, "dtype", "")) == "uint32")


def split(key, n: int = 2):
    """``jax.random.split(key, n)``: [n, 2] uint32 keys (numpy when shareable)."""
    if not _shareable(key):
        return jax.random.split(key, n)
    return np.asarray(jax.random.split(key, _block(n, KEY_BLOCK)))[:n]


def _cut(flat, shape):
    return jax.device_put(np.asarray(flat)[:math.prod(shape)].reshape(shape))   # (jnp.asarray would compile)


def uniform(key, shape, dtype=jnp.float32, minval=0.0, maxval=1.0):
    """``jax.random.uniform(key, shape, dtype, minval, maxval)``."""
    if not _shareable(key):
        return jax.random.uniform(key, shape, dtype, minval, maxval)
    return _cut(jax.random.uniform(key, (_block(math.prod(shape), VALUE_BLOCK),), dtype, minval, maxval), shape)


def normal(key, shape, dtype=jnp.float32):
    """``jax.random.normal(key, shape, dtype)``."""
    if not _shareable(key):
        return jax.random.normal(key, shape, dtype)
    return _cut(jax.random.normal(key, (_block(math.prod(shape), VALUE_BLOCK),), dtype), shape)
