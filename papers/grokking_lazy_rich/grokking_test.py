"""Tests of the lazy-to-rich grokking reproduction: the math against autodiff / Monte Carlo / closed forms,
and an end-to-end smoke run (train -> checkpoint -> resume -> eval)."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import checkpoint as ckpt_lib
from common import metrics as metrics_lib
from papers.grokking_lazy_rich import experiment, kernel, model
from papers.grokking_lazy_rich.configs import default as default_config

D, P, N, EPS = 6, 15, 7, 0.3


@pytest.fixture(scope="module")
def problem():
    with jax.enable_x64(True):
        X, y, beta = model.make_task(jax.random.PRNGKey(0), D, P, 0.5)
        W0 = model.init_weights(jax.random.PRNGKey(1), N, D)
        W = W0 + 0.3 * jax.random.normal(jax.random.PRNGKey(2), W0.shape, jnp.float64)
        yield X, y, beta, W0, W


def test_gd_step_is_gradient_descent_with_eta_n_over_alpha2(problem):
    X, y, beta, W0, W = problem
    with jax.enable_x64(True):
        alpha, eta0 = 0.7, 0.3
        W_new, loss = model.gd_step(W, W0, X, y, alpha, EPS, eta0)
        g = jax.grad(model.centred_loss)(W, W0, X, y, alpha, EPS)
        expected = W - model.learning_rate(eta0, N, alpha) * g
        np.testing.assert_allclose(W_new, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(loss, model.centred_loss(W, W0, X, y, alpha, EPS), rtol=1e-12)


def test_sufficient_statistics_reproduce_the_network(problem):
    X, y, beta, W0, W = problem
    with jax.enable_x64(True):
        v, M = model.sufficient_statistics(W, W0, 1.3, EPS)
        quad = X @ v + jnp.einsum("pd,de,pe->p", X, M, X)
        np.testing.assert_allclose(quad, model.centred_network(W, W0, X, 1.3, EPS), rtol=1e-10, atol=1e-12)


def test_closed_form_test_loss_matches_monte_carlo(problem):
    X, y, beta, W0, W = problem
    with jax.enable_x64(True):
        v, M = model.sufficient_statistics(W, W0, 1.3, EPS)
        cf = float(model.closed_form_test_loss(v, M, beta, 0.5))
        Xt = jax.random.normal(jax.random.PRNGKey(5), (100000, D), jnp.float64) / np.sqrt(D)
        sq = np.asarray((Xt @ v + jnp.einsum("pd,de,pe->p", Xt, M, Xt) - model.target(Xt, beta, 0.5)) ** 2)
        assert abs(sq.mean() - cf) < 4 * sq.std() / np.sqrt(len(sq)) + 1e-3 * cf
        # at initialisation the loss is E[y^2] = 3 s^2 |beta|^4 / D^2
        z = jnp.zeros(D)
        np.testing.assert_allclose(model.closed_form_test_loss(z, jnp.zeros((D, D)), beta, 0.5),
                                   3 * 0.25 * float(beta @ beta) ** 2 / D**2, rtol=1e-12)


def test_ntk_matches_jacobian_products(problem):
    X, y, beta, W0, W = problem
    with jax.enable_x64(True):
        alpha, eta0 = 0.9, 1.0
        J = jax.jacobian(lambda w: model.network(w, X, alpha, EPS))(W).reshape(P, -1)
        K_autodiff = model.learning_rate(eta0, N, alpha) * J @ J.T
        np.testing.assert_allclose(model.ntk(W, X, X, EPS), K_autodiff, rtol=1e-10)


def test_linearised_closed_form_equals_parameter_space_gd(problem):
    """The function-space linearised model equals GD on the Taylor-expanded network (t steps)."""
    X, y, beta, W0, _ = problem
    with jax.enable_x64(True):
        alpha, eta0, steps = 2.0, 0.5, 25
        f0 = lambda w, x: model.centred_network(w, W0, x, alpha, EPS)
        def f_lin(w, x):
            return jax.jvp(lambda u: f0(u, x), (W0,), (w - W0,))[1]
        loss = lambda w: jnp.mean((f_lin(w, X) - y) ** 2)
        step = jax.jit(lambda w: w - model.learning_rate(eta0, N, alpha) * jax.grad(loss)(w))
        W = W0
        for _ in range(steps):
            W = step(W)
        lam, U = kernel.kernel_eigh(W0, X, EPS)
        c = 2 * eta0 / P
        a = kernel.linearised_coefficients(lam, U, y, c, float(steps))
        Xq = jax.random.normal(jax.random.PRNGKey(7), (11, D), jnp.float64) / np.sqrt(D)
        np.testing.assert_allclose(kernel.predict(a, W0, X, Xq, EPS), f_lin(W, Xq), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(kernel.linearised_train_loss(lam, U, y, c, float(steps)), loss(W), rtol=1e-7)
        v, M = kernel.predictor_statistics(a, W0, X, EPS)
        np.testing.assert_allclose(Xq @ v + jnp.einsum("pd,de,pe->p", Xq, M, Xq), f_lin(W, Xq), rtol=1e-7,
                                   atol=1e-9)
        # t -> infinity is ridgeless kernel regression: it interpolates the training labels
        a_inf = kernel.linearised_coefficients(lam, U, y, c, jnp.inf)
        np.testing.assert_allclose(kernel.predict(a_inf, W0, X, X, EPS), y, rtol=1e-6, atol=1e-8)


def test_kernel_alignment_is_one_for_the_label_kernel_and_invariant_to_scale():
    with jax.enable_x64(True):
        y = jax.random.normal(jax.random.PRNGKey(3), (20,), jnp.float64)
        yc = y - y.mean()
        assert abs(float(model.kernel_alignment(jnp.outer(yc, yc), y)) - 1.0) < 1e-12
        K = jax.random.normal(jax.random.PRNGKey(4), (20, 20), jnp.float64)
        K = K @ K.T
        np.testing.assert_allclose(model.kernel_alignment(5.0 * K, y), model.kernel_alignment(K, y), rtol=1e-12)
        assert float(model.kernel_alignment(K, y)) < 0.999


def test_delay_ratio_and_lower_bound():
    assert experiment.delay_ratio(10, 30, 1000) == (3.0, True)
    assert experiment.delay_ratio(10, -1, 1000) == (100.0, False)
    assert np.isnan(experiment.delay_ratio(-1, -1, 1000)[0])


def test_curve_shape_tells_a_plateau_from_a_steady_decline():
    """A test loss that waits at its plateau while the train loss is fit, then drops (the paper's picture),
    against one that falls steadily: same 10% crossings, different shape."""
    train = np.array([1.0, 0.3, 0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    plateau = np.array([1.0, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.05, 0.05])
    steady = np.array([1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.13, 0.09, 0.08])
    p, s = (experiment.curve_shape(train, t, 10, 80, 0.1) for t in (plateau, steady))
    assert p["train_fit_step"] == s["train_fit_step"] == 20
    assert p["delay"]["0.1"] == s["delay"]["0.1"] == {"t_tr": 20, "t_te": 70, "ratio": 3.5, "exact": True}
    assert p["test_rel_at_train_fit"] == 0.9 and s["test_rel_at_train_fit"] == 0.5
    assert p["delay"]["0.5"]["ratio"] == 7.0 and s["delay"]["0.5"]["ratio"] == 3.0   # t_te 70 / 30, t_tr 10
    assert s["min_test_rel"] == 0.08
    never = experiment.curve_shape(train, np.full(9, 1.0), 10, 80, 0.1)
    assert never["delay"]["0.2"] == {"t_tr": 20, "t_te": -1, "ratio": 4.0, "exact": False}


# ----------------------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("grokking_lazy_rich_smoke"))
    config = default_config.get_config("smoke")
    first = experiment.train_and_evaluate(config, workdir)
    return config, workdir, first


def test_end_to_end_train_resume_eval(smoke_run):
    config, workdir, first = smoke_run
    n = experiment.num_chunks(config)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(n)))
    records = metrics_lib.read_metrics(workdir)
    assert [r["step"] for r in records] == list(range(1, n + 1))
    lines_before = open(os.path.join(workdir, "metrics.jsonl")).read()
    second = experiment.train_and_evaluate(config, workdir)          # resumes: nothing left to do
    assert open(os.path.join(workdir, "metrics.jsonl")).read() == lines_before
    assert json.dumps(second["metrics"]) == json.dumps(first["metrics"])   # NaN-safe equality
    record = json.load(open(os.path.join(workdir, "eval.json")))
    assert [c["name"] for c in record["claims"]] == ["1_grokking_vs_alpha", "2_plateau_is_k0_regression",
                                                     "3_closed_form_matches_monte_carlo",
                                                     "4_alignment_removes_grokking"]
    for f in ("grokking_phase.png", "digits.png"):
        assert os.path.exists(os.path.join(workdir, f))
    m = record["metrics"]
    # properties at any scale: the train loss falls for every run, curves start at the exact initial loss
    for r in m["runs"]:
        assert r["t_tr"] > 0 and r["final_train"] < 0.1 * r["final_test"] + 1.0
    assert len(m["digits"]) == len(config.digits.alphas)


def test_other_log_every_on_a_finished_workdir_is_a_config_mismatch(smoke_run):
    """log_every sets the chunk size that a checkpointed step counts, so it is not a resumable key."""
    config, workdir, _ = smoke_run
    other = default_config.get_config("smoke")
    other.log_every = config.log_every * 2
    lines_before = open(os.path.join(workdir, "metrics.jsonl")).read()
    with pytest.raises(ckpt_lib.ConfigMismatchError, match="log_every"):
        experiment.train_and_evaluate(other, workdir)
    with pytest.raises(ckpt_lib.ConfigMismatchError, match="log_every"):
        experiment.evaluate(other, workdir)
    assert open(os.path.join(workdir, "metrics.jsonl")).read() == lines_before


def test_reduced_dynamics_equal_weight_space_gd(problem):
    """W_t = W0 A_t + 1 b_t^T: the reduced GD reproduces gd_step's trajectory, loss and (v, M)."""
    X, y, beta, W0, _ = problem
    with jax.enable_x64(True):
        alpha, eta0 = 0.6, 0.4
        m, C = model.reduced_moments(W0)
        A, b, W = jnp.eye(D), jnp.zeros(D), W0
        for _ in range(30):
            W, l_w = model.gd_step(W, W0, X, y, alpha, EPS, eta0)
            A, b, l_r = model.reduced_gd_step(A, b, m, C, X, y, alpha, EPS, eta0)
            np.testing.assert_allclose(l_r, l_w, rtol=1e-10)
        assert float(jnp.max(jnp.abs(W - W0))) > 0.1          # the weights really moved
        np.testing.assert_allclose(model.weights_from_reduced(W0, A, b), W, rtol=1e-10, atol=1e-10)
        v, M = model.reduced_statistics(A, b, m, C, alpha, EPS)
        v_w, M_w = model.sufficient_statistics(W, W0, alpha, EPS)
        np.testing.assert_allclose(v, v_w, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(M, M_w, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.quadratic_predict(v, M, X), model.centred_network(W, W0, X, alpha, EPS),
                                   rtol=1e-9, atol=1e-12)


def test_alignment_targets_are_teacher_and_top_ntk_eigenvector(problem):
    X, y, beta, W0, _ = problem
    with jax.enable_x64(True):
        Y = experiment.alignment_targets(X, W0, y, EPS, (0.0, 0.6, 1.0))
        np.testing.assert_allclose(Y[0], y, rtol=1e-12)                       # mix 0: the quadratic teacher
        rms = lambda z: float(jnp.sqrt(jnp.mean(z * z)))
        for row in Y:
            np.testing.assert_allclose(rms(row), rms(y), rtol=1e-12)         # same output scale for every target
        K = model.ntk(W0, X, X, EPS)
        K = K - jnp.mean(K)
        lam = jnp.linalg.eigvalsh(K)
        np.testing.assert_allclose(K @ Y[2], lam[-1] * Y[2], rtol=1e-8, atol=1e-8)   # mix 1: top eigenvector
        a = [float(model.kernel_alignment(model.ntk(W0, X, X, EPS), row)) for row in Y]
        assert a[0] < a[1] < a[2]
