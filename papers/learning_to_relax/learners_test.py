"""Tests of the learners (closed forms, fixed-point equations, synthetic bandits) and instance helpers."""
import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from common import linear_solvers as ls
from papers.learning_to_relax import instances, learners


def test_tsallis_probs_solve_their_fixed_point_equation():
    K = 7
    np.testing.assert_allclose(learners.tsallis_inf_probs(np.zeros(K), 0.3), np.full(K, 1 / K), rtol=1e-10)
    L = np.random.default_rng(0).uniform(0, 50, K)
    for eta in (0.05, 0.5, 2.0):
        p = learners.tsallis_inf_probs(L, eta)
        assert abs(p.sum() - 1) < 1e-12 and np.all(p > 0)
        x = L - 2.0 / (eta * np.sqrt(p))            # p_i = 4 / (eta (L_i - x))^2 with one common x
        assert np.ptp(x) < 1e-8 * (1 + np.abs(x).max())
        assert np.all(np.diff(p[np.argsort(L)]) <= 1e-15)      # smaller loss, larger probability


def test_tsallis_inf_concentrates_on_the_best_arm():
    rng = np.random.default_rng(1)
    T, K = 1500, 5
    means = np.array([300.0, 200.0, 120.0, 150.0, 400.0])
    costs = np.round(means * rng.uniform(0.8, 1.2, (T, K)))
    arms = learners.run_tsallis_inf(costs, np.random.default_rng(2))
    assert np.mean(arms[-500:] == 2) > 0.6
    total = costs[np.arange(T), arms].sum()
    assert total < 1.25 * costs[:, 2].sum() and total < 0.7 * costs.mean(axis=1).sum()


def test_chebyshev_features_match_numpy():
    u = np.linspace(-1, 1, 11)
    np.testing.assert_allclose(learners.chebyshev_features(u, 6), np.polynomial.chebyshev.chebvander(u, 5),
                               atol=1e-13)


def test_box_lsq_from_normal_equations_equals_the_fit_on_all_rows():
    rng = np.random.default_rng(7)
    F = learners.chebyshev_features(rng.uniform(-1, 0.5, 300), 6)
    y = 0.3 * F[:, 1] - 0.2 * F[:, 2] + 0.05 * rng.standard_normal(300)
    ub = np.array([0.5, 0.1, 0.1, 0.05, 0.05, 0.05])             # binds the first two slopes
    theta, resnorm = learners.box_lsq_normal_equations(F.T @ F, F.T @ y, y @ y, -ub, ub)
    ref = optimize.lsq_linear(F, y, bounds=(-ub, ub), method="bvls")
    np.testing.assert_allclose(theta, ref.x, atol=1e-9)
    assert np.any(np.isclose(np.abs(theta), ub))
    np.testing.assert_allclose(resnorm, np.sum((F @ theta - y) ** 2), rtol=1e-8)
    assert learners.box_lsq_normal_equations(F[:3].T @ F[:3], F[:3].T @ y[:3], 1.0, -ub, ub) is None   # rank 3


def test_chebcb_uses_the_context():
    """Two arms whose order flips with the context: ChebCB beats the best fixed arm by far."""
    rng = np.random.default_rng(3)
    T = 1200
    c = rng.uniform(-0.15, 0.45, T)
    u = c + 0.15
    costs = np.stack([100 + 1000 * u, 700 - 1000 * u], axis=1) + rng.uniform(0, 5, (T, 2))
    arms = learners.run_chebcb(costs, c, np.random.default_rng(4), m=4)
    total = costs[np.arange(T), arms].sum()
    assert costs.min(axis=1).sum() < 0.7 * costs.sum(axis=0).min()        # the context matters
    assert total < 1.1 * costs.min(axis=1).sum()


def test_chebcb_bounds_use_the_official_cost_slope():
    """ChebCB.m's zero-filled cost buffer gives L = K / (b - a): scale K N with the constant
    N = 2 + 4 (1 + log m), whatever the spread of the costs seen (not (K - min cost) / (b - a))."""
    m, lo, hi = 6, -0.15, 0.65
    learner = learners.ChebCB(3, m, lo, hi, T=10)
    rng = np.random.default_rng(0)
    for t, cost in enumerate([40.0, 55.0, 30.0, 90.0, 60.0]):
        learner.predict(lo + 0.1 * t, rng)
        learner.update(cost)
        k_max = max([40.0, 55.0, 30.0, 90.0, 60.0][:t + 1])
        np.testing.assert_allclose(learner.scale, k_max * (2.0 + 4.0 * (1.0 + np.log(m))), rtol=1e-14)
        assert np.isfinite(learner.eta) and learner.eta > 0


def test_instance_sampling_and_young_omegas():
    rng = np.random.default_rng(5)
    b = instances.sample_rhs(rng, 200, 16)
    assert b.shape == (200, 16) and np.all(np.linalg.norm(b, axis=1) <= 4.0)
    c = instances.sample_shifts(rng, 500, 0.5, 1.5)
    assert c.min() >= -0.15 and c.max() <= 0.45 and abs(c.mean() - (-0.15 + 0.6 * 0.25)) < 0.03
    w = instances.young_omegas(10, np.array([-0.15, 0.0, 0.45]))
    rho = 4 * np.cos(np.pi / 11) / (4 + np.array([-0.15, 0.0, 0.45]))
    np.testing.assert_allclose(w, 1 + (rho / (1 + np.sqrt(1 - rho**2))) ** 2, rtol=1e-12)   # official form
    assert np.all(np.diff(w) < 0)


def test_cost_table_matches_single_solves():
    """The sorted, chunked, padded batch solve returns each instance's own SOR count (numpy reference)."""
    m, grid, tol = 4, np.array([1.0, 1.5]), 1e-8
    rng = np.random.default_rng(6)
    b, c = instances.sample_rhs(rng, 3, m * m), np.array([0.2, -0.1, 0.0])
    w_extra = np.array([1.2, 1.7, 1.0])
    table = instances.cost_table(b, c, grid, w_extra, tol=tol, maxiter=2000, chunk=30)    # the smoke config's solver
    assert table.shape == (3, len(grid) + 1)
    with jax.enable_x64(True):
        L = ls.to_dense(ls.laplacian_2d(m, 0.0, jnp.float64))
    for t in range(3):
        A = L + c[t] * np.eye(m * m)
        for k, w in enumerate(list(grid) + [w_extra[t]]):
            M = np.tril(A, -1) + np.diag(np.diag(A)) / w
            x, it = np.zeros(m * m), 0
            while np.linalg.norm(b[t] - A @ x) >= tol * np.linalg.norm(b[t]):
                x, it = x + np.linalg.solve(M, b[t] - A @ x), it + 1
            assert table[t, k] == it
