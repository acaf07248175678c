"""Tests of common/linear_solvers.py against scipy.sparse / numpy references and Young's closed forms."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from common import linear_solvers as ls


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def scipy_laplacian(m: int, shift: float = 0.0):
    """delsq(numgrid('S', m + 2)) + shift I built independently with Kronecker products."""
    t = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    eye = sp.identity(m)
    return (sp.kron(eye, t) + sp.kron(t, eye) + shift * sp.identity(m * m)).tocsr()


def random_spd(n: int, seed: int):
    """A sparse, diagonally dominant SPD matrix with an irregular pattern (not a grid)."""
    rng = np.random.default_rng(seed)
    B = sp.random(n, n, density=0.15, random_state=rng, data_rvs=lambda k: -rng.uniform(0.1, 1.0, k))
    S = (B + B.T).tolil()
    S.setdiag(0)
    S = S.tocsr()
    return (S + sp.diags(np.asarray(abs(S).sum(axis=1)).ravel() + rng.uniform(0.05, 0.5, n))).tocsr()


def reference_sor(S, b, omega, tol, maxiter=10000):
    """x_{k+1} = x_k + (D/omega + L)^{-1} (b - A x_k) with scipy's sparse triangular solve."""
    M = (sp.tril(S, -1) + sp.diags(S.diagonal() / omega)).tocsr()
    x = np.zeros_like(b)
    r0 = np.linalg.norm(b)
    for k in range(1, maxiter + 1):
        x = x + spl.spsolve_triangular(M, b - S @ x, lower=True)
        if np.linalg.norm(b - S @ x) / r0 < tol:
            return k, x
    return maxiter, x


def reference_ssor_pcg(S, b, omega, tol):
    """scipy CG with the SSOR preconditioner M = (D + wU) D^-1 (D + wL) / (w (2 - w)) (official ssor_pcg.m)
    applied by two sparse triangular solves; counts iterations."""
    d = S.diagonal()
    lower = (sp.tril(S, -1) + sp.diags(d / omega)).tocsr()
    upper = (sp.triu(S, 1) + sp.diags(d / omega)).tocsr()

    def m_inv(r):
        z = spl.spsolve_triangular(upper, r, lower=False)
        return (2 - omega) / omega * spl.spsolve_triangular(lower, d * z, lower=True)

    n = len(b)
    count = [0]
    x, info = spl.cg(S, b, rtol=tol, atol=0.0, maxiter=10000, M=spl.LinearOperator((n, n), matvec=m_inv),
                     callback=lambda _: count.__setitem__(0, count[0] + 1))
    assert info == 0
    return count[0], x


def test_laplacian_matches_scipy_and_matvecs():
    m, c = 5, -0.3
    A = ls.laplacian_2d(m, c, jnp.float64)
    S = scipy_laplacian(m, c)
    np.testing.assert_array_equal(ls.to_dense(A), S.toarray())
    np.testing.assert_array_equal(ls.to_dense(ls.from_scipy(S)), S.toarray())
    np.testing.assert_array_equal(ls.to_dense(ls.from_dense(S.toarray())), S.toarray())
    np.testing.assert_array_equal(ls.to_dense(ls.shifted(A, 0.3)), scipy_laplacian(m).toarray())
    x = np.random.default_rng(0).standard_normal(m * m)
    np.testing.assert_allclose(ls.matvec(A, jnp.asarray(x)), S @ x, rtol=1e-13)
    np.testing.assert_allclose(ls.laplacian_2d_matvec(jnp.asarray(x), c), S @ x, rtol=1e-13)


@pytest.mark.parametrize("omega", [1.0, 1.6])
def test_sor_matches_scipy_reference_on_grid_and_irregular_matrices(omega):
    m, c, tol = 5, 0.1, 1e-9
    b = np.random.default_rng(1).standard_normal(m * m)
    S = scipy_laplacian(m, c)
    k_ref, x_ref = reference_sor(S, b, omega, tol)
    general = jax.jit(lambda b, w: ls.sor_solve(ls.laplacian_2d(m, c, jnp.float64), b, w, tol=tol))(b, omega)
    grid = jax.jit(lambda b, w: ls.sor_solve_laplacian_2d(b, c, w, tol=tol))(b, omega)
    for res in (general, grid):
        assert int(res.iterations) == k_ref and bool(res.converged)
        np.testing.assert_allclose(res.x, x_ref, atol=1e-11)
        np.testing.assert_allclose(res.x, np.linalg.solve(S.toarray(), b), atol=1e-7)
    R = random_spd(30, 2)
    b2 = np.random.default_rng(3).standard_normal(30)
    k2, x2 = reference_sor(R, b2, omega, tol)
    res = jax.jit(lambda b: ls.sor_solve(ls.from_scipy(R), b, omega, tol=tol))(b2)
    assert int(res.iterations) == k2
    np.testing.assert_allclose(res.x, np.linalg.solve(R.toarray(), b2), atol=1e-7)


def test_ssor_pcg_matches_scipy_cg_with_ssor_preconditioner():
    m, c, omega, tol = 6, -0.2, 1.5, 1e-8
    S = scipy_laplacian(m, c)
    b = np.random.default_rng(4).standard_normal(m * m)
    k_ref, _ = reference_ssor_pcg(S, b, omega, tol)
    x_true = np.linalg.solve(S.toarray(), b)
    general = jax.jit(lambda b: ls.ssor_pcg_solve(ls.laplacian_2d(m, c, jnp.float64), b, omega, tol=tol))(b)
    grid = jax.jit(lambda b: ls.ssor_pcg_solve_laplacian_2d(b, c, omega, tol=tol))(b)
    assert int(general.iterations) == int(grid.iterations)
    assert abs(int(general.iterations) - k_ref) <= 1       # the same method; rounding may move the stop by one
    for res in (general, grid):
        assert bool(res.converged)
        assert np.linalg.norm(b - S @ np.asarray(res.x)) < tol * np.linalg.norm(b)
        np.testing.assert_allclose(res.x, x_true, atol=1e-6)
    # the preconditioner is the inverse of MATLAB's M1 M2 with M1 = (D + wL)' D^-1, M2 = (D + wL) / (w (2 - w))
    D = np.diag(S.diagonal())
    X = D + omega * np.tril(S.toarray(), -1)
    M = X.T @ np.linalg.inv(D) @ X / (omega * (2 - omega))
    r = np.random.default_rng(5).standard_normal(m * m)
    np.testing.assert_allclose(ls.ssor_preconditioner(ls.from_scipy(S), omega)(jnp.asarray(r)),
                               np.linalg.solve(M, r), rtol=1e-10, atol=1e-12)


def test_young_formulas_against_dense_spectra_and_iteration_counts():
    m, c = 6, 0.05
    S = scipy_laplacian(m, c).toarray()
    rho = float(ls.jacobi_spectral_radius_laplacian_2d(m, c))
    assert abs(ls.jacobi_spectral_radius(S) - rho) < 1e-12
    w_star = float(ls.young_omega(rho))
    D, L, U = np.diag(np.diag(S)), np.tril(S, -1), np.triu(S, 1)

    def sor_rho(w):
        G = np.linalg.solve(D / w + L, (1 / w - 1) * D - U)
        return np.max(np.abs(np.linalg.eigvals(G)))

    omegas = np.linspace(1.0, 1.9, 10)
    dense = np.array([sor_rho(w) for w in omegas])
    np.testing.assert_allclose(dense, ls.sor_spectral_radius(omegas, rho), rtol=1e-6, atol=1e-6)
    assert abs(sor_rho(w_star) - (w_star - 1)) < 1e-4
    assert sor_rho(w_star) < dense.min() + 1e-12
    # iteration counts over a grid of omega: the fastest grid point is next to omega*
    b = np.random.default_rng(6).standard_normal(m * m)
    grid = np.linspace(1.0, 1.95, 20)
    its = jax.jit(jax.vmap(lambda w: ls.sor_solve_laplacian_2d(jnp.asarray(b), c, w).iterations))(grid)
    assert abs(grid[int(np.argmin(its))] - w_star) <= grid[1] - grid[0] + 1e-12
    assert int(its[0]) > 2 * int(np.min(its))


def test_maxiter_and_batching():
    m = 4
    bs = np.random.default_rng(7).standard_normal((3, m * m))
    shifts, omegas = np.array([0.0, 0.3, -0.1]), np.array([1.0, 1.3, 1.7])
    batched = jax.jit(jax.vmap(lambda b, c, w: ls.sor_solve_laplacian_2d(b, c, w, tol=1e-10)))(bs, shifts, omegas)
    for i in range(3):
        k, x = reference_sor(scipy_laplacian(m, shifts[i]), bs[i], omegas[i], 1e-10)
        assert int(batched.iterations[i]) == k
        np.testing.assert_allclose(batched.x[i], x, atol=1e-12)
    capped = ls.sor_solve_laplacian_2d(jnp.asarray(bs[0]), 0.0, 1.0, tol=1e-10, maxiter=3)
    assert int(capped.iterations) == 3 and not bool(capped.converged)
    zero = ls.sor_solve_laplacian_2d(jnp.zeros(m * m), 0.0, 1.0)
    assert int(zero.iterations) == 0 and bool(zero.converged)
