"""Sequences of linear systems A_t x = b_t and their SOR / SSOR-PCG cost tables.

The instance model of the paper's experiments (official scripts ``learning.m`` / ``contextual.m``):
A_t = L + c_t I with L the 5-point Laplacian of an m x m grid (n = m^2; the paper uses m = 10, n = 100),
the diagonal shift c_t = offset + width * Beta(a, b) (high variance: Beta(0.5, 1.5); low variance:
Beta(2, 6); offset -0.15, width 0.6), and b_t a standard Gaussian in R^n conditioned on ||b_t|| <= sqrt(n)
(rejection sampling). The cost of a parameter omega on instance t is the number of iterations the
solver needs to reach relative residual tol (1e-8), capped at maxiter (10,000).

Because the instances do not depend on the learner's choices, the cost of every arm on every instance
can be computed once (a [T, K] table); the bandit learners then only see the entry of the arm they
play, exactly as if they had run the solver themselves.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from common import linear_solvers as ls
from common import sharding
from papers.learning_to_relax import fast_sor


def sample_shifts(rng: np.random.Generator, T: int, beta_a: float, beta_b: float,
                  offset: float = -0.15, width: float = 0.6) -> np.ndarray:
    """c_t = offset + width * Beta(beta_a, beta_b), shape [T] float64."""
    return offset + width * rng.beta(beta_a, beta_b, size=T)


def sample_rhs(rng: np.random.Generator, T: int, n: int) -> np.ndarray:
    """[T, n] standard Gaussians conditioned on ||b|| <= sqrt(n) (radial truncation by rejection)."""
    out = np.empty((T, n))
    filled = 0
    while filled < T:
        cand = rng.standard_normal((2 * (T - filled) + 8, n))
        ok = cand[np.linalg.norm(cand, axis=1) <= np.sqrt(n)]
        take = min(len(ok), T - filled)
        out[filled:filled + take] = ok[:take]
        filled += take
    return out


def omega_grid(lo: float, hi: float, arms: int) -> np.ndarray:
    """The K arms: ``linspace(lo, hi, arms)`` (the paper: 20 values in [1, 1.95]; omega = 1 is Gauss-Seidel)."""
    return np.linspace(lo, hi, arms)


def young_omegas(m: int, shifts) -> np.ndarray:
    """Instance-optimal omega*(c) = 2 / (1 + sqrt(1 - rho_J(c)^2)), rho_J = 4 cos(pi/(m+1)) / (4 + c)."""
    with jax.enable_x64(True):
        rho = ls.jacobi_spectral_radius_laplacian_2d(m, jnp.asarray(shifts, jnp.float64))
        return np.asarray(ls.young_omega(rho))


@functools.lru_cache(maxsize=None)
def _batched_solver(solver: str, tol: float, maxiter: int):
    if solver == "sor_common":
        fn = ls.sor_solve_laplacian_2d
    elif solver == "ssor_pcg":
        fn = ls.ssor_pcg_solve_laplacian_2d
    else:
        raise ValueError(f"solver must be 'sor', 'sor_common' or 'ssor_pcg', got {solver!r}")
    return jax.jit(jax.vmap(lambda b, c, w: fn(b, c, w, tol=tol, maxiter=maxiter).iterations))


def iteration_counts(rhs: np.ndarray, shifts: np.ndarray, omegas: np.ndarray, x0: np.ndarray | None = None, *,
                     solver: str = "sor", tol: float = 1e-8, maxiter: int = 10000, chunk: int = 256,
                     stats: dict | None = None, mesh=None) -> np.ndarray:
    """Iterations to tolerance of instance t with parameter omegas[t]; all inputs have leading dim [T].

    SOR: :func:`fast_sor.sor_iterations` (anti-diagonal, batch-last sweeps; batches of ``chunk`` systems
    sorted by their predicted count), started from x0 ([T, n], default 0). ``"sor_common"`` (the same
    counts from x_0 = 0, ~20x slower; a reference) and ``"ssor_pcg"`` (from x_0 = 0): the common solvers,
    vmapped over chunks sorted by (omega, then shift), each chunk sharded over the 'data' axis of ``mesh``
    (default: all devices) as in :func:`fast_sor.batch_counts`. Returns int32 [T].
    """
    if solver == "sor":
        return fast_sor.sor_iterations(rhs, shifts, omegas, x0, tol=tol, maxiter=maxiter, batch=chunk,
                                       stats=stats, mesh=mesh)
    if x0 is not None:
        raise ValueError(f"solver {solver!r} starts from x_0 = 0; x0 is supported by solver='sor' only")
    T = len(shifts)
    order = np.lexsort((shifts, omegas))
    out = np.zeros(T, np.int32)
    mesh = sharding.make_mesh() if mesh is None else mesh
    run = _batched_solver(solver, float(tol), int(maxiter))
    size = chunk + (-chunk) % mesh.size           # one shape for every call and chunk: one compile
    with jax.enable_x64(True):
        for s in range(0, T, size):
            idx = order[s:s + size]
            idx_p = np.concatenate([idx, np.repeat(idx[-1:], size - len(idx))])
            batch = tuple(np.asarray(a[idx_p], np.float64) for a in (rhs, shifts, omegas))
            out[idx] = fast_sor.batch_counts(run, batch, mesh)[:len(idx)]
    return out


def cost_table(rhs: np.ndarray, shifts: np.ndarray, grid: np.ndarray, extra_omegas: np.ndarray | None = None,
               x0: np.ndarray | None = None, **kw) -> np.ndarray:
    """[T, K] SOR iterations of every arm omega_k of the grid on every instance t (started from x0[t],
    default 0).

    With ``extra_omegas`` ([T], e.g. the instance-optimal omega*(c_t)) the table gets a last column
    [T, K + 1] with the cost of omega = extra_omegas[t] on instance t; all T (K + 1) solves share one
    sorted, batched pass.
    """
    T, K = len(shifts), len(grid)
    omegas = np.tile(grid, (T, 1))
    if extra_omegas is not None:
        omegas = np.concatenate([omegas, np.asarray(extra_omegas, np.float64)[:, None]], axis=1)
    cols = omegas.shape[1]
    x0_rep = None if x0 is None else np.repeat(x0, cols, axis=0)
    flat = iteration_counts(np.repeat(rhs, cols, axis=0), np.repeat(shifts, cols), omegas.reshape(-1), x0_rep,
                            **kw)
    return flat.reshape(T, cols)
