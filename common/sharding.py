"""Device meshes and data/parameter placement with ``jax.sharding`` (no pmap).

The global batch is split along the mesh axis ``'data'``. Parameters are replicated, or
FSDP-sharded along ``'data'`` on their largest divisible dimension when they are big enough.
"""
from __future__ import annotations

from typing import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA = "data"


class ShardingError(ValueError):
    """A batch or mesh spec that does not fit the devices."""


def make_mesh(spec: Sequence[tuple[str, int]] = ((DATA, -1),), devices=None) -> Mesh:
    """A mesh from ``[(axis_name, size), ...]``; one size may be -1 (all remaining devices).

    Axes are of the Auto kind, so ``jax.jit`` propagates shardings from the inputs.
    """
    devices = np.asarray(jax.devices() if devices is None else devices)
    names = [name for name, _ in spec]
    sizes = [int(size) for _, size in spec]
    if sizes.count(-1) > 1:
        raise ShardingError(f"mesh spec {spec}: at most one axis may have size -1")
    known = int(np.prod([s for s in sizes if s != -1]))
    if devices.size % known:
        raise ShardingError(f"mesh spec {spec} needs a multiple of {known} devices, have {devices.size}")
    sizes = [devices.size // known if s == -1 else s for s in sizes]
    if int(np.prod(sizes)) != devices.size:
        raise ShardingError(f"mesh spec {spec} resolves to {sizes} = {np.prod(sizes)} devices, "
                            f"have {devices.size}")
    return Mesh(devices.reshape(sizes), tuple(names))


def check_batch_divisible(batch_size: int, mesh: Mesh, axis: str = DATA) -> None:
    """Raises a clear error if the global batch cannot be split evenly over the 'data' axis."""
    n = mesh.shape[axis]
    if batch_size % n:
        lower, upper = (batch_size // n) * n, (batch_size // n + 1) * n
        raise ShardingError(
            f"global batch size {batch_size} does not divide by the {n} devices on mesh axis '{axis}'; "
            f"use a multiple of {n}, e.g. {lower or upper} or {upper} (override batch_size in the config)")


def batch_sharding(mesh: Mesh, axis: str = DATA) -> NamedSharding:
    """Leading dimension split along ``axis``, the rest replicated."""
    return NamedSharding(mesh, P(axis))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def shard_batch(batch, mesh: Mesh, axis: str = DATA):
    """Places a global batch (a pytree of host arrays, leading dim = global batch) on the mesh.

    On one process this is a device_put. On several processes each process passes its own
    slice of the global batch (leading dim = global / process_count) and the global array is
    assembled with ``jax.make_array_from_process_local_data``.
    """
    sharding = batch_sharding(mesh, axis)

    def place(x):
        x = np.asarray(x)
        global_rows = x.shape[0] * jax.process_count()
        check_batch_divisible(global_rows, mesh, axis)
        if jax.process_count() == 1:
            return jax.device_put(x, sharding)
        return jax.make_array_from_process_local_data(sharding, x, (global_rows,) + x.shape[1:])

    return jax.tree.map(place, batch)


def process_slice(global_batch_size: int) -> slice:
    """The rows of the global batch that this process feeds (contiguous, equal parts)."""
    n = jax.process_count()
    if global_batch_size % n:
        raise ShardingError(f"global batch size {global_batch_size} does not divide by {n} processes")
    per = global_batch_size // n
    return slice(jax.process_index() * per, (jax.process_index() + 1) * per)


def replicate(tree, mesh: Mesh):
    """Copies every leaf to all devices of the mesh."""
    return jax.device_put(tree, replicated(mesh))


def fsdp_spec(shape: Sequence[int], mesh: Mesh, axis: str = DATA, min_size: int = 2**18) -> P:
    """Shards the largest dimension divisible by the axis size if the array has >= min_size entries."""
    n = mesh.shape[axis]
    if n == 1 or int(np.prod(shape, dtype=np.int64)) < min_size:
        return P()
    for dim in sorted(range(len(shape)), key=lambda d: -shape[d]):
        if shape[dim] % n == 0:
            spec = [None] * len(shape)
            spec[dim] = axis
            return P(*spec)
    return P()


def param_shardings(params, mesh: Mesh, mode: str = "replicate", axis: str = DATA, min_size: int = 2**18):
    """NamedShardings for a params pytree: ``mode`` is 'replicate' or 'fsdp'."""
    if mode == "replicate":
        return jax.tree.map(lambda _: replicated(mesh), params)
    if mode == "fsdp":
        return jax.tree.map(lambda x: NamedSharding(mesh, fsdp_spec(np.shape(x), mesh, axis, min_size)), params)
    raise ShardingError(f"unknown param sharding mode {mode!r}; use 'replicate' or 'fsdp'")


def place_params(params, mesh: Mesh, mode: str = "replicate", **kwargs):
    """device_put of a params pytree with :func:`param_shardings`."""
    return jax.device_put(params, param_shardings(params, mesh, mode, **kwargs))
