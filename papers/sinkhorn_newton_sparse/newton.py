"""The sparse Newton step of Sinkhorn-Newton-Sparse (Algorithm 1, lines 6-10 of the paper).

Given a dual point z = (x, y) with plan P:
  1. Sparsify: keep the k largest entries of P (the off-diagonal blocks of the Hessian, Eq. (4)), k
     chosen so that the (n+m) x (n+m) sparsified Hessian has at most ceil(lambda (n+m)^2) nonzeros
     (the paper's target sparsity lambda, e.g. 2/n); the diagonal blocks diag(P 1), diag(P^T 1) are
     kept exact (Algorithm 1, line 7, "Sparsify(grad^2 f, rho)" with rho the k-th largest entry).
  2. Solve  eta * M dz = grad f  with conjugate gradient, where
         M = [[diag(P 1), S], [S^T, diag(P^T 1)]],  S = P restricted to the kept entries,
     i.e. dz = -(sparsified Hessian)^{-1} grad f (line 8). Each matvec is O(k + n + m) with a
     segment-sum over the kept (row, col, value) triplets; M is diagonally dominant, hence PSD.
  3. Backtracking line search on f (line 9): largest alpha in {1, 1/2, 1/4, ...} with the Armijo
     condition f(z + alpha dz) - f(z) >= c1 alpha <grad f, dz>. The difference is evaluated exactly as
         f(z + a dz) - f(z) = a <g, dz> - (1/eta) sum_ij P_ij phi(eta a (dx_i + dy_j)),  phi(u) = e^u - 1 - u,
     which keeps it accurate when the marginal error is near machine precision.
  4. Update z <- z + alpha dz (line 10).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from papers.sinkhorn_newton_sparse import lyapunov


class SparseBlock(NamedTuple):
    """The kept entries of P: rows [k] int, cols [k] int, vals [k]."""
    rows: jax.Array
    cols: jax.Array
    vals: jax.Array


def num_kept(n: int, m: int, sparsity: float) -> int:
    """Entries of P kept so that the sparsified Hessian has at most ceil(lambda (n+m)^2) nonzeros.

    The Hessian is (n+m) x (n+m); its n+m diagonal entries are always kept, and each kept entry of P
    appears twice (blocks P and P^T). With lambda = 2/n and n = m this keeps 3n entries of P.
    """
    budget = math.ceil(sparsity * (n + m) ** 2) - (n + m)
    return int(min(n * m, max(1, budget // 2)))


def kth_largest_log(logP, k: int, iters: int = 40, log_range: float = 80.0):
    """log rho, the log of the k-th largest entry of P = exp(logP), by bisection on counts (O(iters n m)).

    Searches [max - log_range, max]: entries more than e^log_range below the largest one carry no weight
    in the Hessian at float64 precision. Resolution log_range / 2^iters.
    """
    hi = jnp.max(logP)
    lo = hi - log_range

    def body(_, s):
        lo, hi = s
        mid = 0.5 * (lo + hi)
        enough = (logP >= mid).sum() >= k
        return jnp.where(enough, mid, lo), jnp.where(enough, hi, mid)

    lo, _ = jax.lax.fori_loop(0, iters, body, (lo, hi))
    return lo


def sparsify(logP, k: int) -> SparseBlock:
    """Keeps the k largest entries of P = exp(logP) [n, m] (Algorithm 1 line 7, rho = k-th largest entry).

    The threshold comes from :func:`kth_largest_log` (XLA's top_k over n*m entries is ~15x slower on
    CPU than the bisection); entries >= rho are gathered into a fixed-size buffer of k triplets (ties
    within the bisection resolution are broken by index; unused slots get value 0).
    """
    m = logP.shape[1]
    flat = logP.ravel()
    mask = flat >= kth_largest_log(logP, k)
    # Gather the indices of the kept entries into k slots (a cumsum + scatter; cheaper than jnp.nonzero).
    pos = jnp.cumsum(mask) - 1
    slot = jnp.where(mask & (pos < k), pos, k)
    idx = jnp.zeros(k, jnp.int32).at[slot].set(jnp.arange(flat.size, dtype=jnp.int32), mode="drop")
    used = jnp.arange(k) < mask.sum()
    vals = jnp.where(used, jnp.exp(flat[idx]), 0.0)
    return SparseBlock(idx // m, idx % m, vals)


def sparse_matvec(block: SparseBlock, row_sums, col_sums, vx, vy):
    """M v for M = [[diag(row_sums), S], [S^T, diag(col_sums)]]: returns ([n], [m]) in O(k + n + m)."""
    n, m = row_sums.shape[0], col_sums.shape[0]
    Sv = jax.ops.segment_sum(block.vals * vy[block.cols], block.rows, num_segments=n)
    STu = jax.ops.segment_sum(block.vals * vx[block.rows], block.cols, num_segments=m)
    return row_sums * vx + Sv, col_sums * vy + STu


def conjugate_gradient(matvec, bx, by, *, tol, max_iter, precond=None):
    """Solves M (dx, dy) = (bx, by) for symmetric PSD M by (preconditioned) CG from zero.

    Stops when ||residual||_2 <= tol * ||b||_2 or after max_iter iterations.
    Returns (dx, dy, iterations).
    """
    if precond is None:
        precond = lambda ux, uy: (ux, uy)
    dot = lambda a, b: a[0] @ b[0] + a[1] @ b[1]
    b = (bx, by)
    bnorm = jnp.sqrt(dot(b, b))
    x0 = (jnp.zeros_like(bx), jnp.zeros_like(by))
    z0 = precond(*b)
    init = (x0, b, z0, dot(b, z0), jnp.asarray(0, jnp.int32))

    def cond(s):
        _, res, _, _, it = s
        return (jnp.sqrt(dot(res, res)) > tol * bnorm) & (it < max_iter)

    def body(s):
        x, res, p, rz, it = s
        Ap = matvec(*p)
        alpha = rz / dot(p, Ap)
        x = (x[0] + alpha * p[0], x[1] + alpha * p[1])
        res = (res[0] - alpha * Ap[0], res[1] - alpha * Ap[1])
        z = precond(*res)
        rz_new = dot(res, z)
        beta = rz_new / rz
        p = (z[0] + beta * p[0], z[1] + beta * p[1])
        return x, res, p, rz_new, it + 1

    x, _, _, _, it = jax.lax.while_loop(cond, body, init)
    return x[0], x[1], it


def phi(u):
    """phi(u) = exp(u) - 1 - u, accurate for small |u| (series) and large u (inf for overflow)."""
    small = jnp.abs(u) < 1e-2
    us = jnp.where(small, u, 0.0)
    series = 0.5 * us * us * (1.0 + us / 3.0 * (1.0 + us / 4.0 * (1.0 + us / 5.0 * (1.0 + us / 6.0))))
    return jnp.where(small, series, jnp.expm1(u) - u)


def potential_increase(P, dx, dy, slope, alpha, eta):
    """f(z + alpha dz) - f(z) (exact, see module docstring) and the new plan's row/col sums.

    P [n, m] plan at z; slope = <grad f(z), dz>. Returns (increase, row_sums_new, col_sums_new);
    the increase is -inf if the step overflows.
    """
    u = eta * alpha * (dx[:, None] + dy[None, :])
    Q = P * jnp.expm1(u)                     # P(z + alpha dz) - P(z)
    curvature = (P * phi(u)).sum()
    inc = alpha * slope - curvature / eta
    inc = jnp.where(jnp.isfinite(inc), inc, -jnp.inf)
    return inc, P.sum(1) + Q.sum(1), P.sum(0) + Q.sum(0)


class NewtonOut(NamedTuple):
    x: jax.Array
    y: jax.Array
    accepted: jax.Array      # bool: Armijo condition met with alpha >= alpha_min
    alpha: jax.Array
    error: jax.Array         # l1 marginal error at the returned point
    cg_iters: jax.Array


def newton_step(C, r, c, x, y, eta, *, k: int, cg_tol: float, cg_max_iter: int,
                armijo_c1: float = 1e-4, backtrack: float = 0.5, max_backtracks: int = 30,
                jacobi: bool = False) -> NewtonOut:
    """One SNS Newton iteration (Algorithm 1, lines 6-10) from (x, y). If the line search fails
    (no Armijo step down to backtrack**max_backtracks) the point is returned unchanged, accepted=False."""
    logP = lyapunov.log_plan(C, x, y, eta)
    P = jnp.exp(logP)
    row_sums, col_sums = P.sum(1), P.sum(0)
    gx, gy = r - row_sums, c - col_sums                                  # grad f (Eq. (4))
    block = sparsify(logP, k)                                            # line 7
    matvec = lambda vx, vy: sparse_matvec(block, row_sums, col_sums, vx, vy)
    precond = (lambda ux, uy: (ux / row_sums, uy / col_sums)) if jacobi else None
    dx, dy, cg_iters = conjugate_gradient(matvec, gx / eta, gy / eta, tol=cg_tol,
                                          max_iter=cg_max_iter, precond=precond)   # line 8
    slope = gx @ dx + gy @ dy

    def ls_cond(s):
        alpha, inc, _, _, j = s
        return (inc < armijo_c1 * alpha * slope) & (j < max_backtracks)

    def ls_body(s):
        alpha, _, _, _, j = s
        alpha = alpha * backtrack
        inc, rs, cs = potential_increase(P, dx, dy, slope, alpha, eta)
        return alpha, inc, rs, cs, j + 1

    alpha0 = jnp.asarray(1.0, P.dtype)
    inc0, rs0, cs0 = potential_increase(P, dx, dy, slope, alpha0, eta)
    alpha, inc, rs, cs, _ = jax.lax.while_loop(ls_cond, ls_body, (alpha0, inc0, rs0, cs0, 0))   # line 9
    accepted = (inc >= armijo_c1 * alpha * slope) & (slope > 0)
    new_err = jnp.abs(rs - r).sum() + jnp.abs(cs - c).sum()
    old_err = jnp.abs(gx).sum() + jnp.abs(gy).sum()
    x = jnp.where(accepted, x + alpha * dx, x)                           # line 10
    y = jnp.where(accepted, y + alpha * dy, y)
    return NewtonOut(x, y, accepted, alpha, jnp.where(accepted, new_err, old_err), cg_iters)
