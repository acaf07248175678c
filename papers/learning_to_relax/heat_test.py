"""Tests of the heat-equation sequence against a direct construction of the official Heat2D.m systems."""
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from papers.learning_to_relax import heat


def heat2d_laplacian(nx: int) -> sp.csr_matrix:
    """Heat2D.m's L: blocks spdiags([1, -4, 1]) on the diagonal, identity couplings at +-(nx-1), / dx^2."""
    m = nx - 1
    X = sp.diags([np.ones(m - 1), -4.0 * np.ones(m), np.ones(m - 1)], [-1, 0, 1])
    couple = sp.diags([np.ones(m * m - m), np.ones(m * m - m)], [-m, m])
    return ((sp.kron(sp.identity(m), X) + couple) * nx * nx).tocsr()


def official_bump(points, center, radius):
    with np.errstate(divide="ignore"):
        return np.exp(1.0 - 1.0 / (1.0 - np.minimum(1.0, np.sum((points - center) ** 2, axis=1) / radius ** 2)))


def test_sequence_equals_crank_nicolson_systems_of_heat2d():
    nx, T, stoptime = 7, 12, 1.0                 # both halves of a kappa period
    seq = heat.simulate(nx, T, stoptime)
    m, dt = nx - 1, stoptime / T
    L = heat2d_laplacian(nx)
    I = sp.identity(m * m)
    points = np.array([[i / nx, j / nx] for i in range(1, nx) for j in range(1, nx)])   # Heat2D.m ijdx order
    delsq = sp.kron(sp.identity(m), sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], (m, m))) \
        + sp.kron(sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], (m, m)), sp.identity(m))
    u = official_bump(points, np.array([0.5, 0.5]), 0.25)
    for k in range(T):
        half = k * dt + 0.5 * dt
        kappa_half = max(0.1 * np.sin(2 * np.pi * half), -10.0 * np.sin(2 * np.pi * half))
        CL = 0.5 * kappa_half * dt * L
        A = (I - CL).tocsr()
        center = np.array([0.5 + np.cos(16 * np.pi * half) / 4, 0.5 + np.sin(16 * np.pi * half) / 4])
        b = (I + CL) @ u + dt * 32.0 * official_bump(points, center, 0.125)
        np.testing.assert_allclose(seq.x0[k], u, rtol=1e-10, atol=1e-13)
        scaled = seq.scales[k] * (delsq + seq.shifts[k] * I)
        np.testing.assert_allclose(scaled.toarray(), A.toarray(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(seq.scales[k] * seq.rhs[k], b, rtol=1e-10, atol=1e-13)
        kappa_start = max(0.1 * np.sin(2 * np.pi * k * dt), -10.0 * np.sin(2 * np.pi * k * dt))
        assert abs(seq.kappa[k] - kappa_start) <= 1e-13 * max(1.0, kappa_start)
        u = spl.spsolve(A.tocsc(), b)
    assert np.abs(np.diff(seq.x0, axis=0)).max() > 1e-3            # the state moves (forcing + diffusion)


def test_coefficient_bump_and_context_interval():
    np.testing.assert_allclose(heat.diffusion_coefficient([0.25, 0.75, 1.0, 1.25]), [0.1, 10.0, 0.0, 0.1], atol=1e-12)
    pts = np.array([[0.5, 0.5], [0.5, 0.6], [0.5, 0.75], [0.9, 0.9]])
    np.testing.assert_allclose(heat.bump(pts, (0.5, 0.5), 0.25), official_bump(pts, np.array([0.5, 0.5]), 0.25),
                               rtol=1e-14, atol=0)
    assert heat.bump(pts, (0.5, 0.5), 0.25)[0] == 1.0 and heat.bump(pts, (0.5, 0.5), 0.25)[3] == 0.0
    lo, hi = heat.context_interval(5000)
    assert lo == 0.0 and 9.99 < hi <= 10.0


def test_sine_basis_diagonalises_the_grid_laplacian():
    m = 5
    S = heat.sine_basis(m)
    np.testing.assert_allclose(S @ S, np.eye(m), atol=1e-13)
    u = np.random.default_rng(0).standard_normal(m * m)
    spectral = (S @ (heat.laplacian_eigenvalues(m) * (S @ u.reshape(m, m) @ S)) @ S).ravel()
    np.testing.assert_allclose(spectral, heat.apply_delsq(u, m), atol=1e-12)
