"""Tests of the anti-diagonal batched SOR against the common wavefront solver and a dense numpy SOR."""
import jax
import jax.numpy as jnp
import numpy as np

from common import linear_solvers as ls
from papers.learning_to_relax import fast_sor, instances


# one compile for every call with N = 6 systems on the 4 x 4 grid (tol and maxiter are traced)
_solve = jax.jit(lambda b, c, w, tol, maxiter: fast_sor.sor_solve_batch(b, c, w, tol=tol, maxiter=maxiter))


def _laplacian(m):
    with jax.enable_x64(True):
        return ls.to_dense(ls.laplacian_2d(m, 0.0, jnp.float64))


def _dense_sor(A, b, omega, tol, maxiter):
    """Textbook natural-order SOR x <- x + (D/omega + L)^-1 (b - A x) from x = 0 (official sor.m)."""
    M = np.tril(A, -1) + np.diag(np.diag(A)) / omega
    x, k = np.zeros_like(b), 0
    while k < maxiter and np.linalg.norm(b - A @ x) >= tol * np.linalg.norm(b):
        x, k = x + np.linalg.solve(M, b - A @ x), k + 1
    return x, k


def test_diagonal_layout_round_trip():
    m = 5
    x = np.arange(3 * m * m, dtype=np.float64).reshape(3, m * m)
    diags = fast_sor.to_diagonals(jnp.asarray(x), m)
    assert [d.shape for d in diags] == [(hi - lo + 1, 3) for lo, hi in fast_sor.diagonal_ranges(m)]
    assert sum(d.shape[0] for d in diags) == m * m
    np.testing.assert_array_equal(np.asarray(diags[1])[:, 0], [1, m])          # (0, 1), (1, 0)
    np.testing.assert_array_equal(np.asarray(fast_sor.from_diagonals(diags, m)), x)


def test_batched_sor_matches_dense_and_wavefront_solvers():
    m, tol = 4, 1e-8
    rng = np.random.default_rng(0)
    b = instances.sample_rhs(rng, 6, m * m)
    c = np.array([-0.15, 0.0, 0.3, 0.45, -0.1, 0.2])
    w = np.array([1.0, 1.3, 1.6, 1.95, 1.8, 0.7])
    with jax.enable_x64(True):
        x, it, rel = (np.asarray(a) for a in _solve(b, c, w, tol, 500))
        ref = jax.vmap(lambda b, c, w: ls.sor_solve_laplacian_2d(b, c, w, tol=tol, maxiter=500))(b, c, w)
        ref_it, ref_x = np.asarray(ref.iterations), np.asarray(ref.x)
    L = _laplacian(m)
    np.testing.assert_array_equal(it, ref_it)
    np.testing.assert_allclose(x, ref_x, rtol=1e-12, atol=1e-14)
    for t in range(len(c)):
        A = L + c[t] * np.eye(m * m)
        x_np, k = _dense_sor(A, b[t], w[t], tol, 500)
        assert it[t] == k
        np.testing.assert_allclose(x[t], x_np, rtol=1e-9, atol=1e-12)
        assert rel[t] < tol and abs(rel[t] - np.linalg.norm(b[t] - A @ x_np) / np.linalg.norm(b[t])) < 1e-12


def test_maxiter_and_zero_rhs():
    m = 4
    b = np.ones((6, m * m))
    b[0] = 0.0
    with jax.enable_x64(True):
        _, it, rel = (np.asarray(a) for a in _solve(b, np.full(6, -0.15), np.ones(6), 1e-8, 7))
    assert list(it) == [0] + [7] * 5 and rel[0] == 0.0 and np.all(rel[1:] > 1e-8)


def test_sorted_padded_batches_return_each_systems_count():
    """Sorted batches of 6 (the last one padded) give every system its own count (dense numpy SOR)."""
    m, tol = 4, 1e-8
    rng = np.random.default_rng(1)
    T = 17
    b = instances.sample_rhs(rng, T, m * m)
    c = instances.sample_shifts(rng, T, 0.5, 1.5)
    w = rng.uniform(1.0, 1.95, T)
    stats = {}
    counts = fast_sor.sor_iterations(b, c, w, tol=tol, maxiter=2000, batch=6, stats=stats)
    L = _laplacian(m)
    single = [_dense_sor(L + c[t] * np.eye(m * m), b[t], w[t], tol, 2000)[1] for t in range(T)]
    np.testing.assert_array_equal(counts, single)
    assert 0 < stats["lane_efficiency"] <= 1
    pred = fast_sor.predicted_iterations(m, c, w, tol)
    assert np.corrcoef(np.argsort(np.argsort(pred)), np.argsort(np.argsort(counts)))[0, 1] > 0.8
