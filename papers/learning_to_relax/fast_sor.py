"""Batched SOR iteration counts on the shifted grid Laplacian, stored by anti-diagonals (batch last).

The experiment needs the number of natural-order SOR sweeps to tolerance for every (instance, omega)
pair of a sequence: T (K + 1) solves of a 100-unknown system, ~10^8 sweeps for the small config.
``common.linear_solvers.sor_solve_laplacian_2d`` computes the same sweep by wavefronts on a padded
[2m + 1, m + 2] array with dynamic slices; vmapped it costs ~3-7 us of CPU per instance-sweep. This
module keeps the iterate as a tuple of its 2m - 1 anti-diagonals, each an exact [len_s, N] array with the
batch on the last (contiguous) axis, unrolls the sweep over the diagonals with static slices (no masks,
no dynamic indexing, zero Dirichlet boundary by padding), and computes the residual of the new iterate
inside the same unrolled loop. One sweep plus residual norm then costs ~0.15-0.25 us of CPU per
instance on the 2-core machine (20x faster), which is what makes the paper's horizon T = 5000 fit.

Natural (row-major) order on the m x m grid: point (i, j) lies on anti-diagonal s = i + j; its lower
neighbours (i - 1, j) and (i, j - 1) lie on diagonal s - 1 and its upper neighbours (i + 1, j), (i, j + 1)
on s + 1. Sweeping the diagonals in increasing s therefore gives exactly the natural-order SOR update

    x_new[p] = (1 - omega) x[p] + omega / d (b[p] + sum_{lower q} x_new[q] + sum_{upper q} x[q]),

d = 4 + c (the diagonal of L + c I). Inside diagonal s, point (i, s - i) is stored at row i - lo_s.

The iteration count is the official code's (``solvers/sor.m``): from x_0 (0, or a given warm start),
the smallest k with ||b - A x_k|| / ||b - A x_0|| < tol, or maxiter if none.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils

from common import linear_solvers as ls
from common import sharding


def diagonal_ranges(m: int) -> list[tuple[int, int]]:
    """[(lo_s, hi_s)] for s = 0..2m-2: the grid rows i of the points (i, s - i) on anti-diagonal s."""
    return [(max(0, s - m + 1), min(s, m - 1)) for s in range(2 * m - 1)]


def _diagonal_index(m: int) -> list[np.ndarray]:
    """Row-major flat indices i * m + j of the points of each anti-diagonal, in storage order."""
    return [np.array([i * m + (s - i) for i in range(lo, hi + 1)]) for s, (lo, hi) in enumerate(diagonal_ranges(m))]


def to_diagonals(x: jax.Array, m: int) -> tuple[jax.Array, ...]:
    """[N, m*m] row-major grid vectors -> tuple of 2m - 1 arrays [len_s, N] (batch last)."""
    return tuple(x[:, idx].T for idx in _diagonal_index(m))


def from_diagonals(diags, m: int) -> jax.Array:
    """Inverse of :func:`to_diagonals`: tuple of [len_s, N] -> [N, m*m]."""
    flat = jnp.concatenate(diags, axis=0)                     # [m*m, N] in diagonal order
    order = np.concatenate(_diagonal_index(m))
    return jnp.zeros_like(flat).at[order].set(flat).T


def _gather(arr, arr_range, lo: int, hi: int, offsets):
    """sum_{o in offsets} arr[i + o] for grid rows i = lo..hi, with arr holding rows arr_range = (alo, ahi)
    and zero outside them (the Dirichlet boundary / the end of a diagonal). Static slices and pads only."""
    alo, ahi = arr_range
    out = None
    for o in offsets:
        a, b = lo + o, hi + o
        ca, cb = max(a, alo), min(b, ahi)
        if ca > cb:
            continue
        piece = arr[ca - alo:cb - alo + 1]
        if ca > a or cb < b:
            piece = jnp.pad(piece, ((ca - a, b - cb), (0, 0)))
        out = piece if out is None else out + piece
    return out


def sor_sweep(diags, rhs, omega, d):
    """One natural-order SOR sweep on (L + c I) x = b and the squared residual norm of the new iterate.

    Args:
      diags, rhs: tuples of 2m - 1 arrays [len_s, N] (iterate and right-hand side by anti-diagonals).
      omega, d: [N] relaxation parameters and diagonals 4 + c.
    Returns (new diags, ||b - A x_new||^2 [N]). The residual of diagonal s is formed once diagonal s + 1
    has been updated (it needs new values on s - 1, s, s + 1).
    """
    n = len(diags)
    m = (n + 1) // 2
    ranges = diagonal_ranges(m)
    w = omega / d
    new = []
    res_sq = 0.0

    def residual_sq(s):
        lo, hi = ranges[s]
        r = rhs[s] - d * new[s]
        if s > 0:
            r = r + _gather(new[s - 1], ranges[s - 1], lo, hi, (-1, 0))
        if s < n - 1:
            r = r + _gather(new[s + 1], ranges[s + 1], lo, hi, (0, 1))
        return jnp.sum(r * r, axis=0)

    for s in range(n):
        lo, hi = ranges[s]
        acc = rhs[s]
        if s > 0:
            acc = acc + _gather(new[s - 1], ranges[s - 1], lo, hi, (-1, 0))     # (i-1, j), (i, j-1): new
        if s < n - 1:
            acc = acc + _gather(diags[s + 1], ranges[s + 1], lo, hi, (0, 1))   # (i+1, j), (i, j+1): old
        new.append((1.0 - omega) * diags[s] + w * acc)
        if s > 0:
            res_sq = res_sq + residual_sq(s - 1)
    res_sq = res_sq + residual_sq(n - 1)
    return tuple(new), res_sq


def residual_norms(b: jax.Array, shift: jax.Array, x: jax.Array) -> jax.Array:
    """||b_n - (L + shift_n I) x_n|| for row-major grid vectors b, x [N, m*m] and shift [N]; [N]."""
    n_sys, n = b.shape
    m = int(round(np.sqrt(n)))
    g = jnp.pad(x.reshape(n_sys, m, m), ((0, 0), (1, 1), (1, 1)))
    ax = ((4.0 + shift)[:, None, None] * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1]
          - g[:, 1:-1, :-2] - g[:, 1:-1, 2:])
    return jnp.linalg.norm(b - ax.reshape(n_sys, n), axis=-1)


def sor_solve_batch(b: jax.Array, shift: jax.Array, omega: jax.Array, x0: jax.Array | None = None, *,
                    tol: float = 1e-8, maxiter: int = 10000):
    """Natural-order SOR from x0 (default 0) on N systems (L + shift_n I) x = b_n at once (jittable).

    Args: b [N, m*m] (row-major grid vectors), shift [N], omega [N], x0 [N, m*m] or None.
    Returns (x [N, m*m] at the stopping iteration, iterations [N] int32, relative residual [N]).
    A lax.while_loop sweeps until every system has ||r_k|| < tol ||r_0|| (or maxiter), r_0 = b - A x0
    (official ``sor.m``); a system with r_0 = 0 takes 0 sweeps. A system that has converged is frozen by
    setting its omega to 0 (x_new = x), so its count and iterate stay put.
    """
    m = int(round(np.sqrt(b.shape[-1])))
    x0 = jnp.zeros_like(b) if x0 is None else x0
    rhs = to_diagonals(b, m)
    d = 4.0 + shift
    r0_norm = residual_norms(b, shift, x0)
    r0 = jnp.maximum(r0_norm, jnp.finfo(b.dtype).tiny)
    n_sys = b.shape[0]

    def cond(state):
        _, k, done, _, _ = state
        return (k < maxiter) & ~jnp.all(done)

    def body(state):
        diags, k, done, iters, rel = state
        diags, res_sq = sor_sweep(diags, rhs, jnp.where(done, 0.0, omega), d)
        new_rel = jnp.sqrt(res_sq) / r0
        rel = jnp.where(done, rel, new_rel)
        iters = jnp.where(done, iters, k + 1)
        return diags, k + 1, done | (new_rel < tol), iters, rel

    solved = r0_norm == 0
    init = (to_diagonals(x0, m), jnp.asarray(0, jnp.int32), solved,
            jnp.zeros(n_sys, jnp.int32), jnp.where(solved, 0.0, jnp.inf).astype(b.dtype))
    diags, _, _, iters, rel = jax.lax.while_loop(cond, body, init)
    return from_diagonals(diags, m), iters, rel


@functools.lru_cache(maxsize=None)
def _compiled_counts(tol: float, maxiter: int):
    return jax.jit(lambda b, c, w, x0: sor_solve_batch(b, c, w, x0, tol=tol, maxiter=maxiter)[1])


def predicted_iterations(m: int, shifts, omegas, tol: float = 1e-8) -> np.ndarray:
    """log(tol) / log rho(omega, c) from Young's SOR spectral radius: a cheap sort key for batching."""
    with jax.enable_x64(True):
        rho_j = ls.jacobi_spectral_radius_laplacian_2d(m, jnp.asarray(shifts, jnp.float64))
        rho = np.asarray(ls.sor_spectral_radius(jnp.asarray(omegas, jnp.float64), rho_j))
    return np.log(tol) / np.log(np.clip(rho, 1e-300, 1 - 1e-15))


def sor_iterations(rhs: np.ndarray, shifts: np.ndarray, omegas: np.ndarray, x0: np.ndarray | None = None, *,
                   tol: float = 1e-8, maxiter: int = 10000, batch: int = 256, stats: dict | None = None,
                   mesh=None) -> np.ndarray:
    """SOR iterations to tolerance of system t = (L + shifts[t] I, rhs[t]) with omegas[t]; int32 [N].

    x0 ([N, m*m], default 0): the start of each solve. Systems are sorted by their predicted count
    (:func:`predicted_iterations`) and solved ``batch`` at a time, so a batch's while-loop runs about as
    long as its members need. With several devices (``mesh``, default all) a batch is padded to a multiple
    of the device count (one shape for every call, so one compile) and sharded over the 'data' axis: every
    process holds the whole host batch and feeds its own rows (:func:`batch_counts`). ``stats`` (optional
    dict) receives the lane efficiency sum(iterations) / sum(batch size x batch maximum).
    """
    rhs, shifts, omegas = (np.asarray(a, np.float64) for a in (rhs, shifts, omegas))
    x0 = np.zeros_like(rhs) if x0 is None else np.asarray(x0, np.float64)
    N = len(shifts)
    m = int(round(np.sqrt(rhs.shape[1])))
    order = np.argsort(predicted_iterations(m, shifts, omegas, tol), kind="stable")
    mesh = sharding.make_mesh() if mesh is None else mesh
    size = batch + (-batch) % mesh.size
    run = _compiled_counts(float(tol), int(maxiter))
    out = np.zeros(N, np.int32)
    lanes = 0
    with jax.enable_x64(True):
        for s in range(0, N, size):
            idx = order[s:s + size]
            idx_p = np.concatenate([idx, np.repeat(idx[-1:], size - len(idx))])
            counts = batch_counts(run, (rhs[idx_p], shifts[idx_p], omegas[idx_p], x0[idx_p]), mesh)
            out[idx] = counts[:len(idx)]
            lanes += size * int(counts.max())
    if stats is not None:
        stats["lane_efficiency"] = float(out.sum()) / max(lanes, 1)
    return out


def batch_counts(run, host_batch: tuple, mesh) -> np.ndarray:
    """``run(*batch)`` on a global host batch (the same on every process), as a numpy array on every process.

    One device: a plain call. Several: each process passes its own contiguous rows
    (``sharding.process_slice``) to ``sharding.shard_batch``, which assembles the global batch sharded
    over 'data'; the sharded result is gathered back to every process."""
    if mesh.size == 1:
        return np.asarray(run(*host_batch))
    rows = sharding.process_slice(len(host_batch[0]))
    out = run(*sharding.shard_batch(tuple(a[rows] for a in host_batch), mesh))
    return np.asarray(multihost_utils.process_allgather(out, tiled=True))
