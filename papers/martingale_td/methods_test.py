"""Unit tests of the math: closed-form value functions, Euler paths, and every estimator against an
independent NumPy implementation of the equation it solves."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from papers.martingale_td import methods, sde
from papers.martingale_td import value as value_lib


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("make", [lambda: sde.ou_problem(kappa=1.3, sigma=0.7, q=0.4),
                                  lambda: sde.mean_variance_problem()])
def test_value_solves_the_feynman_kac_pde(make):
    """J_t + b J_x + 1/2 sigma^2 J_xx + r = 0 (autodiff) and J(T, .) = h."""
    p = make()
    J = p.value
    jt, jx = jax.grad(J, 0), jax.grad(J, 1)
    jxx = jax.grad(jx, 1)
    for t, x in [(0.0, 0.3), (0.4, -1.2), (0.9, 2.0)]:
        t, x = jnp.float64(t), jnp.float64(x)
        res = jt(t, x) + p.drift(t, x) * jx(t, x) + 0.5 * p.diffusion(t, x)**2 * jxx(t, x) + p.reward(t, x)
        assert abs(float(res)) < 1e-10
        assert abs(float(J(jnp.float64(p.horizon), x) - p.terminal(x))) < 1e-12


def test_ou_coefficients_match_scipy_ode():
    kappa, sigma, q, T = 1.3, 0.7, 0.4, 1.5
    sol = solve_ivp(lambda t, y: [2 * kappa * y[0] - 1, -sigma**2 * y[0]], (T, 0.0), [q, 0.0],
                    rtol=1e-11, atol=1e-12, dense_output=True)
    for t in (0.0, 0.5, 1.2):
        a, b = sde.ou_coefficients(t, kappa, sigma, q, T)
        np.testing.assert_allclose([a, b], sol.sol(t), rtol=1e-8, atol=1e-10)


def test_euler_maruyama_and_coarsening():
    p = sde.ou_problem(kappa=2.0, sigma=0.5)
    key = jax.random.PRNGKey(1)
    dw = sde.brownian_increments(key, 3, 8, p.horizon)
    x0 = jnp.asarray([0.5, -1.0, 2.0])
    ts, xs = sde.euler_maruyama(p, x0, sde.coarsen(dw, 2))
    dwc, dt = np.asarray(dw).reshape(3, 4, 2).sum(-1), p.horizon / 4
    x = np.asarray(x0)
    ref = [x]
    for i in range(4):
        x = x - 2.0 * x * dt + 0.5 * dwc[:, i]
        ref.append(x)
    np.testing.assert_allclose(xs, np.stack(ref, 1), rtol=1e-12)
    np.testing.assert_allclose(ts, np.linspace(0, 1, 5))


def test_returns_and_trace():
    r = jnp.asarray([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(methods.returns_to_go(r, 10.0, 0.5), [13.0, 12.5, 11.5, 10.0])
    phi = jax.random.normal(jax.random.PRNGKey(0), (7, 3))
    lam, dt = 0.3, 0.1
    e, ref = np.zeros(3), []
    for i in range(7):
        e = lam**dt * e + np.asarray(phi[i]) * dt
        ref.append(e)
    np.testing.assert_allclose(methods.td_lambda_trace(phi, lam, dt), np.stack(ref), rtol=1e-10)


def _paths():
    p = sde.ou_problem()
    ts, xs = sde.simulate(p, jax.random.PRNGKey(3), 40, 20, 1)
    return p, ts, xs


def test_offline_estimators_solve_their_equations():
    """ML = least squares of G - h on phi; LSTD / LSTD(lambda) zero the empirical orthogonality
    conditions; MSTDE = least squares of the TD errors / sqrt(dt); GTD = LSTD when it is just identified."""
    p, ts, xs = _paths()
    K, lam = 2, 0.5
    stats = methods.batch_statistics(p, ts, xs, K, K + 1, lam, chunk=10)
    dt = float(ts[1] - ts[0])
    phi = np.asarray(value_lib.features(p, ts[None], xs, K))               # [P, N+1, d]
    g, r = np.asarray(p.terminal(xs)), np.asarray(p.reward(ts[None], xs))
    G = g[:, -1:] + np.concatenate([np.cumsum((r[:, :-1] * dt)[:, ::-1], 1)[:, ::-1], np.zeros((40, 1))], 1)
    X = phi[:, :-1].reshape(-1, phi.shape[-1])
    y = (G - g)[:, :-1].reshape(-1)
    np.testing.assert_allclose(methods.solve(stats, "ml"), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8)
    for name, trace in (("lstd", False), ("lstd_lambda", True)):
        th = np.asarray(methods.solve(stats, name))
        delta = g[:, 1:] - g[:, :-1] + (phi[:, 1:] - phi[:, :-1]) @ th + r[:, :-1] * dt
        xi = np.stack([np.asarray(methods.td_lambda_trace(jnp.asarray(f), lam, dt)) for f in phi]) if trace else phi
        assert np.abs(np.einsum("pid,pi->d", xi[:, :-1], delta)).max() < 1e-9
    D = (phi[:, 1:] - phi[:, :-1]).reshape(-1, phi.shape[-1]) / np.sqrt(dt)
    tgt = -((g[:, 1:] - g[:, :-1]) + r[:, :-1] * dt).reshape(-1) / np.sqrt(dt)
    np.testing.assert_allclose(methods.solve(stats, "mstde"), np.linalg.lstsq(D, tgt, rcond=None)[0], rtol=1e-7)
    just = methods.batch_statistics(p, ts, xs, K, K, lam, chunk=10)
    np.testing.assert_allclose(methods.gtd_solve(just), methods.solve(just, "lstd"), rtol=1e-8)


def test_relative_error_quadratic_form_and_slope():
    p, ts, xs = _paths()
    es = methods.error_statistics(p, ts, xs, 2)
    th = jnp.asarray([0.1, -0.2, 0.3, 0.05])
    J_hat = value_lib.linear_value(p, th, ts[None], xs, 2)[:, :-1]
    J = p.value(ts[None], xs)[:, :-1]
    direct = np.sqrt(np.sum((J_hat - J)**2) / np.sum((J - p.terminal(xs)[:, :-1])**2))
    np.testing.assert_allclose(methods.linear_relative_error(es, th), direct, rtol=1e-9)
    assert abs(methods.fit_loglog_slope([1e-1, 1e-2, 1e-3], [3e-2, 3e-3, 3e-4]) - 1.0) < 1e-12


def test_online_td_and_neural_fits_learn():
    """Online TD(0)/TD(lambda)/gradient MC move from theta = 0 towards the LSTD/ML solutions, and the
    neural ML fit lowers its error by 20 % (one compiled program each, tiny sizes)."""
    p = sde.ou_problem()
    ts, xs = sde.simulate(p, jax.random.PRNGKey(5), 400, 20, 1)
    es = methods.error_statistics(p, ts, xs, 2)
    stats = methods.batch_statistics(p, ts, xs, 2, 3, 0.5, chunk=100)
    e_lstd = float(methods.linear_relative_error(es, methods.solve(stats, "lstd")))
    spec = methods.OnlineSpec("td0", 0.5, 20.0, 20, 3, 0.5)
    avg, _ = jax.jit(lambda x: methods.online_td_pair(p, spec, ts, x, 2, jnp.asarray([0.5, 2.0])))(xs)
    for th in avg:
        assert float(methods.linear_relative_error(es, th)) < 0.5 * 1.0 and e_lstd < 0.2
    mc, _ = jax.jit(lambda x: methods.online_linear(p, spec.__class__("ml", 0.5, 20.0, 20, 3), ts, x, 2))(xs)
    assert float(methods.linear_relative_error(es, mc)) < 0.5
    module = value_lib.MLP((8,))
    params0 = value_lib.init_mlp(jax.random.fold_in(jax.random.PRNGKey(0), 0), (8,))[1]
    params = jax.jit(lambda x: methods.train_neural(p, "ml", jax.random.PRNGKey(0), ts, x, hidden=(8,), steps=100,
                                                    batch_paths=32, lr=1e-2))(xs)
    e0 = float(methods.neural_relative_error(p, module, params0, ts, xs))
    e1 = float(methods.neural_relative_error(p, module, params, ts, xs))
    assert e1 < 0.8 * e0
