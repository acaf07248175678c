"""Sparse iterative linear solvers in JAX whose cost is an iteration count.

Two families, both jit- and vmap-friendly (every loop is a ``lax`` loop; a solve returns the number of
iterations it needed, so "cost = iterations to tolerance" can be learned or compared):

* General sparse matrices in a padded ELL layout (:class:`SparseMatrix`: the diagonal plus ``k``
  off-diagonal entries per row). SOR sweeps and the triangular solves of the SSOR preconditioner run
  row by row in the natural order (a ``fori_loop`` over rows).
* The 2-D five-point Laplacian on an ``m x m`` interior grid with a diagonal shift ``c`` (MATLAB's
  ``delsq(numgrid('S', m + 2)) + c * speye(m^2)``: ``4 + c`` on the diagonal, ``-1`` for each grid
  neighbour, Dirichlet boundary). Its natural-order (row-major) SOR sweep is computed by anti-diagonal
  wavefronts: points with ``i + j = k`` only depend on new values at ``k - 1`` and old values at
  ``k + 1``, so one sweep is ``2m - 1`` vector steps instead of ``m^2`` scalar steps, with exactly the
  arithmetic of the row-by-row sweep.

Stopping rules (the ones of MATLAB ``sor``/``pcg`` that the relaxation-learning literature uses):
  SOR stops after the first sweep ``k`` with ``||b - A x_k|| / ||b - A x_0|| < tol``;
  PCG stops after the first iteration ``k`` with ``||b - A x_k|| / ||b|| < tol``.
Both give up after ``maxiter`` iterations (``converged`` is then False and ``iterations == maxiter``).

Closed forms for the model problem (Young, 1950): the Jacobi iteration matrix of the shifted Laplacian
has spectral radius ``rho_J = 4 cos(pi / (m + 1)) / (4 + c)``; for consistently ordered matrices the SOR
spectral radius is ``rho(omega)`` of :func:`sor_spectral_radius`, minimised at
``omega* = 2 / (1 + sqrt(1 - rho_J^2))`` where it equals ``omega* - 1``.

All functions use the dtype of their inputs; call them under ``jax.enable_x64(True)`` for float64.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "SparseMatrix", "SolveResult", "matvec", "shifted", "to_dense", "from_dense", "from_scipy",
    "laplacian_2d", "laplacian_2d_matvec", "sor_sweep", "sor_solve", "ssor_preconditioner",
    "pcg_solve", "ssor_pcg_solve", "sor_solve_laplacian_2d", "ssor_pcg_solve_laplacian_2d",
    "jacobi_spectral_radius", "jacobi_spectral_radius_laplacian_2d", "young_omega", "sor_spectral_radius",
]


# ----------------------------------------------------------------------------- sparse matrices

class SparseMatrix(NamedTuple):
    """A square sparse matrix in padded ELL form (a pytree; batch it with vmap over its leaves).

    Attributes:
      diag: [n] the diagonal (must be nonzero for SOR/SSOR).
      cols: [n, k] int32 column index of each stored off-diagonal entry (padding: any index with val 0).
      vals: [n, k] the off-diagonal values.
    """
    diag: jax.Array
    cols: jax.Array
    vals: jax.Array

    @property
    def n(self) -> int:
        return self.diag.shape[-1]


class SolveResult(NamedTuple):
    """x: [n] the last iterate; iterations: int32 count; converged: bool; rel_residual: the final
    relative residual under the solver's own stopping rule."""
    x: jax.Array
    iterations: jax.Array
    converged: jax.Array
    rel_residual: jax.Array


def matvec(A: SparseMatrix, x: jax.Array) -> jax.Array:
    """A @ x for x of shape [n]."""
    return A.diag * x + jnp.sum(A.vals * x[A.cols], axis=-1)


def shifted(A: SparseMatrix, c) -> SparseMatrix:
    """A + c I."""
    return A._replace(diag=A.diag + c)


def to_dense(A: SparseMatrix) -> np.ndarray:
    """The [n, n] numpy array of A (for tests and small problems)."""
    diag, cols, vals = (np.asarray(a) for a in A)
    n = diag.shape[0]
    out = np.diag(diag).astype(diag.dtype)
    np.add.at(out, (np.repeat(np.arange(n), cols.shape[1]), cols.ravel()), vals.ravel())
    return out


def from_dense(M, dtype=None) -> SparseMatrix:
    """ELL form of a dense square matrix (k = the largest number of off-diagonal nonzeros in a row)."""
    M = np.asarray(M, dtype=dtype)
    n = M.shape[0]
    off = M.copy()
    np.fill_diagonal(off, 0)
    nz = [np.flatnonzero(off[i]) for i in range(n)]
    k = max(1, max(len(z) for z in nz))
    cols = np.tile(np.arange(n)[:, None], (1, k)).astype(np.int32)
    vals = np.zeros((n, k), M.dtype)
    for i, z in enumerate(nz):
        cols[i, :len(z)] = z
        vals[i, :len(z)] = off[i, z]
    return SparseMatrix(jnp.asarray(np.diag(M).copy()), jnp.asarray(cols), jnp.asarray(vals))


def from_scipy(S, dtype=None) -> SparseMatrix:
    """ELL form of a scipy.sparse matrix (converted through CSR, no dense copy)."""
    S = S.tocsr()
    n = S.shape[0]
    dtype = dtype or S.dtype
    diag = S.diagonal().astype(dtype)
    rows = []
    for i in range(n):
        lo, hi = S.indptr[i], S.indptr[i + 1]
        c, v = S.indices[lo:hi], S.data[lo:hi]
        keep = (c != i) & (v != 0)
        rows.append((c[keep], v[keep]))
    k = max(1, max(len(c) for c, _ in rows))
    cols = np.tile(np.arange(n)[:, None], (1, k)).astype(np.int32)
    vals = np.zeros((n, k), dtype)
    for i, (c, v) in enumerate(rows):
        cols[i, :len(c)] = c
        vals[i, :len(c)] = v
    return SparseMatrix(jnp.asarray(diag), jnp.asarray(cols), jnp.asarray(vals))


def laplacian_2d(m: int, shift: float = 0.0, dtype=jnp.float32) -> SparseMatrix:
    """The 5-point Laplacian of an m x m interior grid plus ``shift * I``, natural row-major order.

    Equals MATLAB ``delsq(numgrid('S', m + 2)) + shift * speye(m^2)`` (n = m^2 unknowns, h = 1/(m+1),
    no 1/h^2 scaling). Unknown ``(i, j)`` has index ``i * m + j``.
    """
    n = m * m
    idx = np.arange(n).reshape(m, m)
    cols = np.tile(idx.reshape(n, 1), (1, 4)).astype(np.int32)
    vals = np.zeros((n, 4))
    for s, (di, dj) in enumerate(((0, -1), (-1, 0), (0, 1), (1, 0))):
        for i in range(m):
            for j in range(m):
                ii, jj = i + di, j + dj
                if 0 <= ii < m and 0 <= jj < m:
                    cols[i * m + j, s] = ii * m + jj
                    vals[i * m + j, s] = -1.0
    diag = np.full(n, 4.0 + shift)
    return SparseMatrix(jnp.asarray(diag, dtype), jnp.asarray(cols), jnp.asarray(vals, dtype))


def laplacian_2d_matvec(x: jax.Array, shift) -> jax.Array:
    """(L + shift I) x for the m x m grid Laplacian; x of shape [m*m] (row-major) or [m, m]."""
    shape = x.shape
    m = _grid_size(x)
    g = x.reshape(m, m)
    p = jnp.pad(g, 1)
    out = (4.0 + shift) * g - p[1:-1, :-2] - p[1:-1, 2:] - p[:-2, 1:-1] - p[2:, 1:-1]
    return out.reshape(shape)


def _grid_size(x) -> int:
    if x.ndim == 2:
        return x.shape[0]
    m = math.isqrt(x.shape[-1])
    if m * m != x.shape[-1]:
        raise ValueError(f"a grid vector needs m*m entries, got {x.shape[-1]}")
    return m


# ----------------------------------------------------------------------------- general SOR / SSOR-PCG

def sor_sweep(A: SparseMatrix, b: jax.Array, x: jax.Array, omega) -> jax.Array:
    """One forward SOR sweep in the natural order (Gauss-Seidel for omega = 1):

        x_i <- (1 - omega) x_i + omega / a_ii * (b_i - sum_{j != i} a_ij x_j),   i = 0, ..., n-1,

    using the already-updated x_j for j < i. Equivalent to ``x + (D/omega + L)^{-1} (b - A x)``.
    """
    def row(i, x):
        sigma = jnp.sum(A.vals[i] * x[A.cols[i]])
        return x.at[i].set((1 - omega) * x[i] + omega * (b[i] - sigma) / A.diag[i])
    return jax.lax.fori_loop(0, A.n, row, x)


def sor_solve(A: SparseMatrix, b: jax.Array, omega, *, tol: float = 1e-8, maxiter: int = 10000,
              x0: jax.Array | None = None) -> SolveResult:
    """SOR until ``||b - A x_k|| < tol * ||b - A x_0||``; ``iterations`` = number of sweeps."""
    return _sor_loop(lambda x: sor_sweep(A, b, x, omega), lambda x: b - matvec(A, x), b, x0, tol, maxiter)


def _sor_loop(sweep, residual, b, x0, tol, maxiter) -> SolveResult:
    x0 = jnp.zeros_like(b) if x0 is None else x0
    r0 = jnp.linalg.norm(residual(x0))
    tiny = jnp.finfo(b.dtype).tiny

    def cond(s):
        _, k, rel = s
        return (k < maxiter) & (rel >= tol)

    def body(s):
        x, k, _ = s
        x = sweep(x)
        return x, k + 1, jnp.linalg.norm(residual(x)) / jnp.maximum(r0, tiny)

    start = jnp.where(r0 > 0, jnp.asarray(jnp.inf, b.dtype), jnp.asarray(0.0, b.dtype))
    x, k, rel = jax.lax.while_loop(cond, body, (x0, jnp.asarray(0, jnp.int32), start))
    return SolveResult(x, k, rel < tol, rel)


def _forward_solve(A: SparseMatrix, r: jax.Array, omega) -> jax.Array:
    """y with (D/omega + L) y = r, L the strictly lower part of A (natural order)."""
    def row(i, y):
        lower = A.cols[i] < i
        sigma = jnp.sum(jnp.where(lower, A.vals[i] * y[A.cols[i]], 0.0))
        return y.at[i].set(omega * (r[i] - sigma) / A.diag[i])
    return jax.lax.fori_loop(0, A.n, row, jnp.zeros_like(r))


def _backward_solve(A: SparseMatrix, r: jax.Array, omega) -> jax.Array:
    """z with (D/omega + U) z = r, U the strictly upper part of A."""
    n = A.n

    def row(t, z):
        i = n - 1 - t
        upper = A.cols[i] > i
        sigma = jnp.sum(jnp.where(upper, A.vals[i] * z[A.cols[i]], 0.0))
        return z.at[i].set(omega * (r[i] - sigma) / A.diag[i])
    return jax.lax.fori_loop(0, n, row, jnp.zeros_like(r))


def ssor_preconditioner(A: SparseMatrix, omega):
    """r -> M^{-1} r for the SSOR preconditioner of a symmetric A, 0 < omega < 2:

        M = omega / (2 - omega) * (D/omega + U) D^{-1} (D/omega + L)
          = (D + omega U) D^{-1} (D + omega L) / (omega (2 - omega)),

    the orientation of MATLAB ``pcg(A, b, tol, maxit, M1, M2)`` with M1 = (D + omega L)' D^{-1} and
    M2 = (D + omega L) / (omega (2 - omega)) (official ``solvers/ssor_pcg.m`` of Khodak et al.), applied as
    a backward and then a forward triangular solve (symmetric positive definite when A is).
    """
    def apply(r):
        z = _backward_solve(A, r, omega)
        return (2 - omega) / omega * _forward_solve(A, A.diag * z, omega)
    return apply


def pcg_solve(apply_A, b: jax.Array, apply_M_inv=None, *, tol: float = 1e-8, maxiter: int = 10000,
              x0: jax.Array | None = None) -> SolveResult:
    """Preconditioned conjugate gradients until ``||b - A x_k|| < tol * ||b||``.

    Args:
      apply_A: x -> A x for a symmetric positive definite A.
      b: [n] right-hand side.
      apply_M_inv: r -> M^{-1} r (symmetric positive definite preconditioner); None for plain CG.
    Returns a SolveResult whose ``iterations`` counts CG steps (matvecs with A after the first).
    """
    apply_M_inv = apply_M_inv or (lambda r: r)
    x = jnp.zeros_like(b) if x0 is None else x0
    bnorm = jnp.maximum(jnp.linalg.norm(b), jnp.finfo(b.dtype).tiny)
    r = b - apply_A(x)
    z = apply_M_inv(r)
    rz = jnp.vdot(r, z)

    def cond(s):
        _, r, _, _, _, k = s
        return (k < maxiter) & (jnp.linalg.norm(r) / bnorm >= tol)

    def body(s):
        x, r, z, p, rz, k = s
        q = apply_A(p)
        alpha = rz / jnp.vdot(p, q)
        x = x + alpha * p
        r = r - alpha * q
        z = apply_M_inv(r)
        rz_new = jnp.vdot(r, z)
        p = z + (rz_new / rz) * p
        return x, r, z, p, rz_new, k + 1

    x, r, *_, k = jax.lax.while_loop(cond, body, (x, r, z, z, rz, jnp.asarray(0, jnp.int32)))
    rel = jnp.linalg.norm(r) / bnorm
    return SolveResult(x, k, rel < tol, rel)


def ssor_pcg_solve(A: SparseMatrix, b: jax.Array, omega, *, tol: float = 1e-8, maxiter: int = 10000,
                   x0: jax.Array | None = None) -> SolveResult:
    """CG preconditioned by SSOR(omega) (:func:`ssor_preconditioner`) on a general sparse SPD A."""
    return pcg_solve(lambda v: matvec(A, v), b, ssor_preconditioner(A, omega), tol=tol, maxiter=maxiter, x0=x0)


# ----------------------------------------------------------------------------- 2-D Laplacian, wavefront form

def _skew_maps(m: int):
    """Index maps between row-major grid vectors and the padded skewed layout.

    The skewed array Y has shape [2m + 1, m + 2]: Y[k + 1, i + 1] = x[i, k - i] for the anti-diagonal
    k = i + j (0 <= k <= 2m - 2), zero elsewhere (the zero border plays the Dirichlet boundary).
    """
    k_idx = np.zeros((m, m), np.int32)
    i_idx = np.zeros((m, m), np.int32)
    for i in range(m):
        for j in range(m):
            k_idx[i, j], i_idx[i, j] = i + j + 1, i + 1
    mask = np.zeros((2 * m + 1, m + 2), bool)
    mask[k_idx, i_idx] = True
    return k_idx.ravel(), i_idx.ravel(), mask


def _to_skew(x, m):
    k_idx, i_idx, _ = _skew_maps(m)
    return jnp.zeros((2 * m + 1, m + 2), x.dtype).at[k_idx, i_idx].set(x.reshape(-1))


def _from_skew(Y, m):
    k_idx, i_idx, _ = _skew_maps(m)
    return Y[k_idx, i_idx]


def _skew_residual(Y, B, d, mask):
    """b - (L + cI) x in the skewed layout (zero off the grid)."""
    Yp = jnp.pad(Y, ((1, 1), (1, 1)))   # neighbours of Y[k, i]: Y[k-1, i], Y[k-1, i-1], Y[k+1, i], Y[k+1, i+1]
    nb = Yp[:-2, 1:-1] + Yp[:-2, :-2] + Yp[2:, 1:-1] + Yp[2:, 2:]
    return jnp.where(mask, B - d * Y + nb, 0.0)


def _skew_sweep(Y, B, d, omega, mask, forward=True, relax_old=True):
    """One wavefront sweep over the anti-diagonals (forward: k = 0..2m-2; backward: reversed).

    relax_old=True: the SOR update Y <- (1-omega) Y + omega/d (B + neighbours), new values on the side
    already swept and old ones on the other side. relax_old=False with Y = 0 on the unswept side: the
    triangular solve (D/omega + L) y = B (forward) or (D/omega + U) z = B (backward).
    """
    nk, width = Y.shape
    m = width - 2
    w = omega / d

    def step(t, Y):
        k = t + 1 if forward else nk - 2 - t
        prev = jax.lax.dynamic_slice_in_dim(Y, k - 1, 1, 0)[0]
        nxt = jax.lax.dynamic_slice_in_dim(Y, k + 1, 1, 0)[0]
        cur = jax.lax.dynamic_slice_in_dim(Y, k, 1, 0)[0]
        bk = jax.lax.dynamic_slice_in_dim(B, k, 1, 0)[0]
        mk = jax.lax.dynamic_slice_in_dim(mask, k, 1, 0)[0]
        if forward:
            nb_new = prev[1:-1] + prev[:-2]
            nb_old = nxt[1:-1] + nxt[2:]
        else:
            nb_new = nxt[1:-1] + nxt[2:]
            nb_old = prev[1:-1] + prev[:-2]
        if relax_old:
            new = (1 - omega) * cur[1:-1] + w * (bk[1:-1] + nb_new + nb_old)
        else:
            new = w * (bk[1:-1] + nb_new)
        new = jnp.where(mk[1:-1], new, 0.0)
        return jax.lax.dynamic_update_slice(Y, new[None, :], (k, 1))

    return jax.lax.fori_loop(0, 2 * m - 1, step, Y)


def sor_solve_laplacian_2d(b: jax.Array, shift, omega, *, tol: float = 1e-8, maxiter: int = 10000,
                           x0: jax.Array | None = None) -> SolveResult:
    """Natural-order SOR on ``(L + shift I) x = b`` for the m x m grid Laplacian (b: [m*m] row-major).

    Same iterates and iteration count as ``sor_solve(shifted(laplacian_2d(m), shift), b, omega)`` (up to
    rounding), computed by anti-diagonal wavefronts (2m - 1 vector steps per sweep). vmap it over
    (b, shift, omega) to solve many instances at once.
    """
    m = _grid_size(b)
    _, _, mask_np = _skew_maps(m)
    mask = jnp.asarray(mask_np)
    d = 4.0 + shift
    B = _to_skew(b, m)
    Y0 = _to_skew(jnp.zeros_like(b) if x0 is None else x0, m)
    res = _sor_loop(lambda Y: _skew_sweep(Y, B, d, omega, mask), lambda Y: _skew_residual(Y, B, d, mask),
                    B, Y0, tol, maxiter)
    return res._replace(x=_from_skew(res.x, m))


def ssor_pcg_solve_laplacian_2d(b: jax.Array, shift, omega, *, tol: float = 1e-8, maxiter: int = 10000
                                ) -> SolveResult:
    """SSOR(omega)-preconditioned CG on ``(L + shift I) x = b`` (grid Laplacian, wavefront triangular
    solves); same iterates as :func:`ssor_pcg_solve` on ``shifted(laplacian_2d(m), shift)``."""
    m = _grid_size(b)
    _, _, mask_np = _skew_maps(m)
    mask = jnp.asarray(mask_np)
    d = 4.0 + shift

    def apply_A(Y):
        return -_skew_residual(Y, jnp.zeros_like(Y), d, mask)

    def apply_M_inv(R):                                  # backward, then forward (ssor_preconditioner)
        Z = jnp.zeros_like(R)
        z = _skew_sweep(Z, R, d, omega, mask, forward=False, relax_old=False)
        y = _skew_sweep(Z, d * z, d, omega, mask, forward=True, relax_old=False)
        return (2 - omega) / omega * y

    res = pcg_solve(apply_A, _to_skew(b, m), apply_M_inv, tol=tol, maxiter=maxiter)
    return res._replace(x=_from_skew(res.x, m))


# ----------------------------------------------------------------------------- closed forms

def jacobi_spectral_radius(A_dense) -> float:
    """rho(I - D^{-1} A) by a dense eigen-decomposition (numpy; for small matrices and tests)."""
    A_dense = np.asarray(A_dense, dtype=np.float64)
    J = np.eye(len(A_dense)) - A_dense / np.diag(A_dense)[:, None]
    return float(np.max(np.abs(np.linalg.eigvals(J))))


def jacobi_spectral_radius_laplacian_2d(m: int, shift):
    """rho_J = 4 cos(pi h) / (4 + shift), h = 1/(m+1), for the shifted m x m grid Laplacian (shift > -4)."""
    return 4.0 * jnp.cos(jnp.pi / (m + 1)) / (4.0 + jnp.asarray(shift))


def young_omega(rho_jacobi):
    """Young's optimal relaxation omega* = 2 / (1 + sqrt(1 - rho_J^2)) (consistently ordered A, rho_J < 1)."""
    return 2.0 / (1.0 + jnp.sqrt(1.0 - jnp.asarray(rho_jacobi) ** 2))


def sor_spectral_radius(omega, rho_jacobi):
    """Young's SOR spectral radius for a consistently ordered matrix with real Jacobi spectrum:

        rho(omega) = ((omega rho_J + sqrt(omega^2 rho_J^2 - 4 (omega - 1))) / 2)^2   for omega <= omega*,
        rho(omega) = omega - 1                                                         for omega >= omega*.
    """
    omega, rho = jnp.asarray(omega), jnp.asarray(rho_jacobi)
    disc = jnp.maximum(omega ** 2 * rho ** 2 - 4.0 * (omega - 1.0), 0.0)
    below = ((omega * rho + jnp.sqrt(disc)) / 2.0) ** 2
    return jnp.where(omega <= young_omega(rho), below, omega - 1.0)
