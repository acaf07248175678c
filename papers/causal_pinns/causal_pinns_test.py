"""Unit tests of the causal loss, the networks, the residuals and the references of causal_pinns."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from papers.causal_pinns import causal, networks, problems, trainer


def test_causal_weights_closed_form_and_stop_gradient():
    losses = jnp.array([0.5, 0.2, 1.0, 0.1])
    w = causal.causal_weights(losses, 2.0, ic_loss=0.1)
    expected = np.exp(-2.0 * (0.1 + np.array([0.0, 0.5, 0.7, 1.7])))
    np.testing.assert_allclose(np.asarray(w), expected, rtol=1e-6)
    # the gradient of the causal loss treats w as constants: d/dL_i = w_i / N_t
    g = jax.grad(lambda l: causal.causal_residual_loss(l, 2.0)[0])(losses)
    np.testing.assert_allclose(np.asarray(g), np.asarray(causal.causal_weights(losses, 2.0)) / 4, rtol=1e-6)
    # eps = 0 is vanilla training
    np.testing.assert_allclose(float(causal.causal_residual_loss(losses, 0.0)[0]),
                               float(causal.vanilla_residual_loss(losses)), rtol=1e-7)
    assert np.all(np.diff(np.asarray(w)) <= 0)  # weights never increase in time


def test_epsilon_annealing_and_convergence_rule():
    idx = jnp.int32(0)
    idx = causal.anneal_epsilon(idx, jnp.float32(0.5), 0.99, 3)
    assert int(idx) == 0                        # min w <= delta: stay
    idx = causal.anneal_epsilon(idx, jnp.float32(0.995), 0.99, 3)
    assert int(idx) == 1                        # min w > delta: next eps
    idx = causal.anneal_epsilon(jnp.int32(2), jnp.float32(0.999), 0.99, 3)
    assert int(idx) == 2                        # stays at the last eps
    assert bool(causal.converged(idx, 0.999, 0.99, 3)) and not bool(causal.converged(1, 0.999, 0.99, 3))
    # a stage that has spent its step budget moves on whatever min w is; the last one ends the window
    assert int(causal.anneal_epsilon(jnp.int32(0), jnp.float32(0.5), 0.99, 3, out_of_steps=True)) == 1
    assert not bool(causal.window_finished(1, 0.5, 0.99, 3, out_of_steps=True))
    assert bool(causal.window_finished(2, 0.5, 0.99, 3, out_of_steps=True))
    assert bool(causal.window_finished(2, 0.999, 0.99, 3)) and not bool(causal.window_finished(2, 0.5, 0.99, 3))


def _toy_unit(level: float, method: str):
    """A unit whose 4 slice losses are level * a^2 (a: one parameter, 1 at the start), eps list (1e-2, 1e-1, 1)."""
    cfg = ml_collections.ConfigDict(dict(name="lorenz", hard_ic=True, ic_weight=0.0, eps=(1e-2, 1e-1, 1.0),
                                         steps_per_eps=5, check_every=2, lr=1e-3, decay_rate=0.9, decay_steps=1000))
    problem = trainer.Problem("toy", lambda key: {"a": jnp.float32(1.0)},
                              lambda p, ic, analytic, key: (level * p["a"] ** 2 * jnp.ones(4), jnp.zeros(())),
                              None, None, None, 4, 1.0)
    state = trainer.init_state(cfg, problem, method, jax.random.PRNGKey(0), jnp.zeros(3), log_every=1)
    return state, trainer.make_train_step(cfg, problem, 0.99, False)


@pytest.mark.parametrize("level, method, advances_at, finished_at", [
    (1e-3, "causal", (2, 4), 6),      # min w >= exp(-1 * 3e-3) > 0.99: every check (every 2 steps) moves on
    (10.0, "causal", (5, 10), 15),    # min w = exp(-1e-2 * 30) < 0.99: only the 5-step budget moves on
    (1e-3, "vanilla", (5, 10), 15),   # w = 1, but vanilla training never stops on the criterion
])
def test_trainer_anneals_eps_on_the_criterion_and_on_the_step_budget(level, method, advances_at, finished_at):
    state, step = _toy_unit(level, method)
    indices, finished = [], []
    for _ in range(16):
        state, _ = step(state)
        indices.append(int(state.eps_index))
        finished.append(bool(state.finished))
    expected = [sum(n >= a for a in advances_at) for n in range(1, 17)]
    assert indices == expected
    assert finished.index(True) + 1 == finished_at and int(state.step) == finished_at


@pytest.mark.parametrize("pname, ic_in_weights", [("allen_cahn", False), ("kuramoto_sivashinsky", True)])
def test_soft_initial_condition_enters_the_weights_as_in_the_official_code(pname, ic_in_weights):
    cfg = ml_collections.ConfigDict(dict(name=pname, hard_ic=False, ic_weight=100.0, eps=(1.0,), steps_per_eps=5,
                                         check_every=1, lr=1e-3, decay_rate=0.9, decay_steps=1000))
    slice_losses, ic_loss = jnp.array([1e-3, 2e-3, 3e-3]), jnp.float32(1e-3)
    problem = trainer.Problem(pname, lambda key: {"a": jnp.float32(1.0)},
                              lambda p, ic, analytic, key: (p["a"] * slice_losses, p["a"] * ic_loss),
                              None, None, None, 3, 1.0)
    state = trainer.init_state(cfg, problem, "causal", jax.random.PRNGKey(0), jnp.zeros(3), log_every=1)
    _, metrics = trainer.make_train_step(cfg, problem, 0.99, False)(state)
    w = causal.causal_weights(slice_losses, 1.0, 100.0 * ic_loss if ic_in_weights else 0.0)
    np.testing.assert_allclose(float(metrics["min_w"]), float(jnp.min(w)), rtol=1e-6)
    np.testing.assert_allclose(float(metrics["loss"]), float(jnp.mean(w * slice_losses) + 100.0 * ic_loss), rtol=1e-6)


def test_time_windows():
    assert causal.time_windows(1.0, 0.5) == [(0.0, 0.5), (0.5, 1.0)]
    assert len(causal.time_windows(30.0, 0.5)) == 60
    with pytest.raises(ValueError):
        causal.time_windows(1.0, 0.3)


@pytest.mark.parametrize("modified", [False, True])
def test_periodic_embedding_makes_the_network_exactly_periodic(modified):
    params = networks.init_mlp(jax.random.PRNGKey(0), 2 + 2 * 4, (16, 16), 1, modified=modified)
    f = lambda t, x: networks.apply_mlp(params, networks.periodic_embedding(t, x, 2.0, 4))[0]  # noqa: E731

    @jax.jit
    def check(x):
        dfx = jax.vmap(jax.grad(f, argnums=1), (None, 0))
        return (jax.vmap(f, (None, 0))(0.3, x), jax.vmap(f, (None, 0))(0.3, x + 2.0), dfx(0.3, x), dfx(0.3, x + 2.0))

    a, b, da, db = check(jnp.linspace(-1.0, 1.0, 7))
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    np.testing.assert_allclose(np.asarray(da), np.asarray(db), atol=1e-4)  # C^1 across the boundary
    assert ("U" in params) == modified


def test_ac_residual_matches_finite_differences_and_hard_ic():
    spec = problems.ALLEN_CAHN
    params = networks.init_mlp(jax.random.PRNGKey(1), 2 + 2 * 3, (8,), 1)
    with jax.enable_x64(True):
        params = jax.tree.map(lambda p: p.astype(jnp.float64), params)
        u = lambda t, x: problems.pde_field(params, t, x, None, True, spec, 3, True)  # noqa: E731

        @jax.jit
        def check(t, x, h):
            u_t = (u(t + h, x) - u(t - h, x)) / (2 * h)
            u_xx = (u(t, x + h) - 2 * u(t, x) + u(t, x - h)) / h ** 2
            fd = u_t - 1e-4 * u_xx + 5 * u(t, x) ** 3 - 5 * u(t, x)
            return problems.pde_residual(u, spec)(t, x), fd, u(0.0 * t, x)

        x = jnp.float64(0.3)
        res, fd, u0 = check(jnp.float64(0.4), x, jnp.float64(1e-4))
        np.testing.assert_allclose(float(res), float(fd), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(float(u0), float(x ** 2 * jnp.cos(jnp.pi * x)), atol=1e-14)


def test_ks_residual_vanishes_on_an_exact_solution_of_the_linear_part():
    # u = exp(s t) sin(pi x) with s = 0.5 pi^2 - 0.005 pi^4 solves u_t + 0.5 u_xx + 0.005 u_xxxx = 0;
    # the KS residual is then exactly the nonlinear term 5 u u_x.
    spec = problems.KURAMOTO_SIVASHINSKY
    s = 0.5 * np.pi ** 2 - 0.005 * np.pi ** 4
    with jax.enable_x64(True):
        u = lambda t, x: jnp.exp(s * t) * jnp.sin(jnp.pi * x)  # noqa: E731
        t, x = jnp.float64(0.2), jnp.float64(0.37)
        expected = 5 * u(t, x) * jnp.pi * jnp.exp(s * t) * jnp.cos(jnp.pi * x)
        np.testing.assert_allclose(float(problems.pde_residual(u, spec)(t, x)), float(expected), rtol=1e-10)


def test_lorenz_residual_is_zero_on_the_reference_and_hard_ic():
    t = np.linspace(0.0, 0.5, 401)
    ref = problems.lorenz_reference(t)
    deriv = np.gradient(ref, t, axis=0, edge_order=2)
    rel = np.abs(deriv - problems.lorenz_rhs(ref))[2:-2].max() / np.abs(problems.lorenz_rhs(ref)).max()
    assert rel < 1e-3
    params = networks.init_mlp(jax.random.PRNGKey(2), 1, (8,), 3)
    s0 = jnp.array([1.0, 2.0, 3.0])

    @jax.jit
    def check(tt, h):
        state = lambda t: problems.lorenz_state(params, t, s0, 0.5, 20.0)  # noqa: E731
        sp = (state(tt + h) - state(tt - h)) / (2 * h)
        fd = jnp.sum((sp - problems.lorenz_rhs(state(tt))) ** 2)
        return state(0.0 * tt), fd, problems.lorenz_slice_losses(params, jnp.reshape(tt, (1,)), s0, 0.5, 20.0)[0]

    at0, fd, got = check(jnp.float32(0.2), jnp.float32(1e-3))
    np.testing.assert_allclose(np.asarray(at0), [1.0, 2.0, 3.0])
    # the slice losses are |s' - f(s)|^2 with s' from forward-mode AD; one slice against finite differences
    np.testing.assert_allclose(float(got), float(fd), rtol=2e-3)


def test_trig_interpolation_is_exact_for_band_limited_data():
    x = problems.pde.grid(16, 2.0, -1.0)
    f = lambda x: 0.3 + np.sin(np.pi * x) - 0.5 * np.cos(3 * np.pi * x)  # noqa: E731
    vals = jnp.asarray(f(x))
    for xq in (-0.93, 0.1, 0.77):
        np.testing.assert_allclose(float(problems.trig_interpolate(vals, -1.0, 2.0, jnp.float32(xq))), f(xq), atol=1e-5)


def test_allen_cahn_reference_is_converged_and_bounded():
    spec = problems.ALLEN_CAHN
    t, x, u = problems.pde_reference(spec, num_x=128, dt=2e-3, num_t=11)
    _, _, u2 = problems.pde_reference(spec, num_x=128, dt=1e-3, num_t=11)
    assert u.shape == (11, 128) and np.max(np.abs(u - u2)) < 1e-6
    np.testing.assert_allclose(u[0], x ** 2 * np.cos(np.pi * x), atol=1e-12)
    assert np.max(np.abs(u)) < 1.0 + 1e-6   # the maximum principle of Allen-Cahn
